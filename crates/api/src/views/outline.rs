//! The resource outlines: counts of what an instance holds, in APIG's field names.

use portico_model::{LIMITS, Page};
use portico_store::Outline;
use serde_json::{Value, json};

/// `ListApiQuantitiesV2`: every API, and how many are or are not published in RELEASE.
pub fn api_quantities(outline: &Outline) -> Value {
    json!({
        "instance_num": outline.apis,
        "nums_on_release": outline.apis_on_release,
        "nums_off_release": outline.apis - outline.apis_on_release,
    })
}

/// `ListApiGroupsQuantitiesV2`: APIG counts groups put on sale in its marketplace apart; a
/// self-hosted instance has no marketplace, so every group is off sale.
pub fn group_quantities(outline: &Outline) -> Value {
    json!({ "onsell_nums": 0, "offsell_nums": outline.groups })
}

/// `ListAppQuantitiesV2`: apps authorized to call at least one API, and the others.
pub fn app_quantities(outline: &Outline) -> Value {
    json!({
        "authed_nums": outline.apps_authorized,
        "unauthed_nums": outline.apps - outline.apps_authorized,
    })
}

/// `ListProjectCofigsV2`: one page of the limits Portico enforces. APIG's `used` counts an
/// instance-wide quota; these limits bound one object each, so it is left out.
pub fn limits(page: Page) -> Value {
    let items: Vec<Value> = LIMITS
        .iter()
        .skip(page.offset as usize)
        .take(page.limit as usize)
        .map(|limit| json!({ "config_id": limit.name, "config_name": limit.name, "config_value": limit.value.to_string(), "remark": limit.remark }))
        .collect();
    json!({ "size": items.len(), "total": LIMITS.len(), "configs": items })
}

/// `ListInstanceConfigsV2`: an empty page, as no project-wide quota applies.
pub fn no_quotas() -> Value {
    json!({ "size": 0, "total": 0, "configs": [] })
}

/// `ShowRestrictionOfInstanceV2`: APIG lists the address ranges an instance's backends may not
/// use and the subnet of its resource tenant. Portico refuses no backend network and has no
/// resource tenant, so the list is empty and the subnet left out.
pub fn no_restriction() -> Value {
    json!({ "restrict_cidrs": [] })
}
