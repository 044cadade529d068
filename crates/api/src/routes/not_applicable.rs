//! Operations of the SDKs that have no meaning for a self-hosted instance: orders and
//! resizing, elastic IPs, availability zones, VPC endpoint services, instance tags, instance
//! creation progress, microservice import from CSE/CCE, DataService's LTS/OBS log dumps. Each
//! answers 400 `APIG.2040` (`DLM.4020` on DataService) saying so, after authentication and the
//! scope check, never a bare "no such route"; the body and query are not read, so any input
//! gets that answer.

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::dataservice::Ws;
use crate::doc::ErrorBody;
use crate::error::DsError;
use crate::extract::Scope;
use crate::{ApiError, AppState};

const ORDERS: &str = "orders and specification changes are Huawei Cloud billing; a self-hosted Portico's capacity is the machine it runs on";
const EIP: &str = "elastic IPs are Huawei Cloud network resources; a self-hosted Portico listens on the addresses of its configuration (listen, gateway.listen)";
const ZONES: &str = "availability zones are Huawei Cloud's; a self-hosted Portico runs where it is started";
const ENDPOINTS: &str = "VPC endpoint services are Huawei Cloud network resources; clients reach a self-hosted Portico at its listen addresses";
const TAGS: &str = "instance tags are Huawei Cloud resource tags; a self-hosted Portico instance is no cloud resource";
const PROGRESS: &str =
    "a self-hosted Portico instance exists as soon as CreateInstanceV2 answers, so there is no creation progress";
const MICROSERVICES: &str = "importing microservices needs Huawei Cloud's CSE or CCE; a self-hosted Portico reaches backends by address (VPC channels)";
const LOG_DUMPS: &str = "LTS and OBS log dumps are Huawei Cloud services; a self-hosted Portico writes its access log through its own logging";

/// One handler per (method, path), described for `/openapi.json` like every other route; the
/// handlers differ only in their path and the reason they give.
macro_rules! not_applicable {
    ($extractor:ty, $error:path; $($name:ident = $method:ident $path:literal: $reason:expr;)*) => {
        $(
            #[utoipa::path($method, path = $path, tag = "not_applicable", responses(
                (status = 400, description = "The operation has no meaning for a self-hosted instance", body = ErrorBody)))]
            async fn $name(_: $extractor) -> impl axum::response::IntoResponse {
                $error($reason)
            }
        )*
    };
}

not_applicable!(Scope, ApiError::not_applicable;
    create_post_pay_resize_order = post "/postpaid-resize": ORDERS;
    create_prepay_resize = post "/prepay-resize": ORDERS;
    add_eip_v2 = put "/eip": EIP;
    remove_eip_v2 = delete "/eip": EIP;
    add_engress_eip_v2 = post "/nat-eip": EIP;
    update_engress_eip_v2 = put "/nat-eip": EIP;
    remove_engress_eip_v2 = delete "/nat-eip": EIP;
    add_ingress_eip_v2 = post "/ingress-eip": EIP;
    update_ingress_eip_v2 = put "/ingress-eip": EIP;
    remove_ingress_eip_v2 = delete "/ingress-eip": EIP;
    accept_or_reject_endpoint_connections = post "/vpc-endpoint/connections/action": ENDPOINTS;
    list_endpoint_connections = get "/vpc-endpoint/connections": ENDPOINTS;
    add_endpoint_permissions = post "/vpc-endpoint/permissions/batch-add": ENDPOINTS;
    delete_endpoint_permissions = post "/vpc-endpoint/permissions/batch-delete": ENDPOINTS;
    list_endpoint_permissions = get "/vpc-endpoint/permissions": ENDPOINTS;
    batch_create_or_delete_instance_tags = post "/instance-tags/action": TAGS;
    list_instance_tags = get "/instance-tags": TAGS;
    show_details_of_instance_progress_v2 = get "/progress": PROGRESS;
    import_microservice = post "/microservice/import": MICROSERVICES;
);

// Authentication has checked the project, and these paths name no instance.
not_applicable!((), ApiError::not_applicable;
    create_order = post "/v2/{project_id}/apigw/prepay-instances": ORDERS;
    list_available_zones_v2 = get "/v2/{project_id}/apigw/available-zones": ZONES;
    list_project_instance_tags = get "/v2/{project_id}/apigw/instance-tags": TAGS;
    list_instances_by_tags = post "/v2/{project_id}/apigw/resource-instances/filter": TAGS;
    show_instances_num_by_tags = post "/v2/{project_id}/apigw/resource-instances/count": TAGS;
);

not_applicable!(Ws, DsError::not_applicable;
    update_data_service_instance_lts_log = put "/instances/{instance_id}/lts-log-dump": LOG_DUMPS;
    update_data_service_instance_obs_log = put "/instances/{instance_id}/obs-log-dump": LOG_DUMPS;
);

/// Under each instance prefix (`apigw` and `apic`): mounted by `instance_routes`.
pub fn instance_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_post_pay_resize_order))
        .routes(routes!(create_prepay_resize))
        .routes(routes!(add_eip_v2, remove_eip_v2))
        .routes(routes!(add_engress_eip_v2, update_engress_eip_v2, remove_engress_eip_v2))
        .routes(routes!(add_ingress_eip_v2, update_ingress_eip_v2, remove_ingress_eip_v2))
        .routes(routes!(accept_or_reject_endpoint_connections))
        .routes(routes!(list_endpoint_connections))
        .routes(routes!(add_endpoint_permissions))
        .routes(routes!(delete_endpoint_permissions))
        .routes(routes!(list_endpoint_permissions))
        .routes(routes!(batch_create_or_delete_instance_tags))
        .routes(routes!(list_instance_tags))
        .routes(routes!(show_details_of_instance_progress_v2))
        .routes(routes!(import_microservice))
}

/// APIG's project-level operations (`/v2/{project_id}/apigw/…`, outside any instance).
pub fn project_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_order))
        .routes(routes!(list_available_zones_v2))
        .routes(routes!(list_project_instance_tags))
        .routes(routes!(list_instances_by_tags))
        .routes(routes!(show_instances_num_by_tags))
}

/// DataService's (`/v1/{project_id}/service/…`), behind its workspace header.
pub fn dataservice_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(update_data_service_instance_lts_log))
        .routes(routes!(update_data_service_instance_obs_log))
}
