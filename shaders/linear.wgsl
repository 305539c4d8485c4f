// linear.wgsl: a linear layer y = act(x·Wᵀ + b), forward and backward, as register-blocked
// matrix multiplies in two forms with identical bindings:
//   * direct (linear_forward, linear_backward_input, linear_backward_weight): every invocation
//     reads vec4s straight from storage and keeps an 8×8 block of outputs in registers. Fastest
//     on CPU-emulated adapters (lavapipe, SwiftShader), where workgroup memory and barriers are
//     slow and each storage load costs more than the arithmetic it feeds.
//   * tiled (…_tiled): the workgroup stages 32×16 slices of both operands in workgroup memory
//     behind barriers, then each invocation computes the same 4×4 block from there. The fast
//     path on real GPUs.
// kernels::linear picks one form per adapter at startup; tests run both.
//
// Shape legend: B = batch rows, IN = in_features, OUT = out_features.
// Every matrix is row-major with rows padded to a multiple of 4 floats (ld(n) = n rounded up to
// 4; quads(n) = ld(n)/4 vec4s per row). Padding columns hold zeros; every kernel writes zeros
// there and never reads them as data. W is (OUT, ld(IN)) as in PyTorch, inside the flat parameter
// buffer at weight_offset; b is (OUT) at bias_offset.
//
// Bindings, by entry point:            a            b             aux           c
//   linear_forward[_tiled]             x (B,IN)     params        params (b)    y (B,OUT)
//   linear_backward_input[_tiled]      dy (B,OUT)   params (W)    x (B,IN)      dx (B,IN)
//   linear_backward_weight[_tiled]     dy (B,OUT)   x (B,IN)      x (unused)    grads (dW)
//   linear_backward_bias               dy (B,OUT)   x (unused)    x (unused)    grads (db)

struct LinearParams {
  rows: u32,          // B
  out_features: u32,  // OUT
  in_features: u32,   // IN
  weight_offset: u32, // first float of W in the flat parameter buffer (a multiple of 4)
  bias_offset: u32,   // first float of b in the flat parameter buffer
  flags: u32,         // FLAG_* below
  _pad0: u32,
  _pad1: u32,
}

const FLAG_RELU: u32 = 1u;      // forward: ReLU on the output
const FLAG_RELU_MASK: u32 = 2u; // backward_input: multiply by (x > 0), x being a ReLU output
const BLOCK_X: u32 = 8u;        // invocations per workgroup along output columns (vec4s)
const BLOCK_Y: u32 = 8u;        // invocations per workgroup along output rows (4 rows each)
const TILE: u32 = 32u;          // output tile edge of one workgroup: BLOCK_X·4 = BLOCK_Y·4
const TILE_K: u32 = 16u;        // inner-dimension depth staged per round (tiled form)
const DIRECT_X: u32 = 4u;       // direct form: invocations per workgroup along column-quad pairs
const DIRECT_Y: u32 = 4u;       // direct form: invocations per workgroup along row octets
const BIAS_WG: u32 = 64u;

@group(0) @binding(0) var<uniform> p: LinearParams;
@group(0) @binding(1) var<storage, read> a: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> b: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> aux: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> c: array<vec4<f32>>;

fn quads(n: u32) -> u32 {
  return (n + 3u) / 4u;
}

// Which of columns n0..n0+3 are below n.
fn col_mask(n0: u32, n: u32) -> vec4<bool> {
  return vec4<u32>(n0) + vec4<u32>(0u, 1u, 2u, 3u) < vec4<u32>(n);
}

// Bias of output columns n0..n0+3 (zero past OUT); b need not start on a vec4.
fn bias4(n0: u32) -> vec4<f32> {
  var v = vec4<f32>(0.0);
  for (var j = 0u; j < 4u; j++) {
    if (n0 + j < p.out_features) {
      let i = p.bias_offset + n0 + j;
      v[j] = aux[i >> 2u][i & 3u];
    }
  }
  return v;
}

fn forward_epilogue(acc: vec4<f32>, n0: u32) -> vec4<f32> {
  var v = acc + bias4(n0);
  if ((p.flags & FLAG_RELU) != 0u) {
    v = max(v, vec4<f32>(0.0));
  }
  return select(vec4<f32>(0.0), v, col_mask(n0, p.out_features));
}

fn input_epilogue(acc: vec4<f32>, row: u32, q: u32) -> vec4<f32> {
  var v = acc;
  if ((p.flags & FLAG_RELU_MASK) != 0u) {
    v = select(vec4<f32>(0.0), v, aux[row * quads(p.in_features) + q] > vec4<f32>(0.0));
  }
  return select(vec4<f32>(0.0), v, col_mask(q * 4u, p.in_features));
}

// Stores four consecutive rows r0.. (those below `rows`) of column quad q; `stride` in vec4s.
fn store_rows(base: u32, r0: u32, rows: u32, stride: u32, q: u32, v0: vec4<f32>, v1: vec4<f32>, v2: vec4<f32>, v3: vec4<f32>) {
  c[base + r0 * stride + q] = v0;
  if (r0 + 1u < rows) {
    c[base + (r0 + 1u) * stride + q] = v1;
  }
  if (r0 + 2u < rows) {
    c[base + (r0 + 2u) * stride + q] = v2;
  }
  if (r0 + 3u < rows) {
    c[base + (r0 + 3u) * stride + q] = v3;
  }
}

// ---------------------------------------------------------------------------------------------
// Direct form: each invocation computes an 8×8 block of outputs (8 rows × 2 column quads) in 16
// vec4 registers. On CPU-emulated adapters every storage load costs far more than the
// arithmetic it feeds, and an 8×8 block needs 16 vec4 loads per 256 multiply-adds, against 8 per
// 64 for a 4×4 block (measured on fc1's shapes: ≈2× on lavapipe, ≈1.6× on SwiftShader).
// A 4×4 matrix of four loaded vec4s applies four columns at once: v * M = (dot(v, M[j]))_j
// (forward) and M * v = Σ_j v[j]·M[j] (outer products, backward).

// Stores the bias gradient of output columns n0..n0+3 (those below OUT) at bias_offset.
fn store_bias4(n0: u32, v: vec4<f32>) {
  for (var j = 0u; j < 4u; j++) {
    if (n0 + j < p.out_features) {
      let i = p.bias_offset + n0 + j;
      c[i >> 2u][i & 3u] = v[j];
    }
  }
}

// Stores 8 consecutive rows r0.. (those below `rows`) of column quad q; `stride` in vec4s.
// (Plain values, no arrays: an array indexed at run time made SwiftShader's pipeline creation
// hang now and then in Chromium.)
fn store8(base: u32, r0: u32, rows: u32, stride: u32, q: u32, v0: vec4<f32>, v1: vec4<f32>, v2: vec4<f32>, v3: vec4<f32>, v4: vec4<f32>, v5: vec4<f32>, v6: vec4<f32>, v7: vec4<f32>) {
  store_rows(base, r0, rows, stride, q, v0, v1, v2, v3);
  if (r0 + 4u < rows) {
    store_rows(base, r0 + 4u, rows, stride, q, v4, v5, v6, v7);
  }
}

// y (B, OUT) = act(x (B, IN) · Wᵀ + b). Invocation: rows r0..r0+7 × output columns
// 8h..8h+7, dot products of vec4s along IN. Rows past B and W rows past OUT are clamped to
// valid ones; their results are discarded by the epilogue and the store.
@compute @workgroup_size(DIRECT_X, DIRECT_Y, 1)
fn linear_forward(@builtin(global_invocation_id) gid: vec3<u32>) {
  let q = gid.x * 2u;
  let r0 = gid.y * 8u;
  let qo = quads(p.out_features);
  if (q >= qo || r0 >= p.rows) {
    return;
  }
  let qi = quads(p.in_features);
  let lr = p.rows - 1u;
  let lo = p.out_features - 1u;
  let n0 = q * 4u;
  let x0 = min(r0, lr) * qi;
  let x1 = min(r0 + 1u, lr) * qi;
  let x2 = min(r0 + 2u, lr) * qi;
  let x3 = min(r0 + 3u, lr) * qi;
  let x4 = min(r0 + 4u, lr) * qi;
  let x5 = min(r0 + 5u, lr) * qi;
  let x6 = min(r0 + 6u, lr) * qi;
  let x7 = min(r0 + 7u, lr) * qi;
  let wb = p.weight_offset / 4u;
  let w0 = wb + min(n0, lo) * qi;
  let w1 = wb + min(n0 + 1u, lo) * qi;
  let w2 = wb + min(n0 + 2u, lo) * qi;
  let w3 = wb + min(n0 + 3u, lo) * qi;
  let w4 = wb + min(n0 + 4u, lo) * qi;
  let w5 = wb + min(n0 + 5u, lo) * qi;
  let w6 = wb + min(n0 + 6u, lo) * qi;
  let w7 = wb + min(n0 + 7u, lo) * qi;
  var a0 = vec4<f32>(0.0);
  var a1 = vec4<f32>(0.0);
  var a2 = vec4<f32>(0.0);
  var a3 = vec4<f32>(0.0);
  var a4 = vec4<f32>(0.0);
  var a5 = vec4<f32>(0.0);
  var a6 = vec4<f32>(0.0);
  var a7 = vec4<f32>(0.0);
  var c0 = vec4<f32>(0.0);
  var c1 = vec4<f32>(0.0);
  var c2 = vec4<f32>(0.0);
  var c3 = vec4<f32>(0.0);
  var c4 = vec4<f32>(0.0);
  var c5 = vec4<f32>(0.0);
  var c6 = vec4<f32>(0.0);
  var c7 = vec4<f32>(0.0);
  for (var k = 0u; k < qi; k++) {
    let ma = mat4x4<f32>(b[w0 + k], b[w1 + k], b[w2 + k], b[w3 + k]);
    let mc = mat4x4<f32>(b[w4 + k], b[w5 + k], b[w6 + k], b[w7 + k]);
    var v = a[x0 + k];
    a0 += v * ma;
    c0 += v * mc;
    v = a[x1 + k];
    a1 += v * ma;
    c1 += v * mc;
    v = a[x2 + k];
    a2 += v * ma;
    c2 += v * mc;
    v = a[x3 + k];
    a3 += v * ma;
    c3 += v * mc;
    v = a[x4 + k];
    a4 += v * ma;
    c4 += v * mc;
    v = a[x5 + k];
    a5 += v * ma;
    c5 += v * mc;
    v = a[x6 + k];
    a6 += v * ma;
    c6 += v * mc;
    v = a[x7 + k];
    a7 += v * ma;
    c7 += v * mc;
  }
  store8(0u, r0, p.rows, qo, q, forward_epilogue(a0, n0), forward_epilogue(a1, n0),
         forward_epilogue(a2, n0), forward_epilogue(a3, n0), forward_epilogue(a4, n0),
         forward_epilogue(a5, n0), forward_epilogue(a6, n0), forward_epilogue(a7, n0));
  if (q + 1u < qo) {
    let n1 = n0 + 4u;
    store8(0u, r0, p.rows, qo, q + 1u, forward_epilogue(c0, n1), forward_epilogue(c1, n1),
           forward_epilogue(c2, n1), forward_epilogue(c3, n1), forward_epilogue(c4, n1),
           forward_epilogue(c5, n1), forward_epilogue(c6, n1), forward_epilogue(c7, n1));
  }
}

// dx (B, IN) = dy (B, OUT) · W (OUT, IN), times (x > 0) with FLAG_RELU_MASK. Invocation: rows
// r0..r0+7 × input column quads q, q+1, as outer products over OUT, four OUT columns per step.
// W rows past OUT are clamped (the matching dy columns are padding, hence zero); a quad past IN
// is clamped to the last one and not stored.
@compute @workgroup_size(DIRECT_X, DIRECT_Y, 1)
fn linear_backward_input(@builtin(global_invocation_id) gid: vec3<u32>) {
  let q = gid.x * 2u;
  let r0 = gid.y * 8u;
  let qi = quads(p.in_features);
  if (q >= qi || r0 >= p.rows) {
    return;
  }
  let qo = quads(p.out_features);
  let lr = p.rows - 1u;
  let lo = p.out_features - 1u;
  let y0 = min(r0, lr) * qo;
  let y1 = min(r0 + 1u, lr) * qo;
  let y2 = min(r0 + 2u, lr) * qo;
  let y3 = min(r0 + 3u, lr) * qo;
  let y4 = min(r0 + 4u, lr) * qo;
  let y5 = min(r0 + 5u, lr) * qo;
  let y6 = min(r0 + 6u, lr) * qo;
  let y7 = min(r0 + 7u, lr) * qo;
  let wa = p.weight_offset / 4u + q;
  let wc = p.weight_offset / 4u + min(q + 1u, qi - 1u);
  var a0 = vec4<f32>(0.0);
  var a1 = vec4<f32>(0.0);
  var a2 = vec4<f32>(0.0);
  var a3 = vec4<f32>(0.0);
  var a4 = vec4<f32>(0.0);
  var a5 = vec4<f32>(0.0);
  var a6 = vec4<f32>(0.0);
  var a7 = vec4<f32>(0.0);
  var c0 = vec4<f32>(0.0);
  var c1 = vec4<f32>(0.0);
  var c2 = vec4<f32>(0.0);
  var c3 = vec4<f32>(0.0);
  var c4 = vec4<f32>(0.0);
  var c5 = vec4<f32>(0.0);
  var c6 = vec4<f32>(0.0);
  var c7 = vec4<f32>(0.0);
  for (var k = 0u; k < qo; k++) {
    let n = k * 4u;
    let o0 = min(n, lo) * qi;
    let o1 = min(n + 1u, lo) * qi;
    let o2 = min(n + 2u, lo) * qi;
    let o3 = min(n + 3u, lo) * qi;
    let ma = mat4x4<f32>(b[wa + o0], b[wa + o1], b[wa + o2], b[wa + o3]);
    let mc = mat4x4<f32>(b[wc + o0], b[wc + o1], b[wc + o2], b[wc + o3]);
    var d = a[y0 + k];
    a0 += ma * d;
    c0 += mc * d;
    d = a[y1 + k];
    a1 += ma * d;
    c1 += mc * d;
    d = a[y2 + k];
    a2 += ma * d;
    c2 += mc * d;
    d = a[y3 + k];
    a3 += ma * d;
    c3 += mc * d;
    d = a[y4 + k];
    a4 += ma * d;
    c4 += mc * d;
    d = a[y5 + k];
    a5 += ma * d;
    c5 += mc * d;
    d = a[y6 + k];
    a6 += ma * d;
    c6 += mc * d;
    d = a[y7 + k];
    a7 += ma * d;
    c7 += mc * d;
  }
  store8(0u, r0, p.rows, qi, q, input_epilogue(a0, r0, q), input_epilogue(a1, min(r0 + 1u, lr), q),
         input_epilogue(a2, min(r0 + 2u, lr), q), input_epilogue(a3, min(r0 + 3u, lr), q),
         input_epilogue(a4, min(r0 + 4u, lr), q), input_epilogue(a5, min(r0 + 5u, lr), q),
         input_epilogue(a6, min(r0 + 6u, lr), q), input_epilogue(a7, min(r0 + 7u, lr), q));
  if (q + 1u < qi) {
    let q1 = q + 1u;
    store8(0u, r0, p.rows, qi, q1, input_epilogue(c0, r0, q1), input_epilogue(c1, min(r0 + 1u, lr), q1),
           input_epilogue(c2, min(r0 + 2u, lr), q1), input_epilogue(c3, min(r0 + 3u, lr), q1),
           input_epilogue(c4, min(r0 + 4u, lr), q1), input_epilogue(c5, min(r0 + 5u, lr), q1),
           input_epilogue(c6, min(r0 + 6u, lr), q1), input_epilogue(c7, min(r0 + 7u, lr), q1));
  }
}

// dW (OUT, IN) = dyᵀ (OUT, B) · x (B, IN), written into the flat gradient buffer at
// weight_offset, and db = Σ_B dy at bias_offset (the direct form needs no linear_backward_bias).
// Invocation: W rows n0..n0+7 × column quads q, q+1, outer products over B.
// dy quads past OUT and x quads past IN are clamped; their results are not stored.
@compute @workgroup_size(DIRECT_X, DIRECT_Y, 1)
fn linear_backward_weight(@builtin(global_invocation_id) gid: vec3<u32>) {
  let q = gid.x * 2u;
  let n0 = gid.y * 8u;
  let qi = quads(p.in_features);
  if (q >= qi || n0 >= p.out_features) {
    return;
  }
  let qo = quads(p.out_features);
  let na = n0 / 4u;
  let nc = min(na + 1u, qo - 1u);
  let q1 = min(q + 1u, qi - 1u);
  var a0 = vec4<f32>(0.0);
  var a1 = vec4<f32>(0.0);
  var a2 = vec4<f32>(0.0);
  var a3 = vec4<f32>(0.0);
  var a4 = vec4<f32>(0.0);
  var a5 = vec4<f32>(0.0);
  var a6 = vec4<f32>(0.0);
  var a7 = vec4<f32>(0.0);
  var c0 = vec4<f32>(0.0);
  var c1 = vec4<f32>(0.0);
  var c2 = vec4<f32>(0.0);
  var c3 = vec4<f32>(0.0);
  var c4 = vec4<f32>(0.0);
  var c5 = vec4<f32>(0.0);
  var c6 = vec4<f32>(0.0);
  var c7 = vec4<f32>(0.0);
  var bias_a = vec4<f32>(0.0);
  var bias_c = vec4<f32>(0.0);
  for (var m = 0u; m < p.rows; m++) {
    let d = a[m * qo + na];
    let e = a[m * qo + nc];
    bias_a += d;
    bias_c += e;
    let xa = b[m * qi + q];
    let xc = b[m * qi + q1];
    a0 += d.x * xa;
    c0 += d.x * xc;
    a1 += d.y * xa;
    c1 += d.y * xc;
    a2 += d.z * xa;
    c2 += d.z * xc;
    a3 += d.w * xa;
    c3 += d.w * xc;
    a4 += e.x * xa;
    c4 += e.x * xc;
    a5 += e.y * xa;
    c5 += e.y * xc;
    a6 += e.z * xa;
    c6 += e.z * xc;
    a7 += e.w * xa;
    c7 += e.w * xc;
  }
  let wb = p.weight_offset / 4u;
  store8(wb, n0, p.out_features, qi, q, a0, a1, a2, a3, a4, a5, a6, a7);
  if (q + 1u < qi) {
    store8(wb, n0, p.out_features, qi, q + 1u, c0, c1, c2, c3, c4, c5, c6, c7);
  }
  // db (OUT) = Σ_B dy: the invocations of the first column quads have summed these rows' dy
  // on the way (no second pass over dy); b need not start on a vec4.
  if (q == 0u) {
    store_bias4(n0, bias_a);
    store_bias4(n0 + 4u, bias_c);
  }
}

// db (OUT) = Σ_B dy (B, OUT), written into the flat gradient buffer at bias_offset.
@compute @workgroup_size(BIAS_WG, 1, 1)
fn linear_backward_bias(@builtin(global_invocation_id) gid: vec3<u32>) {
  let n = gid.x;
  if (n >= p.out_features) {
    return;
  }
  let qo = quads(p.out_features);
  let q = n / 4u;
  let j = n & 3u;
  var s = 0.0;
  for (var m = 0u; m < p.rows; m++) {
    s += a[m * qo + q][j];
  }
  let i = p.bias_offset + n;
  c[i >> 2u][i & 3u] = s;
}

// ---------------------------------------------------------------------------------------------
// Tiled form.
//
// Each workgroup computes a TILE × TILE block of C(r, col) = Σ_k A(r, k)·B(col, k). Per round
// the 64 invocations copy a TILE_K-deep slice of A's 32 rows and of B's 32 columns into
// workgroup memory (8 scalars each, zero outside the matrices), wait at a barrier, accumulate
// their 4×4 blocks from workgroup memory, and wait again before the next round overwrites it.
// A(r, k) and B(col, k) are read through Strided descriptors, so the three products of a linear
// layer share this one body; every invocation reaches every barrier (no early return).

// Element (r, k) of an operand: at off + r·r_stride + k·k_stride floats; valid for r < rows.
struct Strided {
  off: u32,
  r_stride: u32,
  k_stride: u32,
  rows: u32,
}

var<workgroup> tile_a: array<vec4<f32>, 128>; // [kk·8 + r/4][r%4] = A(tile_row + r, k0 + kk)
var<workgroup> tile_b: array<vec4<f32>, 128>; // [kk·8 + col/4][col%4] = B(tile_col + col, k0 + kk)

fn tiled_product(lid: vec2<u32>, tile_row: u32, tile_col: u32, inner: u32, sa: Strided, sb: Strided) -> array<vec4<f32>, 4> {
  var acc: array<vec4<f32>, 4>;
  let t = lid.y * BLOCK_X + lid.x;
  for (var k0 = 0u; k0 < inner; k0 += TILE_K) {
    for (var e = 0u; e < (TILE_K * TILE) / (BLOCK_X * BLOCK_Y); e++) {
      let idx = t + e * BLOCK_X * BLOCK_Y;
      let kk = idx / TILE;
      let r = idx % TILE;
      let k = k0 + kk;
      var va = 0.0;
      if (tile_row + r < sa.rows && k < inner) {
        let i = sa.off + (tile_row + r) * sa.r_stride + k * sa.k_stride;
        va = a[i >> 2u][i & 3u];
      }
      tile_a[kk * (TILE / 4u) + r / 4u][r % 4u] = va;
      var vb = 0.0;
      if (tile_col + r < sb.rows && k < inner) {
        let i = sb.off + (tile_col + r) * sb.r_stride + k * sb.k_stride;
        vb = b[i >> 2u][i & 3u];
      }
      tile_b[kk * (TILE / 4u) + r / 4u][r % 4u] = vb;
    }
    workgroupBarrier();
    for (var kk = 0u; kk < TILE_K; kk++) {
      let av = tile_a[kk * (TILE / 4u) + lid.y];
      let bv = tile_b[kk * (TILE / 4u) + lid.x];
      acc[0] += av.x * bv;
      acc[1] += av.y * bv;
      acc[2] += av.z * bv;
      acc[3] += av.w * bv;
    }
    workgroupBarrier();
  }
  return acc;
}

// Same result as linear_forward.
@compute @workgroup_size(BLOCK_X, BLOCK_Y, 1)
fn linear_forward_tiled(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
  let qi = quads(p.in_features);
  let qo = quads(p.out_features);
  let acc = tiled_product(lid.xy, wid.y * TILE, wid.x * TILE, qi * 4u,
                          Strided(0u, qi * 4u, 1u, p.rows),
                          Strided(p.weight_offset, qi * 4u, 1u, p.out_features));
  let q = wid.x * BLOCK_X + lid.x;
  let r0 = (wid.y * BLOCK_Y + lid.y) * 4u;
  if (q < qo && r0 < p.rows) {
    let n0 = q * 4u;
    store_rows(0u, r0, p.rows, qo, q, forward_epilogue(acc[0], n0), forward_epilogue(acc[1], n0),
               forward_epilogue(acc[2], n0), forward_epilogue(acc[3], n0));
  }
}

// Same result as linear_backward_input.
@compute @workgroup_size(BLOCK_X, BLOCK_Y, 1)
fn linear_backward_input_tiled(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
  let qi = quads(p.in_features);
  let qo = quads(p.out_features);
  let acc = tiled_product(lid.xy, wid.y * TILE, wid.x * TILE, p.out_features,
                          Strided(0u, qo * 4u, 1u, p.rows),
                          Strided(p.weight_offset, 1u, qi * 4u, p.in_features));
  let q = wid.x * BLOCK_X + lid.x;
  let r0 = (wid.y * BLOCK_Y + lid.y) * 4u;
  if (q < qi && r0 < p.rows) {
    let last_row = p.rows - 1u;
    store_rows(0u, r0, p.rows, qi, q, input_epilogue(acc[0], r0, q),
               input_epilogue(acc[1], min(r0 + 1u, last_row), q),
               input_epilogue(acc[2], min(r0 + 2u, last_row), q),
               input_epilogue(acc[3], min(r0 + 3u, last_row), q));
  }
}

// Same result as linear_backward_weight.
@compute @workgroup_size(BLOCK_X, BLOCK_Y, 1)
fn linear_backward_weight_tiled(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
  let qi = quads(p.in_features);
  let qo = quads(p.out_features);
  let acc = tiled_product(lid.xy, wid.y * TILE, wid.x * TILE, p.rows,
                          Strided(0u, 1u, qo * 4u, p.out_features),
                          Strided(0u, 1u, qi * 4u, p.in_features));
  let q = wid.x * BLOCK_X + lid.x;
  let n0 = (wid.y * BLOCK_Y + lid.y) * 4u;
  if (q < qi && n0 < p.out_features) {
    store_rows(p.weight_offset / 4u, n0, p.out_features, qi, q, acc[0], acc[1], acc[2], acc[3]);
  }
}
