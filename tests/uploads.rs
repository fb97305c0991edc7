//! Form bodies on a spec fragment (`tests/specs/kinds.yaml`): a multipart upload (files from
//! bytes or streamed from disk, checked before any request), an operation taking JSON or
//! multipart that picks its encoding from what the caller gave, and a URL-encoded form; the
//! shape checked where it matters, at the server.

use std::path::PathBuf;
use std::sync::Arc;

use agentwire::mock::{Fixture, FixtureResponse, MockServer, RecordingClock};
use agentwire::testkit::kinds::{Client, PLATFORM, types};
use agentwire::{ErrorKind, Upload};
use serde_json::{Value, json};

mod common;

async fn setup(fixtures: Vec<Fixture>) -> (MockServer, Client) {
    let mock = MockServer::start_with(&PLATFORM, fixtures, 0)
        .await
        .expect("mock starts");
    let client = mock
        .client_builder::<Client>()
        .api_key("k")
        .clock(Arc::new(RecordingClock::new()))
        .build()
        .expect("client");
    (mock, client)
}

fn note(status: u16) -> FixtureResponse {
    FixtureResponse::json(status, json!({"id": "n_1", "text": "ok"}))
}

/// A file of its own in the temporary directory, removed when dropped.
struct TempFile(PathBuf);

impl TempFile {
    fn new(name: &str, bytes: &[u8]) -> Self {
        let dir = std::env::temp_dir().join(format!("agentwire-uploads-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join(name);
        std::fs::write(&path, bytes).expect("write");
        TempFile(path)
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[tokio::test]
async fn a_multipart_upload_reaches_the_server_part_by_part() {
    let (mock, client) = setup(vec![Fixture::new(
        "avatar.set",
        "PUT",
        "/avatar",
        note(200),
    )])
    .await;
    let png = b"\x89PNG\r\n\x1a\nrest";
    let saved: types::Note = client
        .avatar()
        .set(Upload::bytes("me.png", &png[..]))
        .caption("Me, in 2026")
        .width(3)
        .await
        .expect("uploaded");
    assert_eq!(saved.id, "n_1");
    let seen = &mock.received("avatar.set")[0];
    assert!(
        seen.header("content-type")
            .is_some_and(|ct| ct.starts_with("multipart/form-data; boundary=")),
        "{seen:?}"
    );
    let image = seen.form_part("image").expect("the file part");
    assert_eq!(image.file_name.as_deref(), Some("me.png"));
    assert_eq!(
        image.content_type.as_deref(),
        Some("image/png"),
        "guessed from the name"
    );
    assert_eq!(&image.data[..], png);
    assert_eq!(
        seen.form_part("caption").map(|p| p.text()),
        Some("Me, in 2026".into())
    );
    assert_eq!(seen.form_part("width").map(|p| p.text()), Some("3".into()));
}

#[tokio::test]
async fn a_file_from_disk_is_streamed_with_its_length_and_sent_again_on_a_retry() {
    let bytes: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    let file = TempFile::new("photo.jpg", &bytes);
    let (mock, client) = setup(vec![
        Fixture::new("avatar.set", "PUT", "/avatar", note(200)).with_sequence(vec![
            FixtureResponse::json(429, json!({"message": "slow down"})),
            note(200),
        ]),
    ])
    .await;
    client
        .avatar()
        .set(Upload::path(&file.0))
        .await
        .expect("the second attempt succeeds");
    let seen = mock.received("avatar.set");
    assert_eq!(seen.len(), 2, "turned away once (429), then sent again");
    for attempt in &seen {
        let image = attempt.form_part("image").expect("the file, each time");
        assert_eq!(image.data.len(), bytes.len());
        assert!(image.data[..] == bytes[..], "the whole file, each time");
        assert_eq!(image.content_type.as_deref(), Some("image/jpeg"));
        assert!(
            attempt.header("content-length").is_some(),
            "the length is known: not chunked"
        );
    }
}

#[tokio::test]
async fn a_missing_oversized_or_refused_file_fails_before_any_request() {
    let (mock, client) = setup(vec![Fixture::new(
        "avatar.set",
        "PUT",
        "/avatar",
        note(200),
    )])
    .await;
    let missing = client
        .avatar()
        .set(Upload::path("/nonexistent/agentwire/me.png"))
        .await
        .expect_err("no such file");
    assert_eq!(missing.kind(), ErrorKind::InvalidInput);
    assert!(
        missing.message().contains("does not exist"),
        "{}",
        missing.message()
    );

    let refused = client
        .avatar()
        .set(Upload::bytes("cv.pdf", "%PDF-1.7"))
        .await
        .expect_err("an image field");
    assert_eq!(refused.kind(), ErrorKind::InvalidInput);
    assert!(
        refused.message().contains("image/*"),
        "{}",
        refused.message()
    );

    let small = mock
        .client_builder::<Client>()
        .api_key("k")
        .max_upload_bytes(10)
        .build()
        .expect("client");
    let file = TempFile::new("big.png", &[0u8; 11]);
    let big = small
        .avatar()
        .set(Upload::path(&file.0))
        .await
        .expect_err("over the limit");
    assert_eq!(big.kind(), ErrorKind::InvalidInput);
    assert!(big.message().contains("11 bytes"), "{}", big.message());
    assert!(
        big.message().contains("max_upload_bytes"),
        "{}",
        big.message()
    );

    assert!(mock.received("avatar.set").is_empty(), "nothing was sent");
}

#[tokio::test]
async fn json_or_multipart_picks_the_encoding_from_what_the_caller_gave() {
    let (mock, client) = setup(vec![Fixture::new(
        "documents.upload",
        "POST",
        "/documents",
        note(200),
    )])
    .await;
    // A URL: JSON.
    client
        .documents()
        .upload()
        .body(types::DocumentFromUrl {
            url: "https://example.com/a.pdf".into(),
        })
        .await
        .expect("JSON");
    // Files: multipart, with the other fields (a list repeated, an object as JSON text).
    client
        .documents()
        .upload()
        .files([
            Upload::bytes("a.pdf", "%PDF-a"),
            Upload::bytes("b.txt", "plain"),
        ])
        .agent_id("ag_1")
        .tags(vec!["x".to_owned(), "y".to_owned()])
        .metadata(json!({"source": "tests"}))
        .await
        .expect("multipart");
    let seen = mock.received("documents.upload");
    assert_eq!(
        seen[0].json(),
        Some(json!({"url": "https://example.com/a.pdf"}))
    );
    let form = &seen[1].form;
    let names: Vec<(&str, Option<&str>)> = form
        .iter()
        .map(|p| (p.name.as_str(), p.file_name.as_deref()))
        .collect();
    assert_eq!(
        names,
        vec![
            ("agent_id", None),
            ("metadata", None),
            ("tags", None),
            ("tags", None),
            ("files", Some("a.pdf")),
            ("files", Some("b.txt")),
        ],
        "the text fields in the order of the spec's properties (by name), then the files"
    );
    let metadata: Value = serde_json::from_str(&form[1].text()).expect("JSON text");
    assert_eq!(metadata, json!({"source": "tests"}));

    // Both, neither, or a form missing a required field: refused before sending.
    for (call, why) in [
        (
            client
                .documents()
                .upload()
                .body(types::DocumentFromUrl { url: "u".into() })
                .files([Upload::bytes("a.pdf", "x")])
                .agent_id("ag_1"),
            "not both",
        ),
        (client.documents().upload(), "needs a JSON body"),
        (
            client
                .documents()
                .upload()
                .files([Upload::bytes("a.pdf", "x")]),
            "`agent_id` form field is required",
        ),
        (
            client
                .documents()
                .upload()
                .files([Upload::bytes("a.png", "x")])
                .agent_id("ag_1"),
            "application/pdf, text/plain",
        ),
    ] {
        let e = call.await.expect_err(why);
        assert_eq!(e.kind(), ErrorKind::InvalidInput, "{why}");
        assert!(e.message().contains(why), "{why}: {}", e.message());
    }
    assert_eq!(
        mock.received("documents.upload").len(),
        2,
        "none of those was sent"
    );
}

#[tokio::test]
async fn a_url_encoded_form_is_sent_as_pairs() {
    let (mock, client) = setup(vec![Fixture::new(
        "tokens.create",
        "POST",
        "/tokens",
        note(200),
    )])
    .await;
    client
        .tokens()
        .create("client_credentials")
        .scope("read write")
        .await
        .expect("sent");
    let seen = &mock.received("tokens.create")[0];
    assert_eq!(
        seen.header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    assert_eq!(
        &seen.body[..],
        b"grant_type=client_credentials&scope=read+write"
    );
    assert_eq!(
        seen.form_part("scope").map(|p| p.text()),
        Some("read write".into())
    );
}

#[tokio::test]
async fn the_mock_checks_a_form_from_any_client_against_the_spec() {
    let (mock, _client) = setup(Vec::new()).await;
    let http = common::plain_http();
    // As a client in another language would send it: no image, a width that is not a number.
    let form = reqwest::multipart::Form::new()
        .text("caption", "hi")
        .text("width", "wide");
    let answer = http
        .put(format!("{}/avatar", mock.platform_url()))
        .header("authorization", "Bearer k")
        .multipart(form)
        .send()
        .await
        .expect("answered");
    assert_eq!(answer.status().as_u16(), 400);
    let text = answer.text().await.expect("text");
    assert!(text.contains("image"), "{text}");
    assert!(text.contains("width"), "{text}");

    // JSON to a multipart-only operation.
    let answer = http
        .put(format!("{}/avatar", mock.platform_url()))
        .header("authorization", "Bearer k")
        .header("content-type", "application/json")
        .body(json!({"caption": "hi"}).to_string())
        .send()
        .await
        .expect("answered");
    assert_eq!(answer.status().as_u16(), 400);
    let text = answer.text().await.expect("text");
    assert!(text.contains("must be a form"), "{text}");
}
