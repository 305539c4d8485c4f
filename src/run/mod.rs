//! The run both engines share: where a run stands ([`Position`]) and what may stand there, step
//! and evaluation numbering (ε's counter words), the records a step leaves ([`StepRecord`],
//! [`EvalResult`]), the snapshot cadence, the checks on rows a display pass takes, and the
//! stages of a step with their work ([`stage`]). A leaf: no GPU and no CPU engine in it; the
//! WGSL engine (`train`, `model`) and the CPU engine (`cpu`) both build on it and neither
//! imports the other.

pub mod stage;

use crate::config::VaeConfig;
use crate::error::{Result, VaeError};
use crate::layout::ParamLayout;

pub use stage::{flop_per_sample, stage_flop, Stage, StageTime, StepProfile};

/// What both engines answer about their run and the changes to it that need no waiting on a
/// device: one contract the WGSL trainer and the CPU trainer implement, so the engine layer
/// calls them alike (`Engine::run`) and a method missing or typed differently on one engine
/// does not compile.
pub trait RunState {
    /// The model's and the run's settings.
    fn cfg(&self) -> &VaeConfig;
    /// The flat parameter layout (the same on both engines).
    fn layout(&self) -> &ParamLayout;
    /// Rows one pass takes at most (display requests are chunked to it).
    fn capacity(&self) -> u32;
    /// Where the run stands.
    fn position(&self) -> Position;
    /// Training steps in an epoch of the data loaded.
    fn steps_per_epoch(&self) -> u32;
    /// True when the last step ended an epoch.
    fn epoch_finished(&self) -> bool;
    /// True once data is loaded.
    fn has_data(&self) -> bool;
    /// Training images loaded.
    fn train_len(&self) -> u32;
    /// Test images loaded.
    fn test_len(&self) -> u32;
    /// The step whose parameters are the last known good ones.
    fn last_good_step(&self) -> u64;
    /// Labels of the first `n` test images.
    fn test_labels(&self, n: usize) -> Result<Vec<u8>>;
    /// Batches of the test set one evaluation takes.
    fn eval_batches(&self) -> Result<u32>;
    /// Takes the ε words of one evaluation (to run in parts); the word before them.
    fn reserve_eval(&mut self) -> Result<u32>;
    /// Replaces the parameters; Adam restarts, the step count goes on.
    fn load_params(&mut self, flat: &[f32]) -> Result<()>;
    /// Adam's step count t.
    fn adam_t(&self) -> u64;
    /// Puts Adam's moments and step count back (after `load_params`).
    fn load_adam(&mut self, m: &[f32], v: &[f32], t: u64) -> Result<()>;
    /// Checks that the run could stand at `pos` with the data loaded.
    fn check_position(&self, pos: Position) -> Result<()>;
    /// Continues an earlier run's numbering from `pos`.
    fn resume_at(&mut self, pos: Position) -> Result<()>;
    /// Changes the objective (β, the reparameterization trick) from the next step on; Adam's
    /// state is kept. `cfg` is checked and is the one in place with only those fields changed
    /// (the engine layer makes it with `VaeConfig::with_kl_weight` / `with_reparameterize`).
    fn set_objective(&mut self, cfg: VaeConfig);
    /// Changes the learning rate from the next step on (Adam's state is kept).
    fn set_lr(&mut self, lr: f32) -> Result<()>;
}

/// What a step does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepKind {
    /// Forward, loss, backward, Adam.
    Train,
    /// Forward and loss only (test set).
    Eval,
}

/// Fewest training steps between two snapshots of the state (each copies parameters, m and v):
/// a page that reads back every call would otherwise copy them every step, and a snapshot taken
/// a step or two into a divergence holds finite but ruined parameters.
pub const SNAPSHOT_EVERY: u64 = 32;

/// The last training step a run can reach: steps number ε's Philox counter word below
/// [`EVAL_RNG_BASE`] (and the page reads the count as a u32).
pub const MAX_STEP: u64 = EVAL_RNG_BASE as u64 - 1;
/// RNG counter words of evaluation and display steps start here, apart from training steps'.
pub const EVAL_RNG_BASE: u32 = 0x8000_0000;

/// The Philox counter word `k` evaluation or display batches after `r` (each batch takes the
/// next: `r + 1`, kept at or above [`EVAL_RNG_BASE`]). Both engines number their test batches so.
pub fn eval_rng_after(r: u32, k: u32) -> u32 {
    (0..k).fold(r, |r, _| r.wrapping_add(1) | EVAL_RNG_BASE)
}

/// One step's losses, as an engine reports them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepRecord {
    pub kind: StepKind,
    /// 1-based epoch.
    pub epoch: u64,
    /// 1-based step within the epoch (training) or batch within the test set (evaluation).
    pub step: u32,
    /// Adam's step count after this step (training).
    pub global_step: u64,
    pub rows: u32,
    /// Σ BCE over the batch.
    pub recon: f32,
    /// KL summed over the batch.
    pub kl: f32,
}

/// Test-set loss; ε is drawn as in training (as the PyTorch reference's `test()` does).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EvalResult {
    pub recon: f64,
    pub kl: f64,
    pub count: u64,
}

impl EvalResult {
    /// Mean loss per sample, as the reference prints it.
    pub fn per_sample(&self) -> f64 {
        (self.recon + self.kl) / self.count.max(1) as f64
    }
}

/// Where a run stands: the step count and the place in the epoch (what a checkpoint records).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Position {
    /// Training steps submitted so far (numbers the steps and their ε).
    pub global_step: u64,
    /// The epoch in progress or last finished (1-based; 0 before the first step).
    pub epoch: u64,
    /// Steps done in that epoch.
    pub step_in_epoch: u32,
}

impl Position {
    /// True when the last step ended an epoch of `steps_per_epoch` steps.
    pub fn epoch_finished(self, steps_per_epoch: u32) -> bool {
        self.epoch > 0 && self.step_in_epoch == steps_per_epoch
    }

    /// Checks that a run can stand here with `steps_per_epoch` steps per epoch (a checkpoint's
    /// position against the loaded data; none: no data loaded).
    pub fn check(self, steps_per_epoch: Option<u32>) -> Result<()> {
        let Some(steps_per_epoch) = steps_per_epoch else {
            return Err(VaeError::NoData("load one before resuming".into()));
        };
        let Position {
            global_step,
            epoch,
            step_in_epoch,
        } = self;
        let bad = |why: String| Err(VaeError::Checkpoint(why));
        if step_in_epoch > steps_per_epoch || (epoch == 0 && step_in_epoch > 0) {
            return bad(format!(
                "step {step_in_epoch} of epoch {epoch} does not exist with {steps_per_epoch} \
                 steps per epoch"
            ));
        }
        if global_step > MAX_STEP {
            return bad(format!(
                "step {global_step} is past the last step a run can reach ({MAX_STEP})"
            ));
        }
        if global_step < u64::from(step_in_epoch) || (epoch > 0 && global_step == 0) {
            return bad(format!(
                "step {global_step} in all cannot be step {step_in_epoch} of epoch {epoch}"
            ));
        }
        // Every epoch before this one took at least one step (its data may have been other
        // than these, so not necessarily `steps_per_epoch`), and this one `step_in_epoch`.
        let before = epoch.saturating_sub(1);
        if before.saturating_add(u64::from(step_in_epoch)) > global_step {
            return bad(format!(
                "epoch {epoch} cannot have begun after {global_step} steps in all (step \
                 {step_in_epoch} of it done)"
            ));
        }
        Ok(())
    }
}

/// Checks that every one of `ids` names one of `len` images (of the test set, or of the
/// training set with `test` false).
pub fn check_ids(ids: &[u32], len: u32, test: bool) -> Result<()> {
    let what = if test { "test" } else { "training" };
    match ids.iter().find(|&&i| i >= len) {
        Some(bad) => Err(VaeError::Input {
            what: "image ids",
            message: format!("{what} image {bad} does not exist ({len} {what} images)"),
        }),
        None => Ok(()),
    }
}

/// Rows of [μ | log σ²] (each `2 × latent` values) split into μ and log σ² (rows × latent each).
pub fn split_mulv(mulv: &[f32], latent: usize) -> (Vec<f32>, Vec<f32>) {
    let rows = mulv.len() / (2 * latent).max(1);
    let mut mu = Vec::with_capacity(rows * latent);
    let mut log_var = Vec::with_capacity(rows * latent);
    for row in mulv.chunks_exact(2 * latent) {
        mu.extend_from_slice(&row[..latent]);
        log_var.extend_from_slice(&row[latent..]);
    }
    (mu, log_var)
}

/// Checks parameters a model is given (a checkpoint's): `len` values, every one finite.
pub fn check_params(flat: &[f32], len: usize) -> Result<()> {
    if flat.len() != len {
        return Err(VaeError::Checkpoint(format!(
            "{} parameters given, the model has {len}",
            flat.len()
        )));
    }
    if let Some(i) = flat.iter().position(|v| !v.is_finite()) {
        return Err(VaeError::Checkpoint(format!("parameter {i} is not finite")));
    }
    Ok(())
}

/// Checks that `values` are `rows` (1 ..= `capacity`) rows of `cols` finite numbers: what either
/// engine takes for one encode or decode pass.
pub fn check_rows(
    values: &[f32],
    rows: usize,
    cols: usize,
    capacity: usize,
    what: &'static str,
) -> Result<()> {
    if values.len() != rows * cols || rows == 0 || rows > capacity {
        return Err(VaeError::Input {
            what,
            message: format!(
                "expected rows × {cols} values for 1..={capacity} rows, got {} values",
                values.len()
            ),
        });
    }
    if let Some(i) = values.iter().position(|v| !v.is_finite()) {
        return Err(VaeError::Input {
            what,
            message: format!("value {i} is not a finite number"),
        });
    }
    Ok(())
}
