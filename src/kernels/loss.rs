//! `shaders/loss.wgsl`: BCE-with-logits + KL with the logits' gradient and partial sums (a few
//! per batch row), then a one-workgroup reduction into the step's stats record.

use super::{bind_step, dispatch, layout, pipeline, row, shader, StepParams, LOSS_WGSL};
use crate::error::Result;
use crate::gpu::Gpu;

/// loss_reduce's workgroup (loss_sum.wgsl's SUM_WG; latent_backward's too).
pub const LOSS_WG: u32 = 64;
/// loss_bce_kl's workgroup.
pub const BCE_WG: u32 = 64;
/// Invocations (partial sums) of loss_bce_kl per batch row.
pub const LOSS_CHUNKS: u32 = 4;
/// Bytes of one stats record: (Σ BCE and KL as f32 bits, rows, flags) as vec4<u32>.
pub const STATS_RECORD: u64 = 16;
/// Flags word, bit 0: the step's loss is non-finite (loss.wgsl).
pub const FLAG_LOSS_NON_FINITE: u32 = 1;
/// Flags word, bit 1: a parameter became non-finite in the step's Adam update (adam.wgsl).
pub const FLAG_PARAMS_NON_FINITE: u32 = 2;

/// One stats record as the host reads it back.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StatsRecord {
    pub recon: f32,
    pub kl: f32,
    pub rows: u32,
    pub flags: u32,
}

impl StatsRecord {
    /// Parses records from the stats buffer's bytes (whole records only).
    pub fn parse(bytes: &[u8]) -> Vec<StatsRecord> {
        let words: Vec<u32> = bytemuck::pod_collect_to_vec(bytes);
        words
            .chunks_exact(4)
            .map(|w| StatsRecord {
                recon: f32::from_bits(w[0]),
                kl: f32::from_bits(w[1]),
                rows: w[2],
                flags: w[3],
            })
            .collect()
    }
}

/// Partial sums `loss_bce_kl` writes for a batch of `rows` (one per invocation), which
/// `sum_partials` (loss_sum.wgsl) adds up.
pub fn loss_partials(rows: u32) -> u32 {
    rows * LOSS_CHUNKS
}

/// loss.wgsl's bindings, in binding order.
pub struct LossBindings<'a> {
    /// StepParams, bound with a dynamic offset.
    pub step: &'a wgpu::Buffer,
    pub logits: &'a wgpu::Buffer,
    pub x: &'a wgpu::Buffer,
    pub mulv: &'a wgpu::Buffer,
    pub dlogits: &'a wgpu::Buffer,
    /// Stats records, then (at StepParams::partials_at) the partial sums of BCE and KL.
    pub stats: &'a wgpu::Buffer,
}

pub struct LossKernels {
    pub layout: wgpu::BindGroupLayout,
    bce_kl: wgpu::ComputePipeline,
    reduce: wgpu::ComputePipeline,
}

impl LossKernels {
    pub fn new(gpu: &Gpu) -> Self {
        let module = shader(gpu, "loss.wgsl", LOSS_WGSL);
        let layout = layout(gpu, "loss.wgsl", true, &[true, true, true, false, false]);
        LossKernels {
            bce_kl: pipeline(gpu, &module, &layout, "loss.wgsl", "loss_bce_kl"),
            reduce: pipeline(gpu, &module, &layout, "loss.wgsl", "loss_reduce"),
            layout,
        }
    }

    pub fn bind_group(&self, gpu: &Gpu, b: &LossBindings) -> wgpu::BindGroup {
        let buffers = [b.logits, b.x, b.mulv, b.dlogits, b.stats];
        bind_step(gpu, "loss.wgsl", &self.layout, b.step, &buffers)
    }

    /// Partial sums and the logits' gradient (a training step then sums them in
    /// latent_backward; an evaluation step in [`Self::loss_reduce`]).
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
            row(gpu, s.loss_partials as usize, BCE_WG as usize)?,
        );
        Ok(())
    }

    /// The partial sums added into `stats[s.slot]`.
    pub fn loss_reduce(&self, pass: &mut wgpu::ComputePass, bg: &wgpu::BindGroup, offset: u32) {
        dispatch(pass, &self.reduce, bg, &[offset], (1, 1));
    }
}
