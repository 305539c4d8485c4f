//! `shaders/reparam.wgsl`: z = μ + σ·ε with ε from Philox on the GPU, and its backward (which
//! also adds the KL term's gradient).

use super::{bind_step, dispatch, layout, pipeline, row, shader, StepParams, REPARAM_WGSL};
use crate::error::Result;
use crate::gpu::Gpu;

pub const REPARAM_WG: u32 = 64;

/// reparam.wgsl's bindings, in binding order.
pub struct ReparamBindings<'a> {
    /// StepParams, bound with a dynamic offset.
    pub step: &'a wgpu::Buffer,
    pub mulv: &'a wgpu::Buffer,
    pub dz: &'a wgpu::Buffer,
    pub z: &'a wgpu::Buffer,
    pub eps: &'a wgpu::Buffer,
    pub dmulv: &'a wgpu::Buffer,
}

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

    /// One group serves both directions.
    pub fn bind_group(&self, gpu: &Gpu, b: &ReparamBindings) -> wgpu::BindGroup {
        let buffers = [b.mulv, b.dz, b.z, b.eps, b.dmulv];
        bind_step(gpu, "reparam.wgsl", &self.layout, b.step, &buffers)
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
