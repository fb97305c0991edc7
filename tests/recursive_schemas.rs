//! Recursive schemas, through the test fragment `tests/specs/recursive.yaml` (generated as
//! `agentwire::testkit::recursive` under the internal `testkit` feature): recursion through
//! array items and properties generates types that hold and round-trip nested values, through
//! the contract checks and the client.

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
