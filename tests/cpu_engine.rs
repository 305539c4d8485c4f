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
