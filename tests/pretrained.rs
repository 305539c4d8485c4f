//! The model shipped with the page (www/pretrained/): its checkpoint loads into the default
//! model and, on MNIST's test set, scores the test loss recorded beside it within 1%. Needs
//! MNIST in data/mnist (scripts/fetch-mnist.sh; the test command fetches it); skips without it
//! outside CI.
// The WGSL engine is under test: not built without the `webgpu` feature.
#![cfg(feature = "webgpu")]
#![cfg(not(target_arch = "wasm32"))]

mod common;

use std::path::Path;

use vae_webgpu::session::Session;
use vae_webgpu::train::Trainer;
use vae_webgpu::VaeConfig;

/// The number after `"key":` in a small JSON file.
fn json_number(text: &str, key: &str) -> f64 {
    let at = text
        .find(&format!("\"{key}\""))
        .unwrap_or_else(|| panic!("{key} missing"));
    let rest = text[at..].split_once(':').unwrap().1.trim_start();
    let end = rest.find([',', '}', '\n']).unwrap_or(rest.len());
    rest[..end].trim().parse().unwrap()
}

fn json_string(text: &str, key: &str) -> String {
    let at = text
        .find(&format!("\"{key}\""))
        .unwrap_or_else(|| panic!("{key} missing"));
    let rest = text[at..].split_once(':').unwrap().1.trim_start();
    rest[1..].split('"').next().unwrap().to_string()
}

#[test]
fn the_shipped_model_scores_its_recorded_test_loss() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let info = std::fs::read_to_string(root.join("www/pretrained/pretrained.json")).unwrap();
    let bytes =
        std::fs::read(root.join("www/pretrained").join(json_string(&info, "file"))).unwrap();
    let recorded = json_number(&info, "testLoss");
    assert_eq!(json_number(&info, "epochs"), 15.0);
    let Some((train, test)) = common::mnist() else {
        return;
    };
    let Some(gpu) = common::gpu() else { return };
    let t = Trainer::new(gpu, &VaeConfig::default(), &train, &test).unwrap();
    let mut s = Session::new(t, || 0.0);
    // Its run's metadata (step, epoch 15 finished) resumes against MNIST, and the weights load.
    let pos = s.resume(&bytes).unwrap();
    assert_eq!((pos.epoch, pos.step_in_epoch), (15, 469));
    let eval = pollster::block_on(s.evaluate()).unwrap();
    eprintln!(
        "shipped model: test loss {:.4} (recorded {recorded:.4}): reconstruction {:.4}, KL {:.4}",
        eval.loss, eval.reconstruction, eval.kl
    );
    assert!(
        (eval.loss - recorded).abs() <= 0.01 * recorded,
        "test loss {} vs recorded {recorded}",
        eval.loss
    );
}

/// Each shipped record (`pretrained/*.json`), its model's config and the test figure it records
/// (an autoencoder's loss is its reconstruction alone).
fn records() -> [(&'static str, VaeConfig, &'static str); 3] {
    [
        ("pretrained.json", VaeConfig::default(), "testLoss"),
        (
            "ae.json",
            VaeConfig {
                variational: false,
                ..VaeConfig::default()
            },
            "testReconstruction",
        ),
        (
            "vae2d.json",
            VaeConfig {
                latent: 2,
                ..VaeConfig::default()
            },
            "testLoss",
        ),
    ]
}

/// Every shipped model on the CPU engine: the f32 file (`file`) and the f16 copy the page
/// downloads (`displayFile`, half the bytes) each resume as their own kind at epoch 15; the f32
/// file scores the recorded test figure within 1%, the f16 copy within 0.5% of it.
#[test]
fn every_shipped_model_and_its_display_copy_score_the_recorded_test_figure() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let Some((train, test)) = common::mnist() else {
        return;
    };
    let dir = root.join("www/pretrained");
    for (name, cfg, key) in records() {
        let info = std::fs::read_to_string(dir.join(name)).unwrap();
        let recorded = json_number(&info, key);
        assert_eq!(json_number(&info, "latent"), cfg.latent as f64, "{name}");
        let exact = std::fs::read(dir.join(json_string(&info, "file"))).unwrap();
        let half = std::fs::read(dir.join(json_string(&info, "displayFile"))).unwrap();
        assert!(
            half.len() * 2 < exact.len() + 4096,
            "{name}: {} bytes",
            half.len()
        );
        for (bytes, within, what) in [(&exact, 0.01, "f32"), (&half, 0.005, "f16 copy")] {
            let c = vae_webgpu::cpu::CpuTrainer::new(&cfg, &train, &test).unwrap();
            let mut s = Session::new(vae_webgpu::engine::Engine::cpu(c), || 0.0);
            let pos = s.resume(bytes).unwrap();
            assert_eq!((pos.epoch, pos.step_in_epoch), (15, 469), "{name} {what}");
            let eval = pollster::block_on(s.evaluate()).unwrap();
            let got = if cfg.variational {
                eval.loss
            } else {
                eval.reconstruction
            };
            eprintln!("{name} {what}: {key} {got:.4} (recorded {recorded:.4})");
            assert!(
                (got - recorded).abs() <= within * recorded,
                "{name} {what}: {key} {got} vs recorded {recorded}"
            );
        }
    }
}
