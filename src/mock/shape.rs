//! Fitting an operation's default success fixture to the request it answers, so that a client
//! developing against the mock sees coherent answers rather than one recorded example:
//!
//! - the path parameters of the fixture's recorded request are replaced by the request's, in
//!   the answer too (`GET /agents/a_2` answers agent `a_2`, not the recorded `a_1`);
//! - on a write, each top-level member of the request body replaces the member of the same name
//!   and JSON type in the result (`POST /agents {"name": "Trial"}` answers an agent named
//!   `Trial`) — not in a task's acknowledgement, which is not the result (the task's result is
//!   fitted instead: see `tasks`);
//! - on a list, a page, offset or cursor other than the recorded one gets an empty last page
//!   (past the recorded pages there is nothing, and a client looping on has-next stops).
//!
//! Recorded fixtures that match a request (step 2 of the module docs) are served as recorded;
//! only the default answer is fitted.

use serde_json::Value;

use super::fixture::FixtureRequest;
use crate::runtime::operation::{Operation, PageKind, match_template};

/// Values deeper than this are left as they are (fixtures are far shallower).
const MAX_DEPTH: usize = 64;

/// Fits `body` (the default fixture's response body, for a request to `rel` with `query` and
/// JSON `request_body`) to the request; `recorded` is the fixture's request. `overlay_body`:
/// whether a write's body members go into the answer (not into a task's acknowledgement).
pub(crate) fn fit(
    op: &Operation,
    body: &mut Value,
    recorded: &FixtureRequest,
    rel: &str,
    query: &std::collections::BTreeMap<String, String>,
    request_body: &Value,
    overlay_body: bool,
) {
    let (recorded_path, recorded_query) = (recorded.path.as_str(), &recorded.query);
    // 1. Path parameters.
    if let (Some((_, recorded)), Some((_, actual))) = (
        match_template(op.path, recorded_path),
        match_template(op.path, rel),
    ) {
        for ((_, was), (_, now)) in recorded.iter().zip(&actual) {
            if was != now {
                replace_strings(body, was, now, 0);
            }
        }
    }
    let (result_member, meta_member) = members(op);
    // 2. A write's body, member by member.
    if op.method.is_write()
        && overlay_body
        && let Value::Object(sent) = request_body
        && let Some(Value::Object(result)) = member_mut(body, result_member)
    {
        for (name, value) in sent {
            if let Some(slot) = result.get_mut(name)
                && same_type(slot, value)
            {
                *slot = value.clone();
            }
        }
    }
    // 3. A page other than the recorded one: an empty last page.
    if let Some(style) = op.pagination {
        let asked = query.get(style.page_param);
        if asked.is_some() && asked != recorded_query.get(style.page_param) {
            let items = op.items;
            if let Some(result) = member_mut(body, result_member) {
                match (items, result) {
                    (Some(items), Value::Object(obj)) => {
                        obj.insert(items.to_owned(), Value::Array(Vec::new()));
                    }
                    (None, result) => *result = Value::Array(Vec::new()),
                    _ => {}
                }
            }
            if let Some(Value::Object(meta)) = member_mut(body, meta_member) {
                let mut set = |name: Option<&str>, value: Value| {
                    if let Some(name) = name
                        && meta.contains_key(name)
                    {
                        meta.insert(name.to_owned(), value);
                    }
                };
                set(style.has_next, Value::Bool(false));
                set(style.next_cursor, Value::Null);
                if style.kind == PageKind::Page
                    && let Some(n) = asked.and_then(|a| a.parse::<i64>().ok())
                {
                    set(style.current, Value::from(n));
                    set(style.has_previous, Value::Bool(n > 1));
                }
            }
        }
    }
}

/// Where the result and the page metadata sit: `None` for "the body itself".
fn members(op: &Operation) -> (Option<&'static str>, Option<&'static str>) {
    let style_meta = op.pagination.and_then(|p| p.meta);
    match op.envelope {
        Some(env) => (
            Some(env.data),
            Some(style_meta.filter(|m| !m.is_empty()).unwrap_or(env.meta)),
        ),
        None => (None, style_meta.filter(|m| !m.is_empty())),
    }
}

fn member_mut<'v>(body: &'v mut Value, member: Option<&str>) -> Option<&'v mut Value> {
    match member {
        None => Some(body),
        Some(name) => body.as_object_mut()?.get_mut(name),
    }
}

/// Whether a request value may stand in for a recorded one (a `null` takes anything).
fn same_type(recorded: &Value, sent: &Value) -> bool {
    matches!(
        (recorded, sent),
        (Value::Null, _)
            | (Value::String(_), Value::String(_))
            | (Value::Number(_), Value::Number(_))
            | (Value::Bool(_), Value::Bool(_))
            | (Value::Array(_), Value::Array(_))
            | (Value::Object(_), Value::Object(_))
    ) && !sent.is_null()
}

/// Replaces every string equal to `was` by `now`, anywhere in `value`.
fn replace_strings(value: &mut Value, was: &str, now: &str, depth: usize) {
    if depth > MAX_DEPTH {
        return;
    }
    match value {
        Value::String(s) if s == was => *s = now.to_owned(),
        Value::Array(items) => items
            .iter_mut()
            .for_each(|v| replace_strings(v, was, now, depth + 1)),
        Value::Object(map) => map
            .values_mut()
            .for_each(|v| replace_strings(v, was, now, depth + 1)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn strings_are_replaced_at_any_depth_and_only_when_equal() {
        let mut v = json!({"id": "a_1", "nested": [{"agent_id": "a_1"}, "a_10"]});
        replace_strings(&mut v, "a_1", "a_2", 0);
        assert_eq!(
            v,
            json!({"id": "a_2", "nested": [{"agent_id": "a_2"}, "a_10"]})
        );
    }

    #[test]
    fn only_values_of_the_same_type_stand_in() {
        assert!(same_type(&json!("x"), &json!("y")));
        assert!(same_type(&json!(null), &json!(3)));
        assert!(!same_type(&json!("x"), &json!(3)));
        assert!(!same_type(&json!("x"), &json!(null)));
    }
}
