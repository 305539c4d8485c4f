//! Helpers shared by the GPU tests: a device (failing, not skipping, when `CI` is set), seeded
//! data, padding, and the tolerance check every comparison uses.
#![allow(dead_code)]

#[cfg(feature = "webgpu")]
pub mod checks;
pub mod cpu_checks;

use vae_webgpu::layout::ld;
use vae_webgpu::mnist::Dataset;
use vae_webgpu::rng::{SplitMix64, STREAM_DATA};

/// The GPU, or `None` (with a printed SKIPPED line) when there is no adapter outside CI.
#[cfg(not(target_arch = "wasm32"))]
#[cfg(feature = "webgpu")]
pub fn gpu() -> Option<vae_webgpu::gpu::Gpu> {
    or_skip(pollster::block_on(vae_webgpu::gpu::Gpu::new()))
}

/// The face's device (what `Session::open` takes), or `None` as [`gpu`] gives it.
#[cfg(not(target_arch = "wasm32"))]
#[cfg(feature = "webgpu")]
pub fn device() -> Option<vae_webgpu::session::Device> {
    or_skip(pollster::block_on(vae_webgpu::session::Device::open()))
}

/// An adapter's result, or `None` with a SKIPPED line — a panic when `CI` is set.
#[cfg(not(target_arch = "wasm32"))]
#[cfg(feature = "webgpu")]
fn or_skip<T>(r: vae_webgpu::Result<T>) -> Option<T> {
    match r {
        Ok(v) => Some(v),
        Err(e) => {
            if std::env::var_os("CI").is_some() {
                panic!("CI is set but no GPU adapter could be created: {e}");
            }
            eprintln!("SKIPPED: no GPU adapter ({e})");
            None
        }
    }
}

/// MNIST from data/mnist (scripts/fetch-mnist.sh; the test command fetches it), or `None` with
/// a SKIPPED line — a failure when `CI` is set.
#[cfg(not(target_arch = "wasm32"))]
pub fn mnist() -> Option<(Dataset, Dataset)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data/mnist");
    match vae_webgpu::mnist::load_mnist_dir(&dir) {
        Ok(data) => Some(data),
        Err(e) => {
            assert!(
                std::env::var_os("CI").is_none(),
                "CI is set but data/mnist is missing: {e}"
            );
            eprintln!("SKIPPED: no MNIST in data/mnist (scripts/fetch-mnist.sh)");
            None
        }
    }
}

/// `n` uniform values in [lo, hi), seeded.
pub fn uniform(seed: u64, n: usize, lo: f32, hi: f32) -> Vec<f32> {
    let mut g = SplitMix64::new(seed, STREAM_DATA, 0);
    (0..n)
        .map(|_| lo + (hi - lo) * g.next_f64() as f32)
        .collect()
}

/// Dense (rows, cols) → rows padded to ld(cols) with zeros.
pub fn pad(dense: &[f32], rows: usize, cols: usize) -> Vec<f32> {
    let mut out = vec![0.0; rows * ld(cols)];
    for r in 0..rows {
        out[r * ld(cols)..r * ld(cols) + cols].copy_from_slice(&dense[r * cols..(r + 1) * cols]);
    }
    out
}

/// Padded (rows, ld(cols)) → dense, asserting the padding is zero.
pub fn unpad(padded: &[f32], rows: usize, cols: usize, what: &str) -> Vec<f32> {
    let mut out = Vec::with_capacity(rows * cols);
    for r in 0..rows {
        let row = &padded[r * ld(cols)..(r + 1) * ld(cols)];
        assert!(
            row[cols..].iter().all(|&v| v == 0.0),
            "{what}: padding of row {r} is not zero: {:?}",
            &row[cols..]
        );
        out.extend_from_slice(&row[..cols]);
    }
    out
}

pub fn to_f64(v: &[f32]) -> Vec<f64> {
    v.iter().map(|&x| f64::from(x)).collect()
}

/// Asserts |got − want| ≤ atol + rtol·|want| everywhere; on failure prints the first
/// mismatches and the largest difference.
pub fn assert_close(what: &str, got: &[f32], want: &[f64], atol: f64, rtol: f64) {
    assert_close_with(what, got, want, atol, rtol, |_| 0.0);
}

/// [`assert_close`] for sums of `k` f32 products, each element also allowed u·√k·Σ|terms|
/// (`abs_sums[i]`: the same sum over the terms' absolute values; u = 2⁻²⁴), the usual rounding
/// of a k-term f32 sum in whatever order and with whatever fused multiply-adds an adapter's
/// compiler picks. The CPU adapters stay within the plain bound; an H100 (Vulkan) missed it by
/// 1.1e-6 on one of 51,200 784-term dot products. A missing or doubled term still fails: it is
/// as large as a term, far above u·√k·Σ|terms|.
pub fn assert_close_sum(
    what: &str,
    got: &[f32],
    want: &[f64],
    abs_sums: &[f64],
    k: usize,
    (atol, rtol): (f64, f64),
) {
    assert_eq!(abs_sums.len(), want.len(), "{what}: abs_sums length");
    let per_term = f64::from(f32::EPSILON) / 2.0 * (k as f64).sqrt();
    assert_close_with(what, got, want, atol, rtol, |i| per_term * abs_sums[i]);
}

fn assert_close_with(
    what: &str,
    got: &[f32],
    want: &[f64],
    atol: f64,
    rtol: f64,
    extra: impl Fn(usize) -> f64,
) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    let mut bad = Vec::new();
    let mut max_diff = 0.0f64;
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        let d = (f64::from(g) - w).abs();
        max_diff = max_diff.max(d);
        if d.is_nan() || d > atol + rtol * w.abs() + extra(i) {
            bad.push((i, g, w, d));
        }
    }
    if !bad.is_empty() {
        for (i, g, w, d) in bad.iter().take(8) {
            eprintln!("{what}[{i}]: got {g}, want {w}, diff {d:e}");
        }
        panic!(
            "{what}: {} of {} values differ (max diff {max_diff:e}, atol {atol:e}, rtol {rtol:e})",
            bad.len(),
            got.len()
        );
    }
}

/// A generated "digit" set: `n` images of side×side bytes, each one of ten stroke prototypes
/// (label = prototype) shifted by up to two pixels, with noise; seeded.
pub fn synthetic_digits(seed: u64, n: usize, side: usize) -> Dataset {
    let mut g = SplitMix64::new(seed, STREAM_DATA, 1);
    let mut images = vec![0u8; n * side * side];
    let mut labels = vec![0u8; n];
    let s = side as f64;
    for k in 0..n {
        let label = g.below(10) as u8;
        labels[k] = label;
        let (dx, dy) = (g.below(5) as f64 - 2.0, g.below(5) as f64 - 2.0);
        let angle = f64::from(label) * 0.6;
        for y in 0..side {
            for x in 0..side {
                let (fx, fy) = ((x as f64 - dx) / s - 0.5, (y as f64 - dy) / s - 0.5);
                // a ring of radius depending on the label, cut by a rotated bar
                let r = (fx * fx + fy * fy).sqrt();
                let ring = (-((r - 0.18 - 0.015 * f64::from(label)) / 0.04).powi(2)).exp();
                let along = fx * angle.cos() + fy * angle.sin();
                let bar = (-(along / 0.035).powi(2)).exp() * if r < 0.3 { 1.0 } else { 0.0 };
                let v = (ring.max(bar) + 0.05 * g.next_f64()).min(1.0);
                images[k * side * side + y * side + x] = (v * 255.0) as u8;
            }
        }
    }
    Dataset {
        images,
        labels,
        rows: side as u32,
        cols: side as u32,
    }
}

/// Step 1's gradients (flat, `layout`'s order) against the reference's `want`, each tensor to
/// 2e-5 of its largest value + 1e-3 relative (f32 sums of up to 784·128 products), and the
/// parameters after Adam's first step (`p1`, from `p0`) against torch.optim.Adam in f64 applied
/// to those gradients. What tests/vae_step.rs checks of the WGSL engine and tests/cpu_engine.rs
/// of the CPU engine.
pub fn assert_step1_matches(
    layout: &vae_webgpu::layout::ParamLayout,
    grads: &[f32],
    want: &vae_webgpu::reference::RefParams,
    (p0, p1): (&[f32], &[f32]),
    lr: f32,
    tag: &str,
) {
    for (name, want) in &want.tensors {
        let got = layout.read(grads, layout.get(name).unwrap());
        let scale = want.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        assert_close(
            &format!("grad {name} {tag}"),
            &got,
            want,
            2e-5 * scale,
            1e-3,
        );
    }
    let mut params = to_f64(p0);
    let (mut m, mut v) = (vec![0.0; params.len()], vec![0.0; params.len()]);
    let grads = to_f64(grads);
    vae_webgpu::reference::adam_step(
        &mut params,
        &grads,
        &mut m,
        &mut v,
        f64::from(lr),
        0.9,
        0.999,
        1e-8,
        1,
    );
    let what = format!("params after Adam step 1 {tag}");
    assert_close(&what, p1, &params, 1e-6, 1e-5);
}
