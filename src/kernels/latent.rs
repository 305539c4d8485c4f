//! `shaders/latent.wgsl`: fc2|fc3 → z → fc4 forward, and its backward (with the loss's sum), one
//! workgroup per batch row.

use super::LATENT_WGSL;
use super::{bind_at, dispatch, layout_at, pipeline, row, shader, StepParams};
use crate::error::Result;
use crate::gpu::Gpu;

pub const LATENT_WG: u32 = 64;

/// latent_forward's bindings, in binding order (1–6, 10).
pub struct LatentForwardBindings<'a> {
    /// StepParams, bound with a dynamic offset.
    pub step: &'a wgpu::Buffer,
    pub params: &'a wgpu::Buffer,
    pub h1: &'a wgpu::Buffer,
    pub mulv: &'a wgpu::Buffer,
    pub z: &'a wgpu::Buffer,
    pub eps: &'a wgpu::Buffer,
    pub h4: &'a wgpu::Buffer,
    /// Stats records | the loss's partial sums (each row's KL).
    pub stats: &'a wgpu::Buffer,
}

/// latent_backward's bindings (1–3, 5, 7–10).
pub struct LatentBackwardBindings<'a> {
    /// StepParams, bound with a dynamic offset.
    pub step: &'a wgpu::Buffer,
    pub params: &'a wgpu::Buffer,
    pub h1: &'a wgpu::Buffer,
    pub mulv: &'a wgpu::Buffer,
    pub eps: &'a wgpu::Buffer,
    /// The gradient of h4, masked by ReLU (fc5's backward_input).
    pub dh4: &'a wgpu::Buffer,
    pub dmulv: &'a wgpu::Buffer,
    pub dh1: &'a wgpu::Buffer,
    /// Stats records | the loss's partial sums.
    pub stats: &'a wgpu::Buffer,
}

pub struct LatentKernels {
    forward_layout: wgpu::BindGroupLayout,
    backward_layout: wgpu::BindGroupLayout,
    forward: wgpu::ComputePipeline,
    backward: wgpu::ComputePipeline,
}

/// A bind group of the step uniform and `buffers` at `places`' binding numbers.
fn bind_sparse(
    gpu: &Gpu,
    label: &str,
    layout: &wgpu::BindGroupLayout,
    step: &wgpu::Buffer,
    places: &[(u32, bool)],
    buffers: &[&wgpu::Buffer],
) -> wgpu::BindGroup {
    let at: Vec<(u32, &wgpu::Buffer)> = places
        .iter()
        .map(|p| p.0)
        .zip(buffers.iter().copied())
        .collect();
    let size = std::mem::size_of::<StepParams>() as u64;
    bind_at(gpu, label, layout, step, Some(size), &at)
}

const FORWARD: [(u32, bool); 7] = [
    (1, true),
    (2, true),
    (3, false),
    (4, false),
    (5, false),
    (6, false),
    (10, false),
];
const BACKWARD: [(u32, bool); 8] = [
    (1, true),
    (2, true),
    (3, false),
    (5, false),
    (7, true),
    (8, false),
    (9, false),
    (10, false),
];

impl LatentKernels {
    pub fn new(gpu: &Gpu) -> Self {
        let module = shader(gpu, "latent.wgsl", LATENT_WGSL);
        let forward_layout = layout_at(gpu, "latent.wgsl:latent_forward", true, &FORWARD);
        let backward_layout = layout_at(gpu, "latent.wgsl:latent_backward", true, &BACKWARD);
        LatentKernels {
            forward: pipeline(
                gpu,
                &module,
                &forward_layout,
                "latent.wgsl",
                "latent_forward",
            ),
            backward: pipeline(
                gpu,
                &module,
                &backward_layout,
                "latent.wgsl",
                "latent_backward",
            ),
            forward_layout,
            backward_layout,
        }
    }

    pub fn forward_bind_group(&self, gpu: &Gpu, b: &LatentForwardBindings) -> wgpu::BindGroup {
        let buffers = [b.params, b.h1, b.mulv, b.z, b.eps, b.h4, b.stats];
        bind_sparse(
            gpu,
            "latent.wgsl:latent_forward",
            &self.forward_layout,
            b.step,
            &FORWARD,
            &buffers,
        )
    }

    pub fn backward_bind_group(&self, gpu: &Gpu, b: &LatentBackwardBindings) -> wgpu::BindGroup {
        let buffers = [
            b.params, b.h1, b.mulv, b.eps, b.dh4, b.dmulv, b.dh1, b.stats,
        ];
        bind_sparse(
            gpu,
            "latent.wgsl:latent_backward",
            &self.backward_layout,
            b.step,
            &BACKWARD,
            &buffers,
        )
    }

    /// One workgroup per row.
    pub fn latent_forward(
        &self,
        gpu: &Gpu,
        pass: &mut wgpu::ComputePass,
        bg: &wgpu::BindGroup,
        offset: u32,
        s: &StepParams,
    ) -> Result<()> {
        dispatch(
            pass,
            &self.forward,
            bg,
            &[offset],
            row(gpu, s.rows as usize, 1)?,
        );
        Ok(())
    }

    /// One workgroup per row, and one that sums the loss.
    pub fn latent_backward(
        &self,
        gpu: &Gpu,
        pass: &mut wgpu::ComputePass,
        bg: &wgpu::BindGroup,
        offset: u32,
        s: &StepParams,
    ) -> Result<()> {
        let g = row(gpu, s.rows as usize + 1, 1)?;
        dispatch(pass, &self.backward, bg, &[offset], g);
        Ok(())
    }
}
