//! Benchmarks shared by `vae-bench` (native) and `Trainer.profileStep` (wasm): the adapter's
//! multiply-add peak (probe.wgsl) and the time of each stage of a training step, each recorded
//! on its own and repeated until one measurement lasts long enough to time with a coarse clock.
//! Figures only: nothing here asserts a speed.

use crate::config::VaeConfig;
use crate::error::{Result, VaeError};
use crate::gpu::{Buffer, GemmForm, Gpu, StepForm};
use crate::kernels::probe::ProbeKernel;
use crate::mnist::Dataset;
use crate::model::{StepSpec, VaeModel};
use crate::run::{stage_flop, Stage, StageTime, StepKind, StepProfile};

/// A measurement is repeated with more work until it lasts at least this long.
const MIN_MS: f64 = 80.0;
/// Timed measurements per figure (the median is kept).
const RUNS: usize = 3;

/// Median, smallest and largest of several measurements.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Spread {
    pub median: f64,
    pub min: f64,
    pub max: f64,
}

impl Spread {
    /// The spread of `values` (NaN for none).
    pub fn of(mut values: Vec<f64>) -> Spread {
        values.sort_by(f64::total_cmp);
        let at = |i: usize| values.get(i).copied().unwrap_or(f64::NAN);
        Spread {
            median: at(values.len() / 2),
            min: at(0),
            max: at(values.len().saturating_sub(1)),
        }
    }

    /// Each figure mapped through `f` (which must be monotonic increasing).
    pub fn map(self, f: impl Fn(f64) -> f64) -> Spread {
        Spread {
            median: f(self.median),
            min: f(self.min),
            max: f(self.max),
        }
    }
}

/// Waits until the GPU has finished everything submitted so far (a 4-byte readback of `fence`,
/// any small storage buffer).
pub async fn settle(gpu: &Gpu, fence: &Buffer) -> Result<()> {
    gpu.read(fence, 0, 4).await.map(|_| ())
}

/// Milliseconds per repetition of the work `record(reps)` records: repeated until a run lasts
/// [`MIN_MS`], then the median of [`RUNS`] runs.
pub async fn per_rep_ms(
    gpu: &Gpu,
    fence: &Buffer,
    now: &dyn Fn() -> f64,
    max_reps: u32,
    record: &mut dyn FnMut(u32) -> Result<wgpu::CommandBuffer>,
) -> Result<f64> {
    gpu.queue.submit([record(1)?]);
    settle(gpu, fence).await?;
    let mut reps = 1u32;
    loop {
        let cmd = record(reps)?;
        let t0 = now();
        gpu.queue.submit([cmd]);
        settle(gpu, fence).await?;
        let ms = now() - t0;
        if ms >= MIN_MS || reps >= max_reps {
            break;
        }
        let grow = (MIN_MS * 1.25 / ms.max(0.5)).ceil() as u32;
        reps = reps.saturating_mul(grow.clamp(2, 64)).min(max_reps);
    }
    let mut times = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        let cmd = record(reps)?;
        let t0 = now();
        gpu.queue.submit([cmd]);
        settle(gpu, fence).await?;
        times.push((now() - t0) / f64::from(reps));
    }
    times.sort_by(f64::total_cmp);
    Ok(times[RUNS / 2])
}

/// Rounds of the probe per dispatch.
const PROBE_ITERS: u32 = 256;

/// The adapter's multiply-add throughput in GFLOP/s (probe.wgsl over 16,384 invocations).
pub async fn fma_peak(gpu: &Gpu, now: &dyn Fn() -> f64) -> Result<f64> {
    let probe = ProbeKernel::new(gpu, 16_384);
    let fence = gpu.storage("bench fence", 16);
    let (_, flop) = probe.record(gpu, PROBE_ITERS, 0)?;
    let ms = per_rep_ms(gpu, &fence, now, 1 << 16, &mut |reps| {
        probe.record(gpu, PROBE_ITERS, reps).map(|(cmd, _)| cmd)
    })
    .await?;
    gpu.check()?;
    Ok(flop / ms / 1e6)
}

/// Times every stage of a training step of `cfg` (at its batch size, in `form`) on a model of
/// its own with generated data, then a whole step; `now` is a clock in milliseconds.
pub async fn profile_step(
    gpu: &Gpu,
    cfg: &VaeConfig,
    (form, step): (GemmForm, StepForm),
    now: &dyn Fn() -> f64,
) -> Result<StepProfile> {
    let rows = cfg.batch_size as u32;
    let mut model = VaeModel::with_forms(gpu, cfg, form, step)?;
    let n = cfg.batch_size.max(1) * 2;
    let side = (cfg.input as f64).sqrt() as u32;
    if (side * side) as usize != cfg.input {
        return Err(VaeError::config("input", "the profile needs square images"));
    }
    let make = |n: usize| Dataset {
        images: (0..n * cfg.input).map(|j| (j * 37 % 251) as u8).collect(),
        labels: (0..n).map(|j| (j % 10) as u8).collect(),
        rows: side,
        cols: side,
    };
    model.attach_data(gpu, &make(n), &make(16))?;
    let fence = gpu.storage("bench fence", 16);
    let spec = |t: u64| StepSpec {
        kind: StepKind::Train,
        rows,
        index_offset: 0,
        rng_step: t as u32,
        slot: 0,
        t,
    };
    // The form the linear kernels really run (the subgroup form falls back where it cannot).
    let ran = match form {
        GemmForm::DirectSubgroup if !gpu.subgroups => GemmForm::Direct,
        form => form,
    };
    let mut stages = Vec::new();
    for stage in Stage::FORWARD.into_iter().chain(Stage::BACKWARD) {
        let ms = per_rep_ms(gpu, &fence, now, 4096, &mut |reps| {
            model.encode_stage_reps(gpu, &spec(1), stage, reps)
        })
        .await?;
        stages.push(StageTime {
            name: stage.name(),
            ms,
            flop: stage_flop(cfg, stage, rows),
            kernels: stage.kernels(ran, step),
        });
    }
    let step_ms = per_rep_ms(
        gpu,
        &fence,
        now,
        crate::kernels::MAX_STEPS_PER_SUBMIT as u32,
        &mut |reps| {
            let specs: Vec<StepSpec> = (1..=u64::from(reps)).map(spec).collect();
            model.encode_steps(gpu, &specs)
        },
    )
    .await?;
    gpu.check()?;
    let step_flop = stages.iter().map(|s| s.flop).sum();
    let peak_gflops = fma_peak(gpu, now).await?;
    Ok(StepProfile {
        batch: rows,
        peak_gflops,
        step_ms,
        step_flop,
        stages,
    })
}
