//! The generated WGSL (`shaders/generated/`, written by `scripts/gen-linear-direct.py`) is what
//! the script writes today: a change to the generator without rerunning it fails here.

use std::process::Command;

#[test]
fn the_generated_gemm_kernels_are_up_to_date() {
    let root = env!("CARGO_MANIFEST_DIR");
    let out = Command::new("python3")
        .arg(format!("{root}/scripts/gen-linear-direct.py"))
        .arg("--check")
        .output()
        .expect("python3 runs scripts/gen-linear-direct.py (install python3)");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains("match scripts/gen-linear-direct.py"),
        "{text}"
    );
}
