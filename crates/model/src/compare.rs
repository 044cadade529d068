//! A structured diff of a group's API definitions between two sides (two environments, or the
//! drafts and an environment): which APIs were added, removed, changed or kept the same, and
//! for a changed one every field that differs, named by a JSON pointer into its definition.
//! The definitions are compared in their wire form, so a pointer names the field the
//! management API and the SDKs use.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::Api;

/// What became of one API from the `from` side to the `to` side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChangeKind {
    /// Only on the `to` side.
    Added,
    /// Only on the `from` side.
    Removed,
    /// On both sides, with different definitions.
    Changed,
    /// On both sides, defined alike.
    Same,
}

/// One field that differs. `old` is absent when the field is new, `new` when it was removed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldChange {
    /// JSON pointer (RFC 6901) into the API's definition, e.g. `/backend_api/timeout`.
    pub path: String,
    /// The value on the `from` side.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub old: Option<Value>,
    /// The value on the `to` side.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new: Option<Value>,
}

/// One API of the comparison, named as on the `to` side (the `from` side when removed).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiComparison {
    /// Added, removed, changed or same.
    pub status: ChangeKind,
    /// The API's id (on the `to` side when it is on both).
    pub api_id: String,
    /// The API's name.
    pub name: String,
    /// Its frontend method.
    pub req_method: String,
    /// Its frontend path.
    pub req_uri: String,
    /// For a changed API, every field that differs, in document order; empty otherwise.
    pub changes: Vec<FieldChange>,
}

/// Compares two sides' APIs. An API of one side is matched to the other side's API with the
/// same id, or failing that with the same method and path (an API deleted and created again,
/// or brought in by an import under a new id). Times (of the API and of each of its parts)
/// and status are not part of a definition and are not compared. The result is in path order, then method.
pub fn compare_apis(from: &[Api], to: &[Api]) -> Vec<ApiComparison> {
    let mut unmatched_from: Vec<&Api> = from.iter().collect();
    let mut result = Vec::with_capacity(to.len().max(from.len()));
    let mut unmatched_to = Vec::new();
    for api in to {
        match unmatched_from.iter().position(|old| old.id == api.id) {
            Some(i) => result.push(compared(unmatched_from.swap_remove(i), api)),
            None => unmatched_to.push(api),
        }
    }
    for api in unmatched_to {
        let same_route = |old: &&Api| {
            old.definition.req_method == api.definition.req_method && old.definition.req_uri == api.definition.req_uri
        };
        match unmatched_from.iter().position(same_route) {
            Some(i) => result.push(compared(unmatched_from.swap_remove(i), api)),
            None => result.push(entry(ChangeKind::Added, api, Vec::new())),
        }
    }
    result.extend(unmatched_from.into_iter().map(|api| entry(ChangeKind::Removed, api, Vec::new())));
    result.sort_by(|a, b| (&a.req_uri, &a.req_method, &a.name).cmp(&(&b.req_uri, &b.req_method, &b.name)));
    result
}

fn compared(old: &Api, new: &Api) -> ApiComparison {
    let mut changes = Vec::new();
    diff_values(&mut String::new(), &definition_value(old), &definition_value(new), &mut changes);
    let status = if changes.is_empty() { ChangeKind::Same } else { ChangeKind::Changed };
    entry(status, new, changes)
}

fn entry(status: ChangeKind, api: &Api, changes: Vec<FieldChange>) -> ApiComparison {
    ApiComparison {
        status,
        api_id: api.id.clone(),
        name: api.definition.name.clone(),
        req_method: api.definition.req_method.as_str().to_owned(),
        req_uri: api.definition.req_uri.clone(),
        changes,
    }
}

fn definition_value(api: &Api) -> Value {
    // A definition is plain data whose serde form is the wire form: serialising it cannot fail.
    serde_json::to_value(&api.definition).unwrap_or(Value::Null)
}

/// Appends to `changes` every leaf where `old` and `new` differ below `pointer`. Objects are
/// compared key by key, arrays index by index (an element past the end of one side is added or
/// removed as a whole); any other difference, including a change of type, is one change.
fn diff_values(pointer: &mut String, old: &Value, new: &Value, changes: &mut Vec<FieldChange>) {
    match (old, new) {
        (Value::Object(a), Value::Object(b)) => {
            for (key, old_value) in a.iter().filter(|(key, _)| !is_time(key)) {
                let len = push_token(pointer, key);
                match b.get(key) {
                    Some(new_value) => diff_values(pointer, old_value, new_value, changes),
                    None => changes.push(change(pointer, Some(old_value), None)),
                }
                pointer.truncate(len);
            }
            for (key, new_value) in b.iter().filter(|(key, _)| !a.contains_key(*key) && !is_time(key)) {
                let len = push_token(pointer, key);
                changes.push(change(pointer, None, Some(new_value)));
                pointer.truncate(len);
            }
        }
        (Value::Array(a), Value::Array(b)) => {
            for i in 0..a.len().max(b.len()) {
                let len = push_token(pointer, &i.to_string());
                match (a.get(i), b.get(i)) {
                    (Some(x), Some(y)) => diff_values(pointer, x, y, changes),
                    (x, y) => changes.push(change(pointer, x, y)),
                }
                pointer.truncate(len);
            }
        }
        _ if old != new => changes.push(change(pointer, Some(old), Some(new))),
        _ => {}
    }
}

/// The server's record of when a part was made or saved (every backend, parameter and policy
/// carries one): it changes with each save, and is not something its owner defined.
fn is_time(key: &str) -> bool {
    matches!(key, "register_time" | "update_time" | "create_time")
}

/// Appends `/token` with RFC 6901's escapes and returns the length to truncate back to.
fn push_token(pointer: &mut String, token: &str) -> usize {
    let len = pointer.len();
    pointer.push('/');
    pointer.push_str(&token.replace('~', "~0").replace('/', "~1"));
    len
}

fn change(pointer: &str, old: Option<&Value>, new: Option<&Value>) -> FieldChange {
    FieldChange { path: pointer.to_owned(), old: old.cloned(), new: new.cloned() }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn api(id: &str, method: &str, uri: &str, extra: Value) -> Api {
        let mut body = json!({
            "id": id, "status": 1,
            "register_time": "2026-01-01T00:00:00Z", "update_time": "2026-01-01T00:00:00Z",
            "group_id": "g", "name": format!("api_{id}"), "type": 1, "req_protocol": "HTTPS",
            "req_method": method, "req_uri": uri, "auth_type": "NONE", "backend_type": "MOCK",
            "mock_info": {"result_content": "hi"},
        });
        if let (Value::Object(base), Value::Object(more)) = (&mut body, extra) {
            base.extend(more);
        }
        serde_json::from_value(body).expect("a valid stored API")
    }

    fn statuses(result: &[ApiComparison]) -> Vec<(&str, ChangeKind)> {
        result.iter().map(|c| (c.api_id.as_str(), c.status)).collect()
    }

    #[test]
    fn sorts_apis_into_added_removed_changed_and_same() {
        let from =
            [api("a", "GET", "/a", json!({})), api("b", "GET", "/b", json!({})), api("c", "GET", "/c", json!({}))];
        let to = [
            api("a", "GET", "/a", json!({})),
            api("b", "GET", "/b", json!({"remark": "new"})),
            api("d", "POST", "/d", json!({})),
        ];
        let result = compare_apis(&from, &to);
        assert_eq!(
            statuses(&result),
            [("a", ChangeKind::Same), ("b", ChangeKind::Changed), ("c", ChangeKind::Removed), ("d", ChangeKind::Added)]
        );
        assert_eq!(result[1].changes, [FieldChange { path: "/remark".into(), old: None, new: Some(json!("new")) }]);
        assert!(result[0].changes.is_empty() && result[2].changes.is_empty() && result[3].changes.is_empty());
    }

    #[test]
    fn times_are_not_part_of_the_definition() {
        let old = api("a", "GET", "/a", json!({}));
        let mut new = old.clone();
        new.update_time += time::Duration::days(3);
        assert_eq!(compare_apis(&[old], &[new])[0].status, ChangeKind::Same);
    }

    #[test]
    fn an_api_under_a_new_id_matches_by_method_and_path() {
        let from = [api("old", "GET", "/pets", json!({}))];
        let to = [api("new", "GET", "/pets", json!({})), api("other", "PUT", "/pets", json!({}))];
        let result = compare_apis(&from, &to);
        assert_eq!(statuses(&result), [("new", ChangeKind::Changed), ("other", ChangeKind::Added)]);
        // The name is derived from the id in this fixture, so the match shows as a rename.
        assert_eq!(result[0].changes[0].path, "/name");
    }

    #[test]
    fn nested_fields_and_array_elements_get_json_pointers() {
        let param = |name: &str| json!({"name": name, "type": "STRING", "location": "QUERY", "required": 2});
        let from = [api(
            "a",
            "GET",
            "/a",
            json!({"mock_info": {"result_content": "hi"},
            "req_params": [param("x")]}),
        )];
        let to = [api(
            "a",
            "GET",
            "/a",
            json!({"mock_info": {"result_content": "bye"},
            "req_params": [param("y"), param("z")]}),
        )];
        let changes = &compare_apis(&from, &to)[0].changes;
        let paths: Vec<&str> = changes.iter().map(|c| c.path.as_str()).collect();
        assert_eq!(paths, ["/mock_info/result_content", "/req_params/0/name", "/req_params/1"]);
        assert_eq!(changes[0].old, Some(json!("hi")));
        assert_eq!(changes[0].new, Some(json!("bye")));
        assert_eq!(changes[2].old, None);
        assert_eq!(changes[2].new.as_ref().and_then(|p| p.get("name")), Some(&json!("z")));
    }

    #[test]
    fn the_times_of_parts_are_not_compared_either() {
        let old = api(
            "a",
            "GET",
            "/a",
            json!({"mock_info": {"result_content": "hi", "update_time": "2026-01-01T00:00:00Z"}}),
        );
        let new = api(
            "a",
            "GET",
            "/a",
            json!({"mock_info": {"result_content": "hi", "update_time": "2026-02-01T00:00:00Z"}}),
        );
        assert_eq!(compare_apis(&[old], &[new])[0].status, ChangeKind::Same);
    }

    #[test]
    fn pointer_tokens_are_escaped() {
        let mut changes = Vec::new();
        diff_values(&mut String::new(), &json!({"a/b~c": 1}), &json!({"a/b~c": 2}), &mut changes);
        assert_eq!(changes[0].path, "/a~1b~0c");
    }

    #[test]
    fn two_empty_sides_compare_to_nothing() {
        assert!(compare_apis(&[], &[]).is_empty());
    }
}
