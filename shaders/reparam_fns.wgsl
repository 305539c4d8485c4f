// reparam_fns.wgsl: the reparameterization as functions, with no bindings of its own: ε ~ N(0, 1)
// from Philox4x32-10 keyed by the seed with counter (element, rng_step, 0, 0) — a pure function
// of (seed, step, element), mirrored on the CPU by rng.rs::normal_eps — then z and the gradient
// wrt [μ | log σ²]. Prepended to reparam.wgsl (one kernel per direction: kernel tests, per-kernel
// benchmarks) and latent.wgsl (the training step's fused kernels), so both run the same code.

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

// z = μ + exp(½ log σ²)·ε.
fn reparam_z(mu: f32, log_var: f32, e: f32) -> f32 {
  return mu + exp(0.5 * log_var) * e;
}

// Gradient of (reconstruction + β·KL) wrt (μ, log σ²) given g = ∂/∂z: the path through z plus
// KL's own term,
//   dμ      = g + β·μ
//   dlog σ² = g·ε·½·exp(½ log σ²) + β·½(exp(log σ²) − 1)
// (with ε = 0 and β = 0, a plain autoencoder's log σ² gets no gradient at all). With the trick
// switched off (`through_z` false) z is a constant: the path through z is cut and only KL's
// term is left.
fn reparam_grad(mu: f32, log_var: f32, e: f32, g_z: f32, beta: f32, through_z: bool) -> vec2<f32> {
  let sigma = exp(0.5 * log_var);
  let g = select(0.0, g_z, through_z);
  return vec2<f32>(g + beta * mu, g * e * 0.5 * sigma + beta * 0.5 * (sigma * sigma - 1.0));
}
