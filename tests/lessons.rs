//! What the page's chapters show, measured natively on MNIST:
//! - Q3, the reparameterization trick switched off (`reparameterize: false`): z is sampled as
//!   usual but no gradient from the reconstruction reaches μ and σ, so only KL trains them —
//!   the encoder's means fall to the prior and every reconstruction becomes one average digit.
//!   After 300 steps the test set's mean μ² is < 0.05 and the reconstruction loss ≥ 1.3× that
//!   of the same seed with the trick, on each engine.
//! - Q4, posterior collapse: the shipped 20-D model uses between 5 and 20 latent dimensions
//!   (Var of μ_j over 1000 test images > 0.01, as the page counts them), and a model trained at
//!   β = 4 from the same seed uses fewer.
//!
//! The CPU engine's tests run once, in the CPU-only suite (`cargo test --no-default-features`,
//! which the test command runs); with the `webgpu` feature they are ignored, not run twice.
//!
//! Needs MNIST in data/mnist (scripts/fetch-mnist.sh; the test command fetches it); skips
//! without it outside CI.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use std::path::Path;

use vae_webgpu::mnist::Dataset;
use vae_webgpu::session::{EngineChoice, Session};
use vae_webgpu::VaeConfig;

/// A dimension is active when μ_j varies over the test images by more than this (www/stats.js).
const ACTIVE_VAR: f64 = 0.01;
/// Test images the active dimensions are counted over (the page's ACTIVE_N).
const ACTIVE_N: u32 = 1000;
/// Epochs of the β = 4 model (its unused dimensions' Var μ_j falls below 0.01 by then).
const BETA4_EPOCHS: u64 = 5;

fn session(choice: EngineChoice, cfg: &VaeConfig, data: (Dataset, Dataset)) -> Option<Session> {
    #[cfg(feature = "webgpu")]
    let device = match choice {
        EngineChoice::Cpu => None,
        _ => Some(common::device()?),
    };
    #[cfg(not(feature = "webgpu"))]
    let device: Option<vae_webgpu::session::Device> = None;
    let (s, _) = pollster::block_on(Session::open_with_data(
        choice,
        device.as_ref(),
        cfg,
        data,
        || 0.0,
    ))
    .unwrap();
    Some(s)
}

fn train_steps(s: &mut Session, steps: u64) {
    while s.status().position.global_step < steps {
        let left = steps - s.status().position.global_step;
        pollster::block_on(s.train(left.min(64) as u32)).unwrap();
    }
    pollster::block_on(s.flush()).unwrap();
}

/// (mean μ² over the test images' latent means, reconstruction loss per test sample) after
/// `steps` steps from the reference config with the trick on or off.
fn after_steps(choice: EngineChoice, reparameterize: bool, steps: u64) -> Option<(f64, f64)> {
    let data = common::mnist()?;
    let cfg = VaeConfig {
        reparameterize,
        ..VaeConfig::default()
    };
    let mut s = session(choice, &cfg, data)?;
    assert_eq!(s.status().reparameterize, reparameterize);
    train_steps(&mut s, steps);
    let (mu, _) = pollster::block_on(s.latent_means(ACTIVE_N)).unwrap();
    let mu2 = mu.iter().map(|&m| f64::from(m).powi(2)).sum::<f64>() / mu.len() as f64;
    let eval = pollster::block_on(s.evaluate()).unwrap();
    Some((mu2, eval.reconstruction))
}

fn the_trick_switched_off(choice: EngineChoice) {
    let Some((off_mu2, off_recon)) = after_steps(choice, false, 300) else {
        return;
    };
    let (on_mu2, on_recon) = after_steps(choice, true, 300).unwrap();
    eprintln!(
        "{choice:?}, 300 steps: mean μ² without the trick {off_mu2:.4}, with it {on_mu2:.3}; \
         reconstruction per test sample {off_recon:.1} vs {on_recon:.1} ({:.2}×)",
        off_recon / on_recon
    );
    assert!(
        off_mu2 < 0.05,
        "without the trick μ should fall to the prior: mean μ² {off_mu2}"
    );
    assert!(
        off_recon >= 1.3 * on_recon,
        "without the trick the reconstruction should be far worse: {off_recon} vs {on_recon}"
    );
}

#[test]
#[cfg_attr(
    feature = "webgpu",
    ignore = "the CPU engine alone: the test command runs it in the CPU-only suite (--no-default-features)"
)]
fn without_the_trick_mu_falls_to_the_prior_on_the_cpu_engine() {
    the_trick_switched_off(EngineChoice::Cpu);
}

#[cfg(feature = "webgpu")]
#[test]
fn without_the_trick_mu_falls_to_the_prior_on_the_webgpu_engine() {
    the_trick_switched_off(EngineChoice::Gpu);
}

/// Latent dimensions in use: Var over `ACTIVE_N` test images of μ_j > `ACTIVE_VAR`.
fn active_dimensions(s: &mut Session) -> usize {
    let latent = s.status().latent as usize;
    let (mu, _) = pollster::block_on(s.latent_means(ACTIVE_N)).unwrap();
    let n = (mu.len() / latent) as f64;
    let var: Vec<f64> = (0..latent)
        .map(|j| {
            let col = mu.iter().skip(j).step_by(latent).map(|&m| f64::from(m));
            let (s1, s2) = col.fold((0.0, 0.0), |(a, b), m| (a + m, b + m * m));
            s2 / n - (s1 / n).powi(2)
        })
        .collect();
    eprintln!(
        "Var μ_j: {:?}",
        var.iter().map(|v| format!("{v:.3}")).collect::<Vec<_>>()
    );
    var.iter().filter(|&&v| v > ACTIVE_VAR).count()
}

#[test]
#[cfg_attr(
    feature = "webgpu",
    ignore = "the CPU engine alone: the test command runs it in the CPU-only suite (--no-default-features)"
)]
fn the_shipped_model_uses_most_dimensions_and_beta_4_fewer() {
    let Some(data) = common::mnist() else { return };
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("www/pretrained");
    let file = std::fs::read_dir(&root)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.extension().is_some_and(|x| x == "safetensors"))
        .expect("a shipped model in www/pretrained");
    let bytes = std::fs::read(file).unwrap();
    let mut shipped = session(EngineChoice::Cpu, &VaeConfig::default(), data.clone()).unwrap();
    shipped.import_checkpoint(&bytes).unwrap();
    let shipped_active = active_dimensions(&mut shipped);

    // β = 4 (the page's preset) from the same seed on the CPU engine: the KL term's weight
    // pushes dimensions whose information is not worth their KL back to the prior.
    let cfg = VaeConfig {
        kl_weight: 4.0,
        ..VaeConfig::default()
    };
    let mut s = session(EngineChoice::Cpu, &cfg, data).unwrap();
    let steps = BETA4_EPOCHS * u64::from(s.status().steps_per_epoch);
    train_steps(&mut s, steps);
    let beta4_active = active_dimensions(&mut s);
    eprintln!(
        "active dimensions: shipped model (β = 1, 15 epochs) {shipped_active} of 20; β = 4 after \
         {BETA4_EPOCHS} epochs: {beta4_active}"
    );
    assert!(
        (5..=20).contains(&shipped_active),
        "the shipped model uses {shipped_active} dimensions"
    );
    assert!(
        beta4_active < shipped_active,
        "β = 4 should leave fewer dimensions in use: {beta4_active} vs {shipped_active} at β = 1"
    );
}
