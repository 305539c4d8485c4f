//! Faults a long-running trainer must survive: a diverging learning rate (non-finite loss or
//! parameters are flagged on the GPU, training stops and the last good state comes back), and
//! many epochs in one process without growing memory or GPU buffers (the native soak).
#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::{gpu, synthetic_digits};
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

fn read_state(t: &Trainer) -> [Vec<f32>; 3] {
    let params = pollster::block_on(t.read_params()).unwrap();
    let (m, v) = pollster::block_on(t.read_adam_state()).unwrap();
    [params, m, v]
}

#[test]
fn divergence_stops_training_and_restores_the_last_good_state() {
    let Some(gpu) = gpu() else { return };
    let data = synthetic_digits(4, 640, 14);
    let test = synthetic_digits(5, 64, 14);
    let mut t = Trainer::new(gpu, &small(), &data, &test).unwrap();
    t.submit_train(20).unwrap();
    let before = pollster::block_on(t.flush()).unwrap();
    assert!(before.iter().all(|r| r.recon.is_finite()));
    // Snapshots are at least SNAPSHOT_EVERY (32) steps apart: the last good state is still
    // the initial one...
    assert_eq!(t.last_good_step(), 0);
    let good = read_state(&t);

    // ...until the learning rate changes with every step read back: the state in place becomes
    // the last good one. lr 10 (the largest accepted) blows the model up within a few steps.
    t.set_lr(10.0).unwrap();
    assert_eq!(t.last_good_step(), 20);
    let mut err = None;
    for _ in 0..20 {
        let r = t.submit_train(10).and_then(|_| t.poll());
        if let Err(e) = r {
            err = Some(e);
            break;
        }
    }
    let err = match err {
        Some(e) => e,
        None => pollster::block_on(t.flush()).expect_err("lr 10 did not diverge in 200 steps"),
    };
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
    assert_eq!((t.global_step(), t.epoch(), t.step_in_epoch()), (20, 1, 20));
    let msg = err.to_string();
    assert!(
        msg.contains(&format!("non-finite at step {step}"))
            && msg.contains("parameters of step 20")
            && msg.contains("lower the learning rate"),
        "{msg}"
    );
    eprintln!("{msg}");

    // Nothing of the diverged run is left: the records in flight are gone and the parameters
    // and Adam's m and v are bit for bit those of step 20.
    assert!(pollster::block_on(t.flush()).unwrap().is_empty());
    assert_eq!(read_state(&t), good, "state after the roll-back");
    assert_eq!(t.last_good_step(), 20);

    // Training goes on at a sane rate from there.
    assert!(t.set_lr(f32::NAN).is_err());
    t.set_lr(1e-3).unwrap();
    let mut after = Vec::new();
    while t.global_step() < 60 {
        t.submit_train(10).unwrap();
        after.extend(pollster::block_on(t.flush()).unwrap());
    }
    assert_eq!(after.first().map(|r| r.global_step), Some(21));
    assert_eq!(after.len(), 40);
    assert!(after
        .iter()
        .all(|r| r.recon.is_finite() && r.kl.is_finite()));
    // A new snapshot once 32 steps have passed since step 20, made good by a clean readback.
    assert_eq!(t.last_good_step(), 60);
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
