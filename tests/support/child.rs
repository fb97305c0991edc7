//! Runs one `#[ignore]`d test of the current test binary in a child process with exactly the
//! environment variables given: how a test of `from_env()` sets variables without changing its
//! own process's environment (which other tests share, and which takes `unsafe` to change).

/// Runs test `name` (`--exact --ignored`) with every variable of `clear` removed and `vars`
/// set; its standard output.
pub fn run_child(name: &str, clear: &[&str], vars: &[(&str, &str)]) -> String {
    let exe = std::env::current_exe().expect("the test binary");
    let mut command = std::process::Command::new(exe);
    command.args(["--exact", name, "--ignored", "--nocapture"]);
    for variable in clear {
        command.env_remove(variable);
    }
    for (k, v) in vars {
        command.env(k, v);
    }
    let out = command.output().expect("the child runs");
    String::from_utf8_lossy(&out.stdout).into_owned()
}
