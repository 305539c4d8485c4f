//! One Rust module per WGSL file: the params structs (mirrored from WGSL and proved equal by a
//! naga test), bind group layouts, pipelines (made once), and dispatch geometry. Model code
//! calls these; kernels never see the model.

pub mod adam;
pub mod gather;
pub mod latent;
pub mod linear;
pub mod loss;
pub mod probe;
pub mod reparam;

use bytemuck::{Pod, Zeroable};

use crate::error::{Result, VaeError};
use crate::gpu::{GemmForm, Gpu};

/// The linear layer without the subgroup form: the hand-written linear.wgsl and the direct
/// kernels generated into linear_direct.wgsl.
pub const LINEAR_PLAIN_WGSL: &str = concat!(
    include_str!("../../shaders/bce.wgsl"),
    include_str!("../../shaders/linear.wgsl"),
    include_str!("../../shaders/generated/linear_direct.wgsl"),
);
/// The linear layer with every form, the subgroup one (linear_subgroup.wgsl, generated) too:
/// for devices with the subgroups feature.
pub const LINEAR_WGSL: &str = concat!(
    include_str!("../../shaders/bce.wgsl"),
    include_str!("../../shaders/linear.wgsl"),
    include_str!("../../shaders/generated/linear_direct.wgsl"),
    include_str!("../../shaders/generated/linear_subgroup.wgsl"),
);
/// Files that use StepParams are compiled with `common.wgsl` prepended.
pub const GATHER_WGSL: &str = concat!(
    include_str!("../../shaders/common.wgsl"),
    include_str!("../../shaders/gather.wgsl")
);
pub const REPARAM_WGSL: &str = concat!(
    include_str!("../../shaders/common.wgsl"),
    include_str!("../../shaders/reparam_fns.wgsl"),
    include_str!("../../shaders/reparam.wgsl")
);
pub const LATENT_WGSL: &str = concat!(
    include_str!("../../shaders/common.wgsl"),
    include_str!("../../shaders/reparam_fns.wgsl"),
    include_str!("../../shaders/loss_sum.wgsl"),
    include_str!("../../shaders/latent.wgsl")
);
pub const LOSS_WGSL: &str = concat!(
    include_str!("../../shaders/common.wgsl"),
    include_str!("../../shaders/loss_sum.wgsl"),
    include_str!("../../shaders/bce.wgsl"),
    include_str!("../../shaders/loss.wgsl")
);
pub const ADAM_WGSL: &str = concat!(
    include_str!("../../shaders/common.wgsl"),
    include_str!("../../shaders/adam.wgsl")
);
pub const PROBE_WGSL: &str = include_str!("../../shaders/probe.wgsl");

/// Every shader as (file name, full source), for validation tests.
pub const SHADERS: [(&str, &str); 7] = [
    ("linear.wgsl", LINEAR_WGSL),
    ("gather.wgsl", GATHER_WGSL),
    ("reparam.wgsl", REPARAM_WGSL),
    ("latent.wgsl", LATENT_WGSL),
    ("loss.wgsl", LOSS_WGSL),
    ("adam.wgsl", ADAM_WGSL),
    ("probe.wgsl", PROBE_WGSL),
];

/// Twin of WGSL `struct StepParams` (common.wgsl): one record per step, bound with a dynamic
/// offset.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Pod, Zeroable)]
pub struct StepParams {
    pub rows: u32,
    pub in_features: u32,
    pub latent: u32,
    pub index_offset: u32,
    pub rng_step: u32,
    pub seed_lo: u32,
    pub seed_hi: u32,
    pub slot: u32,
    pub lr: f32,
    pub beta1: f32,
    pub beta2: f32,
    pub eps: f32,
    pub step_size: f32,
    pub bc2_sqrt: f32,
    pub param_vec4s: u32,
    pub loss_partials: u32,
    /// β: the objective is BCE + β·KL.
    pub kl_weight: f32,
    /// 1 for a VAE (z = μ + σ·ε), 0 for a plain autoencoder (z = μ, ε = 0).
    pub variational: u32,
    pub hidden: u32,
    /// First record of the loss's partial sums in the stats buffer.
    pub partials_at: u32,
    /// Offsets (floats) of [fc2 | fc3].weight and .bias, fc4.weight and .bias in the flat
    /// parameters: adam.wgsl computes their gradients, latent.wgsl uses them.
    pub w23_at: u32,
    pub b23_at: u32,
    pub w4_at: u32,
    pub b4_at: u32,
    /// 1: the reconstruction's gradient reaches μ and log σ² through z (the reparameterization
    /// trick); 0: z is a sampled constant and only the KL term trains them.
    pub through_z: u32,
}

/// How many steps' StepParams one uniform buffer holds, i.e. the most steps per submit.
pub const MAX_STEPS_PER_SUBMIT: usize = 64;

/// Byte stride between StepParams records: the struct rounded up to the adapter's uniform
/// offset alignment (256 on most adapters).
pub fn step_stride(gpu: &Gpu) -> u64 {
    let align = u64::from(gpu.device.limits().min_uniform_buffer_offset_alignment).max(1);
    (std::mem::size_of::<StepParams>() as u64).div_ceil(align) * align
}

/// Workgroup count for `n` items at `per_group` items each, checked against the device limit.
pub fn groups(gpu: &Gpu, n: usize, per_group: usize, what: &'static str) -> Result<u32> {
    let g = n.div_ceil(per_group);
    let max = gpu.device.limits().max_compute_workgroups_per_dimension as usize;
    if g > max {
        return Err(VaeError::MissingLimit {
            adapter: gpu.info.name.clone(),
            limit: what,
            needed: g as u64,
            available: max as u64,
        });
    }
    Ok(g as u32)
}

pub(crate) fn shader(gpu: &Gpu, label: &str, source: &str) -> wgpu::ShaderModule {
    gpu.device
        .create_shader_module(wgpu::ShaderModuleDescriptor {
            label: Some(label),
            source: wgpu::ShaderSource::Wgsl(source.into()),
        })
}

/// A compute pipeline labelled `"file.wgsl:entry"`, so validation errors name both.
pub(crate) fn pipeline(
    gpu: &Gpu,
    module: &wgpu::ShaderModule,
    layout: &wgpu::BindGroupLayout,
    file: &str,
    entry: &str,
) -> wgpu::ComputePipeline {
    let label = format!("{file}:{entry}");
    let pl = gpu
        .device
        .create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
            label: Some(&label),
            bind_group_layouts: &[Some(layout)],
            immediate_size: 0,
        });
    gpu.device
        .create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
            label: Some(&label),
            layout: Some(&pl),
            module,
            entry_point: Some(entry),
            compilation_options: Default::default(),
            cache: None,
        })
}

/// A bind group layout entry for binding `i`.
pub(crate) fn entry(i: u32, ty: wgpu::BindingType) -> wgpu::BindGroupLayoutEntry {
    wgpu::BindGroupLayoutEntry {
        binding: i,
        visibility: wgpu::ShaderStages::COMPUTE,
        ty,
        count: None,
    }
}

pub(crate) fn uniform(dynamic: bool) -> wgpu::BindingType {
    wgpu::BindingType::Buffer {
        ty: wgpu::BufferBindingType::Uniform,
        has_dynamic_offset: dynamic,
        min_binding_size: None,
    }
}

pub(crate) fn storage(read_only: bool) -> wgpu::BindingType {
    wgpu::BindingType::Buffer {
        ty: wgpu::BufferBindingType::Storage { read_only },
        has_dynamic_offset: false,
        min_binding_size: None,
    }
}

/// A layout: binding 0 is a uniform (dynamic when `dynamic`), then storage buffers at the given
/// (binding, read-only) places.
pub(crate) fn layout_at(
    gpu: &Gpu,
    label: &str,
    dynamic: bool,
    storages: &[(u32, bool)],
) -> wgpu::BindGroupLayout {
    let mut entries = vec![entry(0, uniform(dynamic))];
    entries.extend(storages.iter().map(|&(i, ro)| entry(i, storage(ro))));
    gpu.device
        .create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some(label),
            entries: &entries,
        })
}

/// A layout: binding 0 is a uniform (dynamic when `dynamic`), then storage buffers with the
/// given read-only flags.
pub(crate) fn layout(
    gpu: &Gpu,
    label: &str,
    dynamic: bool,
    read_only: &[bool],
) -> wgpu::BindGroupLayout {
    let mut entries = vec![entry(0, uniform(dynamic))];
    for (i, &ro) in read_only.iter().enumerate() {
        entries.push(entry(i as u32 + 1, storage(ro)));
    }
    gpu.device
        .create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some(label),
            entries: &entries,
        })
}

/// A bind group of `uniform` (at binding 0, sized `uniform_size` when bound with dynamic offsets)
/// and whole storage buffers at 1, 2, ….
pub(crate) fn bind(
    gpu: &Gpu,
    label: &str,
    layout: &wgpu::BindGroupLayout,
    uniform: &wgpu::Buffer,
    uniform_size: Option<u64>,
    buffers: &[&wgpu::Buffer],
) -> wgpu::BindGroup {
    let at: Vec<(u32, &wgpu::Buffer)> = (1..).zip(buffers.iter().copied()).collect();
    bind_at(gpu, label, layout, uniform, uniform_size, &at)
}

/// As [`bind`], with each storage buffer at its given binding number.
pub(crate) fn bind_at(
    gpu: &Gpu,
    label: &str,
    layout: &wgpu::BindGroupLayout,
    uniform: &wgpu::Buffer,
    uniform_size: Option<u64>,
    buffers: &[(u32, &wgpu::Buffer)],
) -> wgpu::BindGroup {
    let mut entries = vec![wgpu::BindGroupEntry {
        binding: 0,
        resource: wgpu::BindingResource::Buffer(wgpu::BufferBinding {
            buffer: uniform,
            offset: 0,
            size: uniform_size.and_then(wgpu::BufferSize::new),
        }),
    }];
    for &(i, b) in buffers {
        entries.push(wgpu::BindGroupEntry {
            binding: i,
            resource: b.as_entire_binding(),
        });
    }
    gpu.device.create_bind_group(&wgpu::BindGroupDescriptor {
        label: Some(label),
        layout,
        entries: &entries,
    })
}

/// A bind group of a kernel whose binding 0 is the per-step uniform (bound with dynamic offsets).
pub(crate) fn bind_step(
    gpu: &Gpu,
    label: &str,
    layout: &wgpu::BindGroupLayout,
    step: &wgpu::Buffer,
    buffers: &[&wgpu::Buffer],
) -> wgpu::BindGroup {
    let size = std::mem::size_of::<StepParams>() as u64;
    bind(gpu, label, layout, step, Some(size), buffers)
}

thread_local! {
    static DISPATCHES: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// Dispatches recorded by this thread so far (every kernel records through [`dispatch`]): lets
/// a test count what a step really records.
pub fn dispatches_recorded() -> u64 {
    DISPATCHES.with(|d| d.get())
}

/// Sets `pipeline` and `bg` (with the step's dynamic offset, if any) and dispatches `(x, y)`.
pub(crate) fn dispatch(
    pass: &mut wgpu::ComputePass,
    pipeline: &wgpu::ComputePipeline,
    bg: &wgpu::BindGroup,
    offsets: &[u32],
    (x, y): (u32, u32),
) {
    pass.set_pipeline(pipeline);
    pass.set_bind_group(0, bg, offsets);
    pass.dispatch_workgroups(x, y, 1);
    DISPATCHES.with(|d| d.set(d.get() + 1));
}

/// Workgroups for `n` items at `per_group` each, in one row (x), checked against the limit.
pub(crate) fn row(gpu: &Gpu, n: usize, per_group: usize) -> Result<(u32, u32)> {
    Ok((
        groups(gpu, n, per_group, "max_compute_workgroups_per_dimension")?,
        1,
    ))
}

/// All pipelines of the VAE, created once.
pub struct Kernels {
    pub linear: linear::LinearKernels,
    pub gather: gather::GatherKernels,
    pub reparam: reparam::ReparamKernels,
    pub latent: latent::LatentKernels,
    pub loss: loss::LossKernels,
    pub adam: adam::AdamKernels,
}

impl Kernels {
    pub fn new(gpu: &Gpu, form: GemmForm) -> Self {
        Kernels {
            linear: linear::LinearKernels::new(gpu, form),
            gather: gather::GatherKernels::new(gpu),
            reparam: reparam::ReparamKernels::new(gpu),
            latent: latent::LatentKernels::new(gpu),
            loss: loss::LossKernels::new(gpu),
            adam: adam::AdamKernels::new(gpu),
        }
    }
}
