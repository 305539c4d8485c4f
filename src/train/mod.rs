//! Training on the GPU: epochs of shuffled batches, several steps per submit, losses read back
//! asynchronously every `readback_every` steps, test-set evaluation, and display decodes.
//!
//! Split along its seams: this file holds the position in the run (epoch, shuffle, step count)
//! and the training and evaluation loops; [`readback`] the stats ring and its asynchronous
//! readback; [`snapshot`] the last good state and roll-back; [`display`] the forward passes the
//! faces show (reconstructions, encodes, decodes, samples).
//!
//! Nothing in the step loop waits on the GPU for results. Natively, the only wait is
//! back-pressure: when more than [`MAX_IN_FLIGHT`] submits are queued the host waits for the
//! oldest, so the CPU cannot run unboundedly ahead of the GPU.

mod display;
mod readback;
mod snapshot;

use crate::config::VaeConfig;
use crate::error::{Result, VaeError};
use crate::gpu::{Buffer, GemmForm, Gpu, LostHandle};
use crate::kernels::MAX_STEPS_PER_SUBMIT;
use crate::layout::ParamLayout;
use crate::mnist::Dataset;
use crate::model::{StepSpec, VaeModel};
use crate::rng::shuffle;
use crate::run::{
    check_params, eval_rng_after, EvalResult, Position, RunState, StepKind, EVAL_RNG_BASE, MAX_STEP,
};

pub use readback::SlotMeta;
use snapshot::Snapshot;

/// Submits queued before the host waits for the oldest (native back-pressure).
pub const MAX_IN_FLIGHT: usize = 4;
/// Default readback cadence in steps (the seed script logs every 100 steps).
pub const DEFAULT_READBACK_EVERY: u32 = 100;
/// Resolves when the GPU has finished every command submitted before it was made
/// ([`Trainer::work_done`]).
pub struct WorkDone(futures_channel::oneshot::Receiver<()>);

pub struct Trainer {
    gpu: Gpu,
    model: VaeModel,
    pos: Position,
    steps_per_epoch: u32,
    /// Adam's t: steps since Adam's state was last zeroed (a checkpoint load or reset zeroes it).
    adam_t: u64,
    readback_every: u32,
    train_len: u32,
    eval_rng: u32,
    ring: readback::Ring,
    /// The last state whose every step was read back clean.
    good: Snapshot,
    snapshot_pool: Vec<Buffer>,
    /// `global_step` when the newest snapshot was taken.
    snapshot_step: u64,
    #[cfg(not(target_arch = "wasm32"))]
    in_flight: std::collections::VecDeque<wgpu::SubmissionIndex>,
}

impl Trainer {
    /// A model initialised from `cfg.seed` with `train` and `test` uploaded to the GPU.
    pub fn new(gpu: Gpu, cfg: &VaeConfig, train: &Dataset, test: &Dataset) -> Result<Self> {
        let mut t = Self::without_data(gpu, cfg)?;
        t.attach_data(train, test)?;
        Ok(t)
    }

    /// A model initialised from `cfg.seed`, with no data yet (see [`Trainer::attach_data`]).
    pub fn without_data(gpu: Gpu, cfg: &VaeConfig) -> Result<Self> {
        let model = VaeModel::new(&gpu, cfg)?;
        Self::from_model(gpu, model)
    }

    /// A trainer over a model built by the caller (e.g. with a chosen GEMM form).
    pub fn from_model(gpu: Gpu, model: VaeModel) -> Result<Self> {
        let good = Snapshot::new(&gpu, &model)?;
        let mut t = Trainer {
            gpu,
            model,
            pos: Position::default(),
            steps_per_epoch: 0,
            adam_t: 0,
            readback_every: DEFAULT_READBACK_EVERY,
            train_len: 0,
            eval_rng: EVAL_RNG_BASE,
            ring: readback::Ring::default(),
            good,
            snapshot_pool: Vec::new(),
            snapshot_step: 0,
            #[cfg(not(target_arch = "wasm32"))]
            in_flight: std::collections::VecDeque::new(),
        };
        t.mark_good()?;
        Ok(t)
    }

    fn encoder(&self, label: &str) -> wgpu::CommandEncoder {
        self.gpu
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some(label) })
    }

    /// Uploads `train` and `test` (replacing any earlier data) and restarts the epoch count; the
    /// parameters are kept. On error the earlier data stay in place.
    pub fn attach_data(&mut self, train: &Dataset, test: &Dataset) -> Result<()> {
        self.model.cfg.validate(Some(train.len()))?;
        if test.is_empty() {
            return Err(VaeError::config("test", "the test set is empty"));
        }
        self.model.attach_data(&self.gpu, train, test)?;
        self.train_len = train.len() as u32;
        self.steps_per_epoch = self.train_len.div_ceil(self.model.cfg.batch_size as u32);
        self.pos.epoch = 0;
        self.pos.step_in_epoch = 0;
        // The last good state's place in an epoch belonged to the old data set.
        self.good.pos.epoch = 0;
        self.good.pos.step_in_epoch = 0;
        Ok(())
    }

    /// Parameters back to the seed's initialisation, Adam and the epoch count to zero.
    pub async fn reset(&mut self) -> Result<()> {
        self.flush().await?;
        let flat = self.model.layout.init(self.model.cfg.seed);
        self.load_params(&flat)?;
        self.pos = Position::default();
        Ok(())
    }

    /// The matrix-multiply form the kernels use.
    pub fn gemm_form(&self) -> GemmForm {
        self.model.kernels.linear.form
    }

    /// The GEMM form and the step form (how fc2|fc3 → z → fc4 and the loss run).
    pub fn forms(&self) -> (GemmForm, crate::model::StepForm) {
        (self.gemm_form(), self.model.step_form)
    }

    /// The device, for work beside the model (benchmarks on their own buffers).
    pub fn gpu(&self) -> &Gpu {
        &self.gpu
    }

    /// Gives the device back (e.g. to build another model on it).
    pub fn into_gpu(self) -> Gpu {
        self.gpu
    }

    /// A handle that reports why the device was lost, usable while the trainer is busy.
    pub fn lost_handle(&self) -> LostHandle {
        self.gpu.lost_handle()
    }

    /// The epoch in progress or last finished (1-based; 0 before the first step).
    pub fn epoch(&self) -> u64 {
        self.pos.epoch
    }

    /// Training steps submitted so far.
    pub fn global_step(&self) -> u64 {
        self.pos.global_step
    }

    /// Steps done in the current epoch.
    pub fn step_in_epoch(&self) -> u32 {
        self.pos.step_in_epoch
    }

    /// Training steps between two loss readbacks: 1 ..= half the stats ring (larger values are
    /// taken as that, so the ring cannot overflow).
    pub fn set_readback_every(&mut self, steps: u32) {
        self.readback_every = steps.clamp(1, readback::HALF_RING);
    }

    fn submit(&mut self, cmd: wgpu::CommandBuffer) -> Result<()> {
        let _index = self.gpu.queue.submit([cmd]);
        #[cfg(not(target_arch = "wasm32"))]
        {
            self.in_flight.push_back(_index);
            while self.in_flight.len() > MAX_IN_FLIGHT {
                if let Some(oldest) = self.in_flight.pop_front() {
                    self.gpu
                        .device
                        .poll(wgpu::PollType::Wait {
                            submission_index: Some(oldest),
                            timeout: None,
                        })
                        .map_err(|e| VaeError::Gpu(e.to_string()))?;
                }
            }
        }
        Ok(())
    }

    /// A signal for everything submitted so far (await it with [`Trainer::wait`]).
    pub fn work_done(&self) -> WorkDone {
        let (tx, rx) = futures_channel::oneshot::channel();
        self.gpu.queue.on_submitted_work_done(move || {
            let _ = tx.send(());
        });
        WorkDone(rx)
    }

    /// Waits for a [`WorkDone`] signal (natively by polling the device; in a browser the
    /// event loop delivers it).
    pub async fn wait(&self, done: WorkDone) -> Result<()> {
        #[cfg(not(target_arch = "wasm32"))]
        self.gpu.wait_idle()?;
        let _ = done.0.await;
        self.gpu.check()
    }

    /// Submits up to `max_steps` training steps (in submits of at most
    /// [`MAX_STEPS_PER_SUBMIT`]), stopping at the end of the epoch; starts the next epoch (a
    /// fresh seeded shuffle) if the current one is finished. Returns the steps submitted.
    pub fn submit_train(&mut self, max_steps: u32) -> Result<u32> {
        self.gpu.check()?;
        if !self.has_data() {
            return Err(VaeError::NoData("load one before training".into()));
        }
        if self.pos.epoch == 0 || self.epoch_finished() {
            self.pos.epoch += 1;
            self.pos.step_in_epoch = 0;
            let order = shuffle(
                self.model.cfg.seed,
                self.pos.epoch - 1,
                self.train_len as usize,
            );
            self.model.write_train_order(&self.gpu, &order)?;
        }
        let batch = self.model.cfg.batch_size as u32;
        let mut done = 0;
        while done < max_steps && self.pos.step_in_epoch < self.steps_per_epoch {
            let n = (max_steps - done)
                .min(self.steps_per_epoch - self.pos.step_in_epoch)
                .min(MAX_STEPS_PER_SUBMIT as u32);
            if self.pos.global_step + u64::from(n) > MAX_STEP {
                return Err(VaeError::config(
                    "steps",
                    format!("a run ends at step {MAX_STEP}; start a new one"),
                ));
            }
            let mut specs = Vec::with_capacity(n as usize);
            for _ in 0..n {
                let start = self.pos.step_in_epoch * batch;
                let rows = batch.min(self.train_len - start);
                self.pos.global_step += 1;
                self.adam_t += 1;
                self.pos.step_in_epoch += 1;
                let slot = self.ring.take_slot(SlotMeta {
                    kind: StepKind::Train,
                    epoch: self.pos.epoch,
                    step: self.pos.step_in_epoch,
                    global_step: self.pos.global_step,
                    keep: true,
                })?;
                specs.push(StepSpec {
                    kind: StepKind::Train,
                    rows,
                    index_offset: start,
                    rng_step: self.pos.global_step as u32,
                    slot,
                    t: self.adam_t,
                });
            }
            let cmd = self.model.encode_steps(&self.gpu, &specs)?;
            self.submit(cmd)?;
            done += n;
            if self.ring.unscheduled() >= u64::from(self.readback_every) || self.epoch_finished() {
                self.schedule_readback()?;
            }
        }
        Ok(done)
    }

    /// Test-set loss: every test image once, in order, ε drawn as in training. Records of
    /// training steps read back meanwhile are kept for the next `poll`/`flush`.
    pub async fn evaluate(&mut self) -> Result<EvalResult> {
        let batches = self.eval_batches()?;
        let base = self.reserve_eval()?;
        self.evaluate_part(0, batches, base).await
    }

    /// Test batches `first .. first + count` of an evaluation whose ε words follow `base`
    /// ([`Trainer::reserve_eval`]): their summed losses.
    pub async fn evaluate_part(&mut self, first: u32, count: u32, base: u32) -> Result<EvalResult> {
        let data = self
            .model
            .data()
            .ok_or_else(|| VaeError::NoData("load one before evaluating".into()))?;
        let (test_len, test_offset) = (data.test_len, data.test_offset());
        let batch = self.model.cfg.batch_size as u32;
        let end = test_len.div_ceil(batch).min(first.saturating_add(count));
        let mut rng = eval_rng_after(base, first);
        let mut b = first;
        while b < end {
            let n = (end - b).min(MAX_STEPS_PER_SUBMIT as u32);
            let mut specs = Vec::with_capacity(n as usize);
            for i in b..b + n {
                let rows = batch.min(test_len - i * batch);
                let slot = self.ring.take_slot(SlotMeta {
                    kind: StepKind::Eval,
                    epoch: self.pos.epoch,
                    step: i + 1,
                    global_step: self.pos.global_step,
                    keep: true,
                })?;
                rng = eval_rng_after(rng, 1);
                specs.push(StepSpec {
                    kind: StepKind::Eval,
                    rows,
                    index_offset: test_offset + i * batch,
                    rng_step: rng,
                    slot,
                    t: self.adam_t,
                });
            }
            let cmd = self.model.encode_steps(&self.gpu, &specs)?;
            self.submit(cmd)?;
            b += n;
            if self.ring.unscheduled() >= u64::from(readback::HALF_RING) {
                self.schedule_readback()?;
            }
        }
        let records = self.flush().await?;
        let mut result = EvalResult {
            recon: 0.0,
            kl: 0.0,
            count: 0,
        };
        for r in &records {
            if r.kind == StepKind::Eval {
                result.recon += f64::from(r.recon);
                result.kl += f64::from(r.kl);
                result.count += u64::from(r.rows);
            } else {
                self.ring.keep(*r);
            }
        }
        Ok(result)
    }

    fn next_eval_rng(&mut self) -> u32 {
        self.eval_rng = eval_rng_after(self.eval_rng, 1);
        self.eval_rng
    }

    pub async fn read_params(&self) -> Result<Vec<f32>> {
        self.model.read_params(&self.gpu).await
    }

    /// Adam's first and second moments (flat, layout order).
    pub async fn read_adam_state(&self) -> Result<(Vec<f32>, Vec<f32>)> {
        let n = self.model.layout.len;
        let m = self.gpu.read_f32(&self.model.adam_mv, 0, n).await?;
        let v = self
            .gpu
            .read_f32(&self.model.adam_mv, n as u64 * 4, n)
            .await?;
        Ok((m, v))
    }

    /// Moves the step count to `pos`, with that epoch's shuffle on the GPU.
    fn set_position(&mut self, pos: Position) -> Result<()> {
        if pos.epoch > 0 && pos.step_in_epoch < self.steps_per_epoch {
            let order = shuffle(self.model.cfg.seed, pos.epoch - 1, self.train_len as usize);
            self.model.write_train_order(&self.gpu, &order)?;
        }
        self.pos = pos;
        self.snapshot_step = pos.global_step;
        Ok(())
    }
}

impl RunState for Trainer {
    fn cfg(&self) -> &VaeConfig {
        &self.model.cfg
    }

    /// The flat parameter table (PyTorch names and shapes).
    fn layout(&self) -> &ParamLayout {
        &self.model.layout
    }

    /// Rows one GPU pass takes at most (display and inference requests are chunked to it).
    fn capacity(&self) -> u32 {
        self.model.capacity
    }

    /// Where the run stands.
    fn position(&self) -> Position {
        self.pos
    }

    /// Steps in one epoch of the loaded training set (0 before a dataset is loaded).
    fn steps_per_epoch(&self) -> u32 {
        self.steps_per_epoch
    }

    /// True when the current epoch's last step has been submitted.
    fn epoch_finished(&self) -> bool {
        self.pos.epoch_finished(self.steps_per_epoch)
    }

    fn has_data(&self) -> bool {
        self.model.data().is_some()
    }

    /// Training images on the GPU (0 before a dataset is loaded).
    fn train_len(&self) -> u32 {
        self.train_len
    }

    /// Test images on the GPU (0 before a dataset is loaded).
    fn test_len(&self) -> u32 {
        self.model.data().map_or(0, |d| d.test_len)
    }

    fn last_good_step(&self) -> u64 {
        Trainer::last_good_step(self)
    }

    fn test_labels(&self, n: usize) -> Result<Vec<u8>> {
        Trainer::test_labels(self, n)
    }

    /// Batches of the test set one evaluation takes.
    fn eval_batches(&self) -> Result<u32> {
        let data = self
            .model
            .data()
            .ok_or_else(|| VaeError::NoData("load one before evaluating".into()))?;
        Ok(data.test_len.div_ceil(self.model.cfg.batch_size as u32))
    }

    /// Takes the ε counter words of one whole evaluation (see [`eval_rng_after`]) and returns
    /// the word before them: an evaluation in parts draws the same ε as one in a single call,
    /// whatever runs between its parts.
    fn reserve_eval(&mut self) -> Result<u32> {
        let base = self.eval_rng;
        self.eval_rng = eval_rng_after(base, self.eval_batches()?);
        Ok(base)
    }

    /// Replaces the parameters (e.g. from a checkpoint) and restarts Adam (zero m and v, t = 0);
    /// the step count goes on. Work in flight is discarded first, so a divergence found in it
    /// can never roll back over the new parameters: they become the last good state.
    fn load_params(&mut self, flat: &[f32]) -> Result<()> {
        check_params(flat, self.model.layout.len)?;
        self.discard_in_flight();
        self.model.write_params(&self.gpu, flat)?;
        self.adam_t = 0;
        self.mark_good()
    }

    /// Adam's step count t (bias correction), 0 after a restart.
    fn adam_t(&self) -> u64 {
        self.adam_t
    }

    /// Puts Adam's state back (a run interrupted and resumed: its moments `m`, `v` and step
    /// count `t`), after [`Trainer::load_params`]; the whole state becomes the last good one.
    fn load_adam(&mut self, m: &[f32], v: &[f32], t: u64) -> Result<()> {
        let n = self.model.layout.len;
        if m.len() != n || v.len() != n {
            return Err(VaeError::Checkpoint(format!(
                "Adam's state holds {} and {} values, the model has {n} parameters",
                m.len(),
                v.len()
            )));
        }
        self.discard_in_flight();
        let q = &self.gpu.queue;
        q.write_buffer(&self.model.adam_mv, 0, bytemuck::cast_slice(m));
        q.write_buffer(&self.model.adam_mv, n as u64 * 4, bytemuck::cast_slice(v));
        self.adam_t = t;
        self.mark_good()
    }

    /// Checks that the run can stand at `pos` with the loaded data (a checkpoint's position).
    fn check_position(&self, pos: Position) -> Result<()> {
        pos.check(self.has_data().then_some(self.steps_per_epoch))
    }

    /// Continues the numbering of an earlier run (e.g. a checkpoint's, on a new device): the
    /// next step is `global_step + 1`, at `step_in_epoch` of `epoch`, with that epoch's shuffle.
    fn resume_at(&mut self, pos: Position) -> Result<()> {
        self.check_position(pos)?;
        self.discard_in_flight();
        self.set_position(pos)?;
        self.good.pos = pos;
        Ok(())
    }

    /// Changes β or the trick from the next step on (each step's uniform is written from the
    /// config when it is encoded); Adam's state is kept.
    fn set_objective(&mut self, cfg: VaeConfig) {
        self.model.cfg = cfg;
    }

    /// Changes the learning rate from the next step on (e.g. after a divergence); Adam's state
    /// is kept. With every step read back clean (after a flush), the state in place becomes the
    /// last good one: a divergence at the new rate rolls back to here.
    fn set_lr(&mut self, lr: f32) -> Result<()> {
        self.model.cfg = self.model.cfg.with_lr(lr)?;
        if self.ring.idle() && self.pos.global_step > 0 {
            self.mark_good()?;
        }
        Ok(())
    }
}
