//! vae-webgpu: a variational autoencoder that trains on MNIST with every numeric step — forward,
//! backward, reparameterization, loss and Adam — as WGSL compute shaders through wgpu.
//!
//! One way through: [`mnist`] (bytes → dataset) → [`gpu`] (device, buffers, readback) →
//! [`kernels`] (one module per WGSL file) → [`model`] (the VAE's buffers and dispatch order) →
//! [`train`] (epochs, steps, readback cadence) → [`session`] (what both faces ask for) → `web`
//! (the JS API, wasm only) and the CLI binaries. The CPU engine ([`cpu`]) stands beside the WGSL
//! one (`gpu` … `train`); both build on [`run`] (position, records, stages) and neither imports
//! the other. Leaves with no GPU in them: [`config`], [`rng`], [`layout`], [`mnist`], [`run`],
//! [`reference`], [`render`], [`checkpoint`].
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]
// The threads build (nightly, `+atomics`: scripts/trunk-post-build.sh) sleeps its workers in
// `memory.atomic.wait32` (cpu::pool).
#![cfg_attr(
    all(target_arch = "wasm32", target_feature = "atomics"),
    feature(stdarch_wasm_atomic_wait)
)]

#[cfg(feature = "webgpu")]
pub mod bench;
pub mod checkpoint;
#[cfg(not(target_arch = "wasm32"))]
pub mod cli;
pub mod config;
pub mod cpu;
pub mod draw;
pub mod engine;
pub mod error;
pub mod fields;
#[cfg(feature = "webgpu")]
pub mod gpu;
#[cfg(feature = "webgpu")]
pub mod kernels;
pub mod layout;
pub mod mnist;
#[cfg(feature = "webgpu")]
pub mod model;
pub mod pca;
pub mod reference;
pub mod render;
pub mod rng;
pub mod run;
pub mod session;
#[cfg(feature = "webgpu")]
pub mod train;
#[cfg(target_arch = "wasm32")]
pub mod web;

pub use config::VaeConfig;
pub use error::{IdxError, Result, VaeError};
