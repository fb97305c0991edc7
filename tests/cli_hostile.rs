//! The `agentwire` command on hostile input, run as a process on broken scratch copies of the
//! repository: every problem is a reported line with its file and line (or JSON pointer, or byte
//! offset), never a crash or a tool error without a place.

#![cfg(feature = "bimpeai")]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_agentwire");
const SPEC: &str = "openapi/bimpeai.yaml";

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A scratch copy of openapi/ and fixtures/ that a test may break; removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!(
            "agentwire-cli-hostile-{}-{name}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        for sub in ["openapi", "fixtures/bimpeai"] {
            std::fs::create_dir_all(dir.join(sub)).expect("mkdir");
            for entry in std::fs::read_dir(repo().join(sub)).expect("read") {
                let path = entry.expect("entry").path();
                if path.is_file() {
                    std::fs::copy(&path, dir.join(sub).join(path.file_name().expect("name")))
                        .expect("copy");
                }
            }
        }
        Scratch(dir)
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.0.join(rel)
    }

    fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.path(rel)).expect("read")
    }

    fn write(&self, rel: &str, bytes: impl AsRef<[u8]>) {
        std::fs::write(self.path(rel), bytes).expect("write");
    }

    fn run(&self, args: &[&str]) -> Output {
        let root = self.0.to_string_lossy().into_owned();
        Command::new(BIN)
            .args(args)
            .args(["--root", &root])
            .output()
            .expect("the binary runs")
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The 1-based line of the first line containing `needle`.
fn line_of(text: &str, needle: &str) -> usize {
    text.lines()
        .position(|l| l.contains(needle))
        .map(|i| i + 1)
        .expect("needle present")
}

/// `spec lint` found problems (exit 1, not a crash or a tool error) and printed exactly `lines`.
fn assert_lint(o: &Output, lines: &[String]) {
    let out = stdout(o);
    assert_eq!(
        o.status.code(),
        Some(1),
        "stdout:\n{out}\nstderr:\n{}",
        stderr(o)
    );
    let mut expected = lines.join("\n");
    let noun = if lines.len() == 1 {
        "problem"
    } else {
        "problems"
    };
    expected.push_str(&format!("\nspec lint: {} {noun}\n", lines.len()));
    assert_eq!(out, expected);
}

#[test]
fn spec_lint_reports_deep_nesting_with_its_line() {
    let s = Scratch::new("deep");
    let mut text = s.read(SPEC);
    let line = text.lines().count() + 2;
    text.push_str(&format!("x-deep:\n  {}leaf\n", "- ".repeat(5_000)));
    s.write(SPEC, &text);
    let o = s.run(&["spec", "lint"]);
    assert_lint(
        &o,
        &[format!(
            "{SPEC}:{line}: mappings and sequences nest more than 64 levels deep here (a spec needs far fewer)"
        )],
    );
}

#[test]
fn spec_lint_reports_a_byte_that_is_not_utf8_with_its_line() {
    let s = Scratch::new("utf8");
    let text = s.read(SPEC);
    let line = line_of(&text, "summary: List the team's agents.");
    let offset = text.find("List the team's agents.").expect("present");
    let mut bytes = text.into_bytes();
    bytes[offset] = 0xfe;
    s.write(SPEC, &bytes);
    let o = s.run(&["spec", "lint"]);
    assert_lint(
        &o,
        &[format!(
            "{SPEC}:{line}: not UTF-8: byte 0xfe at byte offset {offset} (specs are UTF-8 text)"
        )],
    );
}

#[test]
fn spec_lint_reports_a_tab_after_a_plain_scalar_on_the_tab_line() {
    let s = Scratch::new("tab");
    let text = s.read(SPEC).replacen(
        "      summary: List the team's agents.\n",
        "      summary: List the team's agents.\n\tx-note: tab-indented\n",
        1,
    );
    s.write(SPEC, &text);
    let line = line_of(&text, "\tx-note");
    let o = s.run(&["spec", "lint"]);
    assert_lint(
        &o,
        &[format!(
            "{SPEC}:{line}: not valid YAML: while scanning a plain scalar, found a tab"
        )],
    );
}

#[test]
fn spec_lint_and_contract_check_refuse_a_cycle_of_bare_references() {
    let s = Scratch::new("cycle");
    let mut text = s.read(SPEC);
    assert!(text.ends_with("        submitted_by_agent_id: {type: string}\n"));
    text.push_str(
        "    LoopA:\n      $ref: '#/components/schemas/LoopB'\n    LoopB:\n      $ref: '#/components/schemas/LoopA'\n",
    );
    s.write(SPEC, &text);
    let line = line_of(&text, "    LoopA:") + 1;
    let problem = format!(
        "{SPEC}:{line}: schemas LoopA -> LoopB -> LoopA refer to one another with no object property or array item in between: they describe no finite value and have no Rust type (recursion must go through a property or `items`)"
    );
    assert_lint(&s.run(&["spec", "lint"]), std::slice::from_ref(&problem));
    // The contract tooling reads specs the same way: it refuses to check against this one.
    let o = s.run(&["contract", "check", "--platform", "bimpeai"]);
    assert_eq!(o.status.code(), Some(2), "{}", stdout(&o));
    assert!(stderr(&o).contains(&problem), "{}", stderr(&o));
}

#[test]
fn contract_check_reports_broken_fixture_files_with_their_place() {
    let s = Scratch::new("fixtures");
    let list = "fixtures/bimpeai/agents.list.json";
    let text = s.read(list).replacen(
        "\"x-request-id\": \"",
        "\"x-request-id\": \"bad\\r\\nset-cookie: x\\r\\n",
        1,
    );
    assert!(
        text.contains("\\r\\nset-cookie"),
        "the fixture has a request id header"
    );
    s.write(list, &text);
    let mut bytes = s.read("fixtures/bimpeai/calls.list.json").into_bytes();
    bytes.insert(1, 0xff);
    s.write("fixtures/bimpeai/calls.list.json", &bytes);
    std::fs::copy(
        s.path("fixtures/bimpeai/workflows.list.json"),
        s.path("fixtures/bimpeai/Workflows.List.json"),
    )
    .expect("copy");

    let o = s.run(&["contract", "check", "--platform", "bimpeai"]);
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(1), "{out}\n{}", stderr(&o));
    let coverage = format!(
        "FAIL openapi/bimpeai.yaml:{}: /paths/~1agents/get [coverage] operation agents.list has no default success fixture agents.list.json",
        line_of(&s.read(SPEC), "      operationId: agents.list")
    );
    for line in [
        "FAIL fixtures/bimpeai/agents.list.json: /response/headers/x-request-id [header] the value of header `x-request-id` holds a line break (CR or LF), which no HTTP header value can",
        "FAIL fixtures/bimpeai/calls.list.json: [utf-8] not UTF-8: byte 0xff at byte offset 1 (line 1)",
        "FAIL fixtures/bimpeai/workflows.list.json: [name] its name equals `Workflows.List.json` but for case: on a case-insensitive file system they are one file",
        "FAIL fixtures/bimpeai/Workflows.List.json: /operation [name] the file name must be `workflows.list.json` or `workflows.list.<case>.json`",
        coverage.as_str(),
        "contract: bimpeai 56/58 operations, 76 fixtures, 6 failures",
    ] {
        assert!(out.contains(line), "missing {line:?} in:\n{out}");
    }
}
