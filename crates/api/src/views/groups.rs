//! The JSON the SDK reads back for the `groups` routes.

use portico_model::{EnvVariable, Environment};
use serde_json::Value;

pub(crate) fn env_view(env: &Environment) -> Value {
    serde_json::to_value(env).unwrap_or_default()
}

pub(crate) fn variable_view(v: &EnvVariable) -> Value {
    serde_json::to_value(v).unwrap_or_default()
}
