//! Every kernel against the CPU reference, natively (on lavapipe in CI); the checks themselves
//! are in tests/common/checks.rs and run in the browser too (tests/web.rs).
// The WGSL engine is under test: not built without the `webgpu` feature.
#![cfg(feature = "webgpu")]
#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::checks;
use common::gpu;
use pollster::block_on;

#[test]
fn linear_direct_matches_reference_on_uneven_shapes() {
    let Some(gpu) = gpu() else { return };
    block_on(checks::linear_direct_matches_reference_on_uneven_shapes(
        &gpu,
    ));
}

#[test]
fn linear_tiled_matches_reference_on_uneven_shapes() {
    let Some(gpu) = gpu() else { return };
    block_on(checks::linear_tiled_matches_reference_on_uneven_shapes(
        &gpu,
    ));
}

#[test]
fn linear_subgroup_matches_direct_bit_for_bit() {
    let Some(gpu) = gpu() else { return };
    block_on(checks::linear_subgroup_matches_direct_bit_for_bit(&gpu));
}

#[test]
fn linear_both_forms_at_vae_sizes() {
    let Some(gpu) = gpu() else { return };
    block_on(checks::linear_both_forms_at_vae_sizes(&gpu));
}

#[test]
fn gather_batch_matches_reference() {
    let Some(gpu) = gpu() else { return };
    block_on(checks::gather_batch_matches_reference(&gpu));
}

#[test]
fn reparam_forward_and_backward_match_reference() {
    let Some(gpu) = gpu() else { return };
    block_on(checks::reparam_forward_and_backward_match_reference(&gpu));
}

#[test]
fn loss_bce_kl_matches_reference() {
    let Some(gpu) = gpu() else { return };
    block_on(checks::loss_bce_kl_matches_reference(&gpu));
}

#[test]
fn loss_flags_non_finite() {
    let Some(gpu) = gpu() else { return };
    block_on(checks::loss_flags_non_finite(&gpu));
}

#[test]
fn adam_step_matches_torch_adam_over_three_steps() {
    let Some(gpu) = gpu() else { return };
    block_on(checks::adam_step_matches_torch_adam_over_three_steps(&gpu));
}

#[test]
fn adam_flags_non_finite_params() {
    let Some(gpu) = gpu() else { return };
    block_on(checks::adam_flags_non_finite_params(&gpu));
}

#[test]
fn latent_kernels_and_small_gradients_match_reference() {
    let Some(gpu) = gpu() else { return };
    block_on(checks::latent_kernels_and_small_gradients_match_reference(
        &gpu,
    ));
}

#[test]
fn linear_forward_loss_matches_reference() {
    let Some(gpu) = gpu() else { return };
    block_on(checks::linear_forward_loss_matches_reference(&gpu));
}

#[test]
fn linear_backward_tiled_matches_reference() {
    let Some(gpu) = gpu() else { return };
    block_on(checks::linear_backward_tiled_matches_reference(&gpu));
}
