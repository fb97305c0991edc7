//! Task operations on a spec fragment shaped like Knowrithm's Celery tasks
//! (`tests/specs/tasks.yaml`): an acknowledgement recognised by status or by shape becomes a
//! poller that follows the status URL (same origin only), paces itself by the server's hints or
//! its growing interval, resolves to the typed result, and reports failure and time-out as
//! `Task` errors keeping the task id.

use std::sync::Arc;
use std::time::Duration;

use agentwire::mock::{Fixture, FixtureResponse, MockServer, RecordingClock};
use agentwire::prelude::*;
use agentwire::testkit::tasks::{Client, PLATFORM, types};
use agentwire::{Accepted, ErrorKind, TaskStatus};
use serde_json::{Value, json};

async fn setup(fixtures: Vec<Fixture>) -> (MockServer, Client, Arc<RecordingClock>) {
    let mock = MockServer::start_with(&PLATFORM, fixtures, 0)
        .await
        .expect("mock starts");
    let clock = Arc::new(RecordingClock::new());
    let client = mock
        .client_builder::<Client>()
        .api_key("k")
        .clock(clock.clone())
        .build()
        .expect("client");
    (mock, client, clock)
}

fn report_request() -> types::ReportRequest {
    types::ReportRequest {
        kind: "usage".into(),
    }
}

fn ack(body: Value) -> Fixture {
    Fixture::new(
        "reports.build",
        "POST",
        "/reports",
        FixtureResponse::json(202, body),
    )
}

fn status(task: &str, answers: Vec<FixtureResponse>) -> Fixture {
    Fixture::new(
        "tasks.status",
        "GET",
        &format!("/tasks/{task}/status"),
        answers[0].clone(),
    )
    .with_sequence(answers)
}

fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s)
}

#[tokio::test]
async fn an_acknowledged_task_is_polled_at_the_servers_pace_until_its_result() {
    let (mock, client, clock) = setup(vec![
        ack(json!({
            "message": "queued", "status": "accepted", "task_id": "t_1",
            "status_url": "/api/v1/tasks/t_1/status"
        })),
        status(
            "t_1",
            vec![
                FixtureResponse::json(200, json!({"status": "running"})).header("retry-after", "3"),
                FixtureResponse::json(
                    200,
                    json!({"status": "STARTED", "meta": {"poll_after_ms": 2500, "retry_after": 1}}),
                ),
                FixtureResponse::json(200, json!({"status": "running"})),
                FixtureResponse::json(
                    200,
                    json!({"status": "completed", "result": {"id": "r_1", "rows": 3}}),
                ),
            ],
        ),
    ])
    .await;
    let report: types::Report = client
        .reports()
        .build(report_request())
        .await
        .expect("the task's result");
    assert_eq!(report.id, "r_1");
    assert_eq!(report.rows, 3);
    assert_eq!(
        clock.sleeps(),
        vec![secs(1.5), secs(3.0), secs(2.5), secs(2.25)],
        "the first interval, then Retry-After, then the largest body hint, then the interval \
         grown once (only polls without a hint grow it)"
    );
    let polls = mock.received("tasks.status");
    assert_eq!(polls.len(), 4);
    assert!(
        polls.iter().all(|p| p.path == "/tasks/t_1/status"),
        "the status URL's /api/v1 is the base path, not doubled (the journal shows paths under \
         it): {:?}",
        polls.iter().map(|p| &p.path).collect::<Vec<_>>()
    );
    assert!(
        polls.iter().all(|p| p.header("idempotency-key").is_none()),
        "a poll is a GET: no idempotency key"
    );
}

#[tokio::test]
async fn a_result_that_comes_at_once_is_not_polled() {
    let (mock, client, clock) = setup(vec![Fixture::new(
        "reports.build",
        "POST",
        "/reports",
        FixtureResponse::json(200, json!({"id": "r_0", "rows": 0})),
    )])
    .await;
    let report = client
        .reports()
        .build(report_request())
        .await
        .expect("at once");
    assert_eq!(report.id, "r_0");
    assert!(clock.sleeps().is_empty());
    assert!(mock.received("tasks.status").is_empty());
}

#[tokio::test]
async fn an_acknowledgement_by_shape_is_polled_by_its_task_id() {
    // A 2xx (not 202) whose state says queued, with a task id and no URL: Knowrithm's other
    // acknowledgement form; polled at the status operation's path built from the id.
    let (mock, client, _) = setup(vec![
        Fixture::new(
            "agents.create",
            "POST",
            "/sdk/agent",
            FixtureResponse::json(200, json!({"status": "Queued", "task_id": "t/2"})),
        ),
        status(
            "t%2F2",
            vec![FixtureResponse::json(
                200,
                json!({"status": "success", "data": {"agent": {"id": "ag_1"}}}),
            )],
        ),
    ])
    .await;
    let agent: Value = client
        .agents()
        .create(types::AgentCreate {
            name: "Helper".into(),
        })
        .await
        .expect("resolved");
    assert_eq!(
        agent,
        json!({"agent": {"id": "ag_1"}}),
        "the first non-null result member"
    );
    assert_eq!(
        mock.received("tasks.status")[0].path,
        "/tasks/t%2F2/status",
        "the id is one percent-encoded path segment"
    );
}

#[tokio::test]
async fn a_failed_task_is_a_task_error_with_its_id_message_and_code() {
    let (_mock, client, _) = setup(vec![
        ack(json!({"status": "accepted", "task_id": "t_3", "poll_url": "/v1/tasks/t_3/status"})),
        status(
            "t_3",
            vec![FixtureResponse::json(
                200,
                json!({"status": "FAILED", "error": {"message": "quota exceeded", "code": "QUOTA"}}),
            )],
        ),
    ])
    .await;
    let e = client
        .reports()
        .build(report_request())
        .await
        .expect_err("the task failed");
    assert_eq!(e.kind(), ErrorKind::Task);
    assert!(e.task_failed());
    assert_eq!(e.task_id(), Some("t_3"));
    assert_eq!(e.message(), "quota exceeded");
    assert_eq!(e.code(), Some("QUOTA"));
    assert_eq!(e.operation(), Some("reports.build"));
    assert!(e.body().is_some(), "the status body is kept");
    assert!(!e.is_retryable());
    assert!(e.to_string().contains("[task t_3]"), "{e}");
}

#[tokio::test]
async fn a_task_that_never_finishes_times_out_after_the_maximum_wait() {
    let (mock, client, clock) = setup(vec![
        ack(json!({"status": "accepted", "task_id": "t_4"})),
        status(
            "t_4",
            vec![FixtureResponse::json(200, json!({"status": "running"}))],
        ),
    ])
    .await;
    let e = client
        .reports()
        .build(report_request())
        .max_wait(Duration::from_secs(60))
        .await
        .expect_err("never finishes");
    assert_eq!(e.kind(), ErrorKind::Task);
    assert!(!e.task_failed(), "a time-out, not a failure");
    assert_eq!(e.task_id(), Some("t_4"));
    assert!(e.message().contains("running"), "{}", e.message());
    let sleeps = clock.sleeps();
    let expected_start = [1.5, 2.25, 3.375, 5.0625, 7.59375, 11.390625, 11.5];
    for (slept, want) in sleeps.iter().zip(expected_start) {
        assert!(
            (slept.as_secs_f64() - want).abs() < 1e-6,
            "grows by 1.5 up to the 11.5 s cap: {sleeps:?}"
        );
    }
    assert_eq!(
        sleeps.iter().sum::<Duration>(),
        Duration::from_secs(60),
        "the last wait is cut to the maximum: {sleeps:?}"
    );
    assert_eq!(
        mock.received("tasks.status").len(),
        sleeps.len(),
        "one poll per wait"
    );
}

#[tokio::test]
async fn a_status_url_on_another_origin_is_never_polled() {
    let (mock, client, _) = setup(vec![ack(json!({
        "status": "accepted", "task_id": "t_5",
        "status_url": "https://elsewhere.example/api/v1/tasks/t_5/status"
    }))])
    .await;
    let e = client
        .reports()
        .build(report_request())
        .await
        .expect_err("refused");
    assert_eq!(e.kind(), ErrorKind::Other);
    assert_eq!(e.task_id(), Some("t_5"));
    assert!(e.message().contains("another origin"), "{}", e.message());
    assert!(mock.received("tasks.status").is_empty());
}

#[tokio::test]
async fn an_acknowledgement_with_nothing_to_poll_is_a_decode_error() {
    let (_mock, client, _) = setup(vec![ack(json!({"status": "accepted"}))]).await;
    let e = client
        .reports()
        .build(report_request())
        .await
        .expect_err("nothing to poll");
    assert_eq!(e.kind(), ErrorKind::Decode);
    assert!(e.message().contains("task_id"), "{}", e.message());
}

#[tokio::test]
async fn accepted_gives_a_handle_and_a_task_can_be_picked_up_again_by_id() {
    let (mock, client, _) = setup(vec![
        ack(json!({"status": "accepted", "task_id": "t_6"})),
        status(
            "t_6",
            vec![
                FixtureResponse::json(200, json!({"status": "running"})),
                FixtureResponse::json(
                    200,
                    json!({"status": "done", "result": {"id": "r_6", "rows": 6}}),
                ),
            ],
        ),
    ])
    .await;
    let accepted = client
        .reports()
        .build(report_request())
        .bearer_token("session-jwt")
        .accepted()
        .await
        .expect("acknowledged");
    let Accepted::Pending(mut handle) = accepted else {
        panic!("a 202 is pending")
    };
    assert_eq!(handle.id(), Some("t_6"));
    let ack = handle.acknowledgement().expect("kept");
    assert_eq!(ack.status().as_u16(), 202);
    assert_eq!(ack.value()["task_id"], "t_6");
    // One poll at a time: the state as the platform names it.
    assert_eq!(
        handle.poll().await.expect("polled"),
        TaskStatus::Running(Some("running".into()))
    );
    assert_eq!(handle.polls(), 1);
    assert_eq!(
        mock.received("tasks.status")[0].header("authorization"),
        Some("Bearer session-jwt"),
        "a poll carries the call's bearer token"
    );

    // Another process picks the task up by its id.
    let mut again = client.task::<types::Report>("t_6").expect("a handle");
    assert!(again.acknowledgement().is_none());
    let report = again.until_done().await.expect("done");
    assert_eq!(report.rows, 6);
    assert!(client.task::<Value>("").is_err(), "an empty id is refused");
}

#[tokio::test]
async fn a_dropped_poll_leaves_the_handle_as_it_was() {
    let (_mock, client, _) = setup(vec![status(
        "t_7",
        vec![
            FixtureResponse::json(200, json!({"status": "running"})).delay_ms(5_000),
            FixtureResponse::json(
                200,
                json!({"status": "done", "result": {"id": "r_7", "rows": 7}}),
            ),
        ],
    )])
    .await;
    let mut handle = client.task::<types::Report>("t_7").expect("a handle");
    let cut = tokio::time::timeout(Duration::from_millis(100), handle.poll()).await;
    assert!(cut.is_err(), "the slow poll was dropped");
    assert_eq!(
        handle.polls(),
        0,
        "nothing recorded from a poll that did not finish"
    );
    assert_eq!(handle.state(), None);
    let report = handle
        .until_done()
        .await
        .expect("the next poll finishes it");
    assert_eq!(report.id, "r_7");
}

#[tokio::test]
async fn a_status_body_that_is_not_an_object_names_the_task() {
    let (_mock, client, _) = setup(vec![
        ack(json!({"status": "accepted", "task_id": "t_8"})),
        status(
            "t_8",
            vec![FixtureResponse::json(200, json!(["not", "an", "object"]))],
        ),
    ])
    .await;
    let e = client
        .reports()
        .build(report_request())
        .await
        .expect_err("undecodable");
    assert_eq!(e.kind(), ErrorKind::Decode);
    assert_eq!(e.task_id(), Some("t_8"));
}

#[tokio::test]
async fn a_result_of_the_wrong_shape_is_a_decode_error_naming_the_field() {
    let (_mock, client, _) = setup(vec![
        ack(json!({"status": "accepted", "task_id": "t_9"})),
        status(
            "t_9",
            vec![FixtureResponse::json(
                200,
                json!({"status": "completed", "result": {"id": "r_9", "rows": "many"}}),
            )],
        ),
    ])
    .await;
    let e = client
        .reports()
        .build(report_request())
        .await
        .expect_err("rows is not a number");
    assert_eq!(e.kind(), ErrorKind::Decode);
    assert!(e.message().contains("rows"), "{}", e.message());
    assert_eq!(e.task_id(), Some("t_9"));
}

#[tokio::test]
async fn the_poll_interval_and_maximum_wait_are_set_per_client_and_per_call() {
    let fixtures = || {
        vec![
            ack(json!({"status": "accepted", "task_id": "t_10"})),
            status(
                "t_10",
                vec![FixtureResponse::json(200, json!({"status": "running"}))],
            ),
        ]
    };
    // Per client: a 20 s interval (above the profile's 11.5 s cap: the cap rises to it) and a
    // 50 s maximum wait.
    let mock = MockServer::start_with(&PLATFORM, fixtures(), 0)
        .await
        .expect("mock starts");
    let clock = Arc::new(RecordingClock::new());
    let client = mock
        .client_builder::<Client>()
        .api_key("k")
        .clock(clock.clone())
        .task_poll_interval(Duration::from_secs(20))
        .task_max_wait(Duration::from_secs(50))
        .build()
        .expect("client");
    let e = client
        .reports()
        .build(report_request())
        .await
        .expect_err("times out");
    assert!(!e.task_failed());
    assert_eq!(clock.sleeps(), vec![secs(20.0), secs(20.0), secs(10.0)]);

    // Per call: both override the client's.
    let clock = Arc::new(RecordingClock::new());
    let client = mock
        .client_builder::<Client>()
        .api_key("k")
        .clock(clock.clone())
        .task_max_wait(Duration::from_secs(50))
        .build()
        .expect("client");
    client
        .reports()
        .build(report_request())
        .poll_interval(Duration::from_secs(2))
        .max_wait(Duration::from_secs(5))
        .await
        .expect_err("times out");
    assert_eq!(
        clock.sleeps(),
        vec![secs(2.0), secs(3.0)],
        "2 s, then 3 s grown, cut to 5 s"
    );

    let zero = mock
        .client_builder::<Client>()
        .api_key("k")
        .task_max_wait(Duration::ZERO)
        .build()
        .expect_err("a zero maximum wait is refused");
    assert_eq!(zero.kind(), ErrorKind::InvalidInput);
}

#[tokio::test]
async fn a_status_answer_can_move_the_task_to_a_new_status_url() {
    let (mock, client, _) = setup(vec![
        ack(json!({"status": "accepted", "task_id": "t_11"})),
        status(
            "t_11",
            vec![FixtureResponse::json(
                200,
                json!({"status": "running", "poll_url": "https://tasks.invalid/v1/tasks/t_11b/status?shard=2"}),
            )],
        ),
        status(
            "t_11b",
            vec![FixtureResponse::json(200, json!({"status": "done", "result": {"id": "r_11", "rows": 11}}))],
        ),
    ])
    .await;
    // The moved URL is absolute on the platform's production origin, which this client does
    // not talk to: refused, never followed.
    let e = client
        .reports()
        .build(report_request())
        .await
        .expect_err("other origin");
    assert_eq!(e.kind(), ErrorKind::Other);
    assert_eq!(e.task_id(), Some("t_11"));

    // A relative one (Knowrithm's `/v1/...` form) is followed.
    let (mock2, client2, _) = setup(vec![
        ack(json!({"status": "accepted", "task_id": "t_12"})),
        status(
            "t_12",
            vec![FixtureResponse::json(
                200,
                json!({"status": "running", "poll_url": "/v1/tasks/t_12b/status"}),
            )],
        ),
        status(
            "t_12b",
            vec![FixtureResponse::json(
                200,
                json!({"status": "done", "result": {"id": "r_12", "rows": 12}}),
            )],
        ),
    ])
    .await;
    let report = client2
        .reports()
        .build(report_request())
        .await
        .expect("followed");
    assert_eq!(report.id, "r_12");
    let polls = mock2.received("tasks.status");
    assert_eq!(
        polls.iter().map(|p| p.path.as_str()).collect::<Vec<_>>(),
        vec!["/tasks/t_12/status", "/tasks/t_12b/status"]
    );
    drop(mock);
}

#[tokio::test]
async fn the_mock_runs_the_tasks_its_default_acknowledgements_start() {
    // As the embedded fixtures are: the default answer is the acknowledgement, the typed result
    // is `<operationId>.result.json`.
    let mut ack = ack(json!({
        "status": "accepted", "task_id": "t_recorded",
        "status_url": "/api/v1/tasks/t_recorded/status"
    }));
    ack.file = "reports.build.json".into();
    let mut result = Fixture::new(
        "reports.build",
        "POST",
        "/reports",
        FixtureResponse::json(200, json!({"id": "r_recorded", "rows": 9})),
    );
    result.file = "reports.build.result.json".into();
    let (mock, client, _) = setup(vec![ack, result]).await;

    let first = client
        .reports()
        .build(report_request())
        .accepted()
        .await
        .expect("acknowledged");
    let Accepted::Pending(mut first) = first else {
        panic!("the default answer is an acknowledgement")
    };
    let second = client.reports().build(report_request()).accepted().await;
    let Ok(Accepted::Pending(second)) = second else {
        panic!("acknowledged again")
    };
    assert_ne!(
        first.id(),
        second.id(),
        "each call starts a task of its own"
    );
    let ack = first.acknowledgement().expect("kept");
    assert_eq!(
        ack.value()["status_url"],
        format!("/api/v1/tasks/{}/status", first.id().unwrap_or_default()),
        "the status URL names the new task"
    );
    let report: types::Report = first.until_done().await.expect("resolved by the mock");
    assert_eq!(report.rows, 9, "the `.result` fixture is the task's result");
    let polled = mock.received("tasks.status");
    assert_eq!(polled.len(), 1);
    assert_eq!(
        polled[0].answer,
        agentwire::mock::Answer::Task {
            id: first.id().unwrap_or_default().to_owned()
        }
    );
}
