//! The contract suite (a plain `main`, so its `contract:` lines show in the test command's
//! output): every platform's spec checked against its fixtures and generated types. Fails on any
//! failure or uncovered operation, listing each with its fixture file, JSON pointer and rule.

use std::path::Path;
use std::process::ExitCode;

fn main() -> ExitCode {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut ok = true;
    for platform in agentwire::contract::platforms() {
        match agentwire::contract::check_dir(root, platform) {
            Ok(report) => {
                println!("{report}");
                ok &= report.ok();
            }
            Err(e) => {
                println!("contract: {platform} could not be checked: {e}");
                ok = false;
            }
        }
    }
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
