//! `shaders/reparam.wgsl`: z = μ + σ·ε with ε from Philox on the GPU, and its backward (which
//! also adds the KL term's gradient).

use super::{bind_step, dispatch, layout, pipeline, row, shader, StepParams, REPARAM_WGSL};
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
        bind_step(
            gpu,
            "reparam.wgsl",
            &self.layout,
            step,
            &[mulv, dz, z, eps, dmulv],
        )
    }

    /// z = μ + exp(½ log σ²)·ε, one invocation per (row, latent) element.
    pub fn reparam_forward(
        &self,
        gpu: &Gpu,
        pass: &mut wgpu::ComputePass,
        bg: &wgpu::BindGroup,
        offset: u32,
        s: &StepParams,
    ) -> Result<()> {
        let g = row(gpu, (s.rows * s.latent) as usize, REPARAM_WG as usize)?;
        dispatch(pass, &self.forward, bg, &[offset], g);
        Ok(())
    }

    /// d[μ | log σ²] from dz and the KL term.
    pub fn reparam_backward(
        &self,
        gpu: &Gpu,
        pass: &mut wgpu::ComputePass,
        bg: &wgpu::BindGroup,
        offset: u32,
        s: &StepParams,
    ) -> Result<()> {
        let g = row(gpu, (s.rows * s.latent) as usize, REPARAM_WG as usize)?;
        dispatch(pass, &self.backward, bg, &[offset], g);
        Ok(())
    }
}
