//! Every operation of every platform, driven by its fixtures.
//!
//! For each success fixture of `fixtures/<platform>/` (streams aside: they have their own suite),
//! the platform's generated fixture-driven call (`agentwire::testkit`) calls the public typed API
//! with the fixture's arguments — path parameters from its path, query parameters from its
//! `query` parsed into their declared types, the body deserialized from its `body` into the
//! operation's body type — against the mock, as a user would write the call. Then this suite
//! checks what the server saw (one request: its method, path, query, body and headers, plus the
//! credentials, idempotency key and request id the runtime adds) and what the caller got (status,
//! request id, and the result re-serialized, compared with the fixture's answer).
//!
//! An operation with only error fixtures (BimpeAI's `calls.list_team` answers 501 today) is
//! driven through them: the caller must get the error the status stands for.
//!
//! Every failing fixture is reported at once.

use std::collections::{BTreeMap, BTreeSet};

use agentwire::mock::{Fixture, FixtureResponse, MockServer, Received, embedded_fixtures};
use agentwire::testkit::{Called, FixtureClient};
use std::sync::Arc;

use agentwire::{
    Auth, ClientBuilder, ErrorKind, Operation, Platform, ResponseKind, Secret, StaticCredentials,
};
use serde_json::{Value, json};

/// The test value of each credential of a platform, as its fixtures send it (BimpeAI's
/// `Authorization: Bearer sk_test`, Knowrithm's `X-API-Key: ak_test`): read from the headers and
/// query of each fixture, by the auth schemes of its operation; `<name>_test` for a credential no
/// fixture shows.
/// Each credential's test value, by name.
type Secrets = BTreeMap<&'static str, String>;

fn secrets(platform: &'static Platform, fixtures: &[Fixture]) -> Secrets {
    let mut found = BTreeMap::new();
    for f in fixtures {
        let Some(op) = platform.operation(&f.operation) else {
            continue;
        };
        for scheme in op.auth.iter().flat_map(|alternative| alternative.iter()) {
            let (credential, value) = match scheme {
                Auth::Bearer(c) => (
                    *c,
                    f.request
                        .headers
                        .get("authorization")
                        .and_then(|v| v.strip_prefix("Bearer "))
                        .map(str::to_owned),
                ),
                Auth::Header(h, c) => (*c, f.request.headers.get(&h.to_ascii_lowercase()).cloned()),
                Auth::Query(q, c) => (*c, f.request.query.get(*q).cloned()),
                _ => continue,
            };
            if let Some(value) = value {
                found.entry(credential).or_insert(value);
            }
        }
    }
    for c in platform.credentials {
        found
            .entry(c.name)
            .or_insert_with(|| format!("{}_test", c.name));
    }
    found
}

/// A client of `platform` with every host pointed at the mock (each at its own mount, so a
/// second host's operations reach it too), with every credential the platform takes.
fn client_for(
    platform: &'static Platform,
    mock: &MockServer,
    fixtures: &[Fixture],
) -> FixtureClient {
    let mut credentials = StaticCredentials::default();
    for (credential, value) in secrets(platform, fixtures) {
        credentials.set(credential, Secret::new(value));
    }
    let builder = platform
        .hosts
        .iter()
        .fold(ClientBuilder::<()>::new(), |b, h| {
            b.host_url(h.name, mock.host_url(h.name))
        })
        .credential_provider(Arc::new(credentials));
    FixtureClient::new(platform, builder).expect("the client builds")
}

/// Runs every success fixture of `platform` (and the error fixtures of operations that have no
/// success fixture) through its fixture-driven call; the problems, one line per fixture.
async fn check_platform(platform: &'static Platform) -> (usize, Vec<String>) {
    let fixtures = embedded_fixtures(platform).expect("the fixtures parse");
    assert!(!fixtures.is_empty(), "{}: no fixtures", platform.name);
    let mock = MockServer::start(platform).await.expect("the mock starts");
    let secrets = secrets(platform, &fixtures);
    let client = client_for(platform, &mock, &fixtures);

    let with_success: BTreeSet<&str> = fixtures
        .iter()
        .filter(|f| !f.is_error())
        .map(|f| f.operation.as_str())
        .collect();
    let mut checked = 0;
    let mut failures = Vec::new();
    for f in &fixtures {
        // Streams have suites of their own; a JSON-or-stream operation's JSON answers are
        // checked here.
        let streamed = platform.operation(&f.operation).is_some_and(|op| {
            op.stream.is_some()
                && (op.response != ResponseKind::JsonOrStream
                    || f.answers().iter().any(|a| a.sse.is_some()))
        });
        if streamed || (f.is_error() && with_success.contains(f.operation.as_str())) {
            continue;
        }
        checked += 1;
        let problems = check_fixture(&client, &mock, f, &secrets).await;
        if !problems.is_empty() {
            failures.push(format!(
                "{}/{}:\n      {}",
                platform.name,
                f.file,
                problems.join("\n      ")
            ));
        }
    }
    (checked, failures)
}

// ---------------------------------------------------------------------------------- checking

/// The error kind a failure fixture's status must be classified as.
fn expected_error_kind(status: u16) -> Option<ErrorKind> {
    match status {
        401 => Some(ErrorKind::Authentication),
        403 => Some(ErrorKind::PermissionDenied),
        404 => Some(ErrorKind::NotFound),
        409 => Some(ErrorKind::Conflict),
        429 => Some(ErrorKind::RateLimited),
        501 => Some(ErrorKind::NotImplemented),
        _ => None,
    }
}

/// Runs one fixture and checks it; every problem found.
async fn check_fixture(
    client: &FixtureClient,
    mock: &MockServer,
    f: &Fixture,
    secrets: &Secrets,
) -> Vec<String> {
    let mut problems = Vec::new();
    let platform = client.platform();
    let Some(op) = platform.operation(&f.operation) else {
        return vec![format!("operation `{}` is not in the spec", f.operation)];
    };
    let answers = f.answers();
    let [answer] = answers.as_slice() else {
        return vec!["a sequence fixture: this suite expects one answer".to_owned()];
    };

    mock.reset();
    let got = match client.call(f).await {
        Ok(Some(got)) => got,
        Ok(None) => {
            return vec![format!(
                "{} has no generated builder (hand-written): give it a suite of its own",
                f.operation
            )];
        }
        Err(e) => return vec![e],
    };
    check_request(mock, platform, f, op, secrets, &mut problems);
    // Where the fixture wrote `{mock_base…}`, the client received the mock's own URL.
    let mut answer = (*answer).clone();
    if let Some(body) = answer.body.as_mut() {
        mock.expand_placeholders(body);
    }
    check_result(platform, op, f, &answer, got, &mut problems);
    problems
}

/// What the server saw: one request, the fixture's method, path, query, body and headers, plus
/// the credentials, idempotency key and request id the runtime adds.
fn check_request(
    mock: &MockServer,
    platform: &Platform,
    f: &Fixture,
    op: &Operation,
    secrets: &Secrets,
    problems: &mut Vec<String>,
) {
    let journal = mock.journal();
    let routed = mock.received(&f.operation);
    if journal.len() != 1 || routed.len() != 1 {
        let seen: Vec<String> = journal
            .iter()
            .map(|r| format!("{} {} -> {:?}", r.method, r.path, r.operation))
            .collect();
        problems.push(format!(
            "expected exactly one request, routed to {}; the mock saw {seen:?}",
            f.operation
        ));
    }
    let Some(r) = routed.first() else { return };
    let want = &f.request;

    if r.method != want.method {
        problems.push(format!(
            "method: expected {}, sent {}",
            want.method, r.method
        ));
    }
    if r.path != want.path {
        problems.push(format!("path: expected {}, sent {}", want.path, r.path));
    }
    // Credentials that go in the query are the runtime's, checked with the other credentials.
    let credentials_in_query: BTreeSet<&str> = op
        .auth
        .iter()
        .flat_map(|alternative| alternative.iter())
        .filter_map(|scheme| match scheme {
            Auth::Query(name, _) => Some(*name),
            _ => None,
        })
        .collect();
    let mut query = r.query_map();
    query.retain(|name, _| !credentials_in_query.contains(name.as_str()));
    let repeated = r.query.len() != r.query_map().len();
    if query != want.query || repeated {
        problems.push(format!(
            "query: expected {:?}, sent {:?}",
            want.query, r.query
        ));
    }
    match &want.form {
        Some(form) => check_form(r, form, problems),
        None => check_body(r, want.body.as_ref(), problems),
    }
    check_headers(r, platform, f, op, secrets, problems);
}

/// A form request: every field the fixture names sent as a part (a file under its file name),
/// and no other field.
fn check_form(r: &Received, want: &Value, problems: &mut Vec<String>) {
    let Some(want) = want.as_object() else {
        problems.push("form: the fixture's form is not an object".into());
        return;
    };
    let text = |v: &Value| match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let mut expected: Vec<(String, String)> = Vec::new();
    for (name, value) in want {
        match value {
            Value::Array(items) => expected.extend(items.iter().map(|i| (name.clone(), text(i)))),
            other => expected.push((name.clone(), text(other))),
        }
    }
    let mut sent: Vec<(String, String)> = r
        .form
        .iter()
        .map(|p| {
            (
                p.name.clone(),
                p.file_name.clone().unwrap_or_else(|| p.text()),
            )
        })
        .collect();
    expected.sort();
    sent.sort();
    if expected != sent {
        problems.push(format!("form: expected {expected:?}, sent {sent:?}"));
    }
}

fn check_body(r: &Received, want: Option<&Value>, problems: &mut Vec<String>) {
    match want {
        None | Some(Value::Null) => {
            if !r.body.is_empty() {
                problems.push(format!(
                    "body: the fixture has none, sent {:?}",
                    String::from_utf8_lossy(&r.body)
                ));
            }
            if let Some(ct) = r.header("content-type") {
                problems.push(format!("content-type {ct:?} sent without a body"));
            }
        }
        Some(want) => {
            match r.json() {
                Some(sent) => {
                    if let Some(diff) = json_difference(want, &sent, "$body", Mode::Exact) {
                        problems.push(format!("request body differs from the fixture's: {diff}"));
                    }
                }
                None => problems.push(format!(
                    "body: expected JSON {want}, sent {:?}",
                    String::from_utf8_lossy(&r.body)
                )),
            }
            if !r
                .header("content-type")
                .is_some_and(|ct| ct.starts_with("application/json"))
            {
                problems.push(format!(
                    "content-type: expected application/json with a JSON body, sent {:?}",
                    r.header("content-type")
                ));
            }
        }
    }
}

/// Whether the request carries every scheme of one auth alternative, each with its test value.
fn carries(r: &Received, alternative: &[Auth], secrets: &Secrets) -> bool {
    let secret = |c: &str| secrets.get(c).cloned().unwrap_or_default();
    alternative.iter().all(|scheme| match *scheme {
        Auth::Bearer(c) => r.header("authorization") == Some(&*format!("Bearer {}", secret(c))),
        Auth::Header(name, c) => r.header(&name.to_ascii_lowercase()) == Some(&*secret(c)),
        Auth::Query(name, c) => r.query_map().get(name).map(String::as_str) == Some(&*secret(c)),
        _ => false,
    })
}

fn check_headers(
    r: &Received,
    platform: &Platform,
    f: &Fixture,
    op: &Operation,
    secrets: &Secrets,
    problems: &mut Vec<String>,
) {
    // The headers the fixture names (its credentials among them).
    for (name, value) in &f.request.headers {
        if r.header(name) != Some(value.as_str()) {
            problems.push(format!(
                "header {name}: expected {value:?}, sent {:?}",
                r.header(name)
            ));
        }
    }
    // Credentials, from the operation table: one alternative of an authenticated operation is
    // carried whole; a public one carries none.
    if op.auth.is_empty() {
        if let Some(authorization) = r.header("authorization") {
            problems.push(format!(
                "authorization sent on a public operation: {authorization:?}"
            ));
        }
    } else if !op
        .auth
        .iter()
        .any(|alternative| carries(r, alternative, secrets))
    {
        problems.push(format!(
            "credentials: none of the alternatives {:?} was sent whole (headers {:?})",
            op.auth,
            r.headers.keys().collect::<Vec<_>>()
        ));
    }
    // One idempotency key per write call, none on reads.
    if let Some(header) = platform.idempotency_header {
        let key = r.header(&header.to_ascii_lowercase());
        match r.method.as_str() {
            "POST" | "PUT" | "PATCH" | "DELETE" => {
                if key.map(str::len) != Some(36) {
                    problems.push(format!(
                        "{header}: expected a 36-character key on a write, sent {key:?}"
                    ));
                }
            }
            _ => {
                if key.is_some() {
                    problems.push(format!("{header} sent on a {}: {key:?}", r.method));
                }
            }
        }
    }
    // One request id per call.
    if let Some(header) = platform.request_id_header {
        let id = r.header(&header.to_ascii_lowercase());
        if id.map(str::len) != Some(36) {
            problems.push(format!("{header}: expected a 36-character id, sent {id:?}"));
        }
    }
}

/// What the caller got: the fixture's status and request id, and its result (and page
/// metadata) decoded and re-serialized.
fn check_result(
    platform: &Platform,
    op: &Operation,
    f: &Fixture,
    answer: &FixtureResponse,
    got: Called,
    problems: &mut Vec<String>,
) {
    let want_request_id = platform
        .request_id_header
        .and_then(|h| answer.headers.get(&h.to_ascii_lowercase()))
        .map(String::as_str);
    let body = answer.body.clone().unwrap_or(Value::Null);

    if answer.status >= 400 {
        let Called::Failed(err) = got else {
            problems.push(format!(
                "expected a {} error, the call succeeded",
                answer.status
            ));
            return;
        };
        match expected_error_kind(answer.status) {
            Some(kind) if err.kind() == kind => {}
            Some(kind) => problems.push(format!(
                "error kind: expected {kind:?}, got {:?} ({err})",
                err.kind()
            )),
            None => problems.push(format!(
                "no expected error kind for status {}",
                answer.status
            )),
        }
        if err.status().map(|s| s.as_u16()) != Some(answer.status) {
            problems.push(format!(
                "error status: expected {}, got {:?}",
                answer.status,
                err.status()
            ));
        }
        if err.operation() != Some(f.operation.as_str()) {
            problems.push(format!(
                "error operation: expected {}, got {:?}",
                f.operation,
                err.operation()
            ));
        }
        if err.request_id() != want_request_id {
            problems.push(format!(
                "error request id: expected {want_request_id:?}, got {:?}",
                err.request_id()
            ));
        }
        let want_code = platform
            .host_of(op)
            .map_or(&agentwire::ErrorFormat::DEFAULT, |h| h.errors)
            .code
            .iter()
            .find_map(|member| body.get(*member))
            .and_then(Value::as_str);
        if err.code() != want_code {
            problems.push(format!(
                "error code: expected {want_code:?}, got {:?}",
                err.code()
            ));
        }
        return;
    }

    // A text or bytes answer is its text, as recorded.
    let expected = match (&answer.text, op.response) {
        (Some(text), ResponseKind::Text | ResponseKind::Bytes) => json!({ "data": text }),
        _ => expected_result(op, &body),
    };
    // A success body that reports a failure (`x-agentwire-outcome`) is a failed task.
    let reported_failure = op
        .outcome
        .filter(|o| body.get(o.ok_member) == Some(&Value::Bool(false)));
    if let Some(outcome) = reported_failure {
        match &got {
            Called::Failed(err) if err.kind() == ErrorKind::Task && err.task_failed() => {
                let id = outcome
                    .id_member
                    .and_then(|m| body.get(m))
                    .and_then(Value::as_str);
                if err.task_id() != id {
                    problems.push(format!(
                        "the failed run's id is {:?}, not {id:?}",
                        err.task_id()
                    ));
                }
            }
            _ => problems.push(format!(
                "`{}: false` must be a failed task, got {got:?}",
                outcome.ok_member
            )),
        }
        return;
    }
    let (status, request_id, actual) = match got {
        Called::Failed(err) => {
            problems.push(format!("the call failed: {err} ({:?})", err.kind()));
            return;
        }
        Called::Single {
            status,
            request_id,
            data,
        } => (status, request_id, json!({ "data": data })),
        Called::Page {
            status,
            request_id,
            items,
            meta,
        } => (status, request_id, json!({ "data": items, "meta": meta })),
    };
    // The mock starts a task of its own for a default acknowledgement: a fresh task id, in its
    // id member and status URLs. Read back with the recorded id, the rest must be as recorded.
    let mut actual = actual;
    if let Some(task) = op.task.filter(|t| t.ack_status_codes.contains(&status))
        && let (Some(Value::String(issued)), Some(Value::String(recorded))) = (
            actual
                .pointer(&format!("/data/{}", task.id_member))
                .cloned(),
            body.get(task.id_member).cloned(),
        )
    {
        if !issued.starts_with("task_mock_") {
            problems.push(format!("the mock's acknowledgement has task id {issued:?}"));
        }
        replace_in_strings(&mut actual, &issued, &recorded);
    }
    if status != answer.status {
        problems.push(format!("status: expected {}, got {status}", answer.status));
    }
    if request_id.as_deref() != want_request_id {
        problems.push(format!(
            "request id: expected {want_request_id:?}, got {request_id:?}"
        ));
    }
    let mut expected = expected;
    if platform.name == "bimpeai" && f.operation.starts_with("workflows.") {
        // BimpeAI workflows' loose lists drop the server's non-object placeholders (`[]`) on
        // decode (`x-agentwire-loose`).
        match expected.get_mut("data") {
            Some(Value::Array(items)) => items.iter_mut().for_each(drop_loose_placeholders),
            Some(workflow) => drop_loose_placeholders(workflow),
            None => {}
        }
    }
    if let Err(diff) = assert_json_equivalent(&expected, &actual, "$") {
        problems.push(format!("result differs from the fixture's: {diff}"));
    }
}

/// What the caller should get out of a success body, as `{"data": …, "meta": …}`: the result
/// (inside the platform's envelope where the operation is enveloped) — for a page, its items
/// (the result, or its `items` member) and metadata (the envelope's meta member, or where the
/// page style says). Null members are left out (a null or absent result is an empty one).
fn expected_result(op: &Operation, body: &Value) -> Value {
    let envelope = op.envelope;
    let result = match envelope {
        Some(e) => body.get(e.data).cloned().unwrap_or(Value::Null),
        None => body.clone(),
    };
    let mut expected = serde_json::Map::new();
    let Some(style) = op.pagination else {
        if !result.is_null() {
            expected.insert("data".to_owned(), result);
        }
        return Value::Object(expected);
    };
    let items = match op.items {
        Some(member) => result.get(member).cloned().unwrap_or(Value::Null),
        None => result,
    };
    let meta = match (style.meta, envelope) {
        // The body itself: all of it but the list.
        (Some(""), _) => {
            let mut meta = body.clone();
            if let Some(object) = meta.as_object_mut() {
                for member in envelope.map(|e| e.data).into_iter().chain(op.items) {
                    object.remove(member);
                }
            }
            Some(meta)
        }
        (Some(member), _) => body.get(member).cloned(),
        (None, Some(e)) => body.get(e.meta).cloned(),
        (None, None) => None,
    };
    for (member, value) in [("data", Some(items)), ("meta", meta)] {
        if let Some(v) = value.filter(|v| !v.is_null()) {
            expected.insert(member.to_owned(), v);
        }
    }
    Value::Object(expected)
}

/// Removes the non-object entries of a workflow's `x-agentwire-loose` lists.
fn drop_loose_placeholders(workflow: &mut Value) {
    for list in ["rules", "flows", "faq"] {
        if let Some(Value::Array(entries)) = workflow.get_mut(list) {
            entries.retain(Value::is_object);
        }
    }
}

// ------------------------------------------------------------------------------- JSON compare

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    /// Results: a null or absent member, or an absent list and `[]`, are the same.
    Equivalent,
    /// Request bodies: exactly equal (null and absent mean different things in a PATCH).
    Exact,
}

/// Whether `expected` and `actual` are equivalent results; the error names the JSON path of the
/// first difference.
fn assert_json_equivalent(expected: &Value, actual: &Value, path: &str) -> Result<(), String> {
    match json_difference(expected, actual, path, Mode::Equivalent) {
        None => Ok(()),
        Some(diff) => Err(diff),
    }
}

/// The first difference between `expected` and `actual`, with its JSON path.
fn json_difference(expected: &Value, actual: &Value, path: &str, mode: Mode) -> Option<String> {
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => {
            let keys: BTreeSet<&String> = e.keys().chain(a.keys()).collect();
            keys.into_iter().find_map(|key| {
                let at = format!("{path}.{key}");
                match (e.get(key), a.get(key)) {
                    (Some(ev), Some(av)) => json_difference(ev, av, &at, mode),
                    (Some(v), None) | (None, Some(v))
                        if mode == Mode::Equivalent && absent_like(v) =>
                    {
                        None
                    }
                    (Some(ev), None) => Some(format!("{at}: expected {ev}, absent")),
                    (None, Some(av)) => Some(format!("{at}: not expected, got {av}")),
                    (None, None) => None,
                }
            })
        }
        (Value::Array(e), Value::Array(a)) => {
            if e.len() != a.len() {
                return Some(format!(
                    "{path}: expected {} entries, got {}: expected {expected}, got {actual}",
                    e.len(),
                    a.len()
                ));
            }
            e.iter()
                .zip(a)
                .enumerate()
                .find_map(|(i, (ev, av))| json_difference(ev, av, &format!("{path}[{i}]"), mode))
        }
        (e, a) if e == a => None,
        (e, a) => Some(format!("{path}: expected {e}, got {a}")),
    }
}

/// A member value that means the same as the member being absent.
fn absent_like(v: &Value) -> bool {
    v.is_null() || v.as_array().is_some_and(Vec::is_empty)
}

// ------------------------------------------------------------------------------------- tests

#[tokio::test]
async fn every_operation_of_every_platform_against_its_fixtures() {
    let platforms = agentwire::testkit::platforms();
    assert!(!platforms.is_empty(), "no platform in this build");
    let mut failures = Vec::new();
    let mut checked = 0;
    for platform in platforms {
        let (count, mut problems) = check_platform(platform).await;
        checked += count;
        failures.append(&mut problems);
    }
    assert!(
        failures.is_empty(),
        "{} of {checked} fixtures failed:\n  {}",
        failures.len(),
        failures.join("\n  ")
    );
}

/// The fixture-driven call reports a fixture that does not fit its operation, and leaves
/// hand-written operations alone, rather than calling something else.
#[cfg(feature = "bimpeai")]
#[tokio::test]
async fn a_fixture_that_does_not_fit_its_operation_is_reported() {
    use agentwire::bimpeai::PLATFORM;
    let mock = MockServer::start(&PLATFORM).await.expect("the mock starts");
    let client = client_for(
        &PLATFORM,
        &mock,
        &embedded_fixtures(&PLATFORM).expect("fixtures"),
    );
    let answer = FixtureResponse::json(200, json!({"message": "ok", "data": null}));

    let misplaced = Fixture::new("agents.retrieve", "GET", "/agents", answer.clone());
    let err = client
        .call(&misplaced)
        .await
        .expect_err("the path does not fit");
    assert!(
        err.contains("does not fit the template /agents/{agent_id}"),
        "{err}"
    );

    let mut unparsable = Fixture::new("agents.list", "GET", "/agents", answer.clone());
    unparsable.request.query = BTreeMap::from([("page".to_owned(), "two".to_owned())]);
    let err = client
        .call(&unparsable)
        .await
        .expect_err("`page` is an integer");
    assert!(err.starts_with("query `page`=two:"), "{err}");

    let bodiless = Fixture::new("agents.create", "POST", "/agents", answer.clone());
    let err = client
        .call(&bodiless)
        .await
        .expect_err("the body is required");
    assert!(
        err.contains("no request body, which agents.create requires"),
        "{err}"
    );

    let stream = Fixture::new(
        "conversations.messages.stream",
        "GET",
        "/agents/a_1/conversations/cv_1/stream",
        answer,
    );
    assert!(client.call(&stream).await.expect("fits").is_none());
    assert!(mock.journal().is_empty(), "nothing was sent");
}

#[test]
fn json_equivalence_treats_null_absent_and_empty_lists_alike_and_names_the_path() {
    let expected =
        json!({"data": {"id": "a_1", "description": null, "tags": [], "rules": [{"id": "r1"}]}});
    let same = json!({"data": {"id": "a_1", "rules": [{"id": "r1", "name": null}]}});
    assert_eq!(assert_json_equivalent(&expected, &same, "$"), Ok(()));

    let renamed = json!({"data": {"id": "a_1", "rules": [{"id": "r2"}]}});
    let err = assert_json_equivalent(&expected, &renamed, "$").unwrap_err();
    assert!(err.starts_with("$.data.rules[0].id:"), "{err}");

    let extra = json!({"data": {"id": "a_1", "rules": [{"id": "r1"}], "name": "x"}});
    let err = assert_json_equivalent(&expected, &extra, "$").unwrap_err();
    assert!(err.starts_with("$.data.name:"), "{err}");

    let shorter = json!({"data": {"id": "a_1", "rules": []}});
    let err = assert_json_equivalent(&expected, &shorter, "$").unwrap_err();
    assert!(err.starts_with("$.data.rules:"), "{err}");

    // Null and [] are not the same when both are present, and request bodies compare exactly.
    let null_list = json!({"tags": null});
    assert!(assert_json_equivalent(&json!({"tags": []}), &null_list, "$").is_err());
    assert!(json_difference(&json!({"label": null}), &json!({}), "$", Mode::Exact).is_some());
}

/// Replaces `was` by `now` inside every string of `value`.
fn replace_in_strings(value: &mut Value, was: &str, now: &str) {
    match value {
        Value::String(s) => *s = s.replace(was, now),
        Value::Array(items) => items
            .iter_mut()
            .for_each(|i| replace_in_strings(i, was, now)),
        Value::Object(map) => map
            .values_mut()
            .for_each(|v| replace_in_strings(v, was, now)),
        _ => {}
    }
}
