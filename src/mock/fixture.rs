//! Fixtures: one recorded exchange per file (`fixtures/<platform>/<operation>[.<case>].json`),
//! the format fixtures/README.md describes. Read by the mock, the contract suite and the tests.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One recorded exchange.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Fixture {
    /// The spec's operationId.
    pub operation: String,
    /// What the case shows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// What the client sends.
    pub request: FixtureRequest,
    /// The answer (or use `responses` for a sequence).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response: Option<FixtureResponse>,
    /// Answers played in order on successive matching requests; the last repeats.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub responses: Vec<FixtureResponse>,
    /// The file it came from (not part of the JSON).
    #[serde(skip)]
    pub file: String,
}

/// The request side of a fixture.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct FixtureRequest {
    /// `GET`, `POST`, ...
    pub method: String,
    /// The concrete path relative to the host's base URL.
    pub path: String,
    /// Query parameters, as on the wire.
    #[serde(default)]
    pub query: BTreeMap<String, String>,
    /// Headers that matter for the case (lower-case names).
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// The JSON body, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<Value>,
    /// A form body (multipart or URL-encoded), if any: its fields as a JSON object, a file as
    /// its file name (several files: a list of names).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub form: Option<Value>,
}

/// The response side of a fixture.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct FixtureResponse {
    /// The HTTP status.
    pub status: u16,
    /// Headers as sent.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// A JSON body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<Value>,
    /// A raw text body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// A Server-Sent-Events body: one string, or several chunks sent one by one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sse: Option<SseBody>,
    /// How a stream (`sse`) goes on after its recorded events: `close` (closed cleanly), `drop`
    /// (the connection is cut) or `hang` (silence, the connection open). Absent (or `open`): it
    /// stays open like the platform's, sending the platform's heartbeat until the client goes
    /// away.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<String>,
    /// Milliseconds to wait before answering.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay_ms: Option<u64>,
}

/// An SSE body, whole or in chunks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum SseBody {
    /// The body as one text.
    Text(String),
    /// The body as chunks, each written separately.
    Chunks(Vec<String>),
}

impl SseBody {
    /// The chunks to write.
    pub fn chunks(&self) -> Vec<String> {
        match self {
            SseBody::Text(t) => vec![t.clone()],
            SseBody::Chunks(c) => c.clone(),
        }
    }
}

impl FixtureResponse {
    /// A JSON answer.
    pub fn json(status: u16, body: Value) -> Self {
        FixtureResponse {
            status,
            headers: BTreeMap::new(),
            body: Some(body),
            text: None,
            sse: None,
            end: None,
            delay_ms: None,
        }
    }

    /// An SSE answer, written in these chunks, then closed cleanly (`end` `close`; change it
    /// with [`FixtureResponse::end`], `"open"` to keep the stream open with heartbeats).
    pub fn sse(chunks: Vec<String>) -> Self {
        FixtureResponse {
            status: 200,
            headers: BTreeMap::from([("content-type".into(), "text/event-stream".into())]),
            body: None,
            text: None,
            sse: Some(SseBody::Chunks(chunks)),
            end: Some("close".into()),
            delay_ms: None,
        }
    }

    /// Adds a header.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers
            .insert(name.to_ascii_lowercase(), value.to_owned());
        self
    }

    /// Sets how a stream goes on after its events: `close`, `drop`, `hang` or `open`.
    pub fn end(mut self, end: &str) -> Self {
        self.end = Some(end.to_owned());
        self
    }

    /// Waits this long before answering.
    pub fn delay_ms(mut self, ms: u64) -> Self {
        self.delay_ms = Some(ms);
        self
    }
}

/// Why a fixture file is not a fixture: the file, where in it, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct FixtureError {
    /// The file, as given to [`Fixture::parse_bytes`].
    pub file: String,
    /// Where in the file, as a JSON pointer (`/response/headers/x-request-id`); empty for the
    /// file as a whole (bytes that are not UTF-8, text that is not JSON).
    pub pointer: String,
    /// The rule: `utf-8`, `json` (not JSON, or not the fixture format), `response` (no answer)
    /// or `header` (a header the HTTP wire cannot carry).
    pub rule: String,
    /// What is wrong.
    pub message: String,
}

impl std::fmt::Display for FixtureError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.pointer.is_empty() {
            write!(f, "{}: {}", self.file, self.message)
        } else {
            write!(f, "{}: {}: {}", self.file, self.pointer, self.message)
        }
    }
}

impl std::error::Error for FixtureError {}

impl From<FixtureError> for String {
    fn from(e: FixtureError) -> String {
        e.to_string()
    }
}

/// Escapes one JSON-pointer token (RFC 6901).
fn pointer_token(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

/// Why a header cannot go on the HTTP wire as written, if it cannot: a name that is not an
/// RFC 9110 token, or a value holding a control character other than a tab (CR or LF would end
/// the header; the mock's HTTP library refuses the header instead).
fn header_problem(name: &str, value: &str) -> Option<String> {
    let token = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c);
    if name.is_empty() || !name.chars().all(token) {
        return Some(format!("{name:?} is not a valid HTTP header name"));
    }
    if value.contains(['\r', '\n']) {
        return Some(format!(
            "the value of header `{name}` holds a line break (CR or LF), which no HTTP header value can"
        ));
    }
    value
        .chars()
        .find(|c| (c.is_ascii_control() && *c != '\t') || *c == '\u{7f}')
        .map(|c| {
            format!(
                "the value of header `{name}` holds the control character U+{:04X}, which no HTTP header value can",
                u32::from(c)
            )
        })
}

impl Fixture {
    /// Parses one fixture file's text; the error as a line (`file: pointer: message`). See
    /// [`Fixture::parse_bytes`].
    pub fn parse(file: &str, json: &str) -> Result<Fixture, String> {
        Self::parse_bytes(file, json.as_bytes()).map_err(String::from)
    }

    /// Parses one fixture file's bytes (`file` names it in errors). They must be UTF-8 (an
    /// invalid byte is reported with its byte offset and line), JSON in the fixture format, with
    /// at least one answer and only headers the HTTP wire can carry (the header's JSON pointer
    /// is reported).
    pub fn parse_bytes(file: &str, bytes: &[u8]) -> Result<Fixture, FixtureError> {
        let error = |pointer: String, rule: &str, message: String| FixtureError {
            file: file.to_owned(),
            pointer,
            rule: rule.to_owned(),
            message,
        };
        let text = std::str::from_utf8(bytes).map_err(|e| {
            let offset = e.valid_up_to();
            let line = bytes.iter().take(offset).filter(|b| **b == b'\n').count() + 1;
            let byte = bytes.get(offset).copied().unwrap_or_default();
            error(
                String::new(),
                "utf-8",
                format!("not UTF-8: byte 0x{byte:02x} at byte offset {offset} (line {line})"),
            )
        })?;
        let mut f: Fixture =
            serde_json::from_str(text).map_err(|e| error(String::new(), "json", e.to_string()))?;
        if f.response.is_none() && f.responses.is_empty() {
            return Err(error(
                String::new(),
                "response",
                "a fixture needs `response` or `responses`".into(),
            ));
        }
        let mut headers: Vec<(String, &BTreeMap<String, String>)> =
            vec![("/request/headers".into(), &f.request.headers)];
        if let Some(r) = &f.response {
            headers.push(("/response/headers".into(), &r.headers));
        }
        for (i, r) in f.responses.iter().enumerate() {
            headers.push((format!("/responses/{i}/headers"), &r.headers));
        }
        for (at, map) in headers {
            for (name, value) in map {
                if let Some(problem) = header_problem(name, value) {
                    return Err(error(
                        format!("{at}/{}", pointer_token(name)),
                        "header",
                        problem,
                    ));
                }
            }
        }
        f.file = file.to_owned();
        Ok(f)
    }

    /// A fixture for `operation` answering `method path` with `response`.
    pub fn new(operation: &str, method: &str, path: &str, response: FixtureResponse) -> Self {
        Fixture {
            operation: operation.to_owned(),
            title: None,
            request: FixtureRequest {
                method: method.to_owned(),
                path: path.to_owned(),
                query: BTreeMap::new(),
                headers: BTreeMap::new(),
                body: None,
                form: None,
            },
            response: Some(response),
            responses: Vec::new(),
            file: String::from("<registered>"),
        }
    }

    /// Plays these answers in order instead of one (the last repeats).
    pub fn with_sequence(mut self, responses: Vec<FixtureResponse>) -> Self {
        self.response = None;
        self.responses = responses;
        self
    }

    /// Matches only requests carrying this query parameter.
    pub fn with_query(mut self, name: &str, value: &str) -> Self {
        self.request.query.insert(name.to_owned(), value.to_owned());
        self
    }

    /// Matches only form requests with every field of `form` (a file by its file name).
    pub fn with_form(mut self, form: Value) -> Self {
        self.request.form = Some(form);
        self
    }

    /// Matches only requests whose JSON body has these members.
    pub fn with_body(mut self, body: Value) -> Self {
        self.request.body = Some(body);
        self
    }

    /// The answers in play order.
    pub fn answers(&self) -> Vec<&FixtureResponse> {
        match &self.response {
            Some(r) => vec![r],
            None => self.responses.iter().collect(),
        }
    }

    /// Whether every answer is an error (status 400 or more).
    pub fn is_error(&self) -> bool {
        self.answers().iter().all(|r| r.status >= 400)
    }

    /// Whether this is its operation's default success fixture: its file is
    /// `<operationId>.json` (no case suffix) and every answer is a success (below 400). The mock
    /// answers a valid request no fixture matches with it; the contract suite requires one per
    /// operation.
    pub fn is_default(&self) -> bool {
        let name = self.file.rsplit(['/', '\\']).next().unwrap_or(&self.file);
        let answers = self.answers();
        name.strip_suffix(".json") == Some(self.operation.as_str())
            && !answers.is_empty()
            && answers.iter().all(|r| r.status < 400)
    }
}
