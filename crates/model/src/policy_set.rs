//! Policy objects handed between the store and the OpenAPI engine by value: the policies a
//! document carries (or an export writes), and the policies an API declares by name.

use crate::{Acl, ApiDefinition, GatewayResponse, Throttle, ThrottleSpecial};

/// Throttling policies (each with its specials), ACLs and gateway responses, as a document
/// defines them at its root or as an export writes them there.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PolicySet {
    /// Throttling policies, each with its special throttles.
    pub throttles: Vec<(Throttle, Vec<ThrottleSpecial>)>,
    /// ACL policies.
    pub acls: Vec<Acl>,
    /// Gateway responses of one group.
    pub gateway_responses: Vec<GatewayResponse>,
}

/// The throttling policy and the ACL an API names (an operation's `x-apigateway-ratelimit` and
/// `x-apigateway-access-control`): an imported API keeps what its document declared in its
/// `openapi_extensions`, and they are bound when the API is published to a new publish record.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeclaredPolicies {
    /// The throttling policy's name.
    pub throttle: Option<String>,
    /// The ACL's name.
    pub acl: Option<String>,
}

impl DeclaredPolicies {
    /// The operation key naming the throttling policy, where an API stores it.
    pub const THROTTLE_KEY: &str = "x-apigateway-ratelimit";
    /// The operation key naming the ACL, where an API stores it.
    pub const ACL_KEY: &str = "x-apigateway-access-control";

    /// What `definition` declares, read from where an import stored it.
    pub fn of(definition: &ApiDefinition) -> Self {
        let name = |key: &str| definition.openapi_extensions.get(key).and_then(|v| v.as_str()).map(str::to_owned);
        DeclaredPolicies { throttle: name(Self::THROTTLE_KEY), acl: name(Self::ACL_KEY) }
    }
}
