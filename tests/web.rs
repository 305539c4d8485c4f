//! In the browser (headless Chromium's WebGPU, SwiftShader): every kernel family against the CPU
//! reference (the same checks the native tests run), a few hundred training steps on a small
//! generated set that lower the loss, and the JavaScript API. Run by
//! `wasm-pack test --headless --chrome --release`; a missing adapter is a failure, not a skip.
#![cfg(target_arch = "wasm32")]

mod common;

use common::checks;
use vae_webgpu::gpu::Gpu;
use vae_webgpu::mnist::encode_idx;
use vae_webgpu::train::Trainer as CoreTrainer;
use vae_webgpu::web::Trainer;
use vae_webgpu::VaeConfig;
use wasm_bindgen::JsValue;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

async fn gpu() -> Gpu {
    match Gpu::new().await {
        Ok(g) => g,
        Err(e) => panic!("no WebGPU adapter in this browser (headless Chromium needs --enable-unsafe-webgpu): {e}"),
    }
}

/// The CPU engine's own matrix product on its wasm SIMD128 micro-kernel.
#[wasm_bindgen_test]
fn browser_cpu_gemm_matches_reference_and_splits_bit_for_bit() {
    common::cpu_checks::gemm_matches_the_f64_reference_on_uneven_shapes();
    common::cpu_checks::gemm_with_beta_zero_never_reads_c();
    common::cpu_checks::gemm_split_into_parts_is_the_same_bit_for_bit();
    common::cpu_checks::gemm_epilogues_match_the_separate_passes();
}

#[wasm_bindgen_test]
async fn browser_linear_direct_matches_reference() {
    checks::linear_direct_matches_reference_on_uneven_shapes(&gpu().await).await;
}

#[wasm_bindgen_test]
async fn browser_linear_tiled_matches_reference() {
    checks::linear_tiled_matches_reference_on_uneven_shapes(&gpu().await).await;
}

#[wasm_bindgen_test]
async fn browser_gather_matches_reference() {
    checks::gather_batch_matches_reference(&gpu().await).await;
}

#[wasm_bindgen_test]
async fn browser_reparam_matches_reference() {
    checks::reparam_forward_and_backward_match_reference(&gpu().await).await;
}

#[wasm_bindgen_test]
async fn browser_latent_kernels_match_reference() {
    checks::latent_kernels_and_small_gradients_match_reference(&gpu().await).await;
}

#[wasm_bindgen_test]
async fn browser_loss_epilogue_matches_reference() {
    checks::linear_forward_loss_matches_reference(&gpu().await).await;
}

#[wasm_bindgen_test]
async fn browser_one_dispatch_backward_matches_reference() {
    checks::linear_backward_tiled_matches_reference(&gpu().await).await;
}

#[wasm_bindgen_test]
async fn browser_loss_matches_reference() {
    checks::loss_bce_kl_matches_reference(&gpu().await).await;
}

#[wasm_bindgen_test]
async fn browser_adam_matches_reference() {
    checks::adam_step_matches_torch_adam_over_three_steps(&gpu().await).await;
}

#[wasm_bindgen_test]
async fn browser_non_finite_flags() {
    let gpu = gpu().await;
    checks::loss_flags_non_finite(&gpu).await;
    checks::adam_flags_non_finite_params(&gpu).await;
}

fn small_config() -> VaeConfig {
    VaeConfig {
        input: 196,
        hidden: 64,
        latent: 8,
        batch_size: 32,
        ..VaeConfig::default()
    }
}

#[wasm_bindgen_test]
async fn browser_training_lowers_the_loss() {
    let train = common::synthetic_digits(4, 640, 14);
    let test = common::synthetic_digits(5, 64, 14);
    let mut t = CoreTrainer::new(gpu().await, &small_config(), &train, &test).unwrap();
    t.set_readback_every(50);
    let steps = 300u32;
    let mut recs = Vec::new();
    while t.global_step() < u64::from(steps) {
        t.submit_train(steps - t.global_step() as u32).unwrap();
        recs.extend(t.flush().await.unwrap());
    }
    assert_eq!(recs.len(), steps as usize);
    let mean = |r: &[vae_webgpu::run::StepRecord]| {
        r.iter()
            .map(|x| (x.recon + x.kl) / x.rows as f32)
            .sum::<f32>()
            / r.len() as f32
    };
    let (first, last) = (mean(&recs[..10]), mean(&recs[recs.len() - 10..]));
    web_sys::console::log_1(
        &format!("browser training: loss per sample {first:.2} → {last:.2}").into(),
    );
    assert!(last < 0.7 * first, "loss did not fall: {first} → {last}");
    let eval = t.evaluate().await.unwrap();
    assert_eq!(eval.count, 64);
}

/// A config object from number fields, on the WebGPU engine (the default, "auto", may pick the
/// CPU engine on SwiftShader; these tests are about the WebGPU engine unless they say).
fn config(pairs: &[(&str, f64)]) -> JsValue {
    let o = js_sys::Object::new();
    js_sys::Reflect::set(&o, &"engine".into(), &"webgpu".into()).unwrap();
    for (k, v) in pairs {
        js_sys::Reflect::set(&o, &JsValue::from_str(k), &JsValue::from_f64(*v)).unwrap();
    }
    o.into()
}

/// A string field of a thrown API error.
fn err_field(e: impl Into<JsValue>, name: &str) -> String {
    js_sys::Reflect::get(&e.into(), &JsValue::from_str(name))
        .unwrap()
        .as_string()
        .unwrap_or_default()
}

fn err_text(e: impl Into<JsValue>) -> String {
    err_field(e, "message")
}

/// The `code` of a thrown API error (`error.code`).
fn err_code(e: impl Into<JsValue>) -> String {
    err_field(e, "code")
}

fn idx_files(seed: u64, n: usize) -> (Vec<u8>, Vec<u8>) {
    let d = common::synthetic_digits(seed, n, 14);
    (
        encode_idx(&[n as u32, 14, 14], &d.images),
        encode_idx(&[n as u32], &d.labels),
    )
}

#[wasm_bindgen_test]
async fn browser_web_api_trains_samples_and_checkpoints() {
    let cfg = config(&[
        ("input", 196.0),
        ("hidden", 64.0),
        ("latent", 8.0),
        ("batchSize", 32.0),
        ("epochs", 2.0),
    ]);
    let t = Trainer::create(cfg).await.map_err(JsValue::from).unwrap();
    assert!(!t.adapter().is_empty());
    let (ti, tl) = idx_files(1, 200);
    let (vi, vl) = idx_files(2, 40);
    // A bad file is rejected with its name and the data stays unloaded.
    let e = t.load_dataset(&tl, &tl, &vi, &vl).unwrap_err();
    assert!(err_text(e).starts_with("training images: wrong number of dimensions"));
    t.load_dataset(&ti, &tl, &vi, &vl)
        .map_err(JsValue::from)
        .unwrap();
    assert_eq!(
        (t.steps_per_epoch(), t.test_count(), t.image_side()),
        (7, 40, 14)
    );
    let mut steps = 0;
    let mut plotted = 0;
    while steps < 7 {
        let s = t.train(3.0, None).await.map_err(JsValue::from).unwrap();
        plotted += s.records.len() / 4;
        steps = s.step_in_epoch;
    }
    let s = t.flush().await.map_err(JsValue::from).unwrap();
    plotted += s.records.len() / 4;
    assert_eq!(plotted, 7, "every step's losses reach the page once");
    let ev = t.evaluate().await.map_err(JsValue::from).unwrap();
    assert_eq!(ev.count, 40);
    assert!(ev.loss.is_finite() && ev.loss > 0.0);
    assert_eq!(
        t.reconstruct(8.0)
            .await
            .map_err(JsValue::from)
            .unwrap()
            .len(),
        16 * 196
    );
    assert_eq!(
        t.sample(64.0, 3.0)
            .await
            .map_err(JsValue::from)
            .unwrap()
            .len(),
        64 * 196
    );
    assert_eq!(
        t.latent_walk(0.0, 1.0, 10.0)
            .await
            .map_err(JsValue::from)
            .unwrap()
            .len(),
        10 * 196
    );

    let layout = vae_webgpu::layout::ParamLayout::new(196, 64, 8);
    let params = |bytes: &[u8]| vae_webgpu::checkpoint::load(&layout, bytes).unwrap();
    let ck = t.export_checkpoint().await.map_err(JsValue::from).unwrap();
    t.reset().await.map_err(JsValue::from).unwrap();
    let fresh = t.export_checkpoint().await.map_err(JsValue::from).unwrap();
    assert_ne!(params(&fresh), params(&ck), "reset re-initialises");
    t.import_checkpoint(&ck).map_err(JsValue::from).unwrap();
    let back = t.export_checkpoint().await.map_err(JsValue::from).unwrap();
    assert_eq!(params(&back), params(&ck));
    // A checkpoint of another shape is rejected and the model is kept.
    let cfg = config(&[("input", 196.0), ("hidden", 32.0), ("latent", 8.0)]);
    let other = Trainer::create(cfg).await.map_err(JsValue::from).unwrap();
    let wrong = other
        .export_checkpoint()
        .await
        .map_err(JsValue::from)
        .unwrap();
    let e = t.import_checkpoint(&wrong).unwrap_err();
    assert!(err_text(e).contains("fc1.weight has shape [32, 196] but this model needs [64, 196]"));
    let kept = t.export_checkpoint().await.map_err(JsValue::from).unwrap();
    assert_eq!(params(&kept), params(&ck));
}

#[wasm_bindgen_test]
async fn browser_config_errors_name_the_field() {
    for (cfg, needle) in [
        (config(&[("lr", -1.0)]), "invalid config: lr"),
        (config(&[("batchSize", 0.0)]), "invalid config: batch_size"),
        (
            config(&[("hidden", 2.5)]),
            "config.hidden must be a whole number",
        ),
    ] {
        let e = Trainer::create(cfg)
            .await
            .err()
            .expect("bad config accepted");
        let e = JsValue::from(e);
        assert_eq!(err_code(e.clone()), "bad-config");
        let text = err_text(e);
        assert!(text.contains(needle), "{text}");
    }
    let o = js_sys::Object::new();
    js_sys::Reflect::set(&o, &"lr".into(), &"fast".into()).unwrap();
    let e = Trainer::create(o.into())
        .await
        .err()
        .expect("string lr accepted");
    assert_eq!(err_text(e), "config.lr must be a number");
}

#[wasm_bindgen_test]
async fn browser_a_second_call_in_flight_is_refused_and_getters_answer() {
    use std::future::Future;
    use std::task::{Context, Poll, Waker};
    let cfg = config(&[
        ("input", 196.0),
        ("hidden", 32.0),
        ("latent", 4.0),
        ("batchSize", 16.0),
    ]);
    let t = Trainer::create(cfg).await.map_err(JsValue::from).unwrap();
    let (ti, tl) = idx_files(1, 160);
    let (vi, vl) = idx_files(2, 32);
    t.load_dataset(&ti, &tl, &vi, &vl)
        .map_err(JsValue::from)
        .unwrap();
    t.train(2.0, None).await.map_err(JsValue::from).unwrap();
    // The next call waits for the previous call's steps: poll it once so it is in flight.
    let mut in_flight = Box::pin(t.train(2.0, None));
    let first = in_flight
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()));
    assert!(
        matches!(first, Poll::Pending),
        "the call should be waiting on the GPU"
    );
    assert_eq!(
        t.global_step(),
        2,
        "getters answer while a call is in flight"
    );
    let Err(busy) = t.flush().await else {
        panic!("a second call was accepted")
    };
    let busy = JsValue::from(busy);
    assert_eq!(err_code(busy.clone()), "busy");
    assert!(err_text(busy).contains("busy with another call"));
    in_flight.await.map_err(JsValue::from).unwrap();
    let done = t.flush().await.map_err(JsValue::from).unwrap();
    assert_eq!(done.global_step, 4);
    assert_eq!(t.global_step(), 4);
}

#[wasm_bindgen_test]
async fn browser_explore_api_encodes_decodes_and_maps() {
    let cfg = config(&[
        ("input", 196.0),
        ("hidden", 32.0),
        ("latent", 2.0),
        ("batchSize", 16.0),
    ]);
    let t = Trainer::create(cfg).await.map_err(JsValue::from).unwrap();
    let (ti, tl) = idx_files(1, 160);
    let (vi, vl) = idx_files(2, 90);
    t.load_dataset(&ti, &tl, &vi, &vl)
        .map_err(JsValue::from)
        .unwrap();
    t.train(10.0, None).await.map_err(JsValue::from).unwrap();
    t.flush().await.map_err(JsValue::from).unwrap();
    let pixels = vae_webgpu::web::drawing_to_input(&vec![1.0; 100 * 100], 100, 14)
        .map_err(JsValue::from)
        .unwrap();
    assert_eq!(pixels.len(), 196);
    let e = t
        .encode([pixels.clone(), pixels].concat())
        .await
        .map_err(JsValue::from)
        .unwrap();
    assert_eq!((e.mu.len(), e.log_var.len()), (4, 4));
    assert_eq!(e.mu[..2], e.mu[2..], "the same input encodes the same");
    let img = t
        .decode(vec![0.0, 0.0, 1.0, -1.0])
        .await
        .map_err(JsValue::from)
        .unwrap();
    assert_eq!(img.len(), 2 * 196);
    assert!(img.iter().all(|v| (0.0..=1.0).contains(v)));
    let Err(e) = t.decode(vec![0.0; 3]).await else {
        panic!("3 values decoded with latent 2")
    };
    assert!(err_text(e).contains("whole latent vectors of 2 values"));
    let Err(e) = t.encode(vec![0.5; 100]).await else {
        panic!("100 pixels encoded")
    };
    assert!(err_text(e).contains("whole inputs of 196 pixels"));
    // With a 2-D latent space the map is μ itself; 90 test digits in 16-row batches.
    let map = t.latent_map(90.0).await.map_err(JsValue::from).unwrap();
    assert_eq!(
        (map.points.len(), map.labels.len(), map.pca),
        (180, 90, false)
    );
    let mu = t
        .encode(pixels_of(&vi, 5))
        .await
        .map_err(JsValue::from)
        .unwrap()
        .mu;
    assert!((map.points[10] - mu[0]).abs() < 1e-4 && (map.points[11] - mu[1]).abs() < 1e-4);
}

fn pixels_of(idx: &[u8], k: usize) -> Vec<f32> {
    idx[16 + k * 196..16 + (k + 1) * 196]
        .iter()
        .map(|&b| f32::from(b) / 255.0)
        .collect()
}

#[wasm_bindgen_test]
async fn browser_hostile_numbers_are_errors_and_the_trainer_goes_on() {
    let cfg = config(&[
        ("input", 196.0),
        ("hidden", 32.0),
        ("latent", 4.0),
        ("batchSize", 16.0),
    ]);
    let t = Trainer::create(cfg).await.map_err(JsValue::from).unwrap();
    let (ti, tl) = idx_files(1, 160);
    let (vi, vl) = idx_files(2, 32);
    t.load_dataset(&ti, &tl, &vi, &vl)
        .map_err(JsValue::from)
        .unwrap();
    let hostile = [
        -1.0,
        f64::NAN,
        2.5,
        2f64.powi(31),
        2f64.powi(32) - 1.0,
        1e300,
    ];
    for v in hostile {
        let e = JsValue::from(t.sample(v, 1.0).await.expect_err("sample accepted"));
        assert_eq!(err_code(e.clone()), "bad-argument", "sample({v})");
        assert!(err_text(e).starts_with("invalid n: "), "sample({v})");
        let e = t.reconstruct(v).await.expect_err("reconstruct accepted");
        assert!(err_text(e).starts_with("invalid n: "), "reconstruct({v})");
        let e = t.latent_map(v).await.expect_err("latentMap accepted");
        assert!(err_text(e).starts_with("invalid n: "), "latentMap({v})");
        let e = t.train(v, None).await.expect_err("train accepted");
        assert!(err_text(e).starts_with("invalid steps: "), "train({v})");
        let e = t.latent_walk(0.0, v, 4.0).await.expect_err("walk accepted");
        let text = err_text(e);
        assert!(
            text.starts_with("invalid b: ") || text.contains("does not exist"),
            "latentWalk(0, {v}): {text}"
        );
    }
    // Zero: nothing to draw, and said so by an empty result, not an error.
    assert!(t
        .sample(0.0, 1.0)
        .await
        .map_err(JsValue::from)
        .unwrap()
        .is_empty());
    assert!(t
        .reconstruct(0.0)
        .await
        .map_err(JsValue::from)
        .unwrap()
        .is_empty());
    let e = t.train(0.0, None).await.expect_err("train(0) accepted");
    assert!(err_text(e).contains("1..=1048576"));
    // Huge arrays: refused before any allocation of their size.
    let e = t
        .decode(vec![0.0; 4 * 684_785])
        .await
        .expect_err("decode accepted");
    assert!(err_text(e).contains("at most 16384 per call"));
    let e = t
        .test_digits(vec![0; 700_000])
        .await
        .expect_err("testDigits accepted");
    assert!(err_text(e).contains("at most 16384 per call"));
    let e = t
        .test_digits(vec![u32::MAX])
        .await
        .expect_err("id accepted");
    assert!(err_text(e).contains("test image 4294967295 does not exist"));
    for (ink, size, side) in [
        (vec![], 0, 46_341),
        (vec![0.0], 65_536, 28),
        (vec![0.0; 4], 2, 0),
    ] {
        let e = vae_webgpu::web::drawing_to_input(&ink, size, side).unwrap_err();
        assert!(
            err_text(e).starts_with("invalid "),
            "drawingToInput({size}, {side})"
        );
    }
    let e = Trainer::create(config(&[("batch_size", 64.0)]))
        .await
        .err()
        .expect("accepted");
    assert!(err_text(e).contains("unknown key batch_size — did you mean batchSize?"));
    let e = t.set_learning_rate(f32::NAN).unwrap_err();
    assert!(err_text(e).contains("invalid config: lr"));
    // And the trainer still trains.
    let s = t.train(2.0, None).await.map_err(JsValue::from).unwrap();
    assert_eq!(s.global_step, 2);
}

#[wasm_bindgen_test]
async fn browser_kl_weight_and_a_plain_autoencoder_from_the_config() {
    let o = config(&[
        ("input", 196.0),
        ("hidden", 32.0),
        ("latent", 4.0),
        ("batchSize", 16.0),
        ("klWeight", 0.5),
    ]);
    js_sys::Reflect::set(&o, &"variational".into(), &JsValue::FALSE).unwrap();
    let t = Trainer::create(o).await.map_err(JsValue::from).unwrap();
    assert_eq!((t.kl_weight(), t.variational()), (0.5, false));
    let (ti, tl) = idx_files(1, 160);
    let (vi, vl) = idx_files(2, 32);
    t.load_dataset(&ti, &tl, &vi, &vl)
        .map_err(JsValue::from)
        .unwrap();
    t.train(4.0, None).await.map_err(JsValue::from).unwrap();
    t.set_kl_weight(4.0).map_err(JsValue::from).unwrap();
    assert_eq!(t.kl_weight(), 4.0);
    let e = t.set_kl_weight(f32::NAN).unwrap_err();
    assert!(err_text(e).contains("invalid config: kl_weight"));
    let s = t.flush().await.map_err(JsValue::from).unwrap();
    assert_eq!(s.global_step, 4);
    let bad = config(&[("variational", 1.0)]);
    let e = Trainer::create(bad)
        .await
        .err()
        .expect("variational: 1 accepted");
    assert_eq!(err_text(e), "config.variational must be true or false");
}

#[wasm_bindgen_test]
async fn browser_an_autoencoder_beside_a_vae_on_one_device() {
    let small = [
        ("input", 196.0),
        ("hidden", 32.0),
        ("latent", 4.0),
        ("batchSize", 16.0),
    ];
    let vae = Trainer::create(config(&small))
        .await
        .map_err(JsValue::from)
        .unwrap();
    let o = config(&small);
    js_sys::Reflect::set(&o, &"variational".into(), &JsValue::FALSE).unwrap();
    let ae = Trainer::create_beside(&vae, o)
        .await
        .map_err(JsValue::from)
        .unwrap();
    assert!(ae.shares_device_with(&vae) && vae.shares_device_with(&ae));
    // createBeside reads `engine`: an unknown one is refused, "cpu" builds a CPU trainer.
    let o = config(&small);
    js_sys::Reflect::set(&o, &"engine".into(), &"cuda".into()).unwrap();
    let e = JsValue::from(Trainer::create_beside(&vae, o).await.err().expect("cuda"));
    assert_eq!(err_code(e), "bad-config");
    let o = config(&small);
    js_sys::Reflect::set(&o, &"engine".into(), &"cpu".into()).unwrap();
    let beside_cpu = Trainer::create_beside(&vae, o)
        .await
        .map_err(JsValue::from)
        .unwrap();
    assert_eq!(beside_cpu.engine(), "cpu");
    let o = config(&small);
    js_sys::Reflect::set(&o, &"engine".into(), &"webgpu".into()).unwrap();
    let e = JsValue::from(
        Trainer::create_beside(&beside_cpu, o)
            .await
            .err()
            .expect("webgpu beside a CPU trainer"),
    );
    assert_eq!(err_code(e), "bad-config");
    assert!((vae.variational(), ae.variational()) == (true, false));
    let alone = Trainer::create(config(&small))
        .await
        .map_err(JsValue::from)
        .unwrap();
    assert!(!alone.shares_device_with(&vae));
    let (ti, tl) = idx_files(1, 160);
    let (vi, vl) = idx_files(2, 32);
    for t in [&vae, &ae] {
        t.load_dataset(&ti, &tl, &vi, &vl)
            .map_err(JsValue::from)
            .unwrap();
    }
    for _ in 0..3 {
        vae.train(2.0, None).await.map_err(JsValue::from).unwrap();
        ae.train(2.0, None).await.map_err(JsValue::from).unwrap();
    }
    let (a, b) = (
        vae.flush().await.map_err(JsValue::from).unwrap(),
        ae.flush().await.map_err(JsValue::from).unwrap(),
    );
    assert_eq!((a.global_step, b.global_step), (6, 6));
    // Different objectives, different runs (the AE's KL is only reported: it is not trained).
    assert!(a.kl > 0.0 && a.reconstruction != b.reconstruction);
    // The seed's x and x_reconst after an epoch (10 steps of 16 on 160 images).
    assert!(alone.last_batch(None).await.is_err(), "no data, no batch");
    assert!(
        ae.last_batch(Some(0.0)).await.is_err(),
        "epochs count from 1"
    );
    assert_eq!(
        ae.last_batch(Some(3.0))
            .await
            .map_err(JsValue::from)
            .unwrap()
            .rows,
        16
    );
    ae.train(4.0, None).await.map_err(JsValue::from).unwrap();
    ae.flush().await.map_err(JsValue::from).unwrap();
    let last = ae.last_batch(None).await.map_err(JsValue::from).unwrap();
    assert_eq!(last.rows, 16);
    assert_eq!(last.pixels.len(), 16 * 196);
    assert_eq!(last.reconstruction.len(), 16 * 196);
    assert!(last.reconstruction.iter().all(|p| (0.0..=1.0).contains(p)));
    // A profile names the WGSL kernels of each stage.
    let p = ae.profile_step().await.map_err(JsValue::from).unwrap();
    let fc1 = p.stages.iter().find(|s| s.name == "fc1 forward").unwrap();
    assert!(fc1.kernels[0].starts_with("linear.wgsl: linear_forward"));
}

#[wasm_bindgen_test]
async fn browser_cpu_engine_matches_the_webgpu_engine() {
    let cfg = VaeConfig {
        hidden: 30,
        latent: 5,
        ..small_config()
    };
    let line = checks::cpu_engine_matches_gpu_engine(gpu().await, cfg.clone(), 12).await;
    web_sys::console::log_1(&line.into());
    let ae = VaeConfig {
        variational: false,
        ..cfg
    };
    checks::cpu_engine_matches_gpu_engine(gpu().await, ae, 8).await;
}

/// The fused step form (a hardware GPU's: tiled GEMMs, latent.wgsl, the loss in fc5's kernel,
/// 8 dispatches a step), forced on this adapter: the CPU engine's run, step by step.
#[wasm_bindgen_test]
async fn browser_the_fused_gpu_step_matches_the_cpu_engine() {
    let cfg = VaeConfig {
        hidden: 30,
        latent: 5,
        kl_weight: 4.0,
        ..small_config()
    };
    let mut gpu = gpu().await;
    gpu.gemm = vae_webgpu::gpu::GemmForm::Tiled;
    let line = checks::cpu_engine_matches_gpu_engine(gpu, cfg, 8).await;
    web_sys::console::log_1(&line.into());
}

#[wasm_bindgen_test]
async fn browser_the_engine_is_chosen_by_config_and_the_api_works_on_the_cpu() {
    let cpu = config(&[
        ("input", 196.0),
        ("hidden", 32.0),
        ("latent", 4.0),
        ("batchSize", 16.0),
    ]);
    js_sys::Reflect::set(&cpu, &"engine".into(), &"cpu".into()).unwrap();
    let t = Trainer::create(cpu.clone())
        .await
        .map_err(JsValue::from)
        .unwrap();
    assert_eq!(
        (t.engine(), t.engine_reason()),
        ("cpu".into(), "asked for".into())
    );
    assert!(
        t.adapter().starts_with("CPU engine (wasm SIMD128"),
        "{}",
        t.adapter()
    );
    assert_eq!(t.gemm_form(), "CPU");
    assert!(t.device_lost().is_none());
    let (ti, tl) = idx_files(1, 160);
    let (xi, xl) = idx_files(2, 40);
    t.load_dataset(&ti, &tl, &xi, &xl).unwrap();
    // Training, losses, evaluation, display passes, checkpoints, profile: the same API.
    let s = t.train(12.0, None).await.map_err(JsValue::from).unwrap();
    assert_eq!(
        s.global_step, 10,
        "an epoch of 160/16 steps, stopped at its end"
    );
    assert!(s.reconstruction.is_finite() && s.kl.is_finite());
    assert!(t
        .evaluate()
        .await
        .map_err(JsValue::from)
        .unwrap()
        .loss
        .is_finite());
    assert_eq!(
        t.sample(5.0, 1.0)
            .await
            .map_err(JsValue::from)
            .unwrap()
            .len(),
        5 * 196
    );
    assert_eq!(
        t.reconstruct(3.0)
            .await
            .map_err(JsValue::from)
            .unwrap()
            .len(),
        6 * 196
    );
    let bytes = t.export_checkpoint().await.map_err(JsValue::from).unwrap();
    let adam = t.export_adam().await.map_err(JsValue::from).unwrap();
    let p = t.profile_step().await.map_err(JsValue::from).unwrap();
    assert!(p.step_ms > 0.0 && p.peak_gflops > 0.0);
    assert!(t.stage_kernels().unwrap()[1].kernels[0].starts_with("cpu/step.rs"));
    // `until`, asked after each step but the last: true ends the call after one step; a
    // function that throws ends it as true would; one that says false lets it run.
    for (body, steps) in [
        ("return true", 1),
        ("throw new Error('x')", 1),
        ("return false", 4),
    ] {
        let at = t.global_step();
        let until = js_sys::Function::new_no_args(body);
        let r = t.train(4.0, Some(until)).await.map_err(JsValue::from);
        assert_eq!(r.unwrap().global_step - at, steps, "until: {body}");
    }
    // Its checkpoint resumes on the WebGPU engine, at the same step, with the same weights.
    let g = Trainer::create(config(&[
        ("input", 196.0),
        ("hidden", 32.0),
        ("latent", 4.0),
        ("batchSize", 16.0),
    ]))
    .await
    .map_err(JsValue::from)
    .unwrap();
    assert_eq!(g.engine(), "webgpu");
    g.load_dataset(&ti, &tl, &xi, &xl).unwrap();
    g.resume(&bytes, Some(adam.clone())).unwrap();
    assert_eq!(g.global_step(), 10);
    let back = g.export_checkpoint().await.map_err(JsValue::from).unwrap();
    let tensors = |b: &[u8]| {
        let n = u64::from_le_bytes(b[..8].try_into().unwrap()) as usize;
        b[8 + n..].to_vec()
    };
    assert_eq!(tensors(&back), tensors(&bytes));
    // Adam's moments came with it (resume with exportAdam's bytes: the run goes on exactly).
    let adam_back = g.export_adam().await.map_err(JsValue::from).unwrap();
    assert_eq!(adam_back, adam);
    // A plain autoencoder beside a CPU-engine trainer is on the CPU too.
    let ae = Trainer::create_beside(&t, cpu)
        .await
        .map_err(JsValue::from)
        .unwrap();
    assert_eq!(ae.engine(), "cpu");
    assert!(!ae.shares_device_with(&t));
    // auto on this software adapter takes the CPU engine at once and says why.
    let auto = config(&[
        ("input", 196.0),
        ("hidden", 32.0),
        ("latent", 4.0),
        ("batchSize", 16.0),
    ]);
    js_sys::Reflect::set(&auto, &"engine".into(), &"auto".into()).unwrap();
    let a = Trainer::create(auto).await.map_err(JsValue::from).unwrap();
    web_sys::console::log_1(&format!("auto: {} ({})", a.engine(), a.engine_reason()).into());
    assert!(
        a.engine_reason().contains("the adapter is a software one"),
        "{}",
        a.engine_reason()
    );
    assert_eq!(a.engine(), "cpu");
    // An engine that does not exist is refused by name.
    let bad = config(&[]);
    js_sys::Reflect::set(&bad, &"engine".into(), &"tpu".into()).unwrap();
    let e = Trainer::create(bad)
        .await
        .err()
        .expect("engine tpu accepted");
    assert_eq!(
        err_text(e),
        "invalid config: engine: \"tpu\" is not an engine; use one of auto, webgpu, cpu"
    );
}

/// The test runner's page is not cross-origin isolated and runs the SIMD128 build: one thread,
/// and asking for more (or none) is refused with the reason.
#[wasm_bindgen_test]
fn browser_the_cpu_engine_has_one_thread_without_the_threads_build() {
    assert_eq!(vae_webgpu::web::cpu_threads(), 1);
    assert_eq!(vae_webgpu::web::set_cpu_threads(1).unwrap(), 1);
    for n in [0, 2] {
        let e = vae_webgpu::web::set_cpu_threads(n).unwrap_err();
        let text = err_text(e);
        assert!(
            text.contains(&format!("{n} threads asked for; this page has 1 … 1"))
                && text.contains("cross-origin isolated"),
            "{text}"
        );
    }
}

#[wasm_bindgen_test]
fn browser_draw_pairs_checks_sizes_before_drawing() {
    let ctor: js_sys::Function = js_sys::Reflect::get(&js_sys::global(), &"OffscreenCanvas".into())
        .unwrap()
        .into();
    let canvas =
        js_sys::Reflect::construct(&ctor, &js_sys::Array::of2(&1.into(), &1.into())).unwrap();
    let px = vec![0.5f32; 2 * 784];
    // 0 is what JS makes of NaN, u32::MAX of −1: each once trapped the module.
    for side in [0, u32::MAX, 27] {
        let e = vae_webgpu::web::draw_pairs(&canvas, &px, &px, side, 2)
            .expect_err("a bad side was accepted");
        assert_eq!(err_code(e), "bad-argument", "side {side}");
    }
    vae_webgpu::web::draw_pairs(&canvas, &px, &px, 28, 2)
        .map_err(JsValue::from)
        .unwrap();
}
