//! `shaders/probe.wgsl`: the multiply-add throughput probe (benchmarks only).

use bytemuck::{Pod, Zeroable};

use super::{bind, dispatch, layout, pipeline, row, shader, PROBE_WGSL};
use crate::error::Result;
use crate::gpu::{Buffer, Gpu};

/// Twin of WGSL `struct ProbeParams`.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Pod, Zeroable)]
pub struct ProbeParams {
    pub iters: u32,
    pub _pad0: u32,
    pub _pad1: u32,
    pub _pad2: u32,
}

pub const PROBE_WG: u32 = 64;
/// FLOP per invocation per round: 8 chains × vec4 × (multiply + add).
pub const FLOP_PER_ROUND: f64 = 64.0;

pub struct ProbeKernel {
    pipeline: wgpu::ComputePipeline,
    bind_group: wgpu::BindGroup,
    params: Buffer,
    _out: Buffer,
    invocations: u32,
}

impl ProbeKernel {
    /// A probe over `invocations` invocations (a multiple of 64 keeps every lane busy).
    pub fn new(gpu: &Gpu, invocations: u32) -> Self {
        let module = shader(gpu, "probe.wgsl", PROBE_WGSL);
        let layout = layout(gpu, "probe.wgsl", false, &[false]);
        let pipeline = pipeline(gpu, &module, &layout, "probe.wgsl", "probe_fma");
        let params = gpu.uniform("probe params", std::mem::size_of::<ProbeParams>() as u64);
        let out = gpu.storage("probe out", u64::from(invocations) * 16);
        let bind_group = bind(gpu, "probe", &layout, &params, None, &[&out]);
        ProbeKernel {
            pipeline,
            bind_group,
            params,
            _out: out,
            invocations,
        }
    }

    /// Records `reps` probes of `iters` rounds each; returns the command buffer and the FLOP
    /// of one probe.
    pub fn record(&self, gpu: &Gpu, iters: u32, reps: u32) -> Result<(wgpu::CommandBuffer, f64)> {
        let p = ProbeParams {
            iters,
            ..Zeroable::zeroed()
        };
        gpu.queue
            .write_buffer(&self.params, 0, bytemuck::bytes_of(&p));
        let groups = row(gpu, self.invocations as usize, PROBE_WG as usize)?;
        let cmd = gpu.record("probe", |pass| {
            for _ in 0..reps {
                dispatch(pass, &self.pipeline, &self.bind_group, &[], groups);
            }
            Ok(())
        })?;
        let flop = f64::from(groups.0 * PROBE_WG) * f64::from(iters) * FLOP_PER_ROUND;
        Ok((cmd, flop))
    }
}
