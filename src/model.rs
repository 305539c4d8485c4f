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

impl Stage {
    /// The WGSL entry points that run this stage in GEMM form `form` and step form `step` (the
    /// names in `shaders/`).
    pub fn kernels(self, form: GemmForm, step: StepForm) -> Vec<String> {
        let fused = step == StepForm::Fused;
        let suffix = match form {
            GemmForm::Direct => "",
            GemmForm::Tiled => "_tiled",
            GemmForm::DirectSubgroup => "_subgroup",
        };
        let linear = |name: &str| format!("linear.wgsl: linear_{name}{suffix}");
        // A layer's weight and bias gradients, then its input gradient.
        let linear_backward = |input: bool| {
            let mut k = vec![linear("backward_weight")];
            if input {
                k.push(linear("backward_input"));
            }
            k
        };
        match self {
            Stage::Gather => vec!["gather.wgsl: gather_batch".into()],
            Stage::Forward(3) if fused => vec!["linear.wgsl: linear_forward_loss_tiled".into()],
            Stage::Forward(_) => vec![linear("forward")],
            Stage::Latent if fused => vec!["latent.wgsl: latent_forward".into()],
            Stage::Latent => vec![linear("forward"), "reparam.wgsl: reparam_forward".into()],
            // Computed in fc5's forward kernel.
            Stage::Loss if fused => vec![],
            Stage::Loss => vec![
                "loss.wgsl: loss_bce_kl".into(),
                "loss.wgsl: loss_reduce".into(),
            ],
            Stage::Backward(3) if fused => vec!["linear.wgsl: linear_backward_tiled".into()],
            Stage::Backward(i) => linear_backward(i > 0),
            Stage::LatentBackward if fused => vec!["latent.wgsl: latent_backward".into()],
            Stage::LatentBackward => {
                let mut k = linear_backward(true);
                k.push("reparam.wgsl: reparam_backward".into());
                k
            }
            Stage::Adam => vec!["adam.wgsl: adam_step".into()],
        }
    }
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

    fn ensure_plan(&mut self, gpu: &Gpu, rows: u32) -> Result<()> {
        if rows == 0 || rows > self.capacity {
            return Err(VaeError::config(
                "rows",
                format!("{rows} rows; 1..={} allowed", self.capacity),
            ));
        }
        if self.plans.iter().any(|p| p.rows == rows) {
            return Ok(());
        }
        let a = &self.act;
        // (layer, input activation, output activation, output gradient, input gradient, flags)
        let wiring: [Wiring; 4] = [
            (0, &a.x, &a.h1, &a.dh1, None, FLAG_RELU),
            (1, &a.h1, &a.mulv, &a.dmulv, Some(&a.dh1), FLAG_RELU_MASK),
            (2, &a.z, &a.h4, &a.dh4, Some(&a.dz), FLAG_RELU),
            (
                3,
                &a.h4,
                &a.logits,
                &a.dlogits,
                Some(&a.dh4),
                FLAG_RELU_MASK,
            ),
        ];
        let views = self.layout.layers();
        let names = ["fc1", "fc2|fc3", "fc4", "fc5"];
        let lin = &self.kernels.linear;
        let mut layers = Vec::with_capacity(4);
        for (li, input, output, d_out, d_in, flags) in wiring {
            let v = views[li];
            let params = LinearParams {
                rows,
                out_features: v.out_features as u32,
                in_features: v.in_features as u32,
                weight_offset: v.weight_offset as u32,
                bias_offset: v.bias_offset as u32,
                flags,
                partials_at: STATS_SLOTS,
                _pad1: 0,
            };
            let name = names[li];
            let uniform = gpu.uniform(
                &format!("{name} params (B={rows})"),
                std::mem::size_of::<LinearParams>() as u64,
            );
            gpu.queue
                .write_buffer(&uniform, 0, bytemuck::bytes_of(&params));
            let bindings = |a, b, aux, c| LinearBindings {
                params: &uniform,
                a,
                b,
                aux,
                c,
            };
            let forward = lin.bind_group(
                gpu,
                &format!("{name} forward"),
                &bindings(input, &self.params, &self.params, output),
            );
            let fused = self.step_form == StepForm::Fused;
            let forward_loss = match li {
                3 if fused => {
                    let epilogue = LossEpilogue {
                        targets: &a.x,
                        dlogits: &a.dlogits,
                        stats: &self.stats,
                    };
                    let b = bindings(input, &self.params, &self.params, output);
                    let bg = lin.loss_bind_group(gpu, "fc5 forward + loss", &b, &epilogue);
                    Some(bg.ok_or_else(|| {
                        VaeError::Internal("the fused step needs the tiled GEMM form".into())
                    })?)
                }
                _ => None,
            };
            let backward_both = match (li, d_in) {
                (3, Some(d_in)) if fused => {
                    let bufs: [&wgpu::Buffer; 5] = [d_out, &self.params, input, &self.grads, d_in];
                    let bg = lin.backward_both_bind_group(gpu, "fc5 backward", &uniform, bufs);
                    Some(bg.ok_or_else(|| {
                        VaeError::Internal("the fused step needs the tiled GEMM form".into())
                    })?)
                }
                _ => None,
            };
            let backward_input = d_in.map(|d_in| {
                lin.bind_group(
                    gpu,
                    &format!("{name} backward_input"),
                    &bindings(d_out, &self.params, input, d_in),
                )
            });
            let backward_params = lin.bind_group(
                gpu,
                &format!("{name} backward_params"),
                &bindings(d_out, input, input, &self.grads),
            );
            layers.push(LayerPlan {
                params,
                forward,
                forward_loss,
                backward_both,
                backward_input,
                backward_params,
                _uniform: uniform,
            });
        }
        let layers: [LayerPlan; 4] = layers
            .try_into()
            .map_err(|_| VaeError::Internal("a plan needs four layers".into()))?;
        self.plans.push(Plan { rows, layers });
        Ok(())
    }

    fn plan(&self, rows: u32) -> Result<&Plan> {
        self.plans
            .iter()
            .find(|p| p.rows == rows)
            .ok_or_else(|| VaeError::Internal(format!("no plan for {rows} rows")))
    }

    fn step_params(&self, s: &StepSpec) -> StepParams {
        let c = &self.cfg;
        let t = s.t.max(1) as i32;
        let bc1 = 1.0 - f64::from(c.beta1).powi(t);
        let bc2 = 1.0 - f64::from(c.beta2).powi(t);
        let [_, fc23, fc4, _] = self.layout.layers();
        // Adam makes fc2|fc3's and fc4's gradients in the fused form; the separate form has
        // them made by linear kernels, and puts these offsets past the buffer (adam.wgsl).
        let small = |at: usize| match self.step_form {
            StepForm::Fused => at as u32,
            StepForm::Separate => NOT_IN_ADAM,
        };
        StepParams {
            rows: s.rows,
            in_features: c.input as u32,
            latent: c.latent as u32,
            index_offset: s.index_offset,
            rng_step: s.rng_step,
            seed_lo: c.seed as u32,
            seed_hi: (c.seed >> 32) as u32,
            slot: s.slot,
            lr: c.lr,
            beta1: c.beta1,
            beta2: c.beta2,
            eps: c.eps,
            step_size: (f64::from(c.lr) / bc1) as f32,
            bc2_sqrt: bc2.sqrt() as f32,
            param_vec4s: (self.layout.len / 4) as u32,
            loss_partials: match self.step_form {
                // Each row's KL (latent_forward), then a Σ BCE per fc5 workgroup.
                StepForm::Fused => s.rows + loss_groups(s.rows, c.input as u32),
                StepForm::Separate => loss_partials(s.rows),
            },
            // A plain autoencoder has no KL term in its objective.
            kl_weight: if c.variational { c.kl_weight } else { 0.0 },
            variational: u32::from(c.variational),
            hidden: c.hidden as u32,
            partials_at: STATS_SLOTS,
            w23_at: small(fc23.weight_offset),
            b23_at: small(fc23.bias_offset),
            w4_at: small(fc4.weight_offset),
            b4_at: small(fc4.bias_offset),
        }
    }

    /// Records `steps` (at most [`MAX_STEPS_PER_SUBMIT`]) into one command buffer with one
    /// compute pass; their StepParams are written to the queue first. Submit the result next.
    pub fn encode_steps(&mut self, gpu: &Gpu, steps: &[StepSpec]) -> Result<wgpu::CommandBuffer> {
        if steps.len() > MAX_STEPS_PER_SUBMIT {
            return Err(VaeError::Internal(format!(
                "{} steps in one submit; at most {MAX_STEPS_PER_SUBMIT}",
                steps.len()
            )));
        }
        for s in steps {
            self.ensure_plan(gpu, s.rows)?;
        }
        let mut uniform = vec![0u8; self.stride as usize * steps.len().max(1)];
        let records: Vec<StepParams> = steps.iter().map(|s| self.step_params(s)).collect();
        for (i, r) in records.iter().enumerate() {
            let at = i * self.stride as usize;
            uniform[at..at + std::mem::size_of::<StepParams>()]
                .copy_from_slice(bytemuck::bytes_of(r));
        }
        gpu.queue.write_buffer(&self.step_uniform, 0, &uniform);
        let data = self.data.as_ref().ok_or_else(no_data)?;
        gpu.record("vae steps", |pass| {
            for (i, (spec, sp)) in steps.iter().zip(&records).enumerate() {
                let offset = (i as u64 * self.stride) as u32;
                let plan = self.plan(spec.rows)?;
                self.encode_forward(gpu, pass, &data.gather, plan, offset, sp)?;
                match spec.kind {
                    StepKind::Train => {
                        self.encode_backward(gpu, pass, &data.gather, plan, offset, sp)?
                    }
                    // The fused form sums a training step's loss in latent_backward.
                    StepKind::Eval if self.step_form == StepForm::Fused => {
                        self.kernels.loss.loss_reduce(pass, &self.bg_loss, offset)
                    }
                    StepKind::Eval => {}
                }
            }
            Ok(())
        })
    }

    fn encode_forward(
        &self,
        gpu: &Gpu,
        pass: &mut wgpu::ComputePass,
        gather: &wgpu::BindGroup,
        plan: &Plan,
        offset: u32,
        sp: &StepParams,
    ) -> Result<()> {
        for stage in Stage::FORWARD {
            self.encode_stage(gpu, pass, gather, plan, offset, sp, stage)?;
        }
        Ok(())
    }

    fn encode_backward(
        &self,
        gpu: &Gpu,
        pass: &mut wgpu::ComputePass,
        gather: &wgpu::BindGroup,
        plan: &Plan,
        offset: u32,
        sp: &StepParams,
    ) -> Result<()> {
        for stage in Stage::BACKWARD {
            self.encode_stage(gpu, pass, gather, plan, offset, sp, stage)?;
        }
        Ok(())
    }

    /// Records the dispatches of one stage of a step.
    #[allow(clippy::too_many_arguments)]
    fn encode_stage(
        &self,
        gpu: &Gpu,
        pass: &mut wgpu::ComputePass,
        gather: &wgpu::BindGroup,
        plan: &Plan,
        offset: u32,
        sp: &StepParams,
        stage: Stage,
    ) -> Result<()> {
        let k = &self.kernels;
        let layer = |i: usize| &plan.layers[i.min(3)];
        let fused = self.step_form == StepForm::Fused;
        match stage {
            Stage::Gather => k.gather.gather_batch(gpu, pass, gather, offset, sp),
            Stage::Forward(i) => match &layer(i).forward_loss {
                Some(bg) => k.linear.forward_loss(gpu, pass, bg, &layer(i).params),
                None => k
                    .linear
                    .forward(gpu, pass, &layer(i).forward, &layer(i).params),
            },
            // In the fused form the loss is fc5's epilogue.
            Stage::Loss if fused => Ok(()),
            Stage::Latent if fused => {
                k.latent
                    .latent_forward(gpu, pass, &self.bg_latent_forward, offset, sp)
            }
            Stage::Latent => {
                k.linear
                    .forward(gpu, pass, &layer(1).forward, &layer(1).params)?;
                k.reparam
                    .reparam_forward(gpu, pass, &self.bg_reparam, offset, sp)?;
                k.linear
                    .forward(gpu, pass, &layer(2).forward, &layer(2).params)
            }
            Stage::Loss => {
                k.loss.loss_bce_kl(gpu, pass, &self.bg_loss, offset, sp)?;
                k.loss.loss_reduce(pass, &self.bg_loss, offset);
                Ok(())
            }
            Stage::Backward(i) => self.encode_linear_backward(gpu, pass, layer(i)),
            Stage::LatentBackward if fused => {
                k.latent
                    .latent_backward(gpu, pass, &self.bg_latent_backward, offset, sp)
            }
            Stage::LatentBackward => {
                self.encode_linear_backward(gpu, pass, layer(2))?;
                k.reparam
                    .reparam_backward(gpu, pass, &self.bg_reparam, offset, sp)?;
                self.encode_linear_backward(gpu, pass, layer(1))
            }
            Stage::Adam => k.adam.adam_step(gpu, pass, &self.bg_adam, offset, sp),
        }
    }

    /// A layer's weight (and bias) gradient, then its input gradient (none for fc1).
    fn encode_linear_backward(
        &self,
        gpu: &Gpu,
        pass: &mut wgpu::ComputePass,
        l: &LayerPlan,
    ) -> Result<()> {
        let k = &self.kernels.linear;
        if let Some(bg) = &l.backward_both {
            return k.backward_both(gpu, pass, bg, &l.params);
        }
        k.backward_params(gpu, pass, &l.backward_params, &l.params)?;
        match &l.backward_input {
            Some(bg) => k.backward_input(gpu, pass, bg, &l.params),
            None => Ok(()),
        }
    }

    /// Records `stage` of a training step on `rows` rows, `reps` times over (for benchmarks:
    /// the stage's buffers are read and written as in a step, so a repeated Adam stage moves
    /// the parameters).
    pub fn encode_stage_reps(
        &mut self,
        gpu: &Gpu,
        spec: &StepSpec,
        stage: Stage,
        reps: u32,
    ) -> Result<wgpu::CommandBuffer> {
        self.ensure_plan(gpu, spec.rows)?;
        let record = self.step_params(spec);
        gpu.queue
            .write_buffer(&self.step_uniform, 0, bytemuck::bytes_of(&record));
        let data = self.data.as_ref().ok_or_else(no_data)?;
        gpu.record("vae stage", |pass| {
            let plan = self.plan(spec.rows)?;
            for _ in 0..reps {
                self.encode_stage(gpu, pass, &data.gather, plan, 0, &record, stage)?;
            }
            Ok(())
        })
    }

    /// Dispatches per training step in step form `step` (for the benchmark's report; every GEMM
    /// form records the same number).
    pub fn dispatches_per_train_step(step: StepForm) -> usize {
        match step {
            // gather, fc1, latent, fc5 with the loss; fc5's gradients, latent backward (with the
            // loss's sum), fc1's weight gradient, Adam (a test counts what a step records)
            StepForm::Fused => 8,
            // gather, fc1, fc2|fc3, reparam, fc4, fc5, loss and its sum; weight and input
            // gradients of fc5, fc4 and fc2|fc3, reparam backward, fc1's weight gradient, Adam
            StepForm::Separate => 17,
        }
    }

    /// Records a decode of `rows` latent vectors already written to `act.z`: fc4, fc5.
    pub fn encode_decode(&mut self, gpu: &Gpu, rows: u32) -> Result<wgpu::CommandBuffer> {
        self.ensure_plan(gpu, rows)?;
        let plan = self.plan(rows)?;
        let [_, _, fc4, fc5] = &plan.layers;
        gpu.record("vae decode", |pass| {
            let k = &self.kernels.linear;
            k.forward(gpu, pass, &fc4.forward, &fc4.params)?;
            k.forward(gpu, pass, &fc5.forward, &fc5.params)
        })
    }

    /// Records the encoder for `rows` inputs already written to `act.x`: fc1, fc2|fc3, so that
    /// `act.mulv` holds [μ | log σ²].
    pub fn encode_encoder(&mut self, gpu: &Gpu, rows: u32) -> Result<wgpu::CommandBuffer> {
        self.ensure_plan(gpu, rows)?;
        let plan = self.plan(rows)?;
        let [fc1, fc23, _, _] = &plan.layers;
        gpu.record("vae encode", |pass| {
            let k = &self.kernels.linear;
            k.forward(gpu, pass, &fc1.forward, &fc1.params)?;
            k.forward(gpu, pass, &fc23.forward, &fc23.params)
        })
    }

    /// Writes dense inputs (rows × IN, values in [0, 1]) into the x buffer with row padding.
    pub fn write_x(&self, gpu: &Gpu, x: &[f32], rows: usize) -> Result<()> {
        self.write_rows(gpu, &self.act.x, x, rows, self.cfg.input, "pixels")
    }

    fn write_rows(
        &self,
        gpu: &Gpu,
        buf: &Buffer,
        values: &[f32],
        rows: usize,
        cols: usize,
        what: &'static str,
    ) -> Result<()> {
        check_rows(values, rows, cols, self.capacity as usize, what)?;
        let mut padded = vec![0.0f32; rows * ld(cols)];
        for r in 0..rows {
            padded[r * ld(cols)..r * ld(cols) + cols]
                .copy_from_slice(&values[r * cols..(r + 1) * cols]);
        }
        gpu.queue
            .write_buffer(buf, 0, bytemuck::cast_slice(&padded));
        Ok(())
    }

    /// Writes dense z (rows × L) into the z buffer with row padding.
    pub fn write_z(&self, gpu: &Gpu, z: &[f32], rows: usize) -> Result<()> {
        self.write_rows(gpu, &self.act.z, z, rows, self.cfg.latent, "z")
    }

    /// Reads `rows` rows of a padded activation with `cols` columns, dense.
    pub async fn read_rows(
        &self,
        gpu: &Gpu,
        buf: &Buffer,
        rows: usize,
        cols: usize,
    ) -> Result<Vec<f32>> {
        let padded = gpu.read_f32(buf, 0, rows * ld(cols)).await?;
        Ok(padded
            .chunks(ld(cols))
            .flat_map(|r| r[..cols].iter().copied())
            .collect())
    }

    /// The flat parameters (layout order, padded).
    pub async fn read_params(&self, gpu: &Gpu) -> Result<Vec<f32>> {
        gpu.read_f32(&self.params, 0, self.layout.len).await
    }

    pub async fn read_grads(&self, gpu: &Gpu) -> Result<Vec<f32>> {
        gpu.read_f32(&self.grads, 0, self.layout.len).await
    }

    /// Replaces the parameters and resets Adam's state (the caller resets its step count).
    pub fn write_params(&self, gpu: &Gpu, flat: &[f32]) -> Result<()> {
        if flat.len() != self.layout.len {
            return Err(VaeError::Checkpoint(format!(
                "{} parameters given, the model has {}",
                flat.len(),
                self.layout.len
            )));
        }
        gpu.queue
            .write_buffer(&self.params, 0, bytemuck::cast_slice(flat));
        let zeros = vec![0u8; self.layout.len * 4];
        gpu.queue.write_buffer(&self.adam_mv, 0, &zeros);
        gpu.queue
            .write_buffer(&self.adam_mv, f32_bytes(self.layout.len), &zeros);
        Ok(())
    }
}

fn no_data() -> VaeError {
    VaeError::NoData("load one first".into())
}
