//! SketricGen end to end against the embedded mock: three hosts with three auth headers and one
//! key, the run answered as JSON or streamed (with a PDF attached through the three-step upload),
//! every refusal before a request, the admin API's cursor pages and its brand-agent job, and
//! `from_env` with each variable missing or malformed.

use std::future::Future;
use std::time::Duration;

#[path = "support/child.rs"]
mod child;

use agentwire::mock::MockServer;
use agentwire::sketricgen::{Client, MAX_ATTACHMENT_BYTES, PLATFORM, RunWorkflowEvent, types};
use agentwire::{ErrorKind, Upload};
use futures_util::TryStreamExt;
use serde_json::json;

async fn within<F: Future<Output = ()>>(test: F) {
    tokio::time::timeout(Duration::from_secs(60), test)
        .await
        .expect("the test finished in time");
}

async fn setup() -> (MockServer, Client) {
    let mock = MockServer::start(&PLATFORM).await.expect("the mock starts");
    let client = mock
        .client_builder::<Client>()
        .api_key("sk_test")
        // SketricGen's own cadence is 10 s; the tests need not wait it.
        .task_poll_interval(Duration::from_millis(10))
        .build()
        .expect("client");
    (mock, client)
}

fn run(body: serde_json::Value) -> types::RunWorkflowRequest {
    serde_json::from_value(body).expect("a run request")
}

#[tokio::test]
async fn a_run_answers_json_or_streams_with_a_pdf_attached_across_three_hosts() {
    within(async {
        let (mock, client) = setup().await;
        let answer = client
            .workflows()
            .run(run(json!({"agent_id": "agent-1", "user_input": "Hello!"})))
            .await
            .expect("the JSON answer");
        assert_eq!(answer.response, "ok");
        let sent = &mock.received("workflows.run")[0];
        assert_eq!(sent.header("api-key"), Some("sk_test"));
        assert_eq!(sent.json().and_then(|b| b.get("stream").cloned()), Some(json!(false)));

        // The PDF: init (X-API-KEY), the presigned POST (no credentials), complete.
        let stored = client
            .assets()
            .upload_file("agent-1", Upload::bytes("report.pdf", &b"%PDF-1.7 report"[..]))
            .await
            .expect("uploaded");
        assert_eq!(stored.file_id, "file_1");
        assert_eq!(mock.received("assets.init")[0].header("x-api-key"), Some("sk_test"));
        let post = &mock.received("assets.upload")[0];
        assert_eq!(post.header("authorization"), None);
        assert_eq!(post.header("x-api-key"), None);
        let names: Vec<&str> = post.form.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names.last(), Some(&"file"), "the file last: {names:?}");
        assert_eq!(
            post.form_part("file").and_then(|p| p.content_type.clone()).as_deref(),
            Some("application/pdf"),
            "the policy's Content-Type"
        );
        assert_eq!(mock.received("assets.complete").len(), 1);

        // The run, streamed, with the file attached.
        let answer = client
            .workflows()
            .run(run(json!({"agent_id": "agent-123", "user_input": "Help me analyze this data", "assets": [stored.file_id]})))
            .stream()
            .await
            .expect("the stream opens")
            .answer()
            .await
            .expect("the answer");
        assert_eq!(answer.text, "I'll help you analyze");
        assert!(answer.paused.is_none());
        let sent = mock.received("workflows.run");
        let body = sent.last().and_then(|r| r.json()).expect("a body");
        assert_eq!(body["stream"], json!(true));
        assert_eq!(body["assets"], json!(["file_1"]));
    })
    .await;
}

#[tokio::test]
async fn a_stream_cut_before_a_terminal_event_is_an_error_and_the_run_is_not_re_posted() {
    within(async {
        let (mock, client) = setup().await;
        let mut events = client
            .workflows()
            .run(run(json!({"agent_id": "agent-123", "user_input": "Tell me a story", "assets": [], "enable_hitl": false})))
            .stream()
            .await
            .expect("opens");
        let mut seen = Vec::new();
        let error = loop {
            match events.try_next().await {
                Ok(Some(event)) => seen.push(event),
                Ok(None) => panic!("ended cleanly: {seen:?}"),
                Err(e) => break e,
            }
        };
        assert!(matches!(seen.first(), Some(RunWorkflowEvent::RunStarted(_))));
        assert!(matches!(error.kind(), ErrorKind::Stream | ErrorKind::Connection), "{error}");
        assert_eq!(mock.received("workflows.run").len(), 1);
    })
    .await;
}

#[tokio::test]
async fn every_rule_is_checked_before_any_request() {
    within(async {
        let (mock, client) = setup().await;
        let long: String = "é".repeat(10_001); // 10,001 characters, 20,002 bytes
        let cases = [
            (json!({"agent_id": "  ", "user_input": "hi"}), "`agent_id` must not be blank"),
            (json!({"agent_id": "a", "user_input": long}), "`user_input` must be at most 10000 characters"),
            (json!({"agent_id": "a"}), "`user_input` must not be blank"),
            (json!({"agent_id": "a", "user_input": "   "}), "`user_input` must not be blank"),
            (
                json!({"agent_id": "a", "enable_hitl": true, "hitl_resume": {"request_id": "h", "decisions": [{"type": "approve"}]}}),
                "needs the paused run's `conversation_id`",
            ),
            (
                json!({"agent_id": "a", "conversation_id": "c", "hitl_resume": {"request_id": "h", "decisions": [{"type": "approve"}]}}),
                "needs `enable_hitl: true`",
            ),
            (
                json!({"agent_id": "a", "conversation_id": "c", "enable_hitl": true, "hitl_resume": {"request_id": "h", "decisions": []}}),
                "`hitl_resume.decisions` must have at least 1 item",
            ),
        ];
        for (body, expected) in cases {
            for streamed in [false, true] {
                let call = client.workflows().run(run(body.clone()));
                let error = if streamed {
                    call.stream().await.map(|_| ()).expect_err("refused")
                } else {
                    call.await.map(|_| ()).expect_err("refused")
                };
                assert_eq!(error.kind(), ErrorKind::InvalidInput, "{error}");
                assert!(error.to_string().contains(expected), "{body}: {error}");
            }
        }
        // 10,000 characters are fine; a resume needs no input; files need no input either.
        client
            .workflows()
            .run(run(json!({"agent_id": "a", "user_input": "é".repeat(10_000)})))
            .await
            .expect("within the limit");

        let too_big = vec![b'%'; (MAX_ATTACHMENT_BYTES + 1) as usize];
        let files = [
            (Upload::bytes("big.pdf", too_big), "above the limit of 20971520 bytes"),
            (Upload::bytes("empty.pdf", Vec::new()), "is empty"),
            (Upload::bytes("tool.exe", &b"MZ"[..]), "which SketricGen does not take"),
            (Upload::bytes("noextension", &b"x"[..]), "needs a file name with an extension"),
        ];
        for (file, expected) in files {
            let error = client
                .assets()
                .upload_file("agent-1", file)
                .await
                .expect_err("refused");
            assert_eq!(error.kind(), ErrorKind::InvalidInput, "{error}");
            assert!(error.to_string().contains(expected), "{error}");
        }
        let error = client
            .assets()
            .upload_files(
                "agent-1",
                vec![Upload::bytes("a.png", &b"png"[..]), Upload::bytes("b.exe", &b"MZ"[..])],
            )
            .await
            .expect_err("one refused file refuses all");
        assert!(error.to_string().contains("b.exe"), "{error}");
        assert_eq!(mock.received("workflows.run").len(), 1, "only the valid run was sent");
        assert!(mock.received("assets.init").is_empty(), "no upload began");
    })
    .await;
}

#[tokio::test]
async fn admin_lists_follow_the_cursor_and_the_brand_agent_job_resolves() {
    within(async {
        let (mock, client) = setup().await;
        let mut projects = client.projects().list().paginate().items();
        let mut ids = Vec::new();
        while let Some(project) = projects.try_next().await.expect("a page") {
            ids.push(project.project_id);
        }
        assert_eq!(ids, ["p1", "p2", "p3"]);
        let sent = mock.received("projects.list");
        assert_eq!(sent.len(), 2);
        assert_eq!(sent[0].header("authorization"), Some("Bearer sk_test"));
        assert!(
            sent[1]
                .query
                .iter()
                .any(|(k, v)| k == "next_token" && v == "tok1")
        );

        let job = client
            .brand_agents()
            .create(
                types::BrandAgentCreate::builder()
                    .name("Acme Bot")
                    .seed_url("https://acme.example"),
            )
            .poll_interval(Duration::from_millis(10))
            .await
            .expect("the job succeeds");
        assert_eq!(job.status, types::JobStatus::from("succeeded"));
        assert!(
            job.embed.and_then(|e| e.snippet).is_some(),
            "the embed code"
        );

        // A failed job is a Task error with its id and summary.
        let error = client
            .task::<types::Job>("job_4")
            .expect("a handle")
            .until_done()
            .await
            .expect_err("the job failed");
        assert_eq!(error.kind(), ErrorKind::Task);
        assert!(error.task_failed(), "{error}");
        assert_eq!(error.task_id(), Some("job_4"));
        assert!(error.to_string().contains("no pages extracted"), "{error}");
    })
    .await;
}

/// Runs only in the child process `from_env_reads_each_variable_and_names_a_bad_one` starts.
#[test]
#[ignore = "run by from_env_reads_each_variable_and_names_a_bad_one in a child process"]
fn from_env_child() {
    match Client::from_env() {
        Ok(client) => println!("CLIENT {client:?}"),
        Err(e) => println!("ERROR {e}"),
    }
}

fn from_env(vars: &[(&str, &str)]) -> String {
    let clear = [
        "SKETRICGEN_API_KEY",
        "SKETRICGEN_TIMEOUT",
        "SKETRICGEN_UPLOAD_TIMEOUT",
        "SKETRICGEN_MAX_RETRIES",
        "SKETRICGEN_ADMIN_API_URL",
        "SKETRICGEN_RUNTIME_API_KEY",
        "SKETRICGEN_ADMIN_API_KEY",
    ];
    child::run_child("from_env_child", &clear, vars)
}

#[test]
fn from_env_reads_each_variable_and_names_a_bad_one() {
    let shown = from_env(&[("SKETRICGEN_API_KEY", "sk_env")]);
    assert!(shown.contains("CLIENT"), "{shown}");
    assert!(
        shown.contains("timeout: 300s")
            && shown.contains("upload_timeout: 300s")
            && shown.contains("max_retries: 3"),
        "the defaults: {shown}"
    );
    assert!(!shown.contains("sk_env"), "the key is never shown: {shown}");

    let shown = from_env(&[
        ("SKETRICGEN_API_KEY", "sk_env"),
        ("SKETRICGEN_TIMEOUT", "30"),
        ("SKETRICGEN_UPLOAD_TIMEOUT", "90"),
        ("SKETRICGEN_MAX_RETRIES", "1"),
        ("SKETRICGEN_ADMIN_API_URL", "https://admin.test/admin/v1"),
    ]);
    assert!(
        shown.contains("timeout: 30s") && shown.contains("upload_timeout: 90s"),
        "{shown}"
    );
    assert!(
        shown.contains("max_retries: 1") && shown.contains("https://admin.test/admin/v1"),
        "{shown}"
    );

    // The legacy variables are ignored: without SKETRICGEN_API_KEY there is no key.
    let shown = from_env(&[
        ("SKETRICGEN_RUNTIME_API_KEY", "sk_legacy"),
        ("SKETRICGEN_ADMIN_API_KEY", "sk_legacy"),
    ]);
    assert!(
        shown.contains("ERROR") && shown.contains("SKETRICGEN_API_KEY"),
        "{shown}"
    );
    for (name, value) in [
        ("SKETRICGEN_TIMEOUT", "thirty"),
        ("SKETRICGEN_TIMEOUT", "0"),
        ("SKETRICGEN_UPLOAD_TIMEOUT", "-5"),
        ("SKETRICGEN_MAX_RETRIES", "many"),
        ("SKETRICGEN_ADMIN_API_URL", "ftp://admin.test"),
    ] {
        let shown = from_env(&[("SKETRICGEN_API_KEY", "sk_env"), (name, value)]);
        assert!(shown.contains("ERROR"), "{name}={value}: {shown}");
        assert!(
            shown.contains(name) || shown.contains(value),
            "{name}={value}: the error names it: {shown}"
        );
    }
}
