//! The bounded journal of what the mock received: the last N requests and at most B bytes of
//! their bodies; a body longer than the per-body limit is kept truncated (and flagged).

use std::collections::VecDeque;

use bytes::Bytes;

use super::Received;

/// How much of what it received a mock keeps (see [`super::MockBuilder::journal_limits`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct JournalLimits {
    /// Requests kept: the oldest is forgotten first.
    pub requests: usize,
    /// Body bytes kept across every kept request: the oldest requests are forgotten first.
    pub bytes: usize,
    /// Bytes kept of any one body; a longer body is kept cut to this length, with
    /// [`Received::truncated`] set.
    pub body_bytes: usize,
}

const MIB: usize = 1024 * 1024;

impl JournalLimits {
    /// The in-process mock's default: the last 10,000 requests, 64 MiB of bodies, 1 MiB of any
    /// one body.
    pub const IN_PROCESS: JournalLimits = JournalLimits {
        requests: 10_000,
        bytes: 64 * MIB,
        body_bytes: MIB,
    };

    /// `agentwire mock`'s: the last 100 requests, 8 MiB of bodies, 1 MiB of any one body.
    pub const COMMAND: JournalLimits = JournalLimits {
        requests: 100,
        bytes: 8 * MIB,
        body_bytes: MIB,
    };

    /// Limits of `requests` requests, `bytes` body bytes in all and `body_bytes` per body.
    pub fn new(requests: usize, bytes: usize, body_bytes: usize) -> JournalLimits {
        JournalLimits {
            requests,
            bytes,
            body_bytes,
        }
    }
}

impl Default for JournalLimits {
    fn default() -> Self {
        JournalLimits::IN_PROCESS
    }
}

/// The journal itself.
#[derive(Debug)]
pub(crate) struct Journal {
    limits: JournalLimits,
    entries: VecDeque<Received>,
    bytes: usize,
}

impl Journal {
    pub(crate) fn new(limits: JournalLimits) -> Journal {
        Journal {
            limits,
            entries: VecDeque::new(),
            bytes: 0,
        }
    }

    /// The body to keep of one received: a copy of at most the per-body limit (and never more
    /// than the whole journal may hold), so that a huge body's buffer is not kept alive.
    pub(crate) fn kept_body(&self, body: &Bytes) -> (Bytes, bool) {
        let cap = self.limits.body_bytes.min(self.limits.bytes);
        if body.len() <= cap {
            (body.clone(), false)
        } else {
            (Bytes::copy_from_slice(&body[..cap]), true)
        }
    }

    /// Records one request, forgetting the oldest ones beyond the limits.
    pub(crate) fn push(&mut self, received: Received) {
        self.bytes += received.body.len();
        self.entries.push_back(received);
        while self.entries.len() > self.limits.requests || self.bytes > self.limits.bytes {
            match self.entries.pop_front() {
                Some(old) => self.bytes -= old.body.len(),
                None => break,
            }
        }
    }

    pub(crate) fn entries(&self) -> impl Iterator<Item = &Received> {
        self.entries.iter()
    }

    pub(crate) fn bytes(&self) -> usize {
        self.bytes
    }

    pub(crate) fn clear(&mut self) {
        self.entries.clear();
        self.bytes = 0;
    }
}
