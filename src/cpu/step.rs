//! The CPU engine's arithmetic: one batch's forward pass, loss, backward pass and Adam, in `f32`
//! over the flat parameter layout, as the WGSL kernels compute them (gather → fc1 → fc2|fc3 →
//! z = μ + σ·ε with the same Philox ε → fc4 → fc5 → BCE(sum) + β·KL → backward → Adam).
//!
//! Matrix products: in wasm the engine's own ([`super::gemm`]: packed panels, a 4 × 8 SIMD128
//! micro-kernel, tiles over the pool's threads); natively `matrixmultiply`'s `sgemm` (strided
//! operands, AVX2/FMA or NEON picked by the crate, its `threading` feature splitting a product
//! over cores). Either way weights are used in place with their padded rows and transposes
//! cost nothing. Everything else is a plain loop over the batch.

use std::sync::atomic::{AtomicBool, Ordering};

use crate::layout::{LayerView, TensorInfo};
use crate::render::sigmoid_of;
use crate::rng::{normal_eps, seed_key};
use crate::run::Stage;

use super::gemm::{Epilogue, Last, Strides};
use super::math;
use super::pool::{self, Blocks, Disjoint};
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
    /// Each row's Σ BCE (f64, as the WGSL loss kernel's partials are summed).
    pub(super) row_bce: Vec<f64>,
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
            row_bce: vec![0.0; rows],
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
                // BCE(sum) with logits and its gradient, by row blocks over the threads (each
                // row's sum kept apart and added in row order: the same total on any number
                // of threads); KL = −½ Σ (1 + log σ² − μ² − σ²).
                let (logits, x) = (&a.logits, &a.x);
                let (dl, sums) = (Disjoint::new(&mut a.dlogits), Disjoint::new(&mut a.row_bce));
                let blocks = Blocks::per_thread(rows, 1);
                pool::run(blocks.count(), &|part| {
                    let r = blocks.get(part);
                    let px = r.start * inp..r.end * inp;
                    // SAFETY: the parts' row blocks are disjoint.
                    let (dl, sums) = unsafe { (dl.range(px.clone()), sums.range(r)) };
                    bce_rows(&logits[px.clone()], &x[px], dl, sums, inp);
                });
                let bce: f64 = a.row_bce[..rows].iter().sum();
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
                reparam_backward(a, rows, lat, beta, self.cfg.grad_through_z());
                linear_backward_params(g, &layers[1], &a.dmulv, &a.h1, rows);
                linear_backward_input(p, &layers[1], &a.dmulv, &mut a.dh1, rows, Some(&a.h1));
            }
        }
        (0.0, 0.0)
    }

    /// `torch.optim.Adam` over every tensor of the flat buffer (the padding inside and between
    /// them has zero gradient and moments: it would stay 0), by blocks over the threads. Each
    /// part takes the same block of rows of every tensor ([`tensor_rows`]), cut on 8-row
    /// boundaries as the backward products cut dW and the forward products pack W, so a
    /// thread updates the rows of dW its own tiles wrote, and the rows of W its own packing
    /// will read next. Returns false when a parameter became non-finite.
    pub(super) fn adam(&mut self) -> bool {
        let c = &self.cfg;
        let st = &mut self.state;
        let t = st.adam_t as i32;
        let bc1 = 1.0 - c.beta1.powi(t);
        let bc2_sqrt = (1.0 - c.beta2.powi(t)).sqrt();
        let step_size = c.lr / bc1;
        let finite = AtomicBool::new(true);
        let parts = pool::parts();
        let (ps, ms, vs) = (
            Disjoint::new(&mut st.params),
            Disjoint::new(&mut st.m),
            Disjoint::new(&mut st.v),
        );
        let (grads, tensors) = (&self.grads, &self.layout.tensors);
        pool::run(parts, &|part| {
            let mut ok = true;
            for r in tensors.iter().map(|t| tensor_rows(t, part, parts)) {
                // SAFETY: the parts' row blocks of each tensor are disjoint, and the tensors
                // do not overlap.
                let (ps, ms, vs) = unsafe {
                    (
                        ps.range(r.clone()),
                        ms.range(r.clone()),
                        vs.range(r.clone()),
                    )
                };
                for (((p, m), v), &g) in ps.iter_mut().zip(ms).zip(vs).zip(&grads[r]) {
                    *m += (g - *m) * (1.0 - c.beta1);
                    *v = *v * c.beta2 + (1.0 - c.beta2) * g * g;
                    let denom = v.sqrt() / bc2_sqrt + c.eps;
                    *p -= step_size * *m / denom;
                    ok &= p.is_finite();
                }
            }
            if !ok {
                finite.store(false, Ordering::Relaxed);
            }
        });
        finite.into_inner()
    }
}

/// Part `part` of `parts` of tensor `t` in the flat buffer: a block of its rows (a weight's
/// padded rows; a bias's elements), cut on multiples of 8 rows.
fn tensor_rows(t: &TensorInfo, part: usize, parts: usize) -> std::ops::Range<usize> {
    let (rows, stride) = match t.shape[..] {
        [out, _] => (out, t.row_stride),
        _ => (t.numel(), 1),
    };
    let blocks = Blocks::new(rows, parts, 8);
    if part >= blocks.count() {
        return t.offset..t.offset;
    }
    let r = blocks.get(part);
    t.offset + r.start * stride..t.offset + r.end * stride
}

/// Pixels taken together by [`bce_rows`]: a vector's worth (two of wasm's 4 lanes, one AVX
/// register natively), each with its own f64 partial sum and product.
const BCE_LANES: usize = 8;

/// Pixels of a row whose factors 1 + e^−|l| (each in (1, 2]) are multiplied before one log is
/// taken: the product is at most 2^960, inside f64's range (2^1024). A multiple of
/// [`BCE_LANES`]; an MNIST row (784) is one segment.
const LOG_SEGMENT: usize = 960;

/// Σ BCE(logit, target) of each row into `sums`, and the gradient wrt the logits into `dl`
/// (`cols` pixels a row). BCE(l, t) = max(l, 0) − l·t + log(1 + e^−|l|), and e^−|l| once per
/// pixel serves the log and σ(l). The logs are summed as the log of a product: the factors
/// 1 + e^−|l| (exact in f64) are multiplied in f64 and one log is taken a row segment
/// ([`LOG_SEGMENT`]) — a vector multiply a pixel instead of a log polynomial, and the sum of
/// logs exact to f64 rounding. The pixels go [`BCE_LANES`] at a time through branch-free
/// arithmetic ([`super::math`]), which the compiler vectorises; pixel j of a segment goes into
/// partial sum and product j mod BCE_LANES, combined in a fixed tree: the same total on any
/// number of threads.
///
/// Never inlined: compiled on its own LLVM vectorises its loop over pixels, but inlined into the
/// loss's pool job (which one unrelated change elsewhere in the crate made happen) it did not,
/// and the wasm loss stage took 3–4× as long (the profile's `loss` row).
#[inline(never)]
fn bce_rows(logits: &[f32], x: &[f32], dl: &mut [f32], sums: &mut [f64], cols: usize) {
    let rows = logits.chunks_exact(cols).zip(x.chunks_exact(cols));
    for (((ls, ts), dls), sum) in rows.zip(dl.chunks_exact_mut(cols)).zip(sums) {
        let mut lin = [0.0f64; BCE_LANES];
        let mut logs = 0.0f64;
        let segments = ls.chunks(LOG_SEGMENT).zip(ts.chunks(LOG_SEGMENT));
        for ((ls, ts), dls) in segments.zip(dls.chunks_mut(LOG_SEGMENT)) {
            let mut prod = [1.0f64; BCE_LANES];
            let chunks = ls.chunks_exact(BCE_LANES).zip(ts.chunks_exact(BCE_LANES));
            let whole = chunks.len() * BCE_LANES;
            for ((l8, t8), d8) in chunks.zip(dls.chunks_exact_mut(BCE_LANES)) {
                let (mut lins, mut es) = ([0.0f32; BCE_LANES], [0.0f32; BCE_LANES]);
                for i in 0..BCE_LANES {
                    (lins[i], es[i], d8[i]) = bce_pixel(l8[i], t8[i]);
                }
                for i in 0..BCE_LANES {
                    lin[i] += f64::from(lins[i]);
                    prod[i] *= 1.0 + f64::from(es[i]);
                }
            }
            for (j, ((&l, &t), d)) in ls
                .iter()
                .zip(ts)
                .zip(dls.iter_mut())
                .enumerate()
                .skip(whole)
            {
                let (lin_j, e);
                (lin_j, e, *d) = bce_pixel(l, t);
                lin[j % BCE_LANES] += f64::from(lin_j);
                prod[j % BCE_LANES] *= 1.0 + f64::from(e);
            }
            logs += tree(prod, |a, b| a * b).ln();
        }
        *sum = tree(lin, |a, b| a + b) + logs;
    }
}

/// The [`BCE_LANES`] partials combined in pairs, then pairs of pairs.
#[inline(always)]
fn tree(v: [f64; BCE_LANES], op: impl Fn(f64, f64) -> f64) -> f64 {
    let pairs: [f64; 4] = std::array::from_fn(|i| op(v[2 * i], v[2 * i + 1]));
    op(op(pairs[0], pairs[1]), op(pairs[2], pairs[3]))
}

/// A pixel's max(l, 0) − l·t, e^−|l| (BCE(l, t) is the first plus log(1 + e^−|l|)) and the
/// gradient σ(l) − t.
#[inline(always)]
fn bce_pixel(l: f32, t: f32) -> (f32, f32, f32) {
    let e = math::exp_nonpositive(-l.abs());
    (l.max(0.0) - l * t, e, sigmoid_of(l, e) - t)
}

/// z = μ + exp(½ log σ²)·ε with ε from Philox (`noise`: the key and counter word), or ε = 0
/// (a plain autoencoder: z = μ). By blocks of rows over the threads (each ε is Philox, a log,
/// a square root and a cosine: ≈ 0.3 ms a batch on one thread in wasm); each element is
/// computed alone, so the split changes nothing.
fn reparameterize(a: &mut Scratch, rows: usize, lat: usize, noise: Option<([u32; 2], u32)>) {
    let blocks = Blocks::per_thread(rows, 1);
    let mulv = &a.mulv;
    let (eps, z) = (Disjoint::new(&mut a.eps), Disjoint::new(&mut a.z));
    pool::run(blocks.count(), &|part| {
        let r = blocks.get(part);
        let at = r.start * lat..r.end * lat;
        // SAFETY: the parts' row blocks are disjoint.
        let (eps, z) = unsafe { (eps.range(at.clone()), z.range(at)) };
        for (row, (eps, z)) in r.zip(eps.chunks_exact_mut(lat).zip(z.chunks_exact_mut(lat))) {
            let (mu, lv) = mulv[row * 2 * lat..(row + 1) * 2 * lat].split_at(lat);
            for j in 0..lat {
                let i = (row * lat + j) as u32;
                let e = noise.map_or(0.0, |(key, step)| normal_eps(key, step, i));
                eps[j] = e;
                z[j] = mu[j] + (0.5 * lv[j]).exp() * e;
            }
        }
    });
}

/// Through z to [μ | log σ²] (cut when `through_z` is false: the trick switched off), with the
/// KL term's own gradient at weight `beta`.
fn reparam_backward(a: &mut Scratch, rows: usize, lat: usize, beta: f32, through_z: bool) {
    for r in 0..rows {
        for j in 0..lat {
            let (mu, lv) = (a.mulv[r * 2 * lat + j], a.mulv[r * 2 * lat + lat + j]);
            let gz = if through_z { a.dz[r * lat + j] } else { 0.0 };
            let e = a.eps[r * lat + j];
            let sigma = (0.5 * lv).exp();
            a.dmulv[r * 2 * lat + j] = gz + beta * mu;
            a.dmulv[r * 2 * lat + lat + j] =
                gz * e * 0.5 * sigma + beta * 0.5 * (sigma * sigma - 1.0);
        }
    }
}

/// x (rows × input) = images[ids] / 255, by blocks of rows over the threads.
pub(super) fn gather(x: &mut [f32], images: &[u8], ids: &[u32], input: usize) {
    let blocks = Blocks::per_thread(ids.len(), 8);
    let xs = Disjoint::new(x);
    pool::run(blocks.count(), &|part| {
        let r = blocks.get(part);
        // SAFETY: the parts' row blocks are disjoint.
        let x = unsafe { xs.range(r.start * input..r.end * input) };
        for (&id, row) in ids[r].iter().zip(x.chunks_exact_mut(input)) {
            let img = &images[id as usize * input..(id as usize + 1) * input];
            for (o, &b) in row.iter_mut().zip(img) {
                *o = f32::from(b) / 255.0;
            }
        }
    });
}

/// Row stride of layer `l`'s weight in the flat buffer.
fn weight_stride(l: &LayerView) -> usize {
    crate::layout::ld(l.in_features)
}

/// In wasm, products smaller than this many multiply-adds run on one thread (a split costs a
/// wake-up of the workers); the pool's workers spin between the products of a step, so every
/// product of a step at batch 128 is split (the thin ones around z are 1–2 M). Natively each
/// product is one `matrixmultiply` call, which threads itself.
#[cfg(target_arch = "wasm32")]
const SPLIT_MIN_MACS: usize = 1 << 16;

/// C (m × n) = A (m × k) · B (k × n) + β·C, then the epilogue `ep` (a bias in place of β·C,
/// ReLU or its derivative), each a strided view into its slice (every view is checked to lie
/// inside its slice first): in wasm our own product ([`super::gemm`]: the epilogue applied
/// while each tile is in registers), split over the [`pool`]'s threads when large; natively
/// `matrixmultiply`'s `sgemm` (its AVX2/FMA kernels reach the cores' peak; its `threading`
/// splits the product itself), the epilogue as passes around it (the same arithmetic).
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
    ep: Epilogue<'_>,
) {
    #[cfg(target_arch = "wasm32")]
    {
        let parts = if m * k * n >= SPLIT_MIN_MACS {
            pool::parts()
        } else {
            1
        };
        super::gemm::gemm(parts, (m, k, n), (a, sa), (b, sb), beta, (c, sc), ep);
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        super::gemm::check_views((m, k, n), (a.len(), sa), (b.len(), sb), (c.len(), sc));
        let at = |i: usize, j: usize| i * sc.row + j * sc.col;
        let beta = match ep.bias {
            Some(bias) => {
                for i in 0..m {
                    for (j, &v) in bias[..n].iter().enumerate() {
                        c[at(i, j)] = v;
                    }
                }
                1.0
            }
            None => beta,
        };
        let i = |v: usize| v as isize;
        // SAFETY: the three views lie inside their slices (checked above), so every element
        // read or written is in bounds; C does not alias A or B (a &mut slice beside two
        // shared ones).
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
        // The epilogue's last step as a pass over C's rows.
        for i in 0..m {
            let row = &mut c[i * sc.row..];
            match ep.last {
                Last::Keep => break,
                Last::Relu => row
                    .iter_mut()
                    .step_by(sc.col)
                    .take(n)
                    .for_each(|v| *v = super::gemm::relu(*v)),
                Last::ReluGrad(act) => {
                    let act = act[i * sc.row..].iter().step_by(sc.col);
                    row.iter_mut()
                        .step_by(sc.col)
                        .zip(act)
                        .take(n)
                        .for_each(|(v, &h)| *v = super::gemm::relu_grad(*v, h));
                }
            }
        }
    }
}

/// Row-major with `cols` columns.
fn dense(cols: usize) -> Strides {
    Strides::dense(cols)
}

/// The transpose of a row-major matrix with `cols` columns.
fn transposed(cols: usize) -> Strides {
    Strides::transposed(cols)
}

/// y (rows × out) = x (rows × in) · Wᵀ + b, then ReLU if `relu` (both in the product's
/// epilogue).
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
    // Wᵀ (k × n) read in place from W's padded rows.
    let w = &p[l.weight_offset..];
    let last = if relu { Last::Relu } else { Last::Keep };
    gemm(
        (rows, k, n),
        x,
        dense(k),
        w,
        transposed(weight_stride(l)),
        0.0,
        y,
        dense(n),
        Epilogue {
            bias: Some(b),
            last,
        },
    );
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
        Epilogue::NONE,
    );
    let db = &mut g[l.bias_offset..l.bias_offset + n];
    db.fill(0.0);
    for r in 0..rows {
        for (d, v) in db.iter_mut().zip(&dy[r * n..(r + 1) * n]) {
            *d += v;
        }
    }
}

/// dX (rows × in) = dY · W, masked by ReLU'(activation) when the input was a ReLU output (in
/// the product's epilogue).
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
        Epilogue {
            bias: None,
            last: relu_of.map_or(Last::Keep, Last::ReluGrad),
        },
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    /// BCE(l, t) and its gradient in f64.
    fn bce_f64(l: f32, t: f32) -> (f64, f64) {
        let (l, t) = (f64::from(l), f64::from(t));
        let term = l.max(0.0) - l * t + (-l.abs()).exp().ln_1p();
        (term, 1.0 / (1.0 + (-l).exp()) - t)
    }

    /// Rows longer than a log segment (two whole ones and a short one, not a multiple of the
    /// lanes), logits from −100 to 100 with 0 among them: each row's Σ BCE against f64 (within
    /// f32 rounding of each pixel's terms), and the gradient.
    #[test]
    fn bce_rows_match_f64_across_log_segments() {
        let cols = 2 * LOG_SEGMENT + 13;
        let rows = 3;
        let logits: Vec<f32> = (0..rows * cols)
            .map(|i| ((i * 7919) % 2001) as f32 / 10.0 - 100.0)
            .collect();
        let x: Vec<f32> = (0..rows * cols)
            .map(|i| ((i * 104_729) % 256) as f32 / 255.0)
            .collect();
        let (mut dl, mut sums) = (vec![0.0f32; rows * cols], vec![0.0f64; rows]);
        bce_rows(&logits, &x, &mut dl, &mut sums, cols);
        for (r, &sum) in sums.iter().enumerate() {
            let (mut want, mut scale) = (0.0f64, 0.0f64);
            for j in r * cols..(r + 1) * cols {
                let (term, grad) = bce_f64(logits[j], x[j]);
                want += term;
                scale += f64::from(logits[j].abs()) + 1.0;
                assert!((f64::from(dl[j]) - grad).abs() <= 1e-6, "gradient at {j}");
            }
            // Each pixel's max(l, 0) − l·t is rounded to f32: half an ulp of its size.
            let tol = scale * 2f64.powi(-23);
            assert!((sum - want).abs() <= tol, "row {r}: {sum} vs {want}");
        }
    }

    /// Adam's parts cover every element of every tensor (padded rows included) once, on any
    /// number of parts, and nothing between the tensors.
    #[test]
    fn adams_row_blocks_cover_every_tensor_once() {
        let layout = crate::layout::ParamLayout::new(784, 400, 20);
        for parts in [1, 2, 3, 8, 16, 32] {
            let mut seen = vec![0u8; layout.len];
            for part in 0..parts {
                for t in &layout.tensors {
                    seen[tensor_rows(t, part, parts)]
                        .iter_mut()
                        .for_each(|s| *s += 1);
                }
            }
            for t in &layout.tensors {
                let span = t.offset..t.offset + t.span();
                assert!(
                    seen[span].iter().all(|&s| s == 1),
                    "{} in {parts} parts",
                    t.name
                );
            }
            assert_eq!(
                seen.iter().map(|&s| s as usize).sum::<usize>(),
                layout.tensors.iter().map(|t| t.span()).sum::<usize>()
            );
        }
    }

    /// Every factor at its largest (logit 0: 1 + e⁰ = 2) over rows of several segments: each
    /// segment's product stays finite, and Σ BCE is cols · log 2.
    #[test]
    fn bce_rows_of_zero_logits_do_not_overflow() {
        for cols in [7, LOG_SEGMENT, 3 * LOG_SEGMENT + 5] {
            let logits = vec![0.0f32; cols];
            let x = vec![1.0f32; cols];
            let (mut dl, mut sums) = (vec![0.0f32; cols], vec![0.0f64]);
            bce_rows(&logits, &x, &mut dl, &mut sums, cols);
            let want = cols as f64 * std::f64::consts::LN_2;
            assert!(
                (sums[0] - want).abs() <= 1e-9 * want,
                "{cols}: {} vs {want}",
                sums[0]
            );
            assert!(dl.iter().all(|&d| d == -0.5));
        }
    }
}
