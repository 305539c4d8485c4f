// common.wgsl: the per-step uniform shared by gather, reparam, latent, loss and adam (prepended to
// each of those files when they are compiled; linear.wgsl does not use it).
//
// One StepParams record per training or evaluation step lives at a 256-byte-aligned offset of a
// uniform buffer and is bound with a dynamic offset, so several steps fit in one submit while
// each dispatch still sees its own step. Mirrored by `kernels::StepParams` (checked by a test).
struct StepParams {
  rows: u32,         // B: batch rows this step (the last batch of an epoch may be short)
  in_features: u32,  // IN
  latent: u32,       // L
  index_offset: u32, // first entry of this batch in the index buffer
  rng_step: u32,     // Philox counter word for this step's ε
  seed_lo: u32,      // Philox key
  seed_hi: u32,
  slot: u32,         // stats record written by this step
  lr: f32,
  beta1: f32,
  beta2: f32,
  eps: f32,
  step_size: f32,    // lr / (1 − β1^t)
  bc2_sqrt: f32,     // sqrt(1 − β2^t)
  param_vec4s: u32,  // length of the flat parameter buffer in vec4s
  loss_partials: u32,  // partial sums loss_bce_kl writes and sum_partials adds up
  kl_weight: f32,    // β: the objective is BCE + β·KL (1 for the VAE of the seed)
  variational: u32,  // 1: z = μ + σ·ε (a VAE); 0: z = μ, ε = 0 (a plain autoencoder)
  hidden: u32,       // H
  partials_at: u32,  // first record of the loss's partial sums in the stats buffer (after the ring)
  w23_at: u32,       // first float of [fc2 | fc3].weight (2L, ld(H)) in the flat parameters
  b23_at: u32,       // first float of [fc2 | fc3].bias (2L)
  w4_at: u32,        // first float of fc4.weight (H, ld(L))
  b4_at: u32,        // first float of fc4.bias (H)
  through_z: u32,    // 1: the reconstruction's gradient reaches μ, log σ² through z (the trick);
                     // 0: z is a sampled constant, only KL trains them (reparameterize: false)
}

// Row stride, in floats, of a matrix with n columns (see layout.rs: rows padded to vec4).
fn ld(n: u32) -> u32 {
  return (n + 3u) & ~3u;
}

// True for ±Inf and NaN, tested on the bits: WGSL lets an implementation assume floats are finite,
// so comparisons such as x != x may be folded away.
fn non_finite(x: f32) -> bool {
  return (bitcast<u32>(x) & 0x7f800000u) == 0x7f800000u;
}
