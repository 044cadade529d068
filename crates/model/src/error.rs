/// Why a request body or query was refused; the management API renders `Missing` as
/// `APIG.2001` and `Invalid` as `APIG.2011`, naming the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FieldError {
    /// A required field is absent, `null` or empty.
    #[error("The request parameters must be specified,parameterName:{0}. Please refer to the support documentation")]
    Missing(String),
    /// A field has the wrong type, is out of range or breaks a rule.
    #[error("Invalid parameter value,parameterName:{0}. Please refer to the support documentation")]
    Invalid(String),
    /// The body is not JSON at all.
    #[error("The request body is not valid JSON: {0}")]
    MalformedJson(String),
}

impl FieldError {
    pub(crate) fn invalid(field: impl Into<String>) -> Self {
        FieldError::Invalid(field.into())
    }

    /// The same error about a field nested under `parent`, e.g. `backend_api.timeout`.
    pub(crate) fn within(self, parent: &str) -> Self {
        match self {
            FieldError::Missing(f) => FieldError::Missing(format!("{parent}.{f}")),
            FieldError::Invalid(f) => FieldError::Invalid(format!("{parent}.{f}")),
            other => other,
        }
    }
}

/// Deserialises `value` into `T`, turning serde's complaint into a [`FieldError`] that names the
/// offending field by its path (`req_params[0].type`).
pub(crate) fn from_value<T: serde::de::DeserializeOwned>(value: &serde_json::Value) -> Result<T, FieldError> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        FieldError::Invalid(if path == "." { "body".into() } else { path })
    })
}

/// Parses a JSON body into a `serde_json::Value`, or explains why it is not JSON.
pub(crate) fn parse_json(body: &[u8]) -> Result<serde_json::Value, FieldError> {
    let value: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| FieldError::MalformedJson(e.to_string()))?;
    if value.is_object() { Ok(value) } else { Err(FieldError::MalformedJson("expected a JSON object".into())) }
}

/// Parses a JSON object body into `T`: a missing (absent, `null` or empty) `required` key is
/// `Missing`, a wrongly typed field is `Invalid` naming its path, a non-object is `MalformedJson`.
pub fn parse_body<T: serde::de::DeserializeOwned>(body: &[u8], required: &[&str]) -> Result<T, FieldError> {
    let value = parse_json(body)?;
    for key in required {
        match value.get(key) {
            None | Some(serde_json::Value::Null) => return Err(FieldError::Missing((*key).into())),
            Some(serde_json::Value::String(s)) if s.is_empty() => return Err(FieldError::Missing((*key).into())),
            Some(_) => {}
        }
    }
    from_value(&value)
}
