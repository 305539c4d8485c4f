// loss.wgsl: BCE-with-logits + KL, their gradients, and a deterministic two-stage sum.
// Shape legend: B = batch rows, IN = pixels, L = latent; P = B·LOSS_CHUNKS partial sums.
//
// loss_bce_kl: invocation p takes one LOSS_CHUNKS-th of batch row p / LOSS_CHUNKS: it sums BCE
// over its vec4s of the row (and KL over every LOSS_CHUNKS-th latent element of the row), writes
// dlogits = sigmoid(logit) − x, and stores its two sums as partial p. No workgroup memory and no
// barriers: on CPU-emulated adapters a barrier switches every invocation of the workgroup in and
// out, and a tree reduction per workgroup cost more than all the arithmetic (141 ms of a 234 ms
// step on SwiftShader with one element per invocation).
// loss_reduce: one workgroup adds the P partials in a fixed order (loss_sum.wgsl) and writes the
// step's record into the stats buffer; a training step does that inside latent_backward instead.
// The KL gradient is applied in reparam_grad (reparam_fns.wgsl); BCE and σ are bce.wgsl's.

const BCE_WG: u32 = 64u;       // loss_bce_kl's workgroup
const LOSS_CHUNKS: u32 = 4u;   // invocations (partial sums) per batch row

@group(0) @binding(0) var<uniform> step: StepParams;
@group(0) @binding(1) var<storage, read> logits: array<vec4<f32>>;      // (B, ld(IN))
@group(0) @binding(2) var<storage, read> x: array<vec4<f32>>;           // (B, ld(IN)) targets in [0, 1]
@group(0) @binding(3) var<storage, read> mulv: array<f32>;              // (B, ld(2L)) [μ | log σ²]
@group(0) @binding(4) var<storage, read_write> dlogits: array<vec4<f32>>; // (B, ld(IN))
// Records, one per step, then the P partial sums (Σ BCE, Σ KL as f32 bits) at partials_at.
@group(0) @binding(5) var<storage, read_write> stats: array<vec4<u32>>;

@compute @workgroup_size(BCE_WG, 1, 1)
fn loss_bce_kl(@builtin(global_invocation_id) gid: vec3<u32>) {
  let part = gid.x;
  if (part >= step.rows * LOSS_CHUNKS) {
    return;
  }
  let r = part / LOSS_CHUNKS;
  let chunk = part % LOSS_CHUNKS;
  let n_in = step.in_features;
  let row_quads = ld(n_in) / 4u;
  let per = (row_quads + LOSS_CHUNKS - 1u) / LOSS_CHUNKS;
  let q0 = min(chunk * per, row_quads);
  let q1 = min(q0 + per, row_quads);
  let base = r * row_quads;
  var bce = vec4<f32>(0.0);
  for (var q = q0; q < q1; q++) {
    let logit = logits[base + q];
    let t = x[base + q];
    let valid = vec4<u32>(q * 4u) + vec4<u32>(0u, 1u, 2u, 3u) < vec4<u32>(n_in);
    bce += select(vec4<f32>(0.0), bce_with_logits(logit, t), valid);
    dlogits[base + q] = select(vec4<f32>(0.0), sigmoid(logit) - t, valid);
  }
  let l = step.latent;
  let row = r * ld(2u * l);
  var kl = 0.0;
  for (var j = chunk; j < l; j += LOSS_CHUNKS) {
    let mu = mulv[row + j];
    let log_var = mulv[row + l + j];
    kl += -0.5 * (1.0 + log_var - mu * mu - exp(log_var));
  }
  let total = (bce.x + bce.y) + (bce.z + bce.w);
  stats[step.partials_at + part] = vec4<u32>(bitcast<u32>(total), bitcast<u32>(kl), 0u, 0u);
}

@compute @workgroup_size(SUM_WG, 1, 1)
fn loss_reduce(@builtin(local_invocation_index) lid: u32) {
  sum_partials(lid);
}
