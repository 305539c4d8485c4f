//! The VAE on the GPU: its buffers (made once), bind groups (made once per batch size), and the
//! order of dispatches for a training step, an evaluation step, and a decode.
//!
//! Shape legend: B = batch rows (≤ `capacity`), IN = input, H = hidden, L = latent; every
//! activation is (B, ld(cols)) row-major with zero padding (see layout.rs).
//!   x (B,IN) → fc1+ReLU → h1 (B,H) → fc2|fc3 → mulv (B,2L) = [μ | log σ²] → reparam → z (B,L)
//!   → fc4+ReLU → h4 (B,H) → fc5 → logits (B,IN) → BCE-with-logits + KL
//! and back: dlogits → dh4 → dz → dmulv → dh1, with dW/db of every layer into `grads`.
//! How fc2|fc3 → z → fc4, the loss and fc5's backward run is the step's [`StepForm`]: fused on
//! real GPUs (8 dispatches a step), as separate kernels on CPU-emulated adapters (17).
//!
//! Split by job: this file the buffers and the data on the GPU; [`plan`] the bind groups made
//! once per batch size and each step's parameters; [`encode`] the order of dispatches (a step,
//! a stage, an encode or a decode); [`io`] the writes and readbacks of rows and parameters;
//! [`stage_kernels`] the WGSL entry points of each stage of a step.

use crate::config::VaeConfig;
use crate::error::{Result, VaeError};
pub use crate::gpu::StepForm;
use crate::gpu::{Buffer, GemmForm, Gpu};
use crate::kernels::adam::AdamBindings;
use crate::kernels::latent::{LatentBackwardBindings, LatentForwardBindings};
use crate::kernels::linear::{
    loss_groups, LinearBindings, LinearParams, LossEpilogue, FLAG_RELU, FLAG_RELU_MASK,
};
use crate::kernels::loss::{loss_partials, LossBindings, STATS_RECORD};
use crate::kernels::reparam::ReparamBindings;
use crate::kernels::{step_stride, Kernels, StepParams, MAX_STEPS_PER_SUBMIT};
use crate::layout::{buffer_bytes, capacity, ld, ParamLayout};
use crate::mnist::Dataset;
use crate::run::{check_rows, Stage, StepKind};

mod encode;
mod io;
mod plan;
mod stage_kernels;

/// A small layer's offset in StepParams when Adam reads its gradients (the separate
/// [`StepForm`]): past any parameter buffer.
const NOT_IN_ADAM: u32 = u32::MAX / 2;

/// Stats records kept on the GPU (a ring); readbacks must come at least this often.
pub const STATS_SLOTS: u32 = 4096;
pub use crate::layout::DISPLAY_ROWS;

/// What one step of a submit does.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepSpec {
    pub kind: StepKind,
    pub rows: u32,
    /// First entry of the batch in the index buffer.
    pub index_offset: u32,
    /// Philox counter word for ε.
    pub rng_step: u32,
    /// Stats record to write.
    pub slot: u32,
    /// Adam's step number t (1-based), for training steps.
    pub t: u64,
}

/// Activations and their gradients, each sized for `capacity` rows.
pub struct Activations {
    pub x: Buffer,
    pub h1: Buffer,
    pub mulv: Buffer,
    pub z: Buffer,
    pub eps: Buffer,
    pub h4: Buffer,
    pub logits: Buffer,
    pub dlogits: Buffer,
    pub dh4: Buffer,
    /// The gradient wrt z (the separate [`StepForm`]; the fused one keeps it in workgroup memory).
    pub dz: Buffer,
    pub dmulv: Buffer,
    pub dh1: Buffer,
}

/// How a linear layer is wired: (layer index, input activation, output activation, gradient of
/// the output, gradient of the input (none for fc1), flags).
type Wiring<'a> = (
    usize,
    &'a Buffer,
    &'a Buffer,
    &'a Buffer,
    Option<&'a Buffer>,
    u32,
);

struct LayerPlan {
    params: LinearParams,
    forward: wgpu::BindGroup,
    /// fc5 in the fused step form: the forward with the loss in its epilogue, and the weight
    /// and input gradients in one dispatch.
    forward_loss: Option<wgpu::BindGroup>,
    backward_both: Option<wgpu::BindGroup>,
    backward_input: Option<wgpu::BindGroup>,
    backward_params: wgpu::BindGroup,
    _uniform: Buffer,
}

/// Everything that depends on the number of rows of a batch.
struct Plan {
    rows: u32,
    /// fc1, fc2|fc3, fc4, fc5.
    layers: [LayerPlan; 4],
}

/// The dataset on the GPU: train then test images as packed bytes, and the index buffer
/// [train order | test order | scratch].
pub struct GpuData {
    pub images: Buffer,
    pub indices: Buffer,
    pub train_len: u32,
    pub test_len: u32,
    pub labels_test: Vec<u8>,
    gather: wgpu::BindGroup,
}

impl GpuData {
    pub fn test_offset(&self) -> u32 {
        self.train_len
    }
    pub fn scratch_offset(&self) -> u32 {
        self.train_len + self.test_len
    }
}

pub struct VaeModel {
    pub cfg: VaeConfig,
    pub layout: ParamLayout,
    pub kernels: Kernels,
    /// How a step runs fc2|fc3 → z → fc4, the loss and fc5's backward (the device's
    /// [`Gpu::step_form`], or the one given to [`VaeModel::with_forms`]).
    pub step_form: StepForm,
    pub capacity: u32,
    pub params: Buffer,
    pub grads: Buffer,
    /// Adam's m, then v (each `layout.len` floats).
    pub adam_mv: Buffer,
    pub act: Activations,
    /// The ring of [`STATS_SLOTS`] step records, then the loss's partial sums.
    pub stats: Buffer,
    step_uniform: Buffer,
    stride: u64,
    plans: Vec<Plan>,
    bg_reparam: wgpu::BindGroup,
    bg_latent_forward: wgpu::BindGroup,
    bg_latent_backward: wgpu::BindGroup,
    bg_loss: wgpu::BindGroup,
    bg_adam: wgpu::BindGroup,
    data: Option<GpuData>,
}

fn f32_bytes(n: usize) -> u64 {
    n as u64 * 4
}

impl VaeModel {
    /// Creates every buffer with parameters from `cfg.seed` (PyTorch's default init), using the
    /// GEMM and step forms chosen for the device.
    pub fn new(gpu: &Gpu, cfg: &VaeConfig) -> Result<Self> {
        Self::with_forms(gpu, cfg, gpu.gemm, gpu.step_form())
    }

    /// With GEMM form `form` and the step form that goes with it.
    pub fn with_form(gpu: &Gpu, cfg: &VaeConfig, form: GemmForm) -> Result<Self> {
        Self::with_forms(gpu, cfg, form, StepForm::for_gemm(form))
    }

    /// With GEMM form `form` and step form `step` (the fused one needs the tiled GEMMs).
    pub fn with_forms(gpu: &Gpu, cfg: &VaeConfig, form: GemmForm, step: StepForm) -> Result<Self> {
        if step == StepForm::Fused && form != GemmForm::Tiled {
            return Err(VaeError::Internal(format!(
                "the fused step form runs with the tiled GEMMs, not {form:?}"
            )));
        }
        cfg.validate(None)?;
        let layout = ParamLayout::from_config(cfg);
        let kernels = Kernels::new(gpu, form);
        let capacity = capacity(cfg);
        let (i, h, l) = (cfg.input, cfg.hidden, cfg.latent);
        let rows_of = |cols: usize| f32_bytes(capacity * ld(cols));
        // Every buffer the model and its trainer make, checked before any is made.
        let sizes = buffer_bytes(cfg);
        gpu.check_binding(sizes.largest_binding)?;
        gpu.check_buffer(sizes.state_copy)?;
        let act = Activations {
            x: gpu.storage("x", rows_of(i)),
            h1: gpu.storage("h1", rows_of(h)),
            mulv: gpu.storage("mulv", rows_of(2 * l)),
            z: gpu.storage("z", rows_of(l)),
            eps: gpu.storage("eps", f32_bytes(capacity * l)),
            h4: gpu.storage("h4", rows_of(h)),
            logits: gpu.storage("logits", rows_of(i)),
            dlogits: gpu.storage("dlogits", rows_of(i)),
            dh4: gpu.storage("dh4", rows_of(h)),
            dz: gpu.storage("dz", rows_of(l)),
            dmulv: gpu.storage("dmulv", rows_of(2 * l)),
            dh1: gpu.storage("dh1", rows_of(h)),
        };
        let params = gpu.storage_with("params", bytemuck::cast_slice(&layout.init(cfg.seed)));
        let grads = gpu.storage("grads", f32_bytes(layout.len));
        let adam_mv = gpu.storage("adam.m|v", f32_bytes(2 * layout.len));
        let cap = capacity as u32;
        let partials = loss_partials(cap).max(cap + loss_groups(cap, cfg.input as u32));
        let records = u64::from(STATS_SLOTS + partials);
        let stats = gpu.storage("stats | loss partials", records * STATS_RECORD);
        let stride = step_stride(gpu);
        let step_uniform = gpu.uniform("step params", stride * MAX_STEPS_PER_SUBMIT as u64);
        let k = &kernels;
        let bg_reparam = k.reparam.bind_group(
            gpu,
            &ReparamBindings {
                step: &step_uniform,
                mulv: &act.mulv,
                dz: &act.dz,
                z: &act.z,
                eps: &act.eps,
                dmulv: &act.dmulv,
            },
        );
        let bg_latent_forward = k.latent.forward_bind_group(
            gpu,
            &LatentForwardBindings {
                step: &step_uniform,
                params: &params,
                h1: &act.h1,
                mulv: &act.mulv,
                z: &act.z,
                eps: &act.eps,
                h4: &act.h4,
                stats: &stats,
            },
        );
        let bg_latent_backward = k.latent.backward_bind_group(
            gpu,
            &LatentBackwardBindings {
                step: &step_uniform,
                params: &params,
                h1: &act.h1,
                mulv: &act.mulv,
                eps: &act.eps,
                dh4: &act.dh4,
                dmulv: &act.dmulv,
                dh1: &act.dh1,
                stats: &stats,
            },
        );
        let bg_loss = k.loss.bind_group(
            gpu,
            &LossBindings {
                step: &step_uniform,
                logits: &act.logits,
                x: &act.x,
                mulv: &act.mulv,
                dlogits: &act.dlogits,
                stats: &stats,
            },
        );
        let bg_adam = k.adam.bind_group(
            gpu,
            &AdamBindings {
                step: &step_uniform,
                grads: &grads,
                params: &params,
                mv: &adam_mv,
                stats: &stats,
                h1: &act.h1,
                dh4: &act.dh4,
                z: &act.z,
                dmulv: &act.dmulv,
            },
        );
        let mut model = VaeModel {
            cfg: cfg.clone(),
            layout,
            kernels,
            step_form: step,
            capacity: capacity as u32,
            params,
            grads,
            adam_mv,
            act,
            stats,
            step_uniform,
            stride,
            plans: Vec::new(),
            bg_reparam,
            bg_latent_forward,
            bg_latent_backward,
            bg_loss,
            bg_adam,
            data: None,
        };
        model.ensure_plan(gpu, cfg.batch_size as u32)?;
        Ok(model)
    }

    /// Uploads the train and test sets once (as packed bytes) and binds them for gathering.
    pub fn attach_data(&mut self, gpu: &Gpu, train: &Dataset, test: &Dataset) -> Result<()> {
        if train.pixels() != self.cfg.input {
            return Err(VaeError::config(
                "input",
                format!(
                    "the model takes {} pixels but the images have {}",
                    self.cfg.input,
                    train.pixels()
                ),
            ));
        }
        test.check_same_shape(train, "test images")?;
        self.cfg.validate(Some(train.len()))?;
        let mut bytes = Vec::with_capacity(train.images.len() + test.images.len() + 4);
        bytes.extend_from_slice(&train.images);
        bytes.extend_from_slice(&test.images);
        let size = (bytes.len() as u64).div_ceil(16) * 16;
        gpu.check_binding(size)?;
        bytes.resize(size as usize, 0);
        let images = gpu.storage_with("dataset images (u8 packed)", &bytes);
        let (train_len, test_len) = (train.len() as u32, test.len() as u32);
        let mut order: Vec<u32> = (0..train_len).collect();
        order.extend(train_len..train_len + test_len);
        order.extend(std::iter::repeat_n(0, self.capacity as usize));
        let indices = gpu.storage_with("dataset indices", bytemuck::cast_slice(&order));
        let gather =
            self.kernels
                .gather
                .bind_group(gpu, &self.step_uniform, &images, &indices, &self.act.x);
        self.data = Some(GpuData {
            images,
            indices,
            train_len,
            test_len,
            labels_test: test.labels.clone(),
            gather,
        });
        Ok(())
    }

    pub fn data(&self) -> Option<&GpuData> {
        self.data.as_ref()
    }

    /// Writes the training order of this epoch into the index buffer (ordered on the queue after
    /// all earlier submits, so steps in flight still see the previous order).
    pub fn write_train_order(&self, gpu: &Gpu, order: &[u32]) -> Result<()> {
        let data = self.data.as_ref().ok_or_else(no_data)?;
        if order.len() != data.train_len as usize {
            return Err(VaeError::Internal(format!(
                "order has {} entries, the train set {}",
                order.len(),
                data.train_len
            )));
        }
        gpu.queue
            .write_buffer(&data.indices, 0, bytemuck::cast_slice(order));
        Ok(())
    }

    /// Writes image ids (into the concatenated train|test set) to the scratch region.
    pub fn write_scratch_indices(&self, gpu: &Gpu, ids: &[u32]) -> Result<u32> {
        let data = self.data.as_ref().ok_or_else(no_data)?;
        if ids.len() > self.capacity as usize {
            return Err(VaeError::config(
                "rows",
                format!("at most {} rows at a time", self.capacity),
            ));
        }
        let offset = data.scratch_offset();
        gpu.queue.write_buffer(
            &data.indices,
            u64::from(offset) * 4,
            bytemuck::cast_slice(ids),
        );
        Ok(offset)
    }
}

fn no_data() -> VaeError {
    VaeError::NoData("load one first".into())
}
