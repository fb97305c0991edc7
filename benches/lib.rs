//! The benchmark package of agentwire: see `sse.rs` (`cargo bench -p agentwire-benches`). The
//! library itself is empty; the benchmarks are its bench targets.
