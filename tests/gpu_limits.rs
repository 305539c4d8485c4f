//! Device requirements: only the limits needed are requested (all within WebGPU's defaults for
//! MNIST), a shortfall is an error naming the limit with needed and available, and the GEMM form
//! follows the adapter type.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use vae_webgpu::gpu::{missing_limit, required_limits, GemmForm, DEFAULT_STORAGE_BINDING};
use vae_webgpu::model::VaeModel;
use vae_webgpu::{VaeConfig, VaeError};

#[test]
fn requested_limits_fit_any_webgpu_adapter() {
    let webgpu = wgpu::Limits::default();
    let req = required_limits(DEFAULT_STORAGE_BINDING, &webgpu);
    assert_eq!(missing_limit(&req, &webgpu), None);
    assert_eq!(req.max_storage_buffers_per_shader_stage, 6);
    assert_eq!(req.max_storage_buffer_binding_size, 128 << 20);
}

#[test]
fn a_shortfall_names_the_limit() {
    let webgpu = wgpu::Limits::default();
    let req = required_limits(1 << 30, &webgpu);
    let (name, needed, available) =
        missing_limit(&req, &webgpu).expect("1 GiB exceeds the default");
    assert!(
        name == "max_storage_buffer_binding_size" || name == "max_buffer_size",
        "{name}"
    );
    assert_eq!(needed, 1 << 30);
    assert!(available < needed);
    let small = wgpu::Limits {
        max_storage_buffers_per_shader_stage: 4,
        ..wgpu::Limits::default()
    };
    let req = required_limits(DEFAULT_STORAGE_BINDING, &small);
    assert_eq!(
        missing_limit(&req, &small),
        Some(("max_storage_buffers_per_shader_stage", 6, 4))
    );
    let msg = VaeError::MissingLimit {
        adapter: "x".into(),
        limit: "max_storage_buffers_per_shader_stage",
        needed: 6,
        available: 4,
    }
    .to_string();
    assert_eq!(msg, "the GPU adapter 'x' lacks limit max_storage_buffers_per_shader_stage: needed 6, available 4");
}

#[test]
fn a_model_too_big_for_the_device_is_an_error_not_a_crash() {
    let Some(gpu) = common::gpu() else { return };
    let cfg = VaeConfig {
        hidden: 8192,
        batch_size: 8192,
        ..VaeConfig::default()
    };
    match VaeModel::new(&gpu, &cfg) {
        Err(VaeError::MissingLimit {
            limit,
            needed,
            available,
            ..
        }) => {
            assert_eq!(limit, "max_storage_buffer_binding_size");
            assert!(needed > available);
        }
        Err(e) => panic!("unexpected error {e}"),
        Ok(_) => panic!("a 256 MiB activation buffer fit a 128 MiB binding limit"),
    }
    gpu.check().expect("nothing was submitted to the device");
}

#[test]
fn gemm_form_follows_the_adapter() {
    use wgpu::DeviceType::{Cpu, DiscreteGpu, IntegratedGpu, Other};
    let form = |name: &str, t| GemmForm::for_device(name, t, "");
    assert_eq!(
        form("llvmpipe (LLVM 15.0.6, 256 bits)", Cpu),
        GemmForm::Direct
    );
    assert_eq!(form("SwiftShader Device", Other), GemmForm::Direct);
    assert_eq!(form("NVIDIA H100", DiscreteGpu), GemmForm::Tiled);
    assert_eq!(form("Apple M2", IntegratedGpu), GemmForm::Tiled);
    assert_eq!(
        GemmForm::for_device("AMD", Other, "llvmpipe"),
        GemmForm::Direct
    );
}
