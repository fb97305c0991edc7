//! Contract checks: every fixture of a platform checked against its spec and its generated
//! types (feature `contract`; the test suite and `agentwire contract check` run them).
//!
//! For each fixture: its operation exists and its method and path fit it (literal segments
//! first); its request carries the required parameters with values of the declared types and a
//! body valid against the request schema; its status is declared and its body valid against that
//! status's schema (for streams, every event against its event schema); the body decodes into
//! the generated type and encodes again without losing a field the spec names; enum values are
//! checked strictly. Over the spec: every operation has its default success fixture,
//! `<operationId>.json` (what the mock answers a valid request with). A failure names the
//! fixture file, the JSON pointer inside it, and the rule.
//!
//! ```no_run
//! let report = agentwire::contract::check_dir(std::path::Path::new("."), "bimpeai").unwrap();
//! println!("{}", report.summary()); // contract: bimpeai 58/58 operations, 75 fixtures, 0 failures
//! ```

#[path = "../../build/yaml.rs"]
#[allow(dead_code, missing_docs)]
mod yaml;

#[path = "../../build/checks.rs"]
#[allow(dead_code, missing_docs)]
mod checks;

#[path = "../../build/model.rs"]
#[allow(dead_code, missing_docs, clippy::all)]
mod model;

// The same file build.rs compiles to give the mock its request schemas.
#[path = "../../build/schema.rs"]
pub mod schema;

mod check;
mod record;

// The method names spec names may not become, derived by build.rs (build/names.rs) from the
// request builder's sources and the generator's output: the lint applies the build's list.
include!(concat!(env!("OUT_DIR"), "/reserved_names.rs"));

/// The reserved names as the spec check takes them.
fn reserved() -> model::Reserved {
    model::Reserved::from_table(RESERVED)
}

pub use check::{Contract, Difference, Failure, MAX_VALUE_DEPTH, Report};
pub use record::{Recorded, Recorder};

use std::path::Path;

use crate::mock::{Fixture, FixtureError};

/// The platforms compiled into this build, in name order.
pub fn platforms() -> Vec<&'static str> {
    crate::registry::platforms().map(|e| e.name).collect()
}

/// The operation table of the platform of this build named `name` (exactly, as
/// [`platforms`] lists it).
pub fn platform(name: &str) -> Option<&'static crate::Platform> {
    crate::registry::platforms()
        .find(|e| e.name == name)
        .map(|e| e.platform)
}

/// Reads `openapi/<platform>.yaml` and `fixtures/<platform>/*.json` under `root`, and checks
/// them: every fixture against the spec (see [`Contract::check`]), and the files themselves. A
/// file that is not a fixture (not UTF-8, not JSON, a header the HTTP wire cannot carry) is a
/// failure naming the file and the place, as are two file names equal but for case (one file on
/// a case-insensitive file system).
pub fn check_dir(root: &Path, platform: &str) -> Result<Report, String> {
    let contract = Contract::from_dir(root, platform)?;
    let files = fixture_files(root, platform)?;
    let names: Vec<&str> = files.iter().map(|(name, _)| name.as_str()).collect();
    let mut failures = check::case_collisions(&names);
    let count = files.len();
    let mut fixtures = Vec::with_capacity(count);
    for (_, parsed) in files {
        match parsed {
            Ok(f) => fixtures.push(f),
            Err(e) => failures.push(Failure {
                fixture: e.file,
                pointer: e.pointer,
                rule: e.rule,
                message: e.message,
            }),
        }
    }
    let mut report = contract.check(&fixtures);
    report.fixtures = count;
    failures.append(&mut report.failures);
    report.failures = failures;
    Ok(report)
}

/// The fixtures of a platform under `root`, sorted by file name; the first file that is not a
/// fixture is the error.
pub fn read_fixtures(root: &Path, platform: &str) -> Result<Vec<Fixture>, String> {
    fixture_files(root, platform)?
        .into_iter()
        .map(|(_, parsed)| parsed.map_err(String::from))
        .collect()
}

/// One fixture file: its name as in messages (`fixtures/bimpeai/agents.list.json`), parsed.
type FixtureFile = (String, Result<Fixture, FixtureError>);

/// Every `fixtures/<platform>/*.json` under `root`, sorted, each parsed from its bytes.
fn fixture_files(root: &Path, platform: &str) -> Result<Vec<FixtureFile>, String> {
    let paths = files(&root.join("fixtures").join(platform), &["json"])?;
    let mut out = Vec::with_capacity(paths.len());
    for path in paths {
        let name = format!(
            "fixtures/{platform}/{}",
            path.file_name()
                .map(|n| n.to_string_lossy())
                .unwrap_or_default()
        );
        let bytes = std::fs::read(&path).map_err(|e| format!("{name}: {e}"))?;
        let parsed = Fixture::parse_bytes(&name, &bytes);
        out.push((name, parsed));
    }
    Ok(out)
}

/// Checks the conventions of every `openapi/*.yaml` under `root`; the problems, each starting
/// with `file:line`.
pub fn lint_dir(root: &Path) -> Result<Vec<String>, String> {
    let paths = files(&root.join("openapi"), &["yaml", "yml"])?;
    let mut problems = Vec::new();
    for path in paths {
        let rel = format!(
            "openapi/{}",
            path.file_name()
                .map(|n| n.to_string_lossy())
                .unwrap_or_default()
        );
        let bytes = std::fs::read(&path).map_err(|e| format!("{rel}: {e}"))?;
        match yaml::load_bytes(&rel, &bytes) {
            Ok(loaded) => {
                if let Err(errors) = model::read(&loaded, &reserved()) {
                    problems.extend(errors);
                }
            }
            Err(e) => problems.push(e),
        }
    }
    Ok(problems)
}

/// The files of `dir` with one of `extensions`, sorted.
fn files(dir: &Path, extensions: &[&str]) -> Result<Vec<std::path::PathBuf>, String> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut paths: Vec<_> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.extension()
                .is_some_and(|x| extensions.iter().any(|e| x == *e))
        })
        .collect();
    paths.sort();
    Ok(paths)
}
