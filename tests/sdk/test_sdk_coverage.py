"""Coverage of the three pinned SDKs: every operation of `huaweicloudsdkapig`'s ApigClient, of
`huaweicloudsdkroma`'s RomaClient (its APIC, integration application and data source operations)
and of `huaweicloudsdkdataartsstudio`'s DataArtsStudioClient (DataService and data connections),
read from the SDK's own client class, is sent by that client to a Portico of its own, with every
path and required parameter filled in from the request class, and its answer is classified:

- **served**: Portico's /openapi.json describes the operation's method and path template, and the
  answer is not "no such route" (404 `APIG.3000`, 405 `APIG.2014`) nor a server error. A 404 for
  the made-up id of an object (`APIG.3002`, ...) is served: the route answered. The document is
  asked too because a path can fall into another route's parameter (`GET .../apps/configs`
  reaching `GET .../apps/{app_id}`) and answer that route's 404;
- **not applicable** (NOT_APPLICABLE): has no meaning for a self-hosted instance and answers 400
  `APIG.2040` (DataService: `DLM.4020`);
- **not yet** (NOT_YET): Portico does not serve it yet. The list only shrinks: an operation in it
  that is served fails the test until it is taken out.

The coverage table of docs/management-api.md is rendered from these lists; the test fails when
it differs (PORTICO_WRITE_COVERAGE=1 rewrites it)."""

import inspect
import os
import re
import tomllib
from importlib.metadata import version

import pytest
import huaweicloudsdkapig.v2 as apig_sdk
import huaweicloudsdkdataartsstudio.v1 as dataarts_sdk
import huaweicloudsdkroma.v2 as roma_sdk
from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.exceptions.exceptions import ServiceResponseException
from huaweicloudsdkcore.http.http_config import HttpConfig
from huaweicloudsdkcore.http.http_handler import HttpHandler

import conftest
import sdkhelpers as h
from portico_server import REPO, Server

DOC = REPO / "docs" / "management-api.md"
BEGIN = "<!-- coverage: rendered by tests/sdk/test_sdk_coverage.py (PORTICO_WRITE_COVERAGE=1 rewrites it) -->"
END = "<!-- coverage end -->"


class Sdk:
    def __init__(self, package, module, client, scope, not_applicable_code):
        self.package = package
        self.module = module
        self.client = client
        # The paths of the products Portico serves; the SDK's other products (ROMA's LINK, MQS and
        # data integration tasks, DataArts Studio's other modules) are counted, not walked.
        self.scope = re.compile(scope)
        self.not_applicable_code = not_applicable_code


SDKS = [
    Sdk("huaweicloudsdkapig", apig_sdk, apig_sdk.ApigClient, r"^/v2/\{project_id\}/apigw/", "APIG.2040"),
    Sdk("huaweicloudsdkroma", roma_sdk, roma_sdk.RomaClient,
        r"^/v2/\{project_id\}/(apic/|instances$|instances/\{instance_id\}/(apps|validate-apps)"
        r"|fdi/instances/\{instance_id\}/datasources)", "APIG.2040"),
    Sdk("huaweicloudsdkdataartsstudio", dataarts_sdk, dataarts_sdk.DataArtsStudioClient,
        r"^/v1/\{project_id\}/(service/|data-connections)", "DLM.4020"),
]

NOT_APPLICABLE = {
    "huaweicloudsdkapig": {
        # orders and resizing
        "CreateOrder", "CreatePostPayResizeOrder", "CreatePrepayResize",
        # elastic IPs
        "AddEipV2", "RemoveEipV2", "AddEngressEipV2", "UpdateEngressEipV2", "RemoveEngressEipV2",
        "AddIngressEipV2", "UpdateIngressEipV2", "RemoveIngressEipV2",
        # availability zones
        "ListAvailableZonesV2",
        # VPC endpoint services
        "AcceptOrRejectEndpointConnections", "ListEndpointConnections", "AddEndpointPermissions",
        "DeleteEndpointPermissions", "ListEndpointPermissions",
        # instance tags
        "BatchCreateOrDeleteInstanceTags", "ListInstanceTags", "ListProjectInstanceTags", "ListInstancesByTags",
        "ShowInstancesNumByTags",
        # instance creation progress
        "ShowDetailsOfInstanceProgressV2",
        # microservice import from CSE/CCE
        "ImportMicroservice",
    },
    "huaweicloudsdkroma": set(),
    "huaweicloudsdkdataartsstudio": {
        # LTS/OBS log dumps
        "UpdateDataServiceInstanceLtsLog", "UpdateDataServiceInstanceObsLog",
    },
}

NOT_YET = {
    "huaweicloudsdkapig": {
        "AddCustomIngressPort", "AssociateAppsForAppQuota", "AttachApiToPlugin", "AttachPluginToApi",
        "BatchDisableMembers", "BatchEnableMembers", "CreateAiApiKey", "CreateAppQuota", "CreateFeatureV2",
        "CreateMemberGroup", "CreateOrchestration", "CreatePlugin", "DebugApiV2", "DeleteAiApiKey",
        "DeleteAppAcl", "DeleteAppQuota", "DeleteCustomIngressPort", "DeleteMemberGroup",
        "DeleteOrchestration", "DeletePlugin", "DetachApiFromPlugin", "DetachPluginFromApi",
        "DisassociateAppQuotaWithApp", "ListAiApiKeys", "ListApiAttachablePlugins", "ListApiAttachedPlugins",
        "ListAppQuotaBindableApps",
        "ListAppQuotaBoundApps", "ListAppQuotas", "ListCustomIngressPortDomains", "ListCustomIngressPorts",
        "ListFeaturesV2", "ListInstanceFeatures", "ListLatelyApiStatisticsV2",
        "ListLatelyGroupStatisticsV2", "ListMemberGroups", "ListMetricData", "ListOrchestrationAttachedApis",
        "ListOrchestrations", "ListPluginAttachableApis", "ListPluginAttachedApis", "ListPlugins",
        "ShowAppBoundAppQuota", "ShowAppQuota", "ShowDetailsOfAiApiKey",
        "ShowDetailsOfAppAcl", "ShowDetailsOfMemberGroup", "ShowDetailsOfOrchestration", "ShowPlugin",
        "UpdateAppAcl", "UpdateAppQuota", "UpdateHealthCheck", "UpdateInstanceV2",
        "UpdateMemberGroup", "UpdateOrchestration", "UpdatePlugin",
    },
    "huaweicloudsdkroma": {
        "AddUserToApp", "AssociateAppsForAppQuota", "AttachApiToPlugin", "AttachPluginToApi", "BatchDisableMembers",
        "BatchEnableMembers", "CheckAuthUsersOfApp", "CheckCanAuthUsersOfApp",
        "CheckRomaInstanceListV2", "CreateAppConfigV2", "CreateAppQuota", "CreateFeatureV2", "CreateMemberGroup",
        "CreatePlugin", "CreateProjectVpcChannel", "CreateProjectVpcChannelSyncs", "DebugApiV2",
        "DeleteAppAcl", "DeleteAppConfigV2", "DeleteAppQuota", "DeleteMemberGroup",
        "DeletePlugin", "DetachApiFromPlugin", "DetachPluginFromApi", "DisassociateAppQuotaWithApp",
        "ListApiAttachablePlugins", "ListApiAttachedPlugins", "ListAppConfigsV2", "ListAppQuotaBindableApps",
        "ListAppQuotaBoundApps", "ListAppQuotas", "ListDatasourceColumns", "ListDatasourceTables",
        "ListDuplicateApisForAppV2", "ListFeaturesV2", "ListLatelyApiStatisticsV2", "ListLiveDataQuotaV2",
        "ListMemberGroups", "ListPluginAttachableApis", "ListPluginAttachedApis", "ListPlugins",
        "ListProjectVpcChannelsV2", "ListStatisticsApi",
        "ShowAppBoundAppQuota", "ShowAppQuota", "ShowDetailsOfAppAcl", "ShowDetailsOfAppConfigV2",
        "ShowDetailsOfInstanceV2", "ShowDetailsOfMemberGroup", "ShowPlugin",
        "StartTestDatasource", "UpdateAppAcl", "UpdateAppConfigV2", "UpdateAppQuota", "UpdateDatasourceInfo",
        "UpdateHealthCheck", "UpdateMemberGroup", "UpdatePlugin", "UpdateProjectVpcChannel",
        "ValidateRomaApp",
    },
    "huaweicloudsdkdataartsstudio": {
        "AuthorizeActionApiToInstance", "BatchApproveApply", "ConfirmMessage", "CreateApp", "CreateConnections",
        "DebugApi", "DebugDataconnection", "DeleteApp", "DeleteDataconnection", "ListAllCatalogList",
        "ListApiTopN", "ListApicGroups", "ListApicInstances", "ListApisTop", "ListApply", "ListApps",
        "ListAppsTop", "ListDataServiceInstanceAccesslogs", "ListDataServiceInstancesDetail",
        "ListDataServiceInstancesOverview", "ListDataServiceMarketApis", "ListDataconnections",
        "ListInstanceList", "ListMessage", "MigrateApi", "MigrateCatalog", "SearchAuthorizeApp",
        "SearchBindApi", "SearchDebugInfo", "SearchIdByPath", "ShowApiDashboard", "ShowApisDashboard",
        "ShowApisDetail", "ShowApisOverview", "ShowAppInfo", "ShowApplyDetail", "ShowAppsDashboard",
        "ShowAppsDetail", "ShowAppsOverview", "ShowDataServiceInstance", "ShowDataconnection",
        "ShowMessageDetail", "ShowPathById", "ShowPathObjectById", "UpdateApp", "UpdateDataconnection",
    },
}

PLACEHOLDER_ID = "0123456789abcdef0123456789abcdef"


class Operation:
    """One operation of an SDK: its client method, request class, HTTP method and path."""

    def __init__(self, sdk, method_name):
        self.sdk = sdk
        self.method_name = method_name
        http_info = getattr(sdk.client, f"_{method_name}_http_info")
        self.request_class = None
        for attr in dir(sdk.module):
            if attr.lower() == method_name.replace("_", "") + "request":
                self.request_class = getattr(sdk.module, attr)
        assert self.request_class, f"{sdk.package}: no request class for {method_name}"
        info = http_info(self.request_class())
        self.name = info["request_type"][: -len("Request")]
        self.http_method = info["method"]
        self.path = info["resource_path"]

    def template(self):
        """The path with every parameter written `{}`, as the document's templates are compared."""
        return re.sub(r"\{[^}]+\}", "{}", self.path)

    def required(self):
        """The attributes the request's constructor always sets: the required ones (the others
        are set under `if x is not None`)."""
        source = inspect.getsource(self.request_class.__init__)
        return re.findall(r"^ {8}self\.(\w+) = \1$", source, re.M)


def operations(sdk):
    """Every operation of the SDK's client class: each public method with its `_<name>_http_info`."""
    names = [n for n in dir(sdk.client) if not n.startswith("_") and not n.endswith("_invoker")
             and hasattr(sdk.client, f"_{n}_http_info")]
    return [Operation(sdk, n) for n in names]


def in_scope(sdk):
    return [op for op in operations(sdk) if sdk.scope.match(op.path)]


def value_for(sdk, op, attr, kind, instance_id):
    if attr == "instance_id" and sdk.package != "huaweicloudsdkdataartsstudio":
        # Deleting the instance itself would leave every later request without one.
        deletes_instance = op.http_method == "DELETE" and op.path.endswith("/instances/{instance_id}")
        return PLACEHOLDER_ID if deletes_instance else instance_id
    if attr == "workspace":
        return "coverage"
    if kind == "str":
        return PLACEHOLDER_ID
    if kind in ("int", "float"):
        return 1
    if kind == "bool":
        return False
    if kind.startswith("list["):
        return [PLACEHOLDER_ID] if kind == "list[str]" else []
    model = getattr(sdk.module, kind, None)
    return model() if model else None


def request_for(sdk, op, instance_id):
    request = op.request_class()
    for attr in op.required():
        setattr(request, attr, value_for(sdk, op, attr, op.request_class.openapi_types[attr], instance_id))
    return request


def client_for(sdk, base_url, creds):
    cfg = HttpConfig.get_default_config()
    cfg.ignore_ssl_verification = True
    return (sdk.client.new_builder().with_http_config(cfg)
            .with_http_handler(HttpHandler().add_response_handler(conftest._record_request_id))
            .with_credentials(BasicCredentials(creds["access_key"], creds["secret_key"], creds["project_id"]))
            .with_endpoints([base_url]).build())


class Answer:
    def __init__(self, status, code=None, message=None):
        self.status, self.code, self.message = status, code, message

    def no_such_route(self):
        return (self.status, self.code) in ((404, "APIG.3000"), (405, "APIG.2014"))

    def __str__(self):
        return f"{self.status} {self.code or ''} {self.message or ''}".strip()


def send(client, op, request):
    try:
        response = getattr(client, op.method_name)(request)
    except ServiceResponseException as e:
        return Answer(e.status_code, e.error_code, e.error_msg)
    return Answer(response.status_code)


@pytest.fixture(scope="module")
def walked(tmp_path_factory):
    """A server of its own (the walk sends made-up input to every operation), and the answer of
    each operation in scope: {package: [(Operation, Answer)]}, with the served templates."""
    root = tmp_path_factory.mktemp("coverage")
    (root / "data").mkdir()
    server = Server(root / "data", root)
    server.start()
    try:
        creds = tomllib.loads((root / "data" / "credentials.toml").read_text())
        with h.http_session() as s:
            document = s.get(server.base_url + "/openapi.json", timeout=30).json()
        described = {(method.upper(), re.sub(r"\{[^}]+\}", "{}", path))
                     for path, item in document["paths"].items() for method in item}
        answers = {}
        for sdk in SDKS:
            client = client_for(sdk, server.base_url, creds)
            answers[sdk.package] = [(op, send(client, op, request_for(sdk, op, creds["instance_id"])))
                                    for op in in_scope(sdk)]
        # The autouse check of conftest.py clears its record before each test, after this walk.
        assert not conftest.MISSING_REQUEST_ID, f"answers without X-Request-Id: {conftest.MISSING_REQUEST_ID}"
        yield {"answers": answers, "described": described, "server": server, "creds": creds}
    finally:
        server.stop()
        assert "panicked" not in server.output(tail=None), server.output()


def is_served(walked, op, answer):
    return (op.http_method, op.template()) in walked["described"] and not answer.no_such_route()


def test_every_operation_outside_the_lists_is_served(walked):
    problems = []
    for sdk in SDKS:
        listed = NOT_APPLICABLE[sdk.package] | NOT_YET[sdk.package]
        for op, answer in walked["answers"][sdk.package]:
            if op.name in listed:
                continue
            if not is_served(walked, op, answer):
                problems.append(f"{sdk.package} {op.name} ({op.http_method} {op.path}): not served, answered {answer}")
            elif answer.status >= 500:
                problems.append(f"{sdk.package} {op.name} ({op.http_method} {op.path}): answered {answer}")
    assert not problems, f"{len(problems)} operations are neither served nor listed:\n  " + "\n  ".join(problems)


def test_not_yet_operations_are_not_served(walked):
    served = [f"{sdk.package} {op.name}" for sdk in SDKS for op, answer in walked["answers"][sdk.package]
              if op.name in NOT_YET[sdk.package] and is_served(walked, op, answer)]
    assert not served, "served now: take these out of NOT_YET (and rewrite the table):\n  " + "\n  ".join(served)


def test_not_applicable_operations_answer_400_saying_so(walked):
    problems = []
    for sdk in SDKS:
        for op, answer in walked["answers"][sdk.package]:
            if op.name not in NOT_APPLICABLE[sdk.package]:
                continue
            described = (op.http_method, op.template()) in walked["described"]
            if not (described and answer.status == 400 and answer.code == sdk.not_applicable_code
                    and "self-hosted" in (answer.message or "")):
                problems.append(f"{sdk.package} {op.name} ({op.http_method} {op.path}, described: {described}): "
                                f"answered {answer}")
    assert not problems, "\n  ".join(["not-applicable operations that do not say so:", *problems])


def test_instance_operations_not_applicable_on_apigw_are_not_applicable_on_apic_too(walked):
    server, creds = walked["server"], walked["creds"]
    apig = next(sdk for sdk in SDKS if sdk.package == "huaweicloudsdkapig")
    instance_prefix = "/v2/{project_id}/apigw/instances/{instance_id}/"
    checked = 0
    for op in in_scope(apig):
        if op.name not in NOT_APPLICABLE[apig.package] or not op.path.startswith(instance_prefix):
            continue
        path = (op.path.replace("/apigw/", "/apic/").replace("{project_id}", creds["project_id"])
                .replace("{instance_id}", creds["instance_id"]))
        response = h.signed_request(server.base_url, creds["access_key"], creds["secret_key"], creds["project_id"],
                                    op.http_method, path, body=b'{"anything": [1, 2]}')
        h.assert_apig_error(response, 400, "APIG.2040")
        checked += 1
    assert checked >= 10, checked


def test_the_lists_name_operations_of_the_sdks():
    for sdk in SDKS:
        names = {op.name for op in in_scope(sdk)}
        unknown = (NOT_APPLICABLE[sdk.package] | NOT_YET[sdk.package]) - names
        assert not unknown, f"{sdk.package}: not operations in scope: {sorted(unknown)}"
        both = NOT_APPLICABLE[sdk.package] & NOT_YET[sdk.package]
        assert not both, f"{sdk.package}: listed as not applicable and not yet: {sorted(both)}"


def render_table():
    """The coverage section of docs/management-api.md, from the SDKs and the two lists."""
    rows, details = [], []
    for sdk in SDKS:
        everything = operations(sdk)
        walked_names = sorted(op.name for op in everything if sdk.scope.match(op.path))
        not_applicable = sorted(NOT_APPLICABLE[sdk.package])
        not_yet = sorted(NOT_YET[sdk.package])
        served = [n for n in walked_names if n not in NOT_APPLICABLE[sdk.package] | NOT_YET[sdk.package]]
        package = f"`{sdk.package}=={version(sdk.package)}`"
        rows.append(f"| {package} | {len(everything)} | {len(walked_names)} | {len(served)} | "
                    f"{len(not_applicable)} | {len(not_yet)} |")
        details.append(f"**{sdk.package}**, walked: the paths matching `{sdk.scope.pattern}`.\n")
        for title, names in (("Served", served), (f"Not applicable (400 `{sdk.not_applicable_code}`)", not_applicable),
                             ("Not yet", not_yet)):
            details.append(f"- {title} ({len(names)}): {', '.join(names) if names else '—'}")
        details.append("")
    return "\n".join([
        BEGIN,
        "| SDK | operations | walked | served | not applicable | not yet |",
        "|---|---|---|---|---|---|",
        *rows,
        "",
        *details,
        END,
    ])


def test_the_coverage_table_of_the_docs_matches_the_lists():
    text = DOC.read_text()
    assert BEGIN in text and END in text, f"{DOC} has no coverage section ({BEGIN} … {END})"
    head, rest = text.split(BEGIN, 1)
    current, tail = rest.split(END, 1)
    expected = render_table()
    if os.environ.get("PORTICO_WRITE_COVERAGE") == "1":
        DOC.write_text(head + expected + tail)
        current = expected[len(BEGIN):-len(END)]
    assert BEGIN + current + END == expected, (
        f"the coverage table of {DOC} is stale; rerun with PORTICO_WRITE_COVERAGE=1 to rewrite it. Expected:\n"
        + expected)
