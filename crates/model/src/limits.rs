//! The limits Portico enforces on what one object may hold, under the names APIG gives them in
//! its configurations (`ListProjectCofigsV2`): the rules check these constants and the
//! configuration list is rendered from [`LIMITS`], so what is described is what is enforced.

/// Tags of one API.
pub const API_TAG_NUM_LIMIT: usize = 10;
/// Conditions of one policy backend of an API.
pub const API_CONDITION_NUM_LIMIT: usize = 5;

/// One enforced limit, named as APIG's configuration names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    /// APIG's configuration name.
    pub name: &'static str,
    /// The largest number allowed.
    pub value: usize,
    /// What is counted.
    pub remark: &'static str,
}

/// Every limit of this module, in the order the configuration list shows them.
pub const LIMITS: [Limit; 2] = [
    Limit { name: "API_TAG_NUM_LIMIT", value: API_TAG_NUM_LIMIT, remark: "tags one API can have" },
    Limit {
        name: "API_CONDITION_NUM_LIMIT",
        value: API_CONDITION_NUM_LIMIT,
        remark: "conditions one policy backend of an API can have",
    },
];
