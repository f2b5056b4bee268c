//! Decides, when the tests are built, which suites this machine can run, so that `cargo test`
//! says so in its summary ("… passed; 0 failed; 123 ignored") instead of counting a suite that
//! did not run as passed. Each skipped test is listed with what to install or set.
//!
//! - `zicht_postgres`: `ZICHT_TEST_POSTGRES_URL` is set;
//! - `zicht_browser`: Debian's `chromium` and `chromium-driver` are installed.
//!
//! With `CI=true` both are always on: in CI a suite that cannot find its server fails, it never
//! skips. Cargo runs this again when either variable changes or a browser is installed.

use std::path::Path;

fn main() {
    println!("cargo::rustc-check-cfg=cfg(zicht_postgres)");
    println!("cargo::rustc-check-cfg=cfg(zicht_browser)");
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-env-changed=ZICHT_TEST_POSTGRES_URL");
    println!("cargo::rerun-if-env-changed=CI");
    println!("cargo::rerun-if-changed=/usr/bin");
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    let postgres = std::env::var("ZICHT_TEST_POSTGRES_URL").is_ok_and(|v| !v.trim().is_empty());
    let browser =
        Path::new("/usr/bin/chromedriver").exists() && Path::new("/usr/bin/chromium").exists();
    if ci || postgres {
        println!("cargo::rustc-cfg=zicht_postgres");
    }
    if ci || browser {
        println!("cargo::rustc-cfg=zicht_browser");
    }
}
