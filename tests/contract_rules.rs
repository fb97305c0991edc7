//! The contract checks catch what they promise: each broken fixture, and a spec edit that breaks
//! the recorded fixtures, is reported with the fixture file, the JSON pointer and the rule.

#![cfg(feature = "bimpeai")]

use std::path::Path;

use agentwire::contract::{self, Contract, Failure};
use agentwire::mock::Fixture;
use serde_json::{Value, json};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn spec_text() -> String {
    std::fs::read_to_string(root().join("openapi/bimpeai.yaml")).expect("spec")
}

fn contract() -> Contract {
    Contract::from_dir(root(), "bimpeai").expect("spec reads")
}

fn fixture(name: &str) -> Fixture {
    let path = root().join("fixtures/bimpeai").join(name);
    let text = std::fs::read_to_string(&path).expect("fixture");
    Fixture::parse(&format!("fixtures/bimpeai/{name}"), &text).expect("parses")
}

/// Edits the fixture's JSON, then checks it.
fn check_edited(name: &str, edit: impl FnOnce(&mut Value)) -> Vec<Failure> {
    let f = fixture(name);
    let mut v = serde_json::to_value(&f).expect("to json");
    edit(&mut v);
    let edited = Fixture::parse(&f.file, &v.to_string()).expect("still a fixture");
    contract().check_fixture(&edited)
}

fn assert_failure(failures: &[Failure], pointer: &str, rule: &str) {
    assert!(
        failures
            .iter()
            .any(|f| f.pointer == pointer && f.rule == rule),
        "expected [{rule}] at {pointer}, got:\n{}",
        failures
            .iter()
            .map(|f| format!("  {f}\n"))
            .collect::<String>()
    );
}

#[test]
fn an_unknown_enum_value_is_strict_even_though_the_client_accepts_it() {
    let failures = check_edited("agents.list.json", |v| {
        v["response"]["body"]["data"][0]["status"] = json!("archived");
    });
    assert_failure(&failures, "/response/body/data/0/status", "enum");
    assert!(failures[0].fixture.ends_with("agents.list.json"));
}

#[test]
fn fields_the_spec_does_not_name_missing_fields_and_wrong_types() {
    let failures = check_edited("agents.retrieve.json", |v| {
        let data = &mut v["response"]["body"]["data"];
        data["brand_new"] = json!(1);
        data.as_object_mut().expect("object").remove("name");
        data["created_at"] = json!(5);
    });
    assert_failure(&failures, "/response/body/data", "additionalProperties");
    assert_failure(&failures, "/response/body/data", "required");
    assert_failure(&failures, "/response/body/data/created_at", "type");
}

#[test]
fn the_envelope_is_checked() {
    let failures = check_edited("agents.retrieve.json", |v| {
        v["response"]["body"]
            .as_object_mut()
            .expect("object")
            .remove("message");
    });
    assert_failure(&failures, "/response/body", "required");
    let failures = check_edited("agents.retrieve.json", |v| {
        v["response"]["body"]["meta"] = json!({"total_count": 1});
    });
    assert_failure(&failures, "/response/body", "additionalProperties");
}

#[test]
fn statuses_must_be_declared() {
    let failures = check_edited("agents.retrieve.json", |v| {
        v["response"]["status"] = json!(302)
    });
    assert_failure(&failures, "/response/status", "status");
}

#[test]
fn error_bodies_are_checked_against_the_error_schema() {
    let failures = check_edited("agents.retrieve.not_found.json", |v| {
        v["response"]["body"]["code"] = json!("gone_fishing");
    });
    assert_failure(&failures, "/response/body/code", "enum");
}

#[test]
fn request_parameters_and_bodies_are_checked() {
    let failures = check_edited("conversations.list.filtered.json", |v| {
        v["request"]["query"]["needs_attention"] = json!("yes");
        v["request"]["query"]["channel"] = json!("carrier_pigeon");
        v["request"]["query"]["colour"] = json!("blue");
    });
    assert_failure(&failures, "/request/query/needs_attention", "parameter");
    assert_failure(&failures, "/request/query/channel", "parameter");
    assert_failure(&failures, "/request/query/colour", "parameter");

    let failures = check_edited("agents.create.json", |v| {
        v["request"]["body"]["persona"] = json!("pirate");
    });
    assert_failure(&failures, "/request/body/persona", "enum");

    let failures = check_edited("agents.delete.json", |v| {
        v["request"]["body"] = json!({"force": true});
    });
    assert_failure(&failures, "/request/body", "body");
}

#[test]
fn the_path_must_route_to_the_operation() {
    let failures = check_edited("agents.retrieve.json", |v| {
        v["request"]["path"] = json!("/agents/a_1/channels");
    });
    assert_failure(&failures, "/request/path", "path");
    let failures = check_edited("agents.retrieve.json", |v| {
        v["request"]["method"] = json!("DELETE");
    });
    assert_failure(&failures, "/request/method", "method");
    let failures = check_edited("agents.retrieve.json", |v| {
        v["operation"] = json!("agents.fetch")
    });
    assert_failure(&failures, "/operation", "operation");
}

#[test]
fn stream_events_are_checked_one_by_one() {
    let failures = check_edited("conversations.messages.stream.json", |v| {
        let sse = v["response"]["sse"].as_str().expect("sse").to_string();
        v["response"]["sse"] = json!(format!(
            "{}event: typing\ndata: {{}}\n\nevent: message\ndata: {{\"id\":\"m_9\"}}\n\n",
            sse
        ));
    });
    assert_failure(&failures, "/response/sse#event3", "event");
    assert_failure(&failures, "/response/sse#event4", "required");
}

#[test]
fn every_operation_needs_a_success_fixture() {
    let fixtures: Vec<Fixture> = contract::read_fixtures(root(), "bimpeai")
        .expect("fixtures")
        .into_iter()
        .filter(|f| f.operation != "workflows.clone")
        .collect();
    let report = contract().check(&fixtures);
    assert!(!report.ok());
    assert_eq!(report.covered, report.total - 1);
    let missing = report
        .failures
        .iter()
        .find(|f| f.rule == "coverage")
        .expect("a coverage failure");
    assert!(missing.message.contains("workflows.clone"), "{missing}");
    assert!(
        missing.fixture.starts_with("openapi/bimpeai.yaml:"),
        "{missing}"
    );
    assert_eq!(
        report.summary(),
        format!(
            "contract: bimpeai {}/{} operations, {} fixtures, {} failure",
            report.total - 1,
            report.total,
            fixtures.len(),
            report.failures.len()
        )
    );
}

#[test]
fn a_spec_edit_that_breaks_fixtures_is_reported_against_them() {
    // A spec author renames a page-meta member: every list fixture now disagrees.
    let edited = spec_text().replace("current_page", "page_number");
    let c = Contract::new("bimpeai", "openapi/bimpeai.yaml", &edited).expect("still a valid spec");
    let fixtures = contract::read_fixtures(root(), "bimpeai").expect("fixtures");
    let report = c.check(&fixtures);
    assert!(!report.ok());
    let f = report
        .failures
        .iter()
        .find(|f| {
            f.fixture == "fixtures/bimpeai/agents.list.json" && f.rule == "additionalProperties"
        })
        .unwrap_or_else(|| panic!("expected agents.list.json to fail:\n{report}"));
    assert_eq!(f.pointer, "/response/body/meta");
    assert!(f.message.contains("current_page"), "{f}");
}

#[test]
fn differences_name_new_missing_and_changed_fields() {
    let c = contract();
    let body = json!({"message": "ok", "data": {"id": "a_1", "description": "d", "created_at": 1,
        "updated_at": "t", "knowledge_bases": [], "integrations": [], "channels": [], "mood": "sunny"}});
    let diffs = c.differences("agents.retrieve", 200, Some(&body));
    let kinds: Vec<&str> = diffs.iter().map(|d| d.kind.as_str()).collect();
    assert!(kinds.contains(&"new field"), "{diffs:?}");
    assert!(kinds.contains(&"missing field"), "{diffs:?}");
    assert!(kinds.contains(&"type change"), "{diffs:?}");
    let diffs = c.differences("agents.retrieve", 302, None);
    assert_eq!(diffs[0].kind, "undeclared status");
}

/// Every spec of `openapi/` follows the conventions — including one no feature compiles yet (the
/// build checks only the enabled platforms' specs) — through `agentwire spec lint`'s own path,
/// with the reserved names the build derived.
#[test]
fn lint_reports_nothing_on_the_real_specs() {
    let specs = std::fs::read_dir(root().join("openapi"))
        .expect("openapi/ readable")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "yaml" || x == "yml"))
        .count();
    assert!(specs >= contract::platforms().len().max(1), "{specs} specs");
    assert_eq!(
        contract::lint_dir(root()).expect("openapi/ readable"),
        Vec::<String>::new()
    );
}

/// A copy of openapi/ and fixtures/ under a fresh directory, removed when dropped.
struct ScratchRoot(std::path::PathBuf);

impl ScratchRoot {
    fn new(name: &str) -> ScratchRoot {
        let dir = std::env::temp_dir().join(format!(
            "agentwire-contract-rules-{}-{name}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        for sub in ["openapi", "fixtures/bimpeai"] {
            std::fs::create_dir_all(dir.join(sub)).expect("mkdir");
            for entry in std::fs::read_dir(root().join(sub)).expect("read") {
                let path = entry.expect("entry").path();
                if path.is_file() {
                    std::fs::copy(&path, dir.join(sub).join(path.file_name().expect("name")))
                        .expect("copy");
                }
            }
        }
        ScratchRoot(dir)
    }

    fn fixture(&self, name: &str) -> std::path::PathBuf {
        self.0.join("fixtures/bimpeai").join(name)
    }
}

impl Drop for ScratchRoot {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The text of a repository fixture with one response header set to `value`.
fn with_response_header(name: &str, header: &str, value: &str) -> String {
    let mut v: Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("fixtures/bimpeai").join(name)).expect("fixture"),
    )
    .expect("json");
    v["response"]["headers"][header] = json!(value);
    v.to_string()
}

#[test]
fn a_header_value_with_cr_or_lf_is_refused_with_file_and_pointer() {
    let file = "fixtures/bimpeai/agents.retrieve.json";
    let text = with_response_header(
        "agents.retrieve.json",
        "x-request-id",
        "req_1\r\nset-cookie: a=b",
    );
    let err = Fixture::parse_bytes(file, text.as_bytes()).expect_err("CR/LF");
    assert_eq!(
        (err.file.as_str(), err.pointer.as_str(), err.rule.as_str()),
        (file, "/response/headers/x-request-id", "header")
    );
    assert_eq!(
        err.to_string(),
        format!(
            "{file}: /response/headers/x-request-id: the value of header `x-request-id` holds a line break (CR or LF), which no HTTP header value can"
        )
    );
    // The text entry point says the same (the mock and the contract suite use the bytes one).
    assert_eq!(Fixture::parse(file, &text), Err(err.to_string()));

    // A lone LF, in a request header; other control characters; a name that is no token.
    let mut v: Value = serde_json::from_str(&text).expect("json");
    v["response"]["headers"]["x-request-id"] = json!("req_1");
    v["request"]["headers"]["x-trace~id"] = json!("a\nb");
    let err = Fixture::parse_bytes(file, v.to_string().as_bytes()).expect_err("LF");
    assert_eq!(err.pointer, "/request/headers/x-trace~0id");
    v["request"]["headers"]["x-trace~id"] = json!("a\u{0}b");
    let err = Fixture::parse_bytes(file, v.to_string().as_bytes()).expect_err("NUL");
    assert!(err.message.contains("U+0000"), "{err}");
    v["request"]["headers"] = json!({"x trace": "a"});
    let err = Fixture::parse_bytes(file, v.to_string().as_bytes()).expect_err("name");
    assert_eq!(err.message, "\"x trace\" is not a valid HTTP header name");
    // A tab is allowed.
    v["request"]["headers"] = json!({"x-trace": "a\tb"});
    Fixture::parse_bytes(file, v.to_string().as_bytes()).expect("a tab is fine");

    // In a sequence, the answer's index is in the pointer.
    let mut v: Value = serde_json::from_str(&text).expect("json");
    let answer = v["response"].take();
    v.as_object_mut().expect("object").remove("response");
    v["responses"] = json!([answer.clone(), answer]);
    v["responses"][0]["headers"]["x-request-id"] = json!("req_1");
    v["responses"][1]["headers"]["x-request-id"] = json!("req_2\r");
    let err = Fixture::parse_bytes(file, v.to_string().as_bytes()).expect_err("CR");
    assert_eq!(err.pointer, "/responses/1/headers/x-request-id");
}

#[test]
fn bytes_that_are_not_utf8_are_refused_with_file_and_byte_offset() {
    let file = "fixtures/bimpeai/agents.retrieve.json";
    let text = std::fs::read_to_string(root().join(file)).expect("fixture");
    let offset = text.find("\"id\"").expect("an id") + 2;
    let line = text[..offset].matches('\n').count() + 1;
    let mut bytes = text.into_bytes();
    bytes[offset] = 0xc3; // the start of a two-byte sequence, followed by an ASCII byte
    let err = Fixture::parse_bytes(file, &bytes).expect_err("not UTF-8");
    assert_eq!(
        err.to_string(),
        format!("{file}: not UTF-8: byte 0xc3 at byte offset {offset} (line {line})")
    );
    assert_eq!((err.pointer.as_str(), err.rule.as_str()), ("", "utf-8"));
}

#[test]
fn a_file_name_must_be_its_operation_then_an_optional_case() {
    let text =
        std::fs::read_to_string(root().join("fixtures/bimpeai/agents.list.json")).expect("fixture");
    let failures_as = |name: &str| {
        let f = Fixture::parse(&format!("fixtures/bimpeai/{name}"), &text).expect("a fixture");
        contract()
            .check_fixture(&f)
            .into_iter()
            .filter(|f| f.rule == "name")
            .collect::<Vec<_>>()
    };
    for good in [
        "agents.list.json",
        "agents.list.page2.json",
        "agents.list.page2.recorded.json",
        "agents.list.limit=2.json",
        "agents.list.first-page_2.json",
    ] {
        assert_eq!(failures_as(good), vec![], "{good}");
    }
    for bad in [
        "Agents.List.json",
        "agents.list.Page2.json",
        "agents.list..json",
        "agents.list.page 2.json",
        "agents.lists.json",
        "agents.json",
        "workflows.list.json",
    ] {
        let failures = failures_as(bad);
        assert_eq!(failures.len(), 1, "{bad}: {failures:?}");
        assert_eq!(failures[0].pointer, "/operation");
        assert_eq!(
            failures[0].message,
            format!(
                "the file name must be `agents.list.json` or `agents.list.<case>.json` (its fixture's operation, then a case of lower-case letters, digits, `_`, `-` and `=`, dots between parts), not `{bad}`"
            )
        );
    }
    // A fixture registered in code has no file name to check.
    let registered = Fixture::new(
        "agents.retrieve",
        "GET",
        "/agents/a_1",
        fixture("agents.retrieve.json").answers()[0].clone(),
    );
    assert_eq!(contract().check_fixture(&registered), vec![]);
}

#[test]
fn the_contract_suite_reports_broken_files_names_and_collisions_and_checks_the_rest() {
    let scratch = ScratchRoot::new("files");
    // A header with CR/LF, a byte that is not UTF-8, and a name that differs only in case.
    std::fs::write(
        scratch.fixture("agents.list.json"),
        with_response_header("agents.list.json", "x-request-id", "a\r\nb"),
    )
    .expect("write");
    let mut bytes = std::fs::read(scratch.fixture("calls.list.json")).expect("read");
    bytes.insert(10, 0xff);
    std::fs::write(scratch.fixture("calls.list.json"), &bytes).expect("write");
    std::fs::copy(
        scratch.fixture("agents.retrieve.json"),
        scratch.fixture("Agents.Retrieve.json"),
    )
    .expect("copy");

    let report = contract::check_dir(&scratch.0, "bimpeai").expect("checked");
    let lines: Vec<String> = report.failures.iter().map(|f| f.to_string()).collect();
    let expected = [
        "fixtures/bimpeai/agents.retrieve.json: [name] its name equals `Agents.Retrieve.json` but for case: on a case-insensitive file system they are one file".to_string(),
        "fixtures/bimpeai/agents.list.json: /response/headers/x-request-id [header] the value of header `x-request-id` holds a line break (CR or LF), which no HTTP header value can".to_string(),
        "fixtures/bimpeai/calls.list.json: [utf-8] not UTF-8: byte 0xff at byte offset 10 (line 2)".to_string(),
        "fixtures/bimpeai/Agents.Retrieve.json: /operation [name] the file name must be `agents.retrieve.json` or `agents.retrieve.<case>.json` (its fixture's operation, then a case of lower-case letters, digits, `_`, `-` and `=`, dots between parts), not `Agents.Retrieve.json`".to_string(),
    ];
    for line in &expected {
        assert!(
            lines.contains(line),
            "missing {line}\nin:\n{}",
            lines.join("\n")
        );
    }
    // Both broken files were their operation's default fixture (agents.list's pages 2 and 3
    // have a case suffix); the other 72 fixtures are checked and pass.
    let coverage: Vec<&String> = lines.iter().filter(|l| l.contains("[coverage]")).collect();
    assert_eq!(coverage.len(), 2, "{coverage:?}");
    assert!(coverage[0].contains("operation agents.list has no default success fixture"));
    assert!(coverage[1].contains("operation calls.list has no default success fixture"));
    assert_eq!(
        lines.len(),
        expected.len() + coverage.len(),
        "{}",
        lines.join("\n")
    );
    assert_eq!(report.fixtures, 76);
    assert!(!report.ok());
}
