//! Replaying a recorded Server-Sent-Events answer: resuming after an event id or a time, and
//! keeping the stream open with the platform's heartbeat when the fixture does not say how it
//! ends.

use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use serde_json::Value;

/// One event block of an SSE text, as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Block {
    /// The block's text, its blank line included.
    pub text: String,
    /// Its `id` field, if any (the last one wins).
    pub id: Option<String>,
    /// Its `event` field, if any.
    pub event: Option<String>,
    /// Its `data` lines joined with `\n`.
    pub data: String,
}

/// Splits an SSE text into event blocks (LF, CRLF or CR line ends). A last block without its
/// blank line is kept as it is.
pub(crate) fn blocks(text: &str) -> Vec<Block> {
    let mut out = Vec::new();
    let mut current = Block {
        text: String::new(),
        id: None,
        event: None,
        data: String::new(),
    };
    let mut has_data = false;
    let mut rest = text;
    while !rest.is_empty() {
        let end = rest.find(['\r', '\n']).unwrap_or(rest.len());
        let line = &rest[..end];
        let terminator = if rest[end..].starts_with("\r\n") {
            2
        } else if end < rest.len() {
            1
        } else {
            0
        };
        current.text.push_str(&rest[..end + terminator]);
        rest = &rest[end + terminator..];
        if line.is_empty() {
            out.push(std::mem::replace(
                &mut current,
                Block {
                    text: String::new(),
                    id: None,
                    event: None,
                    data: String::new(),
                },
            ));
            has_data = false;
            continue;
        }
        if line.starts_with(':') {
            continue;
        }
        let (field, value) = match line.split_once(':') {
            Some((f, v)) => (f, v.strip_prefix(' ').unwrap_or(v)),
            None => (line, ""),
        };
        match field {
            "id" => current.id = Some(value.to_owned()),
            "event" => current.event = Some(value.to_owned()),
            "data" => {
                if has_data {
                    current.data.push('\n');
                }
                current.data.push_str(value);
                has_data = true;
            }
            _ => {}
        }
    }
    if !current.text.is_empty() {
        out.push(current);
    }
    out
}

/// The recorded events after `after`, for a reconnect that names where it stopped.
///
/// `after` is looked up among the event ids of every recorded answer of the operation, in
/// recording order (`order`): the events of this answer up to the last one at or before that id
/// are left out. Otherwise, when `after` is an ISO-8601 time, events whose data has a
/// `created_at` at or before it are left out (an event whose time cannot be compared is kept).
/// Otherwise everything is replayed. When nothing is left out the original chunks come back
/// unchanged (a fixture's chunking is part of what it tests).
pub(crate) fn resume_after(chunks: Vec<String>, after: &str, order: &[String]) -> Vec<String> {
    let text = chunks.concat();
    let all = blocks(&text);
    let keep: Vec<bool> = if let Some(position) = order.iter().position(|id| id == after) {
        let at_or_before = |b: &Block| {
            b.id.as_ref()
                .and_then(|id| order.iter().position(|o| o == id))
                .is_some_and(|p| p <= position)
        };
        let last = all.iter().rposition(at_or_before);
        (0..all.len()).map(|i| last.is_none_or(|l| i > l)).collect()
    } else if let Some(since) = parse_time(after) {
        all.iter()
            .map(|b| {
                serde_json::from_str::<Value>(&b.data)
                    .ok()
                    .and_then(|d| d.get("created_at")?.as_str().and_then(parse_time))
                    .is_none_or(|created| created > since)
            })
            .collect()
    } else {
        return chunks;
    };
    if keep.iter().all(|k| *k) {
        return chunks;
    }
    let kept: String = all
        .into_iter()
        .zip(keep)
        .filter(|(_, k)| *k)
        .map(|(b, _)| b.text)
        .collect();
    if kept.is_empty() {
        Vec::new()
    } else {
        vec![kept]
    }
}

/// The heartbeat to send on an open stream: a recorded heartbeat event (one that `is_heartbeat`
/// says is, given its event name and data — the stream's event map decides), its `id` line
/// removed so it moves no resume position; else an SSE comment.
pub(crate) fn heartbeat<'a>(
    is_heartbeat: impl Fn(Option<&str>, &str) -> bool,
    sse_texts: impl IntoIterator<Item = &'a str>,
) -> Bytes {
    for text in sse_texts {
        for b in blocks(text) {
            if is_heartbeat(b.event.as_deref(), &b.data) {
                let mut out = String::new();
                for line in b.text.lines() {
                    if line.is_empty() || line == "id" || line.starts_with("id:") {
                        continue;
                    }
                    out.push_str(line);
                    out.push('\n');
                }
                out.push('\n');
                return Bytes::from(out);
            }
        }
    }
    Bytes::from_static(b": heartbeat\n\n")
}

/// How a replayed stream goes on after its recorded events.
pub(crate) enum Tail {
    /// Closed cleanly.
    Close,
    /// The connection is cut.
    Drop,
    /// Nothing more is ever sent, and the connection stays open.
    Hang,
    /// Open, with this heartbeat every interval, until the client goes away.
    Heartbeat(Bytes, Duration),
}

/// The body of a replayed stream: the chunks, then its tail.
pub(crate) fn body(
    chunks: Vec<String>,
    tail: Tail,
) -> BoxStream<'static, Result<Bytes, std::io::Error>> {
    let head = futures_util::stream::iter(
        chunks
            .into_iter()
            .map(|c| Ok::<Bytes, std::io::Error>(Bytes::from(c))),
    );
    let tail: BoxStream<'static, Result<Bytes, std::io::Error>> = match tail {
        Tail::Close => futures_util::stream::empty().boxed(),
        // An error after the data makes hyper cut the connection mid-body. The pause lets
        // hyper flush the headers and data first (it coalesces writes).
        Tail::Drop => futures_util::stream::once(async {
            tokio::time::sleep(Duration::from_millis(20)).await;
            Err(std::io::Error::new(
                std::io::ErrorKind::ConnectionReset,
                "fixture drops the stream",
            ))
        })
        .boxed(),
        Tail::Hang => futures_util::stream::pending().boxed(),
        Tail::Heartbeat(beat, every) => {
            futures_util::stream::unfold((beat, every), |(beat, every)| async move {
                tokio::time::sleep(every).await;
                Some((Ok(beat.clone()), (beat, every)))
            })
            .boxed()
        }
    };
    head.chain(tail).boxed()
}

/// An ISO-8601 / RFC 3339 date-time (`2026-06-24T08:23:02.384Z`, `...+01:00`) as seconds and
/// nanoseconds since the Unix epoch, UTC; `None` for anything else.
pub(crate) fn parse_time(text: &str) -> Option<(i64, u32)> {
    let b = text.trim().as_bytes();
    let digits = |range: std::ops::Range<usize>| -> Option<i64> {
        let part = b.get(range)?;
        if part.is_empty() || !part.iter().all(u8::is_ascii_digit) {
            return None;
        }
        std::str::from_utf8(part).ok()?.parse().ok()
    };
    let year = digits(0..4)?;
    if b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') {
        return None;
    }
    let (month, day) = (digits(5..7)?, digits(8..10)?);
    if !matches!(b.get(10), Some(b'T' | b't' | b' ')) || b.get(13) != Some(&b':') {
        return None;
    }
    let (hour, minute) = (digits(11..13)?, digits(14..16)?);
    if b.get(16) != Some(&b':') {
        return None;
    }
    let second = digits(17..19)?;
    if !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let mut i = 19;
    let mut nanos: u32 = 0;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            if i - start < 9 {
                nanos = nanos * 10 + u32::from(b[i] - b'0');
            }
            i += 1;
        }
        if i == start {
            return None;
        }
        for _ in (i - start).min(9)..9 {
            nanos *= 10;
        }
    }
    let offset = match b.get(i) {
        Some(b'Z' | b'z') if i + 1 == b.len() => 0,
        Some(sign @ (b'+' | b'-')) if i + 6 == b.len() && b.get(i + 3) == Some(&b':') => {
            let (h, m) = (digits(i + 1..i + 3)?, digits(i + 4..i + 6)?);
            let minutes = h * 60 + m;
            if *sign == b'+' { minutes } else { -minutes }
        }
        _ => return None,
    };
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let seconds = days * 86_400 + hour * 3_600 + minute * 60 + second - offset * 60;
    Some((seconds, nanos))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(id: &str, created_at: &str) -> String {
        format!(
            "id: {id}\nevent: message\ndata: {{\"id\":\"{id}\",\"created_at\":\"{created_at}\"}}\n\n"
        )
    }

    const HEARTBEAT: &str = "event: heartbeat\ndata: {\"ts\":1}\n\n";

    fn ids(chunks: &[String]) -> Vec<String> {
        blocks(&chunks.concat())
            .into_iter()
            .map(|b| b.id.unwrap_or_else(|| b.event.unwrap_or_default()))
            .collect()
    }

    #[test]
    fn blocks_split_on_every_line_end_and_keep_their_text() {
        let text = "id: 1\r\nevent: a\r\ndata: x\r\ndata: y\r\n\r\n: note\rid:2\rdata:z\r\rtail";
        let b = blocks(text);
        assert_eq!(b.len(), 3);
        assert_eq!(b[0].id.as_deref(), Some("1"));
        assert_eq!(b[0].event.as_deref(), Some("a"));
        assert_eq!(b[0].data, "x\ny");
        assert_eq!(b[1].id.as_deref(), Some("2"));
        assert_eq!(b[1].data, "z");
        assert_eq!(b[2].text, "tail");
        assert_eq!(b.iter().map(|b| b.text.as_str()).collect::<String>(), text);
    }

    #[test]
    fn resuming_after_an_id_skips_what_came_before_it() {
        let order: Vec<String> = ["m_1", "m_2", "m_3"].map(String::from).to_vec();
        let chunks = vec![
            message("m_1", "t"),
            HEARTBEAT.to_owned(),
            message("m_2", "t"),
            message("m_3", "t"),
        ];
        assert_eq!(
            ids(&resume_after(chunks.clone(), "m_1", &order)),
            ["heartbeat", "m_2", "m_3"]
        );
        assert_eq!(ids(&resume_after(chunks.clone(), "m_2", &order)), ["m_3"]);
        assert!(resume_after(chunks.clone(), "m_3", &order).is_empty());
        // An id recorded in another answer: this answer's events up to it are left out.
        let later = vec![message("m_3", "t")];
        assert_eq!(resume_after(later.clone(), "m_2", &order), later);
        // Nothing left out: the chunks come back as recorded.
        assert_eq!(resume_after(chunks.clone(), "m_0", &order), chunks);
    }

    #[test]
    fn resuming_after_a_time_compares_created_at_where_it_can() {
        let chunks = vec![
            message("m_1", "2026-06-24T08:00:00Z"),
            message("m_2", "2026-06-24T09:30:00.5+01:00"),
            message("m_3", "2026-06-24T08:30:00.001Z"),
            message("m_4", "yesterday"),
        ];
        let kept = resume_after(chunks, "2026-06-24T08:30:00Z", &[]);
        assert_eq!(ids(&kept), ["m_2", "m_3", "m_4"]);
    }

    #[test]
    fn times_parse_as_rfc_3339() {
        assert_eq!(parse_time("1970-01-01T00:00:00Z"), Some((0, 0)));
        assert_eq!(
            parse_time("2026-06-24T08:23:02.384Z"),
            Some((1_782_289_382, 384_000_000))
        );
        assert_eq!(
            parse_time("2026-06-24T10:23:02.384+02:00"),
            parse_time("2026-06-24T08:23:02.384Z")
        );
        assert_eq!(
            parse_time("2000-03-01T00:00:00-00:30"),
            Some((951_870_600, 0))
        );
        for bad in [
            "m_2",
            "2026-06-24",
            "2026-13-01T00:00:00Z",
            "2026-06-24T08:23:02",
            "t",
        ] {
            assert_eq!(parse_time(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_heartbeat_is_a_recorded_one_or_a_comment() {
        let recorded = format!("{}id: h_9\n{HEARTBEAT}", message("m_1", "t"));
        assert_eq!(
            heartbeat(|name, _| name == Some("heartbeat"), [recorded.as_str()]),
            Bytes::from_static(b"event: heartbeat\ndata: {\"ts\":1}\n\n")
        );
        assert_eq!(
            heartbeat(|name, _| name == Some("ping"), [recorded.as_str()]),
            Bytes::from_static(b": heartbeat\n\n")
        );
    }
}
