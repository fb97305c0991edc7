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
fn the_recorded_fixtures_pass() {
    let c = contract();
    for f in contract::read_fixtures(root(), "bimpeai").expect("fixtures") {
        let failures = c.check_fixture(&f);
        assert!(failures.is_empty(), "{}: {failures:?}", f.file);
    }
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
            "contract: bimpeai {}/{} operations, {} fixtures, {} failures",
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

#[test]
fn lint_reports_nothing_on_the_real_specs() {
    assert_eq!(
        contract::lint_dir(root()).expect("openapi/ readable"),
        Vec::<String>::new()
    );
}
