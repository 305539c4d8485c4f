//! The GPU runtime: adapter and device creation with checked limits, error and device-loss
//! capture, buffer helpers, and the one readback recipe (staging buffer → `map_async` → channel
//! → poll → copy → unmap) that works natively and on wasm. All wgpu device setup lives here.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use crate::error::{Result, VaeError};

/// Which matrix-multiply form the linear kernels use (see `shaders/linear.wgsl`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GemmForm {
    /// vec4 loads straight from storage, 16×16 register blocks: fastest on CPU adapters.
    Direct,
    /// Operands staged in workgroup memory behind barriers: fastest on real GPUs.
    Tiled,
    /// The direct form with the row loads shared across a subgroup (`subgroupBroadcast`):
    /// CPU adapters whose subgroups have at least [`SUBGROUP_LANES`] lanes (lavapipe). Needs
    /// the device's subgroups feature; same results as `Direct`, bit for bit.
    DirectSubgroup,
}

/// How a training step runs the small layers around z (fc2|fc3 → z → fc4, and back).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepForm {
    /// latent.wgsl: one kernel each way, one workgroup per batch row (with each row's KL); the
    /// BCE and dlogits in fc5's forward epilogue (linear_forward_loss_tiled); the loss summed
    /// inside latent_backward; fc2|fc3's and fc4's weight gradients made inside Adam's
    /// dispatch; fc5's weight, bias and input gradients in one dispatch (linear_backward_tiled).
    /// A step is 8 dispatches with the tiled GEMMs instead of 21: on a real GPU a step at batch
    /// 128 is bound by dispatch latency (an H100 spent 0.70 ms on 21, 2.6% of peak).
    Fused,
    /// A dispatch per layer (linear.wgsl), reparameterization (reparam.wgsl) and loss sum. On
    /// CPU-emulated adapters, where a dispatch costs little and a per-row workgroup leaves most
    /// SIMD lanes idle, this is faster: with the direct GEMMs a lavapipe step took 25.2 ms this
    /// way and 37.7 ms with latent.wgsl (vae-bench, 2026-12-02).
    Separate,
}

impl StepForm {
    /// The form that goes with a GEMM form: both are chosen for the adapter's kind (the tiled
    /// GEMMs for real GPUs, the direct ones for CPU-emulated adapters). The fused form needs the
    /// tiled GEMMs (its fc5 kernels are tiled); the separate one runs with any.
    pub fn for_gemm(form: GemmForm) -> Self {
        match form {
            GemmForm::Tiled => StepForm::Fused,
            GemmForm::Direct | GemmForm::DirectSubgroup => StepForm::Separate,
        }
    }
}

/// Lanes the subgroup form's kernels share loads across (linear.wgsl): it runs only where
/// every subgroup has at least this many.
pub const SUBGROUP_LANES: u32 = 8;

/// Whether an adapter can run the subgroup form: the subgroups feature, and subgroups of at
/// least [`SUBGROUP_LANES`] lanes. Native only: in a browser, WGSL would need
/// `enable subgroups;`, and SwiftShader's 4-lane subgroups measured no faster (docs/benchmarks.md).
pub fn subgroups_usable(features: wgpu::Features, min_subgroup_size: u32) -> bool {
    !cfg!(target_arch = "wasm32")
        && features.contains(wgpu::Features::SUBGROUP)
        && min_subgroup_size >= SUBGROUP_LANES
}

impl GemmForm {
    /// The form for an adapter: CPU-emulated adapters (lavapipe, SwiftShader, WARP) run
    /// workgroup-memory tiling ~10× slower than direct loads (measured, see docs/benchmarks.md), real GPUs
    /// the other way round.
    pub fn for_adapter(info: &wgpu::AdapterInfo) -> Self {
        Self::for_device(&info.name, info.device_type, &info.driver)
    }

    /// Every form `gpu` can run: direct and tiled, and the subgroup form where it can.
    pub fn available(gpu: &Gpu) -> Vec<GemmForm> {
        let mut forms = vec![GemmForm::Direct, GemmForm::Tiled];
        if gpu.subgroups {
            forms.push(GemmForm::DirectSubgroup);
        }
        forms
    }

    /// [`GemmForm::for_adapter`] from the adapter's name, type and driver.
    pub fn for_device(name: &str, device_type: wgpu::DeviceType, driver: &str) -> Self {
        if is_software(name, device_type, driver) {
            GemmForm::Direct
        } else {
            GemmForm::Tiled
        }
    }
}

/// True for an adapter that runs on the CPU (lavapipe/llvmpipe, SwiftShader, WARP): by its
/// device type, or by name where the browser reports no type.
pub fn is_software(name: &str, device_type: wgpu::DeviceType, driver: &str) -> bool {
    let name = name.to_ascii_lowercase();
    device_type == wgpu::DeviceType::Cpu
        || ["llvmpipe", "lavapipe", "swiftshader", "warp", "software"]
            .iter()
            .any(|s| name.contains(s))
        || driver.to_ascii_lowercase().contains("llvmpipe")
}

/// Storage buffers bound by the busiest kernels (latent_backward, adam_step: eight, WebGPU's
/// default limit).
pub const STORAGE_BUFFERS_NEEDED: u32 = 8;
/// Workgroup memory of the busiest kernel (latent_backward: d[μ | log σ²] for up to 1,024
/// latents, and the loss's 64 partial sums).
pub const WORKGROUP_STORAGE_NEEDED: u32 = 2 * 1024 * 4 + 64 * 8;
/// Invocations of the largest workgroup (loss.wgsl, adam.wgsl).
pub const INVOCATIONS_NEEDED: u32 = 256;

/// The limits this crate asks for: WebGPU's downlevel baseline, raised only where its kernels
/// need more, with the adapter's own buffer-offset alignments.
pub fn required_limits(storage_binding: u64, adapter: &wgpu::Limits) -> wgpu::Limits {
    let base = wgpu::Limits::downlevel_defaults();
    wgpu::Limits {
        max_storage_buffers_per_shader_stage: base
            .max_storage_buffers_per_shader_stage
            .max(STORAGE_BUFFERS_NEEDED),
        max_storage_buffer_binding_size: base.max_storage_buffer_binding_size.max(storage_binding),
        max_buffer_size: base.max_buffer_size.max(storage_binding),
        max_compute_workgroup_storage_size: base
            .max_compute_workgroup_storage_size
            .max(WORKGROUP_STORAGE_NEEDED),
        max_compute_invocations_per_workgroup: base
            .max_compute_invocations_per_workgroup
            .max(INVOCATIONS_NEEDED),
        max_compute_workgroup_size_x: base.max_compute_workgroup_size_x.max(INVOCATIONS_NEEDED),
        ..base
    }
    .using_alignment(adapter.clone())
}

/// First limit in `required` that `available` does not meet, as (name, needed, available).
pub fn missing_limit(
    required: &wgpu::Limits,
    available: &wgpu::Limits,
) -> Option<(&'static str, u64, u64)> {
    let mut first = None;
    required.check_limits_with_fail_fn(available, false, |name, needed, got| {
        if first.is_none() {
            first = Some((name, needed, got));
        }
    });
    first
}

/// Default storage-binding size requested: WebGPU's default 128 MiB, which holds MNIST's
/// 70,000 images as packed bytes (~55 MB) several times over.
pub const DEFAULT_STORAGE_BINDING: u64 = 128 << 20;

static LIVE_BUFFERS: AtomicU64 = AtomicU64::new(0);
static LIVE_BYTES: AtomicU64 = AtomicU64::new(0);

/// GPU buffers made by this crate and not yet dropped, with their total size in bytes: every
/// buffer is created through [`Gpu`]'s helpers as a [`Buffer`], which counts itself in and,
/// when its last handle drops (and wgpu frees it), out. The soak tests watch these stay flat.
pub fn live_buffers() -> (u64, u64) {
    (
        LIVE_BUFFERS.load(Ordering::Relaxed),
        LIVE_BYTES.load(Ordering::Relaxed),
    )
}

struct Live(u64);

impl Live {
    fn new(size: u64) -> Self {
        LIVE_BUFFERS.fetch_add(1, Ordering::Relaxed);
        LIVE_BYTES.fetch_add(size, Ordering::Relaxed);
        Live(size)
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        LIVE_BUFFERS.fetch_sub(1, Ordering::Relaxed);
        LIVE_BYTES.fetch_sub(self.0, Ordering::Relaxed);
    }
}

/// A wgpu buffer counted by [`live_buffers`]. Clones share the buffer and the count; it
/// derefs to [`wgpu::Buffer`] wherever one is used.
#[derive(Clone)]
pub struct Buffer {
    inner: wgpu::Buffer,
    _live: Arc<Live>,
}

impl Buffer {
    fn new(device: &wgpu::Device, desc: &wgpu::BufferDescriptor) -> Self {
        Buffer {
            inner: device.create_buffer(desc),
            _live: Arc::new(Live::new(desc.size)),
        }
    }
}

impl std::ops::Deref for Buffer {
    type Target = wgpu::Buffer;
    fn deref(&self) -> &wgpu::Buffer {
        &self.inner
    }
}

/// Shared view of a device's lost state (see [`Gpu::lost_handle`]).
#[derive(Clone)]
pub struct LostHandle(Arc<Mutex<Option<String>>>);

impl LostHandle {
    /// The reason and message, once the device is lost.
    pub fn reason(&self) -> Option<String> {
        self.0.lock().ok().and_then(|l| l.clone())
    }
}

/// A device and queue with what the crate learned about the adapter.
pub struct Gpu {
    pub device: wgpu::Device,
    pub queue: wgpu::Queue,
    pub info: wgpu::AdapterInfo,
    pub gemm: GemmForm,
    /// The step form models made on this device use; `None`: the one that goes with `gemm`
    /// ([`Gpu::step_form`]). Set it to compare the forms on one adapter (vae-bench).
    pub step: Option<StepForm>,
    /// The device has subgroups of at least [`SUBGROUP_LANES`] lanes and the feature is on:
    /// the subgroup form can run (see [`subgroups_usable`]).
    pub subgroups: bool,
    errors: Arc<Mutex<Vec<String>>>,
    lost: Arc<Mutex<Option<String>>>,
}

impl Gpu {
    /// Finds an adapter and creates a device with [`required_limits`].
    pub async fn new() -> Result<Self> {
        Self::with_storage_binding(DEFAULT_STORAGE_BINDING).await
    }

    pub async fn with_storage_binding(storage_binding: u64) -> Result<Self> {
        let instance = wgpu::Instance::default();
        let adapter = instance
            .request_adapter(&wgpu::RequestAdapterOptions {
                power_preference: wgpu::PowerPreference::HighPerformance,
                ..Default::default()
            })
            .await
            .map_err(|e| VaeError::NoAdapter(e.to_string()))?;
        Self::from_adapter(adapter, storage_binding).await
    }

    pub async fn from_adapter(adapter: wgpu::Adapter, storage_binding: u64) -> Result<Self> {
        let info = adapter.get_info();
        let available = adapter.limits();
        let required = required_limits(storage_binding, &available);
        if let Some((limit, needed, available)) = missing_limit(&required, &available) {
            return Err(VaeError::MissingLimit {
                adapter: info.name.clone(),
                limit,
                needed,
                available,
            });
        }
        // Subgroups only where the subgroup form would use them: CPU adapters (see GemmForm).
        let subgroups = GemmForm::for_adapter(&info) == GemmForm::Direct
            && subgroups_usable(adapter.features(), info.subgroup_min_size);
        let (device, queue) = adapter
            .request_device(&wgpu::DeviceDescriptor {
                label: Some("vae-webgpu"),
                required_features: if subgroups {
                    wgpu::Features::SUBGROUP
                } else {
                    wgpu::Features::empty()
                },
                required_limits: required,
                experimental_features: wgpu::ExperimentalFeatures::disabled(),
                memory_hints: wgpu::MemoryHints::Performance,
                trace: wgpu::Trace::Off,
            })
            .await
            .map_err(|e| VaeError::DeviceRequest(e.to_string()))?;
        Ok(Self::from_device(device, queue, info))
    }

    /// Wraps an existing device (tests and embedders bring their own).
    pub fn from_device(device: wgpu::Device, queue: wgpu::Queue, info: wgpu::AdapterInfo) -> Self {
        let errors = Arc::new(Mutex::new(Vec::new()));
        let lost = Arc::new(Mutex::new(None));
        let errors_in = errors.clone();
        device.on_uncaptured_error(Arc::new(move |e: wgpu::Error| {
            if let Ok(mut v) = errors_in.lock() {
                if v.len() < 16 {
                    v.push(e.to_string());
                }
            }
        }));
        let lost_in = lost.clone();
        device.set_device_lost_callback(move |reason, message| {
            if let Ok(mut l) = lost_in.lock() {
                *l = Some(format!("{reason:?}: {message}"));
            }
        });
        let subgroups = subgroups_usable(device.features(), info.subgroup_min_size);
        let gemm = match GemmForm::for_adapter(&info) {
            GemmForm::Direct if subgroups => GemmForm::DirectSubgroup,
            form => form,
        };
        Gpu {
            device,
            queue,
            info,
            gemm,
            step: None,
            subgroups,
            errors,
            lost,
        }
    }

    /// The step form models on this device use: `step` if set, else the GEMM form's.
    pub fn step_form(&self) -> StepForm {
        self.step.unwrap_or(StepForm::for_gemm(self.gemm))
    }

    /// Another handle on the same device and queue (two trainers on one device: the page's
    /// autoencoder beside its VAE). Errors and loss are seen by both handles.
    pub fn share(&self) -> Gpu {
        Gpu {
            device: self.device.clone(),
            queue: self.queue.clone(),
            info: self.info.clone(),
            gemm: self.gemm,
            step: self.step,
            subgroups: self.subgroups,
            errors: self.errors.clone(),
            lost: self.lost.clone(),
        }
    }

    /// True when `other` is a handle on the same device (see [`Gpu::share`]).
    pub fn same_device(&self, other: &Gpu) -> bool {
        Arc::ptr_eq(&self.lost, &other.lost)
    }

    /// The adapter's name, or its driver's when the name is withheld (browsers often withhold
    /// both: then `None`).
    pub fn device_name(&self) -> Option<String> {
        let i = &self.info;
        [&i.name, &i.driver, &i.driver_info]
            .into_iter()
            .find(|s| !s.trim().is_empty())
            .map(|s| s.trim().to_string())
    }

    /// True when the adapter is a software one (see [`is_software`]).
    pub fn is_software(&self) -> bool {
        is_software(&self.info.name, self.info.device_type, &self.info.driver)
    }

    /// A one-line description of the adapter, e.g. for logs and the page.
    pub fn describe(&self) -> String {
        let name = self.device_name();
        let name = name.as_deref().unwrap_or("unnamed adapter");
        format!(
            "{name} ({:?}, {:?})",
            self.info.backend, self.info.device_type
        )
    }

    /// Why the device was lost, once it has been (`None` while it is usable). The returned
    /// handle stays current after `self` moves (embedders poll it without taking the trainer).
    pub fn lost_handle(&self) -> LostHandle {
        LostHandle(self.lost.clone())
    }

    /// Fails if the device was lost or an uncaptured GPU error was reported.
    pub fn check(&self) -> Result<()> {
        if let Ok(l) = self.lost.lock() {
            if let Some(msg) = l.as_ref() {
                return Err(VaeError::DeviceLost(msg.clone()));
            }
        }
        if let Ok(mut e) = self.errors.lock() {
            if !e.is_empty() {
                let msg = e.join("; ");
                e.clear();
                return Err(VaeError::Gpu(msg));
            }
        }
        Ok(())
    }

    /// Fails with [`VaeError::MissingLimit`] if a buffer of `size` bytes is larger than this
    /// device's `max_buffer_size`.
    pub fn check_buffer(&self, size: u64) -> Result<()> {
        let available = self.device.limits().max_buffer_size;
        if size > available {
            return Err(VaeError::MissingLimit {
                adapter: self.info.name.clone(),
                limit: "max_buffer_size",
                needed: size,
                available,
            });
        }
        Ok(())
    }

    /// Fails with [`VaeError::MissingLimit`] if a storage binding of `size` bytes is too large
    /// for this device.
    pub fn check_binding(&self, size: u64) -> Result<()> {
        let available = self.device.limits().max_storage_buffer_binding_size;
        if size > available {
            return Err(VaeError::MissingLimit {
                adapter: self.info.name.clone(),
                limit: "max_storage_buffer_binding_size",
                needed: size,
                available,
            });
        }
        Ok(())
    }

    /// Records one compute pass (filled by `f`) into a new command buffer.
    pub fn record(
        &self,
        label: &str,
        f: impl FnOnce(&mut wgpu::ComputePass) -> Result<()>,
    ) -> Result<wgpu::CommandBuffer> {
        let mut enc = self
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some(label) });
        {
            let mut pass = enc.begin_compute_pass(&wgpu::ComputePassDescriptor {
                label: Some(label),
                timestamp_writes: None,
            });
            f(&mut pass)?;
        }
        Ok(enc.finish())
    }

    /// A storage buffer of `size` bytes (zero-initialised by wgpu).
    pub fn storage(&self, label: &str, size: u64) -> Buffer {
        Buffer::new(
            &self.device,
            &wgpu::BufferDescriptor {
                label: Some(label),
                size: size.max(16),
                usage: wgpu::BufferUsages::STORAGE
                    | wgpu::BufferUsages::COPY_DST
                    | wgpu::BufferUsages::COPY_SRC,
                mapped_at_creation: false,
            },
        )
    }

    /// A storage buffer holding `data` (padded with zeros to at least 16 bytes).
    pub fn storage_with(&self, label: &str, data: &[u8]) -> Buffer {
        let buf = self.storage(label, (data.len() as u64).div_ceil(16) * 16);
        self.queue.write_buffer(&buf, 0, data);
        buf
    }

    pub fn uniform(&self, label: &str, size: u64) -> Buffer {
        Buffer::new(
            &self.device,
            &wgpu::BufferDescriptor {
                label: Some(label),
                size,
                usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
                mapped_at_creation: false,
            },
        )
    }

    /// A buffer to copy into and map for reading.
    pub fn staging(&self, label: &str, size: u64) -> Buffer {
        Buffer::new(
            &self.device,
            &wgpu::BufferDescriptor {
                label: Some(label),
                size,
                usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
                mapped_at_creation: false,
            },
        )
    }

    /// Reads `size` bytes of `src` from `offset`: the one readback recipe. Awaiting it natively
    /// polls the device; in a browser the map callback arrives from the event loop.
    pub async fn read(&self, src: &wgpu::Buffer, offset: u64, size: u64) -> Result<Vec<u8>> {
        let staging = self.staging("readback", size.div_ceil(4) * 4);
        let mut enc = self
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                label: Some("readback"),
            });
        enc.copy_buffer_to_buffer(src, offset, &staging, 0, size.div_ceil(4) * 4);
        self.queue.submit([enc.finish()]);
        let mut pending = PendingRead::start(staging, size);
        pending.wait(self).await
    }

    /// [`Gpu::read`] as f32s.
    pub async fn read_f32(
        &self,
        src: &wgpu::Buffer,
        offset: u64,
        count: usize,
    ) -> Result<Vec<f32>> {
        let bytes = self.read(src, offset, count as u64 * 4).await?;
        Ok(bytemuck::pod_collect_to_vec(&bytes))
    }

    /// Blocks (natively) until all submitted work is done; a no-op in the browser.
    pub fn wait_idle(&self) -> Result<()> {
        #[cfg(not(target_arch = "wasm32"))]
        self.device
            .poll(wgpu::PollType::wait_indefinitely())
            .map_err(|e| VaeError::Gpu(e.to_string()))?;
        self.check()
    }

    /// Lets wgpu run finished callbacks without blocking.
    pub fn poll(&self) {
        #[cfg(not(target_arch = "wasm32"))]
        let _ = self.device.poll(wgpu::PollType::Poll);
    }
}

/// A mapping in flight: created right after the submit that fills `buffer`.
pub struct PendingRead {
    buffer: Buffer,
    size: u64,
    rx: futures_channel::oneshot::Receiver<std::result::Result<(), wgpu::BufferAsyncError>>,
}

impl PendingRead {
    pub fn start(buffer: Buffer, size: u64) -> Self {
        let (tx, rx) = futures_channel::oneshot::channel();
        buffer.map_async(wgpu::MapMode::Read, .., move |r| {
            let _ = tx.send(r);
        });
        PendingRead { buffer, size, rx }
    }

    fn finish(&self, mapped: std::result::Result<(), wgpu::BufferAsyncError>) -> Result<Vec<u8>> {
        mapped.map_err(|e| VaeError::Gpu(format!("mapping a readback buffer failed: {e}")))?;
        let data = {
            let view = self
                .buffer
                .get_mapped_range(..)
                .map_err(|e| VaeError::Gpu(format!("reading a mapped buffer failed: {e:?}")))?;
            view[..self.size as usize].to_vec()
        };
        self.buffer.unmap();
        Ok(data)
    }

    /// The bytes if the mapping finished, without blocking; `None` while it is in flight.
    pub fn try_take(&mut self) -> Option<Result<(Vec<u8>, Buffer)>> {
        match self.rx.try_recv() {
            Ok(None) => None,
            Ok(Some(r)) => Some(self.finish(r).map(|d| (d, self.buffer.clone()))),
            Err(_) => Some(Err(VaeError::DeviceLost("a readback was cancelled".into()))),
        }
    }

    /// Waits for the mapping (natively by polling the device).
    pub async fn wait(&mut self, gpu: &Gpu) -> Result<Vec<u8>> {
        #[cfg(not(target_arch = "wasm32"))]
        gpu.device
            .poll(wgpu::PollType::wait_indefinitely())
            .map_err(|e| VaeError::Gpu(e.to_string()))?;
        let r = (&mut self.rx)
            .await
            .map_err(|_| VaeError::DeviceLost("a readback was cancelled".into()))?;
        gpu.check()?;
        self.finish(r)
            .map_err(|e| match gpu.lost_handle().reason() {
                Some(why) => VaeError::DeviceLost(why),
                None => e,
            })
    }

    pub fn buffer(&self) -> &Buffer {
        &self.buffer
    }
}
