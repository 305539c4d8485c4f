//! Faults a long-running trainer must survive: a diverging learning rate (non-finite loss or
//! parameters are flagged on the GPU, training stops and the last good state comes back), and
//! many epochs in one process without growing memory or GPU buffers (the native soak).
// The WGSL engine is under test: not built without the `webgpu` feature.
#![cfg(feature = "webgpu")]
#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::{gpu, synthetic_digits};
use vae_webgpu::cpu::CpuTrainer;
use vae_webgpu::engine::Engine;
use vae_webgpu::run::RunState;
use vae_webgpu::run::StepRecord;
use vae_webgpu::train::Trainer;
use vae_webgpu::{VaeConfig, VaeError};

fn small() -> VaeConfig {
    VaeConfig {
        input: 196,
        hidden: 64,
        latent: 8,
        batch_size: 32,
        ..VaeConfig::default()
    }
}

fn engine_state(e: &Engine) -> [Vec<f32>; 3] {
    let params = pollster::block_on(e.read_params()).unwrap();
    let (m, v) = pollster::block_on(e.read_adam_state()).unwrap();
    [params, m, v]
}

fn at(e: &Engine) -> (u64, u64, u32) {
    let p = e.position();
    (p.global_step, p.epoch, p.step_in_epoch)
}

/// Trains `steps` and waits for every record.
fn train(e: &mut Engine, steps: u32) -> vae_webgpu::Result<Vec<StepRecord>> {
    pollster::block_on(async {
        let mut records = e.train(steps).await?;
        records.extend(e.flush().await?);
        Ok(records)
    })
}

/// The roll-back, on either engine: a diverging rate stops training at the first non-finite
/// step and puts back the last good state (parameters, m and v bit for bit, and the place in
/// the run); training then goes on.
fn divergence_restores_the_last_good_state(mut e: Engine) {
    let before = train(&mut e, 20).unwrap();
    assert!(before.iter().all(|r| r.recon.is_finite()));
    // Snapshots are at least SNAPSHOT_EVERY (32) steps apart: the last good state is still
    // the initial one...
    assert_eq!(e.last_good_step(), 0);
    let good = engine_state(&e);

    // ...until the learning rate changes with every step read back: the state in place becomes
    // the last good one. lr 10 (the largest accepted) blows the model up within a few steps.
    e.set_lr(10.0).unwrap();
    assert_eq!(e.last_good_step(), 20);
    let err = (0..20)
        .find_map(|_| train(&mut e, 10).err())
        .expect("lr 10 did not diverge in 200 steps");
    let VaeError::NonFinite {
        step,
        restored_step,
        ..
    } = err
    else {
        panic!("expected NonFinite, got {err}");
    };
    assert!(step > 20, "diverged at {step}");
    assert_eq!(restored_step, 20);
    assert_eq!(at(&e), (20, 1, 20));
    let msg = err.to_string();
    assert!(
        msg.contains(&format!("non-finite at step {step}"))
            && msg.contains("parameters of step 20")
            && msg.contains("lower the learning rate"),
        "{msg}"
    );
    eprintln!("{}: {msg}", e.kind().name());

    // Nothing of the diverged run is left: the records in flight are gone and the parameters
    // and Adam's m and v are bit for bit those of step 20.
    assert!(pollster::block_on(e.flush()).unwrap().is_empty());
    assert_eq!(engine_state(&e), good, "state after the roll-back");
    assert_eq!(e.last_good_step(), 20);

    // Training goes on at a sane rate from there.
    assert!(e.set_lr(f32::NAN).is_err());
    e.set_lr(1e-3).unwrap();
    let mut after = Vec::new();
    while e.position().global_step < 60 {
        after.extend(train(&mut e, 10).unwrap());
    }
    assert_eq!(after.first().map(|r| r.global_step), Some(21));
    assert_eq!(after.len(), 40);
    assert!(after
        .iter()
        .all(|r| r.recon.is_finite() && r.kl.is_finite()));
    // A new snapshot once 32 steps have passed since step 20 (the GPU engine's is taken with a
    // readback, here every 10 steps).
    let newest = e.last_good_step();
    assert!((52..=60).contains(&newest), "last good step {newest}");
}

#[test]
fn divergence_stops_training_and_restores_the_last_good_state() {
    let Some(gpu) = gpu() else { return };
    let data = synthetic_digits(4, 640, 14);
    let test = synthetic_digits(5, 64, 14);
    let t = Trainer::new(gpu, &small(), &data, &test).unwrap();
    divergence_restores_the_last_good_state(Engine::gpu(t));
}

/// The fused step form (real GPUs': latent.wgsl, the loss in fc5's kernel, its sum in
/// latent_backward) flags and rolls back alike.
#[test]
fn the_fused_gpu_step_rolls_back_alike() {
    let Some(mut gpu) = gpu() else { return };
    gpu.gemm = vae_webgpu::gpu::GemmForm::Tiled;
    let data = synthetic_digits(4, 640, 14);
    let test = synthetic_digits(5, 64, 14);
    let t = Trainer::new(gpu, &small(), &data, &test).unwrap();
    divergence_restores_the_last_good_state(Engine::gpu(t));
}

#[test]
fn the_cpu_engine_rolls_back_alike() {
    let data = synthetic_digits(4, 640, 14);
    let test = synthetic_digits(5, 64, 14);
    let c = CpuTrainer::new(&small(), &data, &test).unwrap();
    divergence_restores_the_last_good_state(Engine::cpu(c));
}

#[test]
fn a_non_finite_checkpoint_is_refused_and_the_model_kept() {
    let Some(gpu) = gpu() else { return };
    let mut t = Trainer::without_data(gpu, &small()).unwrap();
    let flat = pollster::block_on(t.read_params()).unwrap();
    let mut bad = flat.clone();
    bad[17] = f32::NAN;
    let e = t.load_params(&bad).unwrap_err().to_string();
    assert!(e.contains("parameter 17 is not finite"), "{e}");
    assert_eq!(pollster::block_on(t.read_params()).unwrap(), flat);
}

/// Trains at lr 10 until the run diverges; returns the error.
fn diverge(t: &mut Trainer) -> VaeError {
    for _ in 0..40 {
        if let Err(e) = t.submit_train(10).and_then(|_| t.poll()) {
            return e;
        }
        if t.epoch_finished() {
            if let Err(e) = pollster::block_on(t.flush()) {
                return e;
            }
        }
    }
    pollster::block_on(t.flush()).expect_err("lr 10 did not diverge")
}

#[test]
fn an_import_while_steps_are_in_flight_is_what_a_roll_back_restores() {
    let Some(gpu) = gpu() else { return };
    // 63 steps an epoch: the 40 below are one call.
    let data = synthetic_digits(4, 2000, 14);
    let test = synthetic_digits(5, 64, 14);
    let mut t = Trainer::new(gpu, &small(), &data, &test).unwrap();
    // 40 steps in flight: their readback carries a snapshot of the pre-import state.
    assert_eq!(t.submit_train(40).unwrap(), 40);
    t.schedule_readback().unwrap();
    t.set_lr(10.0).unwrap();
    let imported = t.layout().init(77);
    t.load_params(&imported).unwrap();
    let err = diverge(&mut t);
    assert!(matches!(err, VaeError::NonFinite { .. }), "{err}");
    // The imported parameters come back, not the snapshot taken before the import.
    assert_eq!(pollster::block_on(t.read_params()).unwrap(), imported);
}

#[test]
fn a_roll_back_after_new_data_stays_inside_the_new_epochs() {
    let Some(gpu) = gpu() else { return };
    let mut t = Trainer::new(
        gpu,
        &small(),
        &synthetic_digits(4, 640, 14),
        &synthetic_digits(5, 64, 14),
    )
    .unwrap();
    // 15 steps, read back clean, marked good at a new rate: step 15 of 20 in epoch 1.
    t.submit_train(15).unwrap();
    pollster::block_on(t.flush()).unwrap();
    t.set_lr(10.0).unwrap();
    assert_eq!(t.last_good_step(), 15);
    // New data of 4 steps an epoch, then a divergence rolls back to the good state.
    t.attach_data(&synthetic_digits(6, 128, 14), &synthetic_digits(7, 32, 14))
        .unwrap();
    let err = diverge(&mut t);
    assert!(matches!(err, VaeError::NonFinite { .. }), "{err}");
    let pos = t.position();
    assert!(
        pos.step_in_epoch <= t.steps_per_epoch(),
        "rolled back to step {} of an epoch of {}",
        pos.step_in_epoch,
        t.steps_per_epoch()
    );
    // Training goes on (before the fix it submitted 0 steps forever).
    t.set_lr(1e-3).unwrap();
    assert!(t.submit_train(3).unwrap() > 0);
    pollster::block_on(t.flush()).unwrap();
}

#[test]
fn long_calls_keep_the_ring_and_the_state_copies_bounded() {
    let Some(gpu) = gpu() else { return };
    let cfg = VaeConfig {
        input: 16,
        hidden: 8,
        latent: 2,
        batch_size: 1,
        ..VaeConfig::default()
    };
    let mut t = Trainer::new(
        gpu,
        &cfg,
        &synthetic_digits(8, 4200, 4),
        &synthetic_digits(9, 8, 4),
    )
    .unwrap();
    // A readback cadence past the ring (the CLI's --log-interval 5000) is taken as half of it.
    t.set_readback_every(5000);
    let mut done = 0;
    while done < 4200 {
        done += t.submit_train(4200 - done).unwrap();
        assert!(
            t.state_copies() <= 4,
            "{} copies of the state after {done} steps",
            t.state_copies()
        );
    }
    let records = pollster::block_on(t.flush()).unwrap();
    assert_eq!(records.len(), 4200);
}
