"""Custom domains and SSL certificates through the official SDKs, on both prefixes:
`huaweicloudsdkapig` (`/apigw/…`) and `huaweicloudsdkroma` (`/apic/…`), and the gateway serving a
bound domain. Certificates come from `data/certs` (see its README)."""

import importlib
import json
import pathlib
import time
import uuid

import pytest
import requests
from huaweicloudsdkapig.v2 import (
    ListApiGroupsV2Request,
    ShowDetailsOfApiGroupV2Request,
    SlDomainAccessSetting,
    UpdateSlDomainSettingV2Request,
)

import sdkhelpers as h

CERTS = pathlib.Path(__file__).parent / "data" / "certs"


def pem(name):
    return (CERTS / name).read_text()


@pytest.fixture(params=["apig", "roma"])
def sdk(request, apig):
    """(client, model module) of one product: the same operations on its own prefix."""
    if request.param == "apig":
        return apig, importlib.import_module("huaweicloudsdkapig.v2")
    return request.getfixturevalue("roma"), importlib.import_module("huaweicloudsdkroma.v2")


def domain_name():
    """A domain the `leaf` certificate covers (its `*.apps.example.test`), used by no other test."""
    return f"d{uuid.uuid4().hex[:12]}.apps.example.test"


def cert_form(m, **kw):
    kw.setdefault("name", "cert_" + uuid.uuid4().hex[:12])
    kw.setdefault("cert_content", pem("leaf.pem"))
    kw.setdefault("private_key", pem("leaf.key"))
    return m.CertificateForm(**kw)


def associate(client, m, instance_id, group_id, url_domain, **kw):
    return client.associate_domain_v2(m.AssociateDomainV2Request(
        instance_id=instance_id, group_id=group_id, body=m.UrlDomainCreate(url_domain=url_domain, **kw)))


def test_certificate_crud_list_and_checks(sdk, instance_id):
    client, m = sdk
    created = client.create_certificate_v2(m.CreateCertificateV2Request(body=cert_form(m)))
    assert created.status_code == 201 and h.is_hex32(created.id)
    assert (created.type, created.instance_id, created.common_name) == ("global", "common", "api.example.test")
    assert created.san == ["api.example.test", "*.apps.example.test"]
    assert h.ts(created.not_after).year >= 2100 and created.algorithm_type == "ECC"
    assert created.signature_algorithm == "SHA256withECDSA" and created.organization == ["Portico"]
    assert created.is_has_trusted_root_ca is False and created.issuer

    shown = client.show_details_of_certificate_v2(m.ShowDetailsOfCertificateV2Request(certificate_id=created.id))
    assert (shown.id, shown.name, shown.serial_number) == (created.id, created.name, created.serial_number)
    listed = client.list_certificates_v2(m.ListCertificatesV2Request(name=created.name))
    assert [c.id for c in listed.certs] == [created.id] and listed.total == 1

    updated = client.update_certificate_v2(m.UpdateCertificateV2Request(
        certificate_id=created.id, body=cert_form(m, name=created.name, trusted_root_ca=pem("ca.pem"))))
    assert updated.is_has_trusted_root_ca is True and updated.id == created.id
    h.expect_error(lambda: client.create_certificate_v2(m.CreateCertificateV2Request(
        body=cert_form(m, name=created.name))), 409, "APIG.3329")
    client.delete_certificate_v2(m.DeleteCertificateV2Request(certificate_id=created.id))
    h.expect_error(lambda: client.show_details_of_certificate_v2(m.ShowDetailsOfCertificateV2Request(
        certificate_id=created.id)), 404, "APIG.3024")


@pytest.mark.parametrize("fields, code", [
    (dict(private_key=pem("other.key")), "APIG.2011"),           # key of another certificate
    (dict(cert_content="not a certificate"), "APIG.2011"),
    (dict(private_key="not a key"), "APIG.2011"),
    (dict(trusted_root_ca="not a CA"), "APIG.2011"),
    (dict(name="1starts_with_a_digit"), "APIG.2011"),
    (dict(cert_content=""), "APIG.2001"),
    (dict(type="instance"), "APIG.2001"),                        # instance_id missing
    (dict(algorithm_type="SM2"), "APIG.2011"),
])
def test_certificate_uploads_are_checked(sdk, fields, code):
    client, m = sdk
    h.expect_error(lambda: client.create_certificate_v2(m.CreateCertificateV2Request(body=cert_form(m, **fields))),
                   400, code)


def test_domain_association_settings_and_certificates(sdk, instance_id, new_group):
    client, m = sdk
    group = new_group()
    name = domain_name()
    bound = associate(client, m, instance_id, group.id, name.upper(), min_ssl_version="TLSv1.2")
    assert bound.status_code == 201 and h.is_hex32(bound.id)
    assert (bound.url_domain, bound.min_ssl_version, bound.verified_client_certificate_enabled) == \
        (name, "TLSv1.2", False)
    h.expect_error(lambda: associate(client, m, instance_id, new_group().id, name), 409, "APIG.3328")
    h.expect_error(lambda: associate(client, m, instance_id, group.id, "no_dots"), 400, "APIG.2011")
    h.expect_error(lambda: associate(client, m, instance_id, group.id, domain_name(), min_ssl_version="TLSv1.0"),
                   400, "APIG.2011")
    h.expect_error(lambda: associate(client, m, instance_id, "0" * 32, domain_name()), 404, "APIG.3001")

    changed = client.update_domain_v2(m.UpdateDomainV2Request(
        instance_id=instance_id, group_id=group.id, domain_id=bound.id,
        body=m.UrlDomainModify(min_ssl_version="TLSv1.1", is_http_redirect_to_https=True)))
    assert (changed.min_ssl_version, changed.is_http_redirect_to_https) == ("TLSv1.1", True)
    # Mutual TLS needs a certificate with a CA first.
    h.expect_error(lambda: client.update_domain_v2(m.UpdateDomainV2Request(
        instance_id=instance_id, group_id=group.id, domain_id=bound.id,
        body=m.UrlDomainModify(verified_client_certificate_enabled=True))), 400, "APIG.2015")

    # A certificate uploaded with the request (AssociateCertificateV2).
    inline = client.associate_certificate_v2(m.AssociateCertificateV2Request(
        instance_id=instance_id, group_id=group.id, domain_id=bound.id,
        body=m.CertForm(name="cert_" + uuid.uuid4().hex[:12], cert_content=pem("leaf.pem"),
                        private_key=pem("leaf.key"))))
    assert inline.status_code == 201 and h.is_hex32(inline.ssl_id) and inline.id == bound.id
    shown = client.show_details_of_domain_name_certificate_v2(m.ShowDetailsOfDomainNameCertificateV2Request(
        instance_id=instance_id, group_id=group.id, domain_id=bound.id, certificate_id=inline.ssl_id))
    assert (shown.id, shown.type, shown.instance_id) == (inline.ssl_id, "instance", instance_id)
    h.expect_error(lambda: client.delete_certificate_v2(m.DeleteCertificateV2Request(
        certificate_id=inline.ssl_id)), 409, "APIG.3330")
    client.disassociate_certificate_v2(m.DisassociateCertificateV2Request(
        instance_id=instance_id, group_id=group.id, domain_id=bound.id, certificate_id=inline.ssl_id))
    h.expect_error(lambda: client.show_details_of_domain_name_certificate_v2(
        m.ShowDetailsOfDomainNameCertificateV2Request(instance_id=instance_id, group_id=group.id,
                                                      domain_id=bound.id, certificate_id=inline.ssl_id)),
                   404, "APIG.3024")
    # A certificate whose names do not cover the domain is refused.
    h.expect_error(lambda: client.associate_certificate_v2(m.AssociateCertificateV2Request(
        instance_id=instance_id, group_id=group.id, domain_id=bound.id,
        body=m.CertForm(name="cert_" + uuid.uuid4().hex[:12], cert_content=pem("other.pem"),
                        private_key=pem("other.key")))), 400, "APIG.2015")

    # Batch attach by domain (BatchAssociateCertsV2), with mutual TLS on a certificate with a CA.
    with_ca = client.create_certificate_v2(m.CreateCertificateV2Request(
        body=cert_form(m, trusted_root_ca=pem("ca.pem"))))
    client.batch_associate_certs_v2(m.BatchAssociateCertsV2Request(
        instance_id=instance_id, group_id=group.id, domain_id=bound.id,
        body=m.AttachOrDetachCertsReqBody(certificate_ids=[with_ca.id], verified_client_certificate_enabled=True)))
    attached = client.list_attached_domains_v2(m.ListAttachedDomainsV2Request(certificate_id=with_ca.id))
    assert [(d.id, d.url_domain, d.verified_client_certificate_enabled, d.ssl_name) for d in attached.bound_domains] \
        == [(bound.id, name, True, with_ca.name)]
    # Taking the CA away while a domain verifies clients with it is refused.
    h.expect_error(lambda: client.update_certificate_v2(m.UpdateCertificateV2Request(
        certificate_id=with_ca.id, body=cert_form(m, name=with_ca.name))), 400, "APIG.2015")
    h.expect_error(lambda: client.batch_associate_certs_v2(m.BatchAssociateCertsV2Request(
        instance_id=instance_id, group_id=group.id, domain_id=bound.id,
        body=m.AttachOrDetachCertsReqBody(certificate_ids=["0" * 32]))), 404, "APIG.3024")
    client.batch_disassociate_certs_v2(m.BatchDisassociateCertsV2Request(
        instance_id=instance_id, group_id=group.id, domain_id=bound.id,
        body=m.AttachOrDetachCertsReqBody(certificate_ids=[with_ca.id])))
    assert client.list_attached_domains_v2(m.ListAttachedDomainsV2Request(
        certificate_id=with_ca.id)).total == 0

    # Batch attach by certificate (BatchAssociateDomainsV2).
    client.batch_associate_domains_v2(m.BatchAssociateDomainsV2Request(
        certificate_id=with_ca.id, body=m.AttachOrDetachDomainsReqBody(domains=[
            m.AttachOrDetachDomainInfo(domain=name, instance_ids=[instance_id])])))
    assert [d.id for d in client.list_attached_domains_v2(m.ListAttachedDomainsV2Request(
        certificate_id=with_ca.id, url_domain=name[:8])).bound_domains] == [bound.id]
    h.expect_error(lambda: client.batch_associate_domains_v2(m.BatchAssociateDomainsV2Request(
        certificate_id=with_ca.id, body=m.AttachOrDetachDomainsReqBody(domains=[
            m.AttachOrDetachDomainInfo(domain=domain_name())]))), 404, "APIG.3023")
    client.batch_disassociate_domains_v2(m.BatchDisassociateDomainsV2Request(
        certificate_id=with_ca.id, body=m.AttachOrDetachDomainsReqBody(domains=[
            m.AttachOrDetachDomainInfo(domain=name)])))
    assert client.list_attached_domains_v2(m.ListAttachedDomainsV2Request(certificate_id=with_ca.id)).total == 0

    client.disassociate_domain_v2(m.DisassociateDomainV2Request(
        instance_id=instance_id, group_id=group.id, domain_id=bound.id))
    h.expect_error(lambda: client.disassociate_domain_v2(m.DisassociateDomainV2Request(
        instance_id=instance_id, group_id=group.id, domain_id=bound.id)), 404, "APIG.3023")
    client.delete_certificate_v2(m.DeleteCertificateV2Request(certificate_id=with_ca.id))


def test_group_details_list_domains_and_the_subdomain_switch(apig, instance_id, new_group, gateway_url):
    from huaweicloudsdkapig import v2 as m
    group = new_group()
    name = domain_name()
    bound = associate(apig, m, instance_id, group.id, name)
    details = apig.show_details_of_api_group_v2(ShowDetailsOfApiGroupV2Request(
        instance_id=instance_id, group_id=group.id))
    assert [(d.id, d.domain) for d in details.url_domains] == [(bound.id, name)]
    assert details.sl_domain_access_enabled is True

    apig.update_sl_domain_setting_v2(UpdateSlDomainSettingV2Request(
        instance_id=instance_id, group_id=group.id, body=SlDomainAccessSetting(sl_domain_access_enabled=False)))
    details = apig.show_details_of_api_group_v2(ShowDetailsOfApiGroupV2Request(
        instance_id=instance_id, group_id=group.id))
    assert details.sl_domain_access_enabled is False
    h.expect_error(lambda: apig.update_sl_domain_setting_v2(UpdateSlDomainSettingV2Request(
        instance_id=instance_id, group_id=group.id, body=SlDomainAccessSetting())), 400, "APIG.2001")
    h.expect_error(lambda: apig.update_sl_domain_setting_v2(UpdateSlDomainSettingV2Request(
        instance_id=instance_id, group_id="0" * 32, body=SlDomainAccessSetting(sl_domain_access_enabled=True))),
        404, "APIG.3001")


def test_the_gateway_serves_a_bound_domain(apig, instance_id, new_group, new_api, publish, gateway_url):
    from huaweicloudsdkapig import v2 as m
    group = new_group()
    api = new_api(group_id=group.id, req_uri="/domain-hello", backend_type="MOCK", backend_api=None,
                  mock_info=m.ApiMockCreate(result_content="served on the bound domain"))
    publish(api.id, h.RELEASE_ENV_ID)
    name = domain_name()
    associate(apig, m, instance_id, group.id, name)
    apig.update_sl_domain_setting_v2(UpdateSlDomainSettingV2Request(
        instance_id=instance_id, group_id=group.id, body=SlDomainAccessSetting(sl_domain_access_enabled=False)))
    # The gateway rebuilds its table after the write commits: poll briefly, never assert a time.
    reply = None
    for _ in range(100):
        reply = requests.get(f"{gateway_url}/domain-hello", headers={"Host": name}, timeout=5)
        if reply.status_code == 200:
            break
        time.sleep(0.1)
    assert (reply.status_code, reply.text) == (200, "served on the bound domain")
    off = requests.get(f"{gateway_url}/domain-hello", headers={"Host": group.sl_domain}, timeout=5)
    assert (off.status_code, off.json()["error_code"]) == (404, "APIG.0101")


@pytest.mark.parametrize("oas", ["2.0", "3.0"])
def test_an_export_names_the_first_bound_domain_as_its_host(apig, instance_id, new_group, new_api, publish, oas):
    from huaweicloudsdkapig import v2 as m
    group = new_group()
    api = new_api(group_id=group.id)
    publish(api.id, h.RELEASE_ENV_ID)

    def exported_host():
        resp = apig.export_api_definitions_v2(m.ExportApiDefinitionsV2Request(
            instance_id=instance_id, oas_version=oas, body=m.ExportOpenApiReq(
                env_id=h.RELEASE_ENV_ID, group_id=group.id, define="all", type="json")))
        chunks = []
        resp.consume_download_stream(lambda raw: chunks.append(raw.content))
        doc = json.loads(b"".join(chunks))
        return doc["host"] if oas == "2.0" else doc["servers"][0]["url"].split("://", 1)[1]

    assert exported_host() == group.sl_domain
    name = domain_name()
    associate(apig, m, instance_id, group.id, name)
    associate(apig, m, instance_id, group.id, domain_name())
    assert exported_host() == name


def export_all(client, m, instance_id, group_id, define="all"):
    """The group's `define` export (YAML) through either SDK, parsed and checked as Swagger 2.0."""
    from test_openapi import download, parse, validate
    extra = {"oas_version": "2.0"} if m.__name__.startswith("huaweicloudsdkapig") else {}
    resp = client.export_api_definitions_v2(m.ExportApiDefinitionsV2Request(
        instance_id=instance_id, body=m.ExportOpenApiReq(env_id=h.RELEASE_ENV_ID, group_id=group_id,
                                                         define=define, type="yaml"), **extra))
    doc = parse(download(resp))
    validate(doc)
    return doc


def import_doc(client, m, instance_id, tmp_path, doc):
    import yaml
    from huaweicloudsdkcore.http.formdata import FormFile
    path = tmp_path / f"{uuid.uuid4().hex}.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return client.import_api_definitions_v2(m.ImportApiDefinitionsV2Request(
        instance_id=instance_id, body=m.ImportApiDefinitionsV2RequestBody(
            file_name=FormFile(str(path)), is_create_group=True)))


def test_domains_travel_in_define_all_and_an_import_binds_them(sdk, apig, instance_id, new_group, new_api, publish,
                                                                tmp_path):
    from huaweicloudsdkapig.v2 import (ApiActionInfo, CreateInstanceV2Request,
                                       CreateOrDeletePublishRecordForApiV2Request, InstanceCreateReq)
    client, m = sdk
    group = new_group()
    publish(new_api(group_id=group.id).id, h.RELEASE_ENV_ID)
    with_ca = client.create_certificate_v2(m.CreateCertificateV2Request(
        body=cert_form(m, trusted_root_ca=pem("ca.pem"))))
    secure, plain = domain_name(), domain_name()
    first_bound = associate(client, m, instance_id, group.id, secure, min_ssl_version="TLSv1.2",
                            is_http_redirect_to_https=True)
    client.batch_associate_certs_v2(m.BatchAssociateCertsV2Request(
        instance_id=instance_id, group_id=group.id, domain_id=first_bound.id,
        body=m.AttachOrDetachCertsReqBody(certificate_ids=[with_ca.id], verified_client_certificate_enabled=True)))
    second_bound = associate(client, m, instance_id, group.id, plain)

    first = export_all(client, m, instance_id, group.id)
    assert list(first["x-portico-domains"].items()) == [
        (secure, {"min_ssl_version": "TLSv1.2", "is_http_redirect_to_https": True,
                  "verified_client_certificate_enabled": True, "ssl_name": with_ca.name}),
        (plain, {"min_ssl_version": "TLSv1.1", "is_http_redirect_to_https": False,
                 "verified_client_certificate_enabled": False})]
    assert first["host"] == secure
    assert "BEGIN" not in json.dumps(first), "no key nor certificate text travels, only the certificate's name"
    for define in ("spec", "proxy"):
        assert "x-portico-domains" not in export_all(client, m, instance_id, group.id, define)

    # The domains are still bound to the original group: the whole import is refused, nothing written.
    first["info"]["title"] = h.unique("copy")
    h.expect_error(lambda: import_doc(client, m, instance_id, tmp_path, first), 409, "APIG.3328")
    taken = apig.list_api_groups_v2(ListApiGroupsV2Request(instance_id=instance_id, name=first["info"]["title"]))
    assert taken.total == 0, "a refused import creates no group"

    for bound in (first_bound, second_bound):
        client.disassociate_domain_v2(m.DisassociateDomainV2Request(
            instance_id=instance_id, group_id=group.id, domain_id=bound.id))
    # A certificate the project does not have is reported, not dropped.
    missing = json.loads(json.dumps(first))
    missing["x-portico-domains"][secure]["ssl_name"] = h.unique("nocert")
    refused = h.expect_error(lambda: import_doc(client, m, instance_id, tmp_path, missing), 400, "APIG.2015")
    assert f"x-portico-domains.{secure}.ssl_name" in refused.error_msg
    # So is a domain name that AssociateDomainV2 would refuse.
    bad = json.loads(json.dumps(first))
    bad["x-portico-domains"]["no_dots"] = {}
    refused = h.expect_error(lambda: import_doc(client, m, instance_id, tmp_path, bad), 400)
    assert "x-portico-domains.no_dots" in refused.error_msg

    # Into a fresh instance of the project: the domains are bound again, the global certificate serves.
    fresh = apig.create_instance_v2(CreateInstanceV2Request(body=InstanceCreateReq(
        instance_name="inst-" + uuid.uuid4().hex[:12], spec_id="BASIC", vpc_id="0" * 32, subnet_id="1" * 32,
        security_group_id="2" * 32, available_zone_ids=["az1"]))).instance_id
    result = import_doc(client, m, fresh, tmp_path, first)
    body = h.body_of(result)
    assert body["failure"] == [] and len(body["success"]) == 1, body
    copied = client.list_attached_domains_v2(m.ListAttachedDomainsV2Request(certificate_id=with_ca.id))
    assert [(d.url_domain, d.instance_id, d.verified_client_certificate_enabled) for d in copied.bound_domains] \
        == [(secure, fresh, True)]
    apig.create_or_delete_publish_record_for_api_v2(CreateOrDeletePublishRecordForApiV2Request(
        instance_id=fresh, body=ApiActionInfo(action="online", env_id=h.RELEASE_ENV_ID,
                                              api_id=body["success"][0]["id"])))
    again = export_all(client, m, fresh, result.group_id)
    assert {k: v for k, v in again.items() if k != "info"} == {k: v for k, v in first.items() if k != "info"}


def test_an_import_into_the_group_keeps_or_overrides_its_domains(sdk, apig, instance_id, new_group, new_api, publish,
                                                                 tmp_path):
    import yaml
    from huaweicloudsdkcore.http.formdata import FormFile
    client, m = sdk
    group = new_group()
    publish(new_api(group_id=group.id).id, h.RELEASE_ENV_ID)
    name = domain_name()
    bound = associate(client, m, instance_id, group.id, name)
    doc = export_all(client, m, instance_id, group.id)
    doc["x-portico-domains"][name]["min_ssl_version"] = "TLSv1.2"

    def import_into_group(extend_mode):
        path = tmp_path / f"{uuid.uuid4().hex}.yaml"
        path.write_text(yaml.safe_dump(doc))
        return client.import_api_definitions_v2(m.ImportApiDefinitionsV2Request(
            instance_id=instance_id, body=m.ImportApiDefinitionsV2RequestBody(
                file_name=FormFile(str(path)), is_create_group=False, group_id=group.id, extend_mode=extend_mode)))

    def domains():
        shown = apig.show_details_of_api_group_v2(ShowDetailsOfApiGroupV2Request(
            instance_id=instance_id, group_id=group.id))
        return [(d.id, d.domain, d.min_ssl_version) for d in shown.url_domains]

    import_into_group("merge")
    assert domains() == [(bound.id, name, "TLSv1.1")], "merge keeps the group's domain as it is"
    import_into_group("override")
    assert domains() == [(bound.id, name, "TLSv1.2")], "override takes the document's settings, same id"
    doc["x-portico-domains"][name]["verified_client_certificate_enabled"] = True
    refused = h.expect_error(lambda: import_into_group("override"), 400, "APIG.2015")
    assert f"x-portico-domains.{name}.verified_client_certificate_enabled" in refused.error_msg
    assert domains() == [(bound.id, name, "TLSv1.2")], "a refused import changes nothing"
