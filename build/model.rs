//! Reads a loaded spec into the generator's model, checking every convention of
//! openapi/README.md on the way. Every problem is reported with file, line and operation; all
//! problems of a file are reported together.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

use super::yaml::{Loaded, escape};

/// Every extension the generator understands; any other `x-agentwire-*` key is an error.
pub const KNOWN_EXTENSIONS: &[&str] = &[
    "x-agentwire-platform",
    "x-agentwire-envelope",
    "x-agentwire-follow",
    "x-agentwire-envelopes",
    "x-agentwire-errors",
    "x-agentwire-error-formats",
    "x-agentwire-env",
    "x-agentwire-pagination",
    "x-agentwire-host",
    "x-agentwire-prefix",
    "x-agentwire-credential",
    "x-agentwire-retry-safe",
    "x-agentwire-omit-headers",
    "x-agentwire-stream",
    "x-agentwire-hand-written",
    "x-agentwire-loose",
    "x-agentwire-optional",
    "x-agentwire-task",
    "x-agentwire-tasks",
    "x-agentwire-absolute-url",
    "x-agentwire-outcome",
    "x-agentwire-validate",
    "x-agentwire-idempotency-member",
    "x-agentwire-realtime",
];

const METHODS: &[&str] = &["get", "post", "put", "patch", "delete"];
const RUST_KEYWORDS: &[&str] = &[
    "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum", "extern",
    "false", "fn", "for", "gen", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut",
    "pub", "ref", "return", "self", "Self", "static", "struct", "super", "trait", "true", "type",
    "unsafe", "use", "where", "while", "abstract", "become", "box", "do", "final", "macro",
    "override", "priv", "typeof", "unsized", "virtual", "yield", "try",
];

/// A Rust identifier for a spec name: snake_case, keywords suffixed with `_`.
pub fn rust_ident(name: &str) -> String {
    let mut s = heck::ToSnakeCase::to_snake_case(name);
    if s.is_empty() || s.starts_with(|c: char| c.is_ascii_digit()) {
        s.insert(0, '_');
    }
    if RUST_KEYWORDS.contains(&s.as_str()) {
        s.push('_');
    }
    s
}

/// Whether `name` is a lower-case snake_case identifier (`api_key`).
pub fn is_snake_ident(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// A name the generated code already gives a method, and who gives it
/// (`RequestOptions::timeout (src/runtime/options.rs)`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Taken {
    pub name: String,
    pub by: String,
}

/// The method names a spec name may not become, by where the spec name lands. Derived, never
/// listed by hand: build.rs (build/names.rs) parses the runtime's request builder and per-call
/// options trait and the generator's own output, and embeds the result for the contract
/// tooling (`$OUT_DIR/reserved_names.rs`), so the build and `agentwire spec lint` apply the same
/// list.
#[derive(Debug, Clone, Default)]
pub struct Reserved {
    /// Methods every request builder (`Call`) has: a parameter may not become one.
    pub builder: Vec<Taken>,
    /// Methods the request builders of one response kind have (`open` on an event stream's,
    /// `accepted` on a task's), by kind name: a parameter of such an operation may not become
    /// one.
    pub kinds: BTreeMap<String, Vec<Taken>>,
    /// Methods the platform `Client` has: a top-level group may not become one.
    pub client: Vec<Taken>,
    /// Methods every resource handle has: a group or operation below the top may not become one.
    pub handle: Vec<Taken>,
}

impl Reserved {
    /// From the embedded table: (place — `builder`, `client` or `handle` —, name, by).
    #[allow(
        dead_code,
        reason = "build.rs derives the names itself; the contract tooling and the tests read the table"
    )]
    pub fn from_table(table: &[(&str, &str, &str)]) -> Reserved {
        let mut reserved = Reserved::default();
        for (place, name, by) in table {
            let taken = Taken {
                name: (*name).to_owned(),
                by: (*by).to_owned(),
            };
            match *place {
                "builder" => reserved.builder.push(taken),
                kind if kind.starts_with("builder:") => reserved
                    .kinds
                    .entry(kind["builder:".len()..].to_owned())
                    .or_default()
                    .push(taken),
                "client" => reserved.client.push(taken),
                _ => reserved.handle.push(taken),
            }
        }
        reserved
    }

    /// Who already has method `name` among `list`.
    fn taken<'a>(list: &'a [Taken], name: &str) -> Option<&'a Taken> {
        list.iter().find(|t| t.name == name)
    }

    /// Who already has method `name` on the request builder of an operation of `kind`.
    fn builder_taken(&self, name: &str, kind: ResponseKind) -> Option<&Taken> {
        Self::taken(&self.builder, name).or_else(|| {
            self.kinds
                .get(kind.name())
                .and_then(|list| Self::taken(list, name))
        })
    }
}

/// A Rust type name for dotted or snake parts.
pub fn pascal(name: &str) -> String {
    heck::ToUpperCamelCase::to_upper_camel_case(name.replace('.', "_").as_str())
}

#[derive(Debug, Clone)]
pub struct Spec {
    pub name: String,
    pub display_name: String,
    pub title: String,
    pub version: String,
    /// Every credential the platform takes, in declaration order.
    pub credentials: Vec<CredentialDef>,
    pub required_credentials: Vec<String>,
    pub idempotency_header: Option<String>,
    pub request_id_header: Option<String>,
    /// Client settings with the platform's defaults and variables: (name, env, default).
    pub settings: Vec<(String, Option<String>, Option<f64>)>,
    pub hosts: Vec<Host>,
    /// Named envelopes (`x-agentwire-envelopes`).
    pub envelopes: BTreeMap<String, Envelope>,
    /// Named error formats (`x-agentwire-error-formats`).
    pub error_formats: BTreeMap<String, Errors>,
    pub page_styles: BTreeMap<String, PageStyle>,
    /// Named task profiles (`x-agentwire-tasks`): how acknowledgements are recognised and polled.
    pub task_profiles: BTreeMap<String, TaskProfile>,
    pub ops: Vec<Op>,
    /// Named string enums, each generated as an open Rust enum.
    pub enums: Vec<EnumDef>,
    /// Loose arrays: synthetic component name → item component name.
    pub loose: BTreeMap<String, String>,
    /// Every component schema name.
    pub schemas: Vec<String>,
    /// Its real-time WebSocket (`x-agentwire-realtime`).
    pub realtime: Option<RealtimeDef>,
}

/// A real-time WebSocket (`x-agentwire-realtime`): see `runtime::operation::Realtime`.
#[derive(Debug, Clone, Default)]
pub struct RealtimeDef {
    pub path: String,
    /// (query parameter, credential name).
    pub credentials: Vec<(String, String)>,
    pub type_member: String,
    pub topic_member: String,
    pub subscribe: String,
    pub unsubscribe: String,
    /// (the client's keepalive type, the server's answer).
    pub ping: Option<(String, String)>,
    /// (operation, topic path parameter, event type, member).
    pub echoes: Vec<(String, String, String, Option<String>)>,
}

/// Reads `x-agentwire-realtime`, checking its credentials and echoed operations against the
/// spec.
fn realtime(
    root: &Value,
    credentials: &[CredentialDef],
    ops: &[Op],
    d: &mut Diagnostics,
) -> Option<RealtimeDef> {
    let at = "/x-agentwire-realtime";
    let r = root.get("x-agentwire-realtime")?;
    let text = |key: &str| get_str(r, key).filter(|v| !v.trim().is_empty());
    let mut def = RealtimeDef::default();
    let mut missing = Vec::new();
    for (key, slot) in [
        ("path", &mut def.path),
        ("type-member", &mut def.type_member),
        ("topic-member", &mut def.topic_member),
        ("subscribe", &mut def.subscribe),
        ("unsubscribe", &mut def.unsubscribe),
    ] {
        match text(key) {
            Some(v) => *slot = v,
            None => missing.push(key),
        }
    }
    if !missing.is_empty() {
        let missing = missing.join("`, `");
        d.error(
            at,
            None,
            format!("`x-agentwire-realtime` needs `{missing}` (non-empty text)"),
        );
    }
    if !def.path.is_empty() && !def.path.starts_with('/') {
        d.error(
            &format!("{at}/path"),
            None,
            "the WebSocket path starts with `/` (`/ws`)",
        );
    }
    let known: BTreeSet<&str> = credentials.iter().map(|c| c.name.as_str()).collect();
    for (param, credential) in r
        .get("credentials")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        match credential.as_str().filter(|c| known.contains(c)) {
            Some(c) => def.credentials.push((param.clone(), c.to_owned())),
            None => d.error(
                &format!("{at}/credentials/{}", escape(param)),
                None,
                "each query parameter names one of the platform's `credentials`",
            ),
        }
    }
    let declared = r.get("credentials").and_then(Value::as_object);
    if declared.is_none_or(Map::is_empty) {
        d.error(
            at,
            None,
            "`credentials` maps each query parameter to the credential it carries",
        );
    }
    match (text("ping"), text("pong")) {
        (Some(ping), Some(pong)) => def.ping = Some((ping, pong)),
        (None, None) => {}
        _ => d.error(at, None, "`ping` and `pong` come together"),
    }
    for (i, echo) in r
        .get("echoes")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        let p = format!("{at}/echoes/{i}");
        let field = |key: &str| get_str(echo, key).filter(|v| !v.trim().is_empty());
        let (Some(operation), Some(topic), Some(event)) =
            (field("operation"), field("topic"), field("event"))
        else {
            d.error(&p, None, "an echo is `{operation, topic, event, member?}`");
            continue;
        };
        let op = ops.iter().find(|o| o.id == operation);
        if !op.is_some_and(|o| o.path_params.iter().any(|param| param.name == topic)) {
            d.error(
                &p,
                None,
                format!("`{operation}` is not an operation of the spec with the path parameter `{topic}`"),
            );
            continue;
        }
        def.echoes.push((operation, topic, event, field("member")));
    }
    Some(def)
}

#[derive(Debug, Clone)]
pub struct Host {
    pub name: String,
    pub url: String,
    pub prefix: String,
    /// The environment variable that overrides its base URL.
    pub env: String,
    /// The envelope of its operations' success bodies by default (a name of `envelopes`).
    pub envelope: Option<String>,
    /// The format of its error bodies (a name of `error_formats`).
    pub errors: String,
}

/// One credential a platform takes: it becomes a typed setter on the platform's client builder.
#[derive(Debug, Clone)]
pub struct CredentialDef {
    /// Its name, a snake_case identifier (`api_key`): the setter's name.
    pub name: String,
    /// The environment variable `from_env()` reads it from.
    pub env: String,
    /// What it is, for the setter's docs.
    pub description: String,
}

#[derive(Debug, Clone)]
pub struct Envelope {
    pub data: String,
    pub meta: String,
    pub required: Vec<String>,
}

#[derive(Debug, Clone, Default)]
pub struct Errors {
    pub message: Vec<String>,
    pub code: Vec<String>,
    pub request_id: Vec<String>,
    pub validation_codes: Vec<String>,
    pub field_errors: Option<String>,
    /// Members that may hold a pacing hint in seconds (`retry_after`), read when no header has one.
    pub retry_after: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct PageStyle {
    pub kind: String,
    pub page_param: String,
    pub size_param: Option<String>,
    pub meta_schema: Option<String>,
    pub meta: Option<String>,
    pub fields: BTreeMap<&'static str, String>,
}

/// How a platform's task acknowledgements are recognised, polled and resolved (a named profile
/// of `x-agentwire-tasks`; see openapi/README.md).
#[derive(Debug, Clone)]
pub struct TaskProfile {
    pub ack_status_codes: Vec<u16>,
    pub ack_states: Vec<String>,
    pub state_member: String,
    pub id_member: String,
    pub url_members: Vec<String>,
    pub status_operation: String,
    pub success: Vec<String>,
    pub failure: Vec<String>,
    pub result_members: Vec<String>,
    pub error_member: String,
    pub interval_ms: u64,
    pub growth: f64,
    pub cap_ms: u64,
    pub max_wait_ms: u64,
    pub hint_members: Vec<String>,
    pub hint_time_members: Vec<String>,
    pub hint_containers: Vec<String>,
    pub strip_prefixes: Vec<String>,
}

/// How one credential goes on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthScheme {
    Bearer(String),
    Header(String, String),
    Query(String, String),
}

#[derive(Debug, Clone)]
pub struct Param {
    pub name: String,
    pub rust: String,
    pub ty: ParamType,
    pub required: bool,
    pub description: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParamType {
    String,
    Integer,
    Number,
    Boolean,
    Enum(String),
    Array(Box<ParamType>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Shape {
    /// No result (`data: null`, no body).
    Empty,
    /// A Rust type path (`types::Agent`, `Vec<types::Agent>`, `String`).
    Type(String),
    /// Server-Sent Events.
    Stream,
    /// A text body (`text/*`, `application/javascript`, ...), returned as `String`.
    Text,
    /// Any other body (`application/octet-stream`, a PDF ...), returned as bytes.
    Bytes,
}

/// What an operation's request body is, from its `requestBody` content types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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

impl RequestKind {
    /// Its name in messages and in the table (`json`).
    pub fn name(self) -> &'static str {
        match self {
            RequestKind::None => "none",
            RequestKind::Json => "json",
            RequestKind::Multipart => "multipart",
            RequestKind::JsonOrMultipart => "json-or-multipart",
            RequestKind::Form => "form",
        }
    }
}

/// What an operation answers on success, from its success response, its content types and its
/// `x-agentwire-*` extensions (see openapi/README.md, "Operation kinds").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseKind {
    /// No content: `()`.
    Empty,
    /// `application/json`: the result type.
    Json,
    /// A text content type: `String`.
    Text,
    /// Any other content type: bytes.
    Bytes,
    /// JSON, with a documented `404` meaning "none" (`x-agentwire-optional`): `Option<T>`.
    Optional,
    /// JSON list (`x-agentwire-pagination`): a page, and a paginator.
    Paged,
    /// A task acknowledgement the runtime resolves (`x-agentwire-task`).
    Task,
    /// `text/event-stream` (`x-agentwire-stream`): typed events.
    EventStream,
    /// JSON or `text/event-stream`, by a request flag (both content types on the success).
    JsonOrStream,
}

impl ResponseKind {
    /// Its name in messages and in the table (`event-stream`).
    pub fn name(self) -> &'static str {
        match self {
            ResponseKind::Empty => "empty",
            ResponseKind::Json => "json",
            ResponseKind::Text => "text",
            ResponseKind::Bytes => "bytes",
            ResponseKind::Optional => "optional",
            ResponseKind::Paged => "paged",
            ResponseKind::Task => "task",
            ResponseKind::EventStream => "event-stream",
            ResponseKind::JsonOrStream => "json-or-stream",
        }
    }

    /// Whether the generator and the runtime build this kind today (all of them).
    pub fn is_built(self) -> bool {
        true
    }
}

/// Whether a success content type is read as text.
fn is_text_type(content_type: &str) -> bool {
    let ct = content_type.to_ascii_lowercase();
    (ct.starts_with("text/") && ct != "text/event-stream")
        || matches!(
            ct.as_str(),
            "application/javascript" | "application/xml" | "application/x-ndjson"
        )
}

#[derive(Debug, Clone)]
pub struct Op {
    pub id: String,
    pub method: String,
    pub path: String,
    pub host: usize,
    pub summary: Option<String>,
    pub description: Option<String>,
    pub auth: Vec<Vec<AuthScheme>>,
    pub path_params: Vec<Param>,
    pub query: Vec<Param>,
    /// Header parameters: typed builder methods, sent as headers.
    pub headers: Vec<Param>,
    pub body: Option<Body>,
    /// The fields of a multipart or URL-encoded body (empty for JSON or no body).
    pub form: Vec<FormField>,
    /// Whether the request body is required (in one of its encodings, when it has two).
    pub body_required: bool,
    /// The task profile whose acknowledgements this operation may answer with.
    pub task: Option<String>,
    /// The request-body kind, from the `requestBody` content types.
    pub request_kind: RequestKind,
    /// The response kind, from the success response and the extensions.
    pub response_kind: ResponseKind,
    pub result: Shape,
    pub success_status: u16,
    /// The envelope of its success body (a name of `Spec::envelopes`), `None`: bare.
    pub envelope: Option<String>,
    pub pagination: Option<(String, Option<String>)>,
    /// For list operations: the Rust type of one item.
    pub item_type: Option<String>,
    pub retry_safe: bool,
    pub omit_headers: Vec<String>,
    pub stream: Option<StreamDef>,
    /// A task operation's follow-on stream (`x-agentwire-follow`).
    pub follow: Option<FollowDef>,
    pub hand_written: bool,
    pub pointer: String,
    /// The range, length and pattern rules checked before any request.
    pub checks: Vec<super::checks::CheckDef>,
    /// Sent to an absolute URL the caller gives (`x-agentwire-absolute-url`: a presigned
    /// upload's URL from an earlier answer), not to its host and path.
    pub absolute_url: bool,
    /// Its multipart form takes text fields the spec does not name (`additionalProperties`
    /// of type string: a presigned upload's policy fields).
    pub form_open: bool,
    /// A success body reporting a failure (`x-agentwire-outcome`): ok, error and id members.
    pub outcome: Option<(String, Option<String>, Option<String>)>,
    /// A hand-written check of the JSON body's rules between fields (`x-agentwire-validate`:
    /// a function path from the platform module).
    pub validate: Option<String>,
    /// The dotted JSON body member carrying the call's idempotency key.
    pub idempotency_member: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Body {
    pub type_name: String,
    pub required: bool,
}

/// One field of a multipart (or URL-encoded) request body: a setter of the builder, a part (or
/// pair) on the wire.
#[derive(Debug, Clone)]
pub struct FormField {
    pub name: String,
    pub rust: String,
    pub required: bool,
    pub kind: FormKind,
    pub description: Option<String>,
    /// For files: the content types the spec's `encoding` allows (`image/*` wildcards; empty:
    /// any).
    pub content_types: Vec<String>,
    /// A text field's range, length and pattern rules.
    pub rule: Option<super::checks::RuleDef>,
}

/// What one form field holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FormKind {
    /// One file (`type: string, format: binary`).
    File,
    /// Several files under one name (an array of those).
    Files,
    /// A scalar, an enum or an array of them (the array repeats the field).
    Value(ParamType),
    /// Anything else (an object, an array of objects): sent as JSON text.
    Json,
}

/// A task operation's follow-on stream (`x-agentwire-follow`): after the acknowledgement, the
/// builder's `stream()` opens another operation's event stream instead of polling.
#[derive(Debug, Clone)]
pub struct FollowDef {
    /// The stream operation to open.
    pub stream: String,
    /// Acknowledgement members that may hold the stream's URL (first present wins).
    pub url_members: Vec<String>,
    /// The event carrying the final result: the stream ends after it, and a polled result is
    /// yielded as it.
    pub final_event: String,
}

/// A stream operation's event map (`x-agentwire-stream`).
#[derive(Debug, Clone)]
pub struct StreamDef {
    /// The generated event enum (`enum`, default `<OperationId>Event`).
    pub enum_name: String,
    /// The member of the JSON data naming an event's type; `None`: the SSE event name.
    pub type_member: Option<String>,
    /// Event type -> component schema of its data.
    pub events: BTreeMap<String, String>,
    /// Event types consumed, never yielded.
    pub heartbeat: Vec<String>,
    /// Event types yielded, then the stream ends.
    pub terminal: Vec<String>,
    /// Data lines that end the stream, never yielded (`[DONE]`).
    pub terminal_data: Vec<String>,
    /// Whether an undeclared event whose data is not JSON is yielded as it came (`raw`) rather
    /// than a Decode error (`error`, the default).
    pub non_json_raw: bool,
    pub flush_at_eof: bool,
    /// Where a reconnect names the last event received, if the stream can be resumed.
    pub resume: Option<ResumeParam>,
    /// A hand-written function of the platform module opening each connection.
    pub opener: Option<OpenerDef>,
    /// The boolean member of the JSON request body that asks for the stream (`stream`): `true`
    /// when the stream is opened, `false` when a JSON-or-stream operation is sent for JSON.
    pub body_flag: Option<String>,
    /// Whether a clean close also ends the stream, marker or not (`close-ends`).
    pub close_ends: bool,
}

impl StreamDef {
    /// Whether the stream machinery, not the caller, sets this query parameter (the resume
    /// position, or a parameter the opener supplies): the builder has no setter for it.
    pub fn sets_param(&self, name: &str) -> bool {
        self.resume == Some(ResumeParam::Query(name.to_string()))
            || self
                .opener
                .as_ref()
                .is_some_and(|o| o.supplies.iter().any(|s| s == name))
    }
}

/// `x-agentwire-stream.opener`: a function of `src/<platform>/` that opens each connection.
#[derive(Debug, Clone)]
pub struct OpenerDef {
    /// Its path from the platform module (`stream::open_with_ticket`).
    pub function: String,
    /// Query parameters it fills in itself (a ticket): the builder has no setter for them.
    pub supplies: Vec<String>,
}

/// The enum variant of an event type: `message` -> `Message`, `RUN_FINISHED` -> `RunFinished`.
pub fn event_variant(event_type: &str) -> String {
    pascal(event_type)
}

/// The keys `x-agentwire-stream` takes.
const STREAM_KEYS: &[&str] = &[
    "enum",
    "type-member",
    "events",
    "heartbeat",
    "terminal",
    "terminal-data",
    "non-json",
    "flush-at-eof",
    "resume",
    "opener",
    "body-flag",
    "close-ends",
];

/// Where a stream's resume position (an event id, or a time where the platform takes one) goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResumeParam {
    /// A query parameter (`resume: {query: after}`).
    Query(String),
    /// A request header (`resume: {header: Last-Event-ID}`).
    Header(String),
}

#[derive(Debug, Clone)]
pub struct EnumDef {
    pub name: String,
    pub values: Vec<String>,
    pub description: Option<String>,
}

/// Collects convention errors with their place.
pub struct Diagnostics<'a> {
    loaded: &'a Loaded,
    pub errors: Vec<String>,
}

impl<'a> Diagnostics<'a> {
    pub fn new(loaded: &'a Loaded) -> Self {
        Diagnostics {
            loaded,
            errors: Vec::new(),
        }
    }

    pub fn error(&mut self, pointer: &str, op: Option<&str>, message: impl AsRef<str>) {
        let at = self.loaded.at(pointer);
        let msg = match op {
            Some(op) => format!("{at}: operation {op}: {}", message.as_ref()),
            None => format!("{at}: {}", message.as_ref()),
        };
        self.errors.push(msg);
    }
}

fn str_list(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|i| i.as_str().map(str::to_owned))
            .collect(),
        Some(Value::String(s)) => vec![s.clone()],
        _ => Vec::new(),
    }
}

fn get_str(obj: &Value, key: &str) -> Option<String> {
    obj.get(key).and_then(Value::as_str).map(str::to_owned)
}

/// The component a `$ref` points at (`#/components/schemas/Agent` → `Agent`).
fn ref_name<'v>(schema: &'v Value, kind: &str) -> Option<&'v str> {
    schema
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|r| r.strip_prefix(&format!("#/components/{kind}/")))
}

/// Reads and checks a spec. Returns the model, or every convention error found. `reserved` are
/// the method names spec names may not become (see [`Reserved`]).
pub fn read(loaded: &Loaded, reserved: &Reserved) -> Result<Spec, Vec<String>> {
    let mut d = Diagnostics::new(loaded);
    let root = &loaded.value;

    check_extensions(root, "", &mut d);

    match root.get("openapi").and_then(Value::as_str) {
        Some(v) if v.starts_with("3.0.") => {}
        _ => d.error(
            "/openapi",
            None,
            "`openapi` must be 3.0.x (progenitor reads OpenAPI 3.0)",
        ),
    }
    let info = root.get("info").cloned().unwrap_or(Value::Null);
    let title = get_str(&info, "title").unwrap_or_default();
    let version = get_str(&info, "version").unwrap_or_default();

    // Platform.
    let platform = root
        .get("x-agentwire-platform")
        .cloned()
        .unwrap_or(Value::Null);
    let name = get_str(&platform, "name").unwrap_or_default();
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    {
        d.error(
            "/x-agentwire-platform",
            None,
            "`x-agentwire-platform.name` must be a lower-case identifier",
        );
    }
    let display_name = get_str(&platform, "display-name").unwrap_or_else(|| name.clone());
    // Credentials: a map name -> {description, env}.
    let mut credentials = Vec::new();
    match platform.get("credentials") {
        Some(Value::Object(map)) => {
            for (cname, c) in map {
                let cp = format!("/x-agentwire-platform/credentials/{}", escape(cname));
                if !is_snake_ident(cname) {
                    d.error(
                        &cp,
                        None,
                        format!("credential names are snake_case identifiers (they become builder setters): {cname:?}"),
                    );
                }
                let description = get_str(c, "description").unwrap_or_default();
                if description.trim().is_empty() {
                    d.error(
                        &cp,
                        None,
                        format!("credential `{cname}` needs a `description` (its setter's docs)"),
                    );
                }
                let env = get_str(c, "env")
                    .unwrap_or_else(|| format!("{}_{}", name.to_uppercase(), cname.to_uppercase()));
                credentials.push(CredentialDef {
                    name: cname.clone(),
                    env,
                    description,
                });
            }
        }
        None => {}
        Some(_) => d.error(
            "/x-agentwire-platform/credentials",
            None,
            "`credentials` maps each credential name to `{description, env}`",
        ),
    }
    let declared = |c: &str| credentials.iter().any(|x| x.name == c);
    let required_credentials = str_list(platform.get("required-credentials"));
    for c in &required_credentials {
        if !declared(c) {
            d.error(
                "/x-agentwire-platform/required-credentials",
                None,
                format!("`{c}` is not one of the platform's `credentials`"),
            );
        }
    }
    let idempotency_header = get_str(&platform, "idempotency-header");
    let request_id_header = get_str(&platform, "request-id-header");
    let writes_retry_safe = platform
        .get("writes-retry-safe")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    // Client settings: `{timeout|upload-timeout|max-retries: {env, default}}`.
    let mut settings = Vec::new();
    if let Some(map) = platform.get("settings") {
        let sp = "/x-agentwire-platform/settings";
        for (key, v) in map.as_object().into_iter().flatten() {
            let p = format!("{sp}/{}", escape(key));
            let known = matches!(key.as_str(), "timeout" | "upload-timeout" | "max-retries");
            let shape_ok = v
                .as_object()
                .is_some_and(|m| m.keys().all(|k| k == "env" || k == "default"));
            let default = v.get("default").and_then(Value::as_f64);
            let default_ok = match (key.as_str(), v.get("default")) {
                (_, None) => true,
                ("max-retries", Some(d)) => d.as_u64().is_some_and(|n| n <= 100),
                (_, Some(_)) => default.is_some_and(|d| d > 0.0 && d <= 86_400.0),
            };
            if !known || !shape_ok || !default_ok {
                d.error(
                    &p,
                    None,
                    "settings are `timeout`, `upload-timeout` (seconds, above zero) and `max-retries` (0..100), each `{env: <VARIABLE>, default: <value>}`",
                );
                continue;
            }
            settings.push((key.clone(), get_str(v, "env"), default));
        }
        if !map.is_object() {
            d.error(sp, None, "`settings` maps each setting to `{env, default}`");
        }
    }

    // Hosts.
    let mut hosts = Vec::new();
    match root.get("servers").and_then(Value::as_array) {
        Some(servers) if !servers.is_empty() => {
            for (i, s) in servers.iter().enumerate() {
                let p = format!("/servers/{i}");
                let url = get_str(s, "url").unwrap_or_default();
                let host = get_str(s, "x-agentwire-host");
                let prefix = get_str(s, "x-agentwire-prefix").unwrap_or_default();
                if host.is_none() {
                    d.error(&p, None, "every server needs `x-agentwire-host` (its name)");
                }
                if !url.starts_with("https://") && !url.starts_with("http://") {
                    d.error(&p, None, "server `url` must be an absolute http(s) URL");
                }
                if !prefix.is_empty()
                    && !url
                        .trim_end_matches('/')
                        .ends_with(prefix.trim_end_matches('/'))
                {
                    d.error(
                        &p,
                        None,
                        "the server URL must end with its `x-agentwire-prefix`",
                    );
                }
                let host_name = host.unwrap_or_default();
                let default_env = if i == 0 {
                    format!("{}_BASE_URL", name.to_uppercase())
                } else {
                    format!(
                        "{}_{}_BASE_URL",
                        name.to_uppercase(),
                        host_name.to_uppercase()
                    )
                };
                hosts.push(Host {
                    env: get_str(s, "x-agentwire-env").unwrap_or(default_env),
                    envelope: get_str(s, "x-agentwire-envelope"),
                    errors: get_str(s, "x-agentwire-errors").unwrap_or_default(),
                    name: host_name,
                    url,
                    prefix,
                });
            }
        }
        _ => d.error("", None, "the spec needs at least one entry in `servers`"),
    }

    // Named envelopes and error formats; each host names its own.
    let mut envelopes = BTreeMap::new();
    if let Some(map) = root.get("x-agentwire-envelopes") {
        match map.as_object() {
            Some(map) => {
                for (ename, e) in map {
                    envelopes.insert(
                        ename.clone(),
                        Envelope {
                            data: get_str(e, "data").unwrap_or_else(|| "data".into()),
                            meta: get_str(e, "meta").unwrap_or_else(|| "meta".into()),
                            required: str_list(e.get("required")),
                        },
                    );
                }
            }
            None => d.error(
                "/x-agentwire-envelopes",
                None,
                "`x-agentwire-envelopes` maps each envelope's name to `{data, meta, required}`",
            ),
        }
    }
    let mut error_formats = BTreeMap::new();
    if let Some(map) = root.get("x-agentwire-error-formats") {
        match map.as_object() {
            Some(map) => {
                for (fname, e) in map {
                    error_formats.insert(
                        fname.clone(),
                        Errors {
                            message: str_list(e.get("message")),
                            code: str_list(e.get("code")),
                            request_id: str_list(e.get("request-id")),
                            validation_codes: str_list(e.get("validation-codes")),
                            field_errors: get_str(e, "field-errors"),
                            retry_after: str_list(e.get("retry-after")),
                        },
                    );
                }
            }
            None => d.error(
                "/x-agentwire-error-formats",
                None,
                "`x-agentwire-error-formats` maps each format's name to `{message, code, ...}`",
            ),
        }
    }
    for (i, host) in hosts.iter_mut().enumerate() {
        let p = format!("/servers/{i}");
        if let Some(e) = &host.envelope
            && !envelopes.contains_key(e)
        {
            d.error(
                &p,
                None,
                format!("envelope `{e}` is not in `x-agentwire-envelopes`"),
            );
        }
        if host.errors.is_empty() {
            // None declared at all: the built-in format (`message`/`error`/`detail`, `code`).
            if error_formats.len() == 1 {
                host.errors = error_formats.keys().next().cloned().unwrap_or_default();
            } else if !error_formats.is_empty() {
                d.error(
                    &p,
                    None,
                    "every server names its error format: `x-agentwire-errors: <name of x-agentwire-error-formats>`",
                );
            }
        } else if !error_formats.contains_key(&host.errors) {
            d.error(
                &p,
                None,
                format!(
                    "error format `{}` is not in `x-agentwire-error-formats`",
                    host.errors
                ),
            );
        }
    }

    let mut task_profiles = BTreeMap::new();
    if let Some(map) = root.get("x-agentwire-tasks") {
        match map.as_object() {
            Some(map) => {
                for (tname, t) in map {
                    let tp = format!("/x-agentwire-tasks/{}", escape(tname));
                    if let Some(profile) = read_task_profile(t, &tp, &mut d) {
                        task_profiles.insert(tname.clone(), profile);
                    }
                }
            }
            None => d.error(
                "/x-agentwire-tasks",
                None,
                "`x-agentwire-tasks` maps each task profile's name to its settings",
            ),
        }
    }

    let schemas = root
        .pointer("/components/schemas")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();

    let mut page_styles = BTreeMap::new();
    if let Some(styles) = root
        .get("x-agentwire-pagination")
        .and_then(Value::as_object)
    {
        for (style_name, s) in styles {
            let p = format!("/x-agentwire-pagination/{}", escape(style_name));
            let kind = get_str(s, "kind").unwrap_or_default();
            if !matches!(kind.as_str(), "page" | "offset" | "cursor") {
                d.error(&p, None, "pagination `kind` must be page, offset or cursor");
            }
            let Some(page_param) = get_str(s, "page-param") else {
                d.error(&p, None, "pagination style needs `page-param`");
                continue;
            };
            let meta_schema = get_str(s, "meta-schema");
            if let Some(m) = meta_schema.as_ref().filter(|m| !schemas.contains_key(*m)) {
                d.error(
                    &p,
                    None,
                    format!("`meta-schema` {m} is not a component schema"),
                );
            }
            let mut fields = BTreeMap::new();
            for key in [
                "total",
                "page-count",
                "current",
                "size",
                "has-next",
                "has-previous",
                "next-cursor",
                "cursor-param",
            ] {
                if let Some(v) = get_str(s, key) {
                    fields.insert(key, v);
                }
            }
            if fields.contains_key("cursor-param")
                && (kind != "offset" || !fields.contains_key("next-cursor"))
            {
                d.error(
                    &p,
                    None,
                    "`cursor-param` goes on an offset style with `next-cursor` (a list answering both)",
                );
            }
            page_styles.insert(
                style_name.clone(),
                PageStyle {
                    kind,
                    page_param,
                    size_param: get_str(s, "size-param"),
                    meta_schema,
                    meta: get_str(s, "meta"),
                    fields,
                },
            );
        }
    }

    // Security schemes.
    let mut schemes: BTreeMap<String, AuthScheme> = BTreeMap::new();
    if let Some(ss) = root
        .pointer("/components/securitySchemes")
        .and_then(Value::as_object)
    {
        for (scheme_name, s) in ss {
            let p = format!("/components/securitySchemes/{}", escape(scheme_name));
            let credential = get_str(s, "x-agentwire-credential").unwrap_or_default();
            if !declared(&credential) {
                d.error(
                    &p,
                    None,
                    format!(
                        "security schemes need `x-agentwire-credential`, one of the platform's `credentials` (not {credential:?})"
                    ),
                );
            }
            let ty = get_str(s, "type").unwrap_or_default();
            let scheme = match ty.as_str() {
                "http"
                    if get_str(s, "scheme").is_some_and(|x| x.eq_ignore_ascii_case("bearer")) =>
                {
                    AuthScheme::Bearer(credential)
                }
                "apiKey" => {
                    let header = get_str(s, "name").unwrap_or_default();
                    match get_str(s, "in").as_deref() {
                        Some("header") => AuthScheme::Header(header, credential),
                        Some("query") => AuthScheme::Query(header, credential),
                        _ => {
                            d.error(&p, None, "apiKey schemes go in a header or the query");
                            continue;
                        }
                    }
                }
                _ => {
                    d.error(
                        &p,
                        None,
                        "supported schemes: http bearer, apiKey in header or query",
                    );
                    continue;
                }
            };
            schemes.insert(scheme_name.clone(), scheme);
        }
    }
    let resolve_security = |sec: &Value, p: &str, op: Option<&str>, d: &mut Diagnostics| {
        let mut alternatives = Vec::new();
        for (i, req) in sec.as_array().into_iter().flatten().enumerate() {
            let mut all = Vec::new();
            for name in req.as_object().into_iter().flat_map(|o| o.keys()) {
                match schemes.get(name) {
                    Some(s) => all.push(s.clone()),
                    None => d.error(
                        &format!("{p}/{i}"),
                        op,
                        format!("unknown security scheme {name}"),
                    ),
                }
            }
            if !all.is_empty() {
                alternatives.push(all);
            }
        }
        alternatives
    };
    let default_auth = match root.get("security") {
        Some(sec) => resolve_security(sec, "/security", None, &mut d),
        None => Vec::new(),
    };

    // Schemas: names, enums, loose arrays, forbidden constructs.
    let mut enums = Vec::new();
    let mut loose = BTreeMap::new();
    for (schema_name, schema) in &schemas {
        let p = format!("/components/schemas/{}", escape(schema_name));
        if !schema_name.starts_with(|c: char| c.is_ascii_uppercase())
            || !schema_name.chars().all(|c| c.is_ascii_alphanumeric())
        {
            d.error(
                &p,
                None,
                format!("component schema names are PascalCase: {schema_name}"),
            );
        }
        if let Some(values) = schema.get("enum").and_then(Value::as_array) {
            if get_str(schema, "type").as_deref() != Some("string")
                || values.iter().any(|v| !v.is_string())
            {
                d.error(
                    &p,
                    None,
                    "named enums are `type: string` with string values",
                );
            } else {
                enums.push(EnumDef {
                    name: schema_name.clone(),
                    values: values
                        .iter()
                        .filter_map(|v| v.as_str().map(str::to_owned))
                        .collect(),
                    description: get_str(schema, "description"),
                });
            }
        }
        check_schema(schema, &p, None, true, &schemas, &mut loose, &mut d);
    }
    check_reference_cycles(&schemas, &mut d);

    // Root tags: each named once, with a description.
    let mut declared_tags = BTreeSet::new();
    for (i, t) in root
        .get("tags")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        let tp = format!("/tags/{i}");
        match (get_str(t, "name"), get_str(t, "description")) {
            (Some(name), Some(_)) => {
                if !declared_tags.insert(name.clone()) {
                    d.error(&tp, None, format!("tag `{name}` is declared twice"));
                }
            }
            (Some(name), None) => d.error(&tp, None, format!("tag `{name}` needs a description")),
            (None, _) => d.error(&tp, None, "a root tag needs a `name`"),
        }
    }

    // Operations.
    let mut ops = Vec::new();
    let mut seen_ids = BTreeMap::new();
    let paths = root
        .get("paths")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    for (path, item) in &paths {
        let pp = format!("/paths/{}", escape(path));
        if !path.starts_with('/') {
            d.error(&pp, None, "paths start with `/`");
            continue;
        }
        let Some(item) = item.as_object() else {
            d.error(&pp, None, "path items must be objects (no `$ref`)");
            continue;
        };
        for key in item.keys() {
            if !METHODS.contains(&key.as_str())
                && key != "parameters"
                && key != "summary"
                && key != "description"
            {
                d.error(
                    &format!("{pp}/{}", escape(key)),
                    None,
                    format!("unsupported path item key {key:?}"),
                );
            }
        }
        let shared_params = item
            .get("parameters")
            .cloned()
            .unwrap_or(Value::Array(vec![]));
        for method in METHODS {
            let Some(op) = item.get(*method) else {
                continue;
            };
            let p = format!("{pp}/{method}");
            if let Some(op) = read_op(
                &p,
                path,
                method,
                op,
                &shared_params,
                &hosts,
                &page_styles,
                &schemas,
                &default_auth,
                writes_retry_safe,
                &resolve_security,
                &mut loose,
                &declared_tags,
                reserved,
                &mut d,
            ) {
                if let Some(prev) = seen_ids.insert(op.id.clone(), p.clone()) {
                    let at = loaded.at(&prev);
                    d.error(
                        &p,
                        Some(&op.id),
                        format!("operationId is already used at {at}"),
                    );
                }
                ops.push(op);
            }
        }
    }
    check_groups(&ops, reserved, &mut d);
    for op in &ops {
        if let Some(f) = &op.follow {
            let at = format!("{}/x-agentwire-follow", op.pointer);
            match ops.iter().find(|o| o.id == f.stream) {
                Some(target) => match &target.stream {
                    Some(stream) if stream.events.contains_key(&f.final_event) => {}
                    Some(_) => d.error(
                        &at,
                        Some(&op.id),
                        format!(
                            "`final-event` {} is not an event of {}'s `x-agentwire-stream`",
                            f.final_event, f.stream
                        ),
                    ),
                    None => d.error(
                        &at,
                        Some(&op.id),
                        format!("`{}` is not an event-stream operation", f.stream),
                    ),
                },
                None => d.error(
                    &at,
                    Some(&op.id),
                    format!("`stream` {} is not an operation of the spec", f.stream),
                ),
            }
        }
        if let Some(t) = &op.task {
            match task_profiles.get(t) {
                None => d.error(
                    &format!("{}/x-agentwire-task", op.pointer),
                    Some(&op.id),
                    format!("task profile `{t}` is not in `x-agentwire-tasks`"),
                ),
                Some(profile) => {
                    let status = ops.iter().find(|o| o.id == profile.status_operation);
                    if let Some(s) = status.filter(|s| s.path_params.len() != 1) {
                        d.error(
                            &s.pointer,
                            Some(&s.id),
                            format!(
                                "the status operation of task profile `{t}` takes the task id as its one path parameter (it has {})",
                                s.path_params.len()
                            ),
                        );
                    }
                    if status.is_none_or(|s| s.method != "GET") {
                        d.error(
                            &format!("{}/x-agentwire-task", op.pointer),
                            Some(&op.id),
                            format!(
                                "task profile `{t}` polls `{}`, which is not a GET operation of the spec",
                                profile.status_operation
                            ),
                        );
                    }
                }
            }
        }
        if let Some(e) = op.envelope.as_ref().filter(|e| !envelopes.contains_key(*e)) {
            d.error(
                &op.pointer,
                Some(&op.id),
                format!("envelope `{e}` is not in `x-agentwire-envelopes`"),
            );
        }
    }

    let realtime = realtime(root, &credentials, &ops, &mut d);

    if d.errors.is_empty() {
        Ok(Spec {
            name,
            display_name,
            title,
            version,
            credentials,
            required_credentials,
            idempotency_header,
            request_id_header,
            settings,
            hosts,
            envelopes,
            error_formats,
            page_styles,
            task_profiles,
            ops,
            enums,
            loose,
            schemas: schemas.keys().cloned().collect(),
            realtime,
        })
    } else {
        Err(d.errors)
    }
}

/// Every `x-agentwire-*` key anywhere must be a known one.
fn check_extensions(v: &Value, pointer: &str, d: &mut Diagnostics) {
    match v {
        Value::Object(map) => {
            for (k, child) in map {
                let p = format!("{pointer}/{}", escape(k));
                if k.starts_with("x-agentwire") && !KNOWN_EXTENSIONS.contains(&k.as_str()) {
                    d.error(
                        &p,
                        None,
                        format!("unknown extension {k} (see openapi/README.md)"),
                    );
                }
                check_extensions(child, &p, d);
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                check_extensions(child, &format!("{pointer}/{i}"), d);
            }
        }
        _ => {}
    }
}

/// Checks one schema and everything inside it. `component_root` is true for the top of a
/// named component (where enums are allowed).
fn check_schema(
    schema: &Value,
    p: &str,
    op: Option<&str>,
    component_root: bool,
    schemas: &Map<String, Value>,
    loose: &mut BTreeMap<String, String>,
    d: &mut Diagnostics,
) {
    let Some(obj) = schema.as_object() else {
        d.error(p, op, "a schema must be an object");
        return;
    };
    if let Some(r) = obj.get("$ref").and_then(Value::as_str) {
        match r.strip_prefix("#/components/schemas/") {
            Some(name) if schemas.contains_key(name) => {}
            Some(name) => d.error(p, op, format!("`$ref` to a missing schema {name}")),
            None => d.error(
                p,
                op,
                format!("only local `#/components/schemas/` refs are allowed: {r}"),
            ),
        }
        return;
    }
    if obj.get("additionalProperties") == Some(&Value::Bool(false)) {
        d.error(
            p,
            op,
            "`additionalProperties: false` is forbidden (responses must accept new fields)",
        );
    }
    if obj.contains_key("allOf") {
        d.error(
            p,
            op,
            "`allOf` is forbidden: write the object out or `$ref` it",
        );
    }
    let enum_values = obj
        .get("enum")
        .and_then(Value::as_array)
        .map_or(0, Vec::len);
    if !component_root && enum_values > 1 {
        d.error(
            p,
            op,
            "enums must be named component schemas (`$ref: '#/components/schemas/<Name>'`) so that they are open in Rust",
        );
    }
    if obj.get("x-agentwire-loose") == Some(&Value::Bool(true)) {
        match obj.get("items").and_then(|i| ref_name(i, "schemas")) {
            Some(item) if obj.get("type").and_then(Value::as_str) == Some("array") => {
                loose.insert(format!("Loose{item}List"), item.to_string());
            }
            _ => d.error(
                p,
                op,
                "`x-agentwire-loose` goes on an array whose items are a `$ref`",
            ),
        }
    }
    if let Some(props) = obj.get("properties").and_then(Value::as_object) {
        for (name, prop) in props {
            let pp = format!("{p}/properties/{}", escape(name));
            let typed = prop.get("type").is_some()
                || prop.get("$ref").is_some()
                || prop.get("oneOf").is_some()
                || prop.get("anyOf").is_some();
            let any_documented = prop.as_object().is_some_and(|o| {
                o.keys()
                    .all(|k| k == "description" || k == "nullable" || k.starts_with("x-"))
            }) && prop.get("description").is_some();
            if !typed && !any_documented {
                d.error(
                    &pp,
                    op,
                    format!("property `{name}` has no type (give `type`/`$ref`, or `{{}}` with a description saying why it is untyped)"),
                );
            }
            check_schema(prop, &pp, op, false, schemas, loose, d);
        }
    }
    if let Some(items) = obj.get("items") {
        check_schema(items, &format!("{p}/items"), op, false, schemas, loose, d);
    }
    if let Some(extra) = obj.get("additionalProperties").filter(|v| v.is_object()) {
        check_schema(
            extra,
            &format!("{p}/additionalProperties"),
            op,
            false,
            schemas,
            loose,
            d,
        );
    }
    for key in ["oneOf", "anyOf"] {
        if let Some(alts) = obj.get(key).and_then(Value::as_array) {
            for (i, alt) in alts.iter().enumerate() {
                check_schema(alt, &format!("{p}/{key}/{i}"), op, false, schemas, loose, d);
            }
        }
    }
}

/// The component schemas a schema stands for at the same place in a value: its `$ref`, and
/// those of its `oneOf`/`anyOf`/`allOf` alternatives and `not`, each with the pointer of the
/// `$ref`. Properties, `items` and `additionalProperties` describe values one level down, so
/// they are not followed.
fn same_place_refs(schema: &Value, pointer: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut todo = vec![(schema, pointer.to_string())];
    while let Some((s, p)) = todo.pop() {
        if let Some(name) = ref_name(s, "schemas") {
            out.push((name.to_string(), p.clone()));
        }
        for key in ["oneOf", "anyOf", "allOf"] {
            for (i, alt) in s
                .get(key)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .enumerate()
            {
                todo.push((alt, format!("{p}/{key}/{i}")));
            }
        }
        if let Some(not) = s.get("not") {
            todo.push((not, format!("{p}/not")));
        }
    }
    out
}

/// How many component schemas may stand for one another at the same place in a value
/// (`Alias: {$ref: Node}`, `Either: {oneOf: [{$ref: A}, {$ref: B}]}`): a validator and the
/// decoder follow the whole chain at every level of a value, so a recursive schema's chain of
/// hops multiplies the stack each level of a value needs. Real specs need two or three.
pub const MAX_REFERENCE_CHAIN: usize = 8;

/// Refuses cycles of component schemas that refer to one another without an object property or
/// an array item in between (`LoopA: {$ref: LoopB}`, `LoopB: {$ref: LoopA}`, or a schema that
/// is only a `$ref` to itself): such a schema describes no finite value, has no Rust type, and
/// would send a validator round the cycle forever. Recursion through a property or `items` (a
/// tree node's `children`) is fine. Also refuses chains of such references longer than
/// [`MAX_REFERENCE_CHAIN`]. Iterative and linear: a spec may have many schemas.
fn check_reference_cycles(schemas: &Map<String, Value>, d: &mut Diagnostics) {
    // Schemas by index (in name order), their references, and who refers to them.
    let names: Vec<&str> = schemas.keys().map(String::as_str).collect();
    let index: BTreeMap<&str, usize> = names.iter().enumerate().map(|(i, n)| (*n, i)).collect();
    let mut succ: Vec<Vec<(usize, String)>> = vec![Vec::new(); names.len()];
    let mut pred: Vec<Vec<usize>> = vec![Vec::new(); names.len()];
    for (i, (name, schema)) in schemas.iter().enumerate() {
        let p = format!("/components/schemas/{}", escape(name));
        for (target, pointer) in same_place_refs(schema, &p) {
            if let Some(&j) = index.get(target.as_str()) {
                succ[i].push((j, pointer));
                pred[j].push(i);
            }
        }
    }
    // Peel off every schema whose references all end at peeled ones (it cannot be on a cycle),
    // noting the longest chain of references from it; whatever stays refers to a schema that
    // stays, so a walk from it finds a cycle.
    let mut out_degree: Vec<usize> = succ.iter().map(Vec::len).collect();
    let mut gone = vec![false; names.len()];
    let mut chain = vec![0usize; names.len()];
    let mut in_cycle = vec![false; names.len()];
    let mut queue: Vec<usize> = (0..names.len()).filter(|i| out_degree[*i] == 0).collect();
    loop {
        while let Some(i) = queue.pop() {
            if std::mem::replace(&mut gone[i], true) {
                continue;
            }
            let longest = succ[i]
                .iter()
                .filter(|(j, _)| !in_cycle[*j])
                .max_by_key(|(j, _)| chain[*j]);
            if let (Some((j, pointer)), false) = (longest, in_cycle[i]) {
                chain[i] = chain[*j] + 1;
                if chain[i] == MAX_REFERENCE_CHAIN + 1 {
                    let mut hops = vec![names[i]];
                    let mut at = *j;
                    while hops.len() <= MAX_REFERENCE_CHAIN + 1 {
                        hops.push(names[at]);
                        match succ[at].iter().max_by_key(|(k, _)| chain[*k]) {
                            Some((k, _)) if chain[at] > 0 => at = *k,
                            _ => break,
                        }
                    }
                    d.error(
                        pointer,
                        None,
                        format!(
                            "schema {} starts a chain of more than {MAX_REFERENCE_CHAIN} schemas that stand for one another at the same place in a value ({}): shorten it",
                            names[i],
                            hops.join(" -> ")
                        ),
                    );
                }
            }
            for &p in &pred[i] {
                out_degree[p] = out_degree[p].saturating_sub(1);
                if out_degree[p] == 0 && !gone[p] {
                    queue.push(p);
                }
            }
        }
        let Some(start) = (0..names.len()).find(|i| !gone[*i]) else {
            return;
        };
        let mut path: Vec<(usize, &str)> = Vec::new(); // (schema, pointer of its next `$ref`)
        let mut on_path = vec![false; names.len()];
        let mut at = start;
        while !on_path[at] {
            let Some((next, pointer)) = succ[at].iter().find(|(t, _)| !gone[*t]) else {
                return; // cannot happen: a schema that stays refers to one that stays
            };
            on_path[at] = true;
            path.push((at, pointer.as_str()));
            at = *next;
        }
        let first = path.iter().position(|(n, _)| *n == at).unwrap_or(0);
        let cycle = &path[first..];
        // Reported at the `$ref` of the alphabetically first schema of the cycle.
        let lead = (0..cycle.len()).min_by_key(|k| cycle[*k].0).unwrap_or(0);
        let message = if cycle.len() == 1 {
            format!(
                "schema {} is only a reference to itself: it describes no finite value and has no Rust type (recursion must go through an object property or array `items`)",
                names[cycle[0].0]
            )
        } else {
            let chain: Vec<&str> = (0..=cycle.len())
                .map(|k| names[cycle[(lead + k) % cycle.len()].0])
                .collect();
            format!(
                "schemas {} refer to one another with no object property or array item in between: they describe no finite value and have no Rust type (recursion must go through a property or `items`)",
                chain.join(" -> ")
            )
        };
        d.error(cycle[lead].1, None, message);
        // The cycle is reported: peel it too, so that the schemas leading into it are not.
        for &(n, _) in cycle {
            in_cycle[n] = true;
            out_degree[n] = 0;
            queue.push(n);
        }
    }
}

/// The Rust type a schema maps to in a result or parameter position.
fn rust_type(schema: &Value) -> Option<String> {
    if let Some(name) = ref_name(schema, "schemas") {
        return Some(format!("types::{name}"));
    }
    match schema.get("type").and_then(Value::as_str) {
        Some("string") => Some("String".into()),
        Some("integer") => Some("i64".into()),
        Some("number") => Some("f64".into()),
        Some("boolean") => Some("bool".into()),
        Some("array") => {
            let item = rust_type(schema.get("items")?)?;
            Some(format!("Vec<{item}>"))
        }
        Some("object") if schema.get("properties").is_none() => {
            Some("::serde_json::Map<String, ::serde_json::Value>".into())
        }
        _ => None,
    }
}

/// Turns a `security` list into auth alternatives (reporting unknown schemes).
type SecurityResolver<'a> =
    dyn Fn(&Value, &str, Option<&str>, &mut Diagnostics) -> Vec<Vec<AuthScheme>> + 'a;

#[allow(clippy::too_many_arguments)]
fn read_op(
    p: &str,
    path: &str,
    method: &str,
    op: &Value,
    shared_params: &Value,
    hosts: &[Host],
    page_styles: &BTreeMap<String, PageStyle>,
    schemas: &Map<String, Value>,
    default_auth: &[Vec<AuthScheme>],
    writes_retry_safe: bool,
    resolve_security: &SecurityResolver,
    loose: &mut BTreeMap<String, String>,
    declared_tags: &BTreeSet<String>,
    reserved: &Reserved,
    d: &mut Diagnostics,
) -> Option<Op> {
    let id = match op.get("operationId").and_then(Value::as_str) {
        Some(id) => id.to_string(),
        None => {
            d.error(
                p,
                None,
                format!("{} {path} has no operationId", method.to_uppercase()),
            );
            return None;
        }
    };
    let valid_id = id.split('.').count() >= 2
        && id.split('.').all(|part| {
            part.starts_with(|c: char| c.is_ascii_lowercase())
                && part
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        });
    if !valid_id {
        d.error(
            &format!("{p}/operationId"),
            Some(&id),
            "operationId must be dotted snake_case `group[.group].method`",
        );
    }
    let opid = Some(id.as_str());

    // One tag per operation: its top-level group, declared at the root (documentation tools and
    // other generators group by it).
    let group = id.split('.').next().unwrap_or_default();
    let tags = str_list(op.get("tags"));
    if tags.len() != 1 || tags[0] != group {
        d.error(
            &format!("{p}/tags"),
            opid,
            format!("operations have exactly one tag, their top-level group: `tags: [{group}]`"),
        );
    } else if !declared_tags.contains(group) {
        d.error(
            &format!("{p}/tags"),
            opid,
            format!("tag `{group}` is not declared in the root `tags` list (with a description)"),
        );
    }

    let host = match op.get("x-agentwire-host").and_then(Value::as_str) {
        None => 0,
        Some(h) => match hosts.iter().position(|x| x.name == h) {
            Some(i) => i,
            None => {
                d.error(
                    &format!("{p}/x-agentwire-host"),
                    opid,
                    format!("unknown host {h}"),
                );
                0
            }
        },
    };

    let auth = match op.get("security") {
        Some(sec) => resolve_security(sec, &format!("{p}/security"), opid, d),
        None => default_auth.to_vec(),
    };

    // Parameters, and the rules checked before any request (`checks.rs`).
    let mut checks = Vec::new();
    let mut path_params = Vec::new();
    let mut query = Vec::new();
    let mut headers = Vec::new();
    let mut params: Vec<(String, Value)> = Vec::new();
    for (i, prm) in shared_params.as_array().into_iter().flatten().enumerate() {
        params.push((
            format!("/paths/{}/parameters/{i}", escape(path)),
            prm.clone(),
        ));
    }
    for (i, prm) in op
        .get("parameters")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        params.push((format!("{p}/parameters/{i}"), prm.clone()));
    }
    // Every parameter's Rust name, for the collision check below: (name, in, pointer).
    let mut rust_names: Vec<(String, String, String)> = Vec::new();
    for (pp, prm) in &params {
        let name = get_str(prm, "name").unwrap_or_default();
        let location = get_str(prm, "in").unwrap_or_default();
        rust_names.push((name.clone(), location.clone(), pp.clone()));
        let schema = prm.get("schema").cloned().unwrap_or(Value::Null);
        let ty = param_type(&schema, schemas);
        let Some(ty) = ty else {
            let inline_enum = schema
                .get("enum")
                .and_then(Value::as_array)
                .is_some_and(|e| e.len() > 1);
            let why = if inline_enum {
                "its enum must be a named component schema (`$ref: '#/components/schemas/<Name>'`) so that it is open in Rust"
            } else {
                "it needs a schema with a primitive type or an enum `$ref`"
            };
            d.error(pp, opid, format!("parameter `{name}`: {why}"));
            continue;
        };
        match super::checks::rule_of(&schema, schemas) {
            Ok(Some(rule)) => match location.as_str() {
                "query" => checks.push(super::checks::CheckDef {
                    at: super::checks::At::Query(name.clone()),
                    label: name.clone(),
                    rule,
                }),
                "header" => checks.push(super::checks::CheckDef {
                    at: super::checks::At::Header(name.clone()),
                    label: name.clone(),
                    rule,
                }),
                // A path parameter is never empty (the runtime refuses it): `minLength: 1`
                // says the same.
                "path" if rule
                    == (super::checks::RuleDef {
                        min_length: Some(1),
                        ..Default::default()
                    }) => {}
                _ => d.error(
                    pp,
                    opid,
                    format!("parameter `{name}`: range, length and pattern rules are checked on query and header parameters (a path parameter takes `minLength: 1` only)"),
                ),
            },
            Ok(None) => {}
            Err(e) => d.error(pp, opid, format!("parameter `{name}`: {e}")),
        }
        let param = Param {
            rust: rust_ident(&name),
            name: name.clone(),
            ty,
            required: prm
                .get("required")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            description: get_str(prm, "description"),
        };
        match location.as_str() {
            "path" => {
                if !param.required {
                    d.error(
                        pp,
                        opid,
                        format!("path parameter `{name}` must be `required: true`"),
                    );
                }
                path_params.push(param);
            }
            "query" => query.push(param),
            "header" => {
                if !matches!(
                    param.ty,
                    ParamType::String | ParamType::Integer | ParamType::Enum(_)
                ) {
                    d.error(
                        pp,
                        opid,
                        format!(
                            "header parameter `{name}` must be a string, an integer or an enum"
                        ),
                    );
                }
                headers.push(param);
            }
            other => d.error(
                pp,
                opid,
                format!("parameters in {other:?} are not supported"),
            ),
        }
    }
    // Path template and path parameters agree, in template order.
    let mut template_vars = Vec::new();
    let mut rest = path;
    while let Some(start) = rest.find('{') {
        let Some(end) = rest[start..].find('}') else {
            break;
        };
        template_vars.push(rest[start + 1..start + end].to_string());
        rest = &rest[start + end + 1..];
    }
    for v in &template_vars {
        if !path_params.iter().any(|pp| &pp.name == v) {
            d.error(
                p,
                opid,
                format!("path variable {{{v}}} has no path parameter"),
            );
        }
    }
    for pp in &path_params {
        if !template_vars.contains(&pp.name) {
            d.error(
                p,
                opid,
                format!("path parameter `{}` is not in the path", pp.name),
            );
        }
    }
    path_params.sort_by_key(|pp| template_vars.iter().position(|v| v == &pp.name));

    // Body.
    let hand_written = op
        .get("x-agentwire-hand-written")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let mut body = None;
    let mut form = Vec::new();
    let mut body_required = false;
    let mut request_kind = RequestKind::None;
    if let Some(rb) = op.get("requestBody") {
        let bp = format!("{p}/requestBody");
        let required = rb.get("required").and_then(Value::as_bool).unwrap_or(false);
        body_required = required;
        let content = rb.get("content").and_then(Value::as_object);
        if let Some(c) = content {
            let has = |t: &str| c.contains_key(t);
            request_kind = match c.len() {
                1 if has("application/json") => RequestKind::Json,
                1 if has("multipart/form-data") => RequestKind::Multipart,
                1 if has("application/x-www-form-urlencoded") => RequestKind::Form,
                2 if has("application/json") && has("multipart/form-data") => {
                    RequestKind::JsonOrMultipart
                }
                _ => {
                    d.error(
                        &bp,
                        opid,
                        "a request body is application/json, multipart/form-data, both, or application/x-www-form-urlencoded",
                    );
                    RequestKind::Json
                }
            };
        }
        if let Some(c) = content {
            // The JSON body: a `$ref` to a named component (typed by the generator).
            if let Some(media) = c.get("application/json") {
                match ref_name(&media["schema"], "schemas") {
                    Some(name) => {
                        match super::checks::body_checks(&media["schema"], schemas) {
                            Ok(found) => checks.extend(found),
                            Err(e) => d.error(
                                &format!("{bp}/content/application~1json/schema"),
                                opid,
                                format!("request body {e}"),
                            ),
                        }
                        body = Some(Body {
                            type_name: format!("types::{name}"),
                            // With a multipart alternative, neither encoding is required alone.
                            required: required && c.len() == 1,
                        });
                    }
                    None => d.error(
                        &format!("{bp}/content/application~1json/schema"),
                        opid,
                        "request bodies are a `$ref` to a named component schema",
                    ),
                }
            }
            for ct in ["multipart/form-data", "application/x-www-form-urlencoded"] {
                if let Some(media) = c.get(ct) {
                    let mp = format!("{bp}/content/{}", escape(ct));
                    // Within its encoding, a form's required fields are required whenever the
                    // body is, or the form is one of two encodings.
                    form = read_form(
                        media,
                        &mp,
                        required || c.len() > 1,
                        ct == "multipart/form-data",
                        opid,
                        schemas,
                        d,
                    );
                }
            }
            for (ct, media) in c {
                if let Some(schema) = media.get("schema") {
                    check_schema(
                        schema,
                        &format!("{bp}/content/{}/schema", escape(ct)),
                        opid,
                        false,
                        schemas,
                        loose,
                        d,
                    );
                }
            }
            if c.is_empty() {
                d.error(&bp, opid, "requestBody needs `content`");
            }
        } else {
            d.error(&bp, opid, "requestBody needs `content`");
        }
        for f in &form {
            let at = format!("{bp}/content");
            rust_names.push((f.name.clone(), "form field".to_owned(), at));
            if let Some(rule) = &f.rule {
                checks.push(super::checks::CheckDef {
                    at: super::checks::At::Form(f.name.clone()),
                    label: f.name.clone(),
                    rule: rule.clone(),
                });
            }
        }
    }

    let form_open = op
        .pointer("/requestBody/content/multipart~1form-data")
        .is_some_and(|media| form_is_open(media, schemas));
    let absolute_url = match op.get("x-agentwire-absolute-url") {
        None => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => {
            d.error(
                &format!("{p}/x-agentwire-absolute-url"),
                opid,
                "`x-agentwire-absolute-url` is true or false",
            );
            false
        }
    };
    if absolute_url && !auth.iter().all(Vec::is_empty) {
        d.error(
            &format!("{p}/x-agentwire-absolute-url"),
            opid,
            "an operation sent to a URL from an answer carries no credentials: give it `security: []`",
        );
    }

    let validate = match op.get("x-agentwire-validate") {
        None => None,
        Some(Value::String(path))
            if !path.is_empty()
                && path.split("::").all(|part| {
                    part.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
                        && part
                            .chars()
                            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
                        && !RUST_KEYWORDS.contains(&part)
                }) =>
        {
            if body.is_none() {
                d.error(
                    &format!("{p}/x-agentwire-validate"),
                    opid,
                    "`x-agentwire-validate` checks a JSON request body, which the operation does not have",
                );
            }
            Some(path.clone())
        }
        Some(_) => {
            d.error(
                &format!("{p}/x-agentwire-validate"),
                opid,
                "`x-agentwire-validate` names a function of the platform module (`run::check_request`) taking `&<body type>` and returning `agentwire::Result<()>`",
            );
            None
        }
    };
    let outcome = match op.get("x-agentwire-outcome") {
        None => None,
        Some(o) => {
            let known = o.as_object().is_some_and(|m| {
                m.keys()
                    .all(|k| matches!(k.as_str(), "ok-member" | "error-member" | "id-member"))
            });
            match get_str(o, "ok-member") {
                Some(ok) if known => {
                    Some((ok, get_str(o, "error-member"), get_str(o, "id-member")))
                }
                _ => {
                    d.error(
                        &format!("{p}/x-agentwire-outcome"),
                        opid,
                        "`x-agentwire-outcome` is `{ok-member: <boolean member, false on failure>, error-member: <member>, id-member: <member>}`",
                    );
                    None
                }
            }
        }
    };

    // Responses.
    let stream = op.get("x-agentwire-stream").and_then(|s| {
        read_stream(
            s,
            &format!("{p}/x-agentwire-stream"),
            &id,
            &query,
            schemas,
            hand_written,
            d,
        )
    });
    // A task operation may answer with an acknowledgement (the profile's `202`, say) besides its
    // final result: that response is not the success the result comes from.
    let task = match op.get("x-agentwire-task") {
        None => None,
        Some(Value::String(name)) => Some(name.clone()),
        Some(_) => {
            d.error(
                &format!("{p}/x-agentwire-task"),
                opid,
                "`x-agentwire-task` names a task profile of `x-agentwire-tasks`",
            );
            None
        }
    };
    let follow = match op.get("x-agentwire-follow") {
        None => None,
        Some(f) => {
            let fp = format!("{p}/x-agentwire-follow");
            match (get_str(f, "stream"), get_str(f, "final-event")) {
                (Some(stream), Some(final_event)) => Some(FollowDef {
                    stream,
                    url_members: str_list(f.get("url-members")),
                    final_event,
                }),
                _ => {
                    d.error(
                        &fp,
                        opid,
                        "`x-agentwire-follow` names its `stream` operation and its `final-event`",
                    );
                    None
                }
            }
        }
    };
    if follow.is_some() && task.is_none() {
        d.error(
            &format!("{p}/x-agentwire-follow"),
            opid,
            "a follow-on stream follows a task: the operation needs `x-agentwire-task`",
        );
    }
    let mut result = Shape::Empty;
    let mut json_or_stream = false;
    let mut success_status = 0u16;
    let (mut split_stream, mut split_json, mut previous_status) = (false, None, 0u16);
    let responses = op
        .get("responses")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let mut successes = 0;
    for (status, resp) in &responses {
        let rp = format!("{p}/responses/{}", escape(status));
        if status == "default" {
            d.error(&rp, opid, "`default` responses are forbidden (progenitor takes them for success): use 4XX/5XX");
            continue;
        }
        let is_success = status.starts_with('2');
        let is_error = status.starts_with('4') || status.starts_with('5');
        if !is_success && !is_error {
            d.error(&rp, opid, format!("unsupported response status {status}"));
            continue;
        }
        if is_error {
            if resp.get("$ref").is_none() && resp.get("description").is_none() {
                d.error(
                    &rp,
                    opid,
                    "error responses are a `$ref` to components/responses or described inline",
                );
            }
            continue;
        }
        if task.is_some() && status == "202" {
            continue; // the acknowledgement: checked by the contract suite, decoded by the runtime
        }
        successes += 1;
        success_status = status.parse().unwrap_or(200);
        let content = resp.get("content").and_then(Value::as_object);
        // JSON or a stream by a request flag may also be two successes: the JSON one (`201`)
        // and the stream's (`200`); the result is the JSON one's.
        if result == Shape::Stream {
            split_stream = true;
        } else if successes > 1 {
            split_json = Some((result.clone(), previous_status));
        }
        previous_status = success_status;
        if let Some(c) = content
            && c.contains_key("text/event-stream")
            && c.contains_key("application/json")
        {
            json_or_stream = true;
        }
        match content {
            None => result = Shape::Empty,
            Some(c) if c.contains_key("text/event-stream") && !c.contains_key("application/json") => {
                if stream.is_none() {
                    d.error(
                        &rp,
                        opid,
                        "a text/event-stream response needs `x-agentwire-stream`",
                    );
                }
                result = Shape::Stream;
            }
            Some(c) if c.contains_key("application/json") => {
                let schema = &c["application/json"]["schema"];
                check_schema(
                    schema,
                    &format!("{rp}/content/application~1json/schema"),
                    opid,
                    false,
                    schemas,
                    loose,
                    d,
                );
                match rust_type(schema) {
                    Some(t) => result = Shape::Type(t),
                    None => d.error(
                        &rp,
                        opid,
                        "a success schema is a `$ref`, an array of `$ref`s or a primitive type",
                    ),
                }
            }
            Some(c) if c.len() == 1 => {
                let content_type = c.keys().next().map(String::as_str).unwrap_or_default();
                result = if is_text_type(content_type) {
                    Shape::Text
                } else {
                    Shape::Bytes
                };
            }
            Some(_) => d.error(
                &rp,
                opid,
                "success content is one content type (application/json, text/event-stream, a text type or a binary one), or application/json with text/event-stream",
            ),
        }
    }
    if successes == 2 && !json_or_stream {
        // The last success was read into `result`; the first is in `split_*`.
        let last_is_stream = result == Shape::Stream;
        let pair = match (split_stream, split_json.take(), last_is_stream) {
            (true, None, false) if matches!(result, Shape::Type(_)) => {
                Some((result.clone(), success_status))
            }
            (false, Some((first @ Shape::Type(_), status)), true) => Some((first, status)),
            _ => None,
        };
        if let Some((json, status)) = pair {
            json_or_stream = true;
            result = json;
            success_status = status;
            successes = 1;
        }
    }
    if task.is_some() && successes == 0 {
        // Only the acknowledgement is documented: the final result is the task's, untyped.
        result = Shape::Type("::serde_json::Value".into());
        success_status = 200;
    } else if successes != 1 {
        d.error(
            &format!("{p}/responses"),
            opid,
            format!("exactly one 2xx response is required (found {successes})"),
        );
    }

    // Pagination.
    let pagination = match op.get("x-agentwire-pagination") {
        None => None,
        Some(Value::String(style)) => Some((style.clone(), None)),
        Some(v @ Value::Object(_)) => {
            Some((get_str(v, "style").unwrap_or_default(), get_str(v, "items")))
        }
        Some(_) => {
            d.error(
                &format!("{p}/x-agentwire-pagination"),
                opid,
                "pagination is a style name or {style, items}",
            );
            None
        }
    };
    let mut item_type = None;
    if let Some((style, items)) = &pagination {
        if !page_styles.contains_key(style) {
            d.error(
                &format!("{p}/x-agentwire-pagination"),
                opid,
                format!("unknown pagination style {style}"),
            );
        }
        item_type = match (&result, items) {
            (Shape::Type(t), None) => t
                .strip_prefix("Vec<")
                .and_then(|t| t.strip_suffix('>'))
                .map(str::to_owned),
            (Shape::Type(t), Some(member)) => t
                .strip_prefix("types::")
                .and_then(|n| schemas.get(n))
                .and_then(|s| s.pointer(&format!("/properties/{}", escape(member))))
                .and_then(rust_type)
                .and_then(|t| {
                    t.strip_prefix("Vec<")
                        .and_then(|t| t.strip_suffix('>'))
                        .map(str::to_owned)
                }),
            _ => None,
        };
        if item_type.is_none() {
            d.error(
                &format!("{p}/x-agentwire-pagination"),
                opid,
                "a paginated operation's result (or its `items` member) must be an array",
            );
        }
    }

    // A write whose body carries its idempotency key may be re-sent: the server deduplicates.
    let idempotency_member = match op.get("x-agentwire-idempotency-member") {
        None => None,
        Some(Value::String(m))
            if !m.is_empty() && m.split('.').all(|part| !part.is_empty()) && body.is_some() =>
        {
            Some(m.clone())
        }
        Some(_) => {
            d.error(
                &format!("{p}/x-agentwire-idempotency-member"),
                opid,
                "`x-agentwire-idempotency-member` names a member of the JSON request body, dotted (`metadata.idempotency_key`)",
            );
            None
        }
    };
    let retry_safe = op
        .get("x-agentwire-retry-safe")
        .and_then(Value::as_bool)
        .unwrap_or(method == "get" || writes_retry_safe || idempotency_member.is_some());
    let omit_headers = str_list(op.get("x-agentwire-omit-headers"));
    // The host's envelope, unless the operation says `false` (a bare body) or names another.
    let host_envelope = hosts.get(host).and_then(|h| h.envelope.clone());
    let envelope = match op.get("x-agentwire-envelope") {
        None | Some(Value::Bool(true)) => host_envelope,
        Some(Value::Bool(false)) => None,
        Some(Value::String(name)) => Some(name.clone()),
        Some(_) => {
            d.error(
                &format!("{p}/x-agentwire-envelope"),
                opid,
                "`x-agentwire-envelope` is `false` (a bare body) or the name of an envelope",
            );
            host_envelope
        }
    };
    if json_or_stream {
        match &stream {
            None => d.error(
                p,
                opid,
                "a JSON-or-stream operation needs `x-agentwire-stream` (its events)",
            ),
            Some(s) if s.body_flag.is_none() => d.error(
                &format!("{p}/x-agentwire-stream"),
                opid,
                "a JSON-or-stream operation names the request's `body-flag` that asks for the stream",
            ),
            Some(_) if body.is_none() => d.error(
                p,
                opid,
                "a JSON-or-stream operation's flag is a member of its JSON request body, which it does not have",
            ),
            Some(_) => {}
        }
    } else if stream.is_some() && result != Shape::Stream {
        d.error(
            &format!("{p}/x-agentwire-stream"),
            opid,
            "`x-agentwire-stream` goes on an operation whose success answers text/event-stream",
        );
    }

    // The response kind: declared by the success response and the extensions.
    let optional = op
        .get("x-agentwire-optional")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    if optional && !responses.contains_key("404") {
        d.error(
            &format!("{p}/x-agentwire-optional"),
            opid,
            "`x-agentwire-optional: true` needs a documented `404` response (the answer that means none)",
        );
    }
    let response_kind = if json_or_stream {
        ResponseKind::JsonOrStream
    } else if task.is_some() {
        ResponseKind::Task
    } else {
        match &result {
            Shape::Empty => ResponseKind::Empty,
            Shape::Stream => ResponseKind::EventStream,
            Shape::Text => ResponseKind::Text,
            Shape::Bytes => ResponseKind::Bytes,
            Shape::Type(_) if pagination.is_some() => ResponseKind::Paged,
            Shape::Type(_) if optional => ResponseKind::Optional,
            Shape::Type(_) => ResponseKind::Json,
        }
    };
    // A parameter the stream sets itself (its resume position, what an opener supplies) gets
    // no setter, so it cannot clash with the builder's methods (`after()` sets it).
    rust_names.retain(|(name, location, _)| {
        location != "query" || !stream.as_ref().is_some_and(|s| s.sets_param(name))
    });
    check_param_names(&rust_names, body.as_ref(), response_kind, opid, reserved, d);
    for (taken, by) in [(absolute_url, "url"), (form_open, "form_field")] {
        if taken && rust_names.iter().any(|(name, _, _)| rust_ident(name) == by) {
            d.error(
                p,
                opid,
                format!("a parameter may not be named `{by}`: the builder has that method here"),
            );
        }
    }
    if optional && !matches!(response_kind, ResponseKind::Optional) {
        d.error(
            &format!("{p}/x-agentwire-optional"),
            opid,
            format!(
                "`x-agentwire-optional` goes on a JSON result, not on the `{}` kind",
                response_kind.name()
            ),
        );
    }
    if !response_kind.is_built() && !hand_written {
        d.error(
            p,
            opid,
            format!(
                "the `{}` response kind is declared, but the generator does not build it yet: mark the operation `x-agentwire-hand-written: true`",
                response_kind.name()
            ),
        );
    }

    Some(Op {
        id,
        method: method.to_uppercase(),
        path: path.to_string(),
        host,
        summary: get_str(op, "summary"),
        description: get_str(op, "description"),
        auth,
        path_params,
        query,
        headers,
        body,
        form,
        body_required,
        task,
        request_kind,
        response_kind,
        result,
        success_status,
        envelope,
        pagination,
        item_type,
        retry_safe,
        omit_headers,
        stream,
        follow,
        hand_written,
        pointer: p.to_string(),
        checks,
        absolute_url,
        form_open,
        outcome,
        validate,
        idempotency_member,
    })
}

/// Whether a multipart media type's object schema admits text fields it does not name
/// (`additionalProperties: {type: string}`).
fn form_is_open(media: &Value, schemas: &Map<String, Value>) -> bool {
    let schema = &media["schema"];
    let object = match ref_name(schema, "schemas").and_then(|n| schemas.get(n)) {
        Some(target) => target,
        None => schema,
    };
    object
        .get("additionalProperties")
        .and_then(|a| a.get("type"))
        .and_then(Value::as_str)
        == Some("string")
}

/// The fields of a multipart or URL-encoded request body (`media`: its media type object):
/// an object schema (a `$ref` to a component or inline), one field per property; the files'
/// allowed content types from `encoding.<field>.contentType`.
fn read_form(
    media: &Value,
    p: &str,
    required_body: bool,
    multipart: bool,
    opid: Option<&str>,
    schemas: &Map<String, Value>,
    d: &mut Diagnostics,
) -> Vec<FormField> {
    let schema = &media["schema"];
    let object = match ref_name(schema, "schemas") {
        Some(name) => schemas.get(name).cloned().unwrap_or(Value::Null),
        None => schema.clone(),
    };
    let Some(props) = object.get("properties").and_then(Value::as_object) else {
        d.error(
            &format!("{p}/schema"),
            opid,
            "a form body is an object schema whose properties are its fields",
        );
        return Vec::new();
    };
    let required: Vec<&str> = object
        .get("required")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let binary = |s: &Value| {
        s.get("type").and_then(Value::as_str) == Some("string")
            && s.get("format").and_then(Value::as_str) == Some("binary")
    };
    let mut fields = Vec::new();
    for (name, prop) in props {
        let prop = match ref_name(prop, "schemas").and_then(|n| schemas.get(n)) {
            Some(target) if target.get("enum").is_none() => target.clone(),
            _ => prop.clone(),
        };
        let kind = if binary(&prop) {
            FormKind::File
        } else if prop.get("type").and_then(Value::as_str) == Some("array")
            && prop.get("items").is_some_and(binary)
        {
            FormKind::Files
        } else {
            match param_type(&prop, schemas) {
                Some(t) => FormKind::Value(t),
                None => FormKind::Json,
            }
        };
        if !multipart && matches!(kind, FormKind::File | FormKind::Files) {
            d.error(
                &format!("{p}/schema"),
                opid,
                format!("form field `{name}` is a file: files go in `multipart/form-data`"),
            );
        }
        let content_types = media
            .pointer(&format!("/encoding/{}/contentType", escape(name)))
            .and_then(Value::as_str)
            .map(|list| {
                list.split(',')
                    .map(|t| t.trim().to_ascii_lowercase())
                    .filter(|t| !t.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        // Text fields carry their rules (a file's size and type have checks of their own).
        let rule = match &kind {
            FormKind::Value(_) => match super::checks::rule_of(&prop, schemas) {
                Ok(rule) => rule,
                Err(e) => {
                    d.error(
                        &format!("{p}/schema"),
                        opid,
                        format!("form field `{name}`: {e}"),
                    );
                    None
                }
            },
            _ => None,
        };
        fields.push(FormField {
            rust: rust_ident(name),
            name: name.clone(),
            required: required_body && required.contains(&name.as_str()),
            rule,
            kind,
            description: prop
                .get("description")
                .and_then(Value::as_str)
                .map(str::to_owned),
            content_types,
        });
    }
    fields
}

/// One task profile of `x-agentwire-tasks`, with the defaults openapi/README.md gives.
fn read_task_profile(t: &Value, p: &str, d: &mut Diagnostics) -> Option<TaskProfile> {
    if !t.is_object() {
        d.error(p, None, "a task profile is a mapping of its settings");
        return None;
    }
    let list = |key: &str, default: &[&str]| -> Vec<String> {
        match t.get(key) {
            Some(v) => str_list(Some(v)),
            None => default.iter().map(|s| (*s).to_owned()).collect(),
        }
    };
    let seconds = |key: &str, default: f64, d: &mut Diagnostics| -> u64 {
        match t.get(key) {
            None => (default * 1000.0) as u64,
            Some(v) => match v.as_f64() {
                Some(secs) if secs.is_finite() && secs > 0.0 && secs <= 86_400.0 => {
                    (secs * 1000.0) as u64
                }
                _ => {
                    d.error(
                        &format!("{p}/{key}"),
                        None,
                        format!("`{key}` is a number of seconds, above 0 and at most a day"),
                    );
                    (default * 1000.0) as u64
                }
            },
        }
    };
    let Some(status_operation) = get_str(t, "status-operation") else {
        d.error(
            p,
            None,
            "a task profile names its `status-operation` (the GET that polls a task)",
        );
        return None;
    };
    let success = list("success", &[]);
    if success.is_empty() {
        d.error(p, None, "a task profile lists its `success` states");
    }
    let growth = match t.get("growth") {
        None => 1.0,
        Some(v) => match v.as_f64() {
            Some(g) if (1.0..=10.0).contains(&g) => g,
            _ => {
                d.error(
                    &format!("{p}/growth"),
                    None,
                    "`growth` is a factor from 1 to 10",
                );
                1.0
            }
        },
    };
    let ack_status_codes = match t.get("ack-status-codes") {
        None => vec![202],
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|i| i.as_u64().and_then(|c| u16::try_from(c).ok()))
            .filter(|c| (200..300).contains(c))
            .collect(),
        Some(_) => {
            d.error(
                &format!("{p}/ack-status-codes"),
                None,
                "`ack-status-codes` lists 2xx statuses",
            );
            vec![202]
        }
    };
    let interval_ms = seconds("interval", 1.0, d);
    let cap_ms = seconds("cap", 30.0, d).max(interval_ms);
    Some(TaskProfile {
        ack_status_codes,
        ack_states: list("ack-states", &[]),
        state_member: get_str(t, "state-member").unwrap_or_else(|| "status".into()),
        id_member: get_str(t, "id-member").unwrap_or_else(|| "task_id".into()),
        url_members: list("url-members", &[]),
        status_operation,
        success,
        failure: list("failure", &[]),
        result_members: list("result-members", &[]),
        error_member: get_str(t, "error-member").unwrap_or_else(|| "error".into()),
        interval_ms,
        growth,
        cap_ms,
        max_wait_ms: seconds("max-wait", 180.0, d),
        hint_members: list("hint-members", &[]),
        hint_time_members: list("hint-time-members", &[]),
        hint_containers: list("hint-containers", &[]),
        strip_prefixes: list("strip-prefixes", &[]),
    })
}

/// A list of non-empty strings at `p`, each reported where it is not one.
fn string_list(value: &Value, p: &str, opid: Option<&str>, d: &mut Diagnostics) -> Vec<String> {
    let Some(items) = value.as_array() else {
        d.error(p, opid, "a list of strings is expected here");
        return Vec::new();
    };
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        match item.as_str() {
            Some(s) if !s.trim().is_empty() => out.push(s.to_string()),
            _ => d.error(
                &format!("{p}/{i}"),
                opid,
                "a non-empty string is expected here",
            ),
        }
    }
    out
}

/// Reads and checks `x-agentwire-stream`, the operation's event map (openapi/README.md).
#[allow(clippy::too_many_arguments)]
fn read_stream(
    value: &Value,
    p: &str,
    id: &str,
    query: &[Param],
    schemas: &Map<String, Value>,
    hand_written: bool,
    d: &mut Diagnostics,
) -> Option<StreamDef> {
    let opid = Some(id);
    let Some(map) = value.as_object() else {
        d.error(
            p,
            opid,
            "`x-agentwire-stream` is a mapping (see openapi/README.md)",
        );
        return None;
    };
    for key in map.keys() {
        if !STREAM_KEYS.contains(&key.as_str()) {
            d.error(
                &format!("{p}/{}", escape(key)),
                opid,
                format!(
                    "unknown `x-agentwire-stream` key `{key}` (one of {})",
                    STREAM_KEYS.join(", ")
                ),
            );
        }
    }
    let at = |key: &str| format!("{p}/{key}");

    let enum_name = match map.get("enum") {
        None => format!("{}Event", pascal(id)),
        Some(Value::String(name))
            if name.starts_with(|c: char| c.is_ascii_uppercase())
                && name.chars().all(|c| c.is_ascii_alphanumeric()) =>
        {
            name.clone()
        }
        Some(_) => {
            d.error(
                &at("enum"),
                opid,
                "`enum` names the generated Rust enum: a PascalCase identifier",
            );
            String::new()
        }
    };
    if enum_name == "Client" {
        d.error(
            &at("enum"),
            opid,
            "`enum` may not be `Client` (the platform's client)",
        );
    }

    let type_member = match map.get("type-member") {
        None => None,
        Some(Value::String(m)) if !m.is_empty() => Some(m.clone()),
        Some(_) => {
            d.error(
                &at("type-member"),
                opid,
                "`type-member` is the name of the JSON data member naming the event's type",
            );
            None
        }
    };

    let mut events = BTreeMap::new();
    let mut variants: BTreeMap<String, String> = BTreeMap::new();
    match map.get("events") {
        Some(Value::Object(m)) => {
            for (event, schema) in m {
                let ep = format!("{}/{}", at("events"), escape(event));
                let Some(schema) = schema.as_str() else {
                    d.error(&ep, opid, format!("event `{event}` maps to a component schema name"));
                    continue;
                };
                if !schemas.contains_key(schema) {
                    d.error(&ep, opid, format!("event `{event}` names a missing schema {schema}"));
                }
                let variant = event_variant(event);
                if !variant.starts_with(|c: char| c.is_ascii_uppercase())
                    || !variant.chars().all(|c| c.is_ascii_alphanumeric())
                {
                    d.error(
                        &ep,
                        opid,
                        format!("event type `{event}` makes no Rust variant name (`{variant}`): use letters, digits, `_` or `-`, starting with a letter"),
                    );
                } else if variant == "Other" {
                    d.error(
                        &ep,
                        opid,
                        format!("event type `{event}` would be the variant `Other`, which holds the undeclared events"),
                    );
                } else if let Some(other) = variants.insert(variant.clone(), event.clone()) {
                    d.error(
                        &ep,
                        opid,
                        format!("event types `{other}` and `{event}` both make the variant `{variant}`"),
                    );
                }
                events.insert(event.clone(), schema.to_string());
            }
        }
        _ => d.error(
            p,
            opid,
            "`x-agentwire-stream` needs `events`: each event type with the component schema of its data",
        ),
    }

    let list = |key: &str, d: &mut Diagnostics| {
        map.get(key)
            .map(|v| string_list(v, &at(key), opid, d))
            .unwrap_or_default()
    };
    let heartbeat = list("heartbeat", d);
    let terminal = list("terminal", d);
    let terminal_data = list("terminal-data", d);
    for (i, t) in terminal.iter().enumerate() {
        let tp = format!("{}/{i}", at("terminal"));
        if heartbeat.contains(t) {
            d.error(
                &tp,
                opid,
                format!("`{t}` cannot be both a heartbeat and terminal"),
            );
        } else if !events.contains_key(t) {
            d.error(
                &tp,
                opid,
                format!("terminal event type `{t}` is not declared in `events` (it is yielded, so it needs a schema)"),
            );
        }
    }

    let non_json_raw = match map.get("non-json").map(|v| v.as_str()) {
        None | Some(Some("error")) => false,
        Some(Some("raw")) => true,
        Some(_) => {
            d.error(
                &at("non-json"),
                opid,
                "`non-json` is `error` (a Decode error) or `raw` (yielded as `Other`)",
            );
            false
        }
    };
    let flush_at_eof = match map.get("flush-at-eof") {
        None => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => {
            d.error(&at("flush-at-eof"), opid, "`flush-at-eof` is true or false");
            false
        }
    };
    let resume = map
        .get("resume")
        .and_then(|r| stream_resume(r, &at("resume"), opid, query, d));

    let opener = map.get("opener").and_then(|o| {
        let op_p = at("opener");
        let function = o.get("function").and_then(Value::as_str).unwrap_or_default();
        let valid_path = !function.is_empty()
            && function.split("::").all(|part| {
                part.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
                    && part
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
                    && !RUST_KEYWORDS.contains(&part)
            });
        let known = o
            .as_object()
            .is_some_and(|m| m.keys().all(|k| k == "function" || k == "supplies"));
        if !valid_path || !known {
            d.error(
                &op_p,
                opid,
                "`opener` is `{function: <path from the platform module, e.g. stream::open_with_ticket>, supplies: [<query parameters it sets>]}`",
            );
            return None;
        }
        if hand_written {
            d.error(
                &op_p,
                opid,
                "an `opener` plugs into the generated builder: drop `x-agentwire-hand-written`",
            );
        }
        let supplies = o
            .get("supplies")
            .map(|v| string_list(v, &format!("{op_p}/supplies"), opid, d))
            .unwrap_or_default();
        for (i, name) in supplies.iter().enumerate() {
            let sp = format!("{op_p}/supplies/{i}");
            if !query.iter().any(|q| &q.name == name) {
                d.error(
                    &sp,
                    opid,
                    format!("the opener supplies `{name}`, which the operation does not declare as a query parameter"),
                );
            } else if resume == Some(ResumeParam::Query(name.clone())) {
                d.error(
                    &sp,
                    opid,
                    format!("`{name}` is the resume parameter: the stream sets it, not the opener"),
                );
            }
        }
        Some(OpenerDef {
            function: function.to_string(),
            supplies,
        })
    });

    let body_flag = match map.get("body-flag") {
        None => None,
        Some(Value::String(member)) if !member.is_empty() => Some(member.clone()),
        Some(_) => {
            d.error(
                &at("body-flag"),
                opid,
                "`body-flag` names the boolean member of the JSON request body that asks for the stream",
            );
            None
        }
    };

    let close_ends = match map.get("close-ends") {
        None => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => {
            d.error(&at("close-ends"), opid, "`close-ends` is true or false");
            false
        }
    };

    Some(StreamDef {
        close_ends,
        enum_name,
        type_member,
        events,
        heartbeat,
        terminal,
        terminal_data,
        non_json_raw,
        flush_at_eof,
        resume,
        opener,
        body_flag,
    })
}

/// Reads `x-agentwire-stream.resume`: `{query: <declared query parameter>}` or
/// `{header: <name>}`.
fn stream_resume(
    value: &Value,
    p: &str,
    opid: Option<&str>,
    query: &[Param],
    d: &mut Diagnostics,
) -> Option<ResumeParam> {
    let entries: Vec<(&String, &Value)> = value.as_object().into_iter().flatten().collect();
    let resume = match entries.as_slice() {
        [(key, Value::String(name))] if key.as_str() == "query" && !name.is_empty() => {
            ResumeParam::Query(name.clone())
        }
        [(key, Value::String(name))] if key.as_str() == "header" && !name.is_empty() => {
            ResumeParam::Header(name.clone())
        }
        _ => {
            d.error(
                p,
                opid,
                "`resume` is `{query: <parameter>}` or `{header: <name>}`",
            );
            return None;
        }
    };
    if let ResumeParam::Query(name) = &resume
        && !query.iter().any(|q| &q.name == name)
    {
        d.error(
            p,
            opid,
            format!(
                "`resume` names query parameter `{name}`, which the operation does not declare"
            ),
        );
    }
    Some(resume)
}

fn param_type(schema: &Value, schemas: &Map<String, Value>) -> Option<ParamType> {
    if let Some(name) = ref_name(schema, "schemas") {
        let target = schemas.get(name)?;
        return target
            .get("enum")
            .map(|_| ParamType::Enum(name.to_string()));
    }
    match schema.get("type").and_then(Value::as_str)? {
        "string"
            if schema
                .get("enum")
                .and_then(Value::as_array)
                .is_some_and(|e| e.len() > 1) =>
        {
            None
        }
        "string" => Some(ParamType::String),
        "integer" => Some(ParamType::Integer),
        "number" => Some(ParamType::Number),
        "boolean" => Some(ParamType::Boolean),
        "array" => param_type(schema.get("items")?, schemas).map(|t| ParamType::Array(Box::new(t))),
        _ => None,
    }
}

/// An operation's parameters become, in Rust, the arguments of its resource method, the fields
/// of its parameter struct and the setters of its request builder (a header parameter, a setter
/// to come): their Rust names (snake_case, a keyword suffixed with `_`) must differ from one
/// another and from the `body`, and from every method the request builder already has.
fn check_param_names(
    params: &[(String, String, String)],
    body: Option<&Body>,
    kind: ResponseKind,
    opid: Option<&str>,
    reserved: &Reserved,
    d: &mut Diagnostics,
) {
    let mut seen: BTreeMap<String, &str> = BTreeMap::new();
    if body.is_some() {
        seen.insert("body".to_owned(), "the request body");
    }
    let described: Vec<String> = params
        .iter()
        .map(|(name, location, _)| match location.as_str() {
            "form field" => format!("form field `{name}`"),
            _ => format!("{location} parameter `{name}`"),
        })
        .collect();
    for ((name, _, pointer), what) in params.iter().zip(&described) {
        let rust = rust_ident(name);
        if let Some(taken) = reserved.builder_taken(&rust, kind) {
            let whose = if Reserved::taken(&reserved.builder, &rust).is_some() {
                "every request builder".to_owned()
            } else {
                format!("the request builder of a `{}` operation", kind.name())
            };
            d.error(
                pointer,
                opid,
                format!(
                    "{what} is `{rust}` in Rust, a method {whose} already has ({}): its setter would clash with it",
                    taken.by
                ),
            );
        } else if let Some(other) = seen.get(&rust) {
            d.error(
                pointer,
                opid,
                format!("{what} and {other} are both `{rust}` in Rust"),
            );
        }
        seen.entry(rust).or_insert(what);
    }
}

/// Group names and method names may not collide, and generated type names must be unique.
/// After conversion to Rust names, the groups and operations under one parent (the methods of
/// its resource handle, or of `Client` at the top) differ from one another and from the methods
/// the handle or `Client` already has.
fn check_groups(ops: &[Op], reserved: &Reserved, d: &mut Diagnostics) {
    let mut groups = BTreeSet::new();
    for op in ops {
        let parts: Vec<&str> = op.id.split('.').collect();
        for i in 1..parts.len() {
            groups.insert(parts[..i].join("."));
        }
    }
    let mut enums: BTreeMap<&str, &str> = BTreeMap::new();
    for op in ops {
        if let Some(s) = &op.stream
            && let Some(other) = enums.insert(&s.enum_name, &op.id)
        {
            d.error(
                &format!("{}/x-agentwire-stream", op.pointer),
                Some(&op.id),
                format!(
                    "its event enum {} is also the event enum of {other}",
                    s.enum_name
                ),
            );
        }
    }
    let mut type_names: BTreeMap<String, String> = BTreeMap::new();
    for g in &groups {
        type_names.insert(pascal(g), g.clone());
    }
    for op in ops {
        if groups.contains(&op.id) {
            d.error(
                &op.pointer,
                Some(&op.id),
                "this operationId is also a group of other operations",
            );
        }
        if let Some(other) = type_names.insert(pascal(&op.id), op.id.clone()) {
            d.error(
                &op.pointer,
                Some(&op.id),
                format!("its Rust name {} collides with {other}", pascal(&op.id)),
            );
        }
    }

    // Each method of each handle: (parent, Rust name) → the group or operation it comes from.
    // A group is reported at its first operation.
    let mut methods: BTreeMap<(String, String), (String, String)> = BTreeMap::new();
    for op in ops {
        let parts: Vec<&str> = op.id.split('.').collect();
        for depth in 1..=parts.len() {
            let (parent, last) = (parts[..depth - 1].join("."), parts[depth - 1]);
            let node = parts[..depth].join(".");
            let is_op = depth == parts.len();
            let what = if is_op {
                format!("operation `{node}`")
            } else {
                format!("group `{node}`")
            };
            let rust = rust_ident(last);
            let (list, owner) = if parent.is_empty() {
                (&reserved.client, "the platform `Client`".to_owned())
            } else {
                (
                    &reserved.handle,
                    format!("the resource handle `{}`", pascal(&parent)),
                )
            };
            let key = (parent.clone(), rust.clone());
            if let Some((first_node, first)) = methods.get(&key) {
                // The same group again, or an operation that is also a group (reported above).
                if *first_node != node {
                    d.error(
                        &op.pointer,
                        Some(&op.id),
                        format!("{what} and {first} are both the method `{rust}` of {owner}"),
                    );
                }
                continue;
            }
            methods.insert(key, (node.clone(), what.clone()));
            if let Some(taken) = Reserved::taken(list, &rust) {
                d.error(
                    &op.pointer,
                    Some(&op.id),
                    format!(
                        "{what} becomes the method `{rust}` of {owner}, which it already has ({})",
                        taken.by
                    ),
                );
            }
        }
    }
}
