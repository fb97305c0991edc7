//! SSE decoding throughput: agentwire's decoder against `eventsource-stream` (the parser behind
//! reqwest-eventsource and async-openai) on the same bytes, and agentwire's scaling with event
//! size when an event arrives in 1 KiB chunks (linear: time per byte stays flat).
//!
//! `cargo bench -p agentwire-benches --bench sse`

#![allow(missing_docs)]

use std::hint::black_box;

use agentwire::sse::{Event, SseDecoder};
use bytes::Bytes;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use futures_util::StreamExt;

/// One event whose data line is `size` bytes.
fn big_event(size: usize) -> Vec<u8> {
    let mut v = b"id: m_1\nevent: message\ndata: ".to_vec();
    v.extend(std::iter::repeat_n(b'x', size));
    v.extend_from_slice(b"\n\n");
    v
}

/// `n` small JSON events, as a chat stream sends them.
fn many_events(n: usize) -> Vec<u8> {
    let mut v = Vec::new();
    for i in 0..n {
        v.extend_from_slice(
            format!("id: m_{i}\nevent: message\ndata: {{\"id\":\"m_{i}\",\"role\":\"assistant\",\"message\":\"token {i}\"}}\n\n")
                .as_bytes(),
        );
    }
    v
}

fn chunks(bytes: &[u8], size: usize) -> Vec<Bytes> {
    bytes.chunks(size).map(Bytes::copy_from_slice).collect()
}

fn agentwire_decode(chunks: &[Bytes]) -> usize {
    let mut decoder = SseDecoder::new();
    let mut out: Vec<Event> = Vec::new();
    for c in chunks {
        decoder.feed(c, &mut out).expect("within limits");
    }
    out.len()
}

fn peer_decode(rt: &tokio::runtime::Runtime, chunks: &[Bytes]) -> usize {
    use eventsource_stream::Eventsource;
    let input = futures_util::stream::iter(chunks.iter().cloned().map(Ok::<_, std::io::Error>));
    rt.block_on(
        input
            .eventsource()
            .filter(|e| std::future::ready(e.is_ok()))
            .count(),
    )
}

fn compare(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let mut group = c.benchmark_group("sse_vs_peer");
    group.sample_size(10);
    for (name, input) in [
        // 1 MiB, not 8: the peer takes ~31 s per 8 MiB event in 1 KiB chunks (measured).
        ("one_1MiB_event_1KiB_chunks", big_event(1 << 20)),
        ("10k_small_events_1KiB_chunks", many_events(10_000)),
    ] {
        let parts = chunks(&input, 1024);
        group.throughput(Throughput::Bytes(input.len() as u64));
        group.bench_with_input(BenchmarkId::new("agentwire", name), &parts, |b, p| {
            b.iter(|| black_box(agentwire_decode(p)))
        });
        group.bench_with_input(
            BenchmarkId::new("eventsource-stream", name),
            &parts,
            |b, p| b.iter(|| black_box(peer_decode(&rt, p))),
        );
    }
    group.finish();
}

fn scaling(c: &mut Criterion) {
    let mut group = c.benchmark_group("sse_event_size_1KiB_chunks");
    group.sample_size(10);
    for mib in [1usize, 2, 4, 8] {
        let input = big_event(mib << 20);
        let parts = chunks(&input, 1024);
        group.throughput(Throughput::Bytes(input.len() as u64));
        group.bench_with_input(
            BenchmarkId::from_parameter(format!("{mib}MiB")),
            &parts,
            |b, p| b.iter(|| black_box(agentwire_decode(p))),
        );
    }
    group.finish();
}

criterion_group!(benches, compare, scaling);
criterion_main!(benches);
