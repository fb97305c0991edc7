//! The checks themselves: one [`Contract`] per platform (its spec read and converted once), run
//! over fixtures into a [`Report`].

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::Path;

use serde_json::{Value, json};

use super::model::{self, Op, ParamType, Shape};
use super::schema;
use super::yaml::{self, escape};
use crate::mock::{Fixture, FixtureResponse};
use crate::runtime::operation::match_template;
use crate::sse::SseDecoder;

use crate::registry::RoundTrip;

/// How many levels of arrays and objects the checks follow into a value. serde_json's parser
/// refuses deeper documents, so only a value built in code can be deeper: it is reported (rule
/// `depth`) instead of followed. With the spec's bounds (nesting, reference chains) this keeps
/// the validator, the round trip and the comparison well inside a 2 MiB thread stack.
pub const MAX_VALUE_DEPTH: usize = 128;

/// Whether `value` nests arrays and objects more than [`MAX_VALUE_DEPTH`] levels deep
/// (iterative, so it is safe on any value).
fn too_deep(value: &Value) -> bool {
    let mut todo = vec![(value, 0usize)];
    while let Some((v, depth)) = todo.pop() {
        let children: Box<dyn Iterator<Item = &Value>> = match v {
            Value::Array(items) => Box::new(items.iter()),
            Value::Object(map) => Box::new(map.values()),
            _ => continue,
        };
        if depth + 1 > MAX_VALUE_DEPTH {
            return true;
        }
        todo.extend(children.map(|c| (c, depth + 1)));
    }
    false
}

/// The round trip of a platform (or test fragment `testkit::<name>`) of this build.
fn roundtrip_for(platform: &str) -> Option<RoundTrip> {
    crate::registry::named(platform).map(|e| e.roundtrip)
}

/// One broken rule in one fixture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The fixture file (`fixtures/bimpeai/agents.list.json`).
    pub fixture: String,
    /// Where in the fixture, as a JSON pointer (`/response/body/data/0/status`).
    pub pointer: String,
    /// The rule: a JSON Schema keyword (`enum`, `required`, `type`, `additionalProperties`) or a
    /// contract rule (`operation`, `path`, `parameter`, `status`, `roundtrip`, `event`, `coverage`,
    /// `depth`, `name`), or why the file is not a fixture (`utf-8`, `json`, `response`, `header`).
    pub rule: String,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.pointer.is_empty() {
            write!(f, "{}: [{}] {}", self.fixture, self.rule, self.message)
        } else {
            write!(
                f,
                "{}: {} [{}] {}",
                self.fixture, self.pointer, self.rule, self.message
            )
        }
    }
}

/// Whether `part` is one part of a fixture's case (`page2`, `not_found`, `limit=2`): lower-case
/// ASCII letters, digits, `_`, `-` and `=`.
fn is_case_part(part: &str) -> bool {
    !part.is_empty()
        && part.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'_' | b'-' | b'=')
        })
}

/// Why a fixture file's name does not fit its operation, if it does not: the name must be
/// `<operation>.json` or `<operation>.<case>.json`, the case made of [`is_case_part`]s separated
/// by dots (`agents.list.page2.json`, and `agents.list.page2.recorded.json` as `contract record`
/// writes it). Fixtures not read from a `.json` file (registered in code) have no name to check.
fn name_problem(file: &str, operation: &str) -> Option<String> {
    let name = file.rsplit('/').next().unwrap_or(file);
    let stem = name.strip_suffix(".json")?;
    let fits = match stem.strip_prefix(operation) {
        Some("") => true,
        Some(rest) => rest
            .strip_prefix('.')
            .is_some_and(|case| case.split('.').all(is_case_part)),
        None => false,
    };
    (!fits).then(|| {
        format!(
            "the file name must be `{operation}.json` or `{operation}.<case>.json` (its fixture's operation, then a case of lower-case letters, digits, `_`, `-` and `=`, dots between parts), not `{name}`"
        )
    })
}

/// Fixture files whose names are equal but for case (`Agents.Retrieve.json` beside
/// `agents.retrieve.json`): on a case-insensitive file system they are one file. Each name after
/// the first of its group is reported.
pub(crate) fn case_collisions(files: &[&str]) -> Vec<Failure> {
    let mut seen: BTreeMap<String, &str> = BTreeMap::new();
    let mut failures = Vec::new();
    let mut sorted = files.to_vec();
    sorted.sort_unstable();
    for file in sorted {
        let name = file.rsplit('/').next().unwrap_or(file);
        match seen.get(&name.to_lowercase()) {
            Some(first) => failures.push(Failure {
                fixture: file.to_string(),
                pointer: String::new(),
                rule: "name".into(),
                message: format!(
                    "its name equals `{first}` but for case: on a case-insensitive file system they are one file"
                ),
            }),
            None => {
                seen.insert(name.to_lowercase(), name);
            }
        }
    }
    failures
}

/// The result of checking one platform.
#[derive(Debug, Clone)]
pub struct Report {
    /// The platform.
    pub platform: String,
    /// Operations with their default success fixture (`<operationId>.json`).
    pub covered: usize,
    /// Operations in the spec.
    pub total: usize,
    /// Fixtures checked.
    pub fixtures: usize,
    /// Every failure, uncovered operations included.
    pub failures: Vec<Failure>,
}

impl Report {
    /// Whether everything passed and every operation is covered.
    pub fn ok(&self) -> bool {
        self.failures.is_empty() && self.covered == self.total
    }

    /// The one-line summary CI prints.
    pub fn summary(&self) -> String {
        let failures = self.failures.len();
        format!(
            "contract: {} {}/{} operations, {} fixture{}, {failures} failure{}",
            self.platform,
            self.covered,
            self.total,
            self.fixtures,
            if self.fixtures == 1 { "" } else { "s" },
            if failures == 1 { "" } else { "s" },
        )
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for failure in &self.failures {
            writeln!(f, "  {failure}")?;
        }
        write!(f, "{}", self.summary())
    }
}

/// One difference between an answer and the spec, found by [`Contract::differences`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    /// Where in the body, as a JSON pointer.
    pub pointer: String,
    /// `new field`, `missing field`, `type change`, `unknown value`, `undeclared status`, ...
    pub kind: String,
    /// The details.
    pub message: String,
}

impl fmt::Display for Difference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at {}: {}", self.kind, self.pointer, self.message)
    }
}

/// A platform's spec, read, checked and converted once.
pub struct Contract {
    platform: String,
    file: String,
    loaded: yaml::Loaded,
    value: Value,
    spec: model::Spec,
    defs: Value,
    roundtrip: Option<RoundTrip>,
}

impl fmt::Debug for Contract {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Contract")
            .field("platform", &self.platform)
            .field("file", &self.file)
            .field("operations", &self.spec.ops.len())
            .finish()
    }
}

/// Failures of one fixture, with the file name filled in.
struct Sink<'f> {
    fixture: &'f str,
    failures: Vec<Failure>,
}

impl Sink<'_> {
    fn fail(&mut self, pointer: impl Into<String>, rule: &str, message: impl Into<String>) {
        self.failures.push(Failure {
            fixture: self.fixture.to_string(),
            pointer: pointer.into(),
            rule: rule.to_string(),
            message: message.into(),
        });
    }
}

impl Contract {
    /// Reads a spec's text (`file` names it in messages). Fails with every convention error.
    pub fn new(platform: &str, file: &str, text: &str) -> Result<Contract, String> {
        Contract::from_loaded(platform, yaml::load(file, text)?)
    }

    fn from_loaded(platform: &str, loaded: yaml::Loaded) -> Result<Contract, String> {
        let file = loaded.file.clone();
        let spec = model::read(&loaded, &super::reserved()).map_err(|errors| errors.join("\n"))?;
        let defs = schema::defs(&loaded.value);
        Ok(Contract {
            platform: platform.to_string(),
            file,
            value: loaded.value.clone(),
            loaded,
            spec,
            defs,
            roundtrip: roundtrip_for(platform),
        })
    }

    /// Reads `openapi/<platform>.yaml` under `root`.
    pub fn from_dir(root: &Path, platform: &str) -> Result<Contract, String> {
        let rel = format!("openapi/{platform}.yaml");
        let bytes = std::fs::read(root.join(&rel)).map_err(|e| format!("{rel}: {e}"))?;
        Contract::from_loaded(platform, yaml::load_bytes(&rel, &bytes)?)
    }

    /// Checks every fixture and the coverage of every operation: each needs its default success
    /// fixture, `<operationId>.json` (the mock's answer to a valid request no other fixture
    /// matches); error fixtures come in addition.
    pub fn check(&self, fixtures: &[Fixture]) -> Report {
        let mut failures = Vec::new();
        let mut covered = BTreeSet::new();
        let mut with_success = BTreeSet::new();
        for f in fixtures {
            failures.extend(self.check_fixture(f));
            if f.is_default() {
                covered.insert(f.operation.clone());
            }
            if f.answers().iter().any(|a| a.status < 400) {
                with_success.insert(f.operation.clone());
            }
        }
        for op in &self.spec.ops {
            if !covered.contains(&op.id) {
                let why = if with_success.contains(&op.id) {
                    "its success fixtures all have a case suffix"
                } else {
                    "it has no success fixture at all"
                };
                failures.push(Failure {
                    fixture: self.loaded.at(&op.pointer),
                    pointer: op.pointer.clone(),
                    rule: "coverage".into(),
                    message: format!(
                        "operation {id} has no default success fixture {id}.json ({why}); the mock answers valid requests with it",
                        id = op.id
                    ),
                });
            }
        }
        let total = self.spec.ops.len();
        Report {
            platform: self.platform.clone(),
            covered: self
                .spec
                .ops
                .iter()
                .filter(|o| covered.contains(&o.id))
                .count(),
            total,
            fixtures: fixtures.len(),
            failures,
        }
    }

    /// Checks one fixture.
    pub fn check_fixture(&self, f: &Fixture) -> Vec<Failure> {
        let mut sink = Sink {
            fixture: &f.file,
            failures: Vec::new(),
        };
        if let Some(problem) = name_problem(&f.file, &f.operation) {
            sink.fail("/operation", "name", problem);
        }
        let Some(op) = self.spec.ops.iter().find(|o| o.id == f.operation) else {
            sink.fail(
                "/operation",
                "operation",
                format!("the spec has no operation {}", f.operation),
            );
            return sink.failures;
        };
        self.check_request(op, f, &mut sink);
        let answers: Vec<(String, &FixtureResponse)> = match &f.response {
            Some(r) => vec![("/response".into(), r)],
            None => f
                .responses
                .iter()
                .enumerate()
                .map(|(i, r)| (format!("/responses/{i}"), r))
                .collect(),
        };
        for (pointer, answer) in answers {
            self.check_answer(op, &pointer, answer, &mut sink);
        }
        sink.failures
    }

    fn check_request(&self, op: &Op, f: &Fixture, sink: &mut Sink) {
        let req = &f.request;
        if !req.method.eq_ignore_ascii_case(&op.method) {
            sink.fail(
                "/request/method",
                "method",
                format!("{} is {}, not {}", op.id, op.method, req.method),
            );
        }
        match self.route(&req.method, &req.path) {
            Some(routed) if routed.id == op.id => {}
            Some(routed) => sink.fail(
                "/request/path",
                "path",
                format!(
                    "{} {} routes to {}, not {}",
                    req.method, req.path, routed.id, op.id
                ),
            ),
            None => sink.fail(
                "/request/path",
                "path",
                format!("{} does not fit {}'s path {}", req.path, op.id, op.path),
            ),
        }
        if let Some((_, values)) = match_template(&op.path, &req.path) {
            let values: BTreeMap<&str, &str> = values.into_iter().collect();
            for p in &op.path_params {
                if let Some(v) = values.get(p.name.as_str())
                    && let Err(e) = check_param_value(&p.ty, v, &self.spec)
                {
                    sink.fail(
                        "/request/path",
                        "parameter",
                        format!("path parameter `{}`: {e}", p.name),
                    );
                }
            }
        }
        for (name, value) in &req.query {
            let qp = format!("/request/query/{}", escape(name));
            match op.query.iter().find(|q| &q.name == name) {
                None => sink.fail(
                    qp,
                    "parameter",
                    format!("`{name}` is not a declared query parameter"),
                ),
                Some(q) => {
                    if let Err(e) = check_param_value(&q.ty, value, &self.spec) {
                        sink.fail(qp, "parameter", format!("`{name}`: {e}"));
                    }
                }
            }
        }
        for q in op.query.iter().filter(|q| q.required) {
            if !req.query.contains_key(&q.name) {
                sink.fail(
                    "/request/query",
                    "required",
                    format!("required query parameter `{}` is missing", q.name),
                );
            }
        }
        for (i, prm) in self
            .op_value(op)
            .get("parameters")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            let is_required_header = prm.get("in").and_then(Value::as_str) == Some("header")
                && prm.get("required").and_then(Value::as_bool) == Some(true);
            if is_required_header {
                let name = prm
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_ascii_lowercase();
                if !req.headers.contains_key(&name) {
                    sink.fail(
                        "/request/headers",
                        "required",
                        format!("required header `{name}` is missing (parameter {i})"),
                    );
                }
            }
        }
        let body = req.body.as_ref().filter(|b| !b.is_null());
        match (&op.body, body) {
            (Some(decl), Some(body)) => {
                let schema = self
                    .op_value(op)
                    .pointer("/requestBody/content/application~1json/schema")
                    .cloned()
                    .unwrap_or(Value::Bool(true));
                // A fixture recording the platform's refusal (every answer a 400 or 422) shows
                // a request the spec refuses too: its body is not held to the request schema.
                let records_refusal = f.answers().iter().all(|a| matches!(a.status, 400 | 422));
                if !records_refusal {
                    self.validate(&schema, body, "/request/body", sink);
                    if let Some(name) = decl.type_name.strip_prefix("types::") {
                        self.roundtrip_check(name, body, "/request/body", sink);
                    }
                }
            }
            (Some(decl), None) if decl.required && req.form.is_none() => {
                sink.fail(
                    "/request/body",
                    "required",
                    format!("{} requires a request body", op.id),
                );
            }
            (None, Some(_)) if !op.hand_written => {
                sink.fail(
                    "/request/body",
                    "body",
                    format!("{} takes no request body", op.id),
                );
            }
            _ => {}
        }
        // A form body: its fields against the form's schema (a file stands as its name).
        let form = req.form.as_ref().filter(|f| !f.is_null());
        match (op.form.is_empty(), form) {
            (false, Some(form)) => {
                let schema = ["multipart~1form-data", "application~1x-www-form-urlencoded"]
                    .iter()
                    .find_map(|ct| {
                        self.op_value(op)
                            .pointer(&format!("/requestBody/content/{ct}/schema"))
                            .cloned()
                    })
                    .unwrap_or(Value::Bool(true));
                self.validate(&schema, form, "/request/form", sink);
            }
            (false, None) if op.body_required && body.is_none() => sink.fail(
                "/request/form",
                "required",
                format!("{} requires a request body (`body` or `form`)", op.id),
            ),
            (true, Some(_)) => sink.fail(
                "/request/form",
                "body",
                format!("{} takes no form body", op.id),
            ),
            _ => {}
        }
    }

    fn check_answer(&self, op: &Op, pointer: &str, answer: &FixtureResponse, sink: &mut Sink) {
        if let Some(body) = answer.body.as_ref().filter(|b| too_deep(b)) {
            // Before anything copies or follows it.
            self.validate(&Value::Bool(true), body, &format!("{pointer}/body"), sink);
            return;
        }
        let Some(response) = self.declared_response(op, answer.status) else {
            sink.fail(
                format!("{pointer}/status"),
                "status",
                format!("{} does not declare status {}", op.id, answer.status),
            );
            return;
        };
        if answer.status >= 400 {
            // Gateways answer HTML pages; only a JSON body is held to the error schema.
            if let Some(body) = &answer.body {
                match response.pointer("/content/application~1json/schema") {
                    Some(schema) => {
                        self.validate(&schema.clone(), body, &format!("{pointer}/body"), sink)
                    }
                    None => sink.fail(
                        format!("{pointer}/body"),
                        "content",
                        format!("status {} declares no JSON body", answer.status),
                    ),
                }
            }
            return;
        }
        if let Some(sse) = &answer.sse {
            self.check_events(op, pointer, &sse.chunks().concat(), sink);
            return;
        }
        let body = answer.body.clone().unwrap_or(Value::Null);
        let body_pointer = format!("{pointer}/body");
        let result_schema = response
            .pointer("/content/application~1json/schema")
            .cloned();
        let envelope = op
            .envelope
            .as_ref()
            .and_then(|name| self.spec.envelopes.get(name));
        match envelope {
            Some(env) => {
                let mut properties = serde_json::Map::new();
                for member in &env.required {
                    properties.insert(member.clone(), json!({}));
                }
                let data_schema = match (&op.result, &result_schema) {
                    (Shape::Empty, _) | (_, None) => json!({"type": "null"}),
                    (_, Some(s)) => s.clone(),
                };
                properties.insert(env.data.clone(), data_schema);
                let mut required: Vec<String> = env.required.clone();
                if op.result != Shape::Empty {
                    required.push(env.data.clone());
                }
                if let Some(style) = op
                    .pagination
                    .as_ref()
                    .and_then(|(s, _)| self.spec.page_styles.get(s))
                {
                    let meta = style
                        .meta_schema
                        .as_ref()
                        .map(|m| json!({"$ref": format!("#/components/schemas/{m}")}))
                        .unwrap_or(json!({}));
                    properties.insert(env.meta.clone(), meta);
                }
                let wrapped =
                    json!({"type": "object", "required": required, "properties": properties});
                self.validate(&wrapped, &body, &body_pointer, sink);
                if let Some(data) = body.get(&env.data) {
                    self.roundtrip_result(
                        result_schema.as_ref(),
                        data,
                        &format!("{body_pointer}/{}", escape(&env.data)),
                        sink,
                    );
                }
                if let (Some(meta), Some(name)) = (
                    body.get(&env.meta),
                    op.pagination
                        .as_ref()
                        .and_then(|(s, _)| self.spec.page_styles.get(s))
                        .and_then(|s| s.meta_schema.as_ref()),
                ) {
                    self.roundtrip_check(
                        name,
                        meta,
                        &format!("{body_pointer}/{}", escape(&env.meta)),
                        sink,
                    );
                }
            }
            None => match (&op.result, &result_schema) {
                (Shape::Empty, _) => {
                    if !body.is_null() {
                        sink.fail(
                            body_pointer,
                            "body",
                            format!("{} declares no response body", op.id),
                        );
                    }
                }
                (_, Some(s)) => {
                    self.validate(s, &body, &body_pointer, sink);
                    self.roundtrip_result(Some(s), &body, &body_pointer, sink);
                }
                (_, None) => {}
            },
        }
    }

    fn check_events(&self, op: &Op, pointer: &str, text: &str, sink: &mut Sink) {
        let Some(stream) = &op.stream else {
            sink.fail(
                format!("{pointer}/sse"),
                "content",
                format!("{} is not a stream", op.id),
            );
            return;
        };
        let mut decoder = SseDecoder::new();
        let mut events = Vec::new();
        let decoded = decoder
            .feed(text.as_bytes(), &mut events)
            .and_then(|()| decoder.finish(stream.flush_at_eof, &mut events));
        if let Err(e) = decoded {
            sink.fail(format!("{pointer}/sse"), "event", e.to_string());
            return;
        }
        for (i, event) in events.iter().enumerate() {
            let ep = format!("{pointer}/sse#event{i}");
            if stream.terminal_data.iter().any(|t| t == event.data.trim()) {
                continue;
            }
            let parsed = serde_json::from_str::<Value>(&event.data);
            let data = parsed.as_ref().ok();
            // The event's type by the map: its type member where the data has one, else its
            // SSE event name (as the runtime reads it).
            let event_type = stream
                .type_member
                .as_ref()
                .and_then(|m| data?.get(m)?.as_str())
                .unwrap_or(event.name());
            let Some(schema_name) = stream.events.get(event_type) else {
                if stream.heartbeat.iter().any(|h| h == event_type) {
                    continue; // a heartbeat needs no schema: it is never yielded
                }
                // Data-only frames told apart by a type member: the platform documents some
                // types (Wisebot's text deltas are not named anywhere), and the runtime keeps
                // every other one as `Other` — JSON always, other data where the map says
                // `non-json: raw`. Events named by their SSE name stay strict.
                let kept = stream.type_member.is_some() && (data.is_some() || stream.non_json_raw);
                if kept {
                    continue;
                }
                sink.fail(
                    ep,
                    "event",
                    format!("event type `{event_type}` is not declared"),
                );
                continue;
            };
            let data = match &parsed {
                Ok(data) => data,
                Err(e) => {
                    sink.fail(ep, "event", format!("event data is not JSON: {e}"));
                    continue;
                }
            };
            let schema = json!({"$ref": format!("#/components/schemas/{schema_name}")});
            self.validate(&schema, data, &ep, sink);
            self.roundtrip_check(schema_name, data, &ep, sink);
        }
    }

    /// Compares a live (or any) answer with the spec: fields the spec does not name, fields it
    /// requires that are missing, type changes, unknown enum values, undeclared statuses.
    pub fn differences(
        &self,
        operation: &str,
        status: u16,
        body: Option<&Value>,
    ) -> Vec<Difference> {
        let Some(op) = self.spec.ops.iter().find(|o| o.id == operation) else {
            return vec![Difference {
                pointer: String::new(),
                kind: "unknown operation".into(),
                message: format!("the spec has no operation {operation}"),
            }];
        };
        if let Some(body) = body.filter(|b| too_deep(b)) {
            let mut sink = Sink {
                fixture: "",
                failures: Vec::new(),
            };
            self.validate(&Value::Bool(true), body, "", &mut sink);
            return sink
                .failures
                .into_iter()
                .map(|f| Difference {
                    pointer: f.pointer,
                    kind: f.rule,
                    message: f.message,
                })
                .collect();
        }
        let answer = FixtureResponse {
            status,
            headers: BTreeMap::new(),
            body: body.cloned(),
            text: None,
            sse: None,
            end: None,
            delay_ms: None,
        };
        let mut sink = Sink {
            fixture: "",
            failures: Vec::new(),
        };
        self.check_answer(op, "", &answer, &mut sink);
        sink.failures
            .into_iter()
            .map(|f| Difference {
                pointer: f
                    .pointer
                    .strip_prefix("/body")
                    .unwrap_or(&f.pointer)
                    .to_string(),
                kind: match f.rule.as_str() {
                    "additionalProperties" => "new field",
                    "required" => "missing field",
                    "type" => "type change",
                    "enum" | "const" => "unknown value",
                    "status" => "undeclared status",
                    "roundtrip" => "lost in decoding",
                    other => other,
                }
                .into(),
                message: f.message,
            })
            .collect()
    }

    fn op_value(&self, op: &Op) -> &Value {
        self.value.pointer(&op.pointer).unwrap_or(&Value::Null)
    }

    /// The response object declared for `status`: the exact code first, then its class (`4XX`).
    fn declared_response(&self, op: &Op, status: u16) -> Option<Value> {
        let responses = self.op_value(op).get("responses")?;
        let class = format!("{}XX", status / 100);
        let response = responses
            .get(status.to_string())
            .or_else(|| responses.get(&class))?;
        match response.get("$ref").and_then(Value::as_str) {
            Some(r) => {
                let name = r.strip_prefix("#/components/responses/")?;
                self.value
                    .pointer(&format!("/components/responses/{}", escape(name)))
                    .cloned()
            }
            None => Some(response.clone()),
        }
    }

    /// The operation whose method and path template fit, literal segments first.
    fn route(&self, method: &str, path: &str) -> Option<&Op> {
        self.spec
            .ops
            .iter()
            .filter(|o| o.method.eq_ignore_ascii_case(method))
            .filter_map(|o| match_template(&o.path, path).map(|(score, _)| (score, o)))
            .max_by_key(|(score, _)| *score)
            .map(|(_, o)| o)
    }

    fn validate(&self, schema: &Value, instance: &Value, base: &str, sink: &mut Sink) {
        if too_deep(instance) {
            sink.fail(
                base,
                "depth",
                format!(
                    "the value nests arrays and objects more than {MAX_VALUE_DEPTH} levels deep; the checks do not follow it"
                ),
            );
            return;
        }
        let doc = schema::document(schema::convert(schema), &self.defs);
        let validator = match jsonschema::options()
            .with_draft(jsonschema::Draft::Draft202012)
            .build(&doc)
        {
            Ok(v) => v,
            Err(e) => {
                sink.fail(
                    base,
                    "schema",
                    format!("the spec's schema does not compile: {e}"),
                );
                return;
            }
        };
        for error in validator.iter_errors(instance) {
            let schema_path = error.schema_path().to_string();
            let rule = schema_path
                .rsplit('/')
                .next()
                .unwrap_or("schema")
                .to_string();
            let pointer = format!("{base}{}", error.instance_path());
            sink.fail(pointer, &rule, error.to_string());
        }
    }

    fn roundtrip_result(
        &self,
        schema: Option<&Value>,
        data: &Value,
        pointer: &str,
        sink: &mut Sink,
    ) {
        let Some(schema) = schema else { return };
        if let Some(name) = ref_name(schema) {
            self.roundtrip_check(name, data, pointer, sink);
        } else if let (Some(item), Some(list)) =
            (schema.get("items").and_then(ref_name), data.as_array())
        {
            for (i, element) in list.iter().enumerate() {
                self.roundtrip_check(item, element, &format!("{pointer}/{i}"), sink);
            }
        }
    }

    fn roundtrip_check(&self, name: &str, value: &Value, pointer: &str, sink: &mut Sink) {
        let Some(roundtrip) = self.roundtrip else {
            return;
        };
        if too_deep(value) {
            return; // reported by `validate`, which every checked value goes through
        }
        match roundtrip(name, value) {
            None => {}
            Some(Err(e)) => sink.fail(
                pointer,
                "roundtrip",
                format!("does not decode as {name}: {e}"),
            ),
            Some(Ok(again)) => {
                if let Some((at, what)) = difference(value, &again, "", 0) {
                    sink.fail(
                        format!("{pointer}{at}"),
                        "roundtrip",
                        format!("{name} does not keep it: {what}"),
                    );
                }
            }
        }
    }
}

fn ref_name(schema: &Value) -> Option<&str> {
    schema
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|r| r.strip_prefix("#/components/schemas/"))
}

/// The first place where `actual` (decoded and encoded again) lost what `expected` said. Null
/// and absent are equal, an absent list equals `[]`, and a list may have dropped non-object
/// placeholders. `depth` is how deep `at` is: it follows no more than [`MAX_VALUE_DEPTH`] levels.
fn difference(
    expected: &Value,
    actual: &Value,
    at: &str,
    depth: usize,
) -> Option<(String, String)> {
    if depth > MAX_VALUE_DEPTH && (expected.is_array() || expected.is_object()) {
        return Some((
            at.to_string(),
            format!("nested more than {MAX_VALUE_DEPTH} levels deep; not compared"),
        ));
    }
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => {
            for (k, ev) in e {
                let p = format!("{at}/{}", escape(k));
                match a.get(k) {
                    None if ev.is_null() || ev.as_array().is_some_and(Vec::is_empty) => {}
                    None => return Some((p, "the field is dropped".into())),
                    Some(av) => {
                        if let Some(d) = difference(ev, av, &p, depth + 1) {
                            return Some(d);
                        }
                    }
                }
            }
            None
        }
        (Value::Array(e), Value::Array(a)) => {
            let kept: Vec<&Value> = if e.len() != a.len() && a.iter().all(Value::is_object) {
                e.iter().filter(|v| v.is_object()).collect()
            } else {
                e.iter().collect()
            };
            if kept.len() != a.len() {
                return Some((
                    at.to_string(),
                    format!("{} entries became {}", e.len(), a.len()),
                ));
            }
            kept.iter()
                .zip(a)
                .enumerate()
                .find_map(|(i, (ev, av))| difference(ev, av, &format!("{at}/{i}"), depth + 1))
        }
        (Value::Number(e), Value::Number(a)) if e.as_f64() == a.as_f64() => None,
        (Value::Array(e), Value::Null) if e.is_empty() => None,
        (e, a) if e == a => None,
        (e, a) => Some((at.to_string(), format!("{e} became {a}"))),
    }
}

fn check_param_value(ty: &ParamType, value: &str, spec: &model::Spec) -> Result<(), String> {
    match ty {
        ParamType::String => Ok(()),
        ParamType::Integer => value
            .parse::<i64>()
            .map(|_| ())
            .map_err(|_| format!("{value:?} is not an integer")),
        ParamType::Number => value
            .parse::<f64>()
            .map(|_| ())
            .map_err(|_| format!("{value:?} is not a number")),
        ParamType::Boolean => match value {
            "true" | "false" => Ok(()),
            _ => Err(format!("{value:?} is not `true` or `false`")),
        },
        ParamType::Enum(name) => {
            let values = spec
                .enums
                .iter()
                .find(|e| &e.name == name)
                .map(|e| e.values.clone())
                .unwrap_or_default();
            if values.iter().any(|v| v == value) {
                Ok(())
            } else {
                Err(format!("{value:?} is not one of {name} {values:?}"))
            }
        }
        ParamType::Array(inner) => value
            .split(',')
            .try_for_each(|v| check_param_value(inner, v, spec)),
    }
}
