//! The CPU engine against the GPU engine natively (the same check runs in the browser,
//! tests/web.rs): from one seed, the same init, shuffle, ε and Adam give the same run — every
//! step's losses and the parameters after it agree to f32 rounding — for the seed's VAE, β = 4
//! and a plain autoencoder, on a batch that does not divide the data (the last step of an epoch
//! is short) and layer widths that are not multiples of 4 (padded rows).
#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::{checks, gpu, synthetic_digits};
use vae_webgpu::cpu::CpuTrainer;
use vae_webgpu::VaeConfig;

fn small() -> VaeConfig {
    VaeConfig {
        input: 196,
        hidden: 30,
        latent: 5,
        batch_size: 32,
        ..VaeConfig::default()
    }
}

fn check(cfg: VaeConfig, steps: u32) {
    let Some(gpu) = gpu() else { return };
    eprintln!(
        "{}",
        pollster::block_on(checks::cpu_engine_matches_gpu_engine(gpu, cfg, steps))
    );
}

#[test]
fn cpu_engine_matches_the_gpu_engine_step_by_step() {
    // 150 images, batch 32: epochs of 5 steps, the last of 22 rows; 12 steps cross two epochs.
    check(small(), 12);
}

#[test]
fn cpu_engine_matches_with_beta_4_and_as_an_autoencoder() {
    check(
        VaeConfig {
            kl_weight: 4.0,
            ..small()
        },
        10,
    );
    check(
        VaeConfig {
            variational: false,
            ..small()
        },
        10,
    );
}

#[test]
fn cpu_engine_refuses_data_of_another_size() {
    let train = synthetic_digits(7, 20, 14);
    let e = CpuTrainer::new(&VaeConfig::default(), &train, &train)
        .err()
        .expect("784 vs 196 accepted");
    assert!(e.to_string().contains("196 pixels"), "{e}");
}

#[test]
fn the_cpu_profile_times_every_stage_against_the_cpus_peak() {
    let cfg = VaeConfig {
        batch_size: 64,
        ..VaeConfig::default()
    };
    let start = std::time::Instant::now();
    let now = move || start.elapsed().as_secs_f64() * 1e3;
    let p = vae_webgpu::cpu::profile_step(&cfg, &now).unwrap();
    assert_eq!(p.batch, 64);
    assert_eq!(p.stages.len(), 13);
    for s in &p.stages {
        assert!(s.ms.is_finite() && s.ms > 0.0, "{}: {} ms", s.name, s.ms);
        assert!(s.kernels[0].starts_with("cpu/step.rs: "), "{:?}", s.kernels);
    }
    let staged: f64 = p.stages.iter().map(|s| s.ms).sum();
    let gflops = p.step_flop / p.step_ms / 1e6;
    eprintln!(
        "CPU step {:.2} ms (stages {staged:.2} ms), {gflops:.1} GFLOP/s of a {:.1} GFLOP/s peak",
        p.step_ms, p.peak_gflops
    );
    // Figures, not timings, are checked (the machine is shared): every stage and the peak
    // measured, and the step's FLOP the model's (forward and backward products).
    assert!(p.peak_gflops.is_finite() && p.peak_gflops > 0.0);
    let want = vae_webgpu::bench::flop_per_sample(&cfg) * 64.0;
    assert!((p.step_flop - want).abs() < 1e-6 * want);
}
