//! The `agentwire` command, run as a process: contract check and spec lint on the repository and
//! on broken copies, the mock serving a platform for any HTTP client, and contract record against
//! a local stand-in for the live API (secrets never written).

#![cfg(feature = "bimpeai")]

mod common;

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
    // The specs and every platform's fixtures.
    let mut subs = vec!["openapi".to_owned()];
    for entry in std::fs::read_dir(repo().join("fixtures")).expect("fixtures") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            let name = path
                .file_name()
                .expect("name")
                .to_string_lossy()
                .into_owned();
            subs.push(format!("fixtures/{name}"));
        }
    }
    for sub in &subs {
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

/// Runs the command in `dir`.
fn run_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .current_dir(dir)
        .output()
        .expect("the binary runs")
}

/// A running `agentwire mock`, killed when dropped (even when the test fails).
struct Served {
    child: std::process::Child,
    /// Everything it printed before `mock: serving`.
    banner: Vec<String>,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Served {
    /// The URL printed for `platform` (`<platform>: <url>`).
    fn url(&self, platform: &str) -> String {
        let prefix = format!("{platform}: ");
        self.banner
            .iter()
            .find_map(|l| l.strip_prefix(&prefix))
            .unwrap_or_else(|| panic!("no `{prefix}` line in {:?}", self.banner))
            .trim()
            .to_string()
    }
}

/// Starts `agentwire mock` with `args` and reads what it prints up to `mock: serving`.
async fn serve(args: &[&str]) -> Served {
    let mut child = Command::new(BIN)
        .arg("mock")
        .args(args)
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawns");
    let stdout = child.stdout.take().expect("stdout");
    let mut served = Served {
        child,
        banner: Vec::new(),
    };
    let lines = tokio::task::spawn_blocking(move || {
        let mut lines = Vec::new();
        for line in BufReader::new(stdout).lines() {
            let line = line.expect("utf-8");
            let done = line.starts_with("mock: serving");
            lines.push(line);
            if done {
                break;
            }
        }
        lines
    });
    served.banner = tokio::time::timeout(Duration::from_secs(30), lines)
        .await
        .expect("prints its URLs in time")
        .expect("joined");
    served
}

fn http() -> reqwest::Client {
    common::plain_http()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn contract_check_passes_on_the_repository() {
    // What the checks find is tests/contract.rs's business; here, the command: its exit code and
    // its one summary line per platform, last.
    let root = repo().to_string_lossy().into_owned();
    let o = run(&["contract", "check", "--root", &root]);
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    let platforms = agentwire::contract::platforms();
    let lines: Vec<&str> = out.lines().collect();
    let summary = &lines[lines.len().saturating_sub(platforms.len())..];
    assert_eq!(summary.len(), platforms.len(), "{out}");
    for (line, platform) in summary.iter().zip(&platforms) {
        assert!(
            line.starts_with(&format!("contract: {platform} ")) && line.ends_with(", 0 failures"),
            "{out}"
        );
    }
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
        out.contains("contract: bimpeai 58/58 operations, 75 fixtures, 1 failure"),
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
fn spec_lint_refuses_a_parameter_named_like_a_request_builder_method() {
    let dir = scratch("lint-names");
    let spec = dir.join("openapi/bimpeai.yaml");
    let text = std::fs::read_to_string(&spec).expect("read");
    // agents.list's `search`, renamed `header`: its setter would shadow `.header(name, value)`.
    let edited = text.replacen("- name: search", "- name: header", 1);
    std::fs::write(&spec, &edited).expect("write");
    let line = edited
        .lines()
        .position(|l| l.contains("- name: header"))
        .map(|i| i + 1)
        .expect("the edit");
    let o = run(&["spec", "lint", "--root", &dir.to_string_lossy()]);
    assert_eq!(o.status.code(), Some(1));
    let out = stdout(&o);
    assert!(
        out.contains(&format!(
            "openapi/bimpeai.yaml:{line}: operation agents.list: query parameter `header` is `header` in Rust, a method every request builder already has (RequestOptions::header, src/runtime/options.rs)"
        )),
        "{out}"
    );
    assert!(out.contains("spec lint: 1 problem"), "{out}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn an_unknown_platform_is_a_usage_error() {
    let o = run(&["contract", "check", "--platform", "nope"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no platform \"nope\" in this build"));
}

#[test]
fn platform_names_are_case_insensitive() {
    let root = repo().to_string_lossy().into_owned();
    let o = run(&[
        "contract",
        "check",
        "--platform",
        "BimpeAI",
        "--root",
        &root,
    ]);
    assert!(o.status.success(), "{}", stdout(&o));
    assert!(stdout(&o).contains("contract: bimpeai 58/58 operations"));
}

#[test]
fn the_root_is_found_from_any_directory_inside_the_repository() {
    let o = run_in(
        &repo().join("fixtures").join("bimpeai"),
        &["contract", "check"],
    );
    assert!(
        o.status.success(),
        "{}{}",
        stdout(&o),
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(stdout(&o).contains("contract: bimpeai 58/58 operations"));
    let o = run_in(&repo().join("src").join("mock"), &["spec", "lint"]);
    assert!(o.status.success(), "{}", stdout(&o));
    assert!(stdout(&o).contains("spec lint: 0 problems"));

    // Outside any repository: an error that says what to do.
    let outside =
        std::env::temp_dir().join(format!("agentwire-cli-{}-nowhere", std::process::id()));
    std::fs::create_dir_all(&outside).expect("mkdir");
    let o = run_in(&outside, &["contract", "check"]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("openapi/ and fixtures/"), "{err}");
    assert!(err.contains("--root"), "{err}");
    let _ = std::fs::remove_dir_all(outside);
}

#[test]
fn lint_counts_problems_in_words() {
    let dir = scratch("plural");
    let spec = dir.join("openapi/bimpeai.yaml");
    let text = std::fs::read_to_string(&spec).expect("read");
    // One problem: the stream resumes through a query parameter it does not declare (its
    // `after` parameter is then a setter of its own, clashing with the stream builder's
    // `after()`: that is reported too, so the stream's parameter is renamed as well).
    std::fs::write(
        &spec,
        text.replacen("resume: {query: after}", "resume: {query: since}", 1)
            .replacen("- name: after\n", "- name: from_id\n", 1),
    )
    .expect("write");
    let o = run(&["spec", "lint", "--root", &dir.to_string_lossy()]);
    assert_eq!(o.status.code(), Some(1));
    let out = stdout(&o);
    assert!(
        out.contains(
            "operation conversations.messages.stream: `resume` names query parameter `since`"
        ),
        "{out}"
    );
    assert!(out.contains("spec lint: 1 problem\n"), "{out}");

    // Two: a malformed `resume` as well.
    std::fs::write(
        &spec,
        text.replacen("resume: {query: after}", "resume: {cookie: after}", 1)
            .replacen("operationId: agents.list", "operationId: AgentsList", 1),
    )
    .expect("write");
    let o = run(&["spec", "lint", "--root", &dir.to_string_lossy()]);
    let out = stdout(&o);
    assert!(
        out.contains("`resume` is `{query: <parameter>}` or `{header: <name>}`"),
        "{out}"
    );
    assert!(!out.contains(" 1 problems"), "{out}");
    assert!(out.contains(" problems\n"), "{out}");
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn mock_serves_the_platform_on_loopback() {
    let served = serve(&["--platform", "bimpeai", "--port", "0"]).await;
    let base = served.url("bimpeai");
    assert!(
        base.starts_with("http://127.0.0.1:") && base.ends_with("/api/v1/console"),
        "{base}"
    );
    let origin = base.trim_end_matches("/api/v1/console").to_string();
    let banner = served.banner.join("\n");
    // The URL clients take, the index, and every operation with its fixtures.
    assert!(
        banner.contains(&format!("base URL for clients: {origin} ")),
        "{banner}"
    );
    assert!(
        banner.contains(&format!("{origin}/_agentwire/")),
        "{banner}"
    );
    let create = served
        .banner
        .iter()
        .find(|l| l.contains(" agents.create:"))
        .unwrap_or_else(|| panic!("no agents.create line in {banner}"));
    assert!(
        create
            .trim_start()
            .starts_with("POST   /api/v1/console/agents "),
        "{create}"
    );
    assert!(
        create.ends_with("agents.create: agents.create.json*, agents.create.validation.json"),
        "{create}"
    );
    assert_eq!(
        served
            .banner
            .iter()
            .filter(|l| l.starts_with("  GET ")
                || l.starts_with("  POST ")
                || l.starts_with("  PATCH ")
                || l.starts_with("  PUT ")
                || l.starts_with("  DELETE "))
            .count(),
        agentwire::bimpeai::PLATFORM.operations.len()
    );
    assert_eq!(
        served.banner.last().map(String::as_str),
        Some("mock: serving 1 platform; Ctrl-C stops")
    );

    let http = http();
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

    // The minimal body BimpeAI's Python client sends: the default fixture answers.
    let created = http
        .post(format!("{base}/agents"))
        .bearer_auth("sk_test")
        .header("content-type", "application/json")
        .body(r#"{"workflow_id": "wf_1", "name": "Support", "description": "Answers FAQs"}"#)
        .send()
        .await
        .expect("answers");
    assert_eq!(created.status().as_u16(), 201);
    assert_eq!(
        created
            .headers()
            .get("x-agentwire-mock")
            .and_then(|v| v.to_str().ok()),
        Some("default")
    );

    let index: serde_json::Value = serde_json::from_slice(
        &http
            .get(format!("{origin}/_agentwire/"))
            .send()
            .await
            .expect("answers")
            .bytes()
            .await
            .expect("body"),
    )
    .expect("json");
    assert_eq!(index["base_url"], json!(origin));
    assert_eq!(index["platform_url"], json!(base));
    assert_eq!(index["strict"], json!(false));

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
}

#[tokio::test]
async fn mock_strict_replays_fixtures_only() {
    let served = serve(&["--platform", "BimpeAI", "--strict"]).await;
    let base = served.url("bimpeai");
    assert!(
        served
            .banner
            .last()
            .is_some_and(|l| l.contains("strict mode")),
        "{:?}",
        served.banner
    );
    let http = http();
    let answer = http
        .post(format!("{base}/agents"))
        .bearer_auth("sk_test")
        .header("content-type", "application/json")
        .body(r#"{"workflow_id": "wf_1", "name": "Support", "description": "Answers FAQs"}"#)
        .send()
        .await
        .expect("answers");
    assert_eq!(answer.status().as_u16(), 404);
    assert_eq!(
        answer
            .headers()
            .get("x-agentwire-mock")
            .and_then(|v| v.to_str().ok()),
        Some("no-fixture")
    );
    let body: serde_json::Value =
        serde_json::from_slice(&answer.bytes().await.expect("body")).expect("json");
    assert_eq!(body["code"], json!("mock_no_fixture"));

    // Without credentials: the platform's 401, strict or not.
    let unauthorized = http
        .get(format!("{base}/agents"))
        .send()
        .await
        .expect("answers");
    assert_eq!(unauthorized.status().as_u16(), 401);
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
                // The key echoed as a member name, alone and inside a longer one.
                KEY: true, format!("seen_{KEY}"): {KEY: KEY},
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

    // Member names are redacted like values, in the file and in the difference lines.
    assert!(
        text.contains("DIFF fixtures/bimpeai/agents.retrieve.json (agents.retrieve 200): new field at /data: Additional properties are not allowed ('***', 'mood', 'seen_***' were unexpected)"),
        "{text}"
    );

    let recorded =
        std::fs::read_to_string(out.join("agents.retrieve.recorded.json")).expect("written");
    let v: serde_json::Value = serde_json::from_str(&recorded).expect("json");
    assert_eq!(v["response"]["body"]["data"]["mood"], json!("sunny"));
    assert_eq!(
        v["response"]["body"]["data"]["description"],
        json!("uses ***")
    );
    assert_eq!(v["response"]["body"]["data"]["***"], json!(true));
    assert_eq!(
        v["response"]["body"]["data"]["seen_***"],
        json!({"***": "***"})
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
    assert!(
        !String::from_utf8_lossy(&o.stderr).contains(KEY),
        "a secret reached stderr"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn root_is_accepted_before_or_after_the_subcommand() {
    let root = repo().to_string_lossy().into_owned();
    let outside = std::env::temp_dir();
    for args in [
        vec!["--root", root.as_str(), "spec", "lint"],
        vec!["spec", "lint", "--root", root.as_str()],
    ] {
        let o = std::process::Command::new(env!("CARGO_BIN_EXE_agentwire"))
            .args(&args)
            .current_dir(&outside)
            .output()
            .expect("runs");
        assert_eq!(o.status.code(), Some(0), "{args:?}: {}", stdout(&o));
        assert!(stdout(&o).contains("spec lint: 0 problems"), "{args:?}");
    }
}
