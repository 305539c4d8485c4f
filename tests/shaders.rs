//! Every WGSL file parses and validates with naga, and the params structs and workgroup sizes in
//! WGSL equal their Rust twins.
// The WGSL engine is under test: not built without the `webgpu` feature.
#![cfg(feature = "webgpu")]

use vae_webgpu::kernels::{self, adam, gather, latent, linear, loss, probe, reparam, StepParams};

/// Parsed and validated as a device with the subgroups feature sees it (linear.wgsl's subgroup
/// kernels need it; the other files use none).
fn module(source: &str, file: &str) -> naga::Module {
    module_with(source, file, true)
}

fn module_with(source: &str, file: &str, subgroups: bool) -> naga::Module {
    use naga::valid::{Capabilities, ShaderStages, SubgroupOperationSet, Validator};
    let m = naga::front::wgsl::parse_str(source)
        .unwrap_or_else(|e| panic!("{file}: {}", e.emit_to_string(source)));
    let mut v = if subgroups {
        let mut v = Validator::new(
            naga::valid::ValidationFlags::all(),
            Capabilities::default() | Capabilities::SUBGROUP,
        );
        v.subgroup_stages(ShaderStages::COMPUTE)
            .subgroup_operations(
                SubgroupOperationSet::BASIC
                    | SubgroupOperationSet::VOTE
                    | SubgroupOperationSet::BALLOT,
            );
        v
    } else {
        Validator::new(naga::valid::ValidationFlags::all(), Capabilities::default())
    };
    v.validate(&m)
        .unwrap_or_else(|e| panic!("{file} does not validate: {e:?}"));
    m
}

#[test]
fn linear_without_subgroups_validates_and_lacks_the_subgroup_kernels() {
    let plain = linear::source(false);
    let m = module_with(plain, "linear.wgsl without subgroups", false);
    assert!(!plain.contains("subgroup_invocation_id") && !plain.contains("subgroupBroadcast"));
    assert!(m
        .entry_points
        .iter()
        .all(|e| !e.name.ends_with("_subgroup")));
    let full = module(linear::source(true), "linear.wgsl");
    for e in ["forward", "backward_input", "backward_weight"] {
        let name = format!("linear_{e}_subgroup");
        assert!(
            full.entry_points.iter().any(|p| p.name == name),
            "{name} missing"
        );
        assert_eq!(
            workgroup(&full, &name),
            [linear::DIRECT_X, linear::DIRECT_Y, 1],
            "{name}"
        );
    }
    // The cut leaves every other kernel as it was.
    assert_eq!(
        m.entry_points.len() + 3,
        full.entry_points.len(),
        "only the three subgroup kernels are cut"
    );
}

fn struct_size(m: &naga::Module, name: &str) -> u32 {
    m.types
        .iter()
        .find_map(|(_, t)| match (&t.name, &t.inner) {
            (Some(n), naga::TypeInner::Struct { span, .. }) if n == name => Some(*span),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no struct {name}"))
}

fn workgroup(m: &naga::Module, entry: &str) -> [u32; 3] {
    m.entry_points
        .iter()
        .find(|e| e.name == entry)
        .unwrap_or_else(|| panic!("no entry point {entry}"))
        .workgroup_size
}

#[test]
fn every_shader_parses_and_validates() {
    for (file, source) in kernels::SHADERS {
        let m = module(source, file);
        assert!(!m.entry_points.is_empty(), "{file} has no entry point");
        for e in &m.entry_points {
            let family = file.trim_end_matches(".wgsl");
            assert!(
                e.name.starts_with(&format!("{family}_")),
                "{file}: entry point {} is not named {family}_*",
                e.name
            );
        }
    }
}

#[test]
fn params_structs_match_their_rust_twins() {
    let step_files = [
        kernels::GATHER_WGSL,
        kernels::REPARAM_WGSL,
        kernels::LATENT_WGSL,
        kernels::LOSS_WGSL,
        kernels::ADAM_WGSL,
    ];
    for src in step_files {
        assert_eq!(
            struct_size(&module(src, "step"), "StepParams") as usize,
            std::mem::size_of::<StepParams>()
        );
    }
    assert_eq!(std::mem::size_of::<StepParams>(), 100);
    let probe_module = module(kernels::PROBE_WGSL, "probe.wgsl");
    assert_eq!(
        struct_size(&probe_module, "ProbeParams") as usize,
        std::mem::size_of::<probe::ProbeParams>()
    );
    let lin = module(kernels::LINEAR_WGSL, "linear.wgsl");
    assert_eq!(
        struct_size(&lin, "LinearParams") as usize,
        std::mem::size_of::<linear::LinearParams>()
    );
    // Field order: check the names too.
    let fields = |m: &naga::Module, name: &str| -> Vec<String> {
        m.types
            .iter()
            .find_map(|(_, t)| match (&t.name, &t.inner) {
                (Some(n), naga::TypeInner::Struct { members, .. }) if n == name => Some(
                    members
                        .iter()
                        .map(|f| f.name.clone().unwrap_or_default())
                        .collect(),
                ),
                _ => None,
            })
            .unwrap()
    };
    assert_eq!(
        fields(&probe_module, "ProbeParams"),
        ["iters", "_pad0", "_pad1", "_pad2"]
    );
    assert_eq!(
        fields(&lin, "LinearParams"),
        [
            "rows",
            "out_features",
            "in_features",
            "weight_offset",
            "bias_offset",
            "flags",
            "partials_at",
            "_pad1"
        ]
    );
    assert_eq!(
        fields(&module(kernels::ADAM_WGSL, "adam.wgsl"), "StepParams"),
        [
            "rows",
            "in_features",
            "latent",
            "index_offset",
            "rng_step",
            "seed_lo",
            "seed_hi",
            "slot",
            "lr",
            "beta1",
            "beta2",
            "eps",
            "step_size",
            "bc2_sqrt",
            "param_vec4s",
            "loss_partials",
            "kl_weight",
            "variational",
            "hidden",
            "partials_at",
            "w23_at",
            "b23_at",
            "w4_at",
            "b4_at",
            "through_z"
        ]
    );
}

#[test]
fn workgroup_sizes_match_rust_constants() {
    let lin = module(kernels::LINEAR_WGSL, "linear.wgsl");
    for e in [
        "linear_forward",
        "linear_backward_input",
        "linear_backward_weight",
    ] {
        assert_eq!(
            workgroup(&lin, e),
            [linear::DIRECT_X, linear::DIRECT_Y, 1],
            "{e}"
        );
    }
    for e in [
        "linear_forward_tiled",
        "linear_backward_input_tiled",
        "linear_backward_weight_tiled",
    ] {
        assert_eq!(
            workgroup(&lin, e),
            [linear::BLOCK_X, linear::BLOCK_Y, 1],
            "{e}"
        );
    }
    assert_eq!(
        workgroup(&module(kernels::GATHER_WGSL, "gather"), "gather_batch"),
        [gather::GATHER_WG, 1, 1]
    );
    let rep = module(kernels::REPARAM_WGSL, "reparam");
    assert_eq!(
        workgroup(&rep, "reparam_forward"),
        [reparam::REPARAM_WG, 1, 1]
    );
    assert_eq!(
        workgroup(&rep, "reparam_backward"),
        [reparam::REPARAM_WG, 1, 1]
    );
    let lat = module(kernels::LATENT_WGSL, "latent");
    for e in ["latent_forward", "latent_backward"] {
        assert_eq!(workgroup(&lat, e), [latent::LATENT_WG, 1, 1], "{e}");
    }
    // latent_backward's extra workgroup sums the loss with loss_sum.wgsl's workgroup size.
    assert_eq!(latent::LATENT_WG, loss::LOSS_WG);
    let lo = module(kernels::LOSS_WGSL, "loss");
    assert_eq!(workgroup(&lo, "loss_bce_kl"), [loss::BCE_WG, 1, 1]);
    assert_eq!(workgroup(&lo, "loss_reduce"), [loss::LOSS_WG, 1, 1]);
    assert_eq!(
        workgroup(&module(kernels::ADAM_WGSL, "adam"), "adam_step"),
        [adam::ADAM_WG, 1, 1]
    );
    assert_eq!(
        workgroup(&module(kernels::PROBE_WGSL, "probe"), "probe_fma"),
        [probe::PROBE_WG, 1, 1]
    );
}
