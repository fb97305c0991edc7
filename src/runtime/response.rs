//! Typed results: [`Response<T>`] (the result with its status, headers and request id) and the
//! decoding of a buffered answer into it — the platform's envelope unwrapped, every decode
//! failure a `Decode` error that names the JSON path and keeps the raw body.

use std::collections::BTreeMap;
use std::fmt;
use std::ops::{Deref, DerefMut};

use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;

use super::config::ClientCore;
use super::error::{Error, ErrorKind, Result, strip_bom};
use super::operation::Operation;
use super::send::Raw;

/// A call's result with what came with it. Dereferences to the result, so
/// `agent.name` works on a `Response<Agent>`.
#[derive(Clone)]
pub struct Response<T> {
    value: T,
    status: StatusCode,
    headers: HeaderMap,
    request_id: Option<String>,
}

impl<T> Response<T> {
    /// The result.
    pub fn into_inner(self) -> T {
        self.value
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The response headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The platform's request id (`x-request-id`), else the one agentwire sent.
    pub fn request_id(&self) -> Option<&str> {
        self.request_id.as_deref()
    }

    /// Applies `f` to the result, keeping status, headers and request id.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Response<U> {
        Response {
            value: f(self.value),
            status: self.status,
            headers: self.headers,
            request_id: self.request_id,
        }
    }
}

impl<T> Deref for Response<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.value
    }
}

impl<T> DerefMut for Response<T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.value
    }
}

impl<T: fmt::Debug> fmt::Debug for Response<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Response")
            .field("value", &self.value)
            .field("status", &self.status)
            .field("request_id", &self.request_id)
            .finish_non_exhaustive()
    }
}

/// The parts of a decoded body: the result's JSON and, where the platform sends it, page meta.
pub(crate) struct Parts<'a> {
    pub result: Option<&'a RawValue>,
    pub meta: Option<&'a RawValue>,
}

/// Splits a success body into its result and meta, checking the envelope.
pub(crate) fn split<'a>(
    core: &ClientCore,
    op: &'static Operation,
    raw: &'a Raw,
) -> Result<Parts<'a>> {
    let body = std::str::from_utf8(strip_bom(&raw.body))
        .map_err(|_| decode_error(core, op, raw, "the body is not UTF-8".into()))?;
    if body.trim().is_empty() {
        return Err(decode_error(
            core,
            op,
            raw,
            format!(
                "the response body was empty (HTTP {}), but {} declares a result",
                raw.status.as_u16(),
                op.id
            ),
        ));
    }
    let envelope = core.platform.envelope.as_ref().filter(|_| op.enveloped);
    let meta_member = op.pagination.and_then(|p| p.meta);
    match envelope {
        Some(env) => {
            let members: BTreeMap<String, &RawValue> = serde_json::from_str(body).map_err(|e| {
                decode_error(
                    core,
                    op,
                    raw,
                    format!("the body is not the platform's JSON envelope: {e}"),
                )
            })?;
            if let Some(missing) = env.required.iter().find(|m| !members.contains_key(**m)) {
                return Err(decode_error(
                    core,
                    op,
                    raw,
                    format!("the envelope has no `{missing}` member"),
                ));
            }
            let result = members.get(env.data).copied().filter(|v| v.get() != "null");
            let meta = members
                .get(meta_member.unwrap_or(env.meta))
                .copied()
                .filter(|v| v.get() != "null");
            Ok(Parts { result, meta })
        }
        None => {
            let whole: &RawValue = serde_json::from_str(body)
                .map_err(|e| decode_error(core, op, raw, format!("the body is not JSON: {e}")))?;
            let meta = match meta_member {
                Some("") => Some(whole),
                Some(m) => {
                    let members: BTreeMap<String, &RawValue> =
                        serde_json::from_str(body).unwrap_or_default();
                    members.get(m).copied()
                }
                None => None,
            };
            Ok(Parts {
                result: Some(whole),
                meta,
            })
        }
    }
}

/// Decodes `json` as `T`, naming the failing path.
pub(crate) fn decode_value<T: DeserializeOwned>(
    core: &ClientCore,
    op: &'static Operation,
    raw: &Raw,
    json: &str,
) -> Result<T> {
    let mut de = serde_json::Deserializer::from_str(json);
    serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let msg = if path == "." {
            format!("the result does not match the documented type: {inner}")
        } else {
            format!("the result does not match the documented type at `{path}`: {inner}")
        };
        decode_error(core, op, raw, msg)
    })
}

/// Decodes a buffered success into `Response<T>`.
pub(crate) fn decode<T: DeserializeOwned>(
    core: &ClientCore,
    op: &'static Operation,
    raw: Raw,
) -> Result<Response<T>> {
    let parts = split(core, op, &raw)?;
    let json = parts.result.map(RawValue::get).unwrap_or("null");
    let value = decode_value(core, op, &raw, json)?;
    Ok(wrap(value, raw))
}

/// Checks a buffered success whose result is empty: any empty body (a 204, a 200 with
/// `Content-Length: 0`, whatever its content type) is `()`; a body that is there must be the
/// platform's envelope (`data: null`) or JSON.
pub(crate) fn decode_empty(
    core: &ClientCore,
    op: &'static Operation,
    raw: Raw,
) -> Result<Response<()>> {
    if !is_empty_body(&raw.body) {
        split(core, op, &raw)?;
    }
    Ok(wrap((), raw))
}

/// No bytes, or only a byte-order mark and white space.
fn is_empty_body(body: &[u8]) -> bool {
    strip_bom(body).iter().all(u8::is_ascii_whitespace)
}

pub(crate) fn wrap<T>(value: T, raw: Raw) -> Response<T> {
    Response {
        value,
        status: raw.status,
        headers: raw.headers,
        request_id: raw.request_id,
    }
}

pub(crate) fn decode_error(
    core: &ClientCore,
    op: &'static Operation,
    raw: &Raw,
    message: String,
) -> Error {
    Error::new(ErrorKind::Decode, message)
        .not_retryable()
        .with_status(raw.status)
        .with_request_id(raw.request_id.clone())
        .with_body(raw.headers.clone(), raw.body.clone())
        .for_op(core.platform, op)
}
