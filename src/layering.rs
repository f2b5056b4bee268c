//! The shape of the crate as a test: every module imports only from the layers below it
//! (ARCHITECTURE.md). A `crate::x` path anywhere in a file counts, not only in `use` lines.

use std::path::Path;

/// The layers, lowest first: a module may use the modules of every layer below its own, never
/// one beside or above it. (`domain` ← `engine` ← `rules`; `domain` ← `store`; those ← `auth` ←
/// `app` ← the adapters ← `cli`, which starts them.)
const LAYERS: &[&[&str]] = &[
    &["domain", "telemetry"],
    &["clock", "config", "engine", "store"],
    &["rules", "auth"],
    &["app"],
    &["http", "workers", "demo"],
    &["cli"],
];

fn layer(module: &str) -> Option<usize> {
    LAYERS.iter().position(|l| l.contains(&module))
}

/// The top-level modules a source text names as `crate::<module>`.
fn crate_paths(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find("crate::") {
        let after = &rest[i + "crate::".len()..];
        let name: String = after
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        // `$crate::` in macros names the crate itself, not a module.
        let in_macro = rest[..i].ends_with('$');
        if !name.is_empty() && !in_macro {
            found.push(name);
        }
        rest = after;
    }
    found
}

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("src is readable") {
        let path = entry.expect("src is readable").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|x| x == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn every_module_imports_only_from_the_layers_below_it() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut wrong = Vec::new();
    let mut checked = 0;
    for file in &files {
        let relative = file.strip_prefix(&src).expect("under src");
        let top = relative
            .components()
            .next()
            .and_then(|c| c.as_os_str().to_str())
            .map(|s| s.trim_end_matches(".rs"))
            .unwrap_or_default();
        let Some(own) = layer(top) else {
            assert!(
                ["lib", "main", "layering"].contains(&top),
                "{}: a new top-level module; give it a layer in `LAYERS` and ARCHITECTURE.md",
                relative.display()
            );
            continue;
        };
        checked += 1;
        let text = std::fs::read_to_string(file).expect("source is readable");
        for used in crate_paths(&text) {
            let below = layer(&used).is_some_and(|l| l < own);
            if used != top && !below {
                wrong.push(format!("{} uses crate::{used}", relative.display()));
            }
        }
    }
    assert!(checked > 40, "only {checked} files checked");
    wrong.sort();
    wrong.dedup();
    assert!(
        wrong.is_empty(),
        "imports from a layer above:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn the_layers_say_what_design_says() {
    assert!(layer("engine") < layer("rules"));
    assert_eq!(layer("engine"), layer("store"), "neither may use the other");
    assert!(layer("auth") < layer("app") && layer("app") < layer("http"));
    assert_eq!(
        layer("http"),
        layer("workers"),
        "adapters do not use each other"
    );
}

#[test]
fn the_check_sees_paths_anywhere_in_a_file() {
    let text = "use crate::store::Db;\nfn f() { crate::http::x(); $crate::domain::y() }";
    assert_eq!(crate_paths(text), ["store", "http"]);
}
