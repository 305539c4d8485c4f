// reparam.wgsl: the reparameterization trick, forward and backward, with ε drawn on the GPU.
// Shape legend: B = batch rows, L = latent. mulv is (B, ld(2L)): per row μ in columns 0..L and
// log σ² in columns L..2L (the fused fc2|fc3 output).
//
// ε, z and the gradient come from reparam_fns.wgsl (compiled before this file).
//
// The separate step form (CPU-emulated adapters) runs these; the fused one (real GPUs) runs the
// same functions inside latent.wgsl.

const REPARAM_WG: u32 = 64u;

// One binding set for forward and backward (one bind group serves both entry points).
@group(0) @binding(0) var<uniform> step: StepParams;
@group(0) @binding(1) var<storage, read> mulv: array<f32>;          // (B, ld(2L)) [μ | log σ²]
@group(0) @binding(2) var<storage, read> dz: array<f32>;            // (B, ld(L)) gradient wrt z
@group(0) @binding(3) var<storage, read_write> z: array<f32>;       // (B, ld(L))
@group(0) @binding(4) var<storage, read_write> eps: array<f32>;     // (B, L): forward writes it, backward reads it
@group(0) @binding(5) var<storage, read_write> dmulv: array<f32>;   // (B, ld(2L)) gradient wrt [μ | log σ²]

// z = μ + exp(½ log σ²)·ε; one invocation per (row, latent) element. A plain autoencoder
// (step.variational = 0) draws no ε: ε = 0 and z = μ.
@compute @workgroup_size(REPARAM_WG, 1, 1)
fn reparam_forward(@builtin(global_invocation_id) gid: vec3<u32>) {
  let l = step.latent;
  let i = gid.x;
  if (i >= step.rows * l) {
    return;
  }
  let r = i / l;
  let j = i % l;
  let mu = mulv[r * ld(2u * l) + j];
  let log_var = mulv[r * ld(2u * l) + l + j];
  var e = 0.0;
  if (step.variational != 0u) {
    e = normal_eps(i, step.rng_step, vec2<u32>(step.seed_lo, step.seed_hi));
  }
  eps[i] = e;
  z[r * ld(l) + j] = reparam_z(mu, log_var, e);
}

// Gradient wrt [μ | log σ²] (reparam_grad). Padding columns of dmulv are never written (they
// stay zero).
@compute @workgroup_size(REPARAM_WG, 1, 1)
fn reparam_backward(@builtin(global_invocation_id) gid: vec3<u32>) {
  let l = step.latent;
  let i = gid.x;
  if (i >= step.rows * l) {
    return;
  }
  let r = i / l;
  let j = i % l;
  let row = r * ld(2u * l);
  let mu = mulv[row + j];
  let log_var = mulv[row + l + j];
  let d = reparam_grad(mu, log_var, eps[i], dz[r * ld(l) + j], step.kl_weight, step.through_z != 0u);
  dmulv[row + j] = d.x;
  dmulv[row + l + j] = d.y;
}
