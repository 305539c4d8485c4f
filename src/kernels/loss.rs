//! `shaders/loss.wgsl`: BCE-with-logits + KL with the logits' gradient and per-workgroup
//! partial sums, then a one-workgroup reduction into the step's stats record.

use super::{bind_step, dispatch, layout, pipeline, row, shader, StepParams, LOSS_WGSL};
use crate::error::Result;
use crate::gpu::Gpu;

pub const LOSS_WG: u32 = 256;
/// Bytes of one stats record: (Σ BCE, KL, rows, non-finite flag) as vec4<f32>.
pub const STATS_RECORD: u64 = 16;

/// Workgroups of `loss_bce_kl` for a batch of `rows`.
pub fn loss_groups(rows: u32, in_features: u32, latent: u32) -> u32 {
    (rows * in_features.max(latent)).div_ceil(LOSS_WG)
}

pub struct LossKernels {
    pub layout: wgpu::BindGroupLayout,
    bce_kl: wgpu::ComputePipeline,
    reduce: wgpu::ComputePipeline,
}

impl LossKernels {
    pub fn new(gpu: &Gpu) -> Self {
        let module = shader(gpu, "loss.wgsl", LOSS_WGSL);
        let layout = layout(
            gpu,
            "loss.wgsl",
            true,
            &[true, true, true, false, false, false],
        );
        LossKernels {
            bce_kl: pipeline(gpu, &module, &layout, "loss.wgsl", "loss_bce_kl"),
            reduce: pipeline(gpu, &module, &layout, "loss.wgsl", "loss_reduce"),
            layout,
        }
    }

    /// Bindings: (step uniform, logits, x, mulv, dlogits, partials, stats).
    #[allow(clippy::too_many_arguments)]
    pub fn bind_group(
        &self,
        gpu: &Gpu,
        step: &wgpu::Buffer,
        logits: &wgpu::Buffer,
        x: &wgpu::Buffer,
        mulv: &wgpu::Buffer,
        dlogits: &wgpu::Buffer,
        partials: &wgpu::Buffer,
        stats: &wgpu::Buffer,
    ) -> wgpu::BindGroup {
        bind_step(
            gpu,
            "loss.wgsl",
            &self.layout,
            step,
            &[logits, x, mulv, dlogits, partials, stats],
        )
    }

    /// Both stages: partial sums and gradient, then the reduction into `stats[s.slot]`.
    pub fn loss_bce_kl(
        &self,
        gpu: &Gpu,
        pass: &mut wgpu::ComputePass,
        bg: &wgpu::BindGroup,
        offset: u32,
        s: &StepParams,
    ) -> Result<()> {
        dispatch(
            pass,
            &self.bce_kl,
            bg,
            &[offset],
            row(gpu, s.loss_groups as usize, 1)?,
        );
        dispatch(pass, &self.reduce, bg, &[offset], (1, 1));
        Ok(())
    }
}
