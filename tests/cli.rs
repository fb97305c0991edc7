//! The `agentwire` command, run as a process: contract check and spec lint on the repository and
//! on broken copies, the mock serving a platform for any HTTP client, and contract record against
//! a local stand-in for the live API (secrets never written).

#![cfg(feature = "bimpeai")]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use agentwire::mock::{Fixture, FixtureResponse, MockServer};
use serde_json::json;

const BIN: &str = env!("CARGO_BIN_EXE_agentwire");

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A scratch copy of openapi/ and fixtures/ that a test may break.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("agentwire-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    for sub in ["openapi", "fixtures/bimpeai"] {
        std::fs::create_dir_all(dir.join(sub)).expect("mkdir");
        for entry in std::fs::read_dir(repo().join(sub)).expect("read") {
            let path = entry.expect("entry").path();
            if path.is_file() {
                std::fs::copy(&path, dir.join(sub).join(path.file_name().expect("name")))
                    .expect("copy");
            }
        }
    }
    dir
}

fn run(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .output()
        .expect("the binary runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn contract_check_passes_on_the_repository() {
    let root = repo().to_string_lossy().into_owned();
    let o = run(&["contract", "check", "--root", &root]);
    assert!(o.status.success(), "{}", stdout(&o));
    assert!(
        stdout(&o).contains("contract: bimpeai 58/58 operations"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn contract_check_names_the_broken_fixture() {
    let dir = scratch("check");
    let file = dir.join("fixtures/bimpeai/agents.list.json");
    let text = std::fs::read_to_string(&file).expect("read");
    std::fs::write(
        &file,
        text.replacen("\"status\": \"live\"", "\"status\": \"archived\"", 1),
    )
    .expect("write");
    let o = run(&[
        "contract",
        "check",
        "--platform",
        "bimpeai",
        "--root",
        &dir.to_string_lossy(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    let out = stdout(&o);
    assert!(
        out.contains("FAIL fixtures/bimpeai/agents.list.json: /response/body/data/0/status [enum]"),
        "{out}"
    );
    assert!(
        out.contains("contract: bimpeai 58/58 operations, 75 fixtures, 1 failures"),
        "{out}"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn contract_check_requires_each_operations_default_fixture() {
    let dir = scratch("coverage");
    let fixtures = dir.join("fixtures/bimpeai");
    // The success case renamed with a case suffix: the mock would have no default answer.
    std::fs::rename(
        fixtures.join("agents.retrieve.json"),
        fixtures.join("agents.retrieve.found.json"),
    )
    .expect("rename");
    let o = run(&["contract", "check", "--root", &dir.to_string_lossy()]);
    assert_eq!(o.status.code(), Some(1));
    let out = stdout(&o);
    assert!(
        out.contains("[coverage] operation agents.retrieve has no default success fixture agents.retrieve.json (its success fixtures all have a case suffix)"),
        "{out}"
    );
    assert!(out.contains("contract: bimpeai 57/58 operations"), "{out}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn spec_lint_reports_file_and_line() {
    let root = repo().to_string_lossy().into_owned();
    let o = run(&["spec", "lint", "--root", &root]);
    assert!(o.status.success());
    assert!(stdout(&o).contains("spec lint: 0 problems"));

    let dir = scratch("lint");
    let spec = dir.join("openapi/bimpeai.yaml");
    let text = std::fs::read_to_string(&spec).expect("read");
    std::fs::write(
        &spec,
        text.replacen("operationId: agents.list", "operationId: AgentsList", 1),
    )
    .expect("write");
    let o = run(&["spec", "lint", "--root", &dir.to_string_lossy()]);
    assert_eq!(o.status.code(), Some(1));
    let out = stdout(&o);
    assert!(out.contains("openapi/bimpeai.yaml:"), "{out}");
    assert!(
        out.contains("operation AgentsList: operationId must be dotted snake_case"),
        "{out}"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn an_unknown_platform_is_a_usage_error() {
    let o = run(&["contract", "check", "--platform", "nope"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("unknown platform"));
}

#[tokio::test]
async fn mock_serves_the_platform_on_loopback() {
    let mut child = Command::new(BIN)
        .args(["mock", "--platform", "bimpeai", "--port", "0"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawns");
    let stdout = child.stdout.take().expect("stdout");
    let first = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).map(|_| line)
    });
    let line = tokio::time::timeout(Duration::from_secs(30), first)
        .await
        .expect("prints its URL in time")
        .expect("joined")
        .expect("read");
    let base = line
        .trim()
        .strip_prefix("bimpeai: ")
        .expect("platform: url")
        .to_string();
    assert!(
        base.starts_with("http://127.0.0.1:") && base.ends_with("/api/v1/console"),
        "{base}"
    );

    // agentwire installs no process-wide crypto provider, so a plain client brings its own.
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
    let body = http
        .get(format!("{base}/agents?page=1&limit=2"))
        .bearer_auth("sk_test")
        .send()
        .await
        .expect("answers")
        .bytes()
        .await
        .expect("body");
    let page: serde_json::Value = serde_json::from_slice(&body).expect("json");
    assert_eq!(page["meta"]["current_page"], json!(1));
    let stream = http
        .get(format!(
            "{base}/agents/a_1/conversations/cv_1/stream?ticket=t1"
        ))
        .send()
        .await
        .expect("answers");
    assert_eq!(
        stream
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("text/event-stream")
    );
    let _ = child.kill();
    let _ = child.wait();
}

#[tokio::test]
async fn record_replays_reads_against_a_stand_in_and_never_writes_secrets() {
    const KEY: &str = "sk_live_STANDIN_secret_42";
    // The stand-in for the live API: the recorded fixtures, with a few answers changed.
    let stand_in = MockServer::start(&agentwire::bimpeai::PLATFORM)
        .await
        .expect("starts");
    stand_in.register(Fixture::new(
        "agents.retrieve",
        "GET",
        "/agents/a_1",
        FixtureResponse::json(
            200,
            json!({"message": "ok", "data": {"id": "a_1", "name": "Bot", "description": format!("uses {KEY}"),
                "created_at": "t", "updated_at": "t", "mood": "sunny",
                "knowledge_bases": [], "integrations": [], "channels": []}}),
        )
        .header("set-cookie", &format!("session={KEY}"))
        .header("x-request-id", "req_live_1"),
    ));
    stand_in.register(Fixture::new(
        "workflows.retrieve",
        "GET",
        "/workflows/w_1",
        FixtureResponse::json(302, json!({"message": "moved"})),
    ));

    let dir = scratch("record");
    let out = dir.join("recorded");
    let base = stand_in.base_url();
    let args: Vec<String> = [
        "contract",
        "record",
        "--platform",
        "bimpeai",
        "--base-url",
        &base,
        "--root",
        &dir.to_string_lossy(),
        "--out",
        &out.to_string_lossy(),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let o = tokio::task::spawn_blocking(move || {
        Command::new(BIN)
            .args(&args)
            .env("BIMPEAI_API_KEY", KEY)
            .output()
    })
    .await
    .expect("joined")
    .expect("runs");
    let text = stdout(&o);
    assert_eq!(
        o.status.code(),
        Some(1),
        "differences make it fail:\n{text}"
    );

    // Only reads were replayed, with the key from the environment.
    let seen = stand_in.journal();
    assert!(!seen.is_empty());
    assert!(
        seen.iter().all(|r| r.method == "GET"),
        "no writes without --allow-writes"
    );
    assert!(
        seen.iter()
            .filter(|r| r.operation.as_deref() != Some("conversations.messages.stream"))
            .all(|r| r.header("authorization") == Some(&format!("Bearer {KEY}")))
    );

    assert!(
        text.contains(
            "DIFF fixtures/bimpeai/agents.retrieve.json (agents.retrieve 200): new field"
        ),
        "{text}"
    );
    assert!(text.contains("undeclared status"), "{text}");
    assert!(
        text.contains("skip fixtures/bimpeai/agents.create.json: a write"),
        "{text}"
    );
    assert!(text.contains(
        "skip fixtures/bimpeai/conversations.messages.stream.json: streams are not recorded"
    ));

    let recorded =
        std::fs::read_to_string(out.join("agents.retrieve.recorded.json")).expect("written");
    let v: serde_json::Value = serde_json::from_str(&recorded).expect("json");
    assert_eq!(v["response"]["body"]["data"]["mood"], json!("sunny"));
    assert_eq!(
        v["response"]["body"]["data"]["description"],
        json!("uses ***")
    );
    assert_eq!(
        v["response"]["headers"]["x-request-id"],
        json!("req_live_1")
    );
    assert!(v["response"]["headers"].get("set-cookie").is_none());
    assert_eq!(
        v["request"]["headers"]["authorization"],
        json!("Bearer sk_test")
    );
    for entry in std::fs::read_dir(&out).expect("out dir") {
        let body = std::fs::read_to_string(entry.expect("entry").path()).expect("read");
        assert!(!body.contains(KEY), "a secret reached a fixture");
    }
    assert!(!text.contains(KEY), "a secret reached the report");
    let _ = std::fs::remove_dir_all(dir);
}
