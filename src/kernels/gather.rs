//! `shaders/gather.wgsl`: the batch gathered on the GPU from the packed-byte dataset.

use super::{bind_step, dispatch, groups, layout, pipeline, shader, StepParams, GATHER_WGSL};
use crate::error::Result;
use crate::gpu::Gpu;

pub const GATHER_WG: u32 = 64;

pub struct GatherKernels {
    pub layout: wgpu::BindGroupLayout,
    gather: wgpu::ComputePipeline,
}

impl GatherKernels {
    pub fn new(gpu: &Gpu) -> Self {
        let module = shader(gpu, "gather.wgsl", GATHER_WGSL);
        let layout = layout(gpu, "gather.wgsl", true, &[true, true, false]);
        GatherKernels {
            gather: pipeline(gpu, &module, &layout, "gather.wgsl", "gather_batch"),
            layout,
        }
    }

    /// Bindings: (step uniform, images, indices, x).
    pub fn bind_group(
        &self,
        gpu: &Gpu,
        step: &wgpu::Buffer,
        images: &wgpu::Buffer,
        indices: &wgpu::Buffer,
        x: &wgpu::Buffer,
    ) -> wgpu::BindGroup {
        bind_step(
            gpu,
            "gather.wgsl:gather_batch",
            &self.layout,
            step,
            &[images, indices, x],
        )
    }

    pub fn gather_batch(
        &self,
        gpu: &Gpu,
        pass: &mut wgpu::ComputePass,
        bg: &wgpu::BindGroup,
        offset: u32,
        s: &StepParams,
    ) -> Result<()> {
        let quads = s.in_features.div_ceil(4) as usize;
        let x = groups(
            gpu,
            quads,
            GATHER_WG as usize,
            "max_compute_workgroups_per_dimension",
        )?;
        let y = groups(
            gpu,
            s.rows as usize,
            1,
            "max_compute_workgroups_per_dimension",
        )?;
        dispatch(pass, &self.gather, bg, &[offset], (x, y));
        Ok(())
    }
}
