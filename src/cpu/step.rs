//! The CPU engine's arithmetic: one batch's forward pass, loss, backward pass and Adam, in `f32`
//! over the flat parameter layout, as the WGSL kernels compute them (gather → fc1 → fc2|fc3 →
//! z = μ + σ·ε with the same Philox ε → fc4 → fc5 → BCE(sum) + β·KL → backward → Adam).
//!
//! Matrix products go to `matrixmultiply`'s `sgemm` (strided operands, so weights are used in
//! place with their padded rows and transposes cost nothing; the host's SIMD — AVX2/FMA, NEON,
//! wasm SIMD128 when built with it — is picked by the crate, and natively its `threading`
//! feature splits a product over cores). Everything else is a plain loop over the batch.

use crate::layout::LayerView;
use crate::model::Stage;
use crate::rng::{normal_eps, seed_key};

use super::CpuTrainer;

/// Activations and their gradients for one batch, dense row-major (no padding).
pub(super) struct Scratch {
    pub(super) x: Vec<f32>,
    pub(super) h1: Vec<f32>,
    pub(super) mulv: Vec<f32>,
    pub(super) eps: Vec<f32>,
    pub(super) z: Vec<f32>,
    pub(super) h4: Vec<f32>,
    pub(super) logits: Vec<f32>,
    pub(super) dlogits: Vec<f32>,
    pub(super) dh4: Vec<f32>,
    pub(super) dz: Vec<f32>,
    pub(super) dmulv: Vec<f32>,
    pub(super) dh1: Vec<f32>,
}

impl Scratch {
    pub(super) fn new(rows: usize, input: usize, hidden: usize, latent: usize) -> Self {
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

impl CpuTrainer {
    /// The forward pass on the gathered `rows` with ε from Philox counter word `rng_step`, the
    /// loss and its gradient wrt the logits; returns (Σ BCE, Σ KL).
    pub(super) fn forward(&mut self, rows: usize, rng_step: u32) -> (f64, f64) {
        let mut loss = (0.0, 0.0);
        for stage in &Stage::FORWARD[1..] {
            loss = self.stage(*stage, rows, rng_step);
        }
        loss
    }

    /// The backward pass after [`forward`](Self::forward) on `rows`: every gradient into
    /// `self.grads` (the flat layout).
    pub(super) fn backward(&mut self, rows: usize) {
        for stage in &Stage::BACKWARD[..Stage::BACKWARD.len() - 1] {
            self.stage(*stage, rows, 0);
        }
    }

    /// One stage of a step on `rows` gathered rows, reading what the stages before it left
    /// (the order of [`Stage::FORWARD`] then [`Stage::BACKWARD`]); the loss stage returns
    /// (Σ BCE, Σ KL), the others zeros. Gather and Adam are [`gather`] and [`Self::adam`].
    pub(super) fn stage(&mut self, stage: Stage, rows: usize, rng_step: u32) -> (f64, f64) {
        let (inp, lat) = (self.cfg.input, self.cfg.latent);
        let layers = self.layout.layers();
        let a = &mut self.act;
        let (p, g) = (&self.state.params, &mut self.grads);
        // Each layer's input and output: x → h1 → [μ | log σ²] → z → h4 → logits.
        match stage {
            Stage::Gather | Stage::Adam => {}
            Stage::Forward(0) => linear_forward(p, &layers[0], &a.x, &mut a.h1, rows, true),
            Stage::Forward(_) => linear_forward(p, &layers[3], &a.h4, &mut a.logits, rows, false),
            Stage::Latent => {
                linear_forward(p, &layers[1], &a.h1, &mut a.mulv, rows, false);
                let key = seed_key(self.cfg.seed);
                reparameterize(
                    a,
                    rows,
                    lat,
                    self.cfg.variational.then_some((key, rng_step)),
                );
                linear_forward(p, &layers[2], &a.z, &mut a.h4, rows, true);
            }
            Stage::Loss => {
                // BCE(sum) with logits and its gradient; KL = −½ Σ (1 + log σ² − μ² − σ²).
                // e^−|l| once per pixel serves both: log(1 + e^−|l|) and σ(l) (as `sigmoid`).
                let mut bce = 0.0f64;
                for i in 0..rows * inp {
                    let (l, t) = (a.logits[i], a.x[i]);
                    let e = (-l.abs()).exp();
                    bce += f64::from(l.max(0.0) - l * t + e.ln_1p());
                    a.dlogits[i] = sigmoid_of(l, e) - t;
                }
                let mut kl = 0.0f64;
                for r in 0..rows {
                    for j in 0..lat {
                        let (mu, lv) = (a.mulv[r * 2 * lat + j], a.mulv[r * 2 * lat + lat + j]);
                        kl += f64::from(-0.5 * (1.0 + lv - mu * mu - lv.exp()));
                    }
                }
                return (bce, kl);
            }
            Stage::Backward(3) => {
                linear_backward_params(g, &layers[3], &a.dlogits, &a.h4, rows);
                linear_backward_input(p, &layers[3], &a.dlogits, &mut a.dh4, rows, Some(&a.h4));
            }
            Stage::Backward(_) => linear_backward_params(g, &layers[0], &a.dh1, &a.x, rows),
            Stage::LatentBackward => {
                linear_backward_params(g, &layers[2], &a.dh4, &a.z, rows);
                linear_backward_input(p, &layers[2], &a.dh4, &mut a.dz, rows, None);
                // The KL term's own gradient has weight β (0 for an autoencoder).
                let beta = if self.cfg.variational {
                    self.cfg.kl_weight
                } else {
                    0.0
                };
                reparam_backward(a, rows, lat, beta);
                linear_backward_params(g, &layers[1], &a.dmulv, &a.h1, rows);
                linear_backward_input(p, &layers[1], &a.dmulv, &mut a.dh1, rows, Some(&a.h1));
            }
        }
        (0.0, 0.0)
    }

    /// `torch.optim.Adam` over the whole flat buffer (padding has zero gradient and stays 0).
    /// Returns false when a parameter became non-finite.
    pub(super) fn adam(&mut self) -> bool {
        let c = &self.cfg;
        let st = &mut self.state;
        let t = st.adam_t as i32;
        let bc1 = 1.0 - c.beta1.powi(t);
        let bc2_sqrt = (1.0 - c.beta2.powi(t)).sqrt();
        let step_size = c.lr / bc1;
        let mut finite = true;
        let it = st.params.iter_mut().zip(&mut st.m).zip(&mut st.v);
        for (((p, m), v), &g) in it.zip(&self.grads) {
            *m += (g - *m) * (1.0 - c.beta1);
            *v = *v * c.beta2 + (1.0 - c.beta2) * g * g;
            let denom = v.sqrt() / bc2_sqrt + c.eps;
            *p -= step_size * *m / denom;
            finite &= p.is_finite();
        }
        finite
    }
}

/// z = μ + exp(½ log σ²)·ε with ε from Philox (`noise`: the key and counter word), or ε = 0
/// (a plain autoencoder: z = μ).
fn reparameterize(a: &mut Scratch, rows: usize, lat: usize, noise: Option<([u32; 2], u32)>) {
    for r in 0..rows {
        for j in 0..lat {
            let i = r * lat + j;
            let e = noise.map_or(0.0, |(key, step)| normal_eps(key, step, i as u32));
            a.eps[i] = e;
            let (mu, lv) = (a.mulv[r * 2 * lat + j], a.mulv[r * 2 * lat + lat + j]);
            a.z[i] = mu + (0.5 * lv).exp() * e;
        }
    }
}

/// Through z to [μ | log σ²], with the KL term's own gradient at weight `beta`.
fn reparam_backward(a: &mut Scratch, rows: usize, lat: usize, beta: f32) {
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
}

/// x (rows × input) = images[ids] / 255.
pub(super) fn gather(x: &mut [f32], images: &[u8], ids: &[u32], input: usize) {
    for (r, &id) in ids.iter().enumerate() {
        let img = &images[id as usize * input..(id as usize + 1) * input];
        for (o, &b) in x[r * input..(r + 1) * input].iter_mut().zip(img) {
            *o = f32::from(b) / 255.0;
        }
    }
}

/// The logistic function, without overflow for large |l| (as loss.wgsl's).
pub(super) fn sigmoid(l: f32) -> f32 {
    sigmoid_of(l, (-l.abs()).exp())
}

/// σ(l) given e = e^−|l|.
fn sigmoid_of(l: f32, e: f32) -> f32 {
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

/// A strided matrix view: `len` rows × `cols`, element (i, j) at `i·row + j·col`.
#[derive(Clone, Copy)]
struct Strides {
    row: usize,
    col: usize,
}

impl Strides {
    /// The index one past the last element of a `rows` × `cols` matrix.
    fn extent(self, rows: usize, cols: usize) -> usize {
        if rows == 0 || cols == 0 {
            0
        } else {
            (rows - 1) * self.row + (cols - 1) * self.col + 1
        }
    }
}

/// C (m × n) = A (m × k) · B (k × n) + β·C, each a strided view into its slice; every view is
/// checked to lie inside its slice before `matrixmultiply::sgemm` reads or writes it.
#[allow(clippy::too_many_arguments)]
fn gemm(
    (m, k, n): (usize, usize, usize),
    a: &[f32],
    sa: Strides,
    b: &[f32],
    sb: Strides,
    beta: f32,
    c: &mut [f32],
    sc: Strides,
) {
    assert!(
        sa.extent(m, k) <= a.len() && sb.extent(k, n) <= b.len() && sc.extent(m, n) <= c.len(),
        "a matrix view runs past its buffer"
    );
    let i = |v: usize| v as isize;
    // SAFETY: the three views lie inside their slices (checked above); C does not alias A or B
    // (a &mut slice beside two shared ones).
    unsafe {
        matrixmultiply::sgemm(
            m,
            k,
            n,
            1.0,
            a.as_ptr(),
            i(sa.row),
            i(sa.col),
            b.as_ptr(),
            i(sb.row),
            i(sb.col),
            beta,
            c.as_mut_ptr(),
            i(sc.row),
            i(sc.col),
        );
    }
}

/// Row-major with `cols` columns.
fn dense(cols: usize) -> Strides {
    Strides { row: cols, col: 1 }
}

/// The transpose of a row-major matrix with `cols` columns.
fn transposed(cols: usize) -> Strides {
    Strides { row: 1, col: cols }
}

/// y (rows × out) = x (rows × in) · Wᵀ + b, then ReLU if `relu`.
pub(super) fn linear_forward(
    p: &[f32],
    l: &LayerView,
    x: &[f32],
    y: &mut [f32],
    rows: usize,
    relu: bool,
) {
    let (k, n) = (l.in_features, l.out_features);
    let b = &p[l.bias_offset..l.bias_offset + n];
    for r in 0..rows {
        y[r * n..(r + 1) * n].copy_from_slice(b);
    }
    // Wᵀ (k × n) read in place from W's padded rows.
    let w = &p[l.weight_offset..];
    gemm(
        (rows, k, n),
        x,
        dense(k),
        w,
        transposed(weight_stride(l)),
        1.0,
        y,
        dense(n),
    );
    if relu {
        for v in &mut y[..rows * n] {
            *v = v.max(0.0);
        }
    }
}

/// dW (out × in, padded rows) = dYᵀ · X and db = Σ_rows dY, into the flat gradient buffer.
fn linear_backward_params(g: &mut [f32], l: &LayerView, dy: &[f32], x: &[f32], rows: usize) {
    let (k, n) = (l.in_features, l.out_features);
    let dw = &mut g[l.weight_offset..];
    gemm(
        (n, rows, k),
        dy,
        transposed(n),
        x,
        dense(k),
        0.0,
        dw,
        dense(weight_stride(l)),
    );
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
    let w = &p[l.weight_offset..];
    gemm(
        (rows, n, k),
        dy,
        dense(n),
        w,
        dense(weight_stride(l)),
        0.0,
        dx,
        dense(k),
    );
    if let Some(act) = relu_of {
        for (d, &a) in dx[..rows * k].iter_mut().zip(&act[..rows * k]) {
            if a <= 0.0 {
                *d = 0.0;
            }
        }
    }
}
