//! The CPU engine's profile: milliseconds per step of each stage (the same [`Stage`]s as the
//! WGSL engine's profile, run by the same code as a training step) and of a whole step, against
//! the multiply-add peak of this CPU ([`super::peak`]).

use crate::config::VaeConfig;
use crate::error::Result;
use crate::mnist::Dataset;
use crate::run::{stage_flop, Stage, StageTime, StepProfile};

use super::timing::ms_per_call;
use super::{peak, step, CpuTrainer};

/// Rounds of the profile; each figure is its fastest round (a shared machine only ever slows a
/// round down: single rounds' stage times moved by half between runs on a 2-core machine).
const ROUNDS: usize = 3;

/// Times each stage of a training step of `cfg`'s model at its batch size, and a whole step,
/// on a model of its own (random images), each the fastest of [`ROUNDS`] rounds; `now` gives
/// milliseconds.
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
    let order: Vec<Stage> = Stage::FORWARD.into_iter().chain(Stage::BACKWARD).collect();
    // Each figure is its fastest of ROUNDS rounds, the stages interleaved within a round.
    let mut best = vec![f64::INFINITY; order.len()];
    let mut step_ms = f64::INFINITY;
    for _ in 0..ROUNDS {
        for (stage, best) in order.iter().zip(best.iter_mut()) {
            let ms = ms_per_call(now, &mut || match stage {
                Stage::Gather => {
                    if let Some((train, _)) = &t.data {
                        step::gather(&mut t.act.x, &train.images, &ids, cfg.input);
                    }
                }
                Stage::Adam => {
                    t.adam();
                }
                other => {
                    t.stage(*other, rows, 1);
                }
            });
            *best = best.min(ms);
        }
        t.reset()?;
        step_ms = step_ms.min(ms_per_call(now, &mut || {
            let _ = t.train(1);
        }));
    }
    let stages: Vec<StageTime> = order
        .iter()
        .zip(best)
        .map(|(&stage, ms)| StageTime {
            name: stage.name(),
            ms,
            flop: stage_flop(cfg, stage, rows as u32),
            kernels: stage.cpu_kernels(),
        })
        .collect();
    Ok(StepProfile {
        batch: rows as u32,
        peak_gflops: peak::fma_peak(now),
        step_ms,
        step_flop: stages.iter().map(|s| s.flop).sum(),
        stages,
    })
}

impl Stage {
    /// The functions of the CPU engine (`src/cpu/step.rs`) that run this stage.
    pub fn cpu_kernels(self) -> Vec<String> {
        let f = |name: &str| format!("cpu/step.rs: {name}");
        match self {
            Stage::Gather => vec![f("gather")],
            Stage::Forward(_) => vec![f("linear_forward (gemm)")],
            Stage::Latent => vec![
                f("linear_forward (fc2|fc3)"),
                f("z = μ + σ·ε"),
                f("linear_forward (fc4)"),
            ],
            Stage::Loss => vec![f("forward: BCE + KL")],
            Stage::Backward(i) => {
                let mut k = vec![f("linear_backward_params (gemm)")];
                if i > 0 {
                    k.push(f("linear_backward_input (gemm)"));
                }
                k
            }
            Stage::LatentBackward => vec![
                f("linear_backward_params, linear_backward_input (fc4)"),
                f("backward: through z"),
                f("linear_backward_params, linear_backward_input (fc2|fc3)"),
            ],
            Stage::Adam => vec![f("adam")],
        }
    }
}
