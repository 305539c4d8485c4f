//! Device requirements: only the limits needed are requested (all within WebGPU's defaults for
//! MNIST), a shortfall is an error naming the limit with needed and available, and the GEMM form
//! follows the adapter type.
// The WGSL engine is under test: not built without the `webgpu` feature.
#![cfg(feature = "webgpu")]
#![cfg(not(target_arch = "wasm32"))]

mod common;

use vae_webgpu::gpu::{missing_limit, required_limits, GemmForm, DEFAULT_STORAGE_BINDING};
use vae_webgpu::model::{StepSpec, VaeModel};
use vae_webgpu::run::StepKind;
use vae_webgpu::{VaeConfig, VaeError};

#[test]
fn requested_limits_fit_any_webgpu_adapter() {
    let webgpu = wgpu::Limits::default();
    let req = required_limits(DEFAULT_STORAGE_BINDING, &webgpu);
    assert_eq!(missing_limit(&req, &webgpu), None);
    assert_eq!(req.max_storage_buffers_per_shader_stage, 8);
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
        Some(("max_storage_buffers_per_shader_stage", 8, 4))
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

#[test]
fn subgroup_form_needs_the_feature_and_eight_lanes() {
    use vae_webgpu::gpu::subgroups_usable;
    assert!(subgroups_usable(wgpu::Features::SUBGROUP, 8));
    assert!(subgroups_usable(wgpu::Features::SUBGROUP, 32));
    assert!(
        !subgroups_usable(wgpu::Features::SUBGROUP, 4),
        "WARP, SwiftShader"
    );
    assert!(!subgroups_usable(wgpu::Features::empty(), 8));
}

/// On an adapter with subgroups (lavapipe in CI) the trainer picks the subgroup form; a device
/// made without the feature on the same adapter falls back to the direct form, builds every
/// pipeline without a validation error (the subgroup kernels are cut from the shader) and trains
/// to the same loss, bit for bit.
#[test]
fn subgroup_form_is_detected_and_falls_back_without_the_feature() {
    use vae_webgpu::gpu::{subgroups_usable, Gpu};
    let Some(gpu) = common::gpu() else { return };
    let instance = wgpu::Instance::default();
    let adapter = pollster::block_on(instance.request_adapter(&Default::default()))
        .expect("common::gpu() found an adapter");
    let info = adapter.get_info();
    let usable = subgroups_usable(adapter.features(), info.subgroup_min_size);
    if GemmForm::for_adapter(&info) == GemmForm::Direct && usable {
        assert!(gpu.subgroups);
        assert_eq!(gpu.gemm, GemmForm::DirectSubgroup);
    } else {
        assert_eq!(gpu.gemm, GemmForm::for_adapter(&info));
    }
    let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
        required_limits: required_limits(DEFAULT_STORAGE_BINDING, &adapter.limits()),
        ..Default::default()
    }))
    .expect("a device without features");
    let plain = Gpu::from_device(device, queue, info);
    assert!(!plain.subgroups);
    assert_ne!(plain.gemm, GemmForm::DirectSubgroup);
    let data = common::synthetic_digits(3, 128, 28);
    let mut params = Vec::new();
    for g in [&gpu, &plain] {
        let mut model = VaeModel::with_form(g, &VaeConfig::default(), GemmForm::DirectSubgroup)
            .expect("the subgroup form builds on both devices");
        model.attach_data(g, &data, &data.take(8)).expect("data");
        let steps: Vec<StepSpec> = (1..=3)
            .map(|t| StepSpec {
                kind: StepKind::Train,
                rows: 21, // not a multiple of the 8 lanes
                index_offset: 0,
                rng_step: t as u32,
                slot: t as u32,
                t,
            })
            .collect();
        let cmd = model.encode_steps(g, &steps).expect("three steps");
        g.queue.submit([cmd]);
        g.wait_idle().expect("no device error");
        g.check().expect("no validation error");
        params.push(pollster::block_on(model.read_params(g)).expect("params"));
    }
    assert!(params[0].iter().all(|v| v.is_finite()));
    assert!(
        params[0] == params[1],
        "three steps in the subgroup form (where usable) and the direct form agree bit for bit"
    );
}

#[test]
fn a_state_snapshot_past_max_buffer_size_is_refused_naming_the_limit() {
    // hidden 8192, latent 512: 101 MB of parameters pass every binding, but the snapshot of
    // parameters, m and v (305 MB) is past the 256 MiB max_buffer_size asked for.
    let Some(gpu) = common::gpu() else { return };
    let cfg = VaeConfig {
        hidden: 8192,
        latent: 512,
        ..VaeConfig::default()
    };
    let limit = gpu.device.limits().max_buffer_size;
    match vae_webgpu::train::Trainer::without_data(gpu, &cfg) {
        Err(VaeError::MissingLimit {
            limit: name,
            needed,
            available,
            ..
        }) => {
            assert_eq!(name, "max_buffer_size");
            assert_eq!(available, limit);
            assert!(needed > available);
        }
        Err(e) => panic!("expected MissingLimit, got {e}"),
        Ok(_) => assert!(
            limit >= 3 * 4 * 25_400_000,
            "accepted on a device of {limit} bytes"
        ),
    }
}
