//! Tasks the mock runs, so a client resolving acknowledgements works offline end to end.
//!
//! When the default answer of a task operation is an acknowledgement (its status is one of the
//! profile's acknowledgement statuses), the mock makes it a task of its own: a fresh task id
//! (`task_mock_<n>`) in the id member and in every status URL member, and the result remembered —
//! the operation's `<operationId>.result.json` fixture (fitted to the request like a default
//! answer), else none. A poll of the profile's status operation for that id answers the success
//! state with that result (`{"status": "completed", "task_id": ..., "result": ...}`, in the
//! profile's member names; where the profile has no result members, the result fixture itself
//! in the success state). Ids the mock did not issue get the status operation's fixtures, as
//! any request does.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::{Map, Value};

use crate::runtime::operation::{Operation, TaskSpec};

/// The tasks one mock server issued, by id.
#[derive(Debug, Default)]
pub(crate) struct Tasks {
    issued: Mutex<HashMap<String, (&'static TaskSpec, Value)>>,
    next: AtomicU64,
}

impl Tasks {
    /// Makes `ack` (an acknowledgement body of an operation of profile `spec`) a task of the
    /// mock's own, whose result is `result` (`Null`: none).
    pub(crate) fn issue(&self, spec: &'static TaskSpec, ack: &mut Value, result: Value) {
        let Value::Object(ack) = ack else { return };
        let id = format!(
            "task_mock_{}",
            self.next.fetch_add(1, Ordering::Relaxed) + 1
        );
        let recorded = match ack.get(spec.id_member) {
            Some(Value::String(s)) => Some(s.clone()),
            Some(Value::Number(n)) => Some(n.to_string()),
            _ => None,
        };
        ack.insert(spec.id_member.to_owned(), Value::String(id.clone()));
        for member in spec.url_members {
            if let Some(Value::String(url)) = ack.get_mut(*member) {
                *url = match &recorded {
                    Some(old) if !old.is_empty() && url.contains(old.as_str()) => {
                        url.replace(old.as_str(), &id)
                    }
                    // A URL without the recorded id: the status path of the new one.
                    _ => continue,
                };
            }
        }
        if let Ok(mut issued) = self.issued.lock() {
            issued.insert(id, (spec, result));
        }
    }

    /// The status body of a task the mock issued, polled through `op` with task id `id`; `None`
    /// for another id, or when `op` is not its profile's status operation.
    pub(crate) fn status(&self, op: &Operation, id: &str) -> Option<Value> {
        let issued = self.issued.lock().ok()?;
        let (spec, result) = issued.get(id)?;
        if spec.status_operation != op.id {
            return None;
        }
        let state = spec.success.first().copied().unwrap_or("completed");
        // A profile without result members: the whole status body is the result (SketricGen's
        // job), so the result fixture is the status body, in the success state.
        if spec.result_members.is_empty()
            && let Value::Object(result) = result
        {
            let mut body = result.clone();
            body.insert(
                spec.state_member.to_owned(),
                Value::String(state.to_owned()),
            );
            body.insert(spec.id_member.to_owned(), Value::String(id.to_owned()));
            return Some(Value::Object(body));
        }
        let mut body = Map::new();
        body.insert(
            spec.state_member.to_owned(),
            Value::String(state.to_owned()),
        );
        body.insert(spec.id_member.to_owned(), Value::String(id.to_owned()));
        if let (Some(member), false) = (spec.result_members.first(), result.is_null()) {
            body.insert((*member).to_owned(), result.clone());
        }
        Some(Value::Object(body))
    }
}
