//! What both faces ask of the engine: the page (through `web`) and the CLI call a [`Session`],
//! never the trainer's insides. A session owns one [`Engine`] — the WGSL trainer or the CPU
//! one, behind one face — and adds what a face needs on top
//! of it: datasets from IDX bytes, training calls that keep at most two calls' work in flight
//! with their losses per sample, every display or inference request chunked to the model's
//! capacity and checked, latent walks and maps, and checkpoints with one metadata schema
//! ([`checkpoint::keys`]) that both faces write and read.
//!
//! No wasm-bindgen here: it builds and is tested natively. The clock is handed in (the browser's
//! `Date.now`, or the host's), so training rates mean the same on both.

use crate::checkpoint::{self, AdamState, RunMeta};
use crate::config::VaeConfig;
use crate::error::{Result, VaeError};
use crate::mnist::{self, Dataset};
use crate::pca;
use crate::run::{EvalResult, Position, Stage, StepKind, StepProfile, StepRecord};

// What the faces name of the engine layer, so that they import the Session alone.
pub use crate::engine::{
    cpu_features, cpu_threads, cpu_threads_available, device_for, live_gpu_buffers,
    set_cpu_thread_limit, Device, Engine, EngineChoice, EngineKind, ENGINE_NAMES,
};

/// Most images (or latent vectors) one request may ask for: chunked to the model's capacity on
/// the GPU, and bounded so that no request can ask for gigabytes of output.
pub const MAX_REQUEST_ROWS: usize = 16_384;
/// Values per step in [`TrainReport::records`], in this order.
pub const RECORD_FIELDS: [&str; 4] = ["globalStep", "epoch", "reconstruction", "kl"];

/// Losses and progress after a training call.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainReport {
    pub position: Position,
    pub steps_per_epoch: u32,
    pub epoch_finished: bool,
    /// Reconstruction loss (Σ BCE) per sample of the newest step read back (in this call or an
    /// earlier one: the CPU engine's flush has nothing new, the WGSL engine's first call may
    /// have nothing yet); NaN before any.
    pub reconstruction: f64,
    /// KL per sample of the newest step read back; NaN before any.
    pub kl: f64,
    /// Training samples per second over the steps read back in this call (0 if none).
    pub samples_per_sec: f64,
    /// Steps read back in this call, flat, [`RECORD_FIELDS`] per step (losses per sample).
    pub records: Vec<f64>,
}

/// Test-set loss per sample.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EvalReport {
    pub reconstruction: f64,
    pub kl: f64,
    pub loss: f64,
    pub count: u64,
}

/// Where an evaluation in parts ([`Session::evaluate_some`]) stands.
#[derive(Debug, Clone, PartialEq)]
pub struct EvalProgress {
    /// Test batches evaluated so far, of `batches`.
    pub batches_done: u32,
    pub batches: u32,
    /// The whole test set's losses once `batches_done == batches`.
    pub report: Option<EvalReport>,
}

/// An evaluation under way in parts: the ε words it reserved, how far it got, the sums so far,
/// and the training step it evaluates (a step taken meanwhile starts it over).
#[derive(Debug, Clone)]
struct EvalCursor {
    base: u32,
    next: u32,
    batches: u32,
    global_step: u64,
    sum: EvalResult,
}

/// Test digits placed in two dimensions by their μ.
#[derive(Debug, Clone, PartialEq)]
pub struct LatentMap {
    /// (x, y) per digit, flat.
    pub points: Vec<f32>,
    pub labels: Vec<u8>,
    /// True when the points are μ's first two principal components (latent ≠ 2).
    pub pca: bool,
    /// Fraction of μ's variance along each component.
    pub explained: Vec<f64>,
    /// Mean of μ; a map point (a, b) is mean + a·components[0] + b·components[1].
    pub mean: Vec<f32>,
    /// The two components, flat (2 × latent).
    pub components: Vec<f32>,
}

/// What the page's getters show, copied after every call.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Status {
    pub epochs: u32,
    pub input: u32,
    pub hidden: u32,
    pub latent: u32,
    pub side: u32,
    pub steps_per_epoch: u32,
    pub position: Position,
    pub test_count: u32,
    pub last_good_step: u64,
    pub lr: f32,
    pub kl_weight: f32,
    pub variational: bool,
    pub reparameterize: bool,
}

pub struct Session {
    engine: Engine,
    /// Side of the square images of the loaded data.
    side: u32,
    clock: fn() -> f64,
    /// Clock reading (ms) when the last training records were reported.
    last_time: f64,
    /// (reconstruction, KL) per sample of the newest training step read back.
    newest: Option<(f64, f64)>,
    /// Steps read back by a call that does not report them (an export, a profile): the next
    /// call that reports steps reports them first.
    held: Vec<StepRecord>,
    /// An evaluation in parts under way.
    eval: Option<EvalCursor>,
}

fn eval_report(r: &EvalResult) -> EvalReport {
    let n = r.count.max(1) as f64;
    EvalReport {
        reconstruction: r.recon / n,
        kl: r.kl / n,
        loss: r.per_sample(),
        count: r.count,
    }
}

fn too_many(what: &'static str, n: usize) -> VaeError {
    VaeError::TooLarge {
        what,
        asked: n,
        limit: MAX_REQUEST_ROWS,
    }
}

impl Session {
    /// A session over either engine's model (a trainer of either engine, or an [`Engine`]);
    /// `clock` gives milliseconds (any origin).
    pub fn new(engine: impl Into<Engine>, clock: fn() -> f64) -> Self {
        let engine = engine.into();
        // Before any data: the side of the square images the model takes (0 if not square).
        let input = engine.cfg().input;
        let root = (input as f64).sqrt().round() as usize;
        let side = if root * root == input { root as u32 } else { 0 };
        Session {
            engine,
            side,
            clock,
            last_time: clock(),
            newest: None,
            held: Vec::new(),
            eval: None,
        }
    }

    /// The CPU engine's model from `cfg` with no data.
    pub fn open_cpu(cfg: &VaeConfig, clock: fn() -> f64) -> Result<Self> {
        Ok(Self::new(Engine::open_cpu(cfg)?, clock))
    }

    /// The model from `cfg`, no data, on the engine `choice` resolves to (`device`: the
    /// adapter a face opened, none when there is no usable one; see [`Engine::open`]); and why
    /// that engine.
    pub async fn open(
        choice: EngineChoice,
        device: Option<&Device>,
        cfg: &VaeConfig,
        clock: fn() -> f64,
    ) -> Result<(Self, String)> {
        let (engine, why) = Engine::open(choice, device, cfg).await?;
        Ok((Self::new(engine, clock), why))
    }

    /// [`Session::open`] with `train` and `test` loaded.
    pub async fn open_with_data(
        choice: EngineChoice,
        device: Option<&Device>,
        cfg: &VaeConfig,
        data: (Dataset, Dataset),
        clock: fn() -> f64,
    ) -> Result<(Self, String)> {
        let (engine, why) = Engine::open_with_data(choice, device, cfg, data).await?;
        Ok((Self::new(engine, clock), why))
    }

    /// The device of the WebGPU engine (none on the CPU engine).
    pub fn device(&self) -> Option<Device> {
        self.engine.device()
    }

    /// Steps between two readbacks of the losses on the WebGPU engine (the CLI's
    /// `--log-interval`); the CPU engine reports every step at once.
    pub fn set_readback_every(&mut self, steps: u32) {
        self.engine.set_readback_every(steps);
    }

    /// Where the run stands.
    pub fn position(&self) -> Position {
        self.engine.position()
    }

    pub fn steps_per_epoch(&self) -> u32 {
        self.engine.steps_per_epoch()
    }

    /// True when the last step ended an epoch.
    pub fn epoch_finished(&self) -> bool {
        self.engine.epoch_finished()
    }

    /// Each stage of a training step with what runs it on this engine (WGSL entry points or the
    /// CPU engine's functions).
    pub fn stage_kernels(&self) -> Vec<(Stage, Vec<String>)> {
        self.engine.stage_kernels()
    }

    /// The engine (its kind, position, parameters).
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    pub fn status(&self) -> Status {
        let t = &self.engine;
        Status {
            epochs: t.cfg().epochs as u32,
            input: t.cfg().input as u32,
            hidden: t.cfg().hidden as u32,
            latent: t.cfg().latent as u32,
            side: self.side,
            steps_per_epoch: t.steps_per_epoch(),
            position: t.position(),
            test_count: t.test_len(),
            last_good_step: t.last_good_step(),
            lr: t.cfg().lr,
            kl_weight: t.cfg().kl_weight,
            variational: t.cfg().variational,
            reparameterize: t.cfg().reparameterize,
        }
    }

    /// Loads MNIST-format data from four IDX files' bytes (raw or gzip). Errors name the file
    /// and the defect; on error the data loaded before stays in place.
    pub fn load_idx(&mut self, files: [&[u8]; 4]) -> Result<()> {
        let [ti, tl, xi, xl] = files;
        let [ni, nl, mi, ml] = mnist::FILE_ROLES;
        let train = Dataset::from_idx(ti, tl, (ni, nl))?;
        // The same files as both (a page showing a model before the training set is in):
        // decompressed and checked once.
        let test = if (xi, xl) == (ti, tl) {
            train.clone()
        } else {
            Dataset::from_idx(xi, xl, (mi, ml))?
        };
        self.attach(train, test)
    }

    /// Takes `train` and `test` (square images of one size) to the engine: uploaded once to
    /// the GPU, or kept (moved, not copied) by the CPU engine; the parameters are kept.
    pub fn attach(&mut self, train: Dataset, test: Dataset) -> Result<()> {
        test.check_same_shape(&train, "test images")?;
        if train.rows != train.cols {
            return Err(VaeError::config(
                "input",
                format!(
                    "images must be square, these are {}×{}",
                    train.rows, train.cols
                ),
            ));
        }
        let side = train.rows;
        self.engine.attach_data(train, test)?;
        self.side = side;
        self.eval = None;
        Ok(())
    }

    /// Submits up to `steps` (at least 1) training steps, stopping at the end of an epoch, and
    /// returns the losses read back so far. Waits for the previous call's steps, not its own,
    /// so the GPU stays busy while the caller stays responsive.
    pub async fn train(&mut self, steps: u32) -> Result<TrainReport> {
        self.train_until(steps, &mut || false).await
    }

    /// [`Session::train`], ending early once `stop()` says so (asked after each step but the
    /// last on the CPU engine; see [`Engine::train_until`]): a caller that must answer another
    /// request soon lets long calls end at the next step.
    pub async fn train_until(
        &mut self,
        steps: u32,
        stop: &mut dyn FnMut() -> bool,
    ) -> Result<TrainReport> {
        let records = self.engine.train_until(steps, stop).await?;
        let records = self.with_held(records);
        Ok(self.report(&records))
    }

    /// `records` after the ones held back (see `held`).
    fn with_held(&mut self, records: Vec<StepRecord>) -> Vec<StepRecord> {
        if self.held.is_empty() {
            return records;
        }
        let mut all = std::mem::take(&mut self.held);
        all.extend(records);
        all
    }

    /// Reads back every step in flight for a call that does not report them; they are held
    /// for the next report. A divergence surfaces here.
    async fn read_back(&mut self) -> Result<()> {
        let records = self.engine.flush().await?;
        self.held.extend(records);
        Ok(())
    }

    /// [`Session::train`] with each step's own record (batch sums, as the seed script prints
    /// them), for faces that print steps (the CLI).
    pub async fn steps(&mut self, steps: u32) -> Result<Vec<StepRecord>> {
        let records = self.engine.train(steps).await?;
        Ok(self.with_held(records))
    }

    /// [`Session::flush`] with each step's own record.
    pub async fn flush_steps(&mut self) -> Result<Vec<StepRecord>> {
        let records = self.engine.flush().await?;
        Ok(self.with_held(records))
    }

    /// Waits for every submitted step and returns their losses.
    pub async fn flush(&mut self) -> Result<TrainReport> {
        let records = self.engine.flush().await?;
        let records = self.with_held(records);
        Ok(self.report(&records))
    }

    fn report(&mut self, records: &[StepRecord]) -> TrainReport {
        let now = (self.clock)();
        let train: Vec<&StepRecord> = records
            .iter()
            .filter(|r| r.kind == StepKind::Train)
            .collect();
        let rows: u32 = train.iter().map(|r| r.rows).sum();
        let secs = ((now - self.last_time) / 1000.0).max(1e-6);
        if !train.is_empty() {
            self.last_time = now;
        }
        let per = |r: &StepRecord, v: f32| f64::from(v) / f64::from(r.rows.max(1));
        if let Some(r) = train.last() {
            self.newest = Some((per(r, r.recon), per(r, r.kl)));
        }
        let (reconstruction, kl) = self.newest.unwrap_or((f64::NAN, f64::NAN));
        let t = &self.engine;
        TrainReport {
            position: t.position(),
            steps_per_epoch: t.steps_per_epoch(),
            epoch_finished: t.epoch_finished(),
            reconstruction,
            kl,
            samples_per_sec: if train.is_empty() {
                0.0
            } else {
                f64::from(rows) / secs
            },
            records: train
                .iter()
                .flat_map(|r| {
                    [
                        r.global_step as f64,
                        r.epoch as f64,
                        per(r, r.recon),
                        per(r, r.kl),
                    ]
                })
                .collect(),
        }
    }

    /// Test-set loss per sample (every test image once; ε drawn as in training).
    pub async fn evaluate(&mut self) -> Result<EvalReport> {
        let r = self.engine.evaluate().await?;
        Ok(eval_report(&r))
    }

    /// The test-set loss in parts of at most `max_batches` test batches a call, so that other
    /// calls (a hover's decode, a drawn digit's encoding) can run between them: the same figures,
    /// bit for bit, as [`Session::evaluate`] on the same model, whatever runs between the parts
    /// (the evaluation's ε are reserved when it starts). A training step, new weights or a reset
    /// in between start it over.
    pub async fn evaluate_some(&mut self, max_batches: u32) -> Result<EvalProgress> {
        let step = self.engine.position().global_step;
        let mut cur = match self.eval.take() {
            Some(c) if c.global_step == step => c,
            _ => EvalCursor {
                batches: self.engine.eval_batches()?,
                base: self.engine.reserve_eval()?,
                next: 0,
                global_step: step,
                sum: EvalResult {
                    recon: 0.0,
                    kl: 0.0,
                    count: 0,
                },
            },
        };
        let count = max_batches.max(1).min(cur.batches - cur.next);
        let part = self.engine.evaluate_part(cur.next, count, cur.base).await?;
        cur.sum.recon += part.recon;
        cur.sum.kl += part.kl;
        cur.sum.count += part.count;
        cur.next += count;
        let (batches_done, batches) = (cur.next, cur.batches);
        let report = if cur.next >= cur.batches {
            Some(eval_report(&cur.sum))
        } else {
            self.eval = Some(cur);
            None
        };
        Ok(EvalProgress {
            batches_done,
            batches,
            report,
        })
    }

    fn chunk_rows(&self) -> usize {
        self.engine.capacity().max(1) as usize
    }

    /// The pixels of test images `ids`, and their reconstructions (ε drawn as in training).
    pub async fn test_images(&mut self, ids: &[u32]) -> Result<(Vec<f32>, Vec<f32>)> {
        if ids.len() > MAX_REQUEST_ROWS {
            return Err(too_many("test image ids", ids.len()));
        }
        let (mut x, mut recon) = (Vec::new(), Vec::new());
        for chunk in ids.chunks(self.chunk_rows()) {
            let (a, b) = self.engine.reconstruct_images(chunk, true).await?;
            x.extend(a);
            recon.extend(b);
        }
        Ok((x, recon))
    }

    /// The pixels (side² each, in [0, 1]) of test images `ids`.
    pub async fn test_digits(&mut self, ids: &[u32]) -> Result<Vec<f32>> {
        Ok(self.test_images(ids).await?.0)
    }

    /// The first `n` test images (fewer if the test set is smaller) followed by their
    /// reconstructions: 2·n images.
    pub async fn reconstruct(&mut self, n: u32) -> Result<Vec<f32>> {
        let n = n.min(self.engine.test_len());
        let ids: Vec<u32> = (0..n).collect();
        let (mut x, recon) = self.test_images(&ids).await?;
        x.extend(recon);
        Ok(x)
    }

    /// The training batch of the newest step (the epoch's first before any step), in the epoch's
    /// shuffled order: its images (rows × IN), their μ and log σ² (rows × L each) under the
    /// parameters in place. What "128 inputs, 128 normals" means, live.
    pub async fn current_batch(&mut self) -> Result<(Vec<f32>, Vec<f32>, Vec<f32>)> {
        let t = &self.engine;
        let n = t.train_len() as usize;
        if n == 0 {
            return Err(VaeError::NoData("load one to see a batch".into()));
        }
        let pos = t.position();
        let (epoch, done) = (pos.epoch.max(1), pos.step_in_epoch.max(1) as usize);
        let batch = t.cfg().batch_size;
        let order = crate::rng::shuffle(t.cfg().seed, epoch - 1, n);
        let start = ((done - 1) * batch).min((n - 1) / batch * batch);
        let ids = &order[start..(start + batch).min(n)];
        let (mut x, mut mu, mut lv) = (Vec::new(), Vec::new(), Vec::new());
        for chunk in ids.chunks(self.chunk_rows()) {
            let (a, b, c) = self.engine.encode_images(chunk, false).await?;
            x.extend(a);
            mu.extend(b);
            lv.extend(c);
        }
        Ok((x, mu, lv))
    }

    /// The last batch of the current epoch (training images, in the epoch's shuffled order) and
    /// its reconstructions by the model in place, as the seed's script shows after each epoch.
    pub async fn last_batch(&mut self) -> Result<(Vec<f32>, Vec<f32>)> {
        let epoch = self.engine.position().epoch;
        if epoch == 0 {
            return Err(VaeError::NoData("train an epoch first".into()));
        }
        self.last_batch_of(epoch).await
    }

    /// The last batch of epoch `epoch` (1-based; the run's shuffle for that epoch) and its
    /// reconstructions by the model in place (e.g. a loaded model's, whatever its position).
    pub async fn last_batch_of(&mut self, epoch: u64) -> Result<(Vec<f32>, Vec<f32>)> {
        let t = &self.engine;
        let n = t.train_len() as usize;
        if n == 0 {
            return Err(VaeError::NoData("no training data".into()));
        }
        if epoch == 0 {
            return Err(VaeError::config("epoch", "epochs count from 1"));
        }
        let batch = t.cfg().batch_size;
        let order = crate::rng::shuffle(t.cfg().seed, epoch - 1, n);
        let start = (n - 1) / batch * batch;
        let (mut x, mut recon) = (Vec::new(), Vec::new());
        for chunk in order[start..].chunks(self.chunk_rows()) {
            let (a, b) = self.engine.reconstruct_images(chunk, false).await?;
            x.extend(a);
            recon.extend(b);
        }
        Ok((x, recon))
    }

    /// μ and log σ² (each rows × latent) of one or more inputs (rows × input pixels).
    pub async fn encode(&mut self, pixels: &[f32]) -> Result<(Vec<f32>, Vec<f32>)> {
        let input = self.engine.cfg().input;
        if pixels.is_empty() || !pixels.len().is_multiple_of(input) {
            return Err(VaeError::Input {
                what: "pixels",
                message: format!(
                    "encode takes whole inputs of {input} pixels each; got {} values",
                    pixels.len()
                ),
            });
        }
        if pixels.len() / input > MAX_REQUEST_ROWS {
            return Err(too_many("inputs", pixels.len() / input));
        }
        let (mut mu, mut log_var) = (Vec::new(), Vec::new());
        for chunk in pixels.chunks(self.chunk_rows() * input) {
            let (m, l) = self.engine.encode(chunk, chunk.len() / input).await?;
            mu.extend(m);
            log_var.extend(l);
        }
        Ok((mu, log_var))
    }

    /// The reconstruction term's gradient with respect to z for one input (`pixels`, in
    /// [0, 1]) decoded from `z`: ∂BCE/∂z_j (L values), and the BCE of the pair. Through
    /// z = μ + σ·ε it is what reaches μ_j (×1) and log σ²_j (×½·σ_j·ε_j) with the trick — and
    /// nothing without it. Computed in f64 from the parameters in place (read back once).
    pub async fn reconstruction_gradient(
        &mut self,
        pixels: &[f32],
        z: &[f32],
    ) -> Result<(Vec<f32>, f64)> {
        let (input, latent) = (self.engine.cfg().input, self.engine.cfg().latent);
        let bad = |what: &'static str, message: String| Err(VaeError::Input { what, message });
        if pixels.len() != input {
            return bad(
                "pixels",
                format!("one input of {input} pixels; got {} values", pixels.len()),
            );
        }
        if let Some(v) = pixels.iter().find(|v| !(0.0..=1.0).contains(*v)) {
            return bad("pixels", format!("pixels are in [0, 1]; got {v}"));
        }
        if z.len() != latent {
            return bad(
                "z",
                format!("one latent vector of {latent} values; got {}", z.len()),
            );
        }
        if let Some(v) = z.iter().find(|v| !v.is_finite()) {
            return bad("z", format!("latent values are finite numbers; got {v}"));
        }
        let flat = self.engine.read_params().await?;
        let p = crate::reference::RefParams::from_flat(self.engine.layout(), &flat);
        let f64s = |v: &[f32]| v.iter().map(|&x| f64::from(x)).collect::<Vec<_>>();
        let (dz, bce) = crate::reference::reconstruction_grad_z(&p, &f64s(pixels), &f64s(z));
        Ok((dz.into_iter().map(|g| g as f32).collect(), bce))
    }

    /// Pixels (input each, in [0, 1]) decoded from one or more latent vectors.
    pub async fn decode(&mut self, z: &[f32]) -> Result<Vec<f32>> {
        let l = self.engine.cfg().latent;
        if z.is_empty() || !z.len().is_multiple_of(l) {
            return Err(VaeError::Input {
                what: "z",
                message: format!(
                    "decode takes whole latent vectors of {l} values each; got {} values",
                    z.len()
                ),
            });
        }
        if z.len() / l > MAX_REQUEST_ROWS {
            return Err(too_many("latent vectors", z.len() / l));
        }
        let mut out = Vec::with_capacity(z.len() / l * self.engine.cfg().input);
        for chunk in z.chunks(self.chunk_rows() * l) {
            out.extend(self.engine.decode(chunk, chunk.len() / l).await?);
        }
        Ok(out)
    }

    /// `n` images decoded from z ~ N(0, I) drawn with `seed` (none for `n` = 0).
    pub async fn sample(&mut self, n: u32, seed: u64) -> Result<Vec<f32>> {
        if n == 0 {
            return Ok(Vec::new());
        }
        if n as usize > MAX_REQUEST_ROWS {
            return Err(too_many("samples", n as usize));
        }
        let z = crate::rng::prior_z(n as usize, self.engine.cfg().latent, seed);
        self.decode(&z).await
    }

    /// Test images `a` and `b` encoded to μ, and `steps` (at least 2) decodes along the
    /// straight line between the two μ, ends included.
    pub async fn latent_walk(&mut self, a: u32, b: u32, steps: u32) -> Result<Vec<f32>> {
        let steps = steps.max(2) as usize;
        if steps > MAX_REQUEST_ROWS {
            return Err(too_many("walk steps", steps));
        }
        let (mu, _) = self.engine.encode_test(&[a, b]).await?;
        let l = self.engine.cfg().latent;
        let mut z = Vec::with_capacity(steps * l);
        for s in 0..steps {
            let t = s as f32 / (steps - 1) as f32;
            z.extend((0..l).map(|j| mu[j] * (1.0 - t) + mu[l + j] * t));
        }
        self.decode(&z).await
    }

    /// μ (n × latent) of the first `n` test images (fewer if the test set is smaller) and their
    /// labels.
    pub async fn latent_means(&mut self, n: u32) -> Result<(Vec<f32>, Vec<u8>)> {
        let n = n.min(self.engine.test_len());
        let labels = self.engine.test_labels(n as usize)?;
        let ids: Vec<u32> = (0..n).collect();
        let mut mu = Vec::with_capacity(n as usize * self.engine.cfg().latent);
        for chunk in ids.chunks(self.chunk_rows()) {
            mu.extend(self.engine.encode_test(chunk).await?.0);
        }
        Ok((mu, labels))
    }

    /// μ of the first `n` test images in two dimensions with their labels: the latent space
    /// itself when it is 2-D, otherwise its two principal components. `n` is clamped to the test
    /// set and to [`pca::max_points`] (all 10,000 at latent 20; 190 at latent 1024), so the
    /// PCA stays within [`pca::PCA_BUDGET`].
    pub async fn latent_map(&mut self, n: u32) -> Result<LatentMap> {
        let most = pca::max_points(self.engine.cfg().latent);
        let (mu, labels) = self.latent_means(n.min(most as u32)).await?;
        let l = self.engine.cfg().latent;
        let projection = pca::pca2(&mu, labels.len(), l);
        let direct = l == 2;
        let points: Vec<f32> = if direct {
            mu.clone()
        } else {
            mu.chunks_exact(l)
                .flat_map(|p| projection.project(p).map(|v| v as f32))
                .collect()
        };
        Ok(LatentMap {
            points,
            labels,
            pca: !direct,
            explained: projection.explained.to_vec(),
            mean: projection.mean.iter().map(|&v| v as f32).collect(),
            components: projection
                .components
                .iter()
                .flatten()
                .map(|&v| v as f32)
                .collect(),
        })
    }

    /// The metadata this session's checkpoints carry.
    pub fn run_meta(&self) -> RunMeta {
        let t = &self.engine;
        let pos = t.position();
        RunMeta {
            step: pos.global_step,
            epoch: pos.epoch,
            step_in_epoch: Some(pos.step_in_epoch),
            steps_per_epoch: Some(t.steps_per_epoch()),
            seed: Some(t.cfg().seed),
            lr: Some(t.cfg().lr),
            variational: Some(t.cfg().variational),
            kl_weight: Some(t.cfg().kl_weight),
            reparameterize: Some(t.cfg().reparameterize),
        }
    }

    /// The parameters as safetensors with PyTorch's names and the run's place
    /// ([`checkpoint::keys`]). Every step in flight is read back first: a run that diverged
    /// meanwhile is refused here (its last good state is put back, and the error says so;
    /// export again to get it), never written. The steps read back are reported by the next
    /// call that reports steps.
    pub async fn export_checkpoint(&mut self) -> Result<Vec<u8>> {
        self.read_back().await?;
        let flat = self.engine.read_params().await?;
        checkpoint::save(self.engine.layout(), &flat, &self.run_meta().to_pairs())
    }

    /// Adam's state (moments and step count) for a file beside the checkpoint of the same step:
    /// with both, [`Session::resume_with_adam`] goes on exactly as if the run never stopped.
    pub async fn export_adam(&mut self) -> Result<Vec<u8>> {
        self.read_back().await?;
        let (m, v) = self.engine.read_adam_state().await?;
        let state = AdamState {
            m,
            v,
            t: self.engine.adam_t(),
            step: self.engine.position().global_step,
        };
        state.save(self.engine.layout())
    }

    /// Loads a checkpoint's weights (ours, or PyTorch's `save_file`); the run's count goes on
    /// and Adam restarts. A checkpoint of other shapes is refused and the model kept.
    pub fn import_checkpoint(&mut self, bytes: &[u8]) -> Result<()> {
        let flat = checkpoint::load(self.engine.layout(), bytes)?;
        self.engine.load_params(&flat)?;
        self.newest = None;
        self.eval = None;
        Ok(())
    }

    /// Where a checkpoint's run stood, resolved against the loaded data: files that do not
    /// record the place in the epoch (the CLI's before the schema) derive it from the step
    /// count. Checks it without changing anything.
    pub fn checkpoint_position(&self, bytes: &[u8]) -> Result<Position> {
        let meta = checkpoint::metadata(bytes)?;
        let Some(run) = RunMeta::read(&meta)? else {
            return Err(VaeError::Checkpoint(
                "it does not say where its run stopped (step, epoch); load its weights with \
                 importCheckpoint instead"
                    .into(),
            ));
        };
        if !self.engine.has_data() {
            return Err(VaeError::NoData("load one before resuming a run".into()));
        }
        let spe = u64::from(self.engine.steps_per_epoch());
        let step_in_epoch = match run.step_in_epoch {
            Some(s) => s,
            None => {
                let before = run.epoch.saturating_sub(1) * spe;
                let s = run.step.checked_sub(before).filter(|&s| s <= spe);
                let s = s.ok_or_else(|| {
                    VaeError::Checkpoint(format!(
                        "step {} cannot fall in epoch {} at {spe} steps per epoch; was it \
                         trained on other data?",
                        run.step, run.epoch
                    ))
                })?;
                s as u32
            }
        };
        let pos = Position {
            global_step: run.step,
            epoch: run.epoch,
            step_in_epoch,
        };
        self.engine.check_position(pos)?;
        // A run goes on with its own objective: an autoencoder's is not a VAE's, nor is a run
        // with the trick switched off one with it.
        let cfg = self.engine.cfg();
        let kind = |variational: bool, trick: bool| match (variational, trick) {
            (false, _) => "an autoencoder (variational: false)",
            (true, true) => "a VAE",
            (true, false) => "a VAE without the reparameterization trick (reparameterize: false)",
        };
        let here = (cfg.variational, cfg.reparameterize);
        let there = (
            run.variational.unwrap_or(here.0),
            run.reparameterize.unwrap_or(here.1),
        );
        if kind(there.0, there.1) != kind(here.0, here.1) {
            return Err(VaeError::Checkpoint(format!(
                "it is {}'s run and this trainer is {}: resume it in a trainer of its kind, or \
                 load its weights alone with importCheckpoint",
                kind(there.0, there.1),
                kind(here.0, here.1)
            )));
        }
        Ok(pos)
    }

    /// Loads a checkpoint and continues its run: step count, epoch and place in the epoch come
    /// from its metadata (so the shuffle and the loss plot go on where they were); Adam
    /// restarts. All or nothing: on any error the model and the run are as before.
    pub fn resume(&mut self, bytes: &[u8]) -> Result<Position> {
        let flat = checkpoint::load(self.engine.layout(), bytes)?;
        let pos = self.checkpoint_position(bytes)?;
        self.engine.load_params(&flat)?;
        self.engine.resume_at(pos)?;
        self.newest = None;
        self.held.clear();
        self.eval = None;
        Ok(pos)
    }

    /// [`Session::resume`], and Adam's state from `adam` ([`Session::export_adam`] of the same
    /// step) instead of a restart: the run goes on exactly where it stopped. All or nothing.
    pub fn resume_with_adam(&mut self, bytes: &[u8], adam: &[u8]) -> Result<Position> {
        let state = AdamState::load(self.engine.layout(), adam)?;
        let pos = self.checkpoint_position(bytes)?;
        if state.step != pos.global_step {
            return Err(VaeError::Checkpoint(format!(
                "Adam's state is of step {}, the checkpoint of step {}",
                state.step, pos.global_step
            )));
        }
        self.resume(bytes)?;
        self.engine.load_adam(&state.m, &state.v, state.t)?;
        Ok(pos)
    }

    /// Changes the KL weight β from the next step on (Adam's state is kept).
    pub fn set_kl_weight(&mut self, kl_weight: f32) -> Result<()> {
        self.engine.set_kl_weight(kl_weight)
    }

    /// Switches the reparameterization trick on or off from the next step on (a VAE only;
    /// Adam's state is kept). Off, z is sampled as before but the reconstruction's gradient no
    /// longer reaches μ and σ.
    pub fn set_reparameterize(&mut self, on: bool) -> Result<()> {
        self.engine.set_reparameterize(on)
    }

    /// Changes the learning rate from the next step on (Adam's state is kept).
    pub fn set_lr(&mut self, lr: f32) -> Result<()> {
        self.engine.set_lr(lr)
    }

    /// Parameters back to the seed's initialisation, and the epoch count to zero.
    pub async fn reset(&mut self) -> Result<()> {
        self.newest = None;
        self.held.clear();
        self.eval = None;
        self.engine.reset().await
    }

    /// Times each stage of a training step on a model of its own (this one is untouched).
    pub async fn profile_step(&mut self) -> Result<StepProfile> {
        self.read_back().await?;
        self.engine.profile_step(&self.clock).await
    }
}
