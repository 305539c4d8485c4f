//! `shaders/adam.wgsl`: one Adam dispatch over the whole flat parameter buffer (computing the
//! small layers' gradients on the way).

use super::{bind_step, dispatch, layout, pipeline, shader, StepParams, ADAM_WGSL};
use crate::error::Result;
use crate::gpu::Gpu;

pub const ADAM_WG: u32 = 256;

/// adam.wgsl's bindings, in binding order.
pub struct AdamBindings<'a> {
    /// StepParams, bound with a dynamic offset.
    pub step: &'a wgpu::Buffer,
    /// Gradients: read, and written for fc2|fc3 and fc4 (computed here).
    pub grads: &'a wgpu::Buffer,
    pub params: &'a wgpu::Buffer,
    /// Adam's m then v, each as long as the parameters.
    pub mv: &'a wgpu::Buffer,
    /// Stats records: non-finite parameters set bit 1 of the step's flags word.
    pub stats: &'a wgpu::Buffer,
    /// The activations the small layers' gradients are made of: h1, the masked dh4, z and
    /// d[μ | log σ²].
    pub h1: &'a wgpu::Buffer,
    pub dh4: &'a wgpu::Buffer,
    pub z: &'a wgpu::Buffer,
    pub dmulv: &'a wgpu::Buffer,
}

pub struct AdamKernels {
    pub layout: wgpu::BindGroupLayout,
    step: wgpu::ComputePipeline,
}

impl AdamKernels {
    pub fn new(gpu: &Gpu) -> Self {
        let module = shader(gpu, "adam.wgsl", ADAM_WGSL);
        let layout = layout(
            gpu,
            "adam.wgsl",
            true,
            &[false, false, false, false, true, true, true, true],
        );
        AdamKernels {
            step: pipeline(gpu, &module, &layout, "adam.wgsl", "adam_step"),
            layout,
        }
    }

    pub fn bind_group(&self, gpu: &Gpu, b: &AdamBindings) -> wgpu::BindGroup {
        let buffers = [b.grads, b.params, b.mv, b.stats, b.h1, b.dh4, b.z, b.dmulv];
        bind_step(gpu, "adam.wgsl:adam_step", &self.layout, b.step, &buffers)
    }

    /// Workgroups as (x, y): rows of at most `max_compute_workgroups_per_dimension` groups.
    pub fn grid(gpu: &Gpu, vec4s: u32) -> Result<(u32, u32)> {
        let total = vec4s.div_ceil(ADAM_WG);
        let max = gpu
            .device
            .limits()
            .max_compute_workgroups_per_dimension
            .max(1);
        let x = total.min(max);
        let y = super::groups(
            gpu,
            total.div_ceil(x.max(1)) as usize,
            1,
            "max_compute_workgroups_per_dimension",
        )?;
        Ok((x.max(1), y.max(1)))
    }

    pub fn adam_step(
        &self,
        gpu: &Gpu,
        pass: &mut wgpu::ComputePass,
        bg: &wgpu::BindGroup,
        offset: u32,
        s: &StepParams,
    ) -> Result<()> {
        dispatch(
            pass,
            &self.step,
            bg,
            &[offset],
            Self::grid(gpu, s.param_vec4s)?,
        );
        Ok(())
    }
}
