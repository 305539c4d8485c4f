//! `shaders/reparam.wgsl`: z = μ + σ·ε with ε from Philox on the GPU, and its backward (which
//! also adds the KL term's gradient).

use super::{bind, layout, pipeline, shader, StepParams, REPARAM_WGSL};
use crate::error::Result;
use crate::gpu::Gpu;

pub const REPARAM_WG: u32 = 64;

pub struct ReparamKernels {
    pub layout: wgpu::BindGroupLayout,
    forward: wgpu::ComputePipeline,
    backward: wgpu::ComputePipeline,
}

impl ReparamKernels {
    pub fn new(gpu: &Gpu) -> Self {
        let module = shader(gpu, "reparam.wgsl", REPARAM_WGSL);
        let layout = layout(
            gpu,
            "reparam.wgsl",
            true,
            &[true, true, false, false, false],
        );
        ReparamKernels {
            forward: pipeline(gpu, &module, &layout, "reparam.wgsl", "reparam_forward"),
            backward: pipeline(gpu, &module, &layout, "reparam.wgsl", "reparam_backward"),
            layout,
        }
    }

    /// Bindings: (step uniform, mulv, dz, z, eps, dmulv); one group serves both directions.
    #[allow(clippy::too_many_arguments)]
    pub fn bind_group(
        &self,
        gpu: &Gpu,
        step: &wgpu::Buffer,
        mulv: &wgpu::Buffer,
        dz: &wgpu::Buffer,
        z: &wgpu::Buffer,
        eps: &wgpu::Buffer,
        dmulv: &wgpu::Buffer,
    ) -> wgpu::BindGroup {
        let size = std::mem::size_of::<StepParams>() as u64;
        bind(
            gpu,
            "reparam.wgsl",
            &self.layout,
            step,
            Some(size),
            &[mulv, dz, z, eps, dmulv],
        )
    }

    fn dispatch(
        &self,
        gpu: &Gpu,
        pass: &mut wgpu::ComputePass,
        pipeline: &wgpu::ComputePipeline,
        bg: &wgpu::BindGroup,
        offset: u32,
        s: &StepParams,
    ) -> Result<()> {
        let n = (s.rows * s.latent) as usize;
        let g = super::groups(
            gpu,
            n,
            REPARAM_WG as usize,
            "max_compute_workgroups_per_dimension",
        )?;
        pass.set_pipeline(pipeline);
        pass.set_bind_group(0, bg, &[offset]);
        pass.dispatch_workgroups(g, 1, 1);
        Ok(())
    }

    pub fn reparam_forward(
        &self,
        gpu: &Gpu,
        pass: &mut wgpu::ComputePass,
        bg: &wgpu::BindGroup,
        offset: u32,
        s: &StepParams,
    ) -> Result<()> {
        self.dispatch(gpu, pass, &self.forward, bg, offset, s)
    }

    pub fn reparam_backward(
        &self,
        gpu: &Gpu,
        pass: &mut wgpu::ComputePass,
        bg: &wgpu::BindGroup,
        offset: u32,
        s: &StepParams,
    ) -> Result<()> {
        self.dispatch(gpu, pass, &self.backward, bg, offset, s)
    }
}
