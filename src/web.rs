//! The JavaScript API (wasm-bindgen): thin glue from JS values to [`Session`] calls and back.
//! Every method that touches the GPU is async and never blocks the main thread; errors are
//! `ApiError`s with the crate's messages. What each call does is documented once, on the
//! session's method it forwards to.
//!
//! ```js
//! import init, { Trainer, drawGrid } from "vae-webgpu";
//! await init();
//! const t = await Trainer.create({ batchSize: 128, lr: 1e-3 });
//! t.loadDataset(trainImages, trainLabels, testImages, testLabels); // raw or gzip IDX bytes
//! const stats = await t.train(8);   // { epoch, stepInEpoch, reconstruction, kl, samplesPerSec, … }
//! drawGrid(canvas, await t.sample(64, 1), 28, 8);
//! ```

use std::cell::{Cell, RefCell};

use wasm_bindgen::prelude::*;

use crate::error::VaeError;
use crate::session::{
    self, cpu_features, device_for, Device, EngineChoice, EngineKind, Session, Status,
};

mod canvas;
mod error;
mod values;

pub use error::{error_codes, ApiError};

pub use canvas::{draw_grid, draw_pairs, drawing_to_input, live_gpu_buffers, LiveBuffers};
use values::{config_from_js, count, engine_from_js};

/// Steps one `train` call may ask for.
const MAX_STEPS_PER_CALL: u32 = 1 << 20;
/// Images or latent vectors one request may ask for.
const MAX_ROWS: u32 = crate::session::MAX_REQUEST_ROWS as u32;
pub use values::{
    settings, BatchEncoding, BatchImages, Encoding, EvalProgress, EvalStats, LatentMap,
    LatentMeans, ReconstructionGradient, StageTiming, StepTimings, TrainStats,
};

#[wasm_bindgen(start)]
pub fn start() {
    console_error_panic_hook::set_once();
}

pub(crate) fn js(e: VaeError) -> ApiError {
    ApiError::from(e)
}

fn global_field(name: &str) -> JsValue {
    js_sys::Reflect::get(&js_sys::global(), &JsValue::from_str(name)).unwrap_or(JsValue::UNDEFINED)
}

fn webgpu_present() -> bool {
    let navigator = global_field("navigator");
    !navigator.is_undefined()
        && js_sys::Reflect::get(&navigator, &JsValue::from_str("gpu"))
            .is_ok_and(|g| !g.is_undefined() && !g.is_null())
}

/// WebGPU's adapter and device, or a sentence that says what is missing: a page opened over
/// plain HTTP from another machine (browsers offer WebGPU only in secure contexts), a browser
/// without WebGPU, or no usable adapter.
async fn open_gpu() -> Result<Device, ApiError> {
    let no_webgpu = |m: &str| ApiError::new("no-webgpu", m);
    if !webgpu_present() {
        if global_field("isSecureContext").as_bool() == Some(false) {
            let origin = global_field("origin").as_string().unwrap_or_default();
            return Err(no_webgpu(&format!(
                "WebGPU is only offered to secure pages, and this page was opened over plain \
                 HTTP ({origin}). Open it over HTTPS, or as http://localhost (an SSH tunnel \
                 from this machine to the server)."
            )));
        }
        return Err(no_webgpu(
            "WebGPU is not available in this browser (navigator.gpu is missing). Use a recent \
             Chrome or Edge (113+), or Safari 26 / Firefox 141+ with WebGPU on; in Chromium on \
             Linux start it with --enable-unsafe-webgpu or enable chrome://flags/#enable-unsafe-webgpu.",
        ));
    }
    Device::open().await.map_err(|e| match e {
        VaeError::NoAdapter(m) => {
            web_sys::console::warn_1(&format!("requestAdapter: {m}").into());
            ApiError::new(
                "no-adapter",
                "WebGPU is present but no GPU adapter is available: the GPU may be blocklisted or \
                 disabled (see chrome://gpu). On Linux, enable chrome://flags/#enable-unsafe-webgpu \
                 and relaunch.",
            )
        }
        other => js(other),
    })
}

/// Checks that this browser can give the trainer a WebGPU device (adapter, device and the
/// limits it needs) without building a model; returns the adapter as a WebGPU trainer's
/// `adapter` describes it (its name, backend and device type; `adapterName` is the name
/// alone). Rejects with the same errors as `Trainer.create`.
#[wasm_bindgen(js_name = checkGpu)]
pub async fn check_gpu() -> Result<String, ApiError> {
    Ok(open_gpu().await?.describe())
}

/// Threads the CPU engine spreads its work over: 1, but in the threads build once its workers
/// have started (`npm/cpu-worker.js`; each counts when it enters `cpuWorkerLoop`), up to the
/// limit of `setCpuThreads`.
#[wasm_bindgen(js_name = cpuThreads)]
pub fn cpu_threads() -> u32 {
    session::cpu_threads() as u32
}

/// Lets the CPU engine use at most `n` of its threads (1 … all that started; the default is
/// all). Results do not depend on it (a run is the same bit for bit on any number); speed does.
/// Returns the threads now in use.
#[wasm_bindgen(js_name = setCpuThreads)]
pub fn set_cpu_threads(n: u32) -> Result<u32, ApiError> {
    let all = session::cpu_threads_available() as u32;
    if !(1..=all).contains(&n) {
        return Err(ApiError::bad_argument(&format!(
            "setCpuThreads: {n} threads asked for; this page has 1 … {all} (threads need the \
             threads build, which loads on a cross-origin isolated page)"
        )));
    }
    session::set_cpu_thread_limit(n as usize);
    Ok(cpu_threads())
}

// The config and settings objects, typed for TypeScript users (the .d.ts wasm-bindgen writes).
#[wasm_bindgen(typescript_custom_section)]
const TS_TYPES: &'static str = r#"
/** Settings for `Trainer.create`: every field is optional (the defaults are the seed's VAE,
 * 784-400-20, batch 128, Adam 1e-3); ranges are in `settings().limits`. An unknown or misspelt
 * key is rejected with a suggestion. */
export interface TrainerConfig {
  /** Epochs the run is planned for (progress and `epochFinished`), default 15. */
  epochs?: number;
  /** Images per training step, default 128. */
  batchSize?: number;
  /** Adam's learning rate, default 0.001. */
  lr?: number;
  /** Units of fc1 and fc4, default 400. */
  hidden?: number;
  /** Dimensions of z (μ and log σ² each), default 20. */
  latent?: number;
  /** Pixels per image; must match the data (side²), default 784. */
  input?: number;
  /** Seeds the init, the shuffle and ε: the same seed gives the same run. Default 1. */
  seed?: number;
  /** β of the objective BCE + β·KL, 0 … 1000, default 1. */
  klWeight?: number;
  /** false: a plain autoencoder (z = μ, no sampling, no KL term). Default true. */
  variational?: boolean;
  /** false: the reparameterization trick switched off — z is sampled as usual but no gradient
   * from the reconstruction reaches μ and σ (only KL trains them). A VAE only. Default true. */
  reparameterize?: boolean;
  /** Where to train: "webgpu" (WGSL on the GPU), "cpu" (WebAssembly on this thread), or
   * "auto" (the default): WebGPU on a hardware adapter, the CPU when WebGPU or an adapter is
   * missing, or when the adapter is a software one (a GPU emulated on the CPU). */
  engine?: "auto" | "webgpu" | "cpu";
}

/** A numeric field's range. */
export interface Range { min: number; max: number; }
/** The values a flag or a choice takes. */
export interface Values<T> { values: T[]; }

/** The engine's defaults and limits (`settings()`): one source for forms and checks, with
 * every field of `TrainerConfig`. */
export interface Settings {
  defaults: { epochs: number; batchSize: number; lr: number; hidden: number; latent: number; input: number; seed: number; klWeight: number; variational: boolean; reparameterize: boolean; engine: "auto" | "webgpu" | "cpu" };
  limits: { epochs: Range; batchSize: Range; lr: Range; hidden: Range; latent: Range; input: Range; seed: Range; klWeight: Range; variational: Values<boolean>; reparameterize: Values<boolean>; engine: Values<"auto" | "webgpu" | "cpu"> };
  /** The four IDX files' MNIST names, in `loadDataset`'s order. */
  idxFiles: string[];
  /** The numbers of one step in `TrainStats.records`, in order. */
  recordFields: string[];
  /** The metadata keys of an exported checkpoint. */
  checkpointKeys: string[];
  /** The most rows (images or latent vectors) one request may ask for. */
  maxRequestRows: number;
}
"#;

#[wasm_bindgen]
extern "C" {
    /// `performance.now()`: milliseconds with the page's or worker's finest resolution (5 µs
    /// where cross-origin isolated), where `Date.now()` ticks whole milliseconds — a step
    /// profile's figures, each a span of about 25 ms divided by its calls, were quantised to
    /// an eighth of a millisecond by it.
    #[wasm_bindgen(js_namespace = performance, js_name = now)]
    fn performance_now() -> f64;
}

/// Trains the VAE on this page's GPU (or on the CPU engine). Create with
/// `await Trainer.create(config)`. Await each call before the next (a second call while one is
/// in flight is refused with a message); getters answer at any time.
#[wasm_bindgen]
pub struct Trainer {
    session: RefCell<Option<Session>>,
    status: Cell<Status>,
    engine: EngineKind,
    /// Why this engine: asked for, or what `auto` found.
    engine_reason: String,
    adapter: String,
    adapter_name: String,
    gemm_form: String,
    /// The device (its loss, and a handle for `createBeside`): on the WebGPU engine only.
    device: Option<Device>,
}

impl Trainer {
    /// The one-call-at-a-time rule: the session is taken out of its cell for the call.
    fn take(&self) -> Result<Session, ApiError> {
        self.session.borrow_mut().take().ok_or_else(|| {
            ApiError::new(
                "busy",
                "the trainer is busy with another call; await each call before starting the next",
            )
        })
    }

    fn put(&self, s: Session) {
        self.status.set(s.status());
        *self.session.borrow_mut() = Some(s);
    }

    async fn call<T>(
        &self,
        f: impl AsyncFnOnce(&mut Session) -> crate::Result<T>,
    ) -> Result<T, ApiError> {
        let mut s = self.take()?;
        let r = f(&mut s).await;
        self.put(s);
        r.map_err(js)
    }

    fn call_now<T>(&self, f: impl FnOnce(&mut Session) -> crate::Result<T>) -> Result<T, ApiError> {
        let mut s = self.take()?;
        let r = f(&mut s);
        self.put(s);
        r.map_err(js)
    }
}

#[wasm_bindgen]
impl Trainer {
    /// Requests a WebGPU adapter and device and builds the model from `config`. Rejects with a
    /// message saying what is missing when the browser has no WebGPU or no adapter.
    pub async fn create(
        #[wasm_bindgen(unchecked_param_type = "TrainerConfig")] config: JsValue,
    ) -> Result<Trainer, ApiError> {
        let choice = engine_from_js(&config)?;
        let cfg = config_from_js(&config)?;
        match device_for(choice, open_gpu).await? {
            (None, Some(why)) => {
                Self::build(EngineChoice::Cpu, None, &cfg, Some(why.message())).await
            }
            (device, _) => Self::build(choice, device.as_ref(), &cfg, None).await,
        }
    }

    /// A second trainer on the same WebGPU device as `other` (e.g. a plain autoencoder trained
    /// beside a VAE): no new adapter or device is requested. Each keeps its own model, data
    /// and queue of calls; a lost device is lost for both.
    #[wasm_bindgen(js_name = createBeside)]
    pub async fn create_beside(
        other: &Trainer,
        #[wasm_bindgen(unchecked_param_type = "TrainerConfig")] config: JsValue,
    ) -> Result<Trainer, ApiError> {
        let choice = engine_from_js(&config)?;
        let cfg = config_from_js(&config)?;
        let Some(device) = &other.device else {
            if choice == EngineChoice::Gpu {
                return Err(ApiError::bad_config(
                    "invalid config: engine: \"webgpu\" asked for, but the trainer to build \
                     beside is on the CPU engine (no device to share); use Trainer.create",
                ));
            }
            let why = Some(other.engine_reason.clone());
            return Self::build(EngineChoice::Cpu, None, &cfg, why).await;
        };
        if choice == EngineChoice::Cpu {
            return Self::build(EngineChoice::Cpu, None, &cfg, None).await;
        }
        if let Some(reason) = device.lost_reason() {
            return Err(ApiError::new(
                "device-lost",
                &format!("the device was lost: {reason}"),
            ));
        }
        let why = Some(other.engine_reason.clone());
        Self::build(EngineChoice::Gpu, Some(&device.share()), &cfg, why).await
    }

    /// True when `other` trains on the same WebGPU device as this trainer (false on the CPU
    /// engine).
    #[wasm_bindgen(js_name = sharesDeviceWith)]
    pub fn shares_device_with(&self, other: &Trainer) -> bool {
        match (&self.device, &other.device) {
            (Some(a), Some(b)) => a.same_as(b),
            _ => false,
        }
    }

    /// Where this trainer trains: "webgpu" or "cpu".
    #[wasm_bindgen(getter)]
    pub fn engine(&self) -> String {
        self.engine.name().into()
    }

    /// Why this engine: "asked for", or what `engine: "auto"` found (no WebGPU and why, or a
    /// software adapter, or a hardware adapter).
    #[wasm_bindgen(getter, js_name = engineReason)]
    pub fn engine_reason(&self) -> String {
        self.engine_reason.clone()
    }

    /// The last batch of an epoch (`epoch`, 1-based; by default the current one) and its
    /// reconstructions by the model in place (sigmoid of the logits, the seed's `x_reconst`):
    /// `{ pixels, reconstruction, rows }`, as the CLI's `reconst-E.png` shows them.
    #[wasm_bindgen(js_name = lastBatch)]
    pub async fn last_batch(&self, epoch: Option<f64>) -> Result<BatchImages, ApiError> {
        let epoch = match epoch {
            Some(e) => Some(count("epoch", e, 1, u32::MAX)?),
            None => None,
        };
        let (pixels, reconstruction) = self
            .call(async |s| match epoch {
                Some(e) => s.last_batch_of(u64::from(e)).await,
                None => s.last_batch().await,
            })
            .await?;
        let side = self.status.get().side.max(1) as usize;
        let rows = (pixels.len() / (side * side)) as u32;
        Ok(BatchImages {
            pixels,
            reconstruction,
            rows,
        })
    }
}

impl Trainer {
    /// A trainer on the engine `choice` resolves to (`device`: the adapter; none: the CPU
    /// engine); `why` in place of the engine layer's reason, when given.
    async fn build(
        choice: EngineChoice,
        device: Option<&Device>,
        cfg: &crate::VaeConfig,
        why: Option<String>,
    ) -> Result<Trainer, ApiError> {
        let (s, found) = Session::open(choice, device, cfg, performance_now)
            .await
            .map_err(js)?;
        let device = s.device();
        let (engine, adapter, adapter_name, gemm_form) = match &device {
            Some(d) => (
                EngineKind::Gpu,
                d.describe(),
                d.name().unwrap_or_default(),
                d.gemm_form(),
            ),
            None => (
                EngineKind::Cpu,
                format!(
                    "CPU engine ({}, {})",
                    cpu_features(),
                    match session::cpu_threads() {
                        1 => "one thread".to_string(),
                        n => format!("{n} threads"),
                    }
                ),
                String::new(),
                "CPU".into(),
            ),
        };
        let t = Trainer {
            engine,
            engine_reason: why.unwrap_or(found),
            adapter,
            adapter_name,
            gemm_form,
            status: Cell::new(s.status()),
            session: RefCell::new(None),
            device,
        };
        t.put(s);
        Ok(t)
    }
}

#[wasm_bindgen]
impl Trainer {
    /// The adapter in use (browsers may withhold its name).
    #[wasm_bindgen(getter)]
    pub fn adapter(&self) -> String {
        self.adapter.clone()
    }

    /// The adapter's name alone ("" when the browser withholds it).
    #[wasm_bindgen(getter, js_name = adapterName)]
    pub fn adapter_name(&self) -> String {
        self.adapter_name.clone()
    }

    /// Which matrix-multiply form the adapter got: "Direct", "DirectSubgroup" or "Tiled" ("CPU" on
    /// the CPU engine).
    #[wasm_bindgen(getter, js_name = gemmForm)]
    pub fn gemm_form(&self) -> String {
        self.gemm_form.clone()
    }

    #[wasm_bindgen(getter)]
    pub fn epochs(&self) -> u32 {
        self.status.get().epochs
    }

    /// Pixels per image (fc1's inputs, fc5's outputs).
    #[wasm_bindgen(getter)]
    pub fn input(&self) -> u32 {
        self.status.get().input
    }

    /// Units of the hidden layers (fc1's outputs, fc4's outputs).
    #[wasm_bindgen(getter)]
    pub fn hidden(&self) -> u32 {
        self.status.get().hidden
    }

    #[wasm_bindgen(getter)]
    pub fn latent(&self) -> u32 {
        self.status.get().latent
    }

    #[wasm_bindgen(getter, js_name = imageSide)]
    pub fn image_side(&self) -> u32 {
        self.status.get().side
    }

    #[wasm_bindgen(getter, js_name = stepsPerEpoch)]
    pub fn steps_per_epoch(&self) -> u32 {
        self.status.get().steps_per_epoch
    }

    #[wasm_bindgen(getter, js_name = globalStep)]
    pub fn global_step(&self) -> u32 {
        self.status.get().position.global_step as u32
    }

    #[wasm_bindgen(getter, js_name = stepInEpoch)]
    pub fn step_in_epoch(&self) -> u32 {
        self.status.get().position.step_in_epoch
    }

    #[wasm_bindgen(getter)]
    pub fn epoch(&self) -> u32 {
        self.status.get().position.epoch as u32
    }

    #[wasm_bindgen(getter, js_name = testCount)]
    pub fn test_count(&self) -> u32 {
        self.status.get().test_count
    }

    /// Why the GPU device was lost, or `undefined` while it works. Once lost, every GPU call
    /// rejects; `resume` the last exported checkpoint on a new `Trainer`.
    #[wasm_bindgen(getter, js_name = deviceLost)]
    pub fn device_lost(&self) -> Option<String> {
        self.device.as_ref().and_then(Device::lost_reason)
    }

    /// The training step whose parameters are the last ones read back finite.
    #[wasm_bindgen(getter, js_name = lastGoodStep)]
    pub fn last_good_step(&self) -> u32 {
        self.status.get().last_good_step as u32
    }

    #[wasm_bindgen(getter, js_name = learningRate)]
    pub fn learning_rate(&self) -> f32 {
        self.status.get().lr
    }

    /// The KL weight β in use (the objective is BCE + β·KL).
    #[wasm_bindgen(getter, js_name = klWeight)]
    pub fn kl_weight(&self) -> f32 {
        self.status.get().kl_weight
    }

    /// False for a plain autoencoder (config `variational: false`: z = μ, no KL term).
    #[wasm_bindgen(getter)]
    pub fn variational(&self) -> bool {
        self.status.get().variational
    }

    /// Changes β from the next step on (0 … 1000; Adam's state is kept).
    #[wasm_bindgen(js_name = setKlWeight)]
    pub fn set_kl_weight(&self, kl_weight: f32) -> Result<(), ApiError> {
        self.call_now(|s| s.set_kl_weight(kl_weight))
    }

    /// False while the reparameterization trick is switched off (config `reparameterize:
    /// false`): z is sampled, but no gradient from the reconstruction reaches μ and σ.
    #[wasm_bindgen(getter)]
    pub fn reparameterize(&self) -> bool {
        self.status.get().reparameterize
    }

    /// Switches the reparameterization trick on or off from the next step on (a VAE only;
    /// Adam's state is kept).
    #[wasm_bindgen(js_name = setReparameterize)]
    pub fn set_reparameterize(&self, on: bool) -> Result<(), ApiError> {
        self.call_now(|s| s.set_reparameterize(on))
    }

    #[wasm_bindgen(js_name = setLearningRate)]
    pub fn set_learning_rate(&self, lr: f32) -> Result<(), ApiError> {
        self.call_now(|s| s.set_lr(lr))
    }

    /// Continues a checkpoint's run (its step, epoch and place in the epoch); with `adam`
    /// (`exportAdam()` of the same step) Adam goes on from its moments instead of restarting,
    /// so the run continues exactly as if it never stopped. All or nothing.
    pub fn resume(&self, bytes: &[u8], adam: Option<Vec<u8>>) -> Result<(), ApiError> {
        self.call_now(|s| match &adam {
            Some(adam) => s.resume_with_adam(bytes, adam).map(|_| ()),
            None => s.resume(bytes).map(|_| ()),
        })
    }

    #[wasm_bindgen(js_name = loadDataset)]
    pub fn load_dataset(&self, ti: &[u8], tl: &[u8], xi: &[u8], xl: &[u8]) -> Result<(), ApiError> {
        self.call_now(|s| s.load_idx([ti, tl, xi, xl]))
    }

    /// Up to `steps` training steps (at least one), ending at an epoch's end, or sooner where
    /// `until` (a function) returns true: the CPU engine calls it after each step but the last;
    /// one that throws ends the call as `true` would. The WebGPU engine submits every step at
    /// once and never calls it.
    pub async fn train(
        &self,
        steps: f64,
        until: Option<js_sys::Function>,
    ) -> Result<TrainStats, ApiError> {
        let steps = count("steps", steps, 1, MAX_STEPS_PER_CALL)?;
        let mut stop = || {
            until
                .as_ref()
                .is_some_and(|f| f.call0(&JsValue::UNDEFINED).map_or(true, |v| v.is_truthy()))
        };
        self.call(async |s| s.train_until(steps, &mut stop).await.map(TrainStats::from))
            .await
    }

    /// The stages of a training step in order, each with the WGSL entry points that run it on
    /// this adapter, or the CPU engine's functions (`ms` and `gflops` are NaN: `profileStep`
    /// measures them).
    #[wasm_bindgen(js_name = stageKernels)]
    pub fn stage_kernels(&self) -> Result<Vec<StageTiming>, ApiError> {
        let stages = self.call_now(|s| Ok(s.stage_kernels()))?;
        Ok(stages
            .into_iter()
            .map(|(st, kernels)| StageTiming {
                name: st.name(),
                ms: f64::NAN,
                gflops: f64::NAN,
                kernels,
            })
            .collect())
    }

    #[wasm_bindgen(js_name = profileStep)]
    pub async fn profile_step(&self) -> Result<StepTimings, ApiError> {
        let p = self.call(async |s| s.profile_step().await).await?;
        let stages = p.stages.iter();
        Ok(StepTimings {
            batch: p.batch,
            peak_gflops: p.peak_gflops,
            step_ms: p.step_ms,
            step_gflops: p.step_flop / p.step_ms / 1e6,
            stages: stages
                .map(|st| StageTiming {
                    name: st.name.clone(),
                    ms: st.ms,
                    gflops: st.gflops(),
                    kernels: st.kernels.clone(),
                })
                .collect(),
        })
    }

    pub async fn flush(&self) -> Result<TrainStats, ApiError> {
        self.call(async |s| s.flush().await.map(TrainStats::from))
            .await
    }

    pub async fn evaluate(&self) -> Result<EvalStats, ApiError> {
        let r = self.call(async |s| s.evaluate().await).await?;
        Ok(EvalStats::from(&r))
    }

    /// The test-set loss in parts of at most `maxBatches` test batches a call (so other calls
    /// run between them): `{ done, batchesDone, batches, reconstruction, kl, loss, count }`, the
    /// losses NaN until `done`, then the same figures as `evaluate()` on the same model. A
    /// training step between parts starts it over.
    #[wasm_bindgen(js_name = evaluateSome)]
    pub async fn evaluate_some(&self, max_batches: f64) -> Result<EvalProgress, ApiError> {
        let n = count("maxBatches", max_batches, 1, u32::MAX)?;
        let p = self.call(async |s| s.evaluate_some(n).await).await?;
        Ok(EvalProgress::from(&p))
    }

    pub async fn reconstruct(&self, n: f64) -> Result<Vec<f32>, ApiError> {
        let n = count("n", n, 0, MAX_ROWS)?;
        self.call(async |s| s.reconstruct(n).await).await
    }

    pub async fn sample(&self, n: f64, seed: f64) -> Result<Vec<f32>, ApiError> {
        let (n, seed) = (
            count("n", n, 0, MAX_ROWS)?,
            count("seed", seed, 0, u32::MAX)?,
        );
        self.call(async |s| s.sample(n, u64::from(seed)).await)
            .await
    }

    #[wasm_bindgen(js_name = latentWalk)]
    pub async fn latent_walk(&self, a: f64, b: f64, steps: f64) -> Result<Vec<f32>, ApiError> {
        let (a, b) = (count("a", a, 0, u32::MAX)?, count("b", b, 0, u32::MAX)?);
        let steps = count("steps", steps, 2, MAX_ROWS)?;
        self.call(async |s| s.latent_walk(a, b, steps).await).await
    }

    #[wasm_bindgen(js_name = exportCheckpoint)]
    pub async fn export_checkpoint(&self) -> Result<Vec<u8>, ApiError> {
        self.call(async |s| s.export_checkpoint().await).await
    }

    /// Adam's moments and step count as safetensors, for `resume(checkpoint, adam)` with the
    /// checkpoint exported at the same step (every step in flight is read back first).
    #[wasm_bindgen(js_name = exportAdam)]
    pub async fn export_adam(&self) -> Result<Vec<u8>, ApiError> {
        self.call(async |s| s.export_adam().await).await
    }

    #[wasm_bindgen(js_name = importCheckpoint)]
    pub fn import_checkpoint(&self, bytes: &[u8]) -> Result<(), ApiError> {
        self.call_now(|s| s.import_checkpoint(bytes))
    }

    #[wasm_bindgen(js_name = testDigits)]
    pub async fn test_digits(&self, ids: Vec<u32>) -> Result<Vec<f32>, ApiError> {
        self.call(async |s| s.test_digits(&ids).await).await
    }

    /// The newest training step's batch: `{ pixels, mu, logVar, rows }` under the parameters in
    /// place (see `Session::current_batch`).
    #[wasm_bindgen(js_name = currentBatch)]
    pub async fn current_batch(&self) -> Result<BatchEncoding, ApiError> {
        let (pixels, mu, log_var) = self.call(async |s| s.current_batch().await).await?;
        let rows = (mu.len() / self.status.get().latent.max(1) as usize) as u32;
        Ok(BatchEncoding {
            pixels,
            mu,
            log_var,
            rows,
        })
    }

    pub async fn encode(&self, pixels: Vec<f32>) -> Result<Encoding, ApiError> {
        let (mu, log_var) = self.call(async |s| s.encode(&pixels).await).await?;
        Ok(Encoding { mu, log_var })
    }

    pub async fn decode(&self, z: Vec<f32>) -> Result<Vec<f32>, ApiError> {
        self.call(async |s| s.decode(&z).await).await
    }

    /// ∂(reconstruction)/∂z for one input (`pixels`) decoded from `z`: `{ gradient, bce }` —
    /// what reaches μ (×1) and log σ² (×½·σ·ε) through z = μ + σ·ε with the trick.
    #[wasm_bindgen(js_name = reconstructionGradient)]
    pub async fn reconstruction_gradient(
        &self,
        pixels: Vec<f32>,
        z: Vec<f32>,
    ) -> Result<ReconstructionGradient, ApiError> {
        let (gradient, bce) = self
            .call(async |s| s.reconstruction_gradient(&pixels, &z).await)
            .await?;
        Ok(ReconstructionGradient { gradient, bce })
    }

    /// The first `n` test digits' μ (n × latent, no projection) and labels.
    #[wasm_bindgen(js_name = latentMeans)]
    pub async fn latent_means(&self, n: f64) -> Result<LatentMeans, ApiError> {
        let n = count("n", n, 0, MAX_ROWS)?;
        let (mu, labels) = self.call(async |s| s.latent_means(n).await).await?;
        Ok(LatentMeans { mu, labels })
    }

    #[wasm_bindgen(js_name = latentMap)]
    pub async fn latent_map(&self, n: f64) -> Result<LatentMap, ApiError> {
        let n = count("n", n, 0, MAX_ROWS)?;
        let m = self.call(async |s| s.latent_map(n).await).await?;
        Ok(LatentMap {
            points: m.points,
            labels: m.labels,
            pca: m.pca,
            explained: m.explained,
            mean: m.mean,
            components: m.components,
        })
    }

    pub async fn reset(&self) -> Result<(), ApiError> {
        self.call(async |s| s.reset().await).await
    }
}
