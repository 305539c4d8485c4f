//! The CPU engine's profile: milliseconds per step of each stage (the same [`Stage`]s as the
//! WGSL engine's profile, run by the same code as a training step) and of a whole step, against
//! the multiply-add peak of this CPU ([`super::peak`]).

use crate::bench::{stage_flop, StageTime, StepProfile};
use crate::config::VaeConfig;
use crate::error::Result;
use crate::mnist::Dataset;
use crate::model::Stage;

use super::{peak, step, CpuTrainer};

/// Shortest timed span per figure (the browser's clock ticks in milliseconds).
const MIN_SPAN_MS: f64 = 25.0;

/// Milliseconds per call of `f`, from doubling repetitions until they span [`MIN_SPAN_MS`].
pub(super) fn per_rep_ms(now: &dyn Fn() -> f64, f: &mut dyn FnMut()) -> f64 {
    let mut reps = 1u32;
    loop {
        let start = now();
        for _ in 0..reps {
            f();
        }
        let ms = now() - start;
        if ms >= MIN_SPAN_MS || reps >= 1 << 16 {
            return ms / f64::from(reps);
        }
        reps *= 2;
    }
}

/// Times each stage of a training step of `cfg`'s model at its batch size, and a whole step,
/// on a model of its own (random images); `now` gives milliseconds.
pub fn profile_step(cfg: &VaeConfig, now: &dyn Fn() -> f64) -> Result<StepProfile> {
    let rows = cfg.batch_size;
    let make = |n: usize| Dataset {
        images: (0..n * cfg.input).map(|j| (j * 37 % 251) as u8).collect(),
        labels: (0..n).map(|j| (j % 10) as u8).collect(),
        rows: 1,
        cols: cfg.input as u32,
    };
    let mut t = CpuTrainer::new(cfg, &make(rows * 2), &make(16))?;
    t.train(1)?;
    let ids: Vec<u32> = (0..rows as u32).collect();
    let mut stages = Vec::new();
    for stage in Stage::FORWARD.into_iter().chain(Stage::BACKWARD) {
        let ms = per_rep_ms(now, &mut || match stage {
            Stage::Gather => {
                if let Some((train, _)) = &t.data {
                    step::gather(&mut t.act.x, &train.images, &ids, cfg.input);
                }
            }
            Stage::Adam => {
                t.adam();
            }
            other => {
                t.stage(other, rows, 1);
            }
        });
        stages.push(StageTime {
            name: stage.name(),
            ms,
            flop: stage_flop(cfg, stage, rows as u32),
            kernels: stage.cpu_kernels(),
        });
    }
    t.reset()?;
    let step_ms = per_rep_ms(now, &mut || {
        let _ = t.train(1);
    });
    Ok(StepProfile {
        batch: rows as u32,
        peak_gflops: peak::fma_peak(now),
        step_ms,
        step_flop: stages.iter().map(|s| s.flop).sum(),
        stages,
    })
}
