//! Agent creation by the seed's rule (what no spec can say): settings that name providers and
//! models by *name* go to `POST /sdk/agent` (the platform resolves the names), settings by *id* to
//! `POST /agent`; either way the call resolves to the provisioned agent once its task finished.

use serde_json::{Map, Value};

use super::requests::Agents;
use super::types;

/// The settings members that name a provider or model by name: any of them sends the agent to
/// `POST /sdk/agent` (the seed's `create_agent`).
const BY_NAME: &[&str] = &[
    "llm_provider",
    "llm_model",
    "embedding_provider",
    "embedding_model",
];

/// A new agent, with its settings by provider and model ids or by their names.
#[derive(Debug, Clone)]
pub enum NewAgent {
    /// Settings by provider and model ids (`POST /agent`).
    ById(types::AgentCreate),
    /// Settings by provider and model names, resolved by the platform (`POST /sdk/agent`).
    ByName(types::AgentCreateWithProviderNames),
}

impl From<types::AgentCreate> for NewAgent {
    fn from(agent: types::AgentCreate) -> Self {
        NewAgent::ById(agent)
    }
}

impl From<types::AgentCreateWithProviderNames> for NewAgent {
    fn from(agent: types::AgentCreateWithProviderNames) -> Self {
        NewAgent::ByName(agent)
    }
}

impl NewAgent {
    /// An agent from JSON the way the published client takes it: the agent's fields, and its
    /// settings. Settings that name a provider or model by name (`llm_provider`, `llm_model`,
    /// `embedding_provider`, `embedding_model`) make a [`NewAgent::ByName`] with them as its
    /// `settings`; otherwise the settings' id fields join the agent's ([`NewAgent::ById`]).
    ///
    /// Errors: `InvalidInput` naming the field, when the result is not a valid agent of its kind
    /// (a missing `name`, an id-based agent without its four ids, ...).
    ///
    /// ```
    /// use agentwire::knowrithm::NewAgent;
    /// use serde_json::json;
    /// let agent = NewAgent::from_json(
    ///     json!({"name": "Support Bot"}),
    ///     json!({"llm_provider": "openai", "llm_model": "gpt-4o",
    ///            "embedding_provider": "openai", "embedding_model": "text-embedding-3-small"}),
    /// )?;
    /// assert!(matches!(agent, NewAgent::ByName(_)));
    /// # Ok::<(), agentwire::Error>(())
    /// ```
    pub fn from_json(agent: Value, settings: Value) -> crate::Result<NewAgent> {
        let Value::Object(mut fields) = agent else {
            return Err(crate::Error::invalid_input("the agent is a JSON object"));
        };
        let settings = match settings {
            Value::Object(map) => map,
            Value::Null => Map::new(),
            _ => {
                return Err(crate::Error::invalid_input(
                    "the settings are a JSON object",
                ));
            }
        };
        let invalid = |e: &dyn std::fmt::Display, what: &str| {
            crate::Error::invalid_input(format!("the agent is not a valid {what}: {e}"))
        };
        if BY_NAME.iter().any(|k| settings.contains_key(*k)) {
            fields.insert("settings".to_owned(), Value::Object(settings));
            serde_path_to_error::deserialize(Value::Object(fields))
                .map(NewAgent::ByName)
                .map_err(|e| invalid(&e, "agent with settings by name"))
        } else {
            fields.extend(settings);
            serde_path_to_error::deserialize(Value::Object(fields))
                .map(NewAgent::ById)
                .map_err(|e| invalid(&e, "agent with settings by id"))
        }
    }
}

impl Agents {
    /// Creates an agent and waits for it to be provisioned: settings by name go to
    /// `POST /sdk/agent` (`agents.create_with_provider_names`), settings by id to `POST /agent`
    /// (`agents.create`). Resolves to `{agent}` once the platform's task finished.
    ///
    /// Errors: as the two operations' `send()` — `InvalidInput` before sending, `Task` when the
    /// provisioning failed or did not finish within the maximum wait (180 s), and every kind an
    /// answer can be classified as.
    pub async fn provision(&self, agent: impl Into<NewAgent>) -> crate::Result<types::AgentResult> {
        match agent.into() {
            NewAgent::ById(agent) => self.create(agent).send().await,
            NewAgent::ByName(agent) => self.create_with_provider_names(agent).send().await,
        }
    }
}
