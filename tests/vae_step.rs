//! The whole training step against the reference, as llm.c's test_gpt2 does: loss and every
//! gradient tensor at step 0 at the real sizes (784-400-20, batch 128), in both GEMM forms; a
//! 10-step Adam loss trajectory; and training that lowers the loss deterministically.
// The WGSL engine is under test: not built without the `webgpu` feature.
#![cfg(feature = "webgpu")]
#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::{assert_close, gpu, synthetic_digits, to_f64};
use vae_webgpu::gpu::{GemmForm, Gpu};
use vae_webgpu::layout::{ParamLayout, TENSOR_NAMES};
use vae_webgpu::mnist::Dataset;
use vae_webgpu::model::{StepSpec, VaeModel};
use vae_webgpu::reference::{
    adam_step, gather_batch, vae_forward_backward, vae_forward_backward_with, Objective, RefParams,
};
use vae_webgpu::rng::{normal_eps, seed_key};
use vae_webgpu::run::RunState;
use vae_webgpu::run::StepKind;
use vae_webgpu::train::Trainer;
use vae_webgpu::{checkpoint, VaeConfig};

fn train_step(slot: u32, t: u64, rows: u32, index_offset: u32) -> StepSpec {
    StepSpec {
        kind: StepKind::Train,
        rows,
        index_offset,
        rng_step: t as u32,
        slot,
        t,
    }
}

fn read(gpu: &Gpu, buf: &wgpu::Buffer, n: usize) -> Vec<f32> {
    pollster::block_on(gpu.read_f32(buf, 0, n)).unwrap()
}

/// Step 0 on the GPU vs `vae_forward_backward` in f64 with the GPU's own ε.
fn step0(gpu: &Gpu, form: GemmForm, cfg: &VaeConfig, data: &Dataset, rows: u32) {
    let mut model = VaeModel::with_form(gpu, cfg, form).unwrap();
    model.attach_data(gpu, data, &data.take(8)).unwrap();
    let layout = model.layout.clone();
    let p0 = pollster::block_on(model.read_params(gpu)).unwrap();
    let cmd = model
        .encode_steps(gpu, &[train_step(5, 1, rows, 0)])
        .unwrap();
    gpu.queue.submit([cmd]);
    gpu.wait_idle().unwrap();
    let (b, l, i) = (rows as usize, cfg.latent, cfg.input);
    let stats = read(gpu, &model.stats, 24);
    let eps = read(gpu, &model.act.eps, b * l);
    let grads = pollster::block_on(model.read_grads(gpu)).unwrap();
    let p1 = pollster::block_on(model.read_params(gpu)).unwrap();

    let ids: Vec<u32> = (0..rows).collect();
    let mut x = vec![0.0; b * i];
    gather_batch(&mut x, &data.images, &ids, i);
    let p = RefParams::from_flat(&layout, &p0);
    let beta = if cfg.variational { cfg.kl_weight } else { 0.0 };
    let objective = Objective {
        kl_weight: f64::from(beta),
        through_z: cfg.grad_through_z(),
    };
    if !cfg.variational {
        assert!(eps.iter().all(|&e| e == 0.0), "an autoencoder draws no ε");
    }
    let (bce, kl, g) = vae_forward_backward_with(&p, &x, &to_f64(&eps), b, objective);
    let tag = format!(
        "{form:?} {}-{}-{} B={rows} β={beta} variational={}",
        i, cfg.hidden, l, cfg.variational
    );
    assert_close(&format!("Σ BCE {tag}"), &stats[20..21], &[bce], 0.0, 2e-5);
    assert_close(&format!("KL {tag}"), &stats[21..22], &[kl], 1e-3, 1e-4);
    assert_eq!(stats[22].to_bits(), rows, "rows word");
    common::assert_step1_matches(&layout, &grads, &g, (&p0, &p1), cfg.lr, &tag);
}

#[test]
fn step0_loss_and_every_gradient_match_reference_direct() {
    let Some(gpu) = gpu() else { return };
    let data = synthetic_digits(1, 256, 28);
    step0(&gpu, GemmForm::Direct, &VaeConfig::default(), &data, 128);
}

#[test]
fn step0_loss_and_every_gradient_match_reference_tiled() {
    let Some(gpu) = gpu() else { return };
    let data = synthetic_digits(1, 256, 28);
    step0(&gpu, GemmForm::Tiled, &VaeConfig::default(), &data, 128);
}

#[test]
fn step0_loss_and_every_gradient_match_reference_subgroup() {
    let Some(gpu) = gpu() else { return };
    if !gpu.subgroups {
        eprintln!("SKIPPED: no subgroups of ≥ 8 lanes (tests/kernels.rs fails on lavapipe in CI)");
        return;
    }
    let data = synthetic_digits(1, 256, 28);
    step0(
        &gpu,
        GemmForm::DirectSubgroup,
        &VaeConfig::default(),
        &data,
        128,
    );
    step0(
        &gpu,
        GemmForm::DirectSubgroup,
        &VaeConfig::default(),
        &data,
        37,
    );
}

#[test]
fn step0_of_weighted_kl_and_of_a_plain_autoencoder_match_reference() {
    let Some(gpu) = gpu() else { return };
    let data = synthetic_digits(3, 200, 28);
    for (kl_weight, variational) in [(0.0, true), (0.5, true), (4.0, true), (1.0, false)] {
        let cfg = VaeConfig {
            kl_weight,
            variational,
            ..VaeConfig::default()
        };
        step0(&gpu, gpu.gemm, &cfg, &data, 128);
    }
}

#[test]
fn step0_on_odd_sizes_and_a_short_batch() {
    let Some(gpu) = gpu() else { return };
    // 13×13 = 169 inputs, hidden 37, latent 3: every row padded; 41 rows (last batch is short).
    let data = synthetic_digits(2, 64, 13);
    let cfg = VaeConfig {
        input: 169,
        hidden: 37,
        latent: 3,
        batch_size: 48,
        ..VaeConfig::default()
    };
    for form in [GemmForm::Direct, GemmForm::Tiled] {
        step0(&gpu, form, &cfg, &data, 41);
    }
}

#[test]
fn ten_step_loss_trajectory_matches_reference_adam() {
    let Some(gpu) = gpu() else { return };
    let cfg = VaeConfig::default();
    let data = synthetic_digits(3, 1280, 28);
    let mut model = VaeModel::new(&gpu, &cfg).unwrap();
    model.attach_data(&gpu, &data, &data.take(8)).unwrap();
    let layout = ParamLayout::from_config(&cfg);
    let specs: Vec<StepSpec> = (0..10)
        .map(|s| train_step(s, u64::from(s) + 1, 128, s * 128))
        .collect();
    let cmd = model.encode_steps(&gpu, &specs).unwrap();
    gpu.queue.submit([cmd]);
    let stats = read(&gpu, &model.stats, 40);

    let mut p = RefParams::from_flat(&layout, &layout.init(cfg.seed));
    let mut m: Vec<Vec<f64>> = p.tensors.iter().map(|(_, v)| vec![0.0; v.len()]).collect();
    let mut v = m.clone();
    let key = seed_key(cfg.seed);
    for s in 0..10usize {
        let ids: Vec<u32> = (s as u32 * 128..(s as u32 + 1) * 128).collect();
        let mut x = vec![0.0; 128 * 784];
        gather_batch(&mut x, &data.images, &ids, 784);
        let eps: Vec<f64> = (0..128 * 20)
            .map(|i| f64::from(normal_eps(key, s as u32 + 1, i)))
            .collect();
        let (bce, kl, g) = vae_forward_backward(&p, &x, &eps, 128);
        let got = &stats[s * 4..s * 4 + 2];
        assert_close(
            &format!("step {} (Σ BCE, KL)", s + 1),
            got,
            &[bce, kl],
            1e-2,
            1e-4,
        );
        for (k, name) in TENSOR_NAMES.iter().enumerate() {
            let grad = g.get(name).to_vec();
            adam_step(
                p.get_mut(name),
                &grad,
                &mut m[k],
                &mut v[k],
                1e-3,
                0.9,
                0.999,
                1e-8,
                s as u64 + 1,
            );
        }
    }
    assert!(
        stats[36] < 0.9 * stats[0],
        "loss did not fall over 10 steps: {} → {}",
        stats[0],
        stats[36]
    );
}

fn run_training(gpu: Gpu, seed: u64, steps: u32) -> (Vec<(f32, f32)>, Trainer) {
    let data = synthetic_digits(4, 2000, 28);
    let test = synthetic_digits(5, 300, 28);
    let cfg = VaeConfig {
        batch_size: 64,
        seed,
        ..VaeConfig::default()
    };
    let mut t = Trainer::new(gpu, &cfg, &data, &test).unwrap();
    t.set_readback_every(50);
    let mut recs = Vec::new();
    while t.global_step() < u64::from(steps) {
        t.submit_train(steps - t.global_step() as u32).unwrap();
        recs.extend(t.poll().unwrap());
    }
    recs.extend(pollster::block_on(t.flush()).unwrap());
    assert_eq!(recs.len(), steps as usize, "every step is read back once");
    for (k, r) in recs.iter().enumerate() {
        assert_eq!(r.global_step, k as u64 + 1);
    }
    (
        recs.iter()
            .map(|r| (r.recon / r.rows as f32, r.kl / r.rows as f32))
            .collect(),
        t,
    )
}

#[test]
fn training_lowers_the_loss_and_is_deterministic_for_a_seed() {
    let Some(gpu) = gpu() else { return };
    let steps = 250; // 8 epochs of 2000 images at batch 64 (32 steps each, the last one short)
    let (a, mut trainer) = run_training(gpu, 11, steps);
    let mean = |s: &[(f32, f32)]| s.iter().map(|(r, k)| r + k).sum::<f32>() / s.len() as f32;
    let (first, last) = (mean(&a[..10]), mean(&a[a.len() - 10..]));
    eprintln!("loss per sample: first 10 steps {first:.2}, last 10 steps {last:.2}");
    assert!(
        last < 0.6 * first,
        "loss did not fall clearly: {first} → {last}"
    );
    assert_eq!(trainer.epoch(), 8);
    let eval = pollster::block_on(trainer.evaluate()).unwrap();
    assert_eq!(eval.count, 300);
    assert!(
        eval.per_sample() < f64::from(first) * 0.7,
        "test loss {}",
        eval.per_sample()
    );

    let (b, _) = run_training(gpu_or_panic(), 11, steps);
    assert_eq!(a, b, "same seed, different run");
    let (c, _) = run_training(gpu_or_panic(), 12, 20);
    assert_ne!(a[..20], c[..], "different seeds gave the same losses");
}

fn gpu_or_panic() -> Gpu {
    gpu().expect("the adapter disappeared between runs")
}

#[test]
fn trainer_decodes_reconstructs_and_checkpoints() {
    let Some(gpu) = gpu() else { return };
    let (_, mut t) = run_training(gpu, 21, 40);
    let (orig, recon) = pollster::block_on(t.reconstruct(&[0, 5, 299])).unwrap();
    assert_eq!((orig.len(), recon.len()), (3 * 784, 3 * 784));
    assert!(recon.iter().all(|v| (0.0..=1.0).contains(v)));
    let test = synthetic_digits(5, 300, 28);
    let want: Vec<f64> = test
        .image(5)
        .iter()
        .map(|&b| f64::from(b) / 255.0)
        .collect();
    assert_close(
        "reconstruct returns the gathered test image",
        &orig[784..1568],
        &want,
        1e-7,
        0.0,
    );
    let s = pollster::block_on(t.sample(64, 3)).unwrap();
    assert_eq!(s.len(), 64 * 784);
    assert_eq!(
        s,
        pollster::block_on(t.sample(64, 3)).unwrap(),
        "samples are seeded"
    );
    assert!(
        pollster::block_on(t.reconstruct(&[300])).is_err(),
        "index past the test set"
    );

    let flat = pollster::block_on(t.read_params()).unwrap();
    let bytes = checkpoint::save(t.layout(), &flat, &[]).unwrap();
    let loaded = checkpoint::load(t.layout(), &bytes).unwrap();
    assert_eq!(loaded, flat);
    t.load_params(&layout_init(&t)).unwrap();
    assert_ne!(pollster::block_on(t.read_params()).unwrap(), flat);
    t.load_params(&loaded).unwrap();
    assert_eq!(pollster::block_on(t.read_params()).unwrap(), flat);
    let wrong = ParamLayout::new(784, 399, 20);
    let err = checkpoint::load(&wrong, &bytes).unwrap_err().to_string();
    assert!(err.contains("fc1.weight has shape [400, 784]"), "{err}");
}

fn layout_init(t: &Trainer) -> Vec<f32> {
    t.layout().init(999)
}

/// One full MNIST epoch with the reference settings; the mean train loss per sample must land
/// where PyTorch's example lands after its first epoch (≈164; test ≈128).
#[test]
#[ignore = "needs data/mnist (scripts/fetch-mnist.sh) and ~1 min on lavapipe; run by .ci/run"]
fn full_mnist_epoch_matches_pytorch_range() {
    let Some(gpu) = gpu() else { return };
    full_epoch(gpu);
}

/// The fused step form (a real GPU's: tiled GEMMs, 8 dispatches a step), forced on whatever
/// adapter there is, follows the default form step by step over the first 60 MNIST steps of the
/// same seed: the same losses to 1e-3 relative (only the order of f32 sums differs). A whole
/// epoch in this form takes ~10 min on lavapipe, so the epoch's PyTorch range is checked in the
/// default form above and this form's agreement with it here.
#[test]
#[ignore = "needs data/mnist (scripts/fetch-mnist.sh) and ~2 min on lavapipe; run by .ci/run"]
fn fused_step_form_follows_the_default_form_on_mnist() {
    let Some(gpu) = gpu() else { return };
    let default_form = (gpu.gemm, gpu.step_form());
    let steps = 60;
    let base = mnist_steps(gpu, steps);
    let mut fused = gpu_or_panic();
    fused.gemm = GemmForm::Tiled;
    assert_eq!(fused.step_form(), vae_webgpu::model::StepForm::Fused);
    let got = mnist_steps(fused, steps);
    eprintln!(
        "fused vs {default_form:?}: step 1 {:.4} vs {:.4}, step {steps} {:.4} vs {:.4}",
        got[0],
        base[0],
        got[got.len() - 1],
        base[base.len() - 1]
    );
    assert!(
        base[base.len() - 1] < 0.7 * base[0],
        "the loss did not fall"
    );
    for (k, (a, b)) in got.iter().zip(&base).enumerate() {
        assert!(
            ((a - b) / b).abs() < 1e-3,
            "step {}: fused {a} vs default {b}",
            k + 1
        );
    }
}

/// Loss per sample of each of the first `steps` steps on MNIST with the reference settings.
fn mnist_steps(gpu: Gpu, steps: u32) -> Vec<f64> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data/mnist");
    let (train, test) =
        vae_webgpu::mnist::load_mnist_dir(&dir).expect("run scripts/fetch-mnist.sh first");
    let mut t = Trainer::new(gpu, &VaeConfig::default(), &train, &test).unwrap();
    let mut recs = Vec::new();
    while t.global_step() < u64::from(steps) {
        t.submit_train(steps - t.global_step() as u32).unwrap();
        recs.extend(t.poll().unwrap());
    }
    recs.extend(pollster::block_on(t.flush()).unwrap());
    assert_eq!(recs.len(), steps as usize);
    recs.iter()
        .map(|r| (f64::from(r.recon) + f64::from(r.kl)) / f64::from(r.rows))
        .collect()
}

fn full_epoch(gpu: vae_webgpu::gpu::Gpu) {
    let form = (gpu.gemm, gpu.step_form());
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data/mnist");
    let (train, test) =
        vae_webgpu::mnist::load_mnist_dir(&dir).expect("run scripts/fetch-mnist.sh first");
    let cfg = VaeConfig::default();
    let mut t = Trainer::new(gpu, &cfg, &train, &test).unwrap();
    let started = std::time::Instant::now();
    let mut recs = Vec::new();
    while !t.epoch_finished() {
        t.submit_train(64).unwrap();
        recs.extend(t.poll().unwrap());
    }
    recs.extend(pollster::block_on(t.flush()).unwrap());
    let secs = started.elapsed().as_secs_f64();
    assert_eq!(recs.len(), 469);
    let seen: u32 = recs.iter().map(|r| r.rows).sum();
    assert_eq!(seen, 60_000);
    let mean = recs
        .iter()
        .map(|r| f64::from(r.recon) + f64::from(r.kl))
        .sum::<f64>()
        / 60_000.0;
    let eval = pollster::block_on(t.evaluate()).unwrap();
    eprintln!(
        "MNIST epoch 1 ({form:?}): train {mean:.4} per sample, test {:.4}, {:.0} samples/s",
        eval.per_sample(),
        60_000.0 / secs
    );
    assert!(
        (150.0..180.0).contains(&mean),
        "epoch-1 mean train loss {mean} outside PyTorch's range"
    );
    assert!(
        (115.0..140.0).contains(&eval.per_sample()),
        "epoch-1 test loss {} outside PyTorch's range",
        eval.per_sample()
    );
}
