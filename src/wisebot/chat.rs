//! The chat's answer as one text: what no spec can say (which event carries the answer).

use futures_util::TryStreamExt;

use super::ChatStreamEvent;
use crate::{Error, ErrorKind, EventStream, Result};

impl EventStream<ChatStreamEvent> {
    /// Reads the chat stream to its end and returns the answer: the `finish` event's `fullText`.
    /// Text deltas and other events on the way are skipped (read the stream yourself to show
    /// them as they come).
    ///
    /// Errors: `Stream` when Wisebot sends an `error` event (its `message`), when the stream
    /// ends without a `finish` carrying `fullText`, or when the connection is lost before
    /// `[DONE]` (a chat turn is never re-posted); whatever reading the stream fails with.
    pub async fn full_text(mut self) -> Result<String> {
        let mut answer = None;
        while let Some(event) = self.try_next().await? {
            match event {
                ChatStreamEvent::Finish(finish) => answer = finish.full_text.or(answer),
                ChatStreamEvent::Error(error) => {
                    let message = error
                        .message
                        .unwrap_or_else(|| "the chat reported an error".to_owned());
                    return Err(stream_error(message));
                }
                _ => {}
            }
        }
        answer.ok_or_else(|| {
            stream_error("the chat stream ended without a finish event carrying `fullText`")
        })
    }
}

fn stream_error(message: impl Into<String>) -> Error {
    Error::new(ErrorKind::Stream, message).for_op(&super::PLATFORM, super::op::CHAT_STREAM)
}
