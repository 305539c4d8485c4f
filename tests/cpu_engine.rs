//! The CPU engine against the GPU engine natively (the same check runs in the browser,
//! tests/web.rs): from one seed, the same init, shuffle, ε and Adam give the same run — every
//! step's losses and the parameters after it agree to f32 rounding — for the seed's VAE, β = 4
//! and a plain autoencoder, on a batch that does not divide the data (the last step of an epoch
//! is short) and layer widths that are not multiples of 4 (padded rows).
#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::synthetic_digits;
#[cfg(feature = "webgpu")]
use common::{checks, gpu};
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

#[cfg(feature = "webgpu")]
fn check(cfg: VaeConfig, steps: u32) {
    let Some(gpu) = gpu() else { return };
    check_on(gpu, cfg, steps);
}

#[cfg(feature = "webgpu")]
fn check_on(gpu: vae_webgpu::gpu::Gpu, cfg: VaeConfig, steps: u32) {
    eprintln!(
        "{}",
        pollster::block_on(checks::cpu_engine_matches_gpu_engine(gpu, cfg, steps))
    );
}

#[test]
#[cfg(feature = "webgpu")]
fn cpu_engine_matches_the_gpu_engine_step_by_step() {
    // 150 images, batch 32: epochs of 5 steps, the last of 22 rows; 12 steps cross two epochs.
    check(small(), 12);
}

/// The WGSL engine in its fused step form (latent.wgsl; real GPUs get it with the tiled GEMMs),
/// forced here on whatever adapter there is: the same run as the CPU engine's, for the VAE, β = 4
/// and the autoencoder.
#[test]
#[cfg(feature = "webgpu")]
fn cpu_engine_matches_the_fused_gpu_step() {
    for cfg in [
        small(),
        VaeConfig {
            kl_weight: 4.0,
            ..small()
        },
        VaeConfig {
            variational: false,
            ..small()
        },
    ] {
        let Some(mut gpu) = gpu() else { return };
        gpu.gemm = vae_webgpu::gpu::GemmForm::Tiled;
        check_on(gpu, cfg, 8);
    }
}

#[test]
#[cfg(feature = "webgpu")]
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
    assert_eq!(p.stages.len(), 9);
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
    let want = vae_webgpu::run::flop_per_sample(&cfg) * 64.0;
    assert!((p.step_flop - want).abs() < 1e-6 * want);
}

/// Step 1 on the CPU engine against `reference::vae_forward_backward_with` in f64 (the same
/// batch, the same ε): the losses, every gradient tensor, and Adam's first update — as
/// tests/vae_step.rs checks the WGSL engine.
fn step0_matches_the_reference(cfg: VaeConfig, n: usize, side: usize) {
    use common::assert_close;
    use vae_webgpu::reference::{gather_batch, vae_forward_backward_with};
    use vae_webgpu::reference::{Objective, RefParams};
    use vae_webgpu::rng::{normal_eps, seed_key, shuffle};
    let (train, test) = (synthetic_digits(3, n, side), synthetic_digits(4, 20, side));
    let mut c = CpuTrainer::new(&cfg, &train, &test).unwrap();
    let layout = vae_webgpu::layout::ParamLayout::from_config(&cfg);
    let p0 = c.params().to_vec();
    let r = c.train(1).unwrap()[0];
    let rows = r.rows as usize;
    let ids = &shuffle(cfg.seed, 0, n)[..rows];
    let mut x = vec![0.0; rows * cfg.input];
    gather_batch(&mut x, &train.images, ids, cfg.input);
    let key = seed_key(cfg.seed);
    let eps: Vec<f64> = (0..rows * cfg.latent)
        .map(|i| {
            if cfg.variational {
                f64::from(normal_eps(key, 1, i as u32))
            } else {
                0.0
            }
        })
        .collect();
    let beta = if cfg.variational { cfg.kl_weight } else { 0.0 };
    let objective = Objective {
        kl_weight: f64::from(beta),
        through_z: cfg.grad_through_z(),
    };
    let p = RefParams::from_flat(&layout, &p0);
    let (bce, kl, g) = vae_forward_backward_with(&p, &x, &eps, rows, objective);
    let tag = format!(
        "{}-{}-{} B={rows} β={beta}",
        cfg.input, cfg.hidden, cfg.latent
    );
    assert_close(&format!("Σ BCE {tag}"), &[r.recon], &[bce], 0.0, 2e-5);
    assert_close(&format!("KL {tag}"), &[r.kl], &[kl], 1e-3, 1e-4);
    let p1 = c.params().to_vec();
    common::assert_step1_matches(&layout, c.grads(), &g, (&p0, &p1), cfg.lr, &tag);
}

#[test]
fn cpu_step0_loss_and_every_gradient_match_the_reference() {
    // The seed's VAE at its real sizes, batch 128.
    step0_matches_the_reference(VaeConfig::default(), 256, 28);
    // β = 4 and a plain autoencoder, on widths that are not multiples of 4 (padded rows).
    let small = VaeConfig {
        input: 196,
        hidden: 30,
        latent: 5,
        batch_size: 32,
        ..VaeConfig::default()
    };
    step0_matches_the_reference(
        VaeConfig {
            kl_weight: 4.0,
            ..small.clone()
        },
        100,
        14,
    );
    step0_matches_the_reference(
        VaeConfig {
            variational: false,
            ..small
        },
        100,
        14,
    );
}

#[test]
fn a_flush_after_training_reports_the_newest_losses_on_either_engine() {
    // The CPU engine's train() returns every step at once, so its flush has nothing new; the
    // report still carries the newest step's losses, as the WGSL engine's does (an app that
    // reads `flush()`'s loss must not get NaN on one engine).
    let cfg = VaeConfig {
        batch_size: 16,
        ..small()
    };
    let (train, test) = (synthetic_digits(1, 64, 14), synthetic_digits(2, 16, 14));
    let mut s = vae_webgpu::session::Session::open_cpu(&cfg, || 0.0).unwrap();
    s.attach(train, test).unwrap();
    let first = pollster::block_on(s.flush()).unwrap();
    assert!(first.reconstruction.is_nan(), "no step yet");
    let trained = pollster::block_on(s.train(3)).unwrap();
    assert_eq!(trained.records.len(), 3 * 4);
    let flushed = pollster::block_on(s.flush()).unwrap();
    assert!(flushed.records.is_empty());
    assert_eq!(
        (flushed.reconstruction, flushed.kl),
        (trained.reconstruction, trained.kl)
    );
    pollster::block_on(s.reset()).unwrap();
    assert!(pollster::block_on(s.flush())
        .unwrap()
        .reconstruction
        .is_nan());
}

#[test]
fn test_images_encode_with_the_encoder_alone_and_the_draws_after_stay_the_gpu_engines() {
    // The latent map and the lessons' latent means encode thousands of test images: the CPU
    // engine runs only the encoder for them. μ and log σ² are those of the same images given as
    // pixels, and the evaluation counter moves on as the WGSL engine's full pass moves it, so
    // the reconstructions drawn next (ε from that counter) are the WGSL engine's.
    let cfg = small();
    let (train, test) = (synthetic_digits(1, 64, 14), synthetic_digits(2, 40, 14));
    let mut cpu = vae_webgpu::session::Session::open_cpu(&cfg, || 0.0).unwrap();
    cpu.attach(train.clone(), test.clone()).unwrap();
    pollster::block_on(cpu.train(3)).unwrap();
    let (means, labels) = pollster::block_on(cpu.latent_means(33)).unwrap();
    assert_eq!((means.len(), labels.len()), (33 * 5, 33));
    let pixels: Vec<f32> = (0..33)
        .flat_map(|k| test.image(k).iter().map(|&b| f32::from(b) / 255.0))
        .collect();
    let (mu, _) = pollster::block_on(cpu.encode(&pixels)).unwrap();
    assert_eq!(means, mu, "μ by id and by pixels");
    #[cfg(feature = "webgpu")]
    {
        let Some(gpu) = gpu() else { return };
        let t = vae_webgpu::train::Trainer::new(gpu, &cfg, &train, &test).unwrap();
        let mut wgsl = vae_webgpu::session::Session::new(t, || 0.0);
        pollster::block_on(wgsl.train(3)).unwrap();
        pollster::block_on(wgsl.latent_means(33)).unwrap();
        let a = pollster::block_on(cpu.reconstruct(6)).unwrap();
        let b = pollster::block_on(wgsl.reconstruct(6)).unwrap();
        let worst = a
            .iter()
            .zip(&b)
            .map(|(x, y)| (x - y).abs())
            .fold(0.0f32, f32::max);
        assert!(
            worst < 1e-3,
            "reconstructions after the encodings differ by {worst}"
        );
    }
}

#[test]
fn the_cpu_engines_own_matrix_product_matches_the_f64_reference() {
    common::cpu_checks::gemm_matches_the_f64_reference_on_uneven_shapes();
    common::cpu_checks::gemm_with_beta_zero_never_reads_c();
}

#[test]
fn the_cpu_engines_own_matrix_product_is_the_same_bit_for_bit_in_any_number_of_parts() {
    common::cpu_checks::gemm_split_into_parts_is_the_same_bit_for_bit();
}

#[test]
fn the_cpu_engines_own_matrix_product_applies_bias_and_relu_as_the_separate_passes_do() {
    common::cpu_checks::gemm_epilogues_match_the_separate_passes();
}

#[test]
fn a_train_call_ends_early_when_asked_and_the_run_goes_on_as_if_it_had_not() {
    // `train_until` asks after each step but the last: a call that is told to stop after its
    // third step has run three; one asked never is as long as `train`; and a run cut that way
    // and continued is the same, bit for bit, as one trained straight through.
    let cfg = VaeConfig {
        batch_size: 16,
        ..small()
    };
    let (train, test) = (synthetic_digits(1, 160, 14), synthetic_digits(2, 16, 14));
    let open = || {
        let mut s = vae_webgpu::session::Session::open_cpu(&cfg, || 0.0).unwrap();
        s.attach(train.clone(), test.clone()).unwrap();
        s
    };
    let mut cut = open();
    let mut asked = 0;
    let first = pollster::block_on(cut.train_until(8, &mut || {
        asked += 1;
        asked == 3
    }))
    .unwrap();
    assert_eq!((asked, first.position.global_step), (3, 3));
    let mut never = 0;
    let second = pollster::block_on(cut.train_until(5, &mut || {
        never += 1;
        false
    }))
    .unwrap();
    assert_eq!(
        (never, second.position.global_step),
        (4, 8),
        "asked after each step but the last"
    );
    // A one-step call is never asked, and a stop at once still runs one step.
    let one = pollster::block_on(cut.train_until(1, &mut || unreachable!())).unwrap();
    assert_eq!(one.position.global_step, 9);
    let at_once = pollster::block_on(cut.train_until(4, &mut || true)).unwrap();
    assert_eq!(at_once.position.global_step, 10);

    let mut straight = open();
    let whole = pollster::block_on(straight.train(10)).unwrap();
    let mut cut_records = first.records.clone();
    for r in [&second, &one, &at_once] {
        cut_records.extend(&r.records);
    }
    assert_eq!(cut_records, whole.records, "the same steps, bit for bit");
    assert_eq!(
        pollster::block_on(cut.export_checkpoint()).unwrap(),
        pollster::block_on(straight.export_checkpoint()).unwrap()
    );
}
