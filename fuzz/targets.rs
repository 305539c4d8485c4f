//! The bodies of the fuzz targets, shared by `cargo fuzz` (fuzz_targets/*.rs) and by the test that
//! replays every seed and regression input on each `cargo test` (tests/fuzz_corpus.rs). Each one
//! feeds arbitrary bytes to a parser a user can reach and checks what an `Ok` promises; any panic,
//! failed check or allocation past libFuzzer's limits is a finding.
#![allow(dead_code)]

use std::io::Write;

use vae_webgpu::checkpoint;
use vae_webgpu::config::VaeConfig;
use vae_webgpu::layout::ParamLayout;
use vae_webgpu::mnist::{parse_idx, Dataset, MAX_IDX_BYTES};

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// An IDX file as dropped on the page (raw or gzip), read as labels (rank 1) and as images
/// (rank 3).
pub fn idx(data: &[u8]) {
    for rank in [1u8, 3] {
        match parse_idx(data, rank) {
            Ok(idx) => {
                assert_eq!(idx.dims.len(), rank as usize);
                assert!(idx.dims.iter().all(|&d| d > 0));
                let n: u64 = idx.dims.iter().map(|&d| u64::from(d)).product();
                assert!(n <= MAX_IDX_BYTES);
                assert_eq!(idx.data.len() as u64, n);
            }
            Err(e) => assert!(!e.to_string().is_empty()),
        }
    }
}

/// The same bytes gzip-compressed: the gzip path must give exactly what the raw path gives.
pub fn idx_gzip(data: &[u8]) {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    if enc.write_all(data).is_err() {
        return;
    }
    let Ok(gz) = enc.finish() else { return };
    for rank in [1u8, 3] {
        let via_gzip = parse_idx(&gz, rank);
        if !data.starts_with(&GZIP_MAGIC) && !data.is_empty() {
            assert_eq!(via_gzip, parse_idx(data, rank));
        }
    }
}

/// An images file and a labels file, split at the position the first two bytes give.
pub fn dataset(data: &[u8]) {
    if data.len() < 2 {
        return;
    }
    let split = (usize::from(u16::from_le_bytes([data[0], data[1]]))).min(data.len() - 2);
    let (images, labels) = data[2..].split_at(split);
    match Dataset::from_idx(images, labels, ("images", "labels")) {
        Ok(d) => {
            assert_eq!(d.images.len(), d.len() * d.pixels());
            assert!(d.labels.iter().all(|&l| l <= 9));
            let half = d.take(d.len() / 2);
            assert!(half.check_same_shape(&d, "half").is_ok());
        }
        Err(e) => assert!(!e.to_string().is_empty()),
    }
}

/// A checkpoint file loaded into a small model: an `Ok` has the layout's length, only finite
/// values, and survives a save/load round trip.
pub fn checkpoint(data: &[u8]) {
    let layout = ParamLayout::new(13, 7, 3);
    match checkpoint::load(&layout, data) {
        Ok(flat) => {
            assert_eq!(flat.len(), layout.len);
            assert!(flat.iter().all(|v| v.is_finite()));
            let again = checkpoint::save(&layout, &flat, &[]).expect("a loaded checkpoint saves");
            assert_eq!(checkpoint::load(&layout, &again).expect("round trip"), flat);
        }
        Err(e) => assert!(!e.to_string().is_empty()),
    }
}

fn word(data: &[u8], i: usize) -> u32 {
    let mut b = [0u8; 4];
    for (k, x) in b.iter_mut().enumerate() {
        *x = data.get(4 * i + k).copied().unwrap_or(0);
    }
    u32::from_le_bytes(b)
}

/// A configuration built from arbitrary words (sizes, f32 bit patterns, a training-set size): a
/// config that validates has a parameter layout whose byte size and indices fit the u32
/// arithmetic of the kernels.
pub fn config(data: &[u8]) {
    let size = |i| word(data, i) as usize >> (word(data, 10) % 20);
    let cfg = VaeConfig {
        input: size(0),
        hidden: size(1),
        latent: size(2),
        batch_size: size(3),
        epochs: size(4),
        lr: f32::from_bits(word(data, 5)),
        beta1: f32::from_bits(word(data, 6)),
        beta2: f32::from_bits(word(data, 7)),
        eps: f32::from_bits(word(data, 8)),
        seed: u64::from(word(data, 9)),
        kl_weight: f32::from_bits(word(data, 13)),
        variational: word(data, 14) & 1 == 1,
        reparameterize: word(data, 14) & 2 == 2,
    };
    let train_len = (word(data, 11) & 1 == 1).then(|| word(data, 12) as usize);
    match cfg.validate(train_len) {
        Ok(()) => {
            assert!(cfg.lr.is_finite() && cfg.lr > 0.0);
            assert!(cfg.kl_weight.is_finite() && cfg.kl_weight >= 0.0);
            assert!(cfg.variational || cfg.reparameterize);
            assert!(train_len.is_none_or(|n| cfg.batch_size <= n));
            let layout = ParamLayout::from_config(&cfg);
            assert!((layout.len as u64) * 4 < u64::from(u32::MAX));
            // What the model checks against the device before making any buffer.
            let sizes = vae_webgpu::layout::buffer_bytes(&cfg);
            let params = layout.len as u64 * 4;
            assert_eq!(sizes.state_copy, 3 * params);
            assert!(sizes.largest_binding >= params);
            let rows = vae_webgpu::layout::capacity(&cfg) as u64;
            assert!(sizes.largest_binding >= rows * cfg.input as u64 * 4);
            assert!(sizes.largest_binding >= rows * cfg.hidden as u64 * 4);
        }
        Err(e) => assert!(!e.to_string().is_empty()),
    }
}
