//! The cost of one call: agentwire's `client.agents().list().limit(50).send()` against raw
//! reqwest (`get().send()`, `bytes()`, `serde_json::from_slice` into `{data: Vec<Agent>}`, the
//! same generated type) on a fixed 50-agent BimpeAI list page (about 6 KB) from a loopback server
//! on the same current-thread runtime.
//!
//! Per call = (count after 400 calls − count after 200 calls) / 200, after 20 warm-up calls, so
//! start-up costs cancel out. Two counts:
//! - allocations, from a counting global allocator, in this process;
//! - instructions, from callgrind: the benchmark runs itself under
//!   `valgrind --tool=callgrind` once per (client, call count) when valgrind is installed.
//!
//! `cargo bench -p agentwire-benches --bench call_cost` prints, among the details:
//!
//! ```text
//! ratio request_instr_vs_reqwest 1.08
//! ratio request_allocs_vs_reqwest 1.21
//! ```

#![allow(missing_docs)]

use std::io::{Read as _, Write as _};
use std::process::Command;

use agentwire::bimpeai::{Client, types};
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[global_allocator]
static GLOBAL: &StatsAlloc<std::alloc::System> = &INSTRUMENTED_SYSTEM;

const WARM_UP: usize = 20;
const LOW: usize = 200;
const HIGH: usize = 400;

/// The fixed answer: a 50-agent page in BimpeAI's envelope, with HTTP/1.1 keep-alive framing.
fn page_response() -> Vec<u8> {
    let agents: Vec<String> = (1..=50)
        .map(|i| {
            format!(
                r#"{{"id":"a_{i}","name":"Support bot {i}","description":"Answers questions","status":"live","persona":"friendly","workflow_id":"wf_{i}","created_at":"2026-01-0{d}T10:00:00Z","updated_at":"2026-01-0{d}T12:00:00Z"}}"#,
                d = i % 9 + 1
            )
        })
        .collect();
    let body = format!(
        r#"{{"message":"ok","data":[{}],"meta":{{"total_count":50,"page_count":1,"current_page":1,"limit":50,"has_next_page":false,"has_previous_page":false}}}}"#,
        agents.join(",")
    );
    let mut out = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nx-request-id: req_1\r\n\r\n",
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body.as_bytes());
    out
}

/// Serves the fixed answer to every request on every connection (keep-alive).
async fn serve(listener: tokio::net::TcpListener, answer: &'static [u8]) {
    loop {
        let Ok((mut socket, _)) = listener.accept().await else {
            return;
        };
        tokio::spawn(async move {
            let mut buf = vec![0u8; 16 * 1024];
            let mut filled = 0;
            loop {
                let Ok(n) = socket.read(&mut buf[filled..]).await else {
                    return;
                };
                if n == 0 {
                    return;
                }
                filled += n;
                // GET requests have no body: each head ends a request.
                while let Some(end) = buf[..filled].windows(4).position(|w| w == b"\r\n\r\n") {
                    if socket.write_all(answer).await.is_err() {
                        return;
                    }
                    buf.copy_within(end + 4..filled, 0);
                    filled -= end + 4;
                }
            }
        });
    }
}

#[derive(serde::Deserialize)]
struct Envelope {
    data: Vec<types::Agent>,
}

/// A plain reqwest client (agentwire installs no process-wide crypto provider).
fn raw_http() -> reqwest::Client {
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("tls versions")
        .with_root_certificates(rustls::RootCertStore::empty())
        .with_no_client_auth();
    reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .build()
        .expect("http client")
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Which {
    Agentwire,
    Reqwest,
}

/// Runs `WARM_UP` calls, then `n` measured calls; the allocations of the measured calls.
fn run(which: Which, n: usize) -> usize {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let answer: &'static [u8] = Box::leak(page_response().into_boxed_slice());
        tokio::spawn(serve(listener, answer));
        let origin = format!("http://{addr}");
        let client = Client::builder()
            .api_key("sk_test")
            .base_url(&origin)
            .build()
            .expect("client");
        let http = raw_http();
        let url = format!("{origin}/api/v1/console/agents?limit=50");
        let call = |which| {
            let client = client.clone();
            let http = http.clone();
            let url = url.clone();
            async move {
                match which {
                    Which::Agentwire => {
                        let page = client
                            .agents()
                            .list()
                            .limit(50)
                            .send()
                            .await
                            .expect("agentwire call");
                        page.items().len()
                    }
                    Which::Reqwest => {
                        let response = http.get(&url).send().await.expect("reqwest call");
                        let bytes = response.bytes().await.expect("body");
                        let page: Envelope = serde_json::from_slice(&bytes).expect("decodes");
                        page.data.len()
                    }
                }
            }
        };
        for _ in 0..WARM_UP {
            assert_eq!(call(which).await, 50);
        }
        let region = Region::new(GLOBAL);
        for _ in 0..n {
            assert_eq!(call(which).await, 50);
        }
        region.change().allocations
    })
}

/// The instructions callgrind counts for a whole run of this binary in `--measure` mode.
fn instructions(which: Which, n: usize) -> Option<u64> {
    let exe = std::env::current_exe().ok()?;
    let out = std::env::temp_dir().join(format!(
        "agentwire-call-cost-{}-{which:?}-{n}.out",
        std::process::id()
    ));
    let status = Command::new("valgrind")
        .arg("--tool=callgrind")
        .arg(format!("--callgrind-out-file={}", out.display()))
        .arg(&exe)
        .arg("--measure")
        .arg(format!("{which:?}"))
        .arg(n.to_string())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .ok()?;
    if !status.success() {
        return None;
    }
    let mut text = String::new();
    std::fs::File::open(&out)
        .ok()?
        .read_to_string(&mut text)
        .ok()?;
    let _ = std::fs::remove_file(&out);
    text.lines()
        .find_map(|l| {
            l.strip_prefix("summary:")
                .or_else(|| l.strip_prefix("totals:"))
        })
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
}

fn per_call(low: f64, high: f64) -> f64 {
    (high - low) / (HIGH - LOW) as f64
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--measure") {
        let which = match args.get(i + 1).map(String::as_str) {
            Some("Reqwest") => Which::Reqwest,
            _ => Which::Agentwire,
        };
        let n = args.get(i + 2).and_then(|n| n.parse().ok()).unwrap_or(LOW);
        run(which, n);
        return;
    }
    // `cargo bench` passes `--bench`; any other argument is ignored.
    let mut out = std::io::stdout().lock();
    let allocs = |which| {
        let low = run(which, LOW) as f64;
        let high = run(which, HIGH) as f64;
        per_call(low, high)
    };
    let (ours, raw) = (allocs(Which::Agentwire), allocs(Which::Reqwest));
    let _ = writeln!(
        out,
        "allocations per call: agentwire {ours:.1}, reqwest {raw:.1}"
    );
    let instr = |which| -> Option<f64> {
        let low = instructions(which, LOW)? as f64;
        let high = instructions(which, HIGH)? as f64;
        Some(per_call(low, high))
    };
    match (instr(Which::Agentwire), instr(Which::Reqwest)) {
        (Some(a), Some(r)) => {
            let _ = writeln!(
                out,
                "instructions per call: agentwire {a:.0}, reqwest {r:.0}"
            );
            let _ = writeln!(out, "ratio request_instr_vs_reqwest {:.2}", a / r);
        }
        _ => {
            let _ = writeln!(
                out,
                "instructions: valgrind (callgrind) is not available; install it to measure them"
            );
        }
    }
    let _ = writeln!(out, "ratio request_allocs_vs_reqwest {:.2}", ours / raw);
}
