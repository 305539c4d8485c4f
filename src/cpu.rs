//! The CPU engine: the training step the WGSL kernels run — gather, fc1 … fc5, z = μ + σ·ε with
//! the same Philox ε, BCE(sum) + β·KL, backward, Adam — in `f32` on the host, over the same flat
//! parameter layout ([`ParamLayout`]: checkpoints move between the engines unchanged), the same
//! init, the same seeded shuffle and the same step numbering, so a seed gives the same run as
//! the GPU engine within `f32` rounding (`tests/cpu_engine.rs`).
//!
//! Matrix products go to `matrixmultiply`'s `sgemm` (strided operands, so weights are used in
//! place with their padded rows and transposes cost nothing; the host's SIMD — AVX2/FMA, NEON —
//! is picked at run time, and natively its `threading` feature splits a product over cores).
//! Everything else is a plain loop over the batch.
//!
//! What this module is not yet: the engine choice (`engine: "cpu"`) in the Session, the page and
//! the CLI, and a wasm SIMD128 / threaded build; see the README's CPU engine section.

use crate::config::VaeConfig;
use crate::error::{Result, VaeError};
use crate::layout::{LayerView, ParamLayout};
use crate::mnist::Dataset;
use crate::rng::{normal_eps, seed_key, shuffle};
use crate::train::EVAL_RNG_BASE;

/// Where a run is: epochs count from 1 once training starts (0 before), steps within the epoch
/// from 1, global steps from 1 — as the GPU engine's `train::Position`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CpuPosition {
    pub epoch: u64,
    pub step_in_epoch: u32,
    pub global_step: u64,
}

/// One training step's sums over its batch (divide by `rows` for per-sample losses).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CpuStep {
    pub position: CpuPosition,
    pub rows: u32,
    /// Σ BCE over the batch's pixels.
    pub reconstruction: f64,
    /// Σ KL over the batch's latent dimensions.
    pub kl: f64,
}

/// Activations and their gradients for one batch, dense row-major (no padding).
struct Scratch {
    x: Vec<f32>,
    h1: Vec<f32>,
    mulv: Vec<f32>,
    eps: Vec<f32>,
    z: Vec<f32>,
    h4: Vec<f32>,
    logits: Vec<f32>,
    dlogits: Vec<f32>,
    dh4: Vec<f32>,
    dz: Vec<f32>,
    dmulv: Vec<f32>,
    dh1: Vec<f32>,
}

impl Scratch {
    fn new(rows: usize, input: usize, hidden: usize, latent: usize) -> Self {
        let z = |cols: usize| vec![0.0f32; rows * cols];
        Scratch {
            x: z(input),
            h1: z(hidden),
            mulv: z(2 * latent),
            eps: z(latent),
            z: z(latent),
            h4: z(hidden),
            logits: z(input),
            dlogits: z(input),
            dh4: z(hidden),
            dz: z(latent),
            dmulv: z(2 * latent),
            dh1: z(hidden),
        }
    }
}

/// A VAE (or plain autoencoder) trained on the CPU.
pub struct CpuTrainer {
    cfg: VaeConfig,
    layout: ParamLayout,
    params: Vec<f32>,
    grads: Vec<f32>,
    m: Vec<f32>,
    v: Vec<f32>,
    adam_t: u64,
    train: Dataset,
    test: Dataset,
    order: Vec<u32>,
    /// Philox counter word of the last test batch (as the WGSL engine's: from EVAL_RNG_BASE).
    eval_rng: u32,
    pos: CpuPosition,
    steps_per_epoch: u32,
    act: Scratch,
}

impl CpuTrainer {
    /// A fresh model (`torch.nn.Linear`'s init from `cfg.seed`, as the GPU engine's) on `train`
    /// and `test`.
    pub fn new(cfg: &VaeConfig, train: &Dataset, test: &Dataset) -> Result<Self> {
        cfg.validate(None)?;
        for d in [train, test] {
            let input = (d.rows * d.cols) as usize;
            if input != cfg.input {
                return Err(VaeError::config(
                    "input",
                    format!(
                        "the data has {input} pixels per image, the model {}",
                        cfg.input
                    ),
                ));
            }
        }
        let n = train.labels.len();
        if n == 0 {
            return Err(VaeError::NoData("the training set is empty".into()));
        }
        let layout = ParamLayout::from_config(cfg);
        let params = layout.init(cfg.seed);
        let zeros = vec![0.0f32; layout.len];
        Ok(CpuTrainer {
            steps_per_epoch: n.div_ceil(cfg.batch_size) as u32,
            act: Scratch::new(cfg.batch_size, cfg.input, cfg.hidden, cfg.latent),
            cfg: cfg.clone(),
            layout,
            params,
            grads: zeros.clone(),
            m: zeros.clone(),
            v: zeros,
            adam_t: 0,
            train: train.clone(),
            test: test.clone(),
            order: Vec::new(),
            eval_rng: EVAL_RNG_BASE,
            pos: CpuPosition::default(),
        })
    }

    pub fn position(&self) -> CpuPosition {
        self.pos
    }

    pub fn steps_per_epoch(&self) -> u32 {
        self.steps_per_epoch
    }

    /// The flat parameters (the layout's order and padding, as the GPU engine's buffer).
    pub fn params(&self) -> &[f32] {
        &self.params
    }

    /// Adam's first and second moments (flat, layout order).
    pub fn adam_state(&self) -> (&[f32], &[f32]) {
        (&self.m, &self.v)
    }

    /// One training step on the next batch of the epoch (a new epoch, with its seeded shuffle,
    /// once the last one is done).
    pub fn step(&mut self) -> Result<CpuStep> {
        if self.pos.epoch == 0 || self.pos.step_in_epoch == self.steps_per_epoch {
            self.pos.epoch += 1;
            self.pos.step_in_epoch = 0;
            self.order = shuffle(self.cfg.seed, self.pos.epoch - 1, self.train.labels.len());
        }
        let batch = self.cfg.batch_size;
        let start = self.pos.step_in_epoch as usize * batch;
        let rows = batch.min(self.order.len() - start);
        self.pos.step_in_epoch += 1;
        self.pos.global_step += 1;
        self.adam_t += 1;
        let ids: Vec<u32> = self.order[start..start + rows].to_vec();
        self.gather(&ids, false);
        let (reconstruction, kl) = self.forward(rows, self.pos.global_step as u32);
        self.backward(rows);
        self.adam();
        Ok(CpuStep {
            position: self.pos,
            rows: rows as u32,
            reconstruction,
            kl,
        })
    }

    /// Test-set loss: every test image once, in order, in batches, ε drawn as in training (the
    /// WGSL engine's counter words): (Σ BCE, Σ KL, images).
    pub fn evaluate(&mut self) -> (f64, f64, u64) {
        let (n, batch) = (self.test.labels.len(), self.cfg.batch_size);
        let (mut bce, mut kl) = (0.0, 0.0);
        for start in (0..n).step_by(batch) {
            let rows = batch.min(n - start);
            let ids: Vec<u32> = (start as u32..(start + rows) as u32).collect();
            self.eval_rng = self.eval_rng.wrapping_add(1) | EVAL_RNG_BASE;
            self.gather(&ids, true);
            let (b, k) = self.forward(rows, self.eval_rng);
            bce += b;
            kl += k;
        }
        (bce, kl, n as u64)
    }

    /// μ and log σ² (each rows × latent) of inputs (rows × input pixels in [0, 1]).
    pub fn encode(&mut self, pixels: &[f32]) -> Result<(Vec<f32>, Vec<f32>)> {
        let (inp, lat) = (self.cfg.input, self.cfg.latent);
        if !pixels.len().is_multiple_of(inp) {
            return Err(VaeError::config(
                "pixels",
                format!("{} values are not rows of {inp}", pixels.len()),
            ));
        }
        let [fc1, fc23, _, _] = self.layout.layers();
        let (mut mu, mut lv) = (Vec::new(), Vec::new());
        for chunk in pixels.chunks(self.cfg.batch_size * inp) {
            let rows = chunk.len() / inp;
            let a = &mut self.act;
            a.x[..chunk.len()].copy_from_slice(chunk);
            linear_forward(&self.params, &fc1, &a.x, &mut a.h1, rows, true);
            linear_forward(&self.params, &fc23, &a.h1, &mut a.mulv, rows, false);
            for r in 0..rows {
                mu.extend_from_slice(&a.mulv[r * 2 * lat..r * 2 * lat + lat]);
                lv.extend_from_slice(&a.mulv[r * 2 * lat + lat..(r + 1) * 2 * lat]);
            }
        }
        Ok((mu, lv))
    }

    /// Images (rows × input, sigmoid of the logits) decoded from latent vectors (rows × latent).
    pub fn decode(&mut self, z: &[f32]) -> Result<Vec<f32>> {
        let (inp, lat) = (self.cfg.input, self.cfg.latent);
        if !z.len().is_multiple_of(lat) {
            return Err(VaeError::config(
                "z",
                format!("{} values are not rows of {lat}", z.len()),
            ));
        }
        let [_, _, fc4, fc5] = self.layout.layers();
        let mut out = Vec::with_capacity(z.len() / lat * inp);
        for chunk in z.chunks(self.cfg.batch_size * lat) {
            let rows = chunk.len() / lat;
            let a = &mut self.act;
            a.z[..chunk.len()].copy_from_slice(chunk);
            linear_forward(&self.params, &fc4, &a.z, &mut a.h4, rows, true);
            linear_forward(&self.params, &fc5, &a.h4, &mut a.logits, rows, false);
            out.extend(a.logits[..rows * inp].iter().map(|&l| sigmoid(l)));
        }
        Ok(out)
    }

    /// x = images[ids] / 255, from the training or the test set.
    fn gather(&mut self, ids: &[u32], test: bool) {
        let inp = self.cfg.input;
        let images = if test {
            &self.test.images
        } else {
            &self.train.images
        };
        for (r, &id) in ids.iter().enumerate() {
            let img = &images[id as usize * inp..(id as usize + 1) * inp];
            for (o, &b) in self.act.x[r * inp..(r + 1) * inp].iter_mut().zip(img) {
                *o = f32::from(b) / 255.0;
            }
        }
    }

    /// The forward pass on the gathered `rows` with ε from Philox counter word `rng_step`, the
    /// loss and its gradient wrt the logits; returns (Σ BCE, Σ KL).
    fn forward(&mut self, rows: usize, rng_step: u32) -> (f64, f64) {
        let (inp, lat) = (self.cfg.input, self.cfg.latent);
        let [fc1, fc23, fc4, fc5] = self.layout.layers();
        let a = &mut self.act;
        let p = &self.params;
        linear_forward(p, &fc1, &a.x, &mut a.h1, rows, true);
        linear_forward(p, &fc23, &a.h1, &mut a.mulv, rows, false);
        // z = μ + exp(½ log σ²)·ε (ε = 0 for a plain autoencoder).
        let key = seed_key(self.cfg.seed);
        for r in 0..rows {
            for j in 0..lat {
                let i = r * lat + j;
                let e = if self.cfg.variational {
                    normal_eps(key, rng_step, i as u32)
                } else {
                    0.0
                };
                a.eps[i] = e;
                let (mu, lv) = (a.mulv[r * 2 * lat + j], a.mulv[r * 2 * lat + lat + j]);
                a.z[i] = mu + (0.5 * lv).exp() * e;
            }
        }
        linear_forward(p, &fc4, &a.z, &mut a.h4, rows, true);
        linear_forward(p, &fc5, &a.h4, &mut a.logits, rows, false);
        // BCE(sum) with logits and its gradient; KL = −½ Σ (1 + log σ² − μ² − σ²).
        let mut bce = 0.0f64;
        for i in 0..rows * inp {
            let (l, t) = (a.logits[i], a.x[i]);
            bce += f64::from(l.max(0.0) - l * t + (-l.abs()).exp().ln_1p());
            a.dlogits[i] = sigmoid(l) - t;
        }
        let mut kl = 0.0f64;
        for r in 0..rows {
            for j in 0..lat {
                let (mu, lv) = (a.mulv[r * 2 * lat + j], a.mulv[r * 2 * lat + lat + j]);
                kl += f64::from(-0.5 * (1.0 + lv - mu * mu - lv.exp()));
            }
        }
        (bce, kl)
    }

    /// The backward pass after [`forward`](Self::forward) on `rows`: every gradient into
    /// `self.grads` (the flat layout).
    fn backward(&mut self, rows: usize) {
        let lat = self.cfg.latent;
        let [fc1, fc23, fc4, fc5] = self.layout.layers();
        let a = &mut self.act;
        let (p, g) = (&self.params, &mut self.grads);
        linear_backward_params(g, &fc5, &a.dlogits, &a.h4, rows);
        linear_backward_input(p, &fc5, &a.dlogits, &mut a.dh4, rows, Some(&a.h4));
        linear_backward_params(g, &fc4, &a.dh4, &a.z, rows);
        linear_backward_input(p, &fc4, &a.dh4, &mut a.dz, rows, None);
        // Through z to [μ | log σ²], with the KL term's own gradient (β; 0 for an autoencoder).
        let beta = if self.cfg.variational {
            self.cfg.kl_weight
        } else {
            0.0
        };
        for r in 0..rows {
            for j in 0..lat {
                let (mu, lv) = (a.mulv[r * 2 * lat + j], a.mulv[r * 2 * lat + lat + j]);
                let (gz, e) = (a.dz[r * lat + j], a.eps[r * lat + j]);
                let sigma = (0.5 * lv).exp();
                a.dmulv[r * 2 * lat + j] = gz + beta * mu;
                a.dmulv[r * 2 * lat + lat + j] =
                    gz * e * 0.5 * sigma + beta * 0.5 * (sigma * sigma - 1.0);
            }
        }
        linear_backward_params(g, &fc23, &a.dmulv, &a.h1, rows);
        linear_backward_input(p, &fc23, &a.dmulv, &mut a.dh1, rows, Some(&a.h1));
        linear_backward_params(g, &fc1, &a.dh1, &a.x, rows);
    }

    /// `torch.optim.Adam` over the whole flat buffer (padding has zero gradient and stays 0).
    fn adam(&mut self) {
        let c = &self.cfg;
        let t = self.adam_t as i32;
        let bc1 = 1.0 - c.beta1.powi(t);
        let bc2_sqrt = (1.0 - c.beta2.powi(t)).sqrt();
        let step_size = c.lr / bc1;
        for i in 0..self.params.len() {
            let g = self.grads[i];
            self.m[i] += (g - self.m[i]) * (1.0 - c.beta1);
            self.v[i] = self.v[i] * c.beta2 + (1.0 - c.beta2) * g * g;
            let denom = self.v[i].sqrt() / bc2_sqrt + c.eps;
            self.params[i] -= step_size * self.m[i] / denom;
        }
    }
}

/// The logistic function, without overflow for large |l| (as loss.wgsl's).
fn sigmoid(l: f32) -> f32 {
    let e = (-l.abs()).exp();
    if l >= 0.0 {
        1.0 / (1.0 + e)
    } else {
        e / (1.0 + e)
    }
}

/// Row stride of layer `l`'s weight in the flat buffer.
fn weight_stride(l: &LayerView) -> usize {
    crate::layout::ld(l.in_features)
}

/// y (rows × out) = x (rows × in) · Wᵀ + b, then ReLU if `relu`.
fn linear_forward(p: &[f32], l: &LayerView, x: &[f32], y: &mut [f32], rows: usize, relu: bool) {
    let (k, n) = (l.in_features, l.out_features);
    let w = &p[l.weight_offset..];
    let b = &p[l.bias_offset..l.bias_offset + n];
    for r in 0..rows {
        y[r * n..(r + 1) * n].copy_from_slice(b);
    }
    // SAFETY: A is rows×k (stride k, 1) inside x; B = Wᵀ is k×n read as W[o·ld + i] (strides 1,
    // ld) inside the flat buffer; C is rows×n (stride n, 1) inside y. All in bounds by layout.
    unsafe {
        matrixmultiply::sgemm(
            rows,
            k,
            n,
            1.0,
            x.as_ptr(),
            k as isize,
            1,
            w.as_ptr(),
            1,
            weight_stride(l) as isize,
            1.0,
            y.as_mut_ptr(),
            n as isize,
            1,
        );
    }
    if relu {
        for v in &mut y[..rows * n] {
            *v = v.max(0.0);
        }
    }
}

/// dW (out × in, padded rows) = dYᵀ · X and db = Σ_rows dY, into the flat gradient buffer.
fn linear_backward_params(g: &mut [f32], l: &LayerView, dy: &[f32], x: &[f32], rows: usize) {
    let (k, n) = (l.in_features, l.out_features);
    // SAFETY: A = dYᵀ is n×rows read as dY[r·n + o] (strides 1, n); B = X is rows×k (k, 1);
    // C = dW is n×k at the weight's offset with row stride ld(k). β = 0 overwrites it.
    unsafe {
        matrixmultiply::sgemm(
            n,
            rows,
            k,
            1.0,
            dy.as_ptr(),
            1,
            n as isize,
            x.as_ptr(),
            k as isize,
            1,
            0.0,
            g[l.weight_offset..].as_mut_ptr(),
            weight_stride(l) as isize,
            1,
        );
    }
    let db = &mut g[l.bias_offset..l.bias_offset + n];
    db.fill(0.0);
    for r in 0..rows {
        for (d, v) in db.iter_mut().zip(&dy[r * n..(r + 1) * n]) {
            *d += v;
        }
    }
}

/// dX (rows × in) = dY · W, masked by ReLU'(activation) when the input was a ReLU output.
fn linear_backward_input(
    p: &[f32],
    l: &LayerView,
    dy: &[f32],
    dx: &mut [f32],
    rows: usize,
    relu_of: Option<&[f32]>,
) {
    let (k, n) = (l.in_features, l.out_features);
    // SAFETY: A = dY is rows×n (n, 1); B = W is n×k (ld, 1) in the flat buffer; C = dX rows×k.
    unsafe {
        matrixmultiply::sgemm(
            rows,
            n,
            k,
            1.0,
            dy.as_ptr(),
            n as isize,
            1,
            p[l.weight_offset..].as_ptr(),
            weight_stride(l) as isize,
            1,
            0.0,
            dx.as_mut_ptr(),
            k as isize,
            1,
        );
    }
    if let Some(act) = relu_of {
        for (d, &a) in dx[..rows * k].iter_mut().zip(&act[..rows * k]) {
            if a <= 0.0 {
                *d = 0.0;
            }
        }
    }
}
