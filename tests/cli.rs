//! The `vae-train` binary: bad flags and bad data give a clear message and a non-zero exit (never
//! a panic); a short run on a small generated data set writes the PNGs and a loadable checkpoint.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output};

use vae_webgpu::layout::ParamLayout;
use vae_webgpu::mnist::{
    encode_idx, Dataset, TEST_IMAGES, TEST_LABELS, TRAIN_IMAGES, TRAIN_LABELS,
};

fn vae_train(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vae-train"))
        .args(args)
        .env("XDG_RUNTIME_DIR", "/tmp")
        .output()
        .unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn assert_fails_with(o: &Output, code: i32, needle: &str) {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(code), "stderr: {err}");
    assert!(err.contains(needle), "expected {needle:?} in stderr: {err}");
    assert!(!err.contains("panicked"), "panic: {err}");
}

fn write_set(dir: &Path, images: &str, labels: &str, d: &Dataset, gz: bool) {
    let img = encode_idx(&[d.len() as u32, d.rows, d.cols], &d.images);
    if gz {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(&img).unwrap();
        std::fs::write(dir.join(format!("{images}.gz")), enc.finish().unwrap()).unwrap();
    } else {
        std::fs::write(dir.join(images), img).unwrap();
    }
    std::fs::write(dir.join(labels), encode_idx(&[d.len() as u32], &d.labels)).unwrap();
}

fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("vae-cli-test-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn unknown_flag_is_a_usage_error() {
    assert_fails_with(&vae_train(&["--bogus"]), 2, "unexpected argument '--bogus'");
    assert_fails_with(&vae_train(&["--epochs", "many"]), 2, "invalid value 'many'");
}

#[test]
fn bad_hyperparameters_name_the_field() {
    assert_fails_with(&vae_train(&["--lr=-1"]), 1, "invalid config: lr");
    assert_fails_with(
        &vae_train(&["--batch-size", "0"]),
        1,
        "invalid config: batch_size",
    );
    assert_fails_with(
        &vae_train(&["--latent", "100000"]),
        1,
        "invalid config: latent",
    );
    assert_fails_with(&vae_train(&["--epochs", "0"]), 1, "invalid config: epochs");
}

#[test]
fn missing_data_says_how_to_get_it() {
    let dir = scratch("missing");
    assert_fails_with(
        &vae_train(&["--data", dir.to_str().unwrap()]),
        1,
        "scripts/fetch-mnist.sh",
    );
}

#[test]
fn malformed_data_names_the_file_and_defect() {
    let dir = scratch("malformed");
    let d = common::synthetic_digits(1, 20, 28);
    write_set(&dir, TRAIN_IMAGES, TRAIN_LABELS, &d, false);
    write_set(&dir, TEST_IMAGES, TEST_LABELS, &d, false);
    std::fs::write(dir.join(TRAIN_LABELS), encode_idx(&[20], &[12; 20])).unwrap();
    let o = vae_train(&["--data", dir.to_str().unwrap()]);
    assert_fails_with(
        &o,
        1,
        "train-labels-idx1-ubyte: label 12 at index 0 is out of range",
    );
}

#[test]
fn short_run_writes_pngs_and_a_loadable_checkpoint() {
    if common::gpu().is_none() {
        return;
    }
    let dir = scratch("run");
    let out = dir.join("out");
    write_set(
        &dir,
        TRAIN_IMAGES,
        TRAIN_LABELS,
        &common::synthetic_digits(1, 300, 28),
        true,
    );
    write_set(
        &dir,
        TEST_IMAGES,
        TEST_LABELS,
        &common::synthetic_digits(2, 50, 28),
        false,
    );
    let o = vae_train(&[
        "--data",
        dir.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--epochs",
        "2",
        "--batch-size",
        "32",
        "--hidden",
        "64",
        "--log-interval",
        "5",
    ]);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "stdout: {stdout}\nstderr: {}",
        stderr(&o)
    );
    assert!(stdout.contains("Train Epoch: 1 [0/300 (0%)]"), "{stdout}");
    assert!(
        stdout.contains("Train Epoch: 2 [160/300 (53%)]"),
        "{stdout}"
    );
    assert!(stdout.contains("====> Epoch: 2 Average loss:"), "{stdout}");
    assert!(stdout.contains("====> Test set loss:"), "{stdout}");
    for (name, w, h) in [("sampled-2.png", 242, 242), ("reconst-1.png", 242, 62)] {
        let file = std::fs::File::open(out.join(name)).unwrap();
        let reader = png::Decoder::new(std::io::BufReader::new(file))
            .read_info()
            .unwrap();
        assert_eq!(
            (reader.info().width, reader.info().height),
            (w, h),
            "{name}"
        );
    }
    let bytes = std::fs::read(out.join("vae-epoch-2.safetensors")).unwrap();
    let flat = vae_webgpu::checkpoint::load(&ParamLayout::new(784, 64, 20), &bytes).unwrap();
    assert!(flat.iter().all(|v| v.is_finite()));
}
