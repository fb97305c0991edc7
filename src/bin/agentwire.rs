//! `agentwire`: tools for spec authors and CI (feature `cli`).
//!
//! ```text
//! agentwire contract check [--platform P] [--root DIR]
//! agentwire contract record --platform P --base-url URL [--allow-writes] [--root DIR] [--out DIR]
//! agentwire mock [--platform P] [--port N] [--strict]
//! agentwire spec lint [--root DIR]
//! ```
//!
//! Platform names are case-insensitive (`--platform BimpeAI`). Without `--root`, the commands
//! that read the repository find it by walking up from the current directory to the first
//! directory holding both `openapi/` and `fixtures/`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use agentwire::contract::{self, Contract};
use agentwire::mock::{Fixture, JournalLimits, MockServer};
use clap::{Args, Parser, Subcommand};

/// Prints a line; a closed pipe (`agentwire contract check | head`) is not an error worth a panic.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout().lock(), $($arg)*);
    }};
}

/// As `say!`, on stderr.
macro_rules! warn {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr().lock(), $($arg)*);
    }};
}
use serde_json::{Map, Value, json};

#[derive(Parser)]
#[command(
    name = "agentwire",
    version,
    about = "Spec and contract tools for agentwire"
)]
struct Cli {
    #[command(flatten)]
    root: Root,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check specs against fixtures, or record new fixtures from a live API.
    Contract {
        #[command(subcommand)]
        command: ContractCommand,
    },
    /// Serve the fixtures on loopback, one port per platform, for any client in any language:
    /// the matching fixture, else the default success fixture for a request valid against the
    /// spec, else a 400 in the platform's error format.
    Mock {
        /// Only this platform.
        #[arg(long)]
        platform: Option<String>,
        /// The first port (the next platforms take the following ones); 0 picks free ports.
        #[arg(long, default_value_t = 0)]
        port: u16,
        /// Only replay fixtures: a request no fixture matches gets 404 `mock_no_fixture`
        /// (for fixture authors).
        #[arg(long)]
        strict: bool,
    },
    /// Check the specs' conventions (openapi/README.md).
    Spec {
        #[command(subcommand)]
        command: SpecCommand,
    },
}

#[derive(Subcommand)]
enum ContractCommand {
    /// Check every fixture against its spec and generated types.
    Check {
        /// Only this platform.
        #[arg(long)]
        platform: Option<String>,
    },
    /// Replay the fixtures' requests against a live API and record its answers beside them.
    Record(RecordArgs),
}

#[derive(Subcommand)]
enum SpecCommand {
    /// Report every convention problem with its file and line.
    Lint,
}

#[derive(Args)]
struct Root {
    /// The repository root (holding openapi/ and fixtures/); by default the first directory
    /// holding both, from the current directory up. Accepted before or after the subcommand.
    #[arg(long, global = true)]
    root: Option<PathBuf>,
}

impl Root {
    /// The root given, or the one found walking up from the current directory.
    fn resolve(&self) -> Result<PathBuf, String> {
        if let Some(root) = &self.root {
            return Ok(root.clone());
        }
        let cwd = std::env::current_dir()
            .map_err(|e| format!("cannot read the current directory ({e}); pass --root DIR"))?;
        cwd.ancestors()
            .find(|dir| dir.join("openapi").is_dir() && dir.join("fixtures").is_dir())
            .map(Path::to_path_buf)
            .ok_or_else(|| {
                format!(
                    "no repository root (a directory holding openapi/ and fixtures/) in {} or above; run inside the repository or pass --root DIR",
                    cwd.display()
                )
            })
    }
}

#[derive(Args)]
struct RecordArgs {
    /// The platform to record.
    #[arg(long)]
    platform: String,
    /// The live API's origin (the platform's path prefix is added).
    #[arg(long)]
    base_url: String,
    /// Replay writes too (POST/PUT/PATCH/DELETE); by default only GETs are sent.
    #[arg(long)]
    allow_writes: bool,
    /// Where to write the recorded fixtures (default: beside the originals).
    #[arg(long)]
    out: Option<PathBuf>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            warn!("agentwire: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let root = cli.root;
    let result = runtime.block_on(async {
        match cli.command {
            Command::Contract {
                command: ContractCommand::Check { platform },
            } => check(platform.as_deref(), &root.resolve()?),
            Command::Contract {
                command: ContractCommand::Record(args),
            } => record(args, &root).await,
            Command::Mock {
                platform,
                port,
                strict,
            } => serve(platform.as_deref(), port, strict).await,
            Command::Spec {
                command: SpecCommand::Lint,
            } => lint(&root.resolve()?),
        }
    });
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            warn!("agentwire: {e}");
            ExitCode::from(2)
        }
    }
}

/// The platforms to work on: all of this build's, or the one named (in any case).
fn selected(platform: Option<&str>) -> Result<Vec<&'static str>, String> {
    let all = contract::platforms();
    match platform {
        None => Ok(all),
        Some(p) => all
            .iter()
            .find(|name| name.eq_ignore_ascii_case(p))
            .map(|name| vec![*name])
            .ok_or_else(|| {
                format!(
                    "no platform {p:?} in this build of agentwire (it has: {}); a platform is compiled in by its cargo feature",
                    all.join(", ")
                )
            }),
    }
}

/// `1 problem`, `2 problems`.
fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

fn platform_table(name: &str) -> Result<&'static agentwire::Platform, String> {
    contract::platform(name).ok_or_else(|| format!("platform {name:?} is not in this build"))
}

fn check(platform: Option<&str>, root: &Path) -> Result<bool, String> {
    let mut ok = true;
    let mut lines = Vec::new();
    for p in selected(platform)? {
        let report = contract::check_dir(root, p)?;
        for f in &report.failures {
            say!("FAIL {f}");
        }
        ok &= report.ok();
        lines.push(report.summary());
    }
    for line in lines {
        say!("{line}");
    }
    Ok(ok)
}

fn lint(root: &Path) -> Result<bool, String> {
    let problems = contract::lint_dir(root)?;
    for p in &problems {
        say!("{p}");
    }
    say!("spec lint: {}", count(problems.len(), "problem"));
    Ok(problems.is_empty())
}

async fn serve(platform: Option<&str>, port: u16, strict: bool) -> Result<bool, String> {
    let mut servers = Vec::new();
    for (i, name) in selected(platform)?.into_iter().enumerate() {
        let table = platform_table(name)?;
        let port = if port == 0 {
            0
        } else {
            port.saturating_add(i as u16)
        };
        let server = MockServer::builder(table)
            .port(port)
            .strict(strict)
            .journal_limits(JournalLimits::COMMAND)
            .start()
            .await
            .map_err(|e| format!("{name}: {e}"))?;
        describe(name, &server);
        servers.push(server);
    }
    say!(
        "mock: serving {}{}; Ctrl-C stops",
        count(servers.len(), "platform"),
        if strict {
            " in strict mode (a request no fixture matches gets 404 mock_no_fixture)"
        } else {
            ""
        }
    );
    tokio::signal::ctrl_c()
        .await
        .map_err(|e| format!("cannot wait for Ctrl-C: {e}"))?;
    Ok(true)
}

/// What a client needs to know about one served platform: its URLs, then every operation (method,
/// path, id) with its fixtures, the default answer to a valid request marked `*`.
fn describe(name: &str, server: &MockServer) {
    let index = server.index();
    say!("{name}: {}", server.platform_url());
    say!(
        "  base URL for clients: {} (agentwire and the platform's SDKs add the path prefix; plain HTTP sends the paths below to it; every host is also served under /_hosts/<host>)",
        server.base_url()
    );
    say!("  index (JSON): {}", server.index_url());
    if let Some(url) = server.realtime_url() {
        say!(
            "  real-time WebSocket: {url}?<credential>=<any value> (subscribe to a topic; the writes the spec lists are announced to it)"
        );
    }
    say!(
        "  operations and their fixtures (* the default answer to a valid request no other fixture matches):"
    );
    let operations = index["operations"].as_array().cloned().unwrap_or_default();
    // Each operation's path on this server: its host's prefix included (`/admin/v1/teamspaces`),
    // as a plain HTTP client sends it to the base URL.
    let origin = server.base_url();
    let path_of = |op: &Value| -> String {
        op["url"]
            .as_str()
            .and_then(|u| u.strip_prefix(origin.as_str()))
            .or(op["path"].as_str())
            .unwrap_or_default()
            .to_owned()
    };
    let width = operations
        .iter()
        .map(|op| path_of(op).len())
        .max()
        .unwrap_or(0);
    for op in &operations {
        let default = op["default"].as_str();
        let fixtures: Vec<String> = op["fixtures"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(|f| {
                if Some(f) == default {
                    format!("{f}*")
                } else {
                    f.to_owned()
                }
            })
            .collect();
        say!(
            "  {:<6} {:<width$}  {}: {}",
            op["method"].as_str().unwrap_or_default(),
            path_of(op),
            op["id"].as_str().unwrap_or_default(),
            fixtures.join(", ")
        );
    }
}

/// The secrets the recorder sends, read from the environment variables the platform's spec
/// names for its credentials (BimpeAI: `BIMPEAI_API_KEY`).
fn credentials(table: &'static agentwire::Platform) -> Vec<(&'static str, String)> {
    table
        .credentials
        .iter()
        .filter_map(|c| {
            std::env::var(c.env)
                .ok()
                .filter(|v| !v.is_empty())
                .map(|v| (c.name, v))
        })
        .collect()
}

async fn record(args: RecordArgs, root: &Root) -> Result<bool, String> {
    let platform = selected(Some(&args.platform))?
        .into_iter()
        .next()
        .ok_or_else(|| format!("unknown platform {:?}", args.platform))?;
    let table = platform_table(platform)?;
    let root = root.resolve()?;
    let root = root.as_path();
    let contract = Contract::from_dir(root, platform)?;
    let fixtures = contract::read_fixtures(root, platform)?;
    let secrets = credentials(table);
    let out_dir = args
        .out
        .clone()
        .unwrap_or_else(|| root.join("fixtures").join(platform));
    std::fs::create_dir_all(&out_dir).map_err(|e| format!("{}: {e}", out_dir.display()))?;
    let recorder = agentwire::contract::Recorder::new(table, &args.base_url, &secrets)?;

    let (mut recorded, mut skipped, mut differences) = (0usize, 0usize, 0usize);
    for fixture in &fixtures {
        let Some(op) = table.operation(&fixture.operation) else {
            say!("skip {}: unknown operation", fixture.file);
            skipped += 1;
            continue;
        };
        if op.stream.is_some() {
            say!("skip {}: streams are not recorded", fixture.file);
            skipped += 1;
            continue;
        }
        if op.method.is_write() && !args.allow_writes {
            say!("skip {}: a write (use --allow-writes)", fixture.file);
            skipped += 1;
            continue;
        }
        let answer = recorder.replay(op, fixture).await;
        let status = answer.status;
        let body = answer.body.clone();
        let diffs = contract.differences(&fixture.operation, status, body.as_ref());
        for d in &diffs {
            // Computed from the redacted answer; redacted again, so no line can carry a secret.
            let line = format!(
                "DIFF {} ({} {}): {d}",
                fixture.file, fixture.operation, status
            );
            say!("{}", recorder.redact(&line));
        }
        differences += diffs.len();
        let stem = Path::new(&fixture.file)
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| fixture.operation.clone());
        let path = out_dir.join(format!("{stem}.recorded.json"));
        let new = recorded_fixture(fixture, answer);
        let text = serde_json::to_string_pretty(&new).map_err(|e| e.to_string())? + "\n";
        std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?;
        say!("recorded {} -> {} ({status})", fixture.file, path.display());
        recorded += 1;
    }
    say!(
        "record: {platform} {recorded} recorded, {skipped} skipped, {} from the spec",
        count(differences, "difference")
    );
    Ok(differences == 0)
}

/// The original request (its test credentials untouched) with the live answer.
fn recorded_fixture(original: &Fixture, answer: agentwire::contract::Recorded) -> Value {
    let mut response = Map::new();
    response.insert("status".into(), json!(answer.status));
    response.insert("headers".into(), json!(answer.headers));
    match (answer.body, answer.text) {
        (Some(body), _) => {
            response.insert("body".into(), body);
        }
        (None, Some(text)) => {
            response.insert("text".into(), json!(text));
        }
        (None, None) => {}
    }
    json!({
        "operation": original.operation,
        "title": format!("recorded from the live API ({})", original.title.clone().unwrap_or_default()),
        "request": original.request,
        "response": Value::Object(response),
    })
}
