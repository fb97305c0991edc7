//! Every BimpeAI operation, driven by its fixtures.
//!
//! For each success fixture of `fixtures/bimpeai/` (the resumable message stream aside: it has its
//! own suite), one table entry calls the public typed API with the fixture's arguments — path
//! parameters from its path, query parameters from its `query`, the body deserialized from its
//! `body` into the operation's body type — against the mock. Then it checks what the server saw
//! (one request, its method, path, query, body and headers) and what the caller got (the result
//! re-serialized, compared with the fixture's `data` and `meta`).
//!
//! `calls.list_team` answers 501 today: its error fixture expects `ErrorKind::NotImplemented`, and
//! its declared-shape fixture (named `page=1`) is checked like any other page.
//!
//! The table reports every failing entry at once, and fails when an operation of the spec has no
//! entry, so a new operation cannot go untested.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use agentwire::bimpeai::{Client, PLATFORM, types};
use agentwire::mock::{Fixture, FixtureResponse, MockServer, Received};
use agentwire::{ErrorKind, Operation, Page, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

/// Covered by its own suite (a resumable stream: tests/stream_resume.rs).
const STREAM: &str = "conversations.messages.stream";

// ------------------------------------------------------------------------------------ fixtures

/// Every fixture file of `fixtures/bimpeai`, in file-name order.
fn load_fixtures() -> Vec<Fixture> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/bimpeai");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|p| p.extension().is_some_and(|ext| ext == "json"))
        .collect();
    files.sort();
    files
        .iter()
        .map(|path| {
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .expect("a UTF-8 file name");
            let text =
                std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {name}: {e}"));
            Fixture::parse(name, &text).unwrap_or_else(|e| panic!("bad fixture: {e}"))
        })
        .collect()
}

/// The fixture's arguments, read the way a caller would write them.
struct Args<'a> {
    fixture: &'a Fixture,
    params: BTreeMap<String, String>,
}

impl<'a> Args<'a> {
    fn new(fixture: &'a Fixture, op: &Operation) -> Result<Self, String> {
        let params = path_params(op.path, &fixture.request.path).ok_or_else(|| {
            format!(
                "the fixture's path {} does not fit the template {} of {}",
                fixture.request.path, op.path, op.id
            )
        })?;
        Ok(Args { fixture, params })
    }

    /// A path parameter.
    fn path(&self, name: &str) -> Result<String, String> {
        self.params
            .get(name)
            .cloned()
            .ok_or_else(|| format!("the path has no parameter `{name}`"))
    }

    /// A query parameter, as on the wire.
    fn query(&self, name: &str) -> Option<String> {
        self.fixture.request.query.get(name).cloned()
    }

    fn query_i64(&self, name: &str) -> Result<Option<i64>, String> {
        self.query(name)
            .map(|v| v.parse().map_err(|e| format!("query `{name}`={v}: {e}")))
            .transpose()
    }

    fn query_bool(&self, name: &str) -> Result<Option<bool>, String> {
        self.query(name)
            .map(|v| v.parse().map_err(|e| format!("query `{name}`={v}: {e}")))
            .transpose()
    }

    /// The fixture's body as the operation's typed body.
    fn body<T: DeserializeOwned>(&self) -> Result<T, String> {
        let body = self
            .fixture
            .request
            .body
            .clone()
            .ok_or("the fixture has no request body")?;
        serde_json::from_value(body).map_err(|e| {
            format!(
                "the fixture's body does not decode as {}: {e}",
                std::any::type_name::<T>()
            )
        })
    }
}

/// The parameters of `path` named by `template` (`/agents/{agent_id}` over `/agents/a_1`).
fn path_params(template: &str, path: &str) -> Option<BTreeMap<String, String>> {
    let t: Vec<&str> = template.trim_matches('/').split('/').collect();
    let p: Vec<&str> = path.trim_matches('/').split('/').collect();
    if t.len() != p.len() {
        return None;
    }
    let mut params = BTreeMap::new();
    for (ts, ps) in t.iter().zip(&p) {
        match ts.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            Some(name) => {
                params.insert(name.to_owned(), (*ps).to_owned());
            }
            None if ts == ps => {}
            None => return None,
        }
    }
    Some(params)
}

// ----------------------------------------------------------------------------------- results

/// What a call returned, re-serialized.
enum Got {
    Single {
        status: u16,
        request_id: Option<String>,
        data: Value,
    },
    Page {
        status: u16,
        request_id: Option<String>,
        items: Value,
        meta: Value,
    },
    Failed(agentwire::Error),
}

fn to_json<T: Serialize>(value: &T) -> Result<Value, String> {
    serde_json::to_value(value).map_err(|e| format!("the result does not serialize: {e}"))
}

fn one<T: Serialize>(result: agentwire::Result<Response<T>>) -> Result<Got, String> {
    Ok(match result {
        Ok(r) => Got::Single {
            status: r.status().as_u16(),
            request_id: r.request_id().map(str::to_owned),
            data: to_json(r.value())?,
        },
        Err(e) => Got::Failed(e),
    })
}

fn page<T: Serialize, M: Serialize>(result: agentwire::Result<Page<T, M>>) -> Result<Got, String> {
    Ok(match result {
        Ok(p) => Got::Page {
            status: p.status().as_u16(),
            request_id: p.request_id().map(str::to_owned),
            items: to_json(&p.items())?,
            meta: to_json(&p.meta())?,
        },
        Err(e) => Got::Failed(e),
    })
}

// ------------------------------------------------------------------------------------- table

/// Applies the shared list parameters (`page`, `limit`, `search`, `sort`) the fixture names.
macro_rules! paged {
    ($builder:expr, $args:expr) => {{
        let mut b = $builder;
        if let Some(v) = $args.query_i64("page")? {
            b = b.page(v);
        }
        if let Some(v) = $args.query_i64("limit")? {
            b = b.limit(v);
        }
        if let Some(v) = $args.query("search") {
            b = b.search(v);
        }
        if let Some(v) = $args.query("sort") {
            b = b.sort(v);
        }
        b
    }};
}

/// The table: one entry per fixture file, calling the typed API with the fixture's arguments.
/// Returns the operation the entry exercises and what the call returned.
async fn call(client: &Client, file: &str, a: &Args<'_>) -> Result<(&'static str, Got), String> {
    let agents = client.agents();
    let integrations = agents.integrations();
    Ok(match file {
        // ---------------------------------------------------------------- agents
        "agents.list.json" | "agents.list.page2.json" | "agents.list.page3.json" => {
            ("agents.list", page(paged!(agents.list(), a).send().await)?)
        }
        "agents.create.json" => (
            "agents.create",
            one(agents
                .create(a.body::<types::AgentCreate>()?)
                .send_with_response()
                .await)?,
        ),
        "agents.retrieve.json" => (
            "agents.retrieve",
            one(agents
                .retrieve(a.path("agent_id")?)
                .send_with_response()
                .await)?,
        ),
        "agents.update.json" => (
            "agents.update",
            one(agents
                .update(a.path("agent_id")?, a.body::<types::AgentUpdate>()?)
                .send_with_response()
                .await)?,
        ),
        "agents.delete.json" => (
            "agents.delete",
            one(agents
                .delete(a.path("agent_id")?)
                .send_with_response()
                .await)?,
        ),
        "agents.retrieve_test_code.json" => (
            "agents.retrieve_test_code",
            one(agents
                .retrieve_test_code(a.path("agent_id")?)
                .send_with_response()
                .await)?,
        ),
        "agents.update_live_status.json" => (
            "agents.update_live_status",
            one(agents
                .update_live_status(a.path("agent_id")?, a.body::<types::LiveStatusUpdate>()?)
                .send_with_response()
                .await)?,
        ),
        "agents.actions.list.json" => (
            "agents.actions.list",
            one(agents
                .actions()
                .list(a.path("agent_id")?)
                .send_with_response()
                .await)?,
        ),
        "agents.actions.enable.json" => (
            "agents.actions.enable",
            one(agents
                .actions()
                .enable(a.path("agent_id")?, a.body::<types::ActionIds>()?)
                .send_with_response()
                .await)?,
        ),
        "agents.actions.disable.json" => (
            "agents.actions.disable",
            one(agents
                .actions()
                .disable(a.path("agent_id")?, a.body::<types::ActionIds>()?)
                .send_with_response()
                .await)?,
        ),
        "agents.channels.list.json" => (
            "agents.channels.list",
            one(agents
                .channels()
                .list(a.path("agent_id")?)
                .send_with_response()
                .await)?,
        ),
        "agents.knowledge_bases.list.json" => (
            "agents.knowledge_bases.list",
            one(agents
                .knowledge_bases()
                .list(a.path("agent_id")?)
                .send_with_response()
                .await)?,
        ),
        "agents.knowledge_bases.create.json" | "agents.knowledge_bases.create.url.json" => (
            "agents.knowledge_bases.create",
            one(agents
                .knowledge_bases()
                .create(a.path("agent_id")?, a.body::<types::KnowledgeBaseCreate>()?)
                .send_with_response()
                .await)?,
        ),
        "agents.knowledge_bases.update.json" => (
            "agents.knowledge_bases.update",
            one(agents
                .knowledge_bases()
                .update(
                    a.path("agent_id")?,
                    a.path("kb_id")?,
                    a.body::<types::KnowledgeBaseUpdate>()?,
                )
                .send_with_response()
                .await)?,
        ),
        "agents.knowledge_bases.delete.json" => (
            "agents.knowledge_bases.delete",
            one(agents
                .knowledge_bases()
                .delete(a.path("agent_id")?, a.path("kb_id")?)
                .send_with_response()
                .await)?,
        ),

        // ---------------------------------------------------------- integrations
        "agents.integrations.list.json" => (
            "agents.integrations.list",
            one(integrations
                .list(a.path("agent_id")?)
                .send_with_response()
                .await)?,
        ),
        "agents.integrations.bimpeai.list.json" => (
            "agents.integrations.bimpeai.list",
            one(integrations
                .bimpeai()
                .list(a.path("agent_id")?)
                .send_with_response()
                .await)?,
        ),
        "agents.integrations.bimpeai.configure.json" => (
            "agents.integrations.bimpeai.configure",
            one(integrations
                .bimpeai()
                .configure(a.path("agent_id")?, a.body::<types::BimpeaiConfigure>()?)
                .send_with_response()
                .await)?,
        ),
        "agents.integrations.bimpeai.disconnect.json" => (
            "agents.integrations.bimpeai.disconnect",
            one(integrations
                .bimpeai()
                .disconnect(a.path("agent_id")?, a.path("integration_id")?)
                .send_with_response()
                .await)?,
        ),
        "agents.integrations.custom_api.list.json" => (
            "agents.integrations.custom_api.list",
            one(integrations
                .custom_api()
                .list(a.path("agent_id")?)
                .send_with_response()
                .await)?,
        ),
        "agents.integrations.custom_api.configure.json" => (
            "agents.integrations.custom_api.configure",
            one(integrations
                .custom_api()
                .configure(a.path("agent_id")?, a.body::<types::CustomApiConfigure>()?)
                .send_with_response()
                .await)?,
        ),
        "agents.integrations.custom_api.disconnect.json" => (
            "agents.integrations.custom_api.disconnect",
            one(integrations
                .custom_api()
                .disconnect(a.path("agent_id")?, a.path("integration_id")?)
                .send_with_response()
                .await)?,
        ),
        "agents.integrations.custom_api.tools.list.json" => (
            "agents.integrations.custom_api.tools.list",
            one(integrations
                .custom_api()
                .tools()
                .list(a.path("agent_id")?, a.path("integration_id")?)
                .send_with_response()
                .await)?,
        ),
        "agents.integrations.custom_api.tools.add.json" => (
            "agents.integrations.custom_api.tools.add",
            one(integrations
                .custom_api()
                .tools()
                .add(
                    a.path("agent_id")?,
                    a.path("integration_id")?,
                    a.body::<types::CustomApiToolCreate>()?,
                )
                .send_with_response()
                .await)?,
        ),
        "agents.integrations.custom_api.tools.delete.json" => (
            "agents.integrations.custom_api.tools.delete",
            one(integrations
                .custom_api()
                .tools()
                .delete(
                    a.path("agent_id")?,
                    a.path("integration_id")?,
                    a.path("tool_id")?,
                )
                .send_with_response()
                .await)?,
        ),
        "agents.integrations.mcp_server.list.json" => (
            "agents.integrations.mcp_server.list",
            one(integrations
                .mcp_server()
                .list(a.path("agent_id")?)
                .send_with_response()
                .await)?,
        ),
        "agents.integrations.mcp_server.configure.json" => (
            "agents.integrations.mcp_server.configure",
            one(integrations
                .mcp_server()
                .configure(a.path("agent_id")?, a.body::<types::McpServerConfigure>()?)
                .send_with_response()
                .await)?,
        ),
        "agents.integrations.mcp_server.disconnect.json" => (
            "agents.integrations.mcp_server.disconnect",
            one(integrations
                .mcp_server()
                .disconnect(a.path("agent_id")?, a.path("integration_id")?)
                .send_with_response()
                .await)?,
        ),
        "agents.integrations.mcp_server.discover.json" => (
            "agents.integrations.mcp_server.discover",
            one(integrations
                .mcp_server()
                .discover(a.path("agent_id")?, a.path("integration_id")?)
                .send_with_response()
                .await)?,
        ),
        "agents.integrations.mcp_server.test.json" => (
            "agents.integrations.mcp_server.test",
            one(integrations
                .mcp_server()
                .test(a.path("agent_id")?, a.path("integration_id")?)
                .send_with_response()
                .await)?,
        ),
        "agents.integrations.mcp_server.tools.list.json" => (
            "agents.integrations.mcp_server.tools.list",
            one(integrations
                .mcp_server()
                .tools()
                .list(a.path("agent_id")?, a.path("integration_id")?)
                .send_with_response()
                .await)?,
        ),
        "agents.integrations.pipedream.list.json" => (
            "agents.integrations.pipedream.list",
            one(integrations
                .pipedream()
                .list(a.path("agent_id")?)
                .send_with_response()
                .await)?,
        ),
        "agents.integrations.pipedream.configure.json" => (
            "agents.integrations.pipedream.configure",
            one(integrations
                .pipedream()
                .configure(a.path("agent_id")?, a.body::<types::PipedreamConfigure>()?)
                .send_with_response()
                .await)?,
        ),
        "agents.integrations.pipedream.disconnect.json" => (
            "agents.integrations.pipedream.disconnect",
            one(integrations
                .pipedream()
                .disconnect(a.path("agent_id")?, a.path("integration_id")?)
                .send_with_response()
                .await)?,
        ),

        // --------------------------------------------------------- conversations
        "conversations.list.json" | "conversations.list.filtered.json" => {
            let mut b = paged!(client.conversations().list(a.path("agent_id")?), a);
            if let Some(v) = a.query("channel") {
                b = b.channel(types::ConversationChannel::from(v));
            }
            if let Some(v) = a.query_bool("is_test_channel")? {
                b = b.is_test_channel(v);
            }
            if let Some(v) = a.query_bool("is_ai_chat_paused")? {
                b = b.is_ai_chat_paused(v);
            }
            if let Some(v) = a.query_bool("needs_attention")? {
                b = b.needs_attention(v);
            }
            ("conversations.list", page(b.send().await)?)
        }
        "conversations.send.json" => (
            "conversations.send",
            one(client
                .conversations()
                .send(a.path("agent_id")?, a.body::<types::ConversationSend>()?)
                .send_with_response()
                .await)?,
        ),
        "conversations.retrieve.json" => (
            "conversations.retrieve",
            one(client
                .conversations()
                .retrieve(a.path("agent_id")?, a.path("conversation_id")?)
                .send_with_response()
                .await)?,
        ),
        "conversations.set_ai_status.json" => (
            "conversations.set_ai_status",
            one(client
                .conversations()
                .set_ai_status(
                    a.path("agent_id")?,
                    a.path("conversation_id")?,
                    a.body::<types::AiStatusUpdate>()?,
                )
                .send_with_response()
                .await)?,
        ),
        "conversations.messages.list.json" => (
            "conversations.messages.list",
            page(
                paged!(
                    client
                        .conversations()
                        .messages()
                        .list(a.path("agent_id")?, a.path("conversation_id")?),
                    a
                )
                .send()
                .await,
            )?,
        ),
        "conversations.messages.send.json" => (
            "conversations.messages.send",
            one(client
                .conversations()
                .messages()
                .send(
                    a.path("agent_id")?,
                    a.path("conversation_id")?,
                    a.body::<types::MessageSend>()?,
                )
                .send_with_response()
                .await)?,
        ),
        "conversations.messages.retrieve.json" => (
            "conversations.messages.retrieve",
            one(client
                .conversations()
                .messages()
                .retrieve(
                    a.path("agent_id")?,
                    a.path("conversation_id")?,
                    a.path("message_id")?,
                )
                .send_with_response()
                .await)?,
        ),
        "conversations.messages.stream_ticket.json" => (
            "conversations.messages.stream_ticket",
            one(client
                .conversations()
                .messages()
                .stream_ticket(a.path("agent_id")?, a.path("conversation_id")?)
                .send_with_response()
                .await)?,
        ),

        // ----------------------------------------------------------------- calls
        "calls.list.json" => {
            let mut b = paged!(client.calls().list(a.path("agent_id")?), a);
            if let Some(v) = a.query_bool("is_test_call")? {
                b = b.is_test_call(v);
            }
            if let Some(v) = a.query("status") {
                b = b.status(types::CallStatus::from(v));
            }
            ("calls.list", page(b.send().await)?)
        }
        "calls.make.json" | "calls.make.busy.json" => (
            "calls.make",
            one(client
                .calls()
                .make(a.path("agent_id")?, a.body::<types::CallCreate>()?)
                .send_with_response()
                .await)?,
        ),
        "calls.retrieve.json" => (
            "calls.retrieve",
            one(client
                .calls()
                .retrieve(a.path("agent_id")?, a.path("call_id")?)
                .send_with_response()
                .await)?,
        ),
        "calls.list_team.json" | "calls.list_team.not_implemented.json" => {
            let mut b = client.calls().list_team();
            if let Some(v) = a.query_i64("page")? {
                b = b.page(v);
            }
            if let Some(v) = a.query_i64("limit")? {
                b = b.limit(v);
            }
            ("calls.list_team", page(b.send().await)?)
        }

        // ------------------------------------------------------------- workflows
        "workflows.list.json" => {
            let mut b = paged!(client.workflows().list(), a);
            if let Some(v) = a.query("scope") {
                b = b.scope(types::WorkflowScope::from(v));
            }
            ("workflows.list", page(b.send().await)?)
        }
        "workflows.create.json" => (
            "workflows.create",
            one(client
                .workflows()
                .create(a.body::<types::WorkflowCreate>()?)
                .send_with_response()
                .await)?,
        ),
        "workflows.clone.json" => (
            "workflows.clone",
            one(client
                .workflows()
                .clone(a.body::<types::WorkflowClone>()?)
                .send_with_response()
                .await)?,
        ),
        "workflows.retrieve.json" | "workflows.retrieve.placeholders.json" => (
            "workflows.retrieve",
            one(client
                .workflows()
                .retrieve(a.path("workflow_id")?)
                .send_with_response()
                .await)?,
        ),
        "workflows.update.json" => (
            "workflows.update",
            one(client
                .workflows()
                .update(a.path("workflow_id")?, a.body::<types::WorkflowUpdate>()?)
                .send_with_response()
                .await)?,
        ),
        "workflows.delete.json" => (
            "workflows.delete",
            one(client
                .workflows()
                .delete(a.path("workflow_id")?)
                .send_with_response()
                .await)?,
        ),

        // --------------------------------------------------------- phone numbers
        "phone_numbers.list.json" => (
            "phone_numbers.list",
            page(paged!(client.phone_numbers().list(), a).send().await)?,
        ),
        "phone_numbers.retrieve.json" => (
            "phone_numbers.retrieve",
            one(client
                .phone_numbers()
                .retrieve(a.path("phone_number_id")?)
                .send_with_response()
                .await)?,
        ),
        "phone_numbers.update.json" => (
            "phone_numbers.update",
            one(client
                .phone_numbers()
                .update(
                    a.path("phone_number_id")?,
                    a.body::<types::PhoneNumberUpdate>()?,
                )
                .send_with_response()
                .await)?,
        ),
        "phone_numbers.requests.list.json" => (
            "phone_numbers.requests.list",
            page(
                paged!(client.phone_numbers().requests().list(), a)
                    .send()
                    .await,
            )?,
        ),
        "phone_numbers.requests.create.json" => (
            "phone_numbers.requests.create",
            one(client
                .phone_numbers()
                .requests()
                .create(a.body::<types::PhoneNumberRequestCreate>()?)
                .send_with_response()
                .await)?,
        ),

        _ => return Err("no table entry for this fixture: add one to `call`".to_owned()),
    })
}

// ---------------------------------------------------------------------------------- checking

/// The error kind a failure fixture's status must be classified as.
fn expected_error_kind(status: u16) -> Option<ErrorKind> {
    match status {
        501 => Some(ErrorKind::NotImplemented),
        _ => None,
    }
}

/// Runs one entry and checks it. Returns the operation the entry exercised (when it has one) and
/// every problem found.
async fn check_entry(
    client: &Client,
    mock: &MockServer,
    f: &Fixture,
) -> (Option<&'static str>, Vec<String>) {
    let mut problems = Vec::new();
    let Some(op) = PLATFORM.operation(&f.operation) else {
        return (
            None,
            vec![format!("operation `{}` is not in the spec", f.operation)],
        );
    };
    let answers = f.answers();
    let [answer] = answers.as_slice() else {
        return (
            None,
            vec!["a sequence fixture: this table expects one answer".to_owned()],
        );
    };
    let args = match Args::new(f, op) {
        Ok(args) => args,
        Err(e) => return (None, vec![e]),
    };

    mock.reset();
    let (exercised, got) = match call(client, &f.file, &args).await {
        Ok(out) => out,
        Err(e) => return (None, vec![e]),
    };
    if exercised != f.operation {
        problems.push(format!(
            "the entry calls `{exercised}`, the fixture is for `{}`",
            f.operation
        ));
    }

    check_request(mock, f, op, &mut problems);
    check_result(f, answer, got, &mut problems);
    (Some(exercised), problems)
}

/// What the server saw: one request, the fixture's method, path, query, body and headers, plus
/// the credentials, idempotency key and request id the runtime adds.
fn check_request(mock: &MockServer, f: &Fixture, op: &Operation, problems: &mut Vec<String>) {
    let journal = mock.journal();
    let routed = mock.received(&f.operation);
    if journal.len() != 1 || routed.len() != 1 {
        let seen: Vec<String> = journal
            .iter()
            .map(|r| format!("{} {} -> {:?}", r.method, r.path, r.operation))
            .collect();
        problems.push(format!(
            "expected exactly one request, routed to {}; the mock saw {seen:?}",
            f.operation
        ));
    }
    let Some(r) = routed.first() else { return };
    let want = &f.request;

    if r.method != want.method {
        problems.push(format!(
            "method: expected {}, sent {}",
            want.method, r.method
        ));
    }
    if r.path != want.path {
        problems.push(format!("path: expected {}, sent {}", want.path, r.path));
    }
    let query = r.query_map();
    if query != want.query || r.query.len() != query.len() {
        problems.push(format!(
            "query: expected {:?}, sent {:?}",
            want.query, r.query
        ));
    }
    check_body(r, want.body.as_ref(), problems);
    check_headers(r, f, op, problems);
}

fn check_body(r: &Received, want: Option<&Value>, problems: &mut Vec<String>) {
    match want {
        None | Some(Value::Null) => {
            if !r.body.is_empty() {
                problems.push(format!(
                    "body: the fixture has none, sent {:?}",
                    String::from_utf8_lossy(&r.body)
                ));
            }
            if let Some(ct) = r.header("content-type") {
                problems.push(format!("content-type {ct:?} sent without a body"));
            }
        }
        Some(want) => {
            match r.json() {
                Some(sent) => {
                    if let Some(diff) = json_difference(want, &sent, "$body", Mode::Exact) {
                        problems.push(format!("request body differs from the fixture's: {diff}"));
                    }
                }
                None => problems.push(format!(
                    "body: expected JSON {want}, sent {:?}",
                    String::from_utf8_lossy(&r.body)
                )),
            }
            if !r
                .header("content-type")
                .is_some_and(|ct| ct.starts_with("application/json"))
            {
                problems.push(format!(
                    "content-type: expected application/json with a JSON body, sent {:?}",
                    r.header("content-type")
                ));
            }
        }
    }
}

fn check_headers(r: &Received, f: &Fixture, op: &Operation, problems: &mut Vec<String>) {
    // The headers the fixture names (its credentials among them).
    for (name, value) in &f.request.headers {
        if r.header(name) != Some(value.as_str()) {
            problems.push(format!(
                "header {name}: expected {value:?}, sent {:?}",
                r.header(name)
            ));
        }
    }
    // Credentials, from the operation table: authenticated operations carry the key.
    let authorization = r.header("authorization");
    if op.auth.is_empty() {
        if authorization.is_some() {
            problems.push("authorization sent on a public operation".to_owned());
        }
    } else if authorization != Some("Bearer sk_test") {
        problems.push(format!(
            "authorization: expected \"Bearer sk_test\", sent {authorization:?}"
        ));
    }
    // One idempotency key per write call, none on reads.
    let key = r.header("idempotency-key");
    match r.method.as_str() {
        "POST" | "PUT" | "PATCH" | "DELETE" => {
            if key.map(str::len) != Some(36) {
                problems.push(format!(
                    "idempotency-key: expected a 36-character key on a write, sent {key:?}"
                ));
            }
        }
        _ => {
            if key.is_some() {
                problems.push(format!("idempotency-key sent on a {}: {key:?}", r.method));
            }
        }
    }
    // One request id per call.
    let id = r.header("x-request-id");
    if id.map(str::len) != Some(36) {
        problems.push(format!(
            "x-request-id: expected a 36-character id, sent {id:?}"
        ));
    }
}

/// What the caller got: the fixture's status and request id, and its `data` (and `meta`) decoded
/// and re-serialized.
fn check_result(f: &Fixture, answer: &FixtureResponse, got: Got, problems: &mut Vec<String>) {
    let want_request_id = answer.headers.get("x-request-id").map(String::as_str);
    let body = answer.body.clone().unwrap_or(Value::Null);

    if answer.status >= 400 {
        let Got::Failed(err) = got else {
            problems.push(format!(
                "expected a {} error, the call succeeded",
                answer.status
            ));
            return;
        };
        match expected_error_kind(answer.status) {
            Some(kind) if err.kind() == kind => {}
            Some(kind) => problems.push(format!(
                "error kind: expected {kind:?}, got {:?} ({err})",
                err.kind()
            )),
            None => problems.push(format!(
                "no expected error kind for status {}",
                answer.status
            )),
        }
        if err.status().map(|s| s.as_u16()) != Some(answer.status) {
            problems.push(format!(
                "error status: expected {}, got {:?}",
                answer.status,
                err.status()
            ));
        }
        if err.operation() != Some(f.operation.as_str()) {
            problems.push(format!(
                "error operation: expected {}, got {:?}",
                f.operation,
                err.operation()
            ));
        }
        if err.request_id() != want_request_id {
            problems.push(format!(
                "error request id: expected {want_request_id:?}, got {:?}",
                err.request_id()
            ));
        }
        let want_code = body.get("code").and_then(Value::as_str);
        if err.code() != want_code {
            problems.push(format!(
                "error code: expected {want_code:?}, got {:?}",
                err.code()
            ));
        }
        return;
    }

    let (status, request_id, actual, expected) = match got {
        Got::Failed(err) => {
            problems.push(format!("the call failed: {err} ({:?})", err.kind()));
            return;
        }
        Got::Single {
            status,
            request_id,
            data,
        } => {
            let expected = envelope_members(&f.operation, &body, &["data"]);
            (status, request_id, json!({ "data": data }), expected)
        }
        Got::Page {
            status,
            request_id,
            items,
            meta,
        } => {
            let expected = envelope_members(&f.operation, &body, &["data", "meta"]);
            (
                status,
                request_id,
                json!({ "data": items, "meta": meta }),
                expected,
            )
        }
    };
    if status != answer.status {
        problems.push(format!("status: expected {}, got {status}", answer.status));
    }
    if request_id.as_deref() != want_request_id {
        problems.push(format!(
            "request id: expected {want_request_id:?}, got {request_id:?}"
        ));
    }
    if let Err(diff) = assert_json_equivalent(&expected, &actual, "$") {
        problems.push(format!("result differs from the fixture's: {diff}"));
    }
}

/// The envelope members a result is compared with; null members are left out (the envelope
/// says a null or absent `data` is an empty result).
fn envelope_members(operation: &str, body: &Value, members: &[&str]) -> Value {
    let mut expected = serde_json::Map::new();
    for member in members {
        if let Some(v) = body.get(member).filter(|v| !v.is_null()) {
            expected.insert((*member).to_owned(), v.clone());
        }
    }
    // Workflows' loose lists drop the server's non-object placeholders (`[]`) on decode.
    if operation.starts_with("workflows.") {
        match expected.get_mut("data") {
            Some(Value::Array(items)) => items.iter_mut().for_each(drop_loose_placeholders),
            Some(workflow) => drop_loose_placeholders(workflow),
            None => {}
        }
    }
    Value::Object(expected)
}

/// Removes the non-object entries of a workflow's `x-agentwire-loose` lists.
fn drop_loose_placeholders(workflow: &mut Value) {
    for list in ["rules", "flows", "faq"] {
        if let Some(Value::Array(entries)) = workflow.get_mut(list) {
            entries.retain(Value::is_object);
        }
    }
}

// ------------------------------------------------------------------------------- JSON compare

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    /// Results: a null or absent member, or an absent list and `[]`, are the same.
    Equivalent,
    /// Request bodies: exactly equal (null and absent mean different things in a PATCH).
    Exact,
}

/// Whether `expected` and `actual` are equivalent results; the error names the JSON path of the
/// first difference.
fn assert_json_equivalent(expected: &Value, actual: &Value, path: &str) -> Result<(), String> {
    match json_difference(expected, actual, path, Mode::Equivalent) {
        None => Ok(()),
        Some(diff) => Err(diff),
    }
}

/// The first difference between `expected` and `actual`, with its JSON path.
fn json_difference(expected: &Value, actual: &Value, path: &str, mode: Mode) -> Option<String> {
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => {
            let keys: BTreeSet<&String> = e.keys().chain(a.keys()).collect();
            keys.into_iter().find_map(|key| {
                let at = format!("{path}.{key}");
                match (e.get(key), a.get(key)) {
                    (Some(ev), Some(av)) => json_difference(ev, av, &at, mode),
                    (Some(v), None) | (None, Some(v))
                        if mode == Mode::Equivalent && absent_like(v) =>
                    {
                        None
                    }
                    (Some(ev), None) => Some(format!("{at}: expected {ev}, absent")),
                    (None, Some(av)) => Some(format!("{at}: not expected, got {av}")),
                    (None, None) => None,
                }
            })
        }
        (Value::Array(e), Value::Array(a)) => {
            if e.len() != a.len() {
                return Some(format!(
                    "{path}: expected {} entries, got {}: expected {expected}, got {actual}",
                    e.len(),
                    a.len()
                ));
            }
            e.iter()
                .zip(a)
                .enumerate()
                .find_map(|(i, (ev, av))| json_difference(ev, av, &format!("{path}[{i}]"), mode))
        }
        (e, a) if e == a => None,
        (e, a) => Some(format!("{path}: expected {e}, got {a}")),
    }
}

/// A member value that means the same as the member being absent.
fn absent_like(v: &Value) -> bool {
    v.is_null() || v.as_array().is_some_and(Vec::is_empty)
}

// ------------------------------------------------------------------------------------- tests

#[tokio::test]
async fn every_operation_against_its_fixtures() {
    let fixtures = load_fixtures();
    assert!(!fixtures.is_empty(), "no fixtures found");
    let mock = MockServer::start(&PLATFORM).await.expect("the mock starts");
    let client = Client::builder()
        .api_key("sk_test")
        .base_url(mock.base_url())
        .build()
        .expect("the client builds");

    // Operations with a success fixture are exercised through those; an operation with only
    // error fixtures (calls.list_team) through its error fixture.
    let with_success: BTreeSet<&str> = fixtures
        .iter()
        .filter(|f| !f.is_error())
        .map(|f| f.operation.as_str())
        .collect();

    let mut entries = Vec::new();
    let mut exercised = BTreeSet::new();
    let mut failures = Vec::new();
    for f in &fixtures {
        if f.operation == STREAM || (f.is_error() && with_success.contains(f.operation.as_str())) {
            continue;
        }
        entries.push(f.file.clone());
        let (op, problems) = check_entry(&client, &mock, f).await;
        if let Some(op) = op {
            exercised.insert(op);
        }
        if !problems.is_empty() {
            failures.push(format!("{}:\n      {}", f.file, problems.join("\n      ")));
        }
    }

    let every: BTreeSet<&str> = PLATFORM
        .operations
        .iter()
        .map(|op| op.id)
        .filter(|id| *id != STREAM)
        .collect();
    let missing: Vec<&&str> = every.difference(&exercised).collect();
    if !missing.is_empty() {
        failures.push(format!("operations without a table entry: {missing:?}"));
    }
    let unknown: Vec<&&str> = exercised.difference(&every).collect();
    if !unknown.is_empty() {
        failures.push(format!(
            "entries for operations the spec does not have: {unknown:?}"
        ));
    }

    assert!(
        failures.is_empty(),
        "{} of {} entries failed:\n  {}",
        failures.len(),
        entries.len(),
        failures.join("\n  ")
    );
    assert_eq!(
        exercised.len(),
        PLATFORM.operations.len() - 1,
        "every operation but the stream"
    );
    println!(
        "{} table entries over {} operations passed",
        entries.len(),
        exercised.len()
    );
}

#[test]
fn json_equivalence_treats_null_absent_and_empty_lists_alike_and_names_the_path() {
    let expected =
        json!({"data": {"id": "a_1", "description": null, "tags": [], "rules": [{"id": "r1"}]}});
    let same = json!({"data": {"id": "a_1", "rules": [{"id": "r1", "name": null}]}});
    assert_eq!(assert_json_equivalent(&expected, &same, "$"), Ok(()));

    let renamed = json!({"data": {"id": "a_1", "rules": [{"id": "r2"}]}});
    let err = assert_json_equivalent(&expected, &renamed, "$").unwrap_err();
    assert!(err.starts_with("$.data.rules[0].id:"), "{err}");

    let extra = json!({"data": {"id": "a_1", "rules": [{"id": "r1"}], "name": "x"}});
    let err = assert_json_equivalent(&expected, &extra, "$").unwrap_err();
    assert!(err.starts_with("$.data.name:"), "{err}");

    let shorter = json!({"data": {"id": "a_1", "rules": []}});
    let err = assert_json_equivalent(&expected, &shorter, "$").unwrap_err();
    assert!(err.starts_with("$.data.rules:"), "{err}");

    // Null and [] are not the same when both are present, and request bodies compare exactly.
    let null_list = json!({"tags": null});
    assert!(assert_json_equivalent(&json!({"tags": []}), &null_list, "$").is_err());
    assert!(json_difference(&json!({"label": null}), &json!({}), "$", Mode::Exact).is_some());
}

#[test]
fn path_params_follow_the_template() {
    let params = path_params(
        "/agents/{agent_id}/knowledge_bases/{kb_id}",
        "/agents/a_1/knowledge_bases/k_1",
    );
    assert_eq!(
        params,
        Some(BTreeMap::from([
            ("agent_id".to_owned(), "a_1".to_owned()),
            ("kb_id".to_owned(), "k_1".to_owned()),
        ]))
    );
    assert_eq!(
        path_params("/workflows/{workflow_id}", "/workflows/w_1/extra"),
        None
    );
    assert_eq!(path_params("/workflows/clone", "/workflows/w_1"), None);
}
