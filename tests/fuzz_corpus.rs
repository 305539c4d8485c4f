//! Replays every fuzz seed and regression input (fuzz/corpus/<target>/) through the fuzz targets'
//! bodies on every `cargo test`, so a crash found once stays fixed without a nightly toolchain.
//! The fuzzing itself: `scripts/fuzz.sh` (see README).

#[path = "../fuzz/targets.rs"]
mod targets;

use std::path::Path;

fn replay(target: &str, run: fn(&[u8])) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("seed-") || n.starts_with("regression-"))
        })
        .collect();
    files.sort();
    assert!(files.len() >= 5, "{target}: only {} seeds", files.len());
    for f in files {
        let bytes = std::fs::read(&f).unwrap();
        let result = std::panic::catch_unwind(|| run(&bytes));
        assert!(result.is_ok(), "{} panicked", f.display());
    }
}

#[test]
fn idx_corpus() {
    replay("idx", targets::idx);
}

#[test]
fn idx_gzip_corpus() {
    replay("idx_gzip", targets::idx_gzip);
}

#[test]
fn dataset_corpus() {
    replay("dataset", targets::dataset);
}

#[test]
fn checkpoint_corpus() {
    replay("checkpoint", targets::checkpoint);
}

#[test]
fn config_corpus() {
    replay("config", targets::config);
}

/// The seeds reach the outcomes they were written for (so the corpus stays meaningful when a
/// format changes).
#[test]
fn seeds_hit_their_branches() {
    use vae_webgpu::layout::ParamLayout;
    use vae_webgpu::mnist::parse_idx;
    let read = |t: &str, n: &str| {
        std::fs::read(
            Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("fuzz/corpus/{t}/seed-{n}")),
        )
        .unwrap()
    };
    assert!(parse_idx(&read("idx", "images"), 3).is_ok());
    assert!(parse_idx(&read("idx", "labels.gz"), 1).is_ok());
    assert!(parse_idx(&read("idx", "2pow32"), 1)
        .unwrap_err()
        .to_string()
        .contains("limit"));
    // 1,000 images claimed, 129 MiB of zeros after them: inflated past the gzip limit.
    let e = parse_idx(&read("idx", "gzip-past-limit"), 3).unwrap_err();
    assert!(
        matches!(e, vae_webgpu::IdxError::GzipTooLarge { .. }),
        "{e:?}"
    );
    let l = ParamLayout::new(13, 7, 3);
    assert!(vae_webgpu::checkpoint::load(&l, &read("checkpoint", "ok")).is_ok());
    // An f16 tensor loads (the display copies' form); other dtypes are refused.
    assert!(vae_webgpu::checkpoint::load(&l, &read("checkpoint", "f16")).is_ok());
    for (n, want) in [
        ("nan", "not finite"),
        ("wrong-shape", "has shape"),
        ("missing-tensor", "missing"),
        ("bf16", "is BF16, expected F32 (or F16)"),
    ] {
        let e = vae_webgpu::checkpoint::load(&l, &read("checkpoint", n))
            .unwrap_err()
            .to_string();
        assert!(e.contains(want), "{n}: {e}");
    }
}
