//! Typed results: [`Response<T>`] (the result with its status, headers and request id) and the
//! decoding of a buffered answer into it — the platform's envelope unwrapped, every decode
//! failure a `Decode` error that names the JSON path and keeps the raw body.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;

use super::config::ClientCore;
use super::error::{Error, ErrorKind, Result, strip_bom};
use super::operation::Operation;
use super::send::Raw;

/// A call's result with what came with it: the HTTP status, the response headers and the request
/// id. `send()` returns the result itself (its fields move out as from any struct);
/// `send_with_response()` returns this.
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

    /// The result, borrowed.
    pub fn value(&self) -> &T {
        &self.value
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

impl<T: fmt::Debug> fmt::Debug for Response<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Response")
            .field("value", &self.value)
            .field("status", &self.status)
            .field("request_id", &self.request_id)
            .finish_non_exhaustive()
    }
}

/// Where an operation's result and page metadata sit in its success body.
#[derive(Clone, Copy)]
pub(crate) struct Layout<'a> {
    /// The member holding the result; `None`: the whole body is the result.
    pub result: Option<&'a str>,
    /// Within the result, the member holding the items of a list (`None`: the result is them).
    pub items: Option<&'a str>,
    /// The member holding page metadata, if the caller wants it.
    pub meta: Option<&'a str>,
    /// Members every success body must carry (the envelope's).
    pub required: &'a [&'a str],
}

impl Layout<'static> {
    /// The layout of `op`'s success body (its envelope, its list and meta members).
    pub(crate) fn of(op: &'static Operation) -> Self {
        let envelope = op.envelope;
        let style_meta = op.pagination.and_then(|p| p.meta);
        match envelope {
            Some(env) => Layout {
                result: Some(env.data),
                items: op.items,
                meta: op
                    .pagination
                    .map(|_| style_meta.filter(|m| !m.is_empty()).unwrap_or(env.meta)),
                required: env.required,
            },
            None => Layout {
                result: None,
                items: op.items,
                meta: style_meta,
                required: &[],
            },
        }
    }
}

/// A success body decoded in one pass: the typed result (`None` when absent or `null`) and the
/// page metadata, still as JSON text (it is small, and read twice: typed and as `PageInfo`).
pub(crate) struct Decoded<'b, T> {
    pub result: Option<T>,
    pub meta: Option<&'b RawValue>,
}

/// Decodes a success body by its layout in one pass with plain serde: no intermediate map, no
/// path tracking. Only when that fails is the body decoded again, tracking the path, so the
/// error can name the field.
pub(crate) fn decode_body<'b, T: DeserializeOwned>(
    core: &ClientCore,
    op: &'static Operation,
    raw: &'b Raw,
    layout: Layout<'_>,
) -> Result<Decoded<'b, T>> {
    let body = strip_bom(&raw.body);
    if body.iter().all(u8::is_ascii_whitespace) {
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
    // The whole body is both result and meta (a bare list page with its counters inline):
    // the one shape a single pass cannot serve.
    if layout.result.is_none() && layout.meta == Some("") {
        let whole: &RawValue =
            parse(body).map_err(|e| decode_failure::<T>(core, op, raw, layout, e))?;
        let result = decode_result::<T>(whole.get().as_bytes(), layout.items)
            .map_err(|e| decode_failure::<T>(core, op, raw, layout, e))?;
        return Ok(Decoded {
            result,
            meta: Some(whole),
        });
    }
    let seed = BodySeed::<T> {
        layout,
        _result: PhantomData,
    };
    let mut de = serde_json::Deserializer::from_slice(body);
    let fast = serde::de::DeserializeSeed::deserialize(seed, &mut de).and_then(|d| {
        de.end()?;
        Ok(d)
    });
    match fast {
        Ok(Ok(decoded)) => Ok(decoded),
        Ok(Err(missing)) => Err(decode_error(
            core,
            op,
            raw,
            format!("the envelope has no `{missing}` member"),
        )),
        Err(e) => Err(decode_failure::<T>(core, op, raw, layout, e)),
    }
}

fn parse(body: &[u8]) -> serde_json::Result<&RawValue> {
    serde_json::from_slice(body)
}

/// The result from its JSON (`items`: the member holding a list's items).
fn decode_result<T: DeserializeOwned>(
    json: &[u8],
    items: Option<&str>,
) -> serde_json::Result<Option<T>> {
    let mut de = serde_json::Deserializer::from_slice(json);
    let value = serde::de::DeserializeSeed::deserialize(ResultSeed::<T>::new(items), &mut de)?;
    de.end()?;
    Ok(value)
}

/// Decodes the body again with path tracking, for an error that names where it failed.
fn decode_failure<T: DeserializeOwned>(
    core: &ClientCore,
    op: &'static Operation,
    raw: &Raw,
    layout: Layout<'_>,
    fast_error: serde_json::Error,
) -> Error {
    let body = strip_bom(&raw.body);
    if fast_error.is_syntax() || fast_error.is_eof() {
        let why = if std::str::from_utf8(body).is_err() {
            "the body is not UTF-8".to_owned()
        } else {
            format!("the body is not JSON: {fast_error}")
        };
        return decode_error(core, op, raw, why);
    }
    let mut de = serde_json::Deserializer::from_slice(body);
    let mut track = serde_path_to_error::Track::new();
    let seed = BodySeed::<T> {
        layout,
        _result: PhantomData,
    };
    let traced = serde::de::DeserializeSeed::deserialize(
        seed,
        serde_path_to_error::Deserializer::new(&mut de, &mut track),
    );
    let path = track.path().to_string();
    let inner = traced.err().unwrap_or(fast_error);
    let message = if path == "." || path.is_empty() {
        format!("the result does not match the documented type: {inner}")
    } else {
        format!("the result does not match the documented type at `{path}`: {inner}")
    };
    decode_error(core, op, raw, message)
}

/// The top-level body: picks the result and meta members out of the object as it goes.
struct BodySeed<'l, T> {
    layout: Layout<'l>,
    _result: PhantomData<fn() -> T>,
}

/// `Ok(Err(member))`: a required envelope member is missing.
type BodyOutcome<'b, T> = std::result::Result<Decoded<'b, T>, String>;

impl<'de, T: DeserializeOwned> serde::de::DeserializeSeed<'de> for BodySeed<'_, T> {
    type Value = BodyOutcome<'de, T>;

    fn deserialize<D: serde::Deserializer<'de>>(
        self,
        d: D,
    ) -> std::result::Result<Self::Value, D::Error> {
        match self.layout.result {
            // The whole body is the result; no envelope, no meta member to pick out... unless a
            // meta member sits beside the items.
            None if self.layout.meta.is_none() => {
                let result = ResultSeed::<T>::new(self.layout.items).deserialize(d)?;
                Ok(Ok(Decoded { result, meta: None }))
            }
            _ => d.deserialize_map(self),
        }
    }
}

impl<'de, T: DeserializeOwned> serde::de::Visitor<'de> for BodySeed<'_, T> {
    type Value = BodyOutcome<'de, T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object (the platform's success body)")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(
        self,
        mut map: A,
    ) -> std::result::Result<Self::Value, A::Error> {
        let layout = self.layout;
        let mut result = None;
        let mut meta = None;
        // Bit i: required member i was present (an envelope names a handful).
        let mut present: u64 = 0;
        // Without a result member the object is a list with its meta beside the items.
        let items_here = layout.result.is_none();
        let mut items_found = None;
        while let Some(Key(key)) = map.next_key::<Key<'de>>()? {
            if let Some(i) = layout.required.iter().position(|r| *r == key) {
                present |= 1u64.checked_shl(i as u32).unwrap_or(0);
            }
            if Some(key.as_ref()) == layout.result {
                result = map.next_value_seed(ResultSeed::<T>::new(layout.items))?;
            } else if items_here && Some(key.as_ref()) == layout.items {
                items_found = map.next_value_seed(ResultSeed::<T>::new(None))?;
            } else if Some(key.as_ref()) == layout.meta {
                let value: &'de RawValue = map.next_value()?;
                meta = (value.get() != "null").then_some(value);
            } else {
                map.next_value::<serde::de::IgnoredAny>()?;
            }
        }
        if let Some(missing) = layout
            .required
            .iter()
            .enumerate()
            .find(|(i, _)| present & 1u64.checked_shl(*i as u32).unwrap_or(0) == 0)
        {
            return Ok(Err(missing.1.to_string()));
        }
        if items_here {
            result = items_found;
        }
        Ok(Ok(Decoded { result, meta }))
    }
}

/// The result: `null` is `None`; with `items`, the list inside that member of the result.
struct ResultSeed<'i, T> {
    items: Option<&'i str>,
    _result: PhantomData<fn() -> T>,
}

impl<'i, T> ResultSeed<'i, T> {
    fn new(items: Option<&'i str>) -> Self {
        ResultSeed {
            items,
            _result: PhantomData,
        }
    }
}

impl<'de, T: DeserializeOwned> serde::de::DeserializeSeed<'de> for ResultSeed<'_, T> {
    type Value = Option<T>;

    fn deserialize<D: serde::Deserializer<'de>>(
        self,
        d: D,
    ) -> std::result::Result<Self::Value, D::Error> {
        match self.items {
            None => Option::<T>::deserialize(d),
            Some(_) => d.deserialize_option(self),
        }
    }
}

impl<'de, T: DeserializeOwned> serde::de::Visitor<'de> for ResultSeed<'_, T> {
    type Value = Option<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object holding the list")
    }

    fn visit_none<E>(self) -> std::result::Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_unit<E>(self) -> std::result::Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_some<D: serde::Deserializer<'de>>(
        self,
        d: D,
    ) -> std::result::Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(
        self,
        mut map: A,
    ) -> std::result::Result<Self::Value, A::Error> {
        let mut found = None;
        while let Some(Key(key)) = map.next_key::<Key<'de>>()? {
            if Some(key.as_ref()) == self.items {
                found = map.next_value::<Option<T>>()?;
            } else {
                map.next_value::<serde::de::IgnoredAny>()?;
            }
        }
        Ok(found)
    }
}

/// An object key, borrowed from the body when it has no escapes.
struct Key<'de>(Cow<'de, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a member name")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> std::result::Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> std::result::Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v.to_owned())))
            }
        }
        d.deserialize_str(V)
    }
}

/// Decodes a buffered success into `Response<T>`.
pub(crate) fn decode<T: DeserializeOwned>(
    core: &ClientCore,
    op: &'static Operation,
    raw: Raw,
) -> Result<Response<T>> {
    check_outcome(core, op, &raw)?;
    let result = decode_body::<T>(core, op, &raw, Layout::of(op))?.result;
    let value = match result {
        Some(value) => value,
        // Absent or `null`: fine for a type that has a null (`()`, `Option`), else an error.
        None => T::deserialize(serde_json::Value::Null).map_err(|_| {
            decode_error(
                core,
                op,
                &raw,
                format!("the result is missing or null, but {} declares one", op.id),
            )
        })?,
    };
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
        decode_body::<serde::de::IgnoredAny>(core, op, &raw, Layout::of(op))?;
    }
    Ok(wrap((), raw))
}

/// No bytes, or only a byte-order mark and white space.
pub(crate) fn is_empty_body(body: &[u8]) -> bool {
    strip_bom(body).iter().all(u8::is_ascii_whitespace)
}

/// Checks a 2xx answer against what the operation declares, before anything is decoded: the
/// declared success status, and a JSON content type (or none: many servers omit it). Anything
/// else is a `Decode` error naming the status and the content type, with the body kept — never
/// decoded as the result.
pub(crate) fn check_declared(core: &ClientCore, op: &'static Operation, raw: &Raw) -> Result<()> {
    check_json(core, op, raw, true)
}

/// As [`check_declared`], with `exact_status` false: any 2xx will do (a task operation's
/// final result may come with whatever success status the platform chose).
pub(crate) fn check_json(
    core: &ClientCore,
    op: &'static Operation,
    raw: &Raw,
    exact_status: bool,
) -> Result<()> {
    let content_type = raw
        .headers
        .get(reqwest::header::CONTENT_TYPE)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    let json = content_type.as_deref().is_none_or(is_json_type);
    let status_ok = if exact_status {
        raw.status.as_u16() == op.success_status
    } else {
        raw.status.is_success()
    };
    if status_ok && json {
        return Ok(());
    }
    let shown = content_type.as_deref().unwrap_or("no content type");
    let empty = if is_empty_body(&raw.body) {
        " with an empty body"
    } else {
        ""
    };
    let why = if json {
        format!(
            "the answer is HTTP {}{empty}, but {} declares {}; it is not read as the result",
            raw.status.as_u16(),
            op.id,
            op.success_status
        )
    } else {
        format!(
            "the answer (HTTP {}) is `{shown}`, not the JSON {} declares; it is not read as the result",
            raw.status.as_u16(),
            op.id
        )
    };
    Err(decode_error(core, op, raw, why))
}

/// `application/json`, `text/json` and any `+json` type, whatever the parameters and case.
fn is_json_type(content_type: &str) -> bool {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    essence == "application/json" || essence == "text/json" || essence.ends_with("+json")
}

/// An answer with no body to decode (an optional result's documented `404`), from the parts
/// of the error it arrived as.
pub(crate) fn from_parts<T>(
    value: T,
    status: StatusCode,
    headers: HeaderMap,
    request_id: Option<String>,
) -> Response<T> {
    Response {
        value,
        status,
        headers,
        request_id,
    }
}

/// Checks a text or bytes answer: the declared success status and, for text, a text content
/// type (or none). The body is kept whole.
pub(crate) fn check_content(
    core: &ClientCore,
    op: &'static Operation,
    raw: &Raw,
    text: bool,
) -> Result<()> {
    let content_type = raw
        .headers
        .get(reqwest::header::CONTENT_TYPE)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).to_ascii_lowercase());
    let texty = content_type.as_deref().is_none_or(|ct| {
        let essence = ct.split(';').next().unwrap_or_default().trim();
        essence.starts_with("text/")
            || essence.ends_with("javascript")
            || essence.ends_with("json")
            || essence.ends_with("xml")
    });
    if raw.status.as_u16() != op.success_status {
        return Err(decode_error(
            core,
            op,
            raw,
            format!(
                "the answer is HTTP {}, but {} declares {}; it is not read as the result",
                raw.status.as_u16(),
                op.id,
                op.success_status
            ),
        ));
    }
    if text && !texty {
        return Err(decode_error(
            core,
            op,
            raw,
            format!(
                "the answer is `{}`, not the text {} declares",
                content_type.unwrap_or_default(),
                op.id
            ),
        ));
    }
    Ok(())
}

/// A text answer as a `String` (one leading byte-order mark dropped); bytes that are not UTF-8
/// are a `Decode` error, the body kept.
pub(crate) fn decode_text(
    core: &ClientCore,
    op: &'static Operation,
    raw: Raw,
) -> Result<Response<String>> {
    match std::str::from_utf8(strip_bom(&raw.body)) {
        Ok(text) => {
            let text = text.to_owned();
            Ok(wrap(text, raw))
        }
        Err(e) => Err(decode_error(
            core,
            op,
            &raw,
            format!("the text answer is not UTF-8 (at byte {})", e.valid_up_to()),
        )),
    }
}

pub(crate) fn wrap<T>(value: T, raw: Raw) -> Response<T> {
    Response {
        value,
        status: raw.status,
        headers: raw.headers,
        request_id: raw.request_id,
    }
}

/// A success that reports a failure in its body (`x-agentwire-outcome`: Wisebot's workflow
/// run answers `200 {ok: false, error, runId}`) is a `Task` error: the run failed
/// ([`Error::task_failed`]), [`Error::task_id`] is the run's id, the message the body's error
/// (a string, or an object's `message`), the body kept.
fn check_outcome(core: &ClientCore, op: &'static Operation, raw: &Raw) -> Result<()> {
    let Some(outcome) = op.outcome else {
        return Ok(());
    };
    let Ok(serde_json::Value::Object(body)) =
        serde_json::from_slice::<serde_json::Value>(strip_bom(&raw.body))
    else {
        return Ok(()); // not JSON: the decode says so
    };
    if body.get(outcome.ok_member) != Some(&serde_json::Value::Bool(false)) {
        return Ok(());
    }
    let message = outcome
        .error_member
        .and_then(|m| body.get(m))
        .and_then(|e| match e {
            serde_json::Value::String(s) => Some(s.clone()),
            serde_json::Value::Object(o) => o
                .get("message")
                .and_then(serde_json::Value::as_str)
                .map(str::to_owned),
            serde_json::Value::Null => None,
            other => Some(other.to_string()),
        })
        .unwrap_or_else(|| format!("the platform reported `{}: false`", outcome.ok_member));
    let id = outcome
        .id_member
        .and_then(|m| body.get(m))
        .and_then(serde_json::Value::as_str);
    Err(Error::new(ErrorKind::Task, message)
        .task_failure()
        .with_task_id(id)
        .not_retryable()
        .with_status(raw.status)
        .with_request_id(raw.request_id.clone())
        .with_body(raw.headers.clone(), raw.body.clone())
        .for_op(core.platform, op))
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
