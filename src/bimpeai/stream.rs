//! What no spec can say about the conversation message stream: BimpeAI authenticates each
//! connection with a single-use ticket. The generated builder
//! (`client.conversations().messages().stream(a, c)`) opens every connection — the first and each
//! resume — through [`open_with_ticket`], which the spec names (`x-agentwire-stream.opener`):
//! `POST …/stream-ticket` (bearer auth and the call's options), then
//! `GET …/stream?ticket=…[&after=…]` with no Authorization, no request id and none of the call's
//! headers: the ticket is its only credential.

use std::sync::Arc;

use super::{op, types};
use crate::runtime::call::call_json;
use crate::runtime::config::{BoxFuture, ClientCore};
use crate::runtime::error::Result;
use crate::runtime::operation::StreamResume;
use crate::runtime::options::CallOptions;
use crate::runtime::request::Request;
use crate::runtime::resume::Reopen;
use crate::runtime::send::{Streaming, open_stream};
use crate::runtime::stream::StreamOpen;

/// The ticket request (at the stream's path parameters) and the stream request, kept for every
/// connection.
pub(super) fn open_with_ticket(open: StreamOpen) -> Result<Arc<dyn Reopen>> {
    let call = &open.request.options;
    let ticket = open.request_for(op::CONVERSATIONS_MESSAGES_STREAM_TICKET, call.clone())?;
    let mut stream = open.request.clone();
    stream.options = CallOptions {
        timeout: call.timeout,
        deadline: call.deadline,
        max_retries: call.max_retries,
        ..CallOptions::default()
    };
    Ok(Arc::new(TicketOpener {
        core: open.core.clone(),
        ticket,
        stream,
    }))
}

struct TicketOpener {
    core: Arc<ClientCore>,
    ticket: Request,
    stream: Request,
}

impl Reopen for TicketOpener {
    fn open(&self, after: Option<String>) -> BoxFuture<'static, Result<Streaming>> {
        let (core, ticket, mut stream) =
            (self.core.clone(), self.ticket.clone(), self.stream.clone());
        Box::pin(async move {
            let ticket = call_json::<types::StreamTicket>(core.clone(), ticket.op, ticket).await?;
            stream.set_query("ticket", ticket.into_inner().ticket);
            let resume = stream.op.stream.and_then(|s| s.resume);
            if let (Some(after), Some(StreamResume::Query(name))) = (after, resume) {
                stream.set_query(name, after);
            }
            open_stream(&core, &stream).await
        })
    }
}
