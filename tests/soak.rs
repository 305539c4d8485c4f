//! The native soak: 25 epochs of the page's workload in one process (train an epoch with
//! readbacks as it goes, evaluate, reconstruct, sample, encode, decode, export the parameters)
//! while the crate's live GPU buffer count and the process's resident memory are sampled after
//! every epoch. Both must stay flat once the first epochs have warmed the pools up. Its own test
//! binary, so no other test's buffers are counted.
// The WGSL engine is under test: not built without the `webgpu` feature.
#![cfg(feature = "webgpu")]
#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::{gpu, synthetic_digits};
use vae_webgpu::gpu::live_buffers;
use vae_webgpu::session::Session;
use vae_webgpu::train::Trainer;
use vae_webgpu::VaeConfig;

const EPOCHS: usize = 25;
/// Epochs before the samples that must be flat (pools of readback and snapshot buffers fill).
const WARM: usize = 3;
/// Resident memory may move this much after warm-up (allocator and driver noise): a leak of
/// one 128×784 batch per step would grow it by ~3 MiB per epoch here, 70 MiB over the run.
const RSS_SLACK: u64 = 24 << 20;

fn rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

#[test]
fn twenty_five_epochs_keep_gpu_buffers_and_memory_flat() {
    let Some(gpu) = gpu() else { return };
    // The counter sees a buffer come and go (clones share one count).
    let (n0, b0) = live_buffers();
    let probe = gpu.storage("probe", 4096);
    let clone = probe.clone();
    assert_eq!(live_buffers(), (n0 + 1, b0 + 4096));
    drop(probe);
    assert_eq!(live_buffers(), (n0 + 1, b0 + 4096));
    drop(clone);
    assert_eq!(live_buffers(), (n0, b0));

    let cfg = VaeConfig {
        batch_size: 128,
        ..VaeConfig::default()
    };
    let data = synthetic_digits(11, 1000, 28);
    let test = synthetic_digits(12, 300, 28);
    let t = Trainer::new(gpu, &cfg, &data, &test).unwrap();
    let mut session = Session::new(t, || 0.0);
    let mut samples = Vec::new();
    for epoch in 0..EPOCHS {
        pollster::block_on(async {
            loop {
                // The cadence of the CLI's readbacks: a call of 100 steps, read back after.
                session.train(100).await.unwrap();
                if session.engine().epoch_finished() {
                    break;
                }
            }
            assert_eq!(session.engine().position().epoch, epoch as u64 + 1);
            let records = session.flush_steps().await.unwrap();
            assert!(records.iter().all(|r| r.recon.is_finite()));
            let eval = session.evaluate().await.unwrap();
            assert!(eval.loss.is_finite());
            session.reconstruct(8).await.unwrap();
            session.sample(16, epoch as u64).await.unwrap();
            let (mu, _) = session.encode(&vec![0.5; 784]).await.unwrap();
            session.decode(&mu).await.unwrap();
            session.engine().read_params().await.unwrap();
        });
        pollster::block_on(async {
            session.latent_map(200).await.unwrap();
        });
        let (count, bytes) = live_buffers();
        let rss = rss_bytes().unwrap_or(0);
        eprintln!(
            "soak epoch {:2}: {count} live GPU buffers, {:.2} MiB in them, RSS {:.1} MiB",
            epoch + 1,
            bytes as f64 / 1048576.0,
            rss as f64 / 1048576.0
        );
        samples.push((count, bytes, rss));
    }
    let flat = &samples[WARM..];
    let (c0, b0, _) = flat[0];
    assert!(
        flat.iter().all(|&(c, b, _)| c == c0 && b == b0),
        "GPU buffers grew after epoch {WARM}: {samples:?}"
    );
    let lo = flat.iter().map(|s| s.2).min().unwrap_or(0);
    let hi = flat.iter().map(|s| s.2).max().unwrap_or(0);
    assert!(
        hi - lo <= RSS_SLACK,
        "resident memory moved {} MiB after epoch {WARM}: {samples:?}",
        (hi - lo) >> 20
    );
}
