//! The benchmark's parts: the FMA probe, the stage-by-stage recording of a training step (which
//! must be the step itself, stage for stage), and the profile's bookkeeping.
// The WGSL engine is under test: not built without the `webgpu` feature.
#![cfg(feature = "webgpu")]
#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::{gpu, synthetic_digits};
use vae_webgpu::bench::{fma_peak, profile_step};
use vae_webgpu::gpu::GemmForm;
use vae_webgpu::kernels::dispatches_recorded;
use vae_webgpu::model::{StepForm, StepSpec, VaeModel};
use vae_webgpu::run::{stage_flop, Stage, StepKind};
use vae_webgpu::VaeConfig;

fn clock() -> impl Fn() -> f64 {
    let start = std::time::Instant::now();
    move || start.elapsed().as_secs_f64() * 1e3
}

/// The first training step of an epoch at `small()`'s batch size.
fn first_step() -> StepSpec {
    StepSpec {
        kind: StepKind::Train,
        rows: 13,
        index_offset: 0,
        rng_step: 1,
        slot: 0,
        t: 1,
    }
}

fn small() -> VaeConfig {
    VaeConfig {
        hidden: 24,
        latent: 3,
        batch_size: 13,
        ..VaeConfig::default()
    }
}

#[test]
fn the_stages_in_order_are_one_training_step() {
    let Some(gpu) = gpu() else { return };
    let cfg = small();
    let data = synthetic_digits(7, 40, 28);
    let spec = first_step();
    let mut whole = VaeModel::new(&gpu, &cfg).unwrap();
    whole.attach_data(&gpu, &data, &data.take(8)).unwrap();
    let cmd = whole.encode_steps(&gpu, &[spec]).unwrap();
    gpu.queue.submit([cmd]);
    let mut staged = VaeModel::new(&gpu, &cfg).unwrap();
    staged.attach_data(&gpu, &data, &data.take(8)).unwrap();
    for stage in Stage::FORWARD.into_iter().chain(Stage::BACKWARD) {
        let cmd = staged.encode_stage_reps(&gpu, &spec, stage, 1).unwrap();
        gpu.queue.submit([cmd]);
    }
    let a = pollster::block_on(whole.read_params(&gpu)).unwrap();
    let b = pollster::block_on(staged.read_params(&gpu)).unwrap();
    let p0 = pollster::block_on(VaeModel::new(&gpu, &cfg).unwrap().read_params(&gpu)).unwrap();
    assert_ne!(a, p0, "the step changed the parameters");
    assert_eq!(a, b, "stage by stage = one step, bit for bit");
}

/// What `dispatches_per_train_step` reports is what a training step records, in every GEMM
/// form the adapter has with its step form (the tiled one fused: 8; the direct ones: 17) and
/// the tiled one with the separate kernels (17).
#[test]
fn a_training_step_records_the_dispatches_it_reports() {
    let Some(gpu) = gpu() else { return };
    let data = synthetic_digits(7, 40, 28);
    assert_eq!(VaeModel::dispatches_per_train_step(StepForm::Fused), 8);
    assert_eq!(VaeModel::dispatches_per_train_step(StepForm::Separate), 17);
    let mut forms: Vec<(GemmForm, StepForm)> = GemmForm::available(&gpu)
        .into_iter()
        .map(|f| (f, StepForm::for_gemm(f)))
        .collect();
    forms.push((GemmForm::Tiled, StepForm::Separate));
    for (form, step) in forms {
        let mut model = VaeModel::with_forms(&gpu, &small(), form, step).unwrap();
        model.attach_data(&gpu, &data, &data.take(8)).unwrap();
        let spec = first_step();
        let before = dispatches_recorded();
        let cmd = model.encode_steps(&gpu, &[spec, spec]).unwrap();
        let recorded = dispatches_recorded() - before;
        gpu.queue.submit([cmd]);
        assert_eq!(
            recorded as usize,
            2 * VaeModel::dispatches_per_train_step(step),
            "{form:?} {step:?}"
        );
    }
    // The fused form needs the tiled GEMMs.
    let e = VaeModel::with_forms(&gpu, &small(), GemmForm::Direct, StepForm::Fused).err();
    assert!(e.is_some_and(|e| e.to_string().contains("tiled GEMMs")));
}

#[test]
fn stage_flop_adds_up_to_the_issue_figure() {
    let cfg = VaeConfig::default();
    let total: f64 = Stage::FORWARD
        .into_iter()
        .chain(Stage::BACKWARD)
        .map(|s| stage_flop(&cfg, s, 1))
        .sum();
    // 784-400-20: forward 1.3024 MFLOP, backward 1.9776 MFLOP a sample.
    assert!((total - 3_280_000.0).abs() < 1_000.0, "{total}");
    assert_eq!(
        stage_flop(&cfg, Stage::Forward(0), 128),
        2.0 * 128.0 * 784.0 * 400.0
    );
    assert_eq!(
        stage_flop(&cfg, Stage::Backward(0), 128),
        2.0 * 128.0 * 784.0 * 400.0
    );
    assert_eq!(
        stage_flop(&cfg, Stage::Backward(3), 128),
        4.0 * 128.0 * 784.0 * 400.0
    );
    assert_eq!(stage_flop(&cfg, Stage::Adam, 128), 0.0);
}

#[test]
fn the_probe_and_the_profile_report_finite_positive_figures() {
    let Some(gpu) = gpu() else { return };
    let now = clock();
    let peak = pollster::block_on(fma_peak(&gpu, &now)).unwrap();
    assert!(peak.is_finite() && peak > 0.0, "peak {peak}");
    let cfg = small();
    let p =
        pollster::block_on(profile_step(&gpu, &cfg, (gpu.gemm, gpu.step_form()), &now)).unwrap();
    assert_eq!(p.batch, 13);
    let names: Vec<&str> = p.stages.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names.len(), 9);
    assert_eq!(names[0], "gather");
    assert_eq!(names[1], "fc1 forward");
    assert_eq!(names[2], "fc2|fc3 · z · fc4 forward");
    assert_eq!(names[8], "adam");
    for s in &p.stages {
        assert!(s.ms.is_finite() && s.ms > 0.0, "{}: {} ms", s.name, s.ms);
    }
    assert!(p.step_ms.is_finite() && p.step_ms > 0.0);
    assert!(p.peak_gflops.is_finite() && p.peak_gflops > 0.0);
    let want: f64 = p.stages.iter().map(|s| s.flop).sum();
    assert_eq!(p.step_flop, want);
}
