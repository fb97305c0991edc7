//! Recursive schemas, through the test fragment `tests/specs/recursive.yaml` (generated as
//! `agentwire::testkit::recursive` under the internal `testkit` feature): recursion through
//! array items and properties generates types that hold and round-trip nested values, and
//! neither the decoder nor the contract checks overflow the stack on deep values.

use agentwire::contract::Contract;
use agentwire::mock::{Fixture, FixtureResponse, MockServer};
use agentwire::testkit::recursive::{self, types};
use serde_json::{Value, json};

const FRAGMENT: &str = "tests/specs/recursive.yaml";

fn fragment_contract() -> Contract {
    let text = std::fs::read_to_string(format!("{}/{FRAGMENT}", env!("CARGO_MANIFEST_DIR")))
        .expect("fragment");
    Contract::new("testkit::recursive", FRAGMENT, &text).expect("the fragment is a valid spec")
}

/// A tree `levels` deep: each node has one child but the last. (Built by moving values, not
/// with `json!`, which copies an interpolated value: recursion as deep as the value.)
fn tree(levels: usize) -> Value {
    let mut node = json!({"id": format!("n{levels}"), "children": []});
    for level in (1..levels).rev() {
        let mut parent = json!({"id": format!("n{level}"), "label": "inner", "children": []});
        parent["children"] = Value::Array(vec![node]);
        node = parent;
    }
    node
}

/// A person with `levels - 1` ancestors.
fn lineage(levels: usize) -> Value {
    let mut person = json!({"name": format!("p{levels}")});
    for level in (1..levels).rev() {
        let mut child = json!({"name": format!("p{level}")});
        child["parent"] = person;
        person = child;
    }
    person
}

#[test]
fn three_levels_round_trip_through_the_generated_types() {
    let value = tree(3);
    let node: types::TreeNode = serde_json::from_value(value.clone()).expect("decodes");
    assert_eq!(node.children[0].children[0].id, "n3");
    assert!(node.children[0].children[0].children.is_empty());
    assert_eq!(serde_json::to_value(&node).expect("encodes"), value);

    let value = lineage(3);
    let person: types::Person = serde_json::from_value(value.clone()).expect("decodes");
    let grandparent = person
        .parent
        .as_ref()
        .and_then(|p| p.parent.as_ref())
        .expect("two ancestors");
    assert_eq!(grandparent.name, "p3");
    assert!(grandparent.parent.is_none());
    assert_eq!(serde_json::to_value(&person).expect("encodes"), value);

    // Two schemas that refer to each other through properties.
    let value = json!({"name": "core", "lead": {"name": "ada", "team": {"name": "core"}}});
    let team: types::Team = serde_json::from_value(value.clone()).expect("decodes");
    let lead = team.lead.as_ref().expect("a lead");
    assert_eq!(lead.team.as_ref().map(|t| t.name.as_str()), Some("core"));
    assert_eq!(serde_json::to_value(&team).expect("encodes"), value);
}

#[test]
fn the_contract_checks_a_recursive_fixture_through_the_generated_types() {
    let c = fragment_contract();
    let fixture = Fixture::new(
        "nodes.retrieve",
        "GET",
        "/nodes/n1",
        FixtureResponse::json(200, tree(3)),
    );
    assert_eq!(c.check_fixture(&fixture), vec![]);

    // A member the spec does not name, three levels down, is found by the validator.
    let mut broken = tree(3);
    broken["children"][0]["children"][0]["colour"] = json!("red");
    let fixture = Fixture::new(
        "nodes.retrieve",
        "GET",
        "/nodes/n1",
        FixtureResponse::json(200, broken),
    );
    let failures = c.check_fixture(&fixture);
    assert!(
        failures
            .iter()
            .any(|f| f.pointer == "/response/body/children/0/children/0"
                && f.rule == "additionalProperties"),
        "{failures:?}"
    );
}

#[tokio::test]
async fn the_client_decodes_a_three_level_tree_from_the_wire() {
    let fixtures = vec![Fixture::new(
        "nodes.retrieve",
        "GET",
        "/nodes/n1",
        FixtureResponse::json(200, tree(3)),
    )];
    let mock = MockServer::start_with(&recursive::PLATFORM, fixtures, 0)
        .await
        .expect("mock starts");
    let client = recursive::Client::builder()
        .api_key("sk_test")
        .base_url(mock.base_url())
        .build()
        .expect("client");
    let node = client.nodes().retrieve("n1").send().await.expect("decodes");
    assert_eq!(node.children[0].children[0].id, "n3");
}

#[tokio::test]
async fn the_mock_validates_a_fragments_requests_against_its_spec() {
    // The fragment is in the build's registry like a platform: the mock has its request table.
    let mock = MockServer::start_with(&recursive::PLATFORM, vec![], 0)
        .await
        .expect("mock starts");
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("tls versions")
        .with_root_certificates(rustls::RootCertStore::empty())
        .with_no_client_auth();
    let http = reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .build()
        .expect("http client");
    let answer = http
        .get(format!("{}/nodes/n1?colour=red", mock.platform_url()))
        .bearer_auth("sk_test")
        .send()
        .await
        .expect("the mock answers");
    assert_eq!(answer.status().as_u16(), 400);
    assert_eq!(
        answer
            .headers()
            .get("x-agentwire-mock")
            .and_then(|v| v.to_str().ok()),
        Some("invalid")
    );
    let body = answer.text().await.expect("a body");
    assert!(body.contains("colour"), "{body}");
}

/// Runs `f` on a thread with a 2 MiB stack, the default of Rust threads and tokio workers, so a
/// test proves the bounds fit there whatever `RUST_MIN_STACK` says.
fn on_a_2_mib_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(f)
        .expect("spawns")
        .join()
        .expect("no panic (a stack overflow aborts the whole test binary)")
}

/// The deepest lineage serde_json's parser accepts (it refuses 128 nested containers).
fn deepest_parsable_lineage() -> (usize, Value) {
    let too_deep = lineage(128).to_string();
    assert!(serde_json::from_str::<Value>(&too_deep).is_err());
    let deepest = lineage(127);
    serde_json::from_str::<Value>(&deepest.to_string()).expect("127 levels parse");
    (127, deepest)
}

fn chained_contract() -> Contract {
    let file = "tests/specs/chained.yaml";
    let text = std::fs::read_to_string(format!("{}/{file}", env!("CARGO_MANIFEST_DIR")))
        .expect("fragment");
    Contract::new("testkit::chained", file, &text).expect("the fragment is a valid spec")
}

#[test]
fn the_deepest_value_through_the_longest_reference_chain_is_checked_on_a_2_mib_stack() {
    // tests/specs/chained.yaml: `Person.parent` goes through the longest chain of references
    // the conventions allow, so each level of the value costs the validator and the round trip
    // the most stack a spec can make it cost.
    let failures = on_a_2_mib_stack(|| {
        // The deepest fixture file that parses: the file's own object and `response` take two
        // of serde_json's levels.
        let file = |levels: usize| {
            json!({
                "operation": "people.retrieve",
                "request": {"method": "GET", "path": "/people/p1"},
                "response": {"status": 200, "body": lineage(levels)},
            })
            .to_string()
        };
        let name = "fixtures/chained/people.retrieve.json";
        assert!(Fixture::parse(name, &file(126)).is_err());
        let fixture = Fixture::parse(name, &file(125)).expect("a fixture");
        chained_contract().check_fixture(&fixture)
    });
    assert_eq!(failures, vec![]);

    // A member the spec does not name at the bottom is still found.
    let failures = on_a_2_mib_stack(|| {
        let (levels, _) = deepest_parsable_lineage();
        let mut body = lineage(levels);
        let mut at = &mut body;
        while at.get("parent").is_some() {
            at = &mut at["parent"];
        }
        at["colour"] = json!("red");
        let fixture = Fixture::new(
            "people.retrieve",
            "GET",
            "/people/p1",
            FixtureResponse::json(200, body),
        );
        chained_contract().check_fixture(&fixture)
    });
    // The validator reports it where the union of the chain starts to fail; the round trip
    // through the generated types finds the dropped member at the bottom.
    assert!(
        failures
            .iter()
            .any(|f| f.rule == "oneOf" && f.pointer == "/response/body/parent"),
        "{failures:?}"
    );
    let bottom = format!("/response/body{}/colour", "/parent".repeat(126));
    assert!(
        failures
            .iter()
            .any(|f| f.rule == "roundtrip" && f.pointer == bottom),
        "{failures:?}"
    );
}

#[test]
fn the_client_decodes_the_deepest_value_through_the_longest_chain_on_a_2_mib_stack() {
    let decoded = on_a_2_mib_stack(|| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(async {
            let (levels, deepest) = deepest_parsable_lineage();
            use agentwire::testkit::chained;
            let fixtures = vec![Fixture::new(
                "people.retrieve",
                "GET",
                "/people/p1",
                FixtureResponse::json(200, deepest),
            )];
            let mock = MockServer::start_with(&chained::PLATFORM, fixtures, 0)
                .await
                .expect("mock starts");
            let client = chained::Client::builder()
                .api_key("sk_test")
                .base_url(mock.base_url())
                .build()
                .expect("client");
            let person = client
                .people()
                .retrieve("p1")
                .send()
                .await
                .expect("decodes");
            let mut depth = 1;
            let mut at: &chained::types::Person = &person;
            while let Some(parent) = at.parent.as_deref() {
                // Through the chain of newtypes back to a Person.
                let value = serde_json::to_value(parent).expect("encodes");
                assert!(value.get("name").is_some());
                at = &parent.0.0.0.0.0.0.0.0;
                depth += 1;
            }
            (levels, depth)
        })
    });
    assert_eq!(decoded.0, decoded.1);
}

#[test]
fn a_value_deeper_than_the_checks_follow_is_reported_not_followed() {
    let (failures, differences) = on_a_2_mib_stack(|| {
        let c = fragment_contract();
        // Built in code, so no parser limited it: 5,000 levels (built twice: cloning a value
        // recurses as deep as it goes).
        let deep = lineage(5_000);
        let fixture = Fixture::new(
            "people.retrieve",
            "GET",
            "/people/p1",
            FixtureResponse::json(200, lineage(5_000)),
        );
        let failures = c.check_fixture(&fixture);
        let differences = c.differences("people.retrieve", 200, Some(&deep));
        // Dropping a deep serde_json value recurses: take it apart from the top.
        for mut v in [
            deep,
            fixture.response.and_then(|r| r.body).unwrap_or_default(),
        ] {
            while let Some(parent) = v.get_mut("parent").map(Value::take) {
                v = parent;
            }
        }
        (failures, differences)
    });
    let message = format!(
        "the value nests arrays and objects more than {} levels deep; the checks do not follow it",
        agentwire::contract::MAX_VALUE_DEPTH
    );
    assert_eq!(failures.len(), 1, "{failures:?}");
    assert_eq!(
        (failures[0].pointer.as_str(), failures[0].rule.as_str()),
        ("/response/body", "depth")
    );
    assert_eq!(failures[0].message, message);
    assert_eq!(differences.len(), 1, "{differences:?}");
    assert_eq!(differences[0].kind, "depth");
}
