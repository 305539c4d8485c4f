//! One face over the two engines: the WGSL engine ([`Trainer`], on a WebGPU/Vulkan/Metal
//! device) and the CPU engine ([`CpuTrainer`], on the host). Both run the same run — init,
//! shuffle, ε, loss, Adam, step numbering, flat layout — so the [`crate::session::Session`]
//! above them, and every face above it, cannot tell them apart except by [`Engine::kind`].
//!
//! Which engine to use is the caller's choice ([`EngineChoice`]); [`Engine::open`] resolves
//! `Auto` ([`resolve`]: no adapter, or a software adapter the CPU engine outruns → the CPU
//! engine) and builds the model. A face requests the adapter ([`Device::open`], so it can say
//! what a browser lacks) and sees the device only through [`Device`]. Faces reach all of this
//! through the Session (`crate::session` re-exports what they name).

#[cfg(feature = "webgpu")]
use crate::bench;
use crate::config::VaeConfig;
use crate::cpu::CpuTrainer;
use crate::error::{Result, VaeError};
#[cfg(feature = "webgpu")]
use crate::gpu::{Gpu, LostHandle};
use crate::layout::ParamLayout;
use crate::mnist::Dataset;
use crate::run::RunState;
use crate::run::{EvalResult, Position, Stage, StepProfile, StepRecord};
#[cfg(feature = "webgpu")]
use crate::train::{Trainer, WorkDone};

/// The engine a model trains on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EngineKind {
    /// WGSL compute shaders through wgpu (WebGPU in a browser).
    Gpu,
    /// `f32` on the host's CPU.
    Cpu,
}

impl EngineKind {
    /// The name faces show and take: "webgpu" or "cpu".
    pub fn name(self) -> &'static str {
        match self {
            EngineKind::Gpu => "webgpu",
            EngineKind::Cpu => "cpu",
        }
    }
}

/// What a caller asks for: one engine, or the faster one here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EngineChoice {
    /// The GPU engine on a hardware adapter; the CPU engine when there is no adapter, or when
    /// the adapter is a software one (SwiftShader, lavapipe, WARP) and a probe finds the CPU
    /// faster.
    #[default]
    Auto,
    Gpu,
    Cpu,
}

/// The names [`EngineChoice::parse`] takes.
pub use crate::fields::ENGINE_NAMES;

impl EngineChoice {
    /// "auto", "webgpu" (or "gpu") or "cpu".
    pub fn parse(name: &str) -> Result<Self> {
        match name {
            "auto" => Ok(EngineChoice::Auto),
            "webgpu" | "gpu" => Ok(EngineChoice::Gpu),
            "cpu" => Ok(EngineChoice::Cpu),
            other => Err(VaeError::config(
                "engine",
                format!(
                    "\"{other}\" is not an engine; use one of {}",
                    ENGINE_NAMES.join(", ")
                ),
            )),
        }
    }
}

/// GPU buffers alive in this process and their bytes (the soak tests watch them).
pub fn live_gpu_buffers() -> (u64, u64) {
    #[cfg(feature = "webgpu")]
    return crate::gpu::live_buffers();
    #[cfg(not(feature = "webgpu"))]
    (0, 0)
}

/// Threads the CPU engine spreads its work over now.
pub fn cpu_threads() -> usize {
    crate::cpu::pool::threads()
}

/// Threads the CPU engine could use here.
pub fn cpu_threads_available() -> usize {
    crate::cpu::pool::available()
}

/// Caps the CPU engine's threads at `n` (1 ..= available).
pub fn set_cpu_thread_limit(n: usize) {
    crate::cpu::pool::set_limit(n)
}

/// The CPU's SIMD features the CPU engine uses ("AVX2+FMA", "SIMD128", …).
pub fn cpu_features() -> &'static str {
    crate::cpu::peak::features()
}

/// The device a WGSL engine runs on, as faces see it: what to say about it, whether it was lost,
/// and a handle to build a second model on it.
#[cfg(feature = "webgpu")]
pub struct Device {
    gpu: Gpu,
    lost: LostHandle,
}

#[cfg(feature = "webgpu")]
impl Device {
    /// Requests the first adapter (WebGPU's in a browser) and a device with the limits the
    /// model needs; `VaeError::NoAdapter` when there is none.
    pub async fn open() -> Result<Device> {
        Ok(Device::of(Gpu::new().await?))
    }

    fn of(gpu: Gpu) -> Device {
        let lost = gpu.lost_handle();
        Device { gpu, lost }
    }

    /// Another handle on the same device (a second model beside the first).
    pub fn share(&self) -> Device {
        Device::of(self.gpu.share())
    }

    /// The adapter in words: name, backend and device type.
    pub fn describe(&self) -> String {
        self.gpu.describe()
    }

    /// The adapter's name alone (empty where a browser withholds it).
    pub fn name(&self) -> Option<String> {
        self.gpu.device_name()
    }

    /// The form the matrix products run in on this adapter: "Direct", "DirectSubgroup", "Tiled".
    pub fn gemm_form(&self) -> String {
        format!("{:?}", self.gpu.gemm)
    }

    /// Why the device was lost, or `None` while it works.
    pub fn lost_reason(&self) -> Option<String> {
        self.lost.reason()
    }

    /// True when both handles are on one device.
    pub fn same_as(&self, other: &Device) -> bool {
        self.gpu.same_device(&other.gpu)
    }
}

/// Without the `webgpu` feature there is no device: [`Device::open`] says so.
#[cfg(not(feature = "webgpu"))]
pub struct Device(std::convert::Infallible);

#[cfg(not(feature = "webgpu"))]
impl Device {
    /// Always `VaeError::NoAdapter`: this build has the CPU engine alone.
    pub async fn open() -> Result<Device> {
        Err(VaeError::NoAdapter(
            "this build has no WebGPU engine (the crate's webgpu feature is off)".into(),
        ))
    }

    pub fn share(&self) -> Device {
        match self.0 {}
    }

    pub fn describe(&self) -> String {
        match self.0 {}
    }

    pub fn name(&self) -> Option<String> {
        match self.0 {}
    }

    pub fn gemm_form(&self) -> String {
        match self.0 {}
    }

    pub fn lost_reason(&self) -> Option<String> {
        match self.0 {}
    }

    pub fn same_as(&self, _other: &Device) -> bool {
        match self.0 {}
    }
}

/// A model and its run on one of the two engines.
pub enum Engine {
    /// The WGSL engine, and the signal for the previous training call's work (a call waits for
    /// it, not for its own, so the GPU stays busy while the caller stays responsive).
    #[cfg(feature = "webgpu")]
    Gpu(Box<Trainer>, Option<WorkDone>),
    Cpu(Box<CpuTrainer>),
}

#[cfg(feature = "webgpu")]
impl From<Trainer> for Engine {
    fn from(t: Trainer) -> Self {
        Engine::gpu(t)
    }
}

impl From<CpuTrainer> for Engine {
    fn from(t: CpuTrainer) -> Self {
        Engine::cpu(t)
    }
}

impl Engine {
    /// The engine `choice` resolves to ([`resolve`]; `device`: the adapter, none when there is
    /// no usable one) with `cfg`'s model and no data; and why that engine. A WGSL model is
    /// returned once the device has taken every command so far, pipeline creation included (a
    /// model freed while SwiftShader still compiled its pipelines could hang Chromium's GPU
    /// process).
    pub async fn open(
        choice: EngineChoice,
        device: Option<&Device>,
        cfg: &VaeConfig,
    ) -> Result<(Engine, String)> {
        cfg.validate(None)?;
        let (kind, why) = resolve(choice, device)?;
        match (kind, device) {
            #[cfg(feature = "webgpu")]
            (EngineKind::Gpu, Some(device)) => {
                let trainer = Trainer::without_data(device.gpu.share(), cfg)?;
                let done = trainer.work_done();
                trainer.wait(done).await?;
                Ok((Engine::gpu(trainer), why))
            }
            _ => Ok((Engine::cpu(CpuTrainer::without_data(cfg)?), why)),
        }
    }

    /// The CPU engine with `cfg`'s model and no data (no device, no waiting).
    pub fn open_cpu(cfg: &VaeConfig) -> Result<Engine> {
        Ok(Engine::cpu(CpuTrainer::without_data(cfg)?))
    }

    /// [`Engine::open`] with `train` and `test` attached.
    pub async fn open_with_data(
        choice: EngineChoice,
        device: Option<&Device>,
        cfg: &VaeConfig,
        (train, test): (Dataset, Dataset),
    ) -> Result<(Engine, String)> {
        let (mut engine, why) = Engine::open(choice, device, cfg).await?;
        engine.attach_data(train, test)?;
        Ok((engine, why))
    }

    /// The device of the WGSL engine (none on the CPU engine).
    pub fn device(&self) -> Option<Device> {
        #[cfg(feature = "webgpu")]
        return self.gpu_trainer().map(|t| Device::of(t.gpu().share()));
        #[cfg(not(feature = "webgpu"))]
        None
    }

    /// Steps between two readbacks of the losses (the WGSL engine; the CPU engine has every
    /// step's losses at once).
    pub fn set_readback_every(&mut self, steps: u32) {
        #[cfg(feature = "webgpu")]
        if let Engine::Gpu(t, _) = self {
            t.set_readback_every(steps);
        }
        #[cfg(not(feature = "webgpu"))]
        let _ = steps;
    }

    /// Times each stage of a training step, and a whole step, on a model of its own with this
    /// one's config (this one is untouched); `clock` gives milliseconds.
    pub async fn profile_step(&self, clock: &dyn Fn() -> f64) -> Result<StepProfile> {
        match self {
            #[cfg(feature = "webgpu")]
            Engine::Gpu(t, _) => bench::profile_step(t.gpu(), t.cfg(), t.forms(), clock).await,
            Engine::Cpu(c) => crate::cpu::profile_step(c.cfg(), clock),
        }
    }

    #[cfg(feature = "webgpu")]
    pub fn gpu(trainer: Trainer) -> Self {
        #[cfg(feature = "webgpu")]
        Engine::Gpu(Box::new(trainer), None)
    }

    pub fn cpu(trainer: CpuTrainer) -> Self {
        Engine::Cpu(Box::new(trainer))
    }

    pub fn kind(&self) -> EngineKind {
        match self {
            #[cfg(feature = "webgpu")]
            Engine::Gpu(..) => EngineKind::Gpu,
            Engine::Cpu(_) => EngineKind::Cpu,
        }
    }

    /// The WGSL trainer (its device, adapter and kernels), when this is the GPU engine.
    #[cfg(feature = "webgpu")]
    pub fn gpu_trainer(&self) -> Option<&Trainer> {
        match self {
            #[cfg(feature = "webgpu")]
            Engine::Gpu(t, _) => Some(t),
            Engine::Cpu(_) => None,
        }
    }

    /// Each stage of a training step ([`Stage::FORWARD`], then [`Stage::BACKWARD`]) with what runs
    /// it on this engine: the WGSL entry points for this adapter's forms, or the CPU engine's
    /// functions.
    pub fn stage_kernels(&self) -> Vec<(Stage, Vec<String>)> {
        let stages = Stage::FORWARD.into_iter().chain(Stage::BACKWARD);
        match self {
            #[cfg(feature = "webgpu")]
            Engine::Gpu(t, _) => {
                let (form, step) = t.forms();
                stages.map(|s| (s, s.kernels(form, step))).collect()
            }
            Engine::Cpu(_) => stages.map(|s| (s, s.cpu_kernels())).collect(),
        }
    }

    /// The CPU trainer, when this is the CPU engine.
    pub fn cpu_trainer(&self) -> Option<&CpuTrainer> {
        match self {
            #[cfg(feature = "webgpu")]
            Engine::Gpu(..) => None,
            Engine::Cpu(c) => Some(c),
        }
    }

    /// Forgets the previous call's signal (a call that changes the state waits for nothing).
    fn settle(&mut self) {
        #[cfg(feature = "webgpu")]
        if let Engine::Gpu(_, previous) = self {
            *previous = None;
        }
    }

    /// The run contract ([`RunState`]) of whichever trainer this holds: the calls both engines
    /// answer alike go through it.
    fn run(&self) -> &dyn RunState {
        match self {
            #[cfg(feature = "webgpu")]
            Engine::Gpu(t, _) => &**t,
            Engine::Cpu(c) => &**c,
        }
    }

    fn run_mut(&mut self) -> &mut dyn RunState {
        match self {
            #[cfg(feature = "webgpu")]
            Engine::Gpu(t, _) => &mut **t,
            Engine::Cpu(c) => &mut **c,
        }
    }

    pub fn cfg(&self) -> &VaeConfig {
        self.run().cfg()
    }

    pub fn layout(&self) -> &ParamLayout {
        self.run().layout()
    }

    /// Rows one pass takes at most (display and inference requests are chunked to it).
    pub fn capacity(&self) -> u32 {
        self.run().capacity()
    }

    pub fn position(&self) -> Position {
        self.run().position()
    }

    pub fn steps_per_epoch(&self) -> u32 {
        self.run().steps_per_epoch()
    }

    pub fn epoch_finished(&self) -> bool {
        self.run().epoch_finished()
    }

    pub fn has_data(&self) -> bool {
        self.run().has_data()
    }

    pub fn train_len(&self) -> u32 {
        self.run().train_len()
    }

    pub fn test_len(&self) -> u32 {
        self.run().test_len()
    }

    pub fn last_good_step(&self) -> u64 {
        self.run().last_good_step()
    }

    pub fn test_labels(&self, n: usize) -> Result<Vec<u8>> {
        self.run().test_labels(n)
    }

    /// Takes `train` and `test` (the GPU engine uploads them, the CPU engine keeps them); the
    /// parameters are kept, the epoch count restarts.
    pub fn attach_data(&mut self, train: Dataset, test: Dataset) -> Result<()> {
        self.settle();
        match self {
            #[cfg(feature = "webgpu")]
            Engine::Gpu(t, _) => t.attach_data(&train, &test),
            Engine::Cpu(c) => c.attach_data(train, test),
        }
    }

    /// Runs (CPU) or submits (GPU) up to `steps` training steps, stopping at the end of an
    /// epoch, and returns the steps whose losses are in: on the CPU all of them, on the GPU
    /// those read back so far (this call's come with the next call or a flush).
    pub async fn train(&mut self, steps: u32) -> Result<Vec<StepRecord>> {
        self.train_until(steps, &mut || false).await
    }

    /// [`Engine::train`], ending early once `stop()` says so: the CPU engine asks it after each
    /// step but the last; the GPU engine submits every step at once and never asks.
    pub async fn train_until(
        &mut self,
        steps: u32,
        stop: &mut dyn FnMut() -> bool,
    ) -> Result<Vec<StepRecord>> {
        match self {
            #[cfg(feature = "webgpu")]
            Engine::Gpu(t, previous) => {
                let before = previous.take();
                t.submit_train(steps.max(1))?;
                t.schedule_readback()?;
                *previous = Some(t.work_done());
                if let Some(done) = before {
                    t.wait(done).await?;
                }
                t.poll()
            }
            Engine::Cpu(c) => c.train_until(steps, stop),
        }
    }

    /// Waits for every submitted step and returns the losses not yet reported.
    pub async fn flush(&mut self) -> Result<Vec<StepRecord>> {
        self.settle();
        match self {
            #[cfg(feature = "webgpu")]
            Engine::Gpu(t, _) => t.flush().await,
            Engine::Cpu(_) => Ok(Vec::new()),
        }
    }

    pub async fn evaluate(&mut self) -> Result<EvalResult> {
        self.settle();
        match self {
            #[cfg(feature = "webgpu")]
            Engine::Gpu(t, _) => t.evaluate().await,
            Engine::Cpu(c) => c.evaluate(),
        }
    }

    /// Batches of the test set one evaluation takes.
    pub fn eval_batches(&self) -> Result<u32> {
        self.run().eval_batches()
    }

    /// Takes the ε words of one evaluation (to run in parts); the word before them.
    pub fn reserve_eval(&mut self) -> Result<u32> {
        self.run_mut().reserve_eval()
    }

    /// Test batches `first .. first + count` of the evaluation reserved at `base`.
    pub async fn evaluate_part(&mut self, first: u32, count: u32, base: u32) -> Result<EvalResult> {
        self.settle();
        match self {
            #[cfg(feature = "webgpu")]
            Engine::Gpu(t, _) => t.evaluate_part(first, count, base).await,
            Engine::Cpu(c) => c.evaluate_part(first, count, base),
        }
    }

    /// Images `ids` (test images, or training images with `test` false) and their
    /// reconstructions; at most [`Engine::capacity`] ids.
    pub async fn reconstruct_images(
        &mut self,
        ids: &[u32],
        test: bool,
    ) -> Result<(Vec<f32>, Vec<f32>)> {
        match self {
            #[cfg(feature = "webgpu")]
            Engine::Gpu(t, _) => t.reconstruct_images(ids, test).await,
            Engine::Cpu(c) => c.reconstruct_images(ids, test),
        }
    }

    /// Images `ids`, their μ and log σ²; at most [`Engine::capacity`] ids.
    pub async fn encode_images(
        &mut self,
        ids: &[u32],
        test: bool,
    ) -> Result<(Vec<f32>, Vec<f32>, Vec<f32>)> {
        match self {
            #[cfg(feature = "webgpu")]
            Engine::Gpu(t, _) => t.encode_images(ids, test).await,
            Engine::Cpu(c) => c.encode_images(ids, test),
        }
    }

    /// μ and log σ² of test images `ids`; at most [`Engine::capacity`] ids.
    pub async fn encode_test(&mut self, ids: &[u32]) -> Result<(Vec<f32>, Vec<f32>)> {
        match self {
            #[cfg(feature = "webgpu")]
            Engine::Gpu(t, _) => t.encode_test(ids).await,
            Engine::Cpu(c) => c.encode_test(ids),
        }
    }

    /// μ and log σ² of `rows` inputs (at most [`Engine::capacity`]).
    pub async fn encode(&mut self, pixels: &[f32], rows: usize) -> Result<(Vec<f32>, Vec<f32>)> {
        match self {
            #[cfg(feature = "webgpu")]
            Engine::Gpu(t, _) => t.encode(pixels, rows).await,
            Engine::Cpu(c) => c.encode(pixels, rows),
        }
    }

    /// Pixels decoded from `rows` latent vectors (at most [`Engine::capacity`]).
    pub async fn decode(&mut self, z: &[f32], rows: usize) -> Result<Vec<f32>> {
        match self {
            #[cfg(feature = "webgpu")]
            Engine::Gpu(t, _) => t.decode(z, rows).await,
            Engine::Cpu(c) => c.decode(z, rows),
        }
    }

    /// The flat parameters (layout order).
    pub async fn read_params(&self) -> Result<Vec<f32>> {
        match self {
            #[cfg(feature = "webgpu")]
            Engine::Gpu(t, _) => t.read_params().await,
            Engine::Cpu(c) => Ok(c.params().to_vec()),
        }
    }

    /// Adam's first and second moments (flat, layout order).
    pub async fn read_adam_state(&self) -> Result<(Vec<f32>, Vec<f32>)> {
        match self {
            #[cfg(feature = "webgpu")]
            Engine::Gpu(t, _) => t.read_adam_state().await,
            Engine::Cpu(c) => {
                let (m, v) = c.adam_state();
                Ok((m.to_vec(), v.to_vec()))
            }
        }
    }

    /// Replaces the parameters; Adam restarts, the step count goes on.
    pub fn load_params(&mut self, flat: &[f32]) -> Result<()> {
        self.settle();
        self.run_mut().load_params(flat)
    }

    /// Adam's step count t.
    pub fn adam_t(&self) -> u64 {
        self.run().adam_t()
    }

    /// Puts Adam's moments and step count back (after [`Engine::load_params`]).
    pub fn load_adam(&mut self, m: &[f32], v: &[f32], t: u64) -> Result<()> {
        self.settle();
        self.run_mut().load_adam(m, v, t)
    }

    pub fn check_position(&self, pos: Position) -> Result<()> {
        self.run().check_position(pos)
    }

    pub fn resume_at(&mut self, pos: Position) -> Result<()> {
        self.settle();
        self.run_mut().resume_at(pos)
    }

    /// Changes β from the next step on (a plain autoencoder keeps it for the record but has no
    /// KL term); Adam's state is kept.
    pub fn set_kl_weight(&mut self, kl_weight: f32) -> Result<()> {
        let cfg = self.cfg().with_kl_weight(kl_weight)?;
        self.run_mut().set_objective(cfg);
        Ok(())
    }

    /// Switches the reparameterization trick on or off from the next step on (a VAE only);
    /// Adam's state is kept.
    pub fn set_reparameterize(&mut self, on: bool) -> Result<()> {
        let cfg = self.cfg().with_reparameterize(on)?;
        self.run_mut().set_objective(cfg);
        Ok(())
    }

    pub fn set_lr(&mut self, lr: f32) -> Result<()> {
        self.run_mut().set_lr(lr)
    }

    /// Parameters back to the seed's initialisation, Adam and the epoch count to zero.
    pub async fn reset(&mut self) -> Result<()> {
        self.settle();
        match self {
            #[cfg(feature = "webgpu")]
            Engine::Gpu(t, _) => t.reset().await,
            Engine::Cpu(c) => c.reset(),
        }
    }
}

/// The device `choice` needs, opened by the face's `open` (each face says in its own words why
/// there is none): none for the CPU engine; the adapter's for WebGPU, or `open`'s error; for
/// `auto`, the adapter's, or none with `open`'s error as the reason the CPU engine runs.
pub async fn device_for<E>(
    choice: EngineChoice,
    open: impl AsyncFnOnce() -> std::result::Result<Device, E>,
) -> std::result::Result<(Option<Device>, Option<E>), E> {
    match choice {
        EngineChoice::Cpu => Ok((None, None)),
        EngineChoice::Gpu => Ok((Some(open().await?), None)),
        EngineChoice::Auto => Ok(match open().await {
            Ok(device) => (Some(device), None),
            Err(why) => (None, Some(why)),
        }),
    }
}

/// The engine `choice` resolves to on `device` (none: no usable adapter), at once from what the
/// adapter says of itself: the GPU on a hardware adapter; the CPU without one, and on a software
/// adapter (SwiftShader, lavapipe, WARP: a GPU emulated on the CPU, where the CPU engine runs the
/// same steps several times faster — 16,001 against 3,653 samples/s here). Returns the kind and
/// a sentence saying why.
pub fn resolve(choice: EngineChoice, device: Option<&Device>) -> Result<(EngineKind, String)> {
    match (choice, device) {
        (EngineChoice::Cpu, _) => Ok((EngineKind::Cpu, "asked for".into())),
        (EngineChoice::Gpu, Some(_)) => Ok((EngineKind::Gpu, "asked for".into())),
        (EngineChoice::Gpu, None) => Err(VaeError::NoAdapter(
            "the WebGPU engine was asked for and no GPU adapter is available".into(),
        )),
        (EngineChoice::Auto, None) => Ok((EngineKind::Cpu, "no GPU adapter".into())),
        #[cfg(not(feature = "webgpu"))]
        (EngineChoice::Auto, Some(d)) => match d.0 {},
        #[cfg(feature = "webgpu")]
        (EngineChoice::Auto, Some(d)) if !d.gpu.is_software() => {
            Ok((EngineKind::Gpu, "a hardware GPU adapter".into()))
        }
        #[cfg(feature = "webgpu")]
        (EngineChoice::Auto, Some(_)) => Ok((
            EngineKind::Cpu,
            "the adapter is a software one (a GPU emulated on the CPU), where the CPU engine runs \
             the same steps faster"
                .into(),
        )),
    }
}
