// latent.wgsl: the training step's small layers around z fused, one workgroup per batch row.
// Shape legend: B = batch rows, H = hidden, L = latent. Rows of every matrix are padded to vec4s
// (ld); padding columns of the activations are zero and stay zero.
//
//   latent_forward:  [μ | log σ²] = h1·W23ᵀ + b23,  z = μ + exp(½ log σ²)·ε,
//                    h4 = relu(z·W4ᵀ + b4); and the row's KL = −½ Σ (1 + log σ² − μ² − σ²) as
//                    the loss's partial-sum record (0, KL) at partials_at + row (fc5's kernel
//                    adds the BCE records after them: linear_forward_loss_tiled)
//   latent_backward: dz = dh4·W4,  d[μ | log σ²] (reparam_grad: the path through z and β·KL),
//                    dh1 = d[μ | log σ²]·W23 ⊙ (h1 > 0);
//                    and one more workgroup (index B) adds the loss's partial sums into the
//                    step's stats record (loss_sum.wgsl), so that needs no dispatch of its own.
// The weight and bias gradients of fc2|fc3 and fc4 are sums over the batch, which one row's
// workgroup cannot finish: adam.wgsl computes them where it reads them.
//
// Why fused: at batch 128 a real GPU spends a step on dispatch latency, not arithmetic (an H100
// took 0.70 ms for a step of 21 dispatches, 2.6% of its peak), and these layers are the smallest
// (H·2L and L·H weights): as separate GEMMs, reparameterization and loss reduction they were 8 of
// the step's dispatches. One row's work needs only that row's h1 (or dh4), so a workgroup takes
// a row from end to end, keeping z (or d[μ | log σ²]) in workgroup memory between the layers.
// Used by the fused step form (model::StepForm, real GPUs). The separate kernels (linear.wgsl,
// reparam.wgsl) stay for CPU-emulated adapters, where a per-row workgroup leaves SIMD lanes idle
// and they measured faster, and for Explore's encoder and decoder; reparam_fns.wgsl is the same
// code in both.

const LATENT_WG: u32 = 64u;      // = SUM_WG: the extra workgroup of latent_backward sums the loss
const MAX_LATENT: u32 = 1024u;   // config.rs MAX_LATENT

// latent_forward's bindings: 0–6 and 10. latent_backward's: 0–3, 5, 7–10 (two layouts,
// kernels::latent).
@group(0) @binding(0) var<uniform> step: StepParams;
@group(0) @binding(1) var<storage, read> params: array<vec4<f32>>;  // flat parameters
@group(0) @binding(2) var<storage, read> h1: array<vec4<f32>>;      // (B, ld(H))
@group(0) @binding(3) var<storage, read_write> mulv: array<f32>;    // (B, ld(2L)) [μ | log σ²]
@group(0) @binding(4) var<storage, read_write> z: array<f32>;       // (B, ld(L))
@group(0) @binding(5) var<storage, read_write> eps: array<f32>;     // (B, L)
@group(0) @binding(6) var<storage, read_write> h4: array<vec4<f32>>;      // (B, ld(H))
@group(0) @binding(7) var<storage, read> dh4: array<vec4<f32>>;           // (B, ld(H)), ReLU-masked
@group(0) @binding(8) var<storage, read_write> dmulv: array<f32>;         // (B, ld(2L))
@group(0) @binding(9) var<storage, read_write> dh1: array<vec4<f32>>;     // (B, ld(H))
@group(0) @binding(10) var<storage, read_write> stats: array<vec4<u32>>;  // records | partials

var<workgroup> zrow: array<f32, MAX_LATENT>;       // forward: this row's z (zero past L)
var<workgroup> klrow: array<f32, MAX_LATENT>;      // forward: this row's KL terms
var<workgroup> drow: array<f32, 2u * MAX_LATENT>;  // backward: this row's d[μ | log σ²]

fn param(f: u32) -> f32 {
  return params[f >> 2u][f & 3u];
}

@compute @workgroup_size(LATENT_WG, 1, 1)
fn latent_forward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let r = wid.x;
  let l = step.latent;
  let hq = ld(step.hidden) / 4u;
  let lq = ld(l) / 4u;
  let key = vec2<u32>(step.seed_lo, step.seed_hi);
  // μ_j and log σ²_j (rows j and L + j of W23), then z_j: one invocation per latent j.
  for (var j = lid; j < l; j += LATENT_WG) {
    let wm = step.w23_at / 4u + j * hq;
    let wv = step.w23_at / 4u + (l + j) * hq;
    var am = vec4<f32>(0.0);
    var av = vec4<f32>(0.0);
    for (var q = 0u; q < hq; q++) {
      let x = h1[r * hq + q];
      am += x * params[wm + q];
      av += x * params[wv + q];
    }
    let mu = (am.x + am.y) + (am.z + am.w) + param(step.b23_at + j);
    let log_var = (av.x + av.y) + (av.z + av.w) + param(step.b23_at + l + j);
    mulv[r * ld(2u * l) + j] = mu;
    mulv[r * ld(2u * l) + l + j] = log_var;
    var e = 0.0;
    if (step.variational != 0u) {
      e = normal_eps(r * l + j, step.rng_step, key);
    }
    eps[r * l + j] = e;
    let zj = reparam_z(mu, log_var, e);
    z[r * ld(l) + j] = zj;
    zrow[j] = zj;
    klrow[j] = -0.5 * (1.0 + log_var - mu * mu - exp(log_var));
  }
  workgroupBarrier();
  if (lid == 0u) {
    var kl = 0.0;
    for (var j = 0u; j < l; j++) {
      kl += klrow[j];
    }
    stats[step.partials_at + r] = vec4<u32>(0u, bitcast<u32>(kl), 0u, 0u);
  }
  // h4 = relu(z·W4ᵀ + b4): one invocation per 4 output columns (4 rows of W4).
  for (var q = lid; q < hq; q += LATENT_WG) {
    var acc = vec4<f32>(0.0);
    let o = vec4<u32>(q * 4u) + vec4<u32>(0u, 1u, 2u, 3u);
    let valid = o < vec4<u32>(step.hidden);
    let rows = min(o, vec4<u32>(step.hidden - 1u)) * lq + vec4<u32>(step.w4_at / 4u);
    for (var jq = 0u; jq < lq; jq++) {
      let zq = vec4<f32>(zrow[jq * 4u], zrow[jq * 4u + 1u], zrow[jq * 4u + 2u], zrow[jq * 4u + 3u]);
      acc += vec4<f32>(
        dot(zq, params[rows.x + jq]),
        dot(zq, params[rows.y + jq]),
        dot(zq, params[rows.z + jq]),
        dot(zq, params[rows.w + jq]),
      );
    }
    var b = vec4<f32>(0.0);
    for (var k = 0u; k < 4u; k++) {
      if (valid[k]) {
        b[k] = param(step.b4_at + o[k]);
      }
    }
    h4[r * hq + q] = select(vec4<f32>(0.0), max(acc + b, vec4<f32>(0.0)), valid);
  }
}

@compute @workgroup_size(LATENT_WG, 1, 1)
fn latent_backward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let r = wid.x;
  if (r >= step.rows) {
    sum_partials(lid);
    return;
  }
  let l = step.latent;
  let hq = ld(step.hidden) / 4u;
  // dz_j = Σ_o dh4[o]·W4[o, j] (column j of W4; dh4's padding columns are zero, their W4 rows
  // clamped to the last), then d[μ_j | log σ²_j].
  for (var j = lid; j < l; j += LATENT_WG) {
    var acc = vec4<f32>(0.0);
    for (var oq = 0u; oq < hq; oq++) {
      let o = min(vec4<u32>(oq * 4u) + vec4<u32>(0u, 1u, 2u, 3u), vec4<u32>(step.hidden - 1u));
      let col = o * ld(l) + vec4<u32>(step.w4_at + j);
      acc += dh4[r * hq + oq] * vec4<f32>(param(col.x), param(col.y), param(col.z), param(col.w));
    }
    let g = (acc.x + acc.y) + (acc.z + acc.w);
    let row = r * ld(2u * l);
    let d = reparam_grad(mulv[row + j], mulv[row + l + j], eps[r * l + j], g, step.kl_weight, step.through_z != 0u);
    dmulv[row + j] = d.x;
    dmulv[row + l + j] = d.y;
    drow[j] = d.x;
    drow[l + j] = d.y;
  }
  workgroupBarrier();
  // dh1 = d[μ | log σ²]·W23, masked by h1 > 0: one invocation per 4 columns of h1.
  for (var q = lid; q < hq; q += LATENT_WG) {
    var acc = vec4<f32>(0.0);
    for (var o = 0u; o < 2u * l; o++) {
      acc += drow[o] * params[step.w23_at / 4u + o * hq + q];
    }
    dh1[r * hq + q] = select(vec4<f32>(0.0), acc, h1[r * hq + q] > vec4<f32>(0.0));
  }
}
