//! The SSE decoder against the WHATWG EventSource parsing rules: line ends, the BOM, fields,
//! dispatch, chunking (every split point and pseudo-random chunkings) and the limits.

use std::time::Duration;

use agentwire::sse::{DEFAULT_MAX_EVENT_BYTES, Event, SseDecoder, SseError};

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

fn ev(event: Option<&str>, data: &str, id: Option<&str>, retry: Option<u64>) -> Event {
    Event {
        event: event.map(str::to_owned),
        data: data.to_owned(),
        id: id.map(str::to_owned),
        retry,
    }
}

/// A default-type event with only data.
fn data(d: &str) -> Event {
    ev(None, d, None, None)
}

/// Feeds the chunks in order, then finishes without flushing.
fn decode_chunks(chunks: &[&[u8]]) -> Vec<Event> {
    decode_chunks_with(SseDecoder::new(), chunks, false)
}

fn decode_chunks_with(mut decoder: SseDecoder, chunks: &[&[u8]], flush: bool) -> Vec<Event> {
    let mut out = Vec::new();
    for chunk in chunks {
        decoder.feed(chunk, &mut out).expect("feed");
    }
    decoder.finish(flush, &mut out).expect("finish");
    out
}

fn decode(input: &[u8]) -> Vec<Event> {
    decode_chunks(&[input])
}

/// The reference sample: a BOM, a comment, three events with CRLF line ends, multi-line data,
/// a `data:` without its space, a persisting id, a retry and multi-byte UTF-8.
const SAMPLE: &[u8] = b"\xEF\xBB\xBF: welcome\r\n\
id: m_1\r\n\
event: message\r\n\
data: {\"a\":1}\r\n\
\r\n\
: ping\r\n\
data: line one\r\n\
data: line two\r\n\
data:line three\r\n\
\r\n\
id: m_3\r\n\
event: update\r\n\
retry: 1500\r\n\
data: caf\xC3\xA9 \xE2\x9C\x93\r\n\
\r\n";

fn sample_events() -> Vec<Event> {
    vec![
        ev(Some("message"), "{\"a\":1}", Some("m_1"), None),
        ev(None, "line one\nline two\nline three", Some("m_1"), None),
        ev(Some("update"), "café ✓", Some("m_3"), Some(1500)),
    ]
}

/// A second sample mixing CR, LF and CRLF line ends (CR-only ends make a split CR ambiguous
/// until the next byte arrives).
const MIXED: &[u8] = b"data: a\rdata: b\r\rid: 2\ndata: c\r\n\r\n: c\rdata:\r\r\
event: e\r\ndata: d\n\r\ndata: \xE2\x82\xAC\r\r";

fn mixed_events() -> Vec<Event> {
    vec![
        data("a\nb"),
        ev(None, "c", Some("2"), None),
        ev(None, "", Some("2"), None),
        ev(Some("e"), "d", Some("2"), None),
        ev(None, "€", Some("2"), None),
    ]
}

/// A tiny deterministic xorshift64 generator: reproducible "random" chunkings without a
/// dependency.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    /// Uniform-ish in `lo..=hi`.
    fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + (self.next() % (hi - lo + 1) as u64) as usize
    }
}

/// Cuts `input` into non-empty chunks of random sizes (at most `max` bytes each).
fn random_chunks<'a>(rng: &mut XorShift, input: &'a [u8], max: usize) -> Vec<&'a [u8]> {
    let mut chunks = Vec::new();
    let mut rest = input;
    while !rest.is_empty() {
        let n = rng.range(1, max.min(rest.len()));
        let (head, tail) = rest.split_at(n);
        chunks.push(head);
        rest = tail;
    }
    chunks
}

// ---------------------------------------------------------------------------------------------
// Line ends
// ---------------------------------------------------------------------------------------------

#[test]
fn lf_line_ends() {
    assert_eq!(
        decode(b"data: a\ndata: b\n\ndata: c\n\n"),
        vec![data("a\nb"), data("c")]
    );
}

#[test]
fn crlf_line_ends() {
    assert_eq!(
        decode(b"data: a\r\ndata: b\r\n\r\ndata: c\r\n\r\n"),
        vec![data("a\nb"), data("c")]
    );
}

#[test]
fn cr_line_ends() {
    assert_eq!(
        decode(b"data: a\rdata: b\r\rdata: c\r\r"),
        vec![data("a\nb"), data("c")]
    );
}

#[test]
fn mixed_line_ends() {
    assert_eq!(decode(MIXED), mixed_events());
}

#[test]
fn crlf_split_across_chunks_is_one_line_end() {
    // CR ends one chunk, its LF starts the next: one line end, not a line end plus a blank line
    // (which would dispatch "a" and "b" as two events).
    assert_eq!(
        decode_chunks(&[b"data: a\r", b"\ndata: b\r", b"\n\r", b"\n"]),
        vec![data("a\nb")]
    );
}

#[test]
fn cr_at_chunk_end_followed_by_other_byte_is_a_line_end() {
    assert_eq!(
        decode_chunks(&[b"data: a\r", b"data: b\r", b"\r", b"data: c\r", b"\r"]),
        vec![data("a\nb"), data("c")]
    );
}

#[test]
fn crlf_split_by_an_empty_chunk_is_one_line_end() {
    // An empty chunk between the CR and its LF must not make the LF a second line end.
    assert_eq!(
        decode_chunks(&[b"data: a\r", b"", b"\ndata: b\r\n\r\n"]),
        vec![data("a\nb")]
    );
}

// ---------------------------------------------------------------------------------------------
// BOM
// ---------------------------------------------------------------------------------------------

#[test]
fn leading_bom_is_stripped() {
    assert_eq!(decode(b"\xEF\xBB\xBFdata: x\n\n"), vec![data("x")]);
}

#[test]
fn leading_bom_split_across_chunks_is_stripped() {
    let whole = b"\xEF\xBB\xBFdata: x\n\n";
    for cuts in [
        vec![1],
        vec![2],
        vec![3],
        vec![1, 2],
        vec![1, 3],
        vec![2, 3],
        vec![1, 2, 3],
        vec![1, 2, 3, 4],
    ] {
        let mut chunks: Vec<&[u8]> = Vec::new();
        let mut at = 0;
        for cut in &cuts {
            chunks.push(&whole[at..*cut]);
            at = *cut;
        }
        chunks.push(&whole[at..]);
        assert_eq!(decode_chunks(&chunks), vec![data("x")], "cut at {cuts:?}");
    }
}

#[test]
fn bom_not_at_start_is_kept_as_data() {
    assert_eq!(
        decode(b"data: x\n\ndata: \xEF\xBB\xBFy\n\n"),
        vec![data("x"), data("\u{FEFF}y")]
    );
}

#[test]
fn only_one_leading_bom_is_stripped() {
    // The second BOM becomes part of the field name, so `\u{FEFF}data` is an unknown field.
    assert_eq!(decode(b"\xEF\xBB\xBF\xEF\xBB\xBFdata: x\n\n"), vec![]);
}

#[test]
fn bom_prefix_that_is_not_a_bom_is_kept() {
    // EF BB followed by something else is not a BOM: the bytes stay (as replacement
    // characters) and make the first field unknown; the next event is unaffected.
    assert_eq!(
        decode_chunks(&[b"\xEF\xBB", b"data: x\n\ndata: y\n\n"]),
        vec![data("y")]
    );
}

// ---------------------------------------------------------------------------------------------
// Fields
// ---------------------------------------------------------------------------------------------

#[test]
fn comments_are_ignored() {
    assert_eq!(
        decode(b": ping\ndata: a\n:\n: another comment\ndata: b\n\n: trailing\n\n"),
        vec![data("a\nb")]
    );
}

#[test]
fn multi_line_data_joins_with_lf() {
    assert_eq!(
        decode(b"data: one\ndata: two\ndata: three\n\n"),
        vec![data("one\ntwo\nthree")]
    );
}

#[test]
fn data_with_and_without_the_space() {
    assert_eq!(
        decode(b"data: x\n\ndata:x\n\ndata:  x\n\ndata: \n\n"),
        vec![data("x"), data("x"), data(" x"), data("")]
    );
}

#[test]
fn field_without_colon() {
    // `data` alone appends an empty line; `event` alone sets an empty type (the default);
    // an unknown name alone is ignored.
    assert_eq!(
        decode(b"data\ndata\n\nevent\ndata: y\n\nfoo\ndata: z\n\n"),
        vec![data("\n"), data("y"), data("z")]
    );
}

#[test]
fn id_with_nul_is_ignored() {
    assert_eq!(
        decode(b"id: m_1\ndata: a\n\nid: m\x002\ndata: b\n\n"),
        vec![
            ev(None, "a", Some("m_1"), None),
            ev(None, "b", Some("m_1"), None)
        ]
    );
}

#[test]
fn id_persists_to_later_events() {
    assert_eq!(
        decode(b"id: 1\ndata: a\n\ndata: b\n\nid: 2\n\ndata: c\n\nid: 3\ndata: d\n\n"),
        vec![
            ev(None, "a", Some("1"), None),
            ev(None, "b", Some("1"), None),
            // An id in a block without data still sets the last event id.
            ev(None, "c", Some("2"), None),
            ev(None, "d", Some("3"), None),
        ]
    );
}

#[test]
fn with_last_id_seeds_the_id() {
    let decoder = SseDecoder::new().with_last_id(Some("m_9".into()));
    assert_eq!(
        decode_chunks_with(decoder, &[b"data: x\n\n"], false),
        vec![ev(None, "x", Some("m_9"), None)]
    );
}

#[test]
fn retry_takes_digits_only() {
    assert_eq!(
        decode(
            b"retry: 1500\ndata: a\n\n\
              retry: 15x0\ndata: b\n\n\
              retry: -1\ndata: c\n\n\
              retry:\ndata: d\n\n\
              retry: 1 5\ndata: e\n\n\
              retry:250\ndata: f\n\n\
              data: g\n\n"
        ),
        vec![
            ev(None, "a", None, Some(1500)),
            data("b"),
            data("c"),
            data("d"),
            data("e"),
            ev(None, "f", None, Some(250)),
            // A retry belongs to its own block.
            data("g"),
        ]
    );
}

#[test]
fn the_reconnection_delay_is_stream_state_set_by_every_valid_retry() {
    let mut decoder = SseDecoder::new();
    let mut out = Vec::new();
    assert_eq!(decoder.reconnection_delay(), None);
    // A block with a retry and no data dispatches nothing, but sets the delay.
    decoder
        .feed(b"retry: 5000\n\ndata: x\n\n", &mut out)
        .unwrap();
    assert_eq!(
        out,
        vec![data("x")],
        "the event keeps its own (absent) retry"
    );
    assert_eq!(
        decoder.reconnection_delay(),
        Some(Duration::from_millis(5000))
    );
    // Invalid values change nothing; a later valid one replaces it.
    decoder.feed(b"retry: 1x\ndata: y\n\n", &mut out).unwrap();
    assert_eq!(
        decoder.reconnection_delay(),
        Some(Duration::from_millis(5000))
    );
    decoder.feed(b"retry: 250\n", &mut out).unwrap();
    assert_eq!(
        decoder.reconnection_delay(),
        Some(Duration::from_millis(250))
    );
    // More digits than fit are still a (very long) delay, for the reader to clamp.
    decoder
        .feed(b"retry: 99999999999999999999999\n\n", &mut out)
        .unwrap();
    assert_eq!(
        decoder.reconnection_delay(),
        Some(Duration::from_millis(u64::MAX))
    );
}

#[test]
fn event_without_data_is_not_dispatched() {
    assert_eq!(decode(b"event: heartbeat\n\n"), vec![]);
    // Nor does its type leak into the next event.
    assert_eq!(decode(b"event: heartbeat\n\ndata: x\n\n"), vec![data("x")]);
}

#[test]
fn empty_data_dispatches_an_empty_event() {
    assert_eq!(
        decode(b"event: ping\ndata:\n\n"),
        vec![ev(Some("ping"), "", None, None)]
    );
    assert_eq!(decode(b"data\n\n"), vec![data("")]);
}

#[test]
fn event_type_resets_after_dispatch() {
    let events = decode(b"event: a\ndata: 1\n\ndata: 2\n\nevent:\ndata: 3\n\n");
    assert_eq!(
        events,
        vec![ev(Some("a"), "1", None, None), data("2"), data("3")]
    );
    assert_eq!(events[0].name(), "a");
    assert_eq!(events[1].name(), "message");
    assert_eq!(events[2].name(), "message");
}

#[test]
fn unknown_fields_are_ignored() {
    assert_eq!(
        decode(b"foo: bar\ndata: x\nDATA: y\nData: z\nx-custom: 1\n\n"),
        vec![data("x")]
    );
}

#[test]
fn invalid_utf8_is_replaced_not_an_error() {
    assert_eq!(
        decode(b"event: m\xFFe\ndata: a\xFFb\ndata: \xC3\n\n"),
        vec![ev(Some("m\u{FFFD}e"), "a\u{FFFD}b\n\u{FFFD}", None, None)]
    );
}

#[test]
fn multi_byte_character_split_across_chunks_is_kept() {
    assert_eq!(
        decode_chunks(&[b"data: \xE2", b"\x82", b"\xAC\n\n"]),
        vec![data("€")]
    );
}

#[test]
fn finish_true_flushes_a_last_unterminated_event() {
    assert_eq!(
        decode_chunks_with(SseDecoder::new(), &[b"data: a\n\ndata: b\ndata: c"], true),
        vec![data("a"), data("b\nc")]
    );
    // Terminated line, missing blank line.
    assert_eq!(
        decode_chunks_with(SseDecoder::new(), &[b"id: 1\ndata: b\n"], true),
        vec![ev(None, "b", Some("1"), None)]
    );
}

#[test]
fn finish_false_drops_a_last_unterminated_event() {
    assert_eq!(
        decode_chunks_with(SseDecoder::new(), &[b"data: a\n\ndata: b\ndata: c"], false),
        vec![data("a")]
    );
    assert_eq!(
        decode_chunks_with(SseDecoder::new(), &[b"data: b\n"], false),
        vec![]
    );
}

#[test]
fn finish_on_a_bare_bom_or_bom_prefix_yields_nothing() {
    for input in [&b""[..], b"\xEF", b"\xEF\xBB", b"\xEF\xBB\xBF"] {
        assert_eq!(
            decode_chunks_with(SseDecoder::new(), &[input], true),
            vec![],
            "{input:?}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Chunking never changes the output
// ---------------------------------------------------------------------------------------------

#[test]
fn reference_sample_whole() {
    assert_eq!(decode(SAMPLE), sample_events());
}

#[test]
fn reference_sample_every_split_point() {
    let whole = decode(SAMPLE);
    assert_eq!(whole, sample_events());
    for i in 0..=SAMPLE.len() {
        let (a, b) = SAMPLE.split_at(i);
        assert_eq!(decode_chunks(&[a, b]), whole, "split at byte {i}");
    }
}

#[test]
fn reference_sample_every_pair_of_split_points() {
    // Three chunks: covers a chunk holding only part of the BOM, only a CR, and so on.
    let whole = sample_events();
    for i in 0..=SAMPLE.len() {
        for j in i..=SAMPLE.len() {
            let chunks = [&SAMPLE[..i], &SAMPLE[i..j], &SAMPLE[j..]];
            let non_empty: Vec<&[u8]> = chunks.iter().copied().filter(|c| !c.is_empty()).collect();
            assert_eq!(
                decode_chunks(&non_empty),
                whole,
                "split at bytes {i} and {j}"
            );
        }
    }
}

#[test]
fn reference_sample_one_byte_at_a_time() {
    let chunks: Vec<&[u8]> = SAMPLE.chunks(1).collect();
    assert_eq!(decode_chunks(&chunks), sample_events());
}

#[test]
fn mixed_sample_every_split_point_and_one_byte_at_a_time() {
    for i in 0..=MIXED.len() {
        let (a, b) = MIXED.split_at(i);
        assert_eq!(decode_chunks(&[a, b]), mixed_events(), "split at byte {i}");
    }
    let chunks: Vec<&[u8]> = MIXED.chunks(1).collect();
    assert_eq!(decode_chunks(&chunks), mixed_events());
}

#[test]
fn random_chunkings_never_change_the_output() {
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    for round in 0..500 {
        // Alternate the samples and vary the largest chunk so both tiny and large chunks occur.
        let (input, expected) = if round % 2 == 0 {
            (SAMPLE, sample_events())
        } else {
            (MIXED, mixed_events())
        };
        let max = rng.range(1, input.len());
        let chunks = random_chunks(&mut rng, input, max);
        assert_eq!(
            decode_chunks(&chunks),
            expected,
            "round {round}: chunk sizes {:?}",
            chunks.iter().map(|c| c.len()).collect::<Vec<_>>()
        );
    }
}

#[test]
fn random_chunkings_with_flush_never_change_the_output() {
    // The same sample with its final blank line missing: finish(true) must complete it
    // whatever the chunking.
    let cut = &SAMPLE[..SAMPLE.len() - 2];
    let mut rng = XorShift(42);
    for round in 0..500 {
        let max = rng.range(1, cut.len());
        let chunks = random_chunks(&mut rng, cut, max);
        assert_eq!(
            decode_chunks_with(SseDecoder::new(), &chunks, true),
            sample_events(),
            "round {round}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Limits
// ---------------------------------------------------------------------------------------------

#[test]
fn line_too_long_in_one_chunk() {
    let mut decoder = SseDecoder::with_limits(16, 1024);
    let mut out = Vec::new();
    let err = decoder
        .feed(b"data: 0123456789abcdef\n\n", &mut out)
        .unwrap_err();
    assert_eq!(err, SseError::LineTooLong { limit: 16 });
    assert!(out.is_empty());
}

#[test]
fn line_too_long_in_one_chunk_without_line_end() {
    let mut decoder = SseDecoder::with_limits(16, 1024);
    let err = decoder
        .feed(b"data: 0123456789abcdef", &mut Vec::new())
        .unwrap_err();
    assert_eq!(err, SseError::LineTooLong { limit: 16 });
}

#[test]
fn line_too_long_growing_across_chunks() {
    // The line ends in the chunk that pushes it over the limit.
    let mut decoder = SseDecoder::with_limits(16, 1024);
    let mut out = Vec::new();
    decoder.feed(b"data: 01234567", &mut out).unwrap();
    assert_eq!(
        decoder.feed(b"89ab\n\n", &mut out).unwrap_err(),
        SseError::LineTooLong { limit: 16 }
    );

    // The line never ends: it grows a byte at a time until it passes the limit.
    let mut decoder = SseDecoder::with_limits(16, 1024);
    let line = b"data: 0123456789abcdef";
    for (i, byte) in line.iter().enumerate() {
        let result = decoder.feed(std::slice::from_ref(byte), &mut out);
        if i < 16 {
            assert_eq!(result, Ok(()), "byte {i}");
        } else {
            assert_eq!(result, Err(SseError::LineTooLong { limit: 16 }), "byte {i}");
            break;
        }
    }
    assert!(out.is_empty());
}

#[test]
fn line_of_exactly_max_line_is_accepted() {
    // "data: 0123456789" is 16 bytes, in one chunk and across chunks.
    let decoder = SseDecoder::with_limits(16, 1024);
    assert_eq!(
        decode_chunks_with(decoder, &[b"data: 0123456789\n\n"], false),
        vec![data("0123456789")]
    );
    let decoder = SseDecoder::with_limits(16, 1024);
    assert_eq!(
        decode_chunks_with(decoder, &[b"data: 01234", b"56789", b"\r\n\r\n"], false),
        vec![data("0123456789")]
    );
}

#[test]
fn event_too_large() {
    let mut decoder = SseDecoder::with_limits(1024, 32);
    let mut out = Vec::new();
    // Three 10-byte lines make exactly 32 bytes of data (two LFs between them): still fine.
    for _ in 0..3 {
        decoder.feed(b"data: 0123456789\n", &mut out).unwrap();
    }
    let err = decoder.feed(b"data: 0123456789\n\n", &mut out).unwrap_err();
    assert_eq!(err, SseError::EventTooLarge { limit: 32 });
    assert!(out.is_empty());

    // One data line longer than the event limit (but within the line limit).
    let mut decoder = SseDecoder::with_limits(1024, 32);
    let long = format!("data: {}\n\n", "x".repeat(40));
    assert_eq!(
        decoder.feed(long.as_bytes(), &mut out).unwrap_err(),
        SseError::EventTooLarge { limit: 32 }
    );
}

#[test]
fn event_data_of_exactly_max_event_is_accepted() {
    // 15 + "\n" + 16 = 32 bytes of data over two lines.
    let decoder = SseDecoder::with_limits(1024, 32);
    let two_lines = format!("data: {}\ndata: {}\n\n", "a".repeat(15), "b".repeat(16));
    assert_eq!(
        decode_chunks_with(decoder, &[two_lines.as_bytes()], false),
        vec![data(&format!("{}\n{}", "a".repeat(15), "b".repeat(16)))]
    );
    // 32 bytes of data on one line.
    let decoder = SseDecoder::with_limits(1024, 32);
    let one_line = format!("data: {}\n\n", "c".repeat(32));
    assert_eq!(
        decode_chunks_with(decoder, &[one_line.as_bytes()], false),
        vec![data(&"c".repeat(32))]
    );
}

#[test]
fn event_limit_applies_per_event() {
    // Two events of 20 bytes each under a 32-byte event limit: the limit is not cumulative.
    let decoder = SseDecoder::with_limits(1024, 32);
    let input = format!("data: {0}\n\ndata: {0}\n\n", "z".repeat(20));
    assert_eq!(
        decode_chunks_with(decoder, &[input.as_bytes()], false),
        vec![data(&"z".repeat(20)), data(&"z".repeat(20))]
    );
}

#[test]
fn eight_mib_event_in_one_kib_chunks() {
    const EIGHT_MIB: usize = 8 * 1024 * 1024;
    // The default limits (used by `SseDecoder::new`) leave room for it.
    const _: () = assert!(EIGHT_MIB < DEFAULT_MAX_EVENT_BYTES);

    // One 8 MiB data line, then a small event to show the decoder is still in step.
    let payload: String = (0..EIGHT_MIB)
        .map(|i| char::from(b'a' + (i % 26) as u8))
        .collect();
    let mut input = Vec::with_capacity(EIGHT_MIB + 64);
    input.extend_from_slice(b"id: big\nevent: blob\ndata: ");
    input.extend_from_slice(payload.as_bytes());
    input.extend_from_slice(b"\r\n\r\ndata: after\n\n");
    let chunks: Vec<&[u8]> = input.chunks(1024).collect();
    let events = decode_chunks(&chunks);
    assert_eq!(events.len(), 2);
    assert_eq!(events[0].event.as_deref(), Some("blob"));
    assert_eq!(events[0].id.as_deref(), Some("big"));
    assert_eq!(events[0].data.len(), EIGHT_MIB);
    assert!(
        events[0].data == payload,
        "the 8 MiB payload came back changed"
    );
    assert_eq!(events[1], ev(None, "after", Some("big"), None));
}

#[test]
fn eight_mib_multi_line_event_in_one_kib_chunks() {
    // 8 MiB of data as 8192 lines of 1023 bytes joined with LF (lines straddle chunk edges).
    let lines: Vec<String> = (0..8192)
        .map(|i| {
            let c = char::from(b'A' + (i % 26) as u8);
            c.to_string().repeat(1023)
        })
        .collect();
    let mut input = String::new();
    for line in &lines {
        input.push_str("data: ");
        input.push_str(line);
        input.push('\n');
    }
    input.push('\n');
    let chunks: Vec<&[u8]> = input.as_bytes().chunks(1024).collect();
    let events = decode_chunks(&chunks);
    assert_eq!(events.len(), 1);
    let expected = lines.join("\n");
    assert_eq!(events[0].data.len(), 8 * 1024 * 1024 - 1);
    assert!(
        events[0].data == expected,
        "the multi-line payload came back changed"
    );
}
