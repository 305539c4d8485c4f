// adam.wgsl: torch.optim.Adam (no weight decay, no amsgrad) over the whole flat parameter
// buffer in one dispatch. Shape legend: P = parameter count (padded to vec4s; padding has zero
// gradient and so never moves); B, H, L as in latent.wgsl.
//   m ← m + (g − m)(1 − β1)         (torch's exp_avg.lerp_)
//   v ← β2·v + (1 − β2)·g²
//   p ← p − step_size · m / (sqrt(v) / sqrt(1 − β2^t) + eps),  step_size = lr / (1 − β1^t)
// The gradients of fc2|fc3's and fc4's weights and biases are computed here, where they are
// used (and stored into grads for readers such as the gradient tests): they are sums over the
// batch of products latent.wgsl's per-row workgroups left behind (d[μ | log σ²] with h1, dh4
// with z), too small to earn dispatches of their own. Every other gradient is read from grads.
// A parameter that becomes non-finite sets bit 1 of the flags word of this step's stats record
// (written earlier in the step), which the host reads back with the losses.

const ADAM_WG: u32 = 256u;

@group(0) @binding(0) var<uniform> step: StepParams;
@group(0) @binding(1) var<storage, read_write> grads: array<vec4<f32>>;  // (P/4)
@group(0) @binding(2) var<storage, read_write> params: array<vec4<f32>>; // (P/4)
@group(0) @binding(3) var<storage, read_write> mv: array<vec4<f32>>;     // (2P/4): m, then v
@group(0) @binding(4) var<storage, read_write> stats: array<atomic<u32>>; // records of 4 words
@group(0) @binding(5) var<storage, read> h1: array<vec4<f32>>;           // (B, ld(H))
@group(0) @binding(6) var<storage, read> dh4: array<vec4<f32>>;          // (B, ld(H)), masked
@group(0) @binding(7) var<storage, read> z: array<vec4<f32>>;            // (B, ld(L))
@group(0) @binding(8) var<storage, read> dmulv: array<vec4<f32>>;        // (B, ld(2L))

fn at(a: u32, f: u32, n: u32) -> bool {
  return f >= a && f < a + n;
}

fn scalar(v: vec4<f32>, k: u32) -> f32 {
  return v[k & 3u];
}

// The gradient of parameters f..f+3 (f = 4i) in fc2|fc3 or fc4 (small_range(f)); their tensors
// start on multiples of 4, so a vec4 never straddles two. Padding columns of the activations are
// zero, so padding gets a zero gradient.
fn small_gradient(f: u32) -> vec4<f32> {
  let l = step.latent;
  let hq = ld(step.hidden) / 4u;
  let lq = ld(l) / 4u;
  let mq = ld(2u * l) / 4u;
  var g = vec4<f32>(0.0);
  if (at(step.w23_at, f, 2u * l * ld(step.hidden))) {
    // dW23[o, c..c+3] = Σ_r d[μ | log σ²][r, o] · h1[r, c..c+3]
    let o = (f - step.w23_at) / ld(step.hidden);
    let q = (f - step.w23_at) % ld(step.hidden) / 4u;
    for (var r = 0u; r < step.rows; r++) {
      g += scalar(dmulv[r * mq + o / 4u], o) * h1[r * hq + q];
    }
  } else if (at(step.b23_at, f, ld(2u * l))) {
    let q = (f - step.b23_at) / 4u;
    for (var r = 0u; r < step.rows; r++) {
      g += dmulv[r * mq + q];
    }
  } else if (at(step.w4_at, f, step.hidden * ld(l))) {
    // dW4[o, j..j+3] = Σ_r dh4[r, o] · z[r, j..j+3]
    let o = (f - step.w4_at) / ld(l);
    let q = (f - step.w4_at) % ld(l) / 4u;
    for (var r = 0u; r < step.rows; r++) {
      g += scalar(dh4[r * hq + o / 4u], o) * z[r * lq + q];
    }
  } else {
    // fc4.bias: the only other small range (small_range is checked first).
    let q = (f - step.b4_at) / 4u;
    for (var r = 0u; r < step.rows; r++) {
      g += dh4[r * hq + q];
    }
  }
  return g;
}

fn small_range(f: u32) -> bool {
  let l = step.latent;
  return at(step.w23_at, f, 2u * l * ld(step.hidden)) || at(step.b23_at, f, ld(2u * l))
    || at(step.w4_at, f, step.hidden * ld(l)) || at(step.b4_at, f, ld(step.hidden));
}

@compute @workgroup_size(ADAM_WG, 1, 1)
fn adam_step(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * ADAM_WG;
  if (i >= step.param_vec4s) {
    return;
  }
  var g = grads[i];
  if (small_range(i * 4u)) {
    g = small_gradient(i * 4u);
    grads[i] = g;
  }
  let n = step.param_vec4s;
  let mi = mv[i] + (g - mv[i]) * (1.0 - step.beta1);
  let vi = step.beta2 * mv[n + i] + (1.0 - step.beta2) * g * g;
  mv[i] = mi;
  mv[n + i] = vi;
  let denom = sqrt(vi) / step.bc2_sqrt + vec4<f32>(step.eps);
  let p = params[i] - step.step_size * mi / denom;
  params[i] = p;
  if (non_finite(p.x) || non_finite(p.y) || non_finite(p.z) || non_finite(p.w)) {
    atomicOr(&stats[step.slot * 4u + 3u], 2u);
  }
}
