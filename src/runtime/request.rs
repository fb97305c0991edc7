//! What to send: one call of one operation before it is sent — the table entry, the filled-in
//! path, the query, a body that can be produced again for every attempt (so even uploads can be
//! re-sent), and the call's options. The bottom of the request stack: it knows nothing of
//! sending or decoding.

use bytes::Bytes;
use reqwest::header::{HeaderName, HeaderValue};
use std::borrow::Cow;

use super::error::{Error, Result};
use super::operation::Operation;
use super::options::CallOptions;
use super::upload::{FormBody, Upload};

/// The body of a request, in a form that can be sent more than once.
#[derive(Clone)]
pub(crate) enum Body {
    /// No body (and no `Content-Type`).
    Empty,
    /// A JSON document, serialised once.
    Json(Bytes),
    /// A form: multipart (built anew for every attempt, files streamed from disk) or
    /// URL-encoded.
    Form(FormBody),
}

/// One call of one operation, before it is sent.
#[derive(Clone)]
/// One call of one operation, before it is sent. Internal: built by generated code and the
/// runtime only.
#[doc(hidden)]
pub struct Request {
    pub(crate) op: &'static Operation,
    pub(crate) path: String,
    pub(crate) query: Vec<(Cow<'static, str>, String)>,
    pub(crate) body: Body,
    pub(crate) options: CallOptions,
    /// Header parameters of the operation (before the per-call options' headers, which win).
    pub(crate) headers: Vec<(HeaderName, HeaderValue)>,
    /// The absolute URL of an operation sent to one an earlier answer handed out
    /// (`x-agentwire-absolute-url`), instead of its host and path.
    pub(crate) url: Option<String>,
}

impl Request {
    /// A request for `op` at the filled-in `path`, with no query or body.
    pub(crate) fn new(op: &'static Operation, path: String, options: CallOptions) -> Self {
        Request {
            op,
            path,
            query: Vec::new(),
            body: Body::Empty,
            options,
            headers: Vec::new(),
            url: None,
        }
    }

    /// Sends this request to `url` (absolute) instead of its host and path.
    #[allow(
        dead_code,
        reason = "called by generated code of specs with absolute-URL operations only"
    )]
    pub(crate) fn set_url(&mut self, url: String) {
        self.url = Some(url);
    }

    /// Appends a query pair.
    pub(crate) fn push_query(&mut self, name: impl Into<Cow<'static, str>>, value: String) {
        self.query.push((name.into(), value));
    }

    /// Sets a query parameter, replacing any pair with that name (paginators move pages so).
    pub(crate) fn set_query(&mut self, name: &'static str, value: String) {
        self.query.retain(|(n, _)| n != name);
        self.query.push((Cow::Borrowed(name), value));
    }

    /// Removes every pair with this name (a hybrid list moving from its offset to its cursor).
    pub(crate) fn remove_query(&mut self, name: &str) {
        self.query.retain(|(n, _)| n != name);
    }

    /// The value of a query parameter, if set.
    pub(crate) fn query_value(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Adds a header parameter; a value that cannot be a header is `InvalidInput` here, before
    /// anything is sent.
    #[allow(
        dead_code,
        reason = "called by generated code of specs with header parameters only"
    )]
    pub(crate) fn push_header(&mut self, name: &'static str, value: String) -> Result<()> {
        let header = HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
            Error::invalid_input(format!(
                "invalid header name {name:?} in the operation table"
            ))
        })?;
        let value = HeaderValue::from_str(&value).map_err(|_| {
            Error::invalid_input(format!(
                "the `{name}` header parameter holds characters a header cannot"
            ))
        })?;
        self.headers.push((header, value));
        Ok(())
    }

    /// Applies `add` to the form body, started as multipart or URL-encoded if there is none yet.
    fn with_form(&mut self, multipart: bool, add: impl FnOnce(&mut FormBody)) {
        match &mut self.body {
            Body::Form(form) => add(form),
            _ => {
                let mut form = FormBody {
                    multipart,
                    ..FormBody::default()
                };
                add(&mut form);
                self.body = Body::Form(form);
            }
        }
    }

    /// Adds a text field to the form body (`multipart`: a multipart form, else URL-encoded).
    #[allow(
        dead_code,
        reason = "called by generated code of specs with form bodies only"
    )]
    pub(crate) fn form_text(&mut self, multipart: bool, name: &'static str, value: String) {
        self.with_form(multipart, |f| f.text(name, value));
    }

    /// Adds a text field the spec does not name (a form with `additionalProperties`: a
    /// presigned upload's policy fields), to the multipart body.
    #[allow(
        dead_code,
        reason = "called by generated code of specs with open forms only"
    )]
    pub(crate) fn form_extra(&mut self, name: String, value: String) {
        self.with_form(true, |f| f.text(name, value));
    }

    /// Adds a file to the multipart body; `allowed`: the content types the spec allows.
    #[allow(
        dead_code,
        reason = "called by generated code of specs with multipart bodies only"
    )]
    pub(crate) fn form_file(
        &mut self,
        name: &'static str,
        upload: Upload,
        allowed: &'static [&'static str],
    ) {
        self.with_form(true, |f| f.file(name, upload, allowed));
    }

    /// Serialises `body` as the JSON body, in place.
    pub(crate) fn set_json<T: serde::Serialize + ?Sized>(&mut self, body: &T) -> Result<()> {
        let bytes = serde_json::to_vec(body).map_err(|e| {
            Error::invalid_input(format!("the request body cannot be serialised: {e}"))
        })?;
        self.body = Body::Json(Bytes::from(bytes));
        Ok(())
    }
}

impl Request {
    /// Puts the call's idempotency key into the body member its operation names
    /// (`Operation::idempotency_member`), unless the body has one there already (the caller's
    /// wins): the caller's `idempotency_key` option, else a new key. Objects on the way are
    /// created. Done once per call, so every attempt carries the same key.
    pub(crate) fn set_idempotency_member(&mut self) -> Result<()> {
        let Some(member) = self.op.idempotency_member else {
            return Ok(());
        };
        let Body::Json(bytes) = &self.body else {
            return Ok(());
        };
        let mut body: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| {
            Error::invalid_input(format!("the request body cannot be read back: {e}"))
        })?;
        let mut at = &mut body;
        let mut parts = member.split('.').peekable();
        while let Some(part) = parts.next() {
            let Some(object) = at.as_object_mut() else {
                return Err(Error::invalid_input(format!(
                    "{}: `{member}` carries the idempotency key, but the body has no object there",
                    self.op.id
                )));
            };
            if parts.peek().is_none() {
                if object.get(part).is_some_and(|v| !v.is_null()) {
                    return Ok(()); // the caller's own key
                }
                let key = self
                    .options
                    .idempotency_key
                    .clone()
                    .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
                object.insert(part.to_owned(), serde_json::Value::String(key));
                break;
            }
            let next = object
                .entry(part.to_owned())
                .or_insert_with(|| serde_json::Value::Object(Default::default()));
            if next.is_null() {
                *next = serde_json::Value::Object(Default::default());
            }
            at = next;
        }
        self.set_json(&body)
    }

    /// Sets the boolean `member` of the JSON body (a stream's `body-flag`), starting an object
    /// body when there is none. A body that is not a JSON object is `InvalidInput`.
    pub(crate) fn set_body_flag(&mut self, member: &str, value: bool) -> Result<()> {
        let mut object = match &self.body {
            Body::Empty => serde_json::Map::new(),
            Body::Json(bytes) => match serde_json::from_slice(bytes) {
                Ok(serde_json::Value::Object(object)) => object,
                _ => {
                    return Err(Error::invalid_input(format!(
                        "{}: the request body must be a JSON object to carry `{member}`",
                        self.op.id
                    )));
                }
            },
            Body::Form(_) => {
                return Err(Error::invalid_input(format!(
                    "{}: `{member}` goes in a JSON body, not a form",
                    self.op.id
                )));
            }
        };
        object.insert(member.to_owned(), serde_json::Value::Bool(value));
        self.set_json(&object)
    }
}

/// The characters left as they are in a path segment (RFC 3986 unreserved); all else is escaped.
const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// One path parameter, percent-encoded. Empty values, `.` and `..` are refused: they would
/// silently address another route (`/agents/` lists agents instead of fetching one).
pub(crate) fn path_segment(name: &str, value: &str) -> Result<String> {
    if value.is_empty() || value == "." || value == ".." {
        return Err(Error::invalid_input(format!(
            "path parameter `{name}` must not be empty, `.` or `..`"
        )));
    }
    Ok(percent_encoding::utf8_percent_encode(value, SEGMENT).to_string())
}
