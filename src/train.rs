//! Training on the GPU: epochs of shuffled batches, several steps per submit, losses read back
//! asynchronously every `readback_every` steps, test-set evaluation, and display decodes.
//!
//! Nothing in the step loop waits on the GPU for results. Natively, the only wait is
//! back-pressure: when more than [`MAX_IN_FLIGHT`] submits are queued the host waits for the
//! oldest, so the CPU cannot run unboundedly ahead of the GPU.
//!
//! Divergence: every step's record carries flags set on the GPU when its loss or a parameter
//! became non-finite. Each readback that covers training steps is submitted together with a
//! GPU-side copy of the parameters and Adam's state (a snapshot, at most one per
//! [`SNAPSHOT_EVERY`] steps); when the readback arrives clean, that snapshot becomes the last
//! good state. A change of learning rate with nothing in flight also marks the state in place as
//! good, so a rate that diverges within a few steps rolls back to exactly where it was set. A
//! flagged record stops training: the work in flight is discarded, the last good state (and its
//! step, epoch and place in the epoch) is put back (on the GPU, queued behind everything
//! submitted) and [`VaeError::NonFinite`] names both steps.

use std::collections::VecDeque;

use crate::config::VaeConfig;
use crate::error::{Result, VaeError};
use crate::gpu::{Buffer, Gpu, PendingRead};
use crate::kernels::loss::{StatsRecord, FLAG_PARAMS_NON_FINITE, STATS_RECORD};
use crate::kernels::MAX_STEPS_PER_SUBMIT;
use crate::mnist::Dataset;
use crate::model::{StepKind, StepSpec, VaeModel, STATS_SLOTS};
use crate::render::sigmoid;
use crate::rng::{shuffle, SplitMix64, STREAM_SAMPLE};

/// Submits queued before the host waits for the oldest (native back-pressure).
pub const MAX_IN_FLIGHT: usize = 4;
/// Default readback cadence in steps (the seed script logs every 100 steps).
pub const DEFAULT_READBACK_EVERY: u32 = 100;
/// Fewest training steps between two snapshots of the state (each copies parameters, m and v):
/// a page that reads back every call would otherwise copy them every step, and a snapshot taken
/// a step or two into a divergence holds finite but ruined parameters.
pub const SNAPSHOT_EVERY: u64 = 32;
/// RNG counter words of evaluation and display steps start here, apart from training steps'.
pub const EVAL_RNG_BASE: u32 = 0x8000_0000;

/// One step's losses as read back from the GPU.
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

#[derive(Debug, Clone, Copy)]
struct SlotMeta {
    kind: StepKind,
    epoch: u64,
    step: u32,
    global_step: u64,
    keep: bool,
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

/// Parameters, Adam's m and v (one buffer, in that order) as they were after a training step.
struct Snapshot {
    buffer: Buffer,
    global_step: u64,
    adam_t: u64,
    epoch: u64,
    step_in_epoch: u32,
}

pub struct Trainer {
    pub gpu: Gpu,
    pub model: VaeModel,
    /// The epoch in progress or last finished (1-based; 0 before the first step).
    pub epoch: u64,
    step_in_epoch: u32,
    pub steps_per_epoch: u32,
    /// Training steps submitted so far (never goes back; numbers the steps and their ε).
    pub global_step: u64,
    /// Adam's t: steps since Adam's state was last zeroed (a checkpoint load or reset zeroes it).
    adam_t: u64,
    pub readback_every: u32,
    train_len: u32,
    eval_rng: u32,
    slots_written: u64,
    slots_scheduled: u64,
    meta: VecDeque<SlotMeta>,
    /// Readbacks in flight, each with the snapshot taken when it was submitted (if it covers
    /// training steps).
    pending: VecDeque<(PendingRead, Option<Snapshot>)>,
    pool: Vec<Buffer>,
    /// The last state whose every step was read back clean.
    good: Snapshot,
    snapshot_pool: Vec<Buffer>,
    /// `global_step` when the newest snapshot was taken.
    snapshot_step: u64,
    backlog: Vec<StepRecord>,
    #[cfg(not(target_arch = "wasm32"))]
    in_flight: VecDeque<wgpu::SubmissionIndex>,
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
        let good = Snapshot {
            buffer: gpu.storage("last good state", 3 * model.params.size()),
            global_step: 0,
            adam_t: 0,
            epoch: 0,
            step_in_epoch: 0,
        };
        let mut t = Trainer {
            gpu,
            model,
            epoch: 0,
            step_in_epoch: 0,
            steps_per_epoch: 0,
            global_step: 0,
            adam_t: 0,
            readback_every: DEFAULT_READBACK_EVERY,
            train_len: 0,
            eval_rng: EVAL_RNG_BASE,
            slots_written: 0,
            slots_scheduled: 0,
            meta: VecDeque::new(),
            pending: VecDeque::new(),
            pool: Vec::new(),
            good,
            snapshot_pool: Vec::new(),
            snapshot_step: 0,
            backlog: Vec::new(),
            #[cfg(not(target_arch = "wasm32"))]
            in_flight: VecDeque::new(),
        };
        t.mark_good()?;
        Ok(t)
    }

    /// Copies params, m and v into `buffer` (or back, with `restore`), in `enc`.
    fn copy_state(&self, enc: &mut wgpu::CommandEncoder, buffer: &Buffer, restore: bool) {
        let m = &self.model;
        let size = m.params.size();
        for (i, b) in [&m.params, &m.adam_m, &m.adam_v].into_iter().enumerate() {
            let at = i as u64 * size;
            if restore {
                enc.copy_buffer_to_buffer(buffer, at, b, 0, size);
            } else {
                enc.copy_buffer_to_buffer(b, 0, buffer, at, size);
            }
        }
    }

    fn encoder(&self, label: &str) -> wgpu::CommandEncoder {
        self.gpu
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some(label) })
    }

    /// Takes the current state as the last good one (after a load or reset, whose parameters are
    /// known finite).
    fn mark_good(&mut self) -> Result<()> {
        let mut enc = self.encoder("snapshot");
        self.copy_state(&mut enc, &self.good.buffer, false);
        self.submit(enc.finish())?;
        self.good.global_step = self.global_step;
        self.good.adam_t = self.adam_t;
        self.good.epoch = self.epoch;
        self.good.step_in_epoch = self.step_in_epoch;
        self.snapshot_step = self.global_step;
        Ok(())
    }

    /// The training step whose parameters are the last known good ones.
    pub fn last_good_step(&self) -> u64 {
        self.good.global_step
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
        self.epoch = 0;
        self.step_in_epoch = 0;
        Ok(())
    }

    pub fn has_data(&self) -> bool {
        self.model.data().is_some()
    }

    /// Parameters back to the seed's initialisation, Adam and the epoch count to zero.
    pub async fn reset(&mut self) -> Result<()> {
        self.flush().await?;
        let flat = self.model.layout.init(self.model.cfg.seed);
        self.load_params(&flat)?;
        self.epoch = 0;
        self.step_in_epoch = 0;
        self.global_step = 0;
        Ok(())
    }

    pub fn cfg(&self) -> &VaeConfig {
        &self.model.cfg
    }

    /// Steps done in the current epoch.
    pub fn step_in_epoch(&self) -> u32 {
        self.step_in_epoch
    }

    /// True when the current epoch's last step has been submitted.
    pub fn epoch_finished(&self) -> bool {
        self.epoch > 0 && self.step_in_epoch == self.steps_per_epoch
    }

    fn take_slot(&mut self, meta: SlotMeta) -> Result<u32> {
        if self.slots_written - self.slots_scheduled >= u64::from(STATS_SLOTS) {
            return Err(VaeError::Gpu(
                "stats ring overflow: read back more often".into(),
            ));
        }
        let slot = (self.slots_written % u64::from(STATS_SLOTS)) as u32;
        self.slots_written += 1;
        self.meta.push_back(meta);
        Ok(slot)
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

    /// Submits up to `max_steps` training steps (in submits of at most
    /// [`MAX_STEPS_PER_SUBMIT`]), stopping at the end of the epoch; starts the next epoch (a
    /// fresh seeded shuffle) if the current one is finished. Returns the steps submitted.
    pub fn submit_train(&mut self, max_steps: u32) -> Result<u32> {
        self.gpu.check()?;
        if !self.has_data() {
            return Err(VaeError::Gpu(
                "no dataset is loaded; load one before training".into(),
            ));
        }
        if self.epoch == 0 || self.epoch_finished() {
            self.epoch += 1;
            self.step_in_epoch = 0;
            let order = shuffle(self.model.cfg.seed, self.epoch - 1, self.train_len as usize);
            self.model.write_train_order(&self.gpu, &order)?;
        }
        let batch = self.model.cfg.batch_size as u32;
        let mut done = 0;
        while done < max_steps && self.step_in_epoch < self.steps_per_epoch {
            let n = (max_steps - done)
                .min(self.steps_per_epoch - self.step_in_epoch)
                .min(MAX_STEPS_PER_SUBMIT as u32);
            let mut specs = Vec::with_capacity(n as usize);
            for _ in 0..n {
                let start = self.step_in_epoch * batch;
                let rows = batch.min(self.train_len - start);
                self.global_step += 1;
                self.adam_t += 1;
                self.step_in_epoch += 1;
                let slot = self.take_slot(SlotMeta {
                    kind: StepKind::Train,
                    epoch: self.epoch,
                    step: self.step_in_epoch,
                    global_step: self.global_step,
                    keep: true,
                })?;
                specs.push(StepSpec {
                    kind: StepKind::Train,
                    rows,
                    index_offset: start,
                    rng_step: self.global_step as u32,
                    slot,
                    t: self.adam_t,
                });
            }
            let cmd = self.model.encode_steps(&self.gpu, &specs)?;
            self.submit(cmd)?;
            done += n;
            let unscheduled = self.slots_written - self.slots_scheduled;
            if unscheduled >= u64::from(self.readback_every) || self.epoch_finished() {
                self.schedule_readback()?;
            }
        }
        Ok(done)
    }

    /// Copies the records written since the last readback to a staging buffer and starts
    /// mapping it; the results arrive through [`Trainer::poll`] or [`Trainer::flush`].
    pub fn schedule_readback(&mut self) -> Result<()> {
        let count = self.slots_written - self.slots_scheduled;
        if count == 0 {
            return Ok(());
        }
        let size = u64::from(STATS_SLOTS) * STATS_RECORD;
        let staging = self
            .pool
            .pop()
            .unwrap_or_else(|| self.gpu.staging("stats readback", size));
        let first = self.slots_scheduled % u64::from(STATS_SLOTS);
        let head = count.min(u64::from(STATS_SLOTS) - first);
        let mut enc = self.encoder("stats readback");
        let snapshot = if self.global_step >= self.snapshot_step + SNAPSHOT_EVERY {
            let size = self.good.buffer.size();
            let buffer = self
                .snapshot_pool
                .pop()
                .unwrap_or_else(|| self.gpu.storage("state snapshot", size));
            self.copy_state(&mut enc, &buffer, false);
            self.snapshot_step = self.global_step;
            Some(Snapshot {
                buffer,
                global_step: self.global_step,
                adam_t: self.adam_t,
                epoch: self.epoch,
                step_in_epoch: self.step_in_epoch,
            })
        } else {
            None
        };
        enc.copy_buffer_to_buffer(
            &self.model.stats,
            first * STATS_RECORD,
            &staging,
            0,
            head * STATS_RECORD,
        );
        if head < count {
            enc.copy_buffer_to_buffer(
                &self.model.stats,
                0,
                &staging,
                head * STATS_RECORD,
                (count - head) * STATS_RECORD,
            );
        }
        self.submit(enc.finish())?;
        self.slots_scheduled += count;
        self.pending
            .push_back((PendingRead::start(staging, count * STATS_RECORD), snapshot));
        Ok(())
    }

    /// Takes in one readback's records; a clean one promotes its snapshot to the last good state,
    /// a flagged one rolls back (see the module docs) and its records, which describe steps
    /// after the restored state, are dropped.
    fn absorb(&mut self, bytes: &[u8], snapshot: Option<Snapshot>) -> Result<()> {
        let mut records = Vec::new();
        for rec in StatsRecord::parse(bytes) {
            let Some(m) = self.meta.pop_front() else {
                return Err(VaeError::Gpu("a stats record without a step".into()));
            };
            let (recon, kl) = (rec.recon, rec.kl);
            if rec.flags != 0 || !recon.is_finite() || !kl.is_finite() {
                let what = if rec.flags & FLAG_PARAMS_NON_FINITE != 0 && recon.is_finite() {
                    "parameters"
                } else {
                    "loss"
                };
                if let Some(s) = snapshot {
                    self.snapshot_pool.push(s.buffer);
                }
                return Err(self.roll_back(what, m.global_step, recon, kl));
            }
            if m.keep {
                records.push(StepRecord {
                    kind: m.kind,
                    epoch: m.epoch,
                    step: m.step,
                    global_step: m.global_step,
                    rows: rec.rows,
                    recon,
                    kl,
                });
            }
        }
        self.backlog.extend(records);
        if let Some(s) = snapshot {
            let old = std::mem::replace(&mut self.good, s);
            self.snapshot_pool.push(old.buffer);
        }
        Ok(())
    }

    /// Discards the work in flight and puts the last good state back; returns the error to report.
    fn roll_back(&mut self, what: &'static str, step: u64, recon: f32, kl: f32) -> VaeError {
        self.meta.clear();
        self.slots_scheduled = self.slots_written;
        for (_, s) in self.pending.drain(..) {
            if let Some(s) = s {
                self.snapshot_pool.push(s.buffer);
            }
        }
        let mut enc = self.encoder("restore last good state");
        self.copy_state(&mut enc, &self.good.buffer, true);
        if let Err(e) = self.submit(enc.finish()) {
            return e;
        }
        self.adam_t = self.good.adam_t;
        let (step_at, epoch, in_epoch) = (
            self.good.global_step,
            self.good.epoch,
            self.good.step_in_epoch,
        );
        if let Err(e) = self.set_position(step_at, epoch, in_epoch) {
            return e;
        }
        VaeError::NonFinite {
            what,
            step,
            recon,
            kl,
            restored_step: self.good.global_step,
        }
    }

    /// Records whose readback has finished, without blocking.
    pub fn poll(&mut self) -> Result<Vec<StepRecord>> {
        self.gpu.poll();
        while let Some((front, _)) = self.pending.front_mut() {
            match front.try_take() {
                None => break,
                Some(r) => {
                    let snapshot = self.pending.pop_front().and_then(|(_, s)| s);
                    let (bytes, buffer) = r?;
                    self.pool.push(buffer);
                    self.absorb(&bytes, snapshot)?;
                }
            }
        }
        self.gpu.check()?;
        Ok(std::mem::take(&mut self.backlog))
    }

    /// Reads back every record submitted so far (waits for the GPU: call it between epochs).
    pub async fn flush(&mut self) -> Result<Vec<StepRecord>> {
        self.schedule_readback()?;
        while let Some((mut p, snapshot)) = self.pending.pop_front() {
            let bytes = p.wait(&self.gpu).await?;
            self.pool.push(p.buffer().clone());
            self.absorb(&bytes, snapshot)?;
        }
        #[cfg(not(target_arch = "wasm32"))]
        self.in_flight.clear();
        Ok(std::mem::take(&mut self.backlog))
    }

    /// Test-set loss: every test image once, in order, ε drawn as in training. Records of
    /// training steps read back meanwhile are kept for the next `poll`/`flush`.
    pub async fn evaluate(&mut self) -> Result<EvalResult> {
        let data = self
            .model
            .data()
            .ok_or_else(|| VaeError::Gpu("no dataset".into()))?;
        let (test_len, test_offset) = (data.test_len, data.test_offset());
        let batch = self.model.cfg.batch_size as u32;
        let batches = test_len.div_ceil(batch);
        let mut b = 0;
        while b < batches {
            let n = (batches - b).min(MAX_STEPS_PER_SUBMIT as u32);
            let mut specs = Vec::with_capacity(n as usize);
            for i in b..b + n {
                let rows = batch.min(test_len - i * batch);
                self.eval_rng = self.eval_rng.wrapping_add(1) | EVAL_RNG_BASE;
                let slot = self.take_slot(SlotMeta {
                    kind: StepKind::Eval,
                    epoch: self.epoch,
                    step: i + 1,
                    global_step: self.global_step,
                    keep: true,
                })?;
                specs.push(StepSpec {
                    kind: StepKind::Eval,
                    rows,
                    index_offset: test_offset + i * batch,
                    rng_step: self.eval_rng,
                    slot,
                    t: self.adam_t,
                });
            }
            let cmd = self.model.encode_steps(&self.gpu, &specs)?;
            self.submit(cmd)?;
            b += n;
            if self.slots_written - self.slots_scheduled >= u64::from(STATS_SLOTS / 2) {
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
                self.backlog.push(*r);
            }
        }
        Ok(result)
    }

    /// Runs the forward pass (ε drawn as in training) on test images `ids`, leaving x, [μ | log σ²]
    /// and the logits in the activation buffers.
    fn forward_test(&mut self, ids: &[u32]) -> Result<()> {
        let data = self
            .model
            .data()
            .ok_or_else(|| VaeError::Gpu("no dataset".into()))?;
        let test_len = data.test_len;
        let base = data.test_offset();
        if let Some(bad) = ids.iter().find(|&&i| i >= test_len) {
            return Err(VaeError::config(
                "ids",
                format!("test image {bad} does not exist ({test_len} test images)"),
            ));
        }
        let global: Vec<u32> = ids.iter().map(|i| base + i).collect();
        let offset = self.model.write_scratch_indices(&self.gpu, &global)?;
        self.eval_rng = self.eval_rng.wrapping_add(1) | EVAL_RNG_BASE;
        let slot = self.take_slot(SlotMeta {
            kind: StepKind::Eval,
            epoch: self.epoch,
            step: 0,
            global_step: self.global_step,
            keep: false,
        })?;
        let spec = StepSpec {
            kind: StepKind::Eval,
            rows: ids.len() as u32,
            index_offset: offset,
            rng_step: self.eval_rng,
            slot,
            t: self.adam_t,
        };
        let cmd = self.model.encode_steps(&self.gpu, &[spec])?;
        self.submit(cmd)
    }

    /// Test images `ids` and their reconstructions (sigmoid of the decoder's logits, ε drawn as
    /// in training), each `ids.len()` × IN values in [0, 1].
    pub async fn reconstruct(&mut self, ids: &[u32]) -> Result<(Vec<f32>, Vec<f32>)> {
        self.forward_test(ids)?;
        let input = self.model.cfg.input;
        let x = self
            .model
            .read_rows(&self.gpu, &self.model.act.x, ids.len(), input)
            .await?;
        let logits = self
            .model
            .read_rows(&self.gpu, &self.model.act.logits, ids.len(), input)
            .await?;
        Ok((x, logits.into_iter().map(sigmoid).collect()))
    }

    async fn read_mulv(&self, rows: usize) -> Result<(Vec<f32>, Vec<f32>)> {
        let l = self.model.cfg.latent;
        let mulv = self
            .model
            .read_rows(&self.gpu, &self.model.act.mulv, rows, 2 * l)
            .await?;
        let mut mu = Vec::with_capacity(rows * l);
        let mut log_var = Vec::with_capacity(rows * l);
        for row in mulv.chunks(2 * l) {
            mu.extend_from_slice(&row[..l]);
            log_var.extend_from_slice(&row[l..]);
        }
        Ok((mu, log_var))
    }

    /// μ and log σ² (each `ids.len()` × L) of test images `ids`.
    pub async fn encode_test(&mut self, ids: &[u32]) -> Result<(Vec<f32>, Vec<f32>)> {
        self.forward_test(ids)?;
        self.read_mulv(ids.len()).await
    }

    /// μ and log σ² (each rows × L) of `rows` inputs given as pixels (rows × IN, in [0, 1]).
    pub async fn encode(&mut self, pixels: &[f32], rows: usize) -> Result<(Vec<f32>, Vec<f32>)> {
        self.model.write_x(&self.gpu, pixels, rows)?;
        let cmd = self.model.encode_encoder(&self.gpu, rows as u32)?;
        self.submit(cmd)?;
        self.read_mulv(rows).await
    }

    /// μ (n × L) of the first `n` test images and their labels, encoded in batches.
    pub async fn latent_means(&mut self, n: usize) -> Result<(Vec<f32>, Vec<u8>)> {
        let data = self
            .model
            .data()
            .ok_or_else(|| VaeError::Gpu("no dataset".into()))?;
        let n = n.min(data.test_len as usize);
        let labels = data.labels_test[..n].to_vec();
        let mut mu = Vec::with_capacity(n * self.model.cfg.latent);
        let chunk = self.model.capacity as usize;
        for start in (0..n).step_by(chunk.max(1)) {
            let ids: Vec<u32> = (start as u32..(start + chunk).min(n) as u32).collect();
            mu.extend(self.encode_test(&ids).await?.0);
        }
        Ok((mu, labels))
    }

    /// Decodes `z` (rows × L) to pixels in [0, 1].
    pub async fn decode(&mut self, z: &[f32], rows: usize) -> Result<Vec<f32>> {
        self.model.write_z(&self.gpu, z, rows)?;
        let cmd = self.model.encode_decode(&self.gpu, rows as u32)?;
        self.submit(cmd)?;
        let logits = self
            .model
            .read_rows(
                &self.gpu,
                &self.model.act.logits,
                rows,
                self.model.cfg.input,
            )
            .await?;
        Ok(logits.into_iter().map(sigmoid).collect())
    }

    /// `n` samples decoded from z ~ N(0, I), seeded.
    pub async fn sample(&mut self, n: usize, seed: u64) -> Result<Vec<f32>> {
        let mut g = SplitMix64::new(seed, STREAM_SAMPLE, 0);
        let z: Vec<f32> = (0..n * self.model.cfg.latent)
            .map(|_| g.next_normal() as f32)
            .collect();
        self.decode(&z, n).await
    }

    pub async fn read_params(&self) -> Result<Vec<f32>> {
        self.model.read_params(&self.gpu).await
    }

    /// Replaces the parameters (e.g. from a checkpoint) and restarts Adam (zero m and v, t = 0);
    /// the step count goes on.
    pub fn load_params(&mut self, flat: &[f32]) -> Result<()> {
        if let Some(i) = flat.iter().position(|v| !v.is_finite()) {
            return Err(VaeError::Checkpoint(format!("parameter {i} is not finite")));
        }
        self.model.write_params(&self.gpu, flat)?;
        self.adam_t = 0;
        self.mark_good()
    }

    /// Continues the numbering of an earlier run (e.g. a checkpoint's, on a new device): the
    /// next step is `global_step + 1`, at `step_in_epoch` of `epoch`, with that epoch's shuffle.
    pub fn resume_at(&mut self, global_step: u64, epoch: u64, step_in_epoch: u32) -> Result<()> {
        if !self.has_data() {
            return Err(VaeError::Gpu("load a dataset before resuming".into()));
        }
        if step_in_epoch > self.steps_per_epoch || (epoch == 0 && step_in_epoch > 0) {
            return Err(VaeError::Checkpoint(format!(
                "step {step_in_epoch} of epoch {epoch} does not exist with {} steps per epoch",
                self.steps_per_epoch
            )));
        }
        self.set_position(global_step, epoch, step_in_epoch)?;
        self.good.global_step = global_step;
        self.good.epoch = epoch;
        self.good.step_in_epoch = step_in_epoch;
        Ok(())
    }

    /// Moves the step count to `global_step`, at `step_in_epoch` of `epoch`, with that epoch's
    /// shuffle on the GPU.
    fn set_position(&mut self, global_step: u64, epoch: u64, step_in_epoch: u32) -> Result<()> {
        if epoch > 0 && step_in_epoch < self.steps_per_epoch {
            let order = shuffle(self.model.cfg.seed, epoch - 1, self.train_len as usize);
            self.model.write_train_order(&self.gpu, &order)?;
        }
        self.global_step = global_step;
        self.epoch = epoch;
        self.step_in_epoch = step_in_epoch;
        self.snapshot_step = global_step;
        Ok(())
    }

    /// Changes the learning rate from the next step on (e.g. after a divergence); Adam's state
    /// is kept. With every step read back clean (after a flush), the state in place becomes the
    /// last good one: a divergence at the new rate rolls back to here.
    pub fn set_lr(&mut self, lr: f32) -> Result<()> {
        let cfg = VaeConfig {
            lr,
            ..self.model.cfg.clone()
        };
        cfg.validate(None)?;
        self.model.cfg.lr = lr;
        if self.pending.is_empty() && self.meta.is_empty() && self.global_step > 0 {
            self.mark_good()?;
        }
        Ok(())
    }
}
