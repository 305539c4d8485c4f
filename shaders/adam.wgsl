// adam.wgsl: torch.optim.Adam (no weight decay, no amsgrad) over the whole flat parameter
// buffer in one dispatch. Shape legend: P = parameter count (padded to vec4s; padding has zero
// gradient and so never moves).
//   m ← m + (g − m)(1 − β1)         (torch's exp_avg.lerp_)
//   v ← β2·v + (1 − β2)·g²
//   p ← p − step_size · m / (sqrt(v) / sqrt(1 − β2^t) + eps),  step_size = lr / (1 − β1^t)
// A parameter that becomes non-finite sets bit 1 of the flags word of this step's stats record
// (written by loss.wgsl earlier in the step), which the host reads back with the losses.

const ADAM_WG: u32 = 256u;

@group(0) @binding(0) var<uniform> step: StepParams;
@group(0) @binding(1) var<storage, read> grads: array<vec4<f32>>;        // (P/4)
@group(0) @binding(2) var<storage, read_write> params: array<vec4<f32>>; // (P/4)
@group(0) @binding(3) var<storage, read_write> m: array<vec4<f32>>;      // (P/4)
@group(0) @binding(4) var<storage, read_write> v: array<vec4<f32>>;      // (P/4)
@group(0) @binding(5) var<storage, read_write> stats: array<atomic<u32>>; // records of 4 words

@compute @workgroup_size(ADAM_WG, 1, 1)
fn adam_step(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * ADAM_WG;
  if (i >= step.param_vec4s) {
    return;
  }
  let g = grads[i];
  let mi = m[i] + (g - m[i]) * (1.0 - step.beta1);
  let vi = step.beta2 * v[i] + (1.0 - step.beta2) * g * g;
  m[i] = mi;
  v[i] = vi;
  let denom = sqrt(vi) / step.bc2_sqrt + vec4<f32>(step.eps);
  let p = params[i] - step.step_size * mi / denom;
  params[i] = p;
  if (non_finite(p.x) || non_finite(p.y) || non_finite(p.z) || non_finite(p.w)) {
    atomicOr(&stats[step.slot * 4u + 3u], 2u);
  }
}
