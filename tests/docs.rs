//! What the docs name exists: every file or folder path in backticks in README.md, docs/ and
//! npm/README.md is in the repository (outputs such as `pkg/` and `dist/` aside), every script
//! command names a script that is there, and every JS call the package's docs name (`name(…)`)
//! is declared in npm/index.d.ts.

use std::path::Path;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
/// Folders a path in the docs may be written relative to (`train/mod.rs` is `src/train/mod.rs`).
const BASES: [&str; 6] = ["", "src", "www", "shaders", "tests", "npm"];
/// Paths that are outputs of a build or a run, or examples of a user's own.
const OUTPUTS: [&str; 9] = [
    "pkg",
    "dist",
    "target",
    "data/mnist",
    "results",
    "node_modules",
    "some/path",
    "package.json",
    "e2e/",
];

fn docs() -> Vec<(String, String)> {
    let mut out = Vec::new();
    // Not CHANGELOG.md: history names files as they were.
    for name in ["README.md", "npm/README.md"] {
        out.push((
            name.to_string(),
            std::fs::read_to_string(Path::new(ROOT).join(name)).unwrap(),
        ));
    }
    for entry in std::fs::read_dir(Path::new(ROOT).join("docs")).unwrap() {
        let p = entry.unwrap().path();
        if p.extension().is_some_and(|e| e == "md") {
            let name = format!("docs/{}", p.file_name().unwrap().to_string_lossy());
            out.push((name, std::fs::read_to_string(&p).unwrap()));
        }
    }
    out
}

/// The spans in backticks of `text`.
fn code_spans(text: &str) -> Vec<&str> {
    text.split('`').skip(1).step_by(2).collect()
}

fn exists(path: &str) -> bool {
    let p = path.trim_start_matches("./").trim_end_matches('/');
    BASES.iter().any(|b| {
        let full = Path::new(ROOT).join(b).join(p);
        full.exists() || full.with_extension("rs").exists()
    })
}

#[test]
fn every_path_the_docs_name_exists() {
    let mut missing = Vec::new();
    for (doc, text) in docs() {
        for span in code_spans(&text) {
            let looks_like_path = span.contains('/')
                && !span.contains(' ')
                && !span.contains("://")
                && span
                    .chars()
                    .all(|c| c.is_alphanumeric() || "._-/".contains(c));
            if !looks_like_path
                || OUTPUTS.iter().any(|o| {
                    span.trim_start_matches("./")
                        .trim_start_matches('/')
                        .starts_with(o)
                })
            {
                continue;
            }
            if !exists(span) {
                missing.push(format!("{doc}: `{span}`"));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "paths the docs name that are not in the repository:\n{}",
        missing.join("\n")
    );
}

#[test]
fn every_script_the_docs_run_exists() {
    let mut missing = Vec::new();
    for (doc, text) in docs() {
        for span in code_spans(&text) {
            for word in span.split_whitespace() {
                if word.starts_with("scripts/") && !Path::new(ROOT).join(word).exists() {
                    missing.push(format!("{doc}: `{span}`"));
                }
            }
            if let Some(bin) = span
                .split("--bin ")
                .nth(1)
                .and_then(|b| b.split_whitespace().next())
            {
                if !Path::new(ROOT).join(format!("src/bin/{bin}.rs")).is_file() {
                    missing.push(format!("{doc}: `{span}`"));
                }
            }
        }
    }
    assert!(
        missing.is_empty(),
        "commands the docs give that name nothing here:\n{}",
        missing.join("\n")
    );
}

#[test]
fn every_js_call_the_package_docs_name_is_declared() {
    let types = std::fs::read_to_string(Path::new(ROOT).join("npm/index.d.ts")).unwrap();
    let mut missing = Vec::new();
    for doc in ["npm/README.md", "docs/npm.md"] {
        let text = std::fs::read_to_string(Path::new(ROOT).join(doc)).unwrap();
        for span in code_spans(&text) {
            // `name(…)` or `object.name(…)`: the last identifier before the first "(".
            let Some(head) = span.split('(').next().filter(|_| span.contains('(')) else {
                continue;
            };
            if head.contains(' ') || head.contains('=') {
                continue;
            }
            let name = head.rsplit('.').next().unwrap_or(head);
            if name.is_empty() || !name.chars().all(|c| c.is_alphanumeric() || c == '_') {
                continue;
            }
            // Declared, or re-exported from the wasm module (`export { …, name, … }`).
            let ident = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
            let declared = types.match_indices(name).any(|(at, _)| {
                !ident(types[..at].chars().last())
                    && !ident(types[at + name.len()..].chars().next())
            });
            // Calls of the platform or of the examples' own code, not the package's.
            let platform = [
                "structuredClone",
                "fetch",
                "postMessage",
                "import",
                "init",
                "new",
                "Worker",
                "console",
                "log",
                "JSON",
                "stringify",
                "abort",
                "AbortController",
                "Symbol",
                "using",
                "await",
                "drawImage",
                "getContext",
                "transferControlToOffscreen",
            ];
            if !declared && !platform.contains(&name) {
                missing.push(format!("{doc}: `{span}`"));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "JS calls the docs name that npm/index.d.ts does not declare:\n{}",
        missing.join("\n")
    );
}
