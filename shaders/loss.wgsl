// loss.wgsl: BCE-with-logits + KL, their gradients, and a deterministic two-stage sum.
// Shape legend: B = batch rows, IN = pixels, L = latent; G = workgroups of loss_bce_kl.
//
// loss_bce_kl: invocation i takes BCE element i (of B·IN) and KL element i (of B·L), writes
// dlogits = sigmoid(logit) − x, and each workgroup writes its two partial sums.
// loss_reduce: one workgroup adds the G partials in a fixed order and writes the step's record
// (Σ BCE and KL as f32 bits, B, flags: bit 0 = non-finite loss; adam.wgsl sets bit 1 when a
// parameter becomes non-finite) into the stats buffer, where the host reads it back
// asynchronously, many steps at a time. The KL gradient is applied in reparam_backward.

const LOSS_WG: u32 = 256u;

@group(0) @binding(0) var<uniform> step: StepParams;
@group(0) @binding(1) var<storage, read> logits: array<f32>;           // (B, ld(IN))
@group(0) @binding(2) var<storage, read> x: array<f32>;                // (B, ld(IN)) targets in [0, 1]
@group(0) @binding(3) var<storage, read> mulv: array<f32>;             // (B, ld(2L)) [μ | log σ²]
@group(0) @binding(4) var<storage, read_write> dlogits: array<f32>;    // (B, ld(IN))
@group(0) @binding(5) var<storage, read_write> partials: array<vec2<f32>>; // (G) (Σ BCE, Σ KL)
@group(0) @binding(6) var<storage, read_write> stats: array<vec4<u32>>;    // records, one per step

var<workgroup> sums: array<vec2<f32>, LOSS_WG>;

// Tree reduction of `sums` in workgroup memory; every invocation must call it (it has barriers).
// Afterwards sums[0] holds the workgroup's total, always added in the same order.
fn reduce_sums(lid: u32) {
  for (var width = LOSS_WG / 2u; width > 0u; width = width / 2u) {
    workgroupBarrier();
    if (lid < width) {
      sums[lid] = sums[lid] + sums[lid + width];
    }
  }
  workgroupBarrier();
}

// Stable BCE of sigmoid(l) against t: max(l, 0) − l·t + log(1 + exp(−|l|)).
fn bce_with_logits(l: f32, t: f32) -> f32 {
  return max(l, 0.0) - l * t + log(1.0 + exp(-abs(l)));
}

fn sigmoid(l: f32) -> f32 {
  let e = exp(-abs(l));
  return select(e / (1.0 + e), 1.0 / (1.0 + e), l >= 0.0);
}

@compute @workgroup_size(LOSS_WG, 1, 1)
fn loss_bce_kl(
  @builtin(global_invocation_id) gid: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
  @builtin(workgroup_id) wid: vec3<u32>,
) {
  let i = gid.x;
  let n_in = step.in_features;
  let l = step.latent;
  var s = vec2<f32>(0.0);
  if (i < step.rows * n_in) {
    let k = (i / n_in) * ld(n_in) + i % n_in;
    let logit = logits[k];
    let t = x[k];
    s.x = bce_with_logits(logit, t);
    dlogits[k] = sigmoid(logit) - t;
  }
  if (i < step.rows * l) {
    let row = (i / l) * ld(2u * l);
    let mu = mulv[row + i % l];
    let log_var = mulv[row + l + i % l];
    s.y = -0.5 * (1.0 + log_var - mu * mu - exp(log_var));
  }
  sums[lid] = s;
  reduce_sums(lid);
  if (lid == 0u) {
    partials[wid.x] = sums[0];
  }
}

@compute @workgroup_size(LOSS_WG, 1, 1)
fn loss_reduce(@builtin(local_invocation_index) lid: u32) {
  var s = vec2<f32>(0.0);
  for (var g = lid; g < step.loss_groups; g += LOSS_WG) {
    s = s + partials[g];
  }
  sums[lid] = s;
  reduce_sums(lid);
  if (lid == 0u) {
    let total = sums[0];
    let bad = non_finite(total.x) || non_finite(total.y);
    stats[step.slot] = vec4<u32>(bitcast<u32>(total.x), bitcast<u32>(total.y), step.rows, select(0u, 1u, bad));
  }
}
