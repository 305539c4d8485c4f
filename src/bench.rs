//! Benchmarks shared by `vae-bench` (native) and `Trainer.profileStep` (wasm): the adapter's
//! multiply-add peak (probe.wgsl) and the time of each stage of a training step, each recorded
//! on its own and repeated until one measurement lasts long enough to time with a coarse clock.
//! Figures only: nothing here asserts a speed.

use crate::config::VaeConfig;
use crate::error::{Result, VaeError};
use crate::gpu::{Buffer, GemmForm, Gpu, StepForm};
use crate::kernels::probe::ProbeKernel;
use crate::mnist::Dataset;
use crate::model::{Stage, StepKind, StepSpec, VaeModel};

/// A measurement is repeated with more work until it lasts at least this long.
const MIN_MS: f64 = 80.0;
/// Timed measurements per figure (the median is kept).
const RUNS: usize = 3;

/// One stage of a training step.
#[derive(Debug, Clone, PartialEq)]
pub struct StageTime {
    pub name: String,
    /// Milliseconds per step.
    pub ms: f64,
    /// Useful FLOP per step (the matrix products; 0 for the other stages).
    pub flop: f64,
    /// The WGSL entry points it dispatches (see [`Stage::kernels`]).
    pub kernels: Vec<String>,
}

impl StageTime {
    pub fn gflops(&self) -> f64 {
        if self.ms > 0.0 {
            self.flop / self.ms / 1e6
        } else {
            0.0
        }
    }
}

/// A training step, stage by stage, against the adapter's peak.
#[derive(Debug, Clone, PartialEq)]
pub struct StepProfile {
    pub batch: u32,
    /// The multiply-add probe's GFLOP/s.
    pub peak_gflops: f64,
    /// A whole step, measured as consecutive steps in one submit.
    pub step_ms: f64,
    /// Useful FLOP of a whole step (every matrix product, forward and backward).
    pub step_flop: f64,
    pub stages: Vec<StageTime>,
}

/// Useful FLOP of one training step of `cfg` at `rows` rows, per stage.
pub fn stage_flop(cfg: &VaeConfig, stage: Stage, rows: u32) -> f64 {
    let (i, h, l) = (cfg.input as f64, cfg.hidden as f64, cfg.latent as f64);
    let dims = [(i, h), (h, 2.0 * l), (l, h), (h, i)];
    let b = f64::from(rows);
    let forward = |k: usize| dims.get(k).map_or(0.0, |(a, c)| 2.0 * b * a * c);
    // Weight gradient, and the input gradient for every layer but the first.
    let backward = |k: usize| forward(k) * if k == 0 { 1.0 } else { 2.0 };
    match stage {
        Stage::Forward(k) => forward(k),
        Stage::Latent => forward(1) + forward(2),
        Stage::Backward(k) => backward(k),
        // On the GPU the weight-gradient half of these runs inside Adam's dispatch.
        Stage::LatentBackward => backward(1) + backward(2),
        _ => 0.0,
    }
}

/// Useful FLOP of one training sample of `cfg` (every matrix product, forward and backward;
/// 3.28 M for 784-400-20).
pub fn flop_per_sample(cfg: &VaeConfig) -> f64 {
    Stage::FORWARD
        .into_iter()
        .chain(Stage::BACKWARD)
        .map(|s| stage_flop(cfg, s, 1))
        .sum()
}

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
