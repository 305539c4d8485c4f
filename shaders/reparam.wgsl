// reparam.wgsl: the reparameterization trick, forward and backward, with ε drawn on the GPU.
// Shape legend: B = batch rows, L = latent. mulv is (B, ld(2L)): per row μ in columns 0..L and
// log σ² in columns L..2L (the fused fc2|fc3 output).
//
// ε comes from Philox4x32-10 keyed by the seed, with counter (element, rng_step, 0, 0): a pure
// function of (seed, step, element), mirrored on the CPU by rng.rs::normal_eps.

const REPARAM_WG: u32 = 64u;
const PHILOX_M0: u32 = 0xD2511F53u;
const PHILOX_M1: u32 = 0xCD9E8D57u;
const PHILOX_W0: u32 = 0x9E3779B9u;
const PHILOX_W1: u32 = 0xBB67AE85u;
const TAU: f32 = 6.283185307179586;
const PI: f32 = 3.141592653589793;

// (hi, lo) 32-bit halves of the 64-bit product a·b, from 16-bit pieces (WGSL has no u64).
fn mul_hi_lo(a: u32, b: u32) -> vec2<u32> {
  let a_lo = a & 0xFFFFu;
  let a_hi = a >> 16u;
  let b_lo = b & 0xFFFFu;
  let b_hi = b >> 16u;
  let ll = a_lo * b_lo;
  let hl = a_hi * b_lo;
  let lh = a_lo * b_hi;
  let hh = a_hi * b_hi;
  let mid = (ll >> 16u) + (hl & 0xFFFFu) + lh; // < 2^32: no overflow
  let hi = hh + (hl >> 16u) + (mid >> 16u);
  let lo = (mid << 16u) | (ll & 0xFFFFu);
  return vec2<u32>(hi, lo);
}

fn philox4x32_10(counter: vec4<u32>, key: vec2<u32>) -> vec4<u32> {
  var c = counter;
  var k = key;
  for (var round = 0u; round < 10u; round++) {
    if (round > 0u) {
      k = k + vec2<u32>(PHILOX_W0, PHILOX_W1);
    }
    let p0 = mul_hi_lo(PHILOX_M0, c.x);
    let p1 = mul_hi_lo(PHILOX_M1, c.z);
    c = vec4<u32>(p1.x ^ c.y ^ k.x, p1.y, p0.x ^ c.w ^ k.y, p0.y);
  }
  return c;
}

// ε ~ N(0, 1) for element `index` of RNG step `rng_step` (Box–Muller on two 24-bit uniforms).
fn normal_eps(index: u32, rng_step: u32, key: vec2<u32>) -> f32 {
  let r = philox4x32_10(vec4<u32>(index, rng_step, 0u, 0u), key);
  let u1 = (f32(r.x >> 8u) + 1.0) * (1.0 / 16777216.0);
  let u2 = f32(r.y >> 8u) * (1.0 / 16777216.0);
  // The angle is kept in [−π, π), where WGSL bounds cos's error (2^-11 absolute).
  return sqrt(-2.0 * log(u1)) * cos(TAU * u2 - PI);
}

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
  z[r * ld(l) + j] = mu + exp(0.5 * log_var) * e;
}

// Gradient of (reconstruction + β·KL) wrt [μ | log σ²]: the path through z plus KL's own term,
//   dμ      = dz + β·μ
//   dlog σ² = dz·ε·½·exp(½ log σ²) + β·½(exp(log σ²) − 1)
// (with ε = 0 and β = 0, a plain autoencoder's log σ² gets no gradient at all).
// Padding columns of dmulv are never written (they stay zero).
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
  let g = dz[r * ld(l) + j];
  let sigma = exp(0.5 * log_var);
  let beta = step.kl_weight;
  dmulv[row + j] = g + beta * mu;
  dmulv[row + l + j] = g * eps[i] * 0.5 * sigma + beta * 0.5 * (sigma * sigma - 1.0);
}
