//! Replays fixtures' requests against a live API (`agentwire contract record`): the one request
//! path sends them with the configured credentials, and the answers come back with every secret
//! replaced by `***` before anything is written or compared: in header values, in body values
//! and member names (a server may echo a key as a key), in text bodies and transport errors. A
//! difference computed from a [`Recorded`] answer therefore cannot carry a secret either, and
//! [`Recorder::redact`] is there for anything else a caller prints.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::Value;

use crate::mock::Fixture;
use crate::runtime::config::{ClientBuilder, ClientCore};
use crate::runtime::operation::{Operation, Platform};
use crate::runtime::options::CallOptions;
use crate::runtime::request::Request;
use crate::runtime::send::send;

/// Response headers worth keeping in a fixture; the rest (cookies, tracing) are dropped.
const KEPT_HEADERS: &[&str] = &[
    "content-type",
    "x-request-id",
    "retry-after",
    "retry-after-ms",
    "x-ratelimit-limit",
    "x-ratelimit-remaining",
    "x-ratelimit-reset",
];

/// What the live API answered, secrets already removed.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Recorded {
    /// The status (0 when no answer came).
    pub status: u16,
    /// The kept headers.
    pub headers: BTreeMap<String, String>,
    /// The body, when it was JSON.
    pub body: Option<Value>,
    /// The body, when it was not JSON (or the transport error, when no answer came).
    pub text: Option<String>,
}

/// Sends fixtures' requests to a live API.
pub struct Recorder {
    core: Arc<ClientCore>,
    secrets: Vec<String>,
}

impl std::fmt::Debug for Recorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recorder")
            .field("secrets", &self.secrets.len())
            .finish()
    }
}

impl Recorder {
    /// A recorder for `platform` at `base_url`, with credentials by the names the platform's
    /// spec gives them (`api_key`). No retries: each request is sent once.
    pub fn new(
        platform: &'static Platform,
        base_url: &str,
        credentials: &[(&str, String)],
    ) -> Result<Self, String> {
        let mut builder = ClientBuilder::<()>::new().base_url(base_url).max_retries(0);
        for (name, value) in credentials {
            if platform.credential(name).is_none() {
                return Err(format!(
                    "{} takes no credential named {name}",
                    platform.display_name
                ));
            }
            builder = builder.credential(name, value.clone());
        }
        let core = builder.build_core(platform).map_err(|e| e.to_string())?;
        // Each secret as sent, and percent-encoded as it would appear echoed in a URL; longest
        // first, so that a secret containing another is replaced whole.
        let mut secrets: Vec<String> = Vec::new();
        for (_, value) in credentials.iter().filter(|(_, v)| v.len() >= 4) {
            let encoded =
                percent_encoding::utf8_percent_encode(value, percent_encoding::NON_ALPHANUMERIC)
                    .to_string();
            for form in [value.clone(), encoded] {
                if !secrets.contains(&form) {
                    secrets.push(form);
                }
            }
        }
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        Ok(Recorder { core, secrets })
    }

    /// `text` with every secret this recorder sends replaced by `***`.
    pub fn redact(&self, text: &str) -> String {
        self.scrub(text)
    }

    /// Sends `fixture`'s request for `op` and returns the redacted answer.
    pub async fn replay(&self, op: &'static Operation, fixture: &Fixture) -> Recorded {
        let mut req = Request::new(
            op,
            fixture.request.path.clone(),
            CallOptions::new().max_retries(0),
        );
        for (name, value) in &fixture.request.query {
            req.push_query(name.clone(), value.clone());
        }
        if let Some(body) = fixture.request.body.as_ref().filter(|b| !b.is_null())
            && let Err(e) = req.set_json(body)
        {
            return self.no_answer(e.to_string());
        }
        match send(&self.core, &req).await {
            Ok(raw) => self.redacted(raw.status.as_u16(), &raw.headers, &raw.body),
            Err(e) => match (e.status(), e.headers(), e.body()) {
                (Some(status), Some(headers), Some(body)) => {
                    self.redacted(status.as_u16(), headers, body)
                }
                _ => self.no_answer(e.to_string()),
            },
        }
    }

    fn no_answer(&self, why: String) -> Recorded {
        Recorded {
            status: 0,
            headers: BTreeMap::new(),
            body: None,
            text: Some(self.scrub(&why)),
        }
    }

    fn redacted(&self, status: u16, headers: &reqwest::header::HeaderMap, body: &[u8]) -> Recorded {
        let headers = KEPT_HEADERS
            .iter()
            .filter_map(|name| {
                let value = headers.get(*name)?.to_str().ok()?;
                Some((name.to_string(), self.scrub(value)))
            })
            .collect();
        let (body, text) = match serde_json::from_slice::<Value>(body) {
            Ok(mut json) => {
                self.scrub_json(&mut json);
                (Some(json), None)
            }
            Err(_) if body.is_empty() => (None, None),
            Err(_) => (None, Some(self.scrub(&String::from_utf8_lossy(body)))),
        };
        Recorded {
            status,
            headers,
            body,
            text,
        }
    }

    fn scrub(&self, text: &str) -> String {
        self.secrets.iter().fold(text.to_string(), |acc, secret| {
            acc.replace(secret.as_str(), "***")
        })
    }

    /// Redacts string values and member names. (Recursive: the value comes from serde_json's
    /// parser, at most 128 levels deep.)
    fn scrub_json(&self, value: &mut Value) {
        match value {
            Value::String(s) => *s = self.scrub(s),
            Value::Array(items) => items.iter_mut().for_each(|v| self.scrub_json(v)),
            Value::Object(map) => {
                let mut renamed = Vec::new();
                for (name, mut member) in std::mem::take(map) {
                    self.scrub_json(&mut member);
                    let redacted = self.scrub(&name);
                    if redacted == name {
                        map.insert(name, member);
                    } else {
                        renamed.push((redacted, member));
                    }
                }
                // A redacted name never replaces another member: `***` beside a literal `***`
                // becomes `****`.
                for (mut name, member) in renamed {
                    while map.contains_key(&name) {
                        name.push('*');
                    }
                    map.insert(name, member);
                }
            }
            _ => {}
        }
    }
}

#[cfg(all(test, feature = "bimpeai"))]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn names_values_and_encoded_forms_are_redacted_without_losing_a_member() {
        let key = "sk+live/42";
        let recorder = Recorder::new(
            &crate::bimpeai::PLATFORM,
            "http://127.0.0.1:9",
            &[("api_key", key.to_string())],
        )
        .expect("a recorder");
        let mut body = json!({
            "***": "literal",
            key: {"nested": [key, format!("pre {key} post")]},
            format!("x_{key}"): 1,
        });
        recorder.scrub_json(&mut body);
        assert_eq!(
            body,
            json!({
                "***": "literal",
                "****": {"nested": ["***", "pre *** post"]},
                "x_***": 1,
            })
        );
        assert_eq!(
            recorder.redact("GET /echo?key=sk%2Blive%2F42 and sk+live/42"),
            "GET /echo?key=*** and ***"
        );
    }
}
