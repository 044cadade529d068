//! The JSON the SDK reads back for the `authorizers` routes.

use serde_json::Value;

use crate::views::object;

pub(crate) fn view<T: serde::Serialize>(authorizer: &T) -> Value {
    Value::Object(object(authorizer))
}
