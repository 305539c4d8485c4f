//! The session, the core both faces call: requests chunked to the model's capacity (one under,
//! at, one over), n = 0 and one past the request limit, the latent walk and map, the checkpoint
//! round trip with its one metadata schema (older page and CLI files included), and position
//! checks that leave the model untouched when they refuse.
// The WGSL engine is under test: not built without the `webgpu` feature.
#![cfg(feature = "webgpu")]
#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::{assert_close, gpu, synthetic_digits, to_f64, uniform};
use vae_webgpu::checkpoint::{self, keys};
use vae_webgpu::mnist::encode_idx;
use vae_webgpu::run::Position;
use vae_webgpu::session::{Session, MAX_REQUEST_ROWS};
use vae_webgpu::train::Trainer;
use vae_webgpu::{VaeConfig, VaeError};

const IN: usize = 196;
const L: usize = 8;

/// Batch 70: the capacity (rows one GPU pass takes) is 70, not a power of two.
fn cfg() -> VaeConfig {
    VaeConfig {
        input: IN,
        hidden: 64,
        latent: L,
        batch_size: 70,
        ..VaeConfig::default()
    }
}

fn session() -> Option<Session> {
    let gpu = gpu()?;
    let t = Trainer::new(
        gpu,
        &cfg(),
        &synthetic_digits(4, 640, 14),
        &synthetic_digits(5, 150, 14),
    )
    .ok()?;
    Some(Session::new(t, || 0.0))
}

fn block<T>(f: impl std::future::Future<Output = T>) -> T {
    pollster::block_on(f)
}

#[test]
fn requests_are_chunked_to_the_capacity() {
    let Some(mut s) = session() else { return };
    let cap = s.engine().capacity() as usize;
    assert_eq!(cap, 70);
    block(s.train(12)).unwrap();
    block(s.flush()).unwrap();

    // Samples: one stream of z for the whole request, decoded in chunks.
    let over = block(s.sample(cap as u32 + 1, 9)).unwrap();
    let at = block(s.sample(cap as u32, 9)).unwrap();
    let under = block(s.sample(cap as u32 - 1, 9)).unwrap();
    assert_eq!(over.len(), (cap + 1) * IN);
    assert_eq!(&over[..cap * IN], &at[..]);
    assert_eq!(&at[..(cap - 1) * IN], &under[..]);
    assert!(block(s.sample(0, 9)).unwrap().is_empty());

    // Decode of cap + 1 rows = decode of the first cap rows and of the last one.
    let z = uniform(3, (cap + 1) * L, -2.0, 2.0);
    let all = block(s.decode(&z)).unwrap();
    let head = block(s.decode(&z[..cap * L])).unwrap();
    let tail = block(s.decode(&z[cap * L..])).unwrap();
    assert_eq!(all, [head, tail].concat());

    // Encode likewise.
    let x = uniform(4, (cap + 1) * IN, 0.0, 1.0);
    let (mu, lv) = block(s.encode(&x)).unwrap();
    let (mu_tail, lv_tail) = block(s.encode(&x[cap * IN..])).unwrap();
    assert_eq!((mu.len(), lv.len()), ((cap + 1) * L, (cap + 1) * L));
    assert_eq!(&mu[cap * L..], &mu_tail[..]);
    assert_eq!(&lv[cap * L..], &lv_tail[..]);

    // Test digits: cap + 1 ids come back as the data's pixels.
    let test = synthetic_digits(5, 150, 14);
    let ids: Vec<u32> = (0..cap as u32 + 1).rev().collect();
    let px = block(s.test_digits(&ids)).unwrap();
    let want: Vec<f64> = ids
        .iter()
        .flat_map(|&i| test.image(i as usize).iter().map(|&b| f64::from(b) / 255.0))
        .collect();
    assert_close("test digits", &px, &want, 1e-6, 0.0);
    assert!(block(s.test_digits(&[])).unwrap().is_empty());

    // Reconstruct: the first n test images over their reconstructions, n clamped to the set.
    assert_eq!(
        block(s.reconstruct(cap as u32 + 1)).unwrap().len(),
        2 * (cap + 1) * IN
    );
    assert_eq!(block(s.reconstruct(10_000)).unwrap().len(), 2 * 150 * IN);
    assert!(block(s.reconstruct(0)).unwrap().is_empty());
}

#[test]
fn bad_requests_are_refused_and_the_session_goes_on() {
    let Some(mut s) = session() else { return };
    let too_many = MAX_REQUEST_ROWS as u32 + 1;
    let e = block(s.sample(too_many, 1)).unwrap_err();
    assert!(matches!(e, VaeError::TooLarge { .. }), "{e}");
    assert_eq!(e.code(), "too-large");
    assert!(e.to_string().contains("at most 16384 per call"), "{e}");
    let z = vec![0.0; (MAX_REQUEST_ROWS + 1) * L];
    assert!(block(s.decode(&z)).is_err());
    let ids = vec![0; MAX_REQUEST_ROWS + 1];
    assert!(block(s.test_digits(&ids)).is_err());
    assert!(block(s.latent_walk(0, 1, too_many)).is_err());
    let e = block(s.test_digits(&[150])).unwrap_err().to_string();
    assert!(
        e.contains("test image 150 does not exist (150 test images)"),
        "{e}"
    );
    let e = block(s.decode(&[0.5; L + 1])).unwrap_err().to_string();
    assert!(e.contains("whole latent vectors of 8 values"), "{e}");
    let e = block(s.encode(&[])).unwrap_err().to_string();
    assert!(e.contains("whole inputs of 196 pixels"), "{e}");
    // Still usable.
    assert_eq!(block(s.sample(2, 1)).unwrap().len(), 2 * IN);
    let r = block(s.train(3)).unwrap();
    assert_eq!(r.position.global_step, 3);
}

#[test]
fn latent_walk_and_map() {
    let Some(mut s) = session() else { return };
    block(s.train(10)).unwrap();
    block(s.flush()).unwrap();
    let cap = s.engine().capacity();
    let walk = block(s.latent_walk(3, 7, cap + 1)).unwrap();
    assert_eq!(walk.len(), (cap as usize + 1) * IN);
    let ends_px = block(s.test_digits(&[3, 7])).unwrap();
    let (mu, _) = block(s.encode(&ends_px)).unwrap();
    let ends = block(s.decode(&mu)).unwrap();
    let last = walk.len() - IN;
    assert_close("walk start", &walk[..IN], &to_f64(&ends[..IN]), 1e-4, 1e-3);
    assert_close("walk end", &walk[last..], &to_f64(&ends[IN..]), 1e-4, 1e-3);
    // Fewer than two steps still gives both ends.
    assert_eq!(block(s.latent_walk(3, 7, 0)).unwrap().len(), 2 * IN);

    let map = block(s.latent_map(cap + 1)).unwrap();
    assert_eq!(
        (map.points.len(), map.labels.len()),
        (2 * (cap as usize + 1), cap as usize + 1)
    );
    assert!(map.pca);
    assert_eq!((map.mean.len(), map.components.len()), (L, 2 * L));
    assert!(map.explained[0] >= map.explained[1] && map.explained[0] <= 1.0);
    let (means, _) = block(s.latent_means(cap + 1)).unwrap();
    // A point of the map is the projection of its μ.
    let p = 5;
    let centred: Vec<f32> = (0..L).map(|j| means[p * L + j] - map.mean[j]).collect();
    let a: f32 = (0..L).map(|j| centred[j] * map.components[j]).sum();
    assert!(
        (a - map.points[2 * p]).abs() < 1e-3,
        "{a} vs {}",
        map.points[2 * p]
    );
    // n past the test set is clamped to it; n = 0 is an empty map.
    assert_eq!(block(s.latent_map(1_000_000)).unwrap().labels.len(), 150);
    assert!(block(s.latent_map(0)).unwrap().points.is_empty());
}

#[test]
fn checkpoints_round_trip_with_their_run() {
    let Some(mut s) = session() else { return };
    // A call stops at the end of an epoch: 10 steps, then 3 of epoch 2.
    assert!(block(s.train(13)).unwrap().epoch_finished);
    block(s.train(3)).unwrap();
    block(s.flush()).unwrap();
    let pos = s.engine().position();
    assert_eq!(
        pos,
        Position {
            global_step: 13,
            epoch: 2,
            step_in_epoch: 3
        }
    );
    let bytes = block(s.export_checkpoint()).unwrap();
    let meta = checkpoint::metadata(&bytes).unwrap();
    for k in keys::ALL {
        assert!(meta.contains_key(k), "metadata lacks {k}: {meta:?}");
    }
    assert_eq!(meta[keys::STEPS_PER_EPOCH], "10");
    let params = block(s.engine().read_params()).unwrap();

    let Some(mut fresh) = session() else { return };
    assert_eq!(fresh.resume(&bytes).unwrap(), pos);
    assert_eq!(fresh.engine().position(), pos);
    assert_eq!(block(fresh.engine().read_params()).unwrap(), params);
    // It goes on from there: the next step is 14, the 4th of epoch 2.
    let r = block(fresh.train(1)).unwrap();
    assert_eq!(
        r.position,
        Position {
            global_step: 14,
            epoch: 2,
            step_in_epoch: 4
        }
    );

    // importCheckpoint takes the weights only: the count goes on where it was.
    let Some(mut other) = session() else { return };
    other.import_checkpoint(&bytes).unwrap();
    assert_eq!(other.engine().position(), Position::default());
    assert_eq!(block(other.engine().read_params()).unwrap(), params);
}

/// Saves `params` with the given metadata pairs (an older writer's keys).
fn with_meta(s: &Session, params: &[f32], meta: &[(&str, &str)]) -> Vec<u8> {
    let pairs: Vec<(&str, String)> = meta.iter().map(|(k, v)| (*k, v.to_string())).collect();
    checkpoint::save(s.engine().layout(), params, &pairs).unwrap()
}

#[test]
fn older_page_and_cli_checkpoints_resume() {
    let Some(mut s) = session() else { return };
    let params = block(s.engine().read_params()).unwrap();
    // The page's before the schema.
    let page = with_meta(
        &s,
        &params,
        &[("step", "25"), ("epoch", "3"), ("step_in_epoch", "5")],
    );
    assert_eq!(
        s.resume(&page).unwrap(),
        Position {
            global_step: 25,
            epoch: 3,
            step_in_epoch: 5
        }
    );
    // The CLI's before the schema: the place in the epoch follows from the step count.
    let cli = with_meta(
        &s,
        &params,
        &[("epoch", "2"), ("step", "20"), ("format", "pt")],
    );
    assert_eq!(
        s.resume(&cli).unwrap(),
        Position {
            global_step: 20,
            epoch: 2,
            step_in_epoch: 10
        }
    );
    let cli_mid = with_meta(
        &s,
        &params,
        &[("epoch", "2"), ("step", "14"), ("format", "pt")],
    );
    assert_eq!(s.resume(&cli_mid).unwrap().step_in_epoch, 4);
    let other_data = with_meta(
        &s,
        &params,
        &[("epoch", "2"), ("step", "45"), ("format", "pt")],
    );
    let e = s.resume(&other_data).unwrap_err().to_string();
    assert!(e.contains("trained on other data"), "{e}");
    // A plain safetensors file (PyTorch's) loads its weights but cannot resume.
    let plain = with_meta(&s, &params, &[("format", "pt")]);
    let e = s.resume(&plain).unwrap_err().to_string();
    assert!(e.contains("does not say where its run stopped"), "{e}");
    s.import_checkpoint(&plain).unwrap();
}

#[test]
fn a_refused_resume_changes_nothing() {
    let Some(mut s) = session() else { return };
    block(s.train(7)).unwrap();
    block(s.flush()).unwrap();
    let before = block(s.engine().read_params()).unwrap();
    let pos = s.engine().position();
    let good = s.engine().last_good_step();
    // Other weights, at a place past the epoch's 10 steps.
    let other = s.engine().layout().init(99);
    for meta in [
        vec![("step", "11"), ("epoch", "1"), ("step_in_epoch", "11")],
        vec![("step", "0"), ("epoch", "1"), ("step_in_epoch", "0")],
        vec![("step", "3"), ("epoch", "0"), ("step_in_epoch", "3")],
        vec![("step", "x"), ("epoch", "1"), ("step_in_epoch", "1")],
        vec![
            ("vae_webgpu_schema", "3"),
            ("step", "1"),
            ("epoch", "1"),
            ("step_in_epoch", "1"),
        ],
    ] {
        let bytes = with_meta(&s, &other, &meta);
        let e = s.resume(&bytes).unwrap_err();
        assert!(matches!(e, VaeError::Checkpoint(_)), "{meta:?}: {e}");
        assert_eq!(block(s.engine().read_params()).unwrap(), before, "{meta:?}");
        assert_eq!(s.engine().position(), pos);
        assert_eq!(s.engine().last_good_step(), good);
    }
    // Weights of another shape: refused, model kept.
    let wrong = checkpoint::save(
        &vae_webgpu::layout::ParamLayout::new(IN, 65, L),
        &vae_webgpu::layout::ParamLayout::new(IN, 65, L).init(1),
        &[
            ("step", "1".into()),
            ("epoch", "1".into()),
            ("step_in_epoch", "1".into()),
        ],
    )
    .unwrap();
    assert!(s.resume(&wrong).is_err());
    assert!(s.import_checkpoint(&wrong).is_err());
    assert_eq!(block(s.engine().read_params()).unwrap(), before);
}

#[test]
fn resume_and_training_need_data() {
    let Some(gpu) = gpu() else { return };
    let t = Trainer::without_data(gpu, &cfg()).unwrap();
    let mut s = Session::new(t, || 0.0);
    let params = block(s.engine().read_params()).unwrap();
    let bytes = with_meta(
        &s,
        &params,
        &[("step", "1"), ("epoch", "1"), ("step_in_epoch", "1")],
    );
    let e = s.resume(&bytes).unwrap_err();
    assert!(matches!(e, VaeError::NoData(_)), "{e}");
    let e = block(s.train(1)).unwrap_err();
    assert!(matches!(e, VaeError::NoData(_)), "{e}");
    assert!(matches!(
        block(s.latent_map(10)).unwrap_err(),
        VaeError::NoData(_)
    ));
    // IDX bytes: a bad file is named, and the session stays without data.
    let d = synthetic_digits(1, 100, 14);
    let img = encode_idx(&[100, 14, 14], &d.images);
    let lab = encode_idx(&[100], &d.labels);
    let e = s
        .load_idx([&img, &lab[..3], &img, &lab])
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("training labels:"), "{e}");
    // The same files as both sets are read once; a test file that differs is read on its own.
    let e = s
        .load_idx([&img, &lab, &img, &lab[..3]])
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("test labels:"), "{e}");
    s.load_idx([&img, &lab, &img, &lab]).unwrap();
    assert_eq!(s.status().test_count, 100);
    assert_eq!(s.status().steps_per_epoch, 2);
}

#[test]
fn a_checkpoint_past_the_last_step_is_refused() {
    let Some(mut s) = session() else { return };
    let params = block(s.engine().read_params()).unwrap();
    for step in ["18446744073709551615", "2147483648"] {
        let bytes = with_meta(
            &s,
            &params,
            &[("step", step), ("epoch", "1"), ("step_in_epoch", "1")],
        );
        let e = s.resume(&bytes).unwrap_err().to_string();
        assert!(
            e.contains("past the last step a run can reach"),
            "{step}: {e}"
        );
    }
    assert_eq!(s.engine().position(), Position::default());
}

#[test]
fn the_kl_weight_changes_in_place_and_bad_values_are_refused() {
    let Some(mut s) = session() else { return };
    assert_eq!((s.status().kl_weight, s.status().variational), (1.0, true));
    for bad in [-1.0, f32::NAN, 1001.0] {
        let e = s.set_kl_weight(bad).unwrap_err().to_string();
        assert!(e.starts_with("invalid config: kl_weight"), "{bad}: {e}");
    }
    s.set_kl_weight(0.5).unwrap();
    assert_eq!(s.status().kl_weight, 0.5);
    assert_eq!(block(s.train(2)).unwrap().position.global_step, 2);
}

#[test]
fn the_current_batch_is_the_newest_steps_inputs_with_their_normals() {
    let Some(mut s) = session() else { return };
    let train = synthetic_digits(4, 640, 14);
    let batch_of = |k: usize| -> Vec<f64> {
        let order = vae_webgpu::rng::shuffle(1, 0, 640);
        order[k * 70..(k + 1) * 70]
            .iter()
            .flat_map(|&i| {
                train
                    .image(i as usize)
                    .iter()
                    .map(|&b| f64::from(b) / 255.0)
            })
            .collect()
    };
    // Before any step: the epoch's first batch.
    let (px, mu, lv) = block(s.current_batch()).unwrap();
    assert_eq!((px.len(), mu.len(), lv.len()), (70 * IN, 70 * L, 70 * L));
    assert_close("batch 0 pixels", &px, &batch_of(0), 1e-6, 0.0);
    block(s.train(3)).unwrap();
    block(s.flush()).unwrap();
    let (px, mu, lv) = block(s.current_batch()).unwrap();
    assert_close("batch 2 pixels", &px, &batch_of(2), 1e-6, 0.0);
    // Its normals are the encoder's for those inputs.
    let (mu2, lv2) = block(s.encode(&px)).unwrap();
    assert_close("batch μ", &mu, &to_f64(&mu2), 1e-5, 1e-4);
    assert_close("batch log σ²", &lv, &to_f64(&lv2), 1e-5, 1e-4);
}

/// Two trainers on one device (the page's autoencoder beside its VAE): interleaved, each runs
/// exactly as it would alone, and the handles see one device.
#[test]
fn two_trainers_share_one_device_without_touching_each_other() {
    let Some(gpu) = gpu() else { return };
    let vae = VaeConfig {
        input: 196,
        hidden: 48,
        latent: 6,
        batch_size: 32,
        ..VaeConfig::default()
    };
    let ae = VaeConfig {
        variational: false,
        ..vae.clone()
    };
    let (train, test) = (synthetic_digits(5, 200, 14), synthetic_digits(6, 64, 14));
    // Every step's record (losses per sample), from each call and the final flush.
    let run = |s: &mut Session, out: &mut Vec<f64>, steps: u32| {
        out.extend(pollster::block_on(s.train(steps)).unwrap().records);
    };
    let flush = |s: &mut Session, out: &mut Vec<f64>| {
        out.extend(pollster::block_on(s.flush()).unwrap().records);
    };
    // Alone, each on a device of its own.
    let alone = |cfg: &VaeConfig| {
        let t = Trainer::new(common::gpu().unwrap(), cfg, &train, &test).unwrap();
        let mut s = Session::new(t, || 0.0);
        let mut out = Vec::new();
        run(&mut s, &mut out, 6);
        flush(&mut s, &mut out);
        out
    };
    let (vae_alone, ae_alone) = (alone(&vae), alone(&ae));
    // Side by side on one device, steps interleaved.
    let shared = gpu.share();
    assert!(shared.same_device(&gpu));
    let mut a = Session::new(Trainer::new(gpu, &vae, &train, &test).unwrap(), || 0.0);
    let mut b = Session::new(Trainer::new(shared, &ae, &train, &test).unwrap(), || 0.0);
    let (mut vae_side, mut ae_side) = (Vec::new(), Vec::new());
    for _ in 0..3 {
        run(&mut a, &mut vae_side, 2);
        run(&mut b, &mut ae_side, 2);
    }
    flush(&mut a, &mut vae_side);
    flush(&mut b, &mut ae_side);
    let fields = vae_webgpu::session::RECORD_FIELDS.len();
    assert_eq!(vae_side.len(), 6 * fields);
    assert_eq!(vae_side, vae_alone, "the VAE beside an AE");
    assert_eq!(ae_side, ae_alone, "the AE beside a VAE");
    assert_ne!(vae_side, ae_side, "the two objectives differ");
    assert!(!a
        .engine()
        .gpu_trainer()
        .unwrap()
        .gpu()
        .same_device(&common::gpu().unwrap()));
}

#[test]
fn the_image_side_follows_the_model_before_any_data() {
    // A 196-pixel model's images are 14×14 before data is loaded (it once said 28).
    let s = Session::open_cpu(&cfg(), || 0.0).unwrap();
    assert_eq!(s.status().side, 14);
    let odd = VaeConfig {
        input: 200,
        ..cfg()
    };
    assert_eq!(Session::open_cpu(&odd, || 0.0).unwrap().status().side, 0);
}

#[test]
fn a_position_must_be_reachable() {
    let at = |global_step, epoch, step_in_epoch| Position {
        global_step,
        epoch,
        step_in_epoch,
    };
    for ok in [
        at(0, 0, 0),
        at(5, 1, 5),
        at(10, 2, 5),
        at(12, 3, 0),
        at(20, 2, 10),
    ] {
        ok.check(Some(10)).unwrap();
    }
    // Epoch 2⁶⁴−1 after 5 steps once loaded (and wrapped the epoch counter).
    for bad in [
        at(5, u64::MAX, 0),
        at(5, 7, 1),
        at(3, 2, 3),
        at(1, 0, 1),
        at(11, 1, 11),
    ] {
        let e = bad.check(Some(10)).unwrap_err();
        assert_eq!(e.code(), "bad-checkpoint", "{bad:?}: {e}");
    }
}

#[test]
fn a_checkpoint_of_non_finite_numbers_is_never_written() {
    let layout = vae_webgpu::layout::ParamLayout::new(IN, 16, L);
    let mut params = layout.init(3);
    checkpoint::save(&layout, &params, &[]).unwrap();
    params[7] = f32::NAN;
    params[layout.len - 1] = f32::INFINITY;
    let e = checkpoint::save(&layout, &params, &[]).unwrap_err();
    assert_eq!(e.code(), "diverged");
    assert!(e.to_string().contains("1 non-finite values"), "{e}");
}

#[test]
fn an_export_reads_every_step_back_first() {
    let Some(mut s) = session() else { return };
    // Steps still in flight when the export comes are read back by it and reported by the
    // next call that reports steps: none is lost, none twice.
    let mut records = block(s.steps(6)).unwrap();
    block(s.export_checkpoint()).unwrap();
    records.extend(block(s.flush_steps()).unwrap());
    let steps: Vec<u64> = records.iter().map(|r| r.global_step).collect();
    assert_eq!(steps, (1..=6).collect::<Vec<u64>>());

    // A run that diverged in flight is refused at the export (never written), its last good
    // state put back; the next export writes that state.
    s.set_lr(vae_webgpu::config::MAX_LR).unwrap();
    let e = block(async {
        for _ in 0..40 {
            s.steps(1).await?;
        }
        s.export_checkpoint().await
    })
    .unwrap_err();
    assert_eq!(e.code(), "diverged", "{e}");
    let good = s.engine().last_good_step();
    assert_eq!(s.engine().position().global_step, good);
    let bytes = block(s.export_checkpoint()).unwrap();
    assert_eq!(
        checkpoint::metadata(&bytes).unwrap()[keys::STEP],
        good.to_string()
    );
}

#[test]
fn a_vae_and_an_autoencoder_do_not_resume_in_each_other() {
    let Some(mut vae) = session() else { return };
    block(vae.train(3)).unwrap();
    let bytes = block(vae.export_checkpoint()).unwrap();
    let meta = checkpoint::metadata(&bytes).unwrap();
    assert_eq!(
        (
            meta[keys::VARIATIONAL].as_str(),
            meta[keys::KL_WEIGHT].as_str()
        ),
        ("true", "1")
    );
    let gpu = gpu().unwrap();
    let ae_cfg = VaeConfig {
        variational: false,
        ..cfg()
    };
    let train = synthetic_digits(4, 640, 14);
    let test = synthetic_digits(5, 150, 14);
    let mut ae = Session::new(Trainer::new(gpu, &ae_cfg, &train, &test).unwrap(), || 0.0);
    let before = block(ae.engine().read_params()).unwrap();
    let e = ae.resume(&bytes).unwrap_err().to_string();
    assert!(
        e.contains("it is a VAE's run and this trainer is an autoencoder"),
        "{e}"
    );
    assert_eq!(block(ae.engine().read_params()).unwrap(), before);
    assert_eq!(ae.engine().position(), Position::default());
    // The weights alone still load.
    ae.import_checkpoint(&bytes).unwrap();
    // Schema 1 files (no variational key) resume as before.
    let v1: Vec<(&str, &str)> = vec![("vae_webgpu_schema", "1"), ("step", "3"), ("epoch", "1")];
    let old = with_meta(&ae, &before, &v1);
    ae.resume(&old).unwrap();
}

#[test]
fn adam_state_beside_a_checkpoint_resumes_the_run_exactly() {
    let Some(mut s) = session() else { return };
    block(s.train(4)).unwrap();
    block(s.flush()).unwrap();
    let ck = block(s.export_checkpoint()).unwrap();
    let adam = block(s.export_adam()).unwrap();
    let go_on = |s: &mut Session| -> Vec<(u32, u32)> {
        let mut r = block(s.steps(5)).unwrap();
        r.extend(block(s.flush_steps()).unwrap());
        r.iter()
            .map(|r| (r.recon.to_bits(), r.kl.to_bits()))
            .collect()
    };
    let uninterrupted = go_on(&mut s);
    let Some(mut resumed) = session() else { return };
    resumed.resume_with_adam(&ck, &adam).unwrap();
    assert_eq!(go_on(&mut resumed), uninterrupted);
    // Without Adam's state the run goes on differently (Adam restarts).
    let Some(mut restarted) = session() else {
        return;
    };
    restarted.resume(&ck).unwrap();
    assert_ne!(go_on(&mut restarted), uninterrupted);
    // Adam's state of another step is refused.
    let Some(mut other) = session() else { return };
    block(other.train(2)).unwrap();
    let wrong = block(other.export_adam()).unwrap();
    let e = resumed
        .resume_with_adam(&ck, &wrong)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("Adam's state is of step 2, the checkpoint of step 4"),
        "{e}"
    );
}

/// The same model as `session()`'s on the CPU engine.
fn cpu_session() -> Session {
    let c = vae_webgpu::cpu::CpuTrainer::new(
        &cfg(),
        &synthetic_digits(4, 640, 14),
        &synthetic_digits(5, 150, 14),
    )
    .unwrap();
    Session::new(vae_webgpu::engine::Engine::cpu(c), || 0.0)
}

#[test]
fn an_evaluation_in_parts_gives_evaluates_figures_whatever_runs_between() {
    // 150 test digits at batch 70: 3 batches (the last of 10 rows).
    let sessions: Vec<fn() -> Option<Session>> = vec![session, || Some(cpu_session())];
    for make in sessions {
        let (Some(mut whole), Some(mut parts)) = (make(), make()) else {
            return;
        };
        for s in [&mut whole, &mut parts] {
            block(s.train(5)).unwrap();
            block(s.flush()).unwrap();
        }
        let want = block(whole.evaluate()).unwrap();
        let mut got = None;
        let mut seen = vec![];
        while got.is_none() {
            let p = block(parts.evaluate_some(1)).unwrap();
            seen.push((p.batches_done, p.batches));
            got = p.report;
            // Display calls draw ε from the same counter between the parts.
            block(parts.test_images(&[0, 1])).unwrap();
            block(parts.reconstruct(3)).unwrap();
        }
        assert_eq!(seen, vec![(1, 3), (2, 3), (3, 3)]);
        let got = got.unwrap();
        assert_eq!(
            (got.reconstruction.to_bits(), got.kl.to_bits(), got.count),
            (want.reconstruction.to_bits(), want.kl.to_bits(), want.count)
        );
        // A training step between parts starts the evaluation over.
        assert_eq!(block(parts.evaluate_some(2)).unwrap().batches_done, 2);
        block(parts.train(1)).unwrap();
        block(parts.flush()).unwrap();
        let p = block(parts.evaluate_some(2)).unwrap();
        assert_eq!((p.batches_done, p.report), (2, None));
        assert!(block(parts.evaluate_some(5)).unwrap().report.is_some());
    }
}

/// `reconstruction_gradient` on each engine: the f64 reference's ∂BCE/∂z under the parameters in
/// place (after training steps, read back), and clear errors for an input or z of the wrong
/// size, a pixel outside [0, 1] and a non-finite z.
#[test]
fn the_reconstruction_gradient_is_the_references_under_the_parameters_in_place() {
    let sessions: Vec<fn() -> Option<Session>> = vec![session, || Some(cpu_session())];
    for make in sessions {
        let Some(mut s) = make() else { return };
        block(s.train(3)).unwrap();
        block(s.flush()).unwrap();
        let x: Vec<f32> = uniform(8, IN, 0.0, 1.0);
        let z: Vec<f32> = uniform(9, L, -2.0, 2.0);
        let (got, bce) = block(s.reconstruction_gradient(&x, &z)).unwrap();
        let bytes = block(s.export_checkpoint()).unwrap();
        let layout = vae_webgpu::layout::ParamLayout::from_config(&cfg());
        let flat = checkpoint::load(&layout, &bytes).unwrap();
        let p = vae_webgpu::reference::RefParams::from_flat(&layout, &flat);
        let (want, want_bce) =
            vae_webgpu::reference::reconstruction_grad_z(&p, &to_f64(&x), &to_f64(&z));
        assert_close("∂BCE/∂z", &got, &want, 1e-6, 1e-5);
        assert!((bce - want_bce).abs() < 1e-9 * want_bce.abs());
        for (pixels, z, what) in [
            (&x[1..], &z[..], "one input of 196 pixels; got 195 values"),
            (&x[..], &z[1..], "one latent vector of 8 values; got 7"),
            (&[2.0; IN][..], &z[..], "pixels are in [0, 1]; got 2"),
            (
                &x[..],
                &[f32::NAN; L][..],
                "latent values are finite numbers; got NaN",
            ),
        ] {
            let e = block(s.reconstruction_gradient(pixels, z))
                .unwrap_err()
                .to_string();
            assert!(e.contains(what), "{e}");
        }
    }
}
