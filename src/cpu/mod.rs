//! The CPU engine: the training run the WGSL engine (`src/train/`) runs — epochs of
//! seeded shuffles, steps numbered alike (ε's Philox counter words), test-set evaluation,
//! roll-back to the last good state on a non-finite loss or parameter, display passes — with
//! the arithmetic on the host ([`step`]). Same init, same flat layout (checkpoints move between
//! the engines unchanged), same API, so a seed gives the same run on either engine within `f32`
//! rounding (`tests/cpu_engine.rs`). [`crate::engine::Engine`] puts the two behind one face.
//!
//! Everything here is synchronous: a call returns when its steps are done. In a browser it runs
//! on the calling thread, so callers keep calls short (the page's scheduler sizes them to
//! ~80 ms).

mod display;
pub mod gemm;
mod math;
pub mod peak;
pub mod pool;
mod profile;
mod step;
mod timing;

pub use profile::profile_step;

use crate::config::VaeConfig;
use crate::error::{Result, VaeError};
use crate::layout::{capacity, ParamLayout};
use crate::mnist::Dataset;
use crate::rng::shuffle;
use crate::run::{
    check_params, eval_rng_after, EvalResult, Position, RunState, StepKind, StepRecord,
    EVAL_RNG_BASE, MAX_STEP, SNAPSHOT_EVERY,
};

use step::Scratch;

/// Parameters, Adam's moments and step count: what a snapshot keeps.
#[derive(Clone)]
struct State {
    params: Vec<f32>,
    m: Vec<f32>,
    v: Vec<f32>,
    adam_t: u64,
}

impl State {
    fn fresh(params: Vec<f32>) -> Self {
        let zeros = vec![0.0f32; params.len()];
        State {
            m: zeros.clone(),
            v: zeros,
            params,
            adam_t: 0,
        }
    }
}

/// A VAE (or plain autoencoder) trained on the CPU.
pub struct CpuTrainer {
    cfg: VaeConfig,
    layout: ParamLayout,
    state: State,
    grads: Vec<f32>,
    /// The last state whose every step was clean, and where the run stood then.
    good: State,
    good_pos: Position,
    /// `global_step` when `good` was last taken.
    snapshot_step: u64,
    /// Training and test sets (none before one is attached).
    data: Option<(Dataset, Dataset)>,
    /// The current epoch's shuffled order.
    order: Vec<u32>,
    /// Philox counter word of the last evaluation or display batch (from EVAL_RNG_BASE).
    eval_rng: u32,
    pos: Position,
    steps_per_epoch: u32,
    act: Scratch,
}

impl CpuTrainer {
    /// A fresh model (`torch.nn.Linear`'s init from `cfg.seed`, as the GPU engine's) on `train`
    /// and `test`.
    pub fn new(cfg: &VaeConfig, train: &Dataset, test: &Dataset) -> Result<Self> {
        let mut t = Self::without_data(cfg)?;
        t.attach_data(train.clone(), test.clone())?;
        Ok(t)
    }

    /// A fresh model from `cfg.seed`, with no data yet.
    pub fn without_data(cfg: &VaeConfig) -> Result<Self> {
        cfg.validate(None)?;
        let layout = ParamLayout::from_config(cfg);
        let state = State::fresh(layout.init(cfg.seed));
        Ok(CpuTrainer {
            act: Scratch::new(capacity(cfg), cfg.input, cfg.hidden, cfg.latent),
            cfg: cfg.clone(),
            grads: vec![0.0; layout.len],
            layout,
            good: state.clone(),
            state,
            good_pos: Position::default(),
            snapshot_step: 0,
            data: None,
            order: Vec::new(),
            eval_rng: EVAL_RNG_BASE,
            pos: Position::default(),
            steps_per_epoch: 0,
        })
    }

    /// Takes `train` and `test` (replacing any earlier data) and restarts the epoch count; the
    /// parameters are kept. On error the earlier data stay in place.
    pub fn attach_data(&mut self, train: Dataset, test: Dataset) -> Result<()> {
        for d in [&train, &test] {
            if d.pixels() != self.cfg.input {
                return Err(VaeError::config(
                    "input",
                    format!(
                        "the data has {} pixels per image, the model {}",
                        d.pixels(),
                        self.cfg.input
                    ),
                ));
            }
        }
        self.cfg.validate(Some(train.len()))?;
        if test.is_empty() {
            return Err(VaeError::config("test", "the test set is empty"));
        }
        self.steps_per_epoch = train.len().div_ceil(self.cfg.batch_size) as u32;
        self.data = Some((train, test));
        self.pos.epoch = 0;
        self.pos.step_in_epoch = 0;
        self.good_pos.epoch = 0;
        self.good_pos.step_in_epoch = 0;
        Ok(())
    }

    /// The flat parameters (the layout's order and padding, as the GPU engine's buffer).
    pub fn params(&self) -> &[f32] {
        &self.state.params
    }

    /// The gradients of the newest training step (flat, layout order; padding 0).
    pub fn grads(&self) -> &[f32] {
        &self.grads
    }

    /// Adam's first and second moments (flat, layout order).
    pub fn adam_state(&self) -> (&[f32], &[f32]) {
        (&self.state.m, &self.state.v)
    }

    /// Runs up to `max_steps` (at least 1) training steps, stopping at the end of an epoch; starts
    /// the next epoch (a fresh seeded shuffle) if the current one is finished. Returns each
    /// step's losses. A non-finite loss or parameter puts the last good state back and returns
    /// [`VaeError::NonFinite`].
    pub fn train(&mut self, max_steps: u32) -> Result<Vec<StepRecord>> {
        self.train_until(max_steps, &mut || false)
    }

    /// [`CpuTrainer::train`], ending the call early once `stop()` says so: it is asked after
    /// each step but the last (so at least one step runs), e.g. when another call is waiting.
    pub fn train_until(
        &mut self,
        max_steps: u32,
        stop: &mut dyn FnMut() -> bool,
    ) -> Result<Vec<StepRecord>> {
        let Some((train, _)) = &self.data else {
            return Err(VaeError::NoData("load one before training".into()));
        };
        let n = train.len();
        if self.pos.epoch == 0 || self.epoch_finished() {
            self.pos.epoch += 1;
            self.pos.step_in_epoch = 0;
            self.order = shuffle(self.cfg.seed, self.pos.epoch - 1, n);
        }
        let steps = max_steps
            .max(1)
            .min(self.steps_per_epoch - self.pos.step_in_epoch);
        if self.pos.global_step + u64::from(steps) > MAX_STEP {
            return Err(VaeError::config(
                "steps",
                format!("a run ends at step {MAX_STEP}; start a new one"),
            ));
        }
        let mut records = Vec::with_capacity(steps as usize);
        for i in 0..steps {
            records.push(self.step()?);
            if i + 1 < steps && stop() {
                break;
            }
        }
        Ok(records)
    }

    /// One step on the epoch's next batch.
    fn step(&mut self) -> Result<StepRecord> {
        let (batch, inp) = (self.cfg.batch_size, self.cfg.input);
        let start = self.pos.step_in_epoch as usize * batch;
        let rows = batch.min(self.order.len() - start);
        self.pos.step_in_epoch += 1;
        self.pos.global_step += 1;
        self.state.adam_t += 1;
        if let Some((train, _)) = &self.data {
            let ids = &self.order[start..start + rows];
            step::gather(&mut self.act.x, &train.images, ids, inp);
        }
        let (recon, kl) = self.forward(rows, self.pos.global_step as u32);
        let (recon, kl) = (recon as f32, kl as f32);
        let loss_finite = recon.is_finite() && kl.is_finite();
        if loss_finite {
            self.backward(rows);
        }
        let params_finite = loss_finite && self.adam();
        if !params_finite {
            let what = if loss_finite { "parameters" } else { "loss" };
            return Err(self.roll_back(what, recon, kl));
        }
        if self.pos.global_step >= self.snapshot_step + SNAPSHOT_EVERY {
            self.mark_good();
        }
        Ok(StepRecord {
            kind: StepKind::Train,
            epoch: self.pos.epoch,
            step: self.pos.step_in_epoch,
            global_step: self.pos.global_step,
            rows: rows as u32,
            recon,
            kl,
        })
    }

    /// The state in place becomes the last good one.
    fn mark_good(&mut self) {
        self.good.params.clone_from(&self.state.params);
        self.good.m.clone_from(&self.state.m);
        self.good.v.clone_from(&self.state.v);
        self.good.adam_t = self.state.adam_t;
        self.good_pos = self.pos;
        self.snapshot_step = self.pos.global_step;
    }

    /// Puts the last good state back; returns the error to report.
    fn roll_back(&mut self, what: &'static str, recon: f32, kl: f32) -> VaeError {
        let step = self.pos.global_step;
        self.state.params.clone_from(&self.good.params);
        self.state.m.clone_from(&self.good.m);
        self.state.v.clone_from(&self.good.v);
        self.state.adam_t = self.good.adam_t;
        self.set_position(self.good_pos);
        VaeError::NonFinite {
            what,
            step,
            recon,
            kl,
            restored_step: self.good_pos.global_step,
        }
    }

    /// Moves the step count to `pos`, with that epoch's shuffle.
    fn set_position(&mut self, pos: Position) {
        if pos.epoch > 0 {
            self.order = shuffle(self.cfg.seed, pos.epoch - 1, self.train_len() as usize);
        }
        self.pos = pos;
        self.snapshot_step = pos.global_step;
    }

    /// Test-set loss: every test image once, in order, in batches, ε drawn as in training (the
    /// WGSL engine's counter words).
    pub fn evaluate(&mut self) -> Result<EvalResult> {
        let batches = self.eval_batches()?;
        let base = self.reserve_eval()?;
        self.evaluate_part(0, batches, base)
    }

    /// Test batches `first .. first + count` of an evaluation whose ε words follow `base`.
    pub fn evaluate_part(&mut self, first: u32, count: u32, base: u32) -> Result<EvalResult> {
        let batches = self.eval_batches()?;
        let (n, batch) = (self.test_len(), self.cfg.batch_size as u32);
        let mut result = EvalResult {
            recon: 0.0,
            kl: 0.0,
            count: 0,
        };
        let mut rng = eval_rng_after(base, first);
        for b in first..batches.min(first.saturating_add(count)) {
            let ids: Vec<u32> = (b * batch..((b + 1) * batch).min(n)).collect();
            rng = eval_rng_after(rng, 1);
            let (r, k) = self.forward_images_with(&ids, true, rng)?;
            result.recon += r;
            result.kl += k;
            result.count += ids.len() as u64;
        }
        Ok(result)
    }

    fn next_eval_rng(&mut self) -> u32 {
        self.eval_rng = eval_rng_after(self.eval_rng, 1);
        self.eval_rng
    }

    /// Parameters back to the seed's initialisation, Adam and the epoch count to zero.
    pub fn reset(&mut self) -> Result<()> {
        let flat = self.layout.init(self.cfg.seed);
        self.load_params(&flat)?;
        self.pos = Position::default();
        self.good_pos = self.pos;
        self.snapshot_step = 0;
        Ok(())
    }
}

impl RunState for CpuTrainer {
    fn cfg(&self) -> &VaeConfig {
        &self.cfg
    }

    fn layout(&self) -> &ParamLayout {
        &self.layout
    }

    /// Rows one display or inference pass takes at most: the GPU engine's capacity, so both
    /// chunk a request alike (and draw ε alike for each chunk).
    fn capacity(&self) -> u32 {
        capacity(&self.cfg) as u32
    }

    fn position(&self) -> Position {
        self.pos
    }

    fn steps_per_epoch(&self) -> u32 {
        self.steps_per_epoch
    }

    /// True when the current epoch's last step is done.
    fn epoch_finished(&self) -> bool {
        self.pos.epoch_finished(self.steps_per_epoch)
    }

    fn has_data(&self) -> bool {
        self.data.is_some()
    }

    fn train_len(&self) -> u32 {
        self.data.as_ref().map_or(0, |d| d.0.len() as u32)
    }

    fn test_len(&self) -> u32 {
        self.data.as_ref().map_or(0, |d| d.1.len() as u32)
    }

    /// The training step whose parameters are the last known good ones.
    fn last_good_step(&self) -> u64 {
        self.good_pos.global_step
    }

    fn test_labels(&self, n: usize) -> Result<Vec<u8>> {
        CpuTrainer::test_labels(self, n)
    }

    /// Batches of the test set one evaluation takes.
    fn eval_batches(&self) -> Result<u32> {
        let n = self.test_len();
        if n == 0 {
            return Err(VaeError::NoData("load one before evaluating".into()));
        }
        Ok(n.div_ceil(self.cfg.batch_size as u32))
    }

    /// Takes the ε counter words of one whole evaluation and returns the word before them (as
    /// the WGSL engine's `reserve_eval`).
    fn reserve_eval(&mut self) -> Result<u32> {
        let base = self.eval_rng;
        self.eval_rng = eval_rng_after(base, self.eval_batches()?);
        Ok(base)
    }

    /// Replaces the parameters (e.g. from a checkpoint) and restarts Adam (zero m and v, t = 0);
    /// the step count goes on. The new parameters become the last good state.
    fn load_params(&mut self, flat: &[f32]) -> Result<()> {
        check_params(flat, self.layout.len)?;
        self.state = State::fresh(flat.to_vec());
        self.mark_good();
        Ok(())
    }

    /// Adam's step count t (bias correction), 0 after a restart.
    fn adam_t(&self) -> u64 {
        self.state.adam_t
    }

    /// Puts Adam's state back (a run interrupted and resumed: its moments `m`, `v` and step
    /// count `t`), after [`CpuTrainer::load_params`]; the whole state becomes the last good one.
    fn load_adam(&mut self, m: &[f32], v: &[f32], t: u64) -> Result<()> {
        let n = self.layout.len;
        if m.len() != n || v.len() != n {
            return Err(VaeError::Checkpoint(format!(
                "Adam's state holds {} and {} values, the model has {n} parameters",
                m.len(),
                v.len()
            )));
        }
        self.state.m.copy_from_slice(m);
        self.state.v.copy_from_slice(v);
        self.state.adam_t = t;
        self.mark_good();
        Ok(())
    }

    /// Checks that the run can stand at `pos` with the loaded data (a checkpoint's position).
    fn check_position(&self, pos: Position) -> Result<()> {
        pos.check(self.has_data().then_some(self.steps_per_epoch))
    }

    /// Continues the numbering of an earlier run: the next step is `global_step + 1`, at
    /// `step_in_epoch` of `epoch`, with that epoch's shuffle.
    fn resume_at(&mut self, pos: Position) -> Result<()> {
        self.check_position(pos)?;
        self.set_position(pos);
        self.good_pos = pos;
        Ok(())
    }

    /// Changes β or the trick from the next step on; Adam's state is kept.
    fn set_objective(&mut self, cfg: VaeConfig) {
        self.cfg = cfg;
    }

    /// Changes the learning rate from the next step on; Adam's state is kept, and the state in
    /// place becomes the last good one (a divergence at the new rate rolls back to here).
    fn set_lr(&mut self, lr: f32) -> Result<()> {
        self.cfg = self.cfg.with_lr(lr)?;
        if self.pos.global_step > 0 {
            self.mark_good();
        }
        Ok(())
    }
}
