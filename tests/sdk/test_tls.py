"""The management listener over TLS (`--tls-cert` / `--tls-key`), with a certificate authority
made by the test (the `openssl` command): the official SDK reaches it when given the CA
(`HttpConfig.ssl_ca_cert`), and refuses it without."""

import subprocess
import tomllib

import pytest
import requests
from huaweicloudsdkapig.v2 import ApigClient, ListApiGroupsV2Request
from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.exceptions.exceptions import SdkException
from huaweicloudsdkcore.http.http_config import HttpConfig

from portico_server import Server


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def private_ca(directory):
    """A CA and a certificate it signed for 127.0.0.1: (ca, cert, key) file paths."""
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
    openssl("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-subj", "/CN=Portico SDK test CA",
            "-days", "1", cwd=directory)
    openssl("req", *ec, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1", cwd=directory)
    (directory / "san.ext").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
            "-out", "server.pem", "-days", "1", "-extfile", "san.ext", cwd=directory)
    return directory / "ca.pem", directory / "server.pem", directory / "server.key"


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory):
    root = tmp_path_factory.mktemp("tls")
    ca, cert, key = private_ca(root)
    data = root / "data"
    data.mkdir()
    srv = Server(data, root, env={"PORTICO_TLS_CERT": str(cert), "PORTICO_TLS_KEY": str(key)}, ca=str(ca))
    srv.start()
    yield srv, str(ca)
    srv.stop()


def client(srv, **http_config):
    with open(srv.data_dir / "credentials.toml", "rb") as f:
        creds = tomllib.load(f)
    config = HttpConfig.get_default_config()
    for name, value in http_config.items():
        setattr(config, name, value)
    config.retry_times = 0
    return (ApigClient.new_builder()
            .with_http_config(config)
            .with_credentials(BasicCredentials(creds["access_key"], creds["secret_key"], creds["project_id"]))
            .with_endpoints([srv.base_url])
            .build()), creds["instance_id"]


def test_the_sdk_speaks_https_to_the_management_listener_with_the_ca(tls_server):
    srv, ca = tls_server
    assert srv.base_url.startswith("https://")
    apig, instance_id = client(srv, ssl_ca_cert=ca)
    groups = apig.list_api_groups_v2(ListApiGroupsV2Request(instance_id=instance_id))
    assert groups.total == 0


def test_a_certificate_the_client_does_not_trust_is_refused(tls_server):
    srv, _ = tls_server
    apig, instance_id = client(srv)
    with pytest.raises(SdkException) as refused:
        apig.list_api_groups_v2(ListApiGroupsV2Request(instance_id=instance_id))
    assert "CERTIFICATE_VERIFY_FAILED" in str(refused.value), refused.value
    # The listener speaks TLS only.
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(srv.base_url.replace("https://", "http://") + "/health", timeout=5)
