//! A guided tour of agentwire against the embedded mocks of BimpeAI, Knowrithm, Wisebot,
//! SketricGen and Linktor: no credentials, no network.
//!
//! `cargo run --example tour`
//!
//! Each step asserts what it shows; the tour exits non-zero at the first step that fails.

use std::process::ExitCode;
use std::time::Duration;

use agentwire::ErrorKind;
use agentwire::bimpeai::{Client, ConversationEvent, types};
use agentwire::mock::{Fixture, FixtureResponse, MockServer};
use futures_util::TryStreamExt;
use serde_json::json;

type Outcome = Result<(), String>;

fn check(cond: bool, what: &str) -> Outcome {
    if cond {
        Ok(())
    } else {
        Err(format!("expected {what}"))
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let all = async {
        tour().await?;
        knowrithm().await?;
        wisebot().await?;
        sketricgen().await?;
        linktor().await
    };
    match all.await {
        Ok(()) => {
            println!("\ntour complete: every step passed");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("\ntour FAILED: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn tour() -> Outcome {
    let mock = MockServer::start(&agentwire::bimpeai::PLATFORM)
        .await
        .map_err(|e| e.to_string())?;
    println!("BimpeAI mock listening at {}", mock.platform_url());
    let client = Client::builder()
        .api_key("sk_test")
        .base_url(mock.base_url())
        // Short backoffs keep the tour quick; production defaults are 0.5 s doubling to 8 s.
        .backoff(Duration::from_millis(20), Duration::from_millis(200))
        .build()
        .map_err(|e| e.to_string())?;

    step("1. list agents across pages (limit 2), fetching each page on demand");
    let agents: Vec<types::Agent> = client
        .agents()
        .list()
        .limit(2)
        .page(1)
        .paginate()
        .items()
        .try_collect()
        .await
        .map_err(|e| e.to_string())?;
    for a in &agents {
        println!("   {} {} ({:?})", a.id, a.name, a.status);
    }
    check(agents.len() == 5, "5 agents over 3 pages")?;
    check(mock.received("agents.list").len() == 3, "3 page requests")?;

    step("2. create an agent (typed body; an idempotency key goes with it)");
    let created = client
        .agents()
        .create(
            types::AgentCreate::builder()
                .workflow_id("wf_1")
                .name("Hello")
                .description("A support agent")
                .persona(types::Persona::Friendly),
        )
        .send_with_response()
        .await
        .map_err(|e| e.to_string())?;
    let request_id = created.request_id().map(str::to_owned);
    let created = created.into_inner();
    println!(
        "   created {} from workflow {:?}; request id {:?}",
        created.id,
        created.workflow.as_ref().map(|w| &w.name),
        request_id
    );
    check(created.id == "a_1", "the created agent a_1")?;
    let sent = mock.received("agents.create");
    let key = sent.last().and_then(|r| r.header("idempotency-key"));
    check(
        key.is_some_and(|k| k.len() == 36),
        "a UUID idempotency key on the write",
    )?;

    step("3. retrieve it");
    let detail = client
        .agents()
        .retrieve("a_1")
        .send()
        .await
        .map_err(|e| e.to_string())?;
    println!(
        "   {} has {} knowledge bases and {} channels",
        detail.name,
        detail.knowledge_bases.len(),
        detail.channels.len()
    );
    check(detail.id == "a_1", "agent a_1")?;

    step("4. errors are classified before decoding");
    let err = client
        .agents()
        .retrieve("a_missing")
        .send()
        .await
        .err()
        .ok_or("an error")?;
    println!("   {err}");
    check(err.kind() == ErrorKind::NotFound, "NotFound")?;
    // The spec's length rules are checked before anything is sent...
    let err = client
        .agents()
        .create(
            types::AgentCreate::builder()
                .workflow_id("")
                .name("")
                .description("no name"),
        )
        .send()
        .await
        .err()
        .ok_or("a refused body")?;
    println!("   {err}");
    check(
        err.kind() == ErrorKind::InvalidInput,
        "refused before sending",
    )?;
    // ...and what the platform refuses comes back with its field errors.
    let err = client
        .agents()
        .create(
            types::AgentCreate::builder()
                .workflow_id("wf_1")
                .name("Hello")
                .description("A support agent")
                .persona(types::Persona::from("pirate")),
        )
        .send()
        .await
        .err()
        .ok_or("a validation error")?;
    println!("   {err}");
    for f in err.field_errors() {
        println!("     field {:?}: {}", f.path, f.message);
    }
    check(
        err.kind() == ErrorKind::Validation && err.field_errors().len() == 1,
        "one field error (persona)",
    )?;

    step("5. a transient 503 is retried with the same request id and idempotency key");
    mock.register(
        Fixture::new(
            "workflows.clone",
            "POST",
            "/workflows/clone",
            FixtureResponse::json(200, json!({})),
        )
        .with_sequence(vec![
            FixtureResponse::json(503, json!({"message": "warming up", "code": "internal_error"})),
            FixtureResponse::json(
                200,
                json!({"message": "ok", "data": {"id": "w_2", "name": "Triage (copy)", "visibility": "private",
                    "is_owner": true, "created_at": "t", "updated_at": "t"}}),
            ),
        ]),
    );
    let clone = client
        .workflows()
        .clone(types::WorkflowClone {
            source_workflow_id: "w_1".into(),
        })
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let attempts = mock.received("workflows.clone");
    println!("   {} attempts; cloned into {}", attempts.len(), clone.id);
    check(attempts.len() == 2, "two attempts")?;
    check(
        attempts[0].header("idempotency-key") == attempts[1].header("idempotency-key")
            && attempts[0].header("x-request-id") == attempts[1].header("x-request-id"),
        "the same idempotency key and request id on both attempts",
    )?;

    step("6. stream a conversation: the connection drops after m_2 and resumes after it");
    let mut stream = client
        .conversations()
        .messages()
        .stream("a_1", "cv_1")
        .open()
        .await
        .map_err(|e| e.to_string())?;
    let mut ids = Vec::new();
    while let Some(event) = stream.try_next().await.map_err(|e| e.to_string())? {
        if let ConversationEvent::Message(m) = event {
            println!("   {:?}: {}", m.role, m.message.as_deref().unwrap_or(""));
            ids.push(m.id.clone());
        }
        if ids.len() == 3 {
            break; // BimpeAI streams have no end marker: the caller stops.
        }
    }
    check(
        ids == ["m_1", "m_2", "m_3"],
        "m_1, m_2, m_3 exactly once each",
    )?;
    let opens = mock.received("conversations.messages.stream");
    check(opens.len() == 2, "two connections")?;
    check(
        opens[1].query_map().get("after").map(String::as_str) == Some("m_2"),
        "the reconnect resumes after=m_2",
    )?;
    check(
        opens.iter().all(|r| r.header("authorization").is_none()),
        "no Authorization on the ticket-authenticated stream",
    )?;
    check(
        mock.received("conversations.messages.stream_ticket").len() == 2,
        "a new ticket per connection",
    )?;
    Ok(())
}

/// Knowrithm: writes answered by Celery task acknowledgements, resolved by polling; uploads;
/// the chat, polled or followed live on its event stream.
async fn knowrithm() -> Outcome {
    use agentwire::Upload;
    use agentwire::knowrithm::{ChatEvent, Client, NewAgent, types};

    let mock = MockServer::start(&agentwire::knowrithm::PLATFORM)
        .await
        .map_err(|e| e.to_string())?;
    println!("\nKnowrithm mock listening at {}", mock.platform_url());
    let client = mock
        .client_builder::<Client>()
        .api_key("ak_test")
        .api_secret("as_test")
        // Short polls keep the tour quick; Knowrithm's own cadence is 1.5 s growing to 11.5 s.
        .task_poll_interval(Duration::from_millis(20))
        .build()
        .map_err(|e| e.to_string())?;

    step("7. create an agent by provider and model names: a task, polled to the agent");
    let agent = client
        .agents()
        .provision(
            NewAgent::from_json(
                json!({"name": "Support Bot", "description": "Customer support assistant"}),
                json!({"llm_provider": "openai", "llm_model": "gpt-4o",
                       "embedding_provider": "openai", "embedding_model": "text-embedding-3-small"}),
            )
            .map_err(|e| e.to_string())?,
        )
        .await
        .map_err(|e| e.to_string())?;
    let agent_id = agent
        .agent
        .as_ref()
        .and_then(|a| a.id.clone())
        .ok_or("the provisioned agent")?;
    println!(
        "   agent {agent_id}, after {} poll",
        mock.received("tasks.status").len()
    );
    check(
        mock.received("agents.create_with_provider_names").len() == 1,
        "names routed to POST /sdk/agent",
    )?;

    step("8. upload a document (multipart, checked before sending)");
    client
        .documents()
        .upload()
        .files([Upload::bytes(
            "knowledge-base.txt",
            "Reset passwords from Settings > Security.",
        )])
        .agent_id(agent_id.clone())
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let upload = &mock.received("documents.upload")[0];
    let file = upload
        .form
        .iter()
        .find(|p| p.file_name.is_some())
        .ok_or("a file part")?;
    println!(
        "   sent {} ({}, {} bytes)",
        file.file_name.as_deref().unwrap_or_default(),
        file.content_type.as_deref().unwrap_or_default(),
        file.data.len()
    );
    check(
        file.content_type.as_deref() == Some("text/plain"),
        "the type guessed from the name",
    )?;

    step("9. register a website for crawling");
    let source = client
        .websites()
        .sources()
        .register(types::WebsiteSourceCreate {
            agent_id: agent_id.clone(),
            base_url: "https://docs.example.com".into(),
            allowed_paths: None,
            crawl_frequency_minutes: None,
            disallowed_paths: None,
            max_depth: None,
            max_pages: Some(50),
            notes: None,
            seed_urls: None,
        })
        .await
        .map_err(|e| e.to_string())?;
    let registered = source.website_source.ok_or("the registered source")?;
    println!("   registered {}", registered.base_url.unwrap_or_default());

    step("10. chat: send() polls the reply; stream() follows it live");
    let conversation = "1fcc6e47-82e4-5bcc-815e-727a4a19e076";
    let chat = |text: &str| types::ChatMessageSend {
        attachments: None,
        message: text.into(),
    };
    let reply = client
        .conversations()
        .messages()
        .send(conversation, chat("How do I reset my password?"))
        .await
        .map_err(|e| e.to_string())?;
    let said = |m: Option<&types::Message>| m.and_then(|m| m.content.clone()).unwrap_or_default();
    println!("   polled: {}", said(reply.message.as_ref()));
    let mut live = client
        .conversations()
        .messages()
        .send(conversation, chat("And my email address?"))
        .stream()
        .await
        .map_err(|e| e.to_string())?;
    let mut statuses = 0;
    let mut answer = None;
    while let Some(event) = live.try_next().await.map_err(|e| e.to_string())? {
        match event {
            ChatEvent::ChatStatus(s) => {
                statuses += 1;
                println!(
                    "   status: {}",
                    s.status.map(|s| s.to_string()).unwrap_or_default()
                );
            }
            ChatEvent::ChatResponse(r) => answer = Some(said(r.message.as_ref())),
            _ => {}
        }
    }
    println!("   streamed: {}", answer.clone().unwrap_or_default());
    check(
        statuses == 3 && answer.is_some(),
        "three statuses, then the reply",
    )?;

    step("11. streaming turned off (503): an Unavailable error, or with fallback the polled reply");
    let off = "9efcdf0a-1807-5bbd-86a1-f5cd4d4cf13b";
    let refused = client
        .conversations()
        .messages()
        .send(off, chat("Hello?"))
        .stream()
        .await;
    let Err(e) = refused else {
        return Err("expected the stream to be refused".into());
    };
    println!("   {e}");
    check(e.kind() == ErrorKind::Unavailable, "Unavailable")?;
    let events: Vec<ChatEvent> = client
        .conversations()
        .messages()
        .send(off, chat("Hello again?"))
        .fallback_to_polling(true)
        .stream()
        .await
        .map_err(|e| e.to_string())?
        .try_collect()
        .await
        .map_err(|e| e.to_string())?;
    check(
        events.len() == 1 && events[0].as_chat_response().is_some(),
        "the polled reply as the final event",
    )?;
    Ok(())
}

async fn wisebot() -> Outcome {
    use agentwire::wisebot::{ChatStreamEvent, Client, PLATFORM, types};

    let mock = MockServer::start(&PLATFORM)
        .await
        .map_err(|e| e.to_string())?;
    println!("\nWisebot mock listening at {}", mock.platform_url());
    // Both contexts: the dashboard (a wb_live_ key) and the workflow webhook (its secret).
    let client = mock
        .client_builder::<Client>()
        .api_key("wb_live_test")
        .workflow_secret("wf_secret_test")
        .build()
        .map_err(|e| e.to_string())?;

    step(
        "12. stream a visitor chat: raw deltas as they come (their type is undocumented), the answer at [DONE]",
    );
    let mut stream = client
        .chat()
        .stream(
            types::ChatStreamRequest::builder()
                .prompt("What is your refund policy?")
                .thread_id("th_9c8a2e10")
                .contact_session_id("cs_5b0e9a61"),
        )
        .await
        .map_err(|e| e.to_string())?;
    let mut answer = None;
    while let Some(event) = stream.try_next().await.map_err(|e| e.to_string())? {
        match event {
            ChatStreamEvent::Finish(finish) => answer = finish.full_text.clone(),
            // Wisebot does not document its delta events: they come raw, as sent.
            ChatStreamEvent::Other(raw) => println!("   raw event: {}", raw.data),
            other => println!("   {other:?}"),
        }
    }
    let answer = answer.ok_or("the finish event")?;
    println!("   answer: {answer}");

    step("13. the limit of the activity log is checked before any request (1..50)");
    let refused = client.activity().list().limit(500).await.err();
    let refused = refused.ok_or("a refusal")?;
    println!("   {refused}");
    check(
        refused.kind() == ErrorKind::InvalidInput && mock.received("activity.list").is_empty(),
        "nothing sent",
    )?;

    step("14. trigger a workflow through its webhook (its own origin and secret; a text answer)");
    let mut inputs = serde_json::Map::new();
    inputs.insert("message".into(), "from the tour".into());
    let text = client
        .workflows()
        .trigger("wf_welcome", inputs)
        .await
        .map_err(|e| e.to_string())?;
    println!("   {text}");
    let sent = &mock.received("workflows.trigger")[0];
    check(
        sent.header("authorization") == Some("Bearer wf_secret_test"),
        "the workflow secret on the webhook",
    )?;
    Ok(())
}

async fn sketricgen() -> Outcome {
    use agentwire::Upload;
    use agentwire::sketricgen::{Client, PLATFORM, types};

    let mock = MockServer::start(&PLATFORM)
        .await
        .map_err(|e| e.to_string())?;
    println!("\nSketricGen mock listening at {}", mock.platform_url());
    // One key, three hosts, three headers (API-KEY, X-API-KEY, Bearer), and the presigned POST.
    let client = mock
        .client_builder::<Client>()
        .api_key("sk_test")
        .build()
        .map_err(|e| e.to_string())?;

    step("15. upload a PDF (init, the presigned POST without credentials, complete)");
    let file = client
        .assets()
        .upload_file(
            "agent-1",
            Upload::bytes("report.pdf", "%PDF-1.7 quarterly report"),
        )
        .await
        .map_err(|e| e.to_string())?;
    println!("   stored {} as {}", file.file_name, file.file_id);

    step("16. run the agent with the PDF attached, streamed: AG-UI events to RUN_FINISHED");
    let request = types::RunWorkflowRequest::builder()
        .agent_id("agent-123")
        .user_input(Some("Help me analyze this data".to_owned()))
        .assets(Some(vec![file.file_id.clone()]));
    let answer = client
        .workflows()
        .run(request)
        .stream()
        .await
        .map_err(|e| e.to_string())?
        .answer()
        .await
        .map_err(|e| e.to_string())?;
    println!("   answer: {}", answer.text);
    check(!answer.text.is_empty(), "the streamed text")?;

    step("17. page through the admin API's agents (a next_token cursor)");
    let agents: Vec<types::AgentSummary> = client
        .agents()
        .list()
        .paginate()
        .items()
        .try_collect()
        .await
        .map_err(|e| e.to_string())?;
    println!("   {} agent(s)", agents.len());
    Ok(())
}

async fn linktor() -> Outcome {
    use agentwire::linktor::realtime::{Event, RealtimeClient};
    use agentwire::linktor::{Client, CompletionEvent, PLATFORM, types, webhook};
    use futures_util::StreamExt;

    let mock = MockServer::start(&PLATFORM)
        .await
        .map_err(|e| e.to_string())?;
    println!("\nLinktor mock listening at {}", mock.platform_url());
    let fail = |e: agentwire::Error| e.to_string();

    step("18. log in, then send a message as that user (Bearer; refreshed on a 401)");
    let anonymous = mock.client_builder::<Client>().build().map_err(fail)?;
    let session = anonymous
        .login("ana.souza@acme.com.br", "correct horse battery")
        .await
        .map_err(fail)?;
    let sent = session
        .conversations()
        .send_text("conv_1", "Olá! Seu pedido saiu para entrega.")
        .await
        .map_err(fail)?;
    println!("   message {} is {:?}", sent.id, sent.status);
    let bearer = mock.received("conversations.messages.create")[0]
        .header("authorization")
        .is_some_and(|v| v.starts_with("Bearer "));
    check(bearer, "the access token as the bearer token")?;

    step("19. stream a completion: typed deltas until data: [DONE]");
    let ask = types::CompletionRequest::builder().messages(vec![types::ChatMessage {
        role: types::ChatRole::User,
        content: "What is the capital of France?".to_owned(),
        name: None,
        tool_call_id: None,
        tool_calls: Vec::new(),
    }]);
    let mut events = session
        .ai()
        .completions()
        .create(ask)
        .stream()
        .await
        .map_err(fail)?;
    print!("   ");
    let mut text = String::new();
    while let Some(event) = events.try_next().await.map_err(fail)? {
        if let CompletionEvent::Message(chunk) = event {
            let delta = chunk.delta.content.unwrap_or_default();
            print!("{delta}");
            text.push_str(&delta);
        }
    }
    println!();
    check(
        text == "The capital of France is Paris.",
        "the whole answer",
    )?;

    step("20. verify a signed webhook delivery; a tampered body is refused");
    let secret = "whsec_tour";
    let body = br#"{"id":"evt_1","type":"message.received","timestamp":"2025-03-04T10:15:00Z","tenantId":"tnt_acme","data":{"conversationId":"conv_1"}}"#;
    let (signature, timestamp) = webhook::sign_payload(secret, body, std::time::SystemTime::now());
    let event = webhook::construct_event(body, Some(&signature), Some(&timestamp), &[secret])
        .map_err(|e| e.to_string())?;
    println!("   verified {} ({})", event.id, event.kind);
    let mut tampered = body.to_vec();
    tampered[10] = b'2';
    let refused =
        webhook::construct_event(&tampered, Some(&signature), Some(&timestamp), &[secret]);
    println!(
        "   tampered: {}",
        refused
            .as_ref()
            .map_or_else(ToString::to_string, |_| "accepted".into())
    );
    check(refused.is_err(), "the tampered delivery refused")?;

    step("21. receive a real-time event: the message just sent over REST, on the mock's WebSocket");
    let url = mock
        .realtime_url()
        .ok_or("the Linktor mock serves its WebSocket")?;
    let (realtime, mut incoming) = RealtimeClient::builder()
        .url(url)
        .api_key("lk_test")
        .connect()
        .await
        .map_err(fail)?;
    realtime.subscribe("conv_1").await.map_err(fail)?;
    // subscribe() returns once its frame is queued: wait until the mock has it (10 s at most).
    if !mock
        .until_subscribed("conv_1", Duration::from_secs(10))
        .await
    {
        return Err("the subscription never reached the mock".into());
    }
    session
        .conversations()
        .send_text("conv_1", "Chegou hoje, obrigada!")
        .await
        .map_err(fail)?;
    let next = tokio::time::timeout(Duration::from_secs(10), incoming.next()).await;
    let Ok(Some(Ok(Event::Message(message)))) = next else {
        return Err(format!("expected a message event, got {next:?}"));
    };
    let id = message
        .message
        .as_ref()
        .and_then(|m| m.id.clone())
        .unwrap_or_default();
    println!(
        "   {}: message {id}",
        message.conversation_id.unwrap_or_default()
    );
    realtime.close().await;
    Ok(())
}

fn step(title: &str) {
    println!("\n{title}");
}
