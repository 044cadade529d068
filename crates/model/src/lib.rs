//! The APIG domain model: instances, API groups, environments, environment variables and APIs,
//! with every validation rule of the management API. No I/O happens here.
//!
//! The types speak the vocabulary of Huawei Cloud APIG v2 (field names, enum spellings), because
//! wire compatibility is the product: a definition is stored, published and exported in the same
//! shape that [`ApiDefinition`] serialises to. Server-assigned fields (`id`, `register_time`, …)
//! are part of the types and are overwritten by [`ApiDefinition::prepare`] whatever a client sent.
//!
//! ```
//! use portico_model::{ApiDefinition, FieldError};
//! let body = br#"{"name":"x","type":1}"#;
//! let err = ApiDefinition::from_json(body).unwrap_err();
//! assert_eq!(err, FieldError::Missing("req_protocol".into()));
//! ```
#![warn(missing_docs)]

mod acl;
mod api;
mod app;
mod authorizer;
mod compare;
mod dataservice;
mod domain;
mod error;
mod gateway_response;
mod group;
mod identity;
mod ids;
mod limits;
mod livedata;
mod page;
mod policy_set;
mod rules;
mod signature;
mod throttle;
mod vpc_channel;

pub use acl::*;
pub use api::*;
pub use app::*;
pub use authorizer::*;
pub use compare::{ApiComparison, ChangeKind, FieldChange, compare_apis};
pub use dataservice::*;
pub use domain::*;
pub use error::{FieldError, parse_body};
pub use gateway_response::*;
pub use group::*;
pub use identity::*;
pub use ids::{new_id, now};
pub use limits::*;
pub use livedata::*;
pub use page::{Page, Paged};
pub use policy_set::{DeclaredPolicies, PolicySet};
pub use rules::is_display_name;
pub use signature::*;
pub use throttle::*;
pub use vpc_channel::*;
