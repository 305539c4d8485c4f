//! The CPU reference: a plain-loop twin of every kernel (same name, same argument order:
//! outputs, inputs, sizes), in f64, on dense (unpadded) row-major matrices. It is the spec the GPU
//! tests compare against, and its backward is itself checked by finite differences.
//!
//! Shape legend: B = batch rows, IN = input features, H = hidden, L = latent. Weights are
//! (OUT, IN) as in PyTorch.

/// y (B, OUT) = act(x (B, IN) · wᵀ (IN, OUT) + b (OUT)); `relu` applies ReLU.
#[allow(clippy::too_many_arguments)]
pub fn linear_forward(
    y: &mut [f64],
    x: &[f64],
    w: &[f64],
    b: &[f64],
    rows: usize,
    inp: usize,
    out: usize,
    relu: bool,
) {
    for r in 0..rows {
        for o in 0..out {
            let mut s = b[o];
            for i in 0..inp {
                s += x[r * inp + i] * w[o * inp + i];
            }
            y[r * out + o] = if relu { s.max(0.0) } else { s };
        }
    }
}

/// dx (B, IN) = dy (B, OUT) · w (OUT, IN), times (x > 0) when `mask` (the layer's input x,
/// itself a ReLU output) is given.
pub fn linear_backward_input(
    dx: &mut [f64],
    dy: &[f64],
    w: &[f64],
    mask: Option<&[f64]>,
    rows: usize,
    inp: usize,
    out: usize,
) {
    for r in 0..rows {
        for i in 0..inp {
            let mut s = 0.0;
            for o in 0..out {
                s += dy[r * out + o] * w[o * inp + i];
            }
            if let Some(x) = mask {
                if x[r * inp + i] <= 0.0 {
                    s = 0.0;
                }
            }
            dx[r * inp + i] = s;
        }
    }
}

/// dw (OUT, IN) = dyᵀ (OUT, B) · x (B, IN).
pub fn linear_backward_weight(
    dw: &mut [f64],
    dy: &[f64],
    x: &[f64],
    rows: usize,
    inp: usize,
    out: usize,
) {
    for o in 0..out {
        for i in 0..inp {
            let mut s = 0.0;
            for r in 0..rows {
                s += dy[r * out + o] * x[r * inp + i];
            }
            dw[o * inp + i] = s;
        }
    }
}

/// db (OUT) = Σ_rows dy (B, OUT).
pub fn linear_backward_bias(db: &mut [f64], dy: &[f64], rows: usize, out: usize) {
    for o in 0..out {
        db[o] = (0..rows).map(|r| dy[r * out + o]).sum();
    }
}

/// z (B, L) = μ + exp(½ log σ²) · ε, with mulv (B, 2L) = [μ | log σ²] per row, ε (B, L).
pub fn reparam_forward(z: &mut [f64], mulv: &[f64], eps: &[f64], rows: usize, latent: usize) {
    for r in 0..rows {
        for j in 0..latent {
            let mu = mulv[r * 2 * latent + j];
            let lv = mulv[r * 2 * latent + latent + j];
            z[r * latent + j] = mu + (0.5 * lv).exp() * eps[r * latent + j];
        }
    }
}

/// dmulv (B, 2L): the gradient of (reconstruction + KL) with respect to [μ | log σ²], from
/// dz (B, L) through the reparameterization plus the KL term's own gradient.
pub fn reparam_backward(
    dmulv: &mut [f64],
    dz: &[f64],
    mulv: &[f64],
    eps: &[f64],
    rows: usize,
    latent: usize,
) {
    reparam_backward_weighted(dmulv, dz, mulv, eps, rows, latent, 1.0, true);
}

/// [`reparam_backward`] for the objective reconstruction + β·KL (`kl_weight` = β). Without
/// `through_z` (the trick switched off: z a sampled constant) the reconstruction's gradient
/// does not reach μ and log σ²; KL's term alone does.
#[allow(clippy::too_many_arguments)]
pub fn reparam_backward_weighted(
    dmulv: &mut [f64],
    dz: &[f64],
    mulv: &[f64],
    eps: &[f64],
    rows: usize,
    latent: usize,
    kl_weight: f64,
    through_z: bool,
) {
    for r in 0..rows {
        for j in 0..latent {
            let mu = mulv[r * 2 * latent + j];
            let lv = mulv[r * 2 * latent + latent + j];
            let g = if through_z { dz[r * latent + j] } else { 0.0 };
            dmulv[r * 2 * latent + j] = g + kl_weight * mu;
            dmulv[r * 2 * latent + latent + j] = g * eps[r * latent + j] * 0.5 * (0.5 * lv).exp()
                + kl_weight * 0.5 * (lv.exp() - 1.0);
        }
    }
}

/// Binary cross-entropy of sigmoid(logits) against x, summed, computed stably from the logits:
/// max(l, 0) − l·x + log(1 + exp(−|l|)).
pub fn bce_with_logits(logit: f64, target: f64) -> f64 {
    logit.max(0.0) - logit * target + (-logit.abs()).exp().ln_1p()
}

pub fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// Returns (Σ BCE, KL) over the batch and writes dlogits (B, IN) = sigmoid(logits) − x.
/// KL = −½ Σ (1 + log σ² − μ² − σ²).
pub fn loss_bce_kl(
    dlogits: &mut [f64],
    logits: &[f64],
    x: &[f64],
    mulv: &[f64],
    rows: usize,
    inp: usize,
    latent: usize,
) -> (f64, f64) {
    let mut bce = 0.0;
    for i in 0..rows * inp {
        bce += bce_with_logits(logits[i], x[i]);
        dlogits[i] = sigmoid(logits[i]) - x[i];
    }
    let mut kl = 0.0;
    for r in 0..rows {
        for j in 0..latent {
            let mu = mulv[r * 2 * latent + j];
            let lv = mulv[r * 2 * latent + latent + j];
            kl += -0.5 * (1.0 + lv - mu * mu - lv.exp());
        }
    }
    (bce, kl)
}

/// `torch.optim.Adam` (no weight decay, no amsgrad) at step `t` (1-based), in place.
#[allow(clippy::too_many_arguments)]
pub fn adam_step(
    params: &mut [f64],
    grads: &[f64],
    m: &mut [f64],
    v: &mut [f64],
    lr: f64,
    beta1: f64,
    beta2: f64,
    eps: f64,
    t: u64,
) {
    let bc1 = 1.0 - beta1.powi(t as i32);
    let bc2_sqrt = (1.0 - beta2.powi(t as i32)).sqrt();
    let step_size = lr / bc1;
    for i in 0..params.len() {
        let g = grads[i];
        m[i] += (g - m[i]) * (1.0 - beta1);
        v[i] = v[i] * beta2 + (1.0 - beta2) * g * g;
        let denom = v[i].sqrt() / bc2_sqrt + eps;
        params[i] -= step_size * m[i] / denom;
    }
}

/// x (B, IN) = images[indices[r]] / 255 (images: N × IN bytes).
pub fn gather_batch(x: &mut [f64], images: &[u8], indices: &[u32], inp: usize) {
    for (r, &img) in indices.iter().enumerate() {
        let img = img as usize;
        for c in 0..inp {
            x[r * inp + c] = f64::from(images[img * inp + c]) / 255.0;
        }
    }
}

/// The VAE's parameters as separate dense tensors, named as in PyTorch.
#[derive(Debug, Clone, PartialEq)]
pub struct RefParams {
    pub input: usize,
    pub hidden: usize,
    pub latent: usize,
    /// (name, values) in `layout::TENSOR_NAMES` order.
    pub tensors: Vec<(&'static str, Vec<f64>)>,
}

impl RefParams {
    pub fn get(&self, name: &str) -> &[f64] {
        match self.tensors.iter().find(|(n, _)| *n == name) {
            Some((_, v)) => v,
            None => panic!("reference params have no tensor {name}"),
        }
    }
    pub fn get_mut(&mut self, name: &str) -> &mut Vec<f64> {
        match self.tensors.iter_mut().find(|(n, _)| *n == name) {
            Some((_, v)) => v,
            None => panic!("reference params have no tensor {name}"),
        }
    }
    pub fn from_flat(layout: &crate::layout::ParamLayout, flat: &[f32]) -> Self {
        RefParams {
            input: layout.input,
            hidden: layout.hidden,
            latent: layout.latent,
            tensors: layout
                .unpack_all(flat)
                .into_iter()
                .map(|(n, _, v)| (n, v.into_iter().map(f64::from).collect()))
                .collect(),
        }
    }
}

/// Everything the forward pass computes, kept for the backward pass.
#[derive(Debug, Clone)]
pub struct RefActivations {
    pub h1: Vec<f64>,
    pub mulv: Vec<f64>,
    pub z: Vec<f64>,
    pub h4: Vec<f64>,
    pub logits: Vec<f64>,
}

/// The encoder: h1 (B, H) = ReLU(fc1 x), μ = fc2 h1, log σ² = fc3 h1 (each B × L).
pub fn vae_encode(p: &RefParams, x: &[f64], rows: usize) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let (i, h, l) = (p.input, p.hidden, p.latent);
    let mut h1 = vec![0.0; rows * h];
    linear_forward(
        &mut h1,
        x,
        p.get("fc1.weight"),
        p.get("fc1.bias"),
        rows,
        i,
        h,
        true,
    );
    let mut mu = vec![0.0; rows * l];
    let mut lv = vec![0.0; rows * l];
    linear_forward(
        &mut mu,
        &h1,
        p.get("fc2.weight"),
        p.get("fc2.bias"),
        rows,
        h,
        l,
        false,
    );
    linear_forward(
        &mut lv,
        &h1,
        p.get("fc3.weight"),
        p.get("fc3.bias"),
        rows,
        h,
        l,
        false,
    );
    (h1, mu, lv)
}

/// The decoder: h4 (B, H) = ReLU(fc4 z), logits (B, IN) = fc5 h4.
pub fn vae_decode(p: &RefParams, z: &[f64], rows: usize) -> (Vec<f64>, Vec<f64>) {
    let (i, h, l) = (p.input, p.hidden, p.latent);
    let mut h4 = vec![0.0; rows * h];
    linear_forward(
        &mut h4,
        z,
        p.get("fc4.weight"),
        p.get("fc4.bias"),
        rows,
        l,
        h,
        true,
    );
    let mut logits = vec![0.0; rows * i];
    linear_forward(
        &mut logits,
        &h4,
        p.get("fc5.weight"),
        p.get("fc5.bias"),
        rows,
        h,
        i,
        false,
    );
    (h4, logits)
}

/// The forward pass of the PyTorch reference VAE on a dense batch x (B, IN) with noise ε (B, L).
pub fn vae_forward(p: &RefParams, x: &[f64], eps: &[f64], rows: usize) -> RefActivations {
    let l = p.latent;
    let (h1, mu, lv) = vae_encode(p, x, rows);
    let mut mulv = vec![0.0; rows * 2 * l];
    for r in 0..rows {
        mulv[r * 2 * l..r * 2 * l + l].copy_from_slice(&mu[r * l..(r + 1) * l]);
        mulv[r * 2 * l + l..(r + 1) * 2 * l].copy_from_slice(&lv[r * l..(r + 1) * l]);
    }
    let mut z = vec![0.0; rows * l];
    reparam_forward(&mut z, &mulv, eps, rows, l);
    let (h4, logits) = vae_decode(p, &z, rows);
    RefActivations {
        h1,
        mulv,
        z,
        h4,
        logits,
    }
}

/// The reconstruction term's gradient with respect to z, for one input `x` (IN) decoded from
/// `z` (L): ∂BCE(x, decoder(z))/∂z = W4ᵀ·((W5ᵀ·(σ(logits) − x)) ⊙ (h4 > 0)), with the BCE (sum)
/// of the pair. What reaches μ_j and log σ²_j through z = μ + σ·ε (times 1 and ½·σ_j·ε_j) —
/// or, with the trick switched off, never reaches them.
pub fn reconstruction_grad_z(p: &RefParams, x: &[f64], z: &[f64]) -> (Vec<f64>, f64) {
    let (i, h, l) = (p.input, p.hidden, p.latent);
    let (h4, logits) = vae_decode(p, z, 1);
    let mut bce = 0.0;
    let mut dlogits = vec![0.0; i];
    for k in 0..i {
        bce += bce_with_logits(logits[k], x[k]);
        dlogits[k] = sigmoid(logits[k]) - x[k];
    }
    let mut dh4 = vec![0.0; h];
    linear_backward_input(&mut dh4, &dlogits, p.get("fc5.weight"), Some(&h4), 1, h, i);
    let mut dz = vec![0.0; l];
    linear_backward_input(&mut dz, &dh4, p.get("fc4.weight"), None, 1, l, h);
    (dz, bce)
}

/// What is minimised: Σ BCE + `kl_weight`·KL. A plain autoencoder is `kl_weight` 0 with ε = 0
/// (z = μ): the caller passes zeros for ε, as the GPU draws none. Without `through_z` (config
/// `reparameterize: false`) z is a sampled constant: the encoder gets KL's gradient alone.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Objective {
    pub kl_weight: f64,
    pub through_z: bool,
}

impl Objective {
    /// Σ BCE + β·KL with the reparameterization trick.
    pub fn weighted(kl_weight: f64) -> Self {
        Objective {
            kl_weight,
            through_z: true,
        }
    }
}

impl Default for Objective {
    fn default() -> Self {
        Objective::weighted(1.0)
    }
}

/// Loss (Σ BCE, KL) and the gradient of their sum for every tensor, as `loss.backward()` gives.
pub fn vae_forward_backward(
    p: &RefParams,
    x: &[f64],
    eps: &[f64],
    rows: usize,
) -> (f64, f64, RefParams) {
    vae_forward_backward_with(p, x, eps, rows, Objective::default())
}

/// Loss (Σ BCE, KL unweighted) and the gradient of Σ BCE + β·KL for every tensor.
pub fn vae_forward_backward_with(
    p: &RefParams,
    x: &[f64],
    eps: &[f64],
    rows: usize,
    objective: Objective,
) -> (f64, f64, RefParams) {
    let (i, h, l) = (p.input, p.hidden, p.latent);
    let a = vae_forward(p, x, eps, rows);
    let mut dlogits = vec![0.0; rows * i];
    let (bce, kl) = loss_bce_kl(&mut dlogits, &a.logits, x, &a.mulv, rows, i, l);
    let mut g = p.clone();
    linear_backward_weight(g.get_mut("fc5.weight"), &dlogits, &a.h4, rows, h, i);
    linear_backward_bias(g.get_mut("fc5.bias"), &dlogits, rows, i);
    let mut dh4 = vec![0.0; rows * h];
    linear_backward_input(
        &mut dh4,
        &dlogits,
        p.get("fc5.weight"),
        Some(&a.h4),
        rows,
        h,
        i,
    );
    linear_backward_weight(g.get_mut("fc4.weight"), &dh4, &a.z, rows, l, h);
    linear_backward_bias(g.get_mut("fc4.bias"), &dh4, rows, h);
    let mut dz = vec![0.0; rows * l];
    linear_backward_input(&mut dz, &dh4, p.get("fc4.weight"), None, rows, l, h);
    let mut dmulv = vec![0.0; rows * 2 * l];
    reparam_backward_weighted(
        &mut dmulv,
        &dz,
        &a.mulv,
        eps,
        rows,
        l,
        objective.kl_weight,
        objective.through_z,
    );
    let mut dmu = vec![0.0; rows * l];
    let mut dlv = vec![0.0; rows * l];
    for r in 0..rows {
        dmu[r * l..(r + 1) * l].copy_from_slice(&dmulv[r * 2 * l..r * 2 * l + l]);
        dlv[r * l..(r + 1) * l].copy_from_slice(&dmulv[r * 2 * l + l..(r + 1) * 2 * l]);
    }
    linear_backward_weight(g.get_mut("fc2.weight"), &dmu, &a.h1, rows, h, l);
    linear_backward_bias(g.get_mut("fc2.bias"), &dmu, rows, l);
    linear_backward_weight(g.get_mut("fc3.weight"), &dlv, &a.h1, rows, h, l);
    linear_backward_bias(g.get_mut("fc3.bias"), &dlv, rows, l);
    let mut dh1 = vec![0.0; rows * h];
    let mut dh1_lv = vec![0.0; rows * h];
    linear_backward_input(&mut dh1, &dmu, p.get("fc2.weight"), Some(&a.h1), rows, h, l);
    linear_backward_input(
        &mut dh1_lv,
        &dlv,
        p.get("fc3.weight"),
        Some(&a.h1),
        rows,
        h,
        l,
    );
    for (d, e) in dh1.iter_mut().zip(&dh1_lv) {
        *d += e;
    }
    linear_backward_weight(g.get_mut("fc1.weight"), &dh1, x, rows, i, h);
    linear_backward_bias(g.get_mut("fc1.bias"), &dh1, rows, h);
    (bce, kl, g)
}
