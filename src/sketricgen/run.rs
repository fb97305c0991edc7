//! The run's rules between fields and its streamed answer: what no spec can say.

use futures_util::TryStreamExt;

use super::RunWorkflowEvent;
use super::types::{RunPausedHitlEvent, RunWorkflowRequest};
use crate::{Error, ErrorKind, EventStream, Result};

/// The run's rules between fields (the published client's, checked before any request; the
/// spec's own rules — `agent_id` not blank, `user_input` at most 10,000 characters — are
/// checked by the runtime): `user_input` is required (not blank) unless the run resumes a
/// paused one or attaches files; `hitl_resume` needs `conversation_id` and `enable_hitl`.
///
/// Errors: `InvalidInput` naming the rule.
pub(crate) fn check_request(body: &RunWorkflowRequest) -> Result<()> {
    let refuse = |message: &str| Err(Error::invalid_input(message.to_owned()));
    let blank = body
        .user_input
        .as_deref()
        .is_none_or(|s| s.trim().is_empty());
    let no_files = body.assets.as_ref().is_none_or(Vec::is_empty);
    if blank && body.hitl_resume.is_none() && no_files {
        return refuse(
            "`user_input` must not be blank unless the run resumes (`hitl_resume`) or attaches files (`assets`)",
        );
    }
    if body.hitl_resume.is_some() {
        if body.conversation_id.as_deref().is_none_or(str::is_empty) {
            return refuse("`hitl_resume` needs the paused run's `conversation_id`");
        }
        if body.enable_hitl != Some(true) {
            return refuse("`hitl_resume` needs `enable_hitl: true`");
        }
    }
    Ok(())
}

/// What a streamed run said, collected by [`EventStream::answer`].
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct RunAnswer {
    /// The text deltas (`TEXT_MESSAGE_CONTENT`), joined.
    pub text: String,
    /// The pause, when the run stopped for a human (`RUN_PAUSED_HITL`): resume it with a new run
    /// carrying `hitl_resume` (its `request_id`), `enable_hitl` and the same `conversation_id`.
    pub paused: Option<RunPausedHitlEvent>,
}

impl EventStream<RunWorkflowEvent> {
    /// Reads the run's events to the terminal one and returns the answer: the text deltas
    /// joined, and the pause if the run stopped for a human.
    ///
    /// Errors: `Stream` on `RUN_ERROR` (its message) or `RUN_HALTED_OUT_OF_CREDITS`, and when
    /// the connection is lost before a terminal event (a run is never re-posted: it costs
    /// credits); whatever reading the stream fails with.
    pub async fn answer(mut self) -> Result<RunAnswer> {
        let mut answer = RunAnswer::default();
        while let Some(event) = self.try_next().await? {
            match event {
                RunWorkflowEvent::TextMessageContent(c) => {
                    answer.text.push_str(c.delta.as_deref().unwrap_or_default());
                }
                RunWorkflowEvent::RunPausedHitl(pause) => answer.paused = Some(pause),
                RunWorkflowEvent::RunError(e) => {
                    let message = e.message.unwrap_or_else(|| "the run failed".to_owned());
                    return Err(run_error(message));
                }
                RunWorkflowEvent::RunHaltedOutOfCredits(h) => {
                    let message = h.message.unwrap_or_default();
                    return Err(run_error(format!(
                        "the run stopped: out of credits {message}"
                    )));
                }
                _ => {}
            }
        }
        Ok(answer)
    }
}

fn run_error(message: impl Into<String>) -> Error {
    Error::new(ErrorKind::Stream, message).for_op(&super::PLATFORM, super::op::WORKFLOWS_RUN)
}
