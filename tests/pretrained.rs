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
    let Ok((train, test)) = vae_webgpu::mnist::load_mnist_dir(&root.join("data/mnist")) else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI is set but data/mnist is missing"
        );
        eprintln!("SKIPPED: no MNIST in data/mnist (scripts/fetch-mnist.sh)");
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

/// The autoencoder and the 2-D VAE shipped beside it (Q5's and Q4's models before any
/// training): each resumes as its own kind at epoch 15 and scores its recorded test figure
/// within 1% (the autoencoder's loss is its reconstruction alone), on the CPU engine.
#[test]
fn the_shipped_companions_score_their_recorded_test_losses() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let Ok((train, test)) = vae_webgpu::mnist::load_mnist_dir(&root.join("data/mnist")) else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI is set but data/mnist is missing"
        );
        eprintln!("SKIPPED: no MNIST in data/mnist (scripts/fetch-mnist.sh)");
        return;
    };
    for (name, cfg, key) in [
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
    ] {
        let info = std::fs::read_to_string(root.join("www/pretrained").join(name)).unwrap();
        let bytes =
            std::fs::read(root.join("www/pretrained").join(json_string(&info, "file"))).unwrap();
        let recorded = json_number(&info, key);
        assert_eq!(json_number(&info, "latent"), cfg.latent as f64, "{name}");
        let c = vae_webgpu::cpu::CpuTrainer::new(&cfg, &train, &test).unwrap();
        let mut s = Session::new(vae_webgpu::engine::Engine::cpu(c), || 0.0);
        let pos = s.resume(&bytes).unwrap();
        assert_eq!((pos.epoch, pos.step_in_epoch), (15, 469), "{name}");
        let eval = pollster::block_on(s.evaluate()).unwrap();
        let got = if cfg.variational {
            eval.loss
        } else {
            eval.reconstruction
        };
        eprintln!("{name}: {key} {got:.4} (recorded {recorded:.4})");
        assert!(
            (got - recorded).abs() <= 0.01 * recorded,
            "{name}: {key} {got} vs recorded {recorded}"
        );
    }
}

/// The f16 display copies the page downloads (`displayFile`: half the bytes) score within 0.5%
/// of each model's recorded test figure, and hold its run's metadata.
#[test]
fn the_display_copies_score_within_half_a_percent() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let Ok((train, test)) = vae_webgpu::mnist::load_mnist_dir(&root.join("data/mnist")) else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI is set but data/mnist is missing"
        );
        eprintln!("SKIPPED: no MNIST in data/mnist (scripts/fetch-mnist.sh)");
        return;
    };
    for (name, cfg, key) in [
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
    ] {
        let dir = root.join("www/pretrained");
        let info = std::fs::read_to_string(dir.join(name)).unwrap();
        let exact = std::fs::read(dir.join(json_string(&info, "file"))).unwrap();
        let bytes = std::fs::read(dir.join(json_string(&info, "displayFile"))).unwrap();
        assert!(
            bytes.len() * 2 < exact.len() + 4096,
            "{name}: {} bytes",
            bytes.len()
        );
        let recorded = json_number(&info, key);
        let c = vae_webgpu::cpu::CpuTrainer::new(&cfg, &train, &test).unwrap();
        let mut s = Session::new(vae_webgpu::engine::Engine::cpu(c), || 0.0);
        let pos = s.resume(&bytes).unwrap();
        assert_eq!((pos.epoch, pos.step_in_epoch), (15, 469), "{name}");
        let eval = pollster::block_on(s.evaluate()).unwrap();
        let got = if cfg.variational {
            eval.loss
        } else {
            eval.reconstruction
        };
        eprintln!("{name} f16 copy: {key} {got:.4} (recorded {recorded:.4})");
        assert!(
            (got - recorded).abs() <= 0.005 * recorded,
            "{name}: {key} {got} vs recorded {recorded}"
        );
    }
}
