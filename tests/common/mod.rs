//! What the end-to-end tests of the binary share: running `vigil` on a lake
//! and checking how it ended.

use std::path::Path;
use std::process::Command;

/// `vigil --lake LAKE`, run in the checkout (a test may change the folder).
pub fn vigil(lake: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_vigil"));
    cmd.current_dir(vigil_test_support::checkout())
        .arg("--lake")
        .arg(lake)
        .env_remove("VIGIL_LAKE");
    cmd
}

/// Runs `cmd` and returns its stdout; the test fails, showing stdout and
/// stderr, when the command does not succeed.
pub fn succeed(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// Runs `cmd`, which must fail with a clear error rather than a panic, and
/// returns its stderr.
#[allow(dead_code)] // not every test file checks failures
pub fn fail(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!out.status.success(), "succeeded: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    stderr
}
