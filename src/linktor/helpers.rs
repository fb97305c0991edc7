//! The seed's one-line helpers, each a generated call and the part of its answer that is wanted
//! (`client.ai().completions().complete("...")` is the text of the answer). They are the
//! generated operations underneath: retries, errors and credentials are theirs.

use super::requests::{AiCompletions, AiEmbeddings, Conversations, KnowledgeBases};
use super::types;
use crate::runtime::error::{Error, ErrorKind, Result};

impl Conversations {
    /// Sends a text message in a conversation: `conversations().messages().create(..)` with
    /// `{"text": text}`, as a builder (per-call options apply; `.await` sends it). Not
    /// deduplicated, so not re-sent once it may have arrived.
    pub fn send_text(
        &self,
        conversation_id: impl std::fmt::Display,
        text: impl Into<String>,
    ) -> super::requests::ConversationsMessagesCreate {
        let body = types::SendMessageInput::builder().text(text.into());
        self.messages().create(conversation_id, body)
    }
}

impl AiCompletions {
    /// The answer to one user message: a completion (`POST /ai/completions`, not streamed,
    /// the account's default model) and the text of its message.
    ///
    /// # Errors
    /// `InvalidInput` for an empty prompt (nothing sent); else what the completion fails with.
    pub async fn complete(&self, prompt: impl Into<String>) -> Result<String> {
        let prompt: String = prompt.into();
        if prompt.trim().is_empty() {
            return Err(Error::invalid_input("the prompt is empty"));
        }
        let user = types::ChatMessage {
            role: types::ChatRole::User,
            content: prompt,
            name: None,
            tool_call_id: None,
            tool_calls: Vec::new(),
        };
        let request = types::CompletionRequest::builder().messages(vec![user]);
        Ok(self.create(request).await?.message.content)
    }
}

impl AiEmbeddings {
    /// The embedding of one text (`POST /ai/embeddings`), as its vector of numbers.
    ///
    /// # Errors
    /// `InvalidInput` for an empty text (nothing sent); `Decode` when the answer holds no
    /// embedding; else what the call fails with.
    pub async fn embed(&self, text: impl Into<String>) -> Result<Vec<f64>> {
        let text: String = text.into();
        if text.trim().is_empty() {
            return Err(Error::invalid_input("the text to embed is empty"));
        }
        let input = types::EmbeddingRequestInput::String(text);
        let answer = self
            .create(types::EmbeddingRequest::builder().input(input))
            .await?;
        let first = answer.data.into_iter().min_by_key(|e| e.index);
        let none = || {
            Error::new(
                ErrorKind::Decode,
                "the embeddings answer holds no embedding",
            )
        };
        first.map(|e| e.embedding).ok_or_else(none)
    }
}

impl KnowledgeBases {
    /// The texts of a knowledge base's chunks that best match `query`, best first
    /// (`POST /knowledge-bases/{id}/query` with the server's default `topK`; for scores and
    /// documents, call `query(..)`).
    ///
    /// # Errors
    /// `InvalidInput` for a blank query (nothing sent); else what the query fails with.
    pub async fn search(
        &self,
        knowledge_base_id: impl std::fmt::Display,
        query: impl Into<String>,
    ) -> Result<Vec<String>> {
        // A blank query is refused before sending by the spec's rule (`pattern: '\S'`).
        let request = types::KnowledgeBaseQuery::builder().query(query.into());
        let found = self.query(knowledge_base_id, request).await?;
        Ok(found.chunks.into_iter().map(|c| c.content).collect())
    }
}
