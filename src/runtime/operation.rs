//! The operation table: what build.rs reads from each spec about every operation and the
//! runtime needs to send it (method, path, host, auth, envelope, pagination, stream, retry
//! safety), and about each host (its profile: base URL, error format, default envelope) and
//! credential. One static [`Platform`] per platform, generated; nothing here names a platform.
//!
//! The table is public so callers and tools can inspect it:
//!
//! ```
//! # #[cfg(feature = "bimpeai")] {
//! let op = agentwire::bimpeai::PLATFORM.operation("agents.create").unwrap();
//! assert_eq!(op.method, agentwire::Method::Post);
//! assert_eq!(op.path, "/agents");
//! # }
//! ```

/// Everything the runtime knows about one platform.
#[derive(Debug)]
#[non_exhaustive]
pub struct Platform {
    /// Module and feature name, and the user-agent suffix (`bimpeai`).
    pub name: &'static str,
    /// How messages name it (`BimpeAI`).
    pub display_name: &'static str,
    /// Its hosts, each with its profile; the first is the default.
    pub hosts: &'static [Host],
    /// Every credential the platform takes (each a typed setter on its client builder).
    pub credentials: &'static [Credential],
    /// The names of the credentials a client cannot be built without.
    pub required_credentials: &'static [&'static str],
    /// The header carrying one idempotency key per write call, if the platform takes one.
    pub idempotency_header: Option<&'static str>,
    /// The header carrying one request id per call, if the platform takes one.
    pub request_id_header: Option<&'static str>,
    /// Every operation of the spec, in spec order.
    pub operations: &'static [Operation],
    /// Client settings the platform gives defaults or environment variables for
    /// (`x-agentwire-platform.settings`).
    pub settings: &'static [Setting],
    /// Its real-time WebSocket, if it has one (`x-agentwire-realtime`): what the mock serves.
    pub realtime: Option<&'static Realtime>,
}

/// A platform's real-time WebSocket as the spec describes it (`x-agentwire-realtime`): JSON
/// frames told apart by a type member, subscriptions per topic (a conversation). The mock
/// serves it; a platform's real-time client speaks it.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct Realtime {
    /// Its path on the platform's origin, outside any host prefix (`/ws`).
    pub path: &'static str,
    /// The query parameters that authenticate it, each with the credential it carries
    /// (`("api_key", "api_key")`, `("token", "access_token")`); one is enough.
    pub credentials: &'static [(&'static str, &'static str)],
    /// The member naming a frame's type (`type`).
    pub type_member: &'static str,
    /// The member naming a frame's topic (`conversationId`).
    pub topic_member: &'static str,
    /// The types of the client's frames that subscribe to and unsubscribe from a topic.
    pub subscribe: &'static str,
    /// See [`Self::subscribe`].
    pub unsubscribe: &'static str,
    /// The type of the client's keepalive frame and of the server's answer to it, if any
    /// (`ping`, `pong`).
    pub ping: Option<(&'static str, &'static str)>,
    /// The REST writes whose success the server announces to the topic's subscribers.
    pub echoes: &'static [Echo],
}

/// A REST write announced as a real-time event (`x-agentwire-realtime.echoes`): sending a
/// message in a conversation is a `message` event to that conversation's subscribers.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct Echo {
    /// The operation (`conversations.messages.create`).
    pub operation: &'static str,
    /// Its path parameter holding the topic (`conversation_id`).
    pub topic_param: &'static str,
    /// The event's type (`message`).
    pub event: &'static str,
    /// The member the answer goes in (`message`); `None`: the answer's members are the event's.
    pub member: Option<&'static str>,
}

/// A client setting a platform gives a default or an environment variable for
/// (`x-agentwire-platform.settings`: SketricGen's `SKETRICGEN_TIMEOUT`, 300 s).
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct Setting {
    /// Which setting.
    pub name: SettingName,
    /// The variable `with_env()` reads it from (seconds for times, a count for retries).
    pub env: Option<&'static str>,
    /// The platform's default (seconds for times, a count for retries); a builder setter
    /// overrides it.
    pub default: Option<f64>,
}

/// The client settings a platform may give defaults or variables for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SettingName {
    /// The per-attempt timeout (`ClientBuilder::timeout`).
    Timeout,
    /// The per-attempt timeout of uploads (`ClientBuilder::upload_timeout`).
    UploadTimeout,
    /// The retries a call may make (`ClientBuilder::max_retries`).
    MaxRetries,
}

impl Platform {
    /// The platform's default or variable for a client setting, if it gives one.
    pub fn setting(&self, name: SettingName) -> Option<&'static Setting> {
        self.settings.iter().find(|s| s.name == name)
    }

    /// The operation with this id, if the spec has it.
    pub fn operation(&self, id: &str) -> Option<&'static Operation> {
        self.operations.iter().find(|op| op.id == id)
    }

    /// The credential with this name (`api_key`), if the platform takes it.
    pub fn credential(&self, name: &str) -> Option<&'static Credential> {
        self.credentials.iter().find(|c| c.name == name)
    }

    /// The host an operation is sent to (its profile: error format, envelope).
    pub fn host_of(&self, op: &Operation) -> Option<&'static Host> {
        self.hosts.get(op.host)
    }
}

/// One base URL of a platform and its profile: how its answers are read.
#[derive(Debug)]
#[non_exhaustive]
pub struct Host {
    /// The name operations refer to it by (`ClientBuilder::host_url(name, url)`).
    pub name: &'static str,
    /// The production base URL, prefix included.
    pub url: &'static str,
    /// The path prefix kept when a caller overrides the base URL with an origin.
    pub prefix: &'static str,
    /// The environment variable `from_env()` reads an overriding base URL from.
    pub env: &'static str,
    /// How its error bodies are read.
    pub errors: &'static ErrorFormat,
    /// How its operations' success bodies are wrapped by default (an operation may differ).
    pub envelope: Option<&'static Envelope>,
}

/// One credential a platform takes (an API key, a secret, an access token), by name.
#[derive(Debug)]
#[non_exhaustive]
pub struct Credential {
    /// Its name in the spec and the name of its builder setter (`api_key`).
    pub name: &'static str,
    /// The environment variable `from_env()` reads it from (`BIMPEAI_API_KEY`).
    pub env: &'static str,
    /// What it is.
    pub description: &'static str,
}

/// How a platform wraps its success bodies (`{"message", "data", "meta"}`).
#[derive(Debug)]
#[non_exhaustive]
pub struct Envelope {
    /// The member holding the operation's result.
    pub data: &'static str,
    /// The member holding page metadata.
    pub meta: &'static str,
    /// Members every success body must carry.
    pub required: &'static [&'static str],
}

/// Where a platform puts the parts of its error bodies.
#[derive(Debug)]
#[non_exhaustive]
pub struct ErrorFormat {
    /// Candidate members for the message, first present wins.
    pub message: &'static [&'static str],
    /// Candidate members for the platform's error code.
    pub code: &'static [&'static str],
    /// Candidate members for a request id.
    pub request_id: &'static [&'static str],
    /// Codes that make a 400 a validation error.
    pub validation_codes: &'static [&'static str],
    /// The member holding `"path: message"` strings on validation errors.
    pub field_errors: Option<&'static str>,
    /// Members that may hold a pacing hint in seconds, read when no header gives one.
    pub retry_after: &'static [&'static str],
}

impl ErrorFormat {
    /// The format assumed where a table names none: `message`, `error` or `detail` for the
    /// message, `code` for the code.
    pub const DEFAULT: ErrorFormat = ErrorFormat {
        message: &["message", "error", "detail"],
        code: &["code"],
        request_id: &[],
        validation_codes: &[],
        field_errors: None,
        retry_after: &[],
    };
}

/// What an operation's request body is (declared by its `requestBody` content types).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RequestKind {
    /// No body.
    None,
    /// `application/json`.
    Json,
    /// `multipart/form-data`.
    Multipart,
    /// `application/json` or `multipart/form-data`, by what the caller gives.
    JsonOrMultipart,
    /// `application/x-www-form-urlencoded`.
    Form,
}

/// What an operation answers on success (declared by its success response and its
/// `x-agentwire-*` extensions); it decides what the builder's `send()` resolves to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ResponseKind {
    /// No content: `()`.
    Empty,
    /// JSON: the result type.
    Json,
    /// A text content type: `String`.
    Text,
    /// Any other content type: bytes.
    Bytes,
    /// JSON, a documented `404` meaning none: `Option<T>`.
    Optional,
    /// A JSON list: a `Page`, and a `Paginator`.
    Paged,
    /// A task acknowledgement the runtime resolves.
    Task,
    /// Server-Sent Events: typed events.
    EventStream,
    /// JSON or Server-Sent Events, by a request flag.
    JsonOrStream,
}

/// How a platform's task acknowledgements are recognised, polled and resolved: one profile of
/// the spec's `x-agentwire-tasks` (openapi/README.md). `runtime::task` reads nothing else, so a
/// platform's task rules live in its spec only.
#[derive(Debug)]
#[non_exhaustive]
pub struct TaskSpec {
    /// Statuses that are an acknowledgement whatever the body says (`202`).
    pub ack_status_codes: &'static [u16],
    /// Values of the state member (any letter case) that make a 2xx body an acknowledgement
    /// when it also carries a status URL or a task id (`accepted`, `queued`, `pending`).
    pub ack_states: &'static [&'static str],
    /// The member holding a task's state (`status`).
    pub state_member: &'static str,
    /// The member holding the task id (`task_id`, `job_id`).
    pub id_member: &'static str,
    /// Members that may hold the URL to poll (`status_url`, `poll_url`); empty: always build
    /// the status operation's path from the id.
    pub url_members: &'static [&'static str],
    /// The GET operation that polls a task (its path takes the task id).
    pub status_operation: &'static str,
    /// Terminal states of success (any letter case).
    pub success: &'static [&'static str],
    /// Terminal states of failure (any letter case).
    pub failure: &'static [&'static str],
    /// Members holding the final result, first non-null wins; none: the whole status body.
    pub result_members: &'static [&'static str],
    /// The member holding a failure's message (a string, or `{message, code}`).
    pub error_member: &'static str,
    /// The first wait between polls, in milliseconds.
    pub interval_ms: u64,
    /// The factor the wait grows by after each poll without a hint.
    pub growth: f64,
    /// The longest wait between polls without a hint, in milliseconds.
    pub cap_ms: u64,
    /// The longest a task is waited for, in milliseconds.
    pub max_wait_ms: u64,
    /// Body members holding a pacing hint as a duration (seconds; a name with `ms`: milliseconds).
    pub hint_members: &'static [&'static str],
    /// Body members holding a pacing hint as a time (RFC 3339, HTTP-date or epoch seconds).
    pub hint_time_members: &'static [&'static str],
    /// Objects of the body the hints may also sit in (`meta`, `details`).
    pub hint_containers: &'static [&'static str],
    /// Path prefixes dropped from a status URL before it is joined to the base (`/api/v1`).
    pub strip_prefixes: &'static [&'static str],
}

/// A task operation's follow-on stream (`x-agentwire-follow`, openapi/README.md): after the
/// acknowledgement, the builder's `stream()` opens another operation's event stream instead of
/// polling, and falls back to polling where the stream cannot give the result.
#[derive(Debug)]
#[non_exhaustive]
pub struct FollowSpec {
    /// The event-stream operation opened after the acknowledgement.
    pub stream_operation: &'static str,
    /// Acknowledgement members that may hold the stream's URL (`stream_url`, `sse_url`); none
    /// present: the stream operation's path, its parameters from the call's and the
    /// acknowledgement's members of the same names.
    pub url_members: &'static [&'static str],
    /// The event that carries the final result: the stream ends after it, and a result the
    /// task's polling gives instead is yielded as this event.
    pub final_event: &'static str,
}

/// An HTTP method of the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Method {
    /// GET
    Get,
    /// POST
    Post,
    /// PUT
    Put,
    /// PATCH
    Patch,
    /// DELETE
    Delete,
}

impl Method {
    /// The method as reqwest knows it.
    pub fn to_http(self) -> reqwest::Method {
        match self {
            Method::Get => reqwest::Method::GET,
            Method::Post => reqwest::Method::POST,
            Method::Put => reqwest::Method::PUT,
            Method::Patch => reqwest::Method::PATCH,
            Method::Delete => reqwest::Method::DELETE,
        }
    }

    /// `GET`, `POST`, ...
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
        }
    }

    /// Whether the method changes state (and so gets an idempotency key).
    pub fn is_write(self) -> bool {
        !matches!(self, Method::Get)
    }
}

/// How one credential goes on the wire; each names the credential (`api_key`) it sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Auth {
    /// `Authorization: Bearer <credential>`.
    Bearer(&'static str),
    /// `<header>: <credential>`.
    Header(&'static str, &'static str),
    /// `?<name>=<credential>` (WebSocket handshakes).
    Query(&'static str, &'static str),
}

impl Auth {
    /// The name of the credential this scheme sends.
    pub fn credential(self) -> &'static str {
        match self {
            Auth::Bearer(c) | Auth::Header(_, c) | Auth::Query(_, c) => c,
        }
    }
}

/// A page-based, offset-based or cursor-based list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PageKind {
    /// `page=N`, next is current + 1.
    Page,
    /// `offset=N`, next is offset + items.
    Offset,
    /// `cursor=X`, next is the cursor the page returned.
    Cursor,
}

/// How a list operation pages, and where its metadata lives.
#[derive(Debug)]
#[non_exhaustive]
pub struct PageStyle {
    /// Page, offset or cursor.
    pub kind: PageKind,
    /// Query parameter carrying the page number, offset or cursor.
    pub page_param: &'static str,
    /// Query parameter carrying the page size.
    pub size_param: Option<&'static str>,
    /// The body member holding the page metadata: `None` for the envelope's meta member,
    /// `Some("")` for the body itself.
    pub meta: Option<&'static str>,
    /// Meta member: total item count.
    pub total: Option<&'static str>,
    /// Meta member: total page count.
    pub page_count: Option<&'static str>,
    /// Meta member: the current page number.
    pub current: Option<&'static str>,
    /// Meta member: the page size.
    pub size: Option<&'static str>,
    /// Meta member: whether there is a next page.
    pub has_next: Option<&'static str>,
    /// Meta member: whether there is a previous page.
    pub has_previous: Option<&'static str>,
    /// Meta member: the next cursor (cursor style).
    pub next_cursor: Option<&'static str>,
    /// For an offset list that may also answer a cursor: the query parameter the cursor goes in
    /// (`cursor-param`); the cursor is followed when the page has one, the offset otherwise.
    pub cursor_param: Option<&'static str>,
}

/// What the table says about an operation that answers Server-Sent Events: its event map
/// (`x-agentwire-stream` in the spec), from which the operation's event enum is generated.
#[derive(Debug)]
#[non_exhaustive]
pub struct StreamSpec {
    /// The member of an event's JSON data naming its type (`type`), for platforms that send
    /// data-only frames; an event without it (or whose data is not a JSON object) goes by its
    /// SSE event name. `None`: every event goes by its SSE event name (`event:`, default
    /// `message`).
    pub type_member: Option<&'static str>,
    /// Every declared event type with the component schema of its data; each is a variant of
    /// the generated event enum (heartbeats aside).
    pub events: &'static [EventType],
    /// Event types consumed and never yielded.
    pub heartbeat: &'static [&'static str],
    /// Event types that end the stream: yielded, then the stream ends (`RUN_FINISHED`).
    pub terminal: &'static [&'static str],
    /// Data lines that end the stream, never yielded (`[DONE]`); compared without surrounding
    /// whitespace.
    pub terminal_data: &'static [&'static str],
    /// What an event of an undeclared type whose data is not JSON becomes.
    pub non_json: NonJson,
    /// Whether a last event without its blank line counts at end of input.
    pub flush_at_eof: bool,
    /// Where a reconnect names the last event it received, when the stream can be resumed
    /// (`x-agentwire-stream.resume`).
    pub resume: Option<StreamResume>,
    /// The boolean member of the JSON request body that asks for the stream
    /// (`x-agentwire-stream.body-flag`, SketricGen's `stream`): set `true` whenever the stream
    /// is opened, `false` when a JSON-or-stream operation is sent for its JSON result.
    pub body_flag: Option<&'static str>,
    /// Whether a clean close ends the stream as its marker does (`x-agentwire-stream.close-ends`:
    /// Linktor's agent invoke ends at `[DONE]` or, failing that, a clean close); a dropped
    /// connection is still an error.
    pub close_ends: bool,
}

impl StreamSpec {
    /// Whether the stream ends with a marker of its own (a terminal event or data line), so that
    /// a connection ending before it means the answer is incomplete.
    pub fn ends_with_marker(&self) -> bool {
        (!self.terminal.is_empty() || !self.terminal_data.is_empty()) && !self.close_ends
    }

    /// The component schema of a declared event type's data.
    pub fn schema_of(&self, event_type: &str) -> Option<&'static str> {
        self.events
            .iter()
            .find(|e| e.name == event_type)
            .map(|e| e.schema)
    }
}

/// One declared event type of a stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct EventType {
    /// The type as the wire names it (`message`, `text_delta`, `RUN_FINISHED`).
    pub name: &'static str,
    /// The component schema of its data (`StreamMessageEvent`).
    pub schema: &'static str,
}

/// What an event of an undeclared type whose data is not JSON becomes
/// (`x-agentwire-stream.non-json`). A declared type's data must match its schema either way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum NonJson {
    /// A `Decode` error (the stream goes on).
    Error,
    /// Yielded as it came, as the enum's unknown variant.
    Raw,
}

/// Where a stream takes the position to resume from: the id of the last event received (or,
/// where the platform accepts one, a time).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum StreamResume {
    /// A query parameter: `?after=<id>` (BimpeAI).
    Query(&'static str),
    /// A request header: `Last-Event-ID: <id>`.
    Header(&'static str),
}

/// One operation of a platform's spec.
#[derive(Debug)]
#[non_exhaustive]
pub struct Operation {
    /// The spec's operationId (`agents.create`).
    pub id: &'static str,
    /// Its method.
    pub method: Method,
    /// Its path template, relative to the host's base URL (`/agents/{agent_id}`).
    pub path: &'static str,
    /// Its request-body kind.
    pub request: RequestKind,
    /// Its response kind.
    pub response: ResponseKind,
    /// Index into [`Platform::hosts`].
    pub host: usize,
    /// Alternatives in order of preference; each lists every scheme it sends. Empty: public.
    pub auth: &'static [&'static [Auth]],
    /// The envelope of the success body, `None` when it is bare.
    pub envelope: Option<&'static Envelope>,
    /// The success status the spec declares.
    pub success_status: u16,
    /// Set on list operations.
    pub pagination: Option<&'static PageStyle>,
    /// The member of the result holding the items, when they are not the result itself.
    pub items: Option<&'static str>,
    /// Set on operations answering Server-Sent Events.
    pub stream: Option<&'static StreamSpec>,
    /// Set on operations that may answer with a task acknowledgement.
    pub task: Option<&'static TaskSpec>,
    /// Set on task operations with a follow-on stream.
    pub follow: Option<&'static FollowSpec>,
    /// Whether a write that may have reached the server can be sent again.
    pub retry_safe: bool,
    /// Headers this operation must not carry.
    pub omit_headers: &'static [&'static str],
    /// The range, length and pattern rules of its parameters and body, checked before any
    /// request (the spec's `minimum`, `maximum`, `minLength`, `maxLength`, `pattern`,
    /// `minItems`, `maxItems`).
    pub checks: &'static [Check],
    /// A success body that may report a failure (`x-agentwire-outcome`).
    pub outcome: Option<&'static Outcome>,
    /// The member of the JSON body that carries the call's idempotency key, dotted
    /// (`metadata.idempotency_key`: Linktor's direct send deduplicates by it, not by a header;
    /// `x-agentwire-idempotency-member`). Set once per call when the caller's body has none.
    pub idempotency_member: Option<&'static str>,
}

/// How a success body reports that the work failed after all (`x-agentwire-outcome`): its
/// `ok_member` is `false` (Wisebot's workflow run: `200 {ok: false, error, runId}`). Such an
/// answer is a `Task` error ([`crate::Error::task_failed`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Outcome {
    /// The boolean member that is `false` on failure (`ok`).
    pub ok_member: &'static str,
    /// The member holding the failure's message (a string, or an object's `message`).
    pub error_member: Option<&'static str>,
    /// The member holding the run's id ([`crate::Error::task_id`]).
    pub id_member: Option<&'static str>,
}

/// One rule the spec declares on a value the caller sends, checked before any request (the
/// runtime's `checks`): a value that breaks it is an `InvalidInput` error naming the value, the
/// rule and what was given.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct Check {
    /// Where the value is.
    pub at: CheckAt,
    /// How messages name it (`limit`, `hitl_resume.decisions[].message`).
    pub label: &'static str,
    /// What it must satisfy.
    pub rule: Rule,
}

/// Where a checked value is in a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CheckAt {
    /// A query parameter (each value of a repeated one).
    Query(&'static str),
    /// A header parameter.
    Header(&'static str),
    /// A member of the JSON body, as a JSON pointer whose `*` segments stand for every item of
    /// an array (`/hitl_resume/decisions/*/message`). An absent member is not checked (whether
    /// it is required is the body type's business).
    Body(&'static str),
    /// A text field of a form body (each value of a repeated one).
    Form(&'static str),
}

/// The rules of one value, as the spec declares them (OpenAPI 3.0 / JSON Schema keywords).
/// Lengths count Unicode scalar values (`char`s), not bytes.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
#[non_exhaustive]
pub struct Rule {
    /// `minimum` (with `exclusiveMinimum: true`: strictly above it).
    pub minimum: Option<f64>,
    /// Whether `minimum` excludes itself.
    pub exclusive_minimum: bool,
    /// `maximum` (with `exclusiveMaximum: true`: strictly below it).
    pub maximum: Option<f64>,
    /// Whether `maximum` excludes itself.
    pub exclusive_maximum: bool,
    /// `minLength`, in characters.
    pub min_length: Option<u64>,
    /// `maxLength`, in characters.
    pub max_length: Option<u64>,
    /// `pattern`: an ECMAScript regular expression the string must contain a match of.
    pub pattern: Option<&'static str>,
    /// `minItems` of an array.
    pub min_items: Option<u64>,
    /// `maxItems` of an array.
    pub max_items: Option<u64>,
}

/// Matches a concrete path against a path template (`/agents/{agent_id}`): the value of each
/// template variable, in order, and the number of literal segments that matched (routing prefers
/// the template with the most, so `/workflows/clone` beats `/workflows/{workflow_id}`). `None`
/// when the path does not fit or a variable's segment is empty.
// Used by the mock and the contract checks; a build with neither has no caller.
#[cfg_attr(not(any(feature = "mock", feature = "contract")), allow(dead_code))]
pub(crate) fn match_template<'p>(
    template: &'p str,
    path: &'p str,
) -> Option<(usize, Vec<(&'p str, &'p str)>)> {
    let t: Vec<&str> = template.trim_matches('/').split('/').collect();
    let p: Vec<&str> = path.trim_matches('/').split('/').collect();
    if t.len() != p.len() {
        return None;
    }
    let mut literals = 0;
    let mut values = Vec::new();
    for (ts, ps) in t.iter().zip(&p) {
        match ts.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            Some(_) if ps.is_empty() => return None,
            Some(name) => values.push((name, *ps)),
            None if ts == ps => literals += 1,
            None => return None,
        }
    }
    Some((literals, values))
}

impl Operation {
    /// Whether an attempt that may have reached the server can be re-sent.
    pub fn resend_safe(&self) -> bool {
        !self.method.is_write() || self.retry_safe
    }
}

#[cfg(test)]
mod tests {
    use super::match_template;

    #[test]
    fn literals_count_and_variables_bind() {
        assert_eq!(
            match_template("/workflows/clone", "/workflows/clone"),
            Some((2, vec![]))
        );
        assert_eq!(
            match_template("/workflows/{workflow_id}", "/workflows/clone"),
            Some((1, vec![("workflow_id", "clone")]))
        );
        assert_eq!(match_template("/agents/{agent_id}", "/agents/"), None);
        assert_eq!(match_template("/agents/{agent_id}", "/agents/a/b"), None);
        assert_eq!(match_template("/agents", "/workflows"), None);
    }
}
