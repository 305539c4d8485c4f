//! The JavaScript API (wasm-bindgen): a `Trainer` over the same core the native CLI uses, plus a
//! canvas helper. Every method that touches the GPU is async and never blocks the main thread;
//! errors are `JsError`s with the crate's messages.
//!
//! ```js
//! import init, { Trainer, drawGrid } from "vae-webgpu";
//! await init();
//! const t = await Trainer.create({ batchSize: 128, lr: 1e-3 });
//! t.loadDataset(trainImages, trainLabels, testImages, testLabels); // raw or gzip IDX bytes
//! const stats = await t.train(8);   // { epoch, stepInEpoch, reconstruction, kl, samplesPerSec, … }
//! drawGrid(canvas, await t.sample(64, 1), 28, 8);
//! ```

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::checkpoint;
use crate::config::VaeConfig;
use crate::error::VaeError;
use crate::gpu::Gpu;
use crate::mnist::Dataset;
use crate::model::StepKind;
use crate::pca;
use crate::render::{gray_to_rgba, grid};
use crate::train;

#[wasm_bindgen(start)]
pub fn start() {
    console_error_panic_hook::set_once();
}

fn js(e: VaeError) -> JsError {
    JsError::new(&e.to_string())
}

/// A field of the JS config object: `None` when absent, an error naming the field when it is
/// not a number.
fn field(obj: &JsValue, name: &str) -> Result<Option<f64>, JsError> {
    if obj.is_undefined() || obj.is_null() {
        return Ok(None);
    }
    let v = js_sys::Reflect::get(obj, &JsValue::from_str(name))
        .map_err(|_| JsError::new(&format!("config.{name} cannot be read")))?;
    if v.is_undefined() || v.is_null() {
        return Ok(None);
    }
    match v.as_f64() {
        Some(x) => Ok(Some(x)),
        None => Err(JsError::new(&format!("config.{name} must be a number"))),
    }
}

fn whole(obj: &JsValue, name: &str, default: usize) -> Result<usize, JsError> {
    match field(obj, name)? {
        None => Ok(default),
        Some(x) if x.is_finite() && x >= 0.0 && x.fract() == 0.0 && x <= 1e9 => Ok(x as usize),
        Some(x) => Err(JsError::new(&format!(
            "config.{name} must be a whole number ≥ 0, got {x}"
        ))),
    }
}

/// Builds a [`VaeConfig`] from `{ epochs, batchSize, lr, hidden, latent, seed }` (all optional;
/// the PyTorch reference's defaults otherwise) and validates it.
fn config_from_js(obj: &JsValue) -> Result<VaeConfig, JsError> {
    let d = VaeConfig::default();
    let cfg = VaeConfig {
        epochs: whole(obj, "epochs", d.epochs)?,
        batch_size: whole(obj, "batchSize", d.batch_size)?,
        hidden: whole(obj, "hidden", d.hidden)?,
        latent: whole(obj, "latent", d.latent)?,
        input: whole(obj, "input", d.input)?,
        seed: whole(obj, "seed", d.seed as usize)? as u64,
        lr: field(obj, "lr")?.map_or(d.lr, |x| x as f32),
        ..d
    };
    cfg.validate(None).map_err(js)?;
    Ok(cfg)
}

fn webgpu_present() -> bool {
    let global = js_sys::global();
    let navigator = js_sys::Reflect::get(&global, &JsValue::from_str("navigator"))
        .unwrap_or(JsValue::UNDEFINED);
    !navigator.is_undefined()
        && js_sys::Reflect::get(&navigator, &JsValue::from_str("gpu"))
            .is_ok_and(|g| !g.is_undefined() && !g.is_null())
}

/// Losses and progress after a call to [`Trainer::train`].
#[wasm_bindgen(getter_with_clone)]
#[derive(Debug, Clone)]
pub struct TrainStats {
    /// 1-based epoch in progress (or just finished).
    pub epoch: u32,
    #[wasm_bindgen(js_name = stepInEpoch)]
    pub step_in_epoch: u32,
    #[wasm_bindgen(js_name = stepsPerEpoch)]
    pub steps_per_epoch: u32,
    /// Training steps submitted so far (Adam's t).
    #[wasm_bindgen(js_name = globalStep)]
    pub global_step: u32,
    /// True when the epoch's last step has been submitted.
    #[wasm_bindgen(js_name = epochFinished)]
    pub epoch_finished: bool,
    /// Reconstruction loss (Σ BCE) per sample of the newest step read back; NaN if none yet.
    pub reconstruction: f64,
    /// KL per sample of the newest step read back; NaN if none yet.
    pub kl: f64,
    /// Training samples per second over the steps read back in this call.
    #[wasm_bindgen(js_name = samplesPerSec)]
    pub samples_per_sec: f64,
    /// Steps read back in this call, flat: [globalStep, epoch, reconstruction, kl] per step
    /// (losses per sample), for plotting.
    pub records: Vec<f64>,
}

/// One stage of a training step, timed on its own by [`Trainer::profile_step`].
#[wasm_bindgen(getter_with_clone)]
#[derive(Debug, Clone)]
pub struct StageTiming {
    /// "fc1 forward", "loss", "adam", ….
    pub name: String,
    /// Milliseconds per step.
    pub ms: f64,
    /// Useful GFLOP/s of its matrix products (0 for stages without any).
    pub gflops: f64,
}

/// A training step stage by stage, against the adapter's multiply-add peak.
#[wasm_bindgen(getter_with_clone)]
#[derive(Debug, Clone)]
pub struct StepTimings {
    pub batch: u32,
    /// The multiply-add probe's GFLOP/s: the ceiling for every figure here.
    #[wasm_bindgen(js_name = peakGflops)]
    pub peak_gflops: f64,
    /// A whole step, from consecutive steps in one submit.
    #[wasm_bindgen(js_name = stepMs)]
    pub step_ms: f64,
    /// Useful GFLOP/s of a whole step.
    #[wasm_bindgen(js_name = stepGflops)]
    pub step_gflops: f64,
    pub stages: Vec<StageTiming>,
}

/// WebGPU's adapter and device, or an error that says what is missing.
async fn open_gpu() -> Result<Gpu, JsError> {
    if !webgpu_present() {
        return Err(JsError::new(
            "WebGPU is not available in this browser (navigator.gpu is missing). Use a recent \
             Chrome or Edge (113+), or Safari 26 / Firefox 141+ with WebGPU on; in Chromium on \
             Linux start it with --enable-unsafe-webgpu or enable chrome://flags/#enable-unsafe-webgpu.",
        ));
    }
    Gpu::new().await.map_err(|e| match e {
        VaeError::NoAdapter(m) => {
            web_sys::console::warn_1(&format!("requestAdapter: {m}").into());
            JsError::new(
                "WebGPU is present but no GPU adapter is available: the GPU may be blocklisted \
                 or disabled (see chrome://gpu). On Linux, enable \
                 chrome://flags/#enable-unsafe-webgpu and relaunch.",
            )
        }
        other => js(other),
    })
}

/// Checks that this browser can give the trainer a WebGPU device (adapter, device and the
/// limits the trainer needs) without building a model, and returns the adapter's name. The
/// device is released at once. Rejects with the same messages as `Trainer.create`.
#[wasm_bindgen(js_name = checkGpu)]
pub async fn check_gpu() -> Result<String, JsError> {
    Ok(open_gpu().await?.adapter_name())
}

/// The encoder's output for a batch of inputs: μ and log σ², each rows × latent.
#[wasm_bindgen(getter_with_clone)]
#[derive(Debug, Clone)]
pub struct Encoding {
    pub mu: Vec<f32>,
    #[wasm_bindgen(js_name = logVar)]
    pub log_var: Vec<f32>,
}

/// Test digits placed in two dimensions by their μ.
#[wasm_bindgen(getter_with_clone)]
#[derive(Debug, Clone)]
pub struct LatentMap {
    /// (x, y) per digit, flat.
    pub points: Vec<f32>,
    /// The digits' labels.
    pub labels: Vec<u8>,
    /// True when the points are the first two principal components of μ (latent size ≠ 2);
    /// false when they are μ itself.
    pub pca: bool,
    /// Fraction of μ's variance along each of the two components.
    pub explained: Vec<f64>,
    /// Mean of μ (latent values) and the two components (2 × latent, flat): a point (a, b) of
    /// the map is mean + a·components[0] + b·components[1] in latent space.
    pub mean: Vec<f32>,
    pub components: Vec<f32>,
}

/// Turns a square drawing (`size`×`size`, 0 = background, 1 = ink) into an MNIST-like input of
/// `side`×`side` pixels: scaled into a 20×20 box and centred by mass, as MNIST's digits were.
#[wasm_bindgen(js_name = drawingToInput)]
pub fn drawing_to_input(ink: &[f32], size: u32, side: u32) -> Vec<f32> {
    crate::draw::to_mnist(ink, size as usize, side as usize)
}

/// GPU buffers this module holds right now, with their total bytes (buffers are counted at
/// creation and when freed; see `gpu::live_buffers`). Flat over a long run means no leak.
#[wasm_bindgen(getter_with_clone)]
pub struct LiveBuffers {
    pub count: u32,
    pub bytes: f64,
}

#[wasm_bindgen(js_name = liveGpuBuffers)]
pub fn live_gpu_buffers() -> LiveBuffers {
    let (count, bytes) = crate::gpu::live_buffers();
    LiveBuffers {
        count: count as u32,
        bytes: bytes as f64,
    }
}

/// Test-set loss per sample (ε drawn as in training).
#[wasm_bindgen]
#[derive(Debug, Clone, Copy)]
pub struct EvalStats {
    pub reconstruction: f64,
    pub kl: f64,
    pub loss: f64,
    pub count: u32,
}

/// What the getters report, copied out after every call so they answer even while a call is in
/// flight.
#[derive(Debug, Clone, Copy, Default)]
struct Status {
    epochs: u32,
    latent: u32,
    side: u32,
    steps_per_epoch: u32,
    global_step: u32,
    epoch: u32,
    step_in_epoch: u32,
    test_count: u32,
    last_good_step: u32,
    lr: f32,
}

/// Trains the VAE on this page's GPU. Create with `await Trainer.create(config)`. Calls that
/// touch the GPU are async; await each before the next (a second call while one is in flight
/// is refused with a message). Getters answer at any time.
#[wasm_bindgen]
pub struct Trainer {
    session: std::cell::RefCell<Option<Session>>,
    status: std::cell::Cell<Status>,
    adapter: String,
    gemm_form: String,
    lost: crate::gpu::LostHandle,
}

impl Trainer {
    fn take(&self) -> Result<Session, JsError> {
        self.session.borrow_mut().take().ok_or_else(|| {
            JsError::new(
                "the trainer is busy with another call; await each call before starting the next",
            )
        })
    }

    fn put(&self, s: Session) {
        self.status.set(s.status());
        *self.session.borrow_mut() = Some(s);
    }
}

#[wasm_bindgen]
impl Trainer {
    /// Requests a WebGPU adapter and device and builds the model from `config`
    /// (`{ epochs, batchSize, lr, hidden, latent, seed }`, all optional). Rejects with a message
    /// saying what is missing when the browser has no WebGPU or no adapter.
    pub async fn create(config: JsValue) -> Result<Trainer, JsError> {
        let s = Session::create(config).await?;
        let t = Trainer {
            adapter: s.adapter(),
            gemm_form: s.gemm_form(),
            status: std::cell::Cell::new(s.status()),
            session: std::cell::RefCell::new(None),
            lost: s.inner.gpu.lost_handle(),
        };
        t.put(s);
        Ok(t)
    }

    /// The adapter in use (browsers may withhold its name).
    #[wasm_bindgen(getter)]
    pub fn adapter(&self) -> String {
        self.adapter.clone()
    }

    /// Which matrix-multiply form the adapter got: "Direct" or "Tiled".
    #[wasm_bindgen(getter, js_name = gemmForm)]
    pub fn gemm_form(&self) -> String {
        self.gemm_form.clone()
    }

    #[wasm_bindgen(getter)]
    pub fn epochs(&self) -> u32 {
        self.status.get().epochs
    }

    #[wasm_bindgen(getter)]
    pub fn latent(&self) -> u32 {
        self.status.get().latent
    }

    /// Side of the (square) images, in pixels.
    #[wasm_bindgen(getter, js_name = imageSide)]
    pub fn image_side(&self) -> u32 {
        self.status.get().side
    }

    #[wasm_bindgen(getter, js_name = stepsPerEpoch)]
    pub fn steps_per_epoch(&self) -> u32 {
        self.status.get().steps_per_epoch
    }

    /// Training steps submitted so far.
    #[wasm_bindgen(getter, js_name = globalStep)]
    pub fn global_step(&self) -> u32 {
        self.status.get().global_step
    }

    /// Steps done in the current epoch.
    #[wasm_bindgen(getter, js_name = stepInEpoch)]
    pub fn step_in_epoch(&self) -> u32 {
        self.status.get().step_in_epoch
    }

    /// The epoch in progress or last finished (1-based; 0 before training).
    #[wasm_bindgen(getter)]
    pub fn epoch(&self) -> u32 {
        self.status.get().epoch
    }

    /// Number of test images loaded.
    #[wasm_bindgen(getter, js_name = testCount)]
    pub fn test_count(&self) -> u32 {
        self.status.get().test_count
    }

    /// Why the GPU device was lost (e.g. "Destroyed: …"), or `undefined` while it works. Once
    /// lost, every GPU call rejects; keep the last checkpoint you exported and `resume` it on a
    /// new `Trainer`.
    #[wasm_bindgen(getter, js_name = deviceLost)]
    pub fn device_lost(&self) -> Option<String> {
        self.lost.reason()
    }

    /// The training step whose parameters are the last ones read back finite (after a
    /// divergence, the parameters in place).
    #[wasm_bindgen(getter, js_name = lastGoodStep)]
    pub fn last_good_step(&self) -> u32 {
        self.status.get().last_good_step
    }

    /// The learning rate in use.
    #[wasm_bindgen(getter, js_name = learningRate)]
    pub fn learning_rate(&self) -> f32 {
        self.status.get().lr
    }

    /// Changes the learning rate from the next step on (Adam's state is kept), e.g. after a
    /// divergence. Rejects a value that is not a finite number in (0, 10].
    #[wasm_bindgen(js_name = setLearningRate)]
    pub fn set_learning_rate(&self, lr: f32) -> Result<(), JsError> {
        let mut s = self.take()?;
        let r = s.inner.set_lr(lr).map_err(js);
        self.put(s);
        r
    }

    /// Loads a checkpoint from `exportCheckpoint` and continues its run: the step count, epoch
    /// and position in the epoch come from its metadata (so the loss plot and the shuffle go
    /// on where they were), e.g. on a new device after the old one was lost. Adam restarts.
    pub fn resume(&self, bytes: &[u8]) -> Result<(), JsError> {
        let mut s = self.take()?;
        let r = s.resume(bytes);
        self.put(s);
        r
    }

    /// Loads MNIST-format data: four IDX files as bytes (raw or gzip). Errors name the file and
    /// the defect; on error the data loaded before stays in place.
    #[wasm_bindgen(js_name = loadDataset)]
    pub fn load_dataset(
        &self,
        train_images: &[u8],
        train_labels: &[u8],
        test_images: &[u8],
        test_labels: &[u8],
    ) -> Result<(), JsError> {
        let mut s = self.take()?;
        let r = s.load_dataset(train_images, train_labels, test_images, test_labels);
        self.put(s);
        r
    }

    /// Submits up to `steps` training steps (stopping at the end of an epoch; the next call
    /// starts the next epoch) and returns the losses read back so far. At most two calls' work is
    /// in flight: each call waits for the previous call's steps, not its own, so the GPU stays
    /// busy while the page stays responsive.
    pub async fn train(&self, steps: u32) -> Result<TrainStats, JsError> {
        let mut s = self.take()?;
        let r = s.train(steps).await;
        self.put(s);
        r
    }

    /// Benchmark: times each stage of a training step at this trainer's batch size and GEMM
    /// form on a model of its own with generated data (this trainer's parameters and progress
    /// are untouched), then a whole step, then the adapter's multiply-add peak. Takes seconds;
    /// steps still in flight are waited for first.
    #[wasm_bindgen(js_name = profileStep)]
    pub async fn profile_step(&self) -> Result<StepTimings, JsError> {
        let s = self.take()?;
        let cfg = s.inner.cfg().clone();
        let form = s.inner.model.kernels.linear.form;
        let r = crate::bench::profile_step(&s.inner.gpu, &cfg, form, &now_ms).await;
        self.put(s);
        let p = r.map_err(js)?;
        Ok(StepTimings {
            batch: p.batch,
            peak_gflops: p.peak_gflops,
            step_ms: p.step_ms,
            step_gflops: p.step_flop / p.step_ms / 1e6,
            stages: p
                .stages
                .iter()
                .map(|st| StageTiming {
                    name: st.name.clone(),
                    ms: st.ms,
                    gflops: st.gflops(),
                })
                .collect(),
        })
    }

    /// Waits for all submitted steps and returns their losses.
    pub async fn flush(&self) -> Result<TrainStats, JsError> {
        let mut s = self.take()?;
        let r = s.flush().await;
        self.put(s);
        r
    }

    /// Test-set loss per sample (every test image once; ε drawn as in training).
    pub async fn evaluate(&self) -> Result<EvalStats, JsError> {
        let mut s = self.take()?;
        let r = s.evaluate().await;
        self.put(s);
        r
    }

    /// The first `n` test images followed by their reconstructions: 2·n images of
    /// imageSide² pixels in [0, 1].
    pub async fn reconstruct(&self, n: u32) -> Result<Vec<f32>, JsError> {
        let mut s = self.take()?;
        let r = s.reconstruct(n).await;
        self.put(s);
        r
    }

    /// `n` images decoded from z ~ N(0, I) drawn with `seed`.
    pub async fn sample(&self, n: u32, seed: u32) -> Result<Vec<f32>, JsError> {
        let mut s = self.take()?;
        let r = s.sample(n, seed).await;
        self.put(s);
        r
    }

    /// A latent walk: test images `a` and `b` encoded to μ, and `steps` decodes along the
    /// straight line between the two μ (ends included).
    #[wasm_bindgen(js_name = latentWalk)]
    pub async fn latent_walk(&self, a: u32, b: u32, steps: u32) -> Result<Vec<f32>, JsError> {
        let mut s = self.take()?;
        let r = s.latent_walk(a, b, steps).await;
        self.put(s);
        r
    }

    /// The parameters as safetensors with PyTorch's names (`fc1.weight` … `fc5.bias`).
    #[wasm_bindgen(js_name = exportCheckpoint)]
    pub async fn export_checkpoint(&self) -> Result<Vec<u8>, JsError> {
        let mut s = self.take()?;
        let r = s.export_checkpoint().await;
        self.put(s);
        r
    }

    /// Loads a checkpoint made by `exportCheckpoint` (or PyTorch's `save_file`). A checkpoint
    /// of other shapes is rejected with a message and the current model is kept. Adam restarts.
    #[wasm_bindgen(js_name = importCheckpoint)]
    pub fn import_checkpoint(&self, bytes: &[u8]) -> Result<(), JsError> {
        let mut s = self.take()?;
        let r = s.import_checkpoint(bytes);
        self.put(s);
        r
    }

    /// The pixels (imageSide² each, in [0, 1]) of test images `ids`.
    #[wasm_bindgen(js_name = testDigits)]
    pub async fn test_digits(&self, ids: Vec<u32>) -> Result<Vec<f32>, JsError> {
        let mut s = self.take()?;
        let cap = s.inner.model.capacity as usize;
        let mut out = Vec::new();
        let mut r = Ok(());
        for chunk in ids.chunks(cap.max(1)) {
            match s.inner.reconstruct(chunk).await {
                Ok((x, _)) => out.extend(x),
                Err(e) => {
                    r = Err(js(e));
                    break;
                }
            }
        }
        self.put(s);
        r.map(|()| out)
    }

    /// μ and log σ² of one or more inputs (imageSide² pixels each, in [0, 1]), on the GPU.
    pub async fn encode(&self, pixels: Vec<f32>) -> Result<Encoding, JsError> {
        let mut s = self.take()?;
        let r = s.encode(&pixels).await;
        self.put(s);
        r
    }

    /// Pixels (imageSide² each, in [0, 1]) decoded from one or more latent vectors.
    pub async fn decode(&self, z: Vec<f32>) -> Result<Vec<f32>, JsError> {
        let mut s = self.take()?;
        let r = s.decode(&z).await;
        self.put(s);
        r
    }

    /// μ of the first `n` test images in two dimensions, with their labels: the latent space
    /// itself when it is 2-D, otherwise its two principal components (see `explained`).
    #[wasm_bindgen(js_name = latentMap)]
    pub async fn latent_map(&self, n: u32) -> Result<LatentMap, JsError> {
        let mut s = self.take()?;
        let r = s.latent_map(n).await;
        self.put(s);
        r
    }

    /// Parameters back to the seed's initialisation, and the epoch count to zero.
    pub async fn reset(&self) -> Result<(), JsError> {
        let mut s = self.take()?;
        let r = s.reset().await;
        self.put(s);
        r
    }
}

/// The state behind a JS `Trainer`; taken out of its cell for the length of each call.
struct Session {
    inner: train::Trainer,
    previous: Option<futures_channel::oneshot::Receiver<()>>,
    last_time: f64,
    side: u32,
}

fn now_ms() -> f64 {
    js_sys::Date::now()
}

impl Session {
    /// Requests a WebGPU adapter and device and builds the model from `config`
    /// (`{ epochs, batchSize, lr, hidden, latent, seed }`, all optional). Rejects with a message
    /// saying what is missing when the browser has no WebGPU or no adapter.
    async fn create(config: JsValue) -> Result<Session, JsError> {
        let cfg = config_from_js(&config)?;
        let gpu = open_gpu().await?;
        let inner = train::Trainer::without_data(gpu, &cfg).map_err(js)?;
        // Wait until the GPU process has taken every command so far, pipeline creation
        // included: a trainer freed while SwiftShader still compiled its pipelines could leave
        // Chromium's GPU process hung when the next device was requested.
        inner
            .gpu
            .read(&inner.model.stats, 0, 16)
            .await
            .map_err(js)?;
        Ok(Session {
            inner,
            previous: None,
            last_time: now_ms(),
            side: 28,
        })
    }

    /// The adapter in use, e.g. "SwiftShader Device (BrowserWebGpu, …)".
    fn adapter(&self) -> String {
        self.inner.gpu.adapter_name()
    }

    /// Which matrix-multiply form the adapter got: "Direct" or "Tiled".
    fn gemm_form(&self) -> String {
        format!("{:?}", self.inner.model.kernels.linear.form)
    }
    fn epochs(&self) -> u32 {
        self.inner.cfg().epochs as u32
    }
    fn latent(&self) -> u32 {
        self.inner.cfg().latent as u32
    }
    fn steps_per_epoch(&self) -> u32 {
        self.inner.steps_per_epoch
    }
    fn global_step(&self) -> u32 {
        self.inner.global_step as u32
    }
    fn epoch(&self) -> u32 {
        self.inner.epoch as u32
    }

    /// Number of test images loaded.
    fn test_count(&self) -> u32 {
        self.inner.model.data().map_or(0, |d| d.test_len)
    }

    /// Loads MNIST-format data: four IDX files as bytes (raw or gzip). Errors name the file and
    /// the defect; on error the data loaded before stays in place.
    fn load_dataset(
        &mut self,
        train_images: &[u8],
        train_labels: &[u8],
        test_images: &[u8],
        test_labels: &[u8],
    ) -> Result<(), JsError> {
        let train = Dataset::from_idx(
            train_images,
            train_labels,
            ("training images", "training labels"),
        )
        .map_err(js)?;
        let test = Dataset::from_idx(test_images, test_labels, ("test images", "test labels"))
            .map_err(js)?;
        test.check_same_shape(&train, "test images").map_err(js)?;
        if train.rows != train.cols {
            return Err(JsError::new(&format!(
                "images must be square, these are {}×{}",
                train.rows, train.cols
            )));
        }
        self.inner.attach_data(&train, &test).map_err(js)?;
        self.side = train.rows;
        Ok(())
    }

    /// Submits up to `steps` training steps (stopping at the end of an epoch; the next call
    /// starts the next epoch) and returns the losses read back so far. At most two calls' work is
    /// in flight: each call waits for the previous call's steps, not its own, so the GPU stays
    /// busy while the page stays responsive.
    async fn train(&mut self, steps: u32) -> Result<TrainStats, JsError> {
        let previous = self.previous.take();
        self.inner.submit_train(steps.max(1)).map_err(js)?;
        self.inner.schedule_readback().map_err(js)?;
        let (tx, rx) = futures_channel::oneshot::channel();
        self.inner.gpu.queue.on_submitted_work_done(move || {
            let _ = tx.send(());
        });
        self.previous = Some(rx);
        if let Some(rx) = previous {
            let _ = rx.await;
        }
        let records = self.inner.poll().map_err(js)?;
        Ok(self.stats(&records))
    }

    /// Waits for all submitted steps and returns their losses.
    async fn flush(&mut self) -> Result<TrainStats, JsError> {
        self.previous = None;
        let records = self.inner.flush().await.map_err(js)?;
        Ok(self.stats(&records))
    }

    fn stats(&mut self, records: &[train::StepRecord]) -> TrainStats {
        let t = now_ms();
        let train: Vec<&train::StepRecord> = records
            .iter()
            .filter(|r| r.kind == StepKind::Train)
            .collect();
        let rows: u32 = train.iter().map(|r| r.rows).sum();
        let secs = ((t - self.last_time) / 1000.0).max(1e-6);
        if !train.is_empty() {
            self.last_time = t;
        }
        let per = |r: &train::StepRecord, v: f32| f64::from(v) / f64::from(r.rows.max(1));
        let last = train.last();
        TrainStats {
            epoch: self.inner.epoch as u32,
            step_in_epoch: self.inner.step_in_epoch(),
            steps_per_epoch: self.inner.steps_per_epoch,
            global_step: self.inner.global_step as u32,
            epoch_finished: self.inner.epoch_finished(),
            reconstruction: last.map_or(f64::NAN, |r| per(r, r.recon)),
            kl: last.map_or(f64::NAN, |r| per(r, r.kl)),
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
    async fn evaluate(&mut self) -> Result<EvalStats, JsError> {
        self.previous = None;
        let r = self.inner.evaluate().await.map_err(js)?;
        let n = r.count.max(1) as f64;
        Ok(EvalStats {
            reconstruction: r.recon / n,
            kl: r.kl / n,
            loss: r.per_sample(),
            count: r.count as u32,
        })
    }

    /// The first `n` test images followed by their reconstructions: 2·n images of
    /// imageSide² pixels in [0, 1].
    async fn reconstruct(&mut self, n: u32) -> Result<Vec<f32>, JsError> {
        let n = n.min(self.test_count()).min(self.inner.model.capacity);
        let ids: Vec<u32> = (0..n).collect();
        let (mut orig, recon) = self.inner.reconstruct(&ids).await.map_err(js)?;
        orig.extend(recon);
        Ok(orig)
    }

    /// `n` images decoded from z ~ N(0, I) drawn with `seed`.
    async fn sample(&mut self, n: u32, seed: u32) -> Result<Vec<f32>, JsError> {
        let n = n.clamp(1, self.inner.model.capacity);
        self.inner
            .sample(n as usize, u64::from(seed))
            .await
            .map_err(js)
    }

    /// A latent walk: test images `a` and `b` encoded to μ, and `steps` decodes along the
    /// straight line between the two μ (ends included).
    async fn latent_walk(&mut self, a: u32, b: u32, steps: u32) -> Result<Vec<f32>, JsError> {
        let steps = steps.clamp(2, self.inner.model.capacity) as usize;
        let (mu, _) = self.inner.encode_test(&[a, b]).await.map_err(js)?;
        let l = self.inner.cfg().latent;
        let mut z = Vec::with_capacity(steps * l);
        for s in 0..steps {
            let t = s as f32 / (steps - 1) as f32;
            z.extend((0..l).map(|j| mu[j] * (1.0 - t) + mu[l + j] * t));
        }
        self.inner.decode(&z, steps).await.map_err(js)
    }

    /// The parameters as safetensors with PyTorch's names (`fc1.weight` … `fc5.bias`).
    async fn export_checkpoint(&mut self) -> Result<Vec<u8>, JsError> {
        let flat = self.inner.read_params().await.map_err(js)?;
        let meta = [
            ("step", self.inner.global_step.to_string()),
            ("epoch", self.inner.epoch.to_string()),
            ("step_in_epoch", self.inner.step_in_epoch().to_string()),
        ];
        checkpoint::save(&self.inner.model.layout, &flat, &meta).map_err(js)
    }

    /// Loads a checkpoint made by `exportCheckpoint` (or PyTorch's `save_file`). A checkpoint
    /// of other shapes is rejected with a message and the current model is kept. Adam restarts.
    fn import_checkpoint(&mut self, bytes: &[u8]) -> Result<(), JsError> {
        let flat = checkpoint::load(&self.inner.model.layout, bytes).map_err(js)?;
        self.inner.load_params(&flat).map_err(js)
    }

    fn resume(&mut self, bytes: &[u8]) -> Result<(), JsError> {
        let meta = checkpoint::metadata(bytes).map_err(js)?;
        let field = |k| checkpoint::meta_u64(&meta, k).map_err(js);
        let (step, epoch, in_epoch) = (field("step")?, field("epoch")?, field("step_in_epoch")?);
        let (Some(step), Some(epoch), Some(in_epoch)) = (step, epoch, in_epoch) else {
            return Err(JsError::new(
                "this checkpoint does not say where its run stopped (step, epoch, step_in_epoch); \
                 load it with importCheckpoint instead",
            ));
        };
        let flat = checkpoint::load(&self.inner.model.layout, bytes).map_err(js)?;
        let in_epoch = u32::try_from(in_epoch)
            .map_err(|_| JsError::new("bad checkpoint: step_in_epoch is too large"))?;
        self.inner.load_params(&flat).map_err(js)?;
        self.inner.resume_at(step, epoch, in_epoch).map_err(js)
    }

    async fn encode(&mut self, pixels: &[f32]) -> Result<Encoding, JsError> {
        let input = self.inner.cfg().input;
        if pixels.is_empty() || !pixels.len().is_multiple_of(input) {
            return Err(JsError::new(&format!(
                "encode takes whole inputs of {input} pixels each; got {} values",
                pixels.len()
            )));
        }
        let (mut mu, mut log_var) = (Vec::new(), Vec::new());
        let cap = self.inner.model.capacity as usize * input;
        for chunk in pixels.chunks(cap) {
            let (m, l) = self
                .inner
                .encode(chunk, chunk.len() / input)
                .await
                .map_err(js)?;
            mu.extend(m);
            log_var.extend(l);
        }
        Ok(Encoding { mu, log_var })
    }

    async fn decode(&mut self, z: &[f32]) -> Result<Vec<f32>, JsError> {
        let l = self.inner.cfg().latent;
        if z.is_empty() || !z.len().is_multiple_of(l) {
            return Err(JsError::new(&format!(
                "decode takes whole latent vectors of {l} values each; got {} values",
                z.len()
            )));
        }
        let mut out = Vec::with_capacity(z.len() / l * self.inner.cfg().input);
        for chunk in z.chunks(self.inner.model.capacity as usize * l) {
            out.extend(
                self.inner
                    .decode(chunk, chunk.len() / l)
                    .await
                    .map_err(js)?,
            );
        }
        Ok(out)
    }

    async fn latent_map(&mut self, n: u32) -> Result<LatentMap, JsError> {
        let (mu, labels) = self.inner.latent_means(n as usize).await.map_err(js)?;
        let l = self.inner.cfg().latent;
        let count = labels.len();
        let projection = pca::pca2(&mu, count, l);
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

    fn status(&self) -> Status {
        Status {
            epochs: self.epochs(),
            latent: self.latent(),
            side: self.side,
            steps_per_epoch: self.steps_per_epoch(),
            global_step: self.global_step(),
            epoch: self.epoch(),
            step_in_epoch: self.inner.step_in_epoch(),
            test_count: self.test_count(),
            last_good_step: self.inner.last_good_step() as u32,
            lr: self.inner.cfg().lr,
        }
    }

    /// Parameters back to the seed's initialisation, and the epoch count to zero.
    async fn reset(&mut self) -> Result<(), JsError> {
        self.previous = None;
        self.inner.reset().await.map_err(js)
    }
}

/// Draws `pixels` (images of side×side values in [0, 1], one after another) on `canvas` as a
/// grid of `per_row` images with 2-pixel borders; the canvas is resized to the grid.
#[wasm_bindgen(js_name = drawGrid)]
pub fn draw_grid(
    canvas: &web_sys::HtmlCanvasElement,
    pixels: &[f32],
    side: u32,
    per_row: u32,
) -> Result<(), JsError> {
    let side = side as usize;
    if side == 0 || !pixels.len().is_multiple_of(side * side) {
        return Err(JsError::new(&format!(
            "{} pixels are not whole {side}×{side} images",
            pixels.len()
        )));
    }
    let (w, h, gray) = grid(pixels, side, side, per_row as usize, 2);
    canvas.set_width(w as u32);
    canvas.set_height(h as u32);
    let ctx = canvas
        .get_context("2d")
        .map_err(|_| JsError::new("the canvas has no 2d context"))?
        .ok_or_else(|| JsError::new("the canvas has no 2d context"))?
        .dyn_into::<web_sys::CanvasRenderingContext2d>()
        .map_err(|_| JsError::new("the canvas has no 2d context"))?;
    let rgba = gray_to_rgba(&gray);
    let image = web_sys::ImageData::new_with_u8_clamped_array_and_sh(
        wasm_bindgen::Clamped(&rgba),
        w as u32,
        h as u32,
    )
    .map_err(|_| JsError::new("could not create ImageData"))?;
    ctx.put_image_data(&image, 0.0, 0.0)
        .map_err(|_| JsError::new("could not draw on the canvas"))?;
    Ok(())
}
