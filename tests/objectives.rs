//! What the KL term does, measured: trained from one seed on the same data, the seed's VAE keeps
//! its latent means near the prior N(0, I), while β = 0 and a plain autoencoder (z = μ, no KL)
//! let them drift far from it; the autoencoder reconstructs at least as well as the VAE. On the
//! CPU engine (the WGSL kernels of each objective are held to the same reference in
//! `tests/kernels.rs`, and both engines train the same run: `tests/cpu_engine.rs`), so the test
//! costs seconds, not a minute on lavapipe.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::synthetic_digits;
use vae_webgpu::cpu::CpuTrainer;
use vae_webgpu::engine::Engine;
use vae_webgpu::session::Session;
use vae_webgpu::VaeConfig;

/// (mean of μ² over the test set's latent means, reconstruction per test sample).
fn train(kl_weight: f32, variational: bool) -> (f64, f64) {
    let cfg = VaeConfig {
        input: 196,
        hidden: 64,
        latent: 8,
        batch_size: 32,
        kl_weight,
        variational,
        ..VaeConfig::default()
    };
    let t = CpuTrainer::new(
        &cfg,
        &synthetic_digits(21, 1280, 14),
        &synthetic_digits(22, 256, 14),
    )
    .unwrap();
    let mut s = Session::new(Engine::cpu(t), || 0.0);
    for _ in 0..6 {
        while !pollster::block_on(s.train(40)).unwrap().epoch_finished {}
    }
    pollster::block_on(s.flush()).unwrap();
    let (mu, _) = pollster::block_on(s.latent_means(256)).unwrap();
    let mu2 = mu.iter().map(|&m| f64::from(m) * f64::from(m)).sum::<f64>() / mu.len() as f64;
    let eval = pollster::block_on(s.evaluate()).unwrap();
    (mu2, eval.reconstruction)
}

#[test]
fn the_kl_term_holds_the_latent_means_near_the_prior() {
    let (vae_mu2, vae_recon) = train(1.0, true);
    let (free_mu2, free_recon) = train(0.0, true);
    let (ae_mu2, ae_recon) = train(1.0, false);
    eprintln!(
        "mean μ²: VAE {vae_mu2:.3}, β = 0 {free_mu2:.3}, AE {ae_mu2:.3}; reconstruction per \
         sample: VAE {vae_recon:.2}, β = 0 {free_recon:.2}, AE {ae_recon:.2}"
    );
    assert!(vae_mu2 < 1.5, "the VAE's means left the prior: {vae_mu2}");
    assert!(
        free_mu2 > 2.0 * vae_mu2,
        "β = 0: {free_mu2} vs VAE {vae_mu2}"
    );
    assert!(ae_mu2 > 2.0 * vae_mu2, "AE: {ae_mu2} vs VAE {vae_mu2}");
    assert!(ae_recon <= vae_recon, "AE {ae_recon} vs VAE {vae_recon}");
}
