// linear.wgsl: a linear layer y = act(x·Wᵀ + b), forward and backward, as register-blocked
// matrix multiplies in two forms with identical bindings:
//   * direct (linear_forward, linear_backward_input, linear_backward_weight): every invocation
//     reads vec4s straight from storage and keeps a 16×16 block of outputs in registers. Fastest
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
// Direct form: invocations per workgroup along 16-column blocks (x) and 16-row blocks (y).
// A row of 16 along x, because llvmpipe packs only x into its SIMD lanes (8 on AVX2, 16 on
// AVX-512): a 4×4 workgroup ran with half its lanes idle, and 16×1 made the big GEMMs 1.4×
// faster on lavapipe (vae-bench, 2026-11-25). SwiftShader, which packs any shape, is unchanged.
const DIRECT_X: u32 = 16u;
const DIRECT_Y: u32 = 1u;
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
// Direct form: each invocation computes a 16×16 block of outputs (16 rows × 4 column quads) in
// 64 vec4 registers. On CPU-emulated adapters every storage load costs far more than the
// arithmetic it feeds; a 16×16 block needs 32 vec4 loads per 1,024 multiply-adds, against 8 per
// 64 for a 4×4 block. Measured on fc1's and fc5's forward shapes: SwiftShader 2.9 (4×4), 4.4–5.0
// (8×8), 7.3–7.5 (16×16) GFLOP/s against an FMA peak of 8.2; lavapipe 6, 17–19, 19–27.
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

// DIRECT KERNELS BEGIN
// Generated by scripts/gen-linear-direct.py; edit that, not this.

// y (B, OUT) = act(x (B, IN) · Wᵀ + b). Invocation: rows r0..r0+15 × output column quads
// q0..q0+3, dot products of vec4s along IN (v * M: four W rows at once). Rows past B and
// W rows past OUT are clamped to valid ones; their results are never stored.
@compute @workgroup_size(DIRECT_X, DIRECT_Y, 1)
fn linear_forward(@builtin(global_invocation_id) gid: vec3<u32>) {
  let q0 = gid.x * 4u;
  let r0 = gid.y * 16u;
  let qo = quads(p.out_features);
  if (q0 >= qo || r0 >= p.rows) {
    return;
  }
  let qi = quads(p.in_features);
  let lr = p.rows - 1u;
  let lo = p.out_features - 1u;
  let wb = p.weight_offset / 4u;
  let x0 = min(r0 + 0u, lr) * qi;
  let x1 = min(r0 + 1u, lr) * qi;
  let x2 = min(r0 + 2u, lr) * qi;
  let x3 = min(r0 + 3u, lr) * qi;
  let x4 = min(r0 + 4u, lr) * qi;
  let x5 = min(r0 + 5u, lr) * qi;
  let x6 = min(r0 + 6u, lr) * qi;
  let x7 = min(r0 + 7u, lr) * qi;
  let x8 = min(r0 + 8u, lr) * qi;
  let x9 = min(r0 + 9u, lr) * qi;
  let x10 = min(r0 + 10u, lr) * qi;
  let x11 = min(r0 + 11u, lr) * qi;
  let x12 = min(r0 + 12u, lr) * qi;
  let x13 = min(r0 + 13u, lr) * qi;
  let x14 = min(r0 + 14u, lr) * qi;
  let x15 = min(r0 + 15u, lr) * qi;
  let w0 = wb + min(q0 * 4u + 0u, lo) * qi;
  let w1 = wb + min(q0 * 4u + 1u, lo) * qi;
  let w2 = wb + min(q0 * 4u + 2u, lo) * qi;
  let w3 = wb + min(q0 * 4u + 3u, lo) * qi;
  let w4 = wb + min(q0 * 4u + 4u, lo) * qi;
  let w5 = wb + min(q0 * 4u + 5u, lo) * qi;
  let w6 = wb + min(q0 * 4u + 6u, lo) * qi;
  let w7 = wb + min(q0 * 4u + 7u, lo) * qi;
  let w8 = wb + min(q0 * 4u + 8u, lo) * qi;
  let w9 = wb + min(q0 * 4u + 9u, lo) * qi;
  let w10 = wb + min(q0 * 4u + 10u, lo) * qi;
  let w11 = wb + min(q0 * 4u + 11u, lo) * qi;
  let w12 = wb + min(q0 * 4u + 12u, lo) * qi;
  let w13 = wb + min(q0 * 4u + 13u, lo) * qi;
  let w14 = wb + min(q0 * 4u + 14u, lo) * qi;
  let w15 = wb + min(q0 * 4u + 15u, lo) * qi;
  var a0_0 = vec4<f32>(0.0);
  var a0_1 = vec4<f32>(0.0);
  var a0_2 = vec4<f32>(0.0);
  var a0_3 = vec4<f32>(0.0);
  var a1_0 = vec4<f32>(0.0);
  var a1_1 = vec4<f32>(0.0);
  var a1_2 = vec4<f32>(0.0);
  var a1_3 = vec4<f32>(0.0);
  var a2_0 = vec4<f32>(0.0);
  var a2_1 = vec4<f32>(0.0);
  var a2_2 = vec4<f32>(0.0);
  var a2_3 = vec4<f32>(0.0);
  var a3_0 = vec4<f32>(0.0);
  var a3_1 = vec4<f32>(0.0);
  var a3_2 = vec4<f32>(0.0);
  var a3_3 = vec4<f32>(0.0);
  var a4_0 = vec4<f32>(0.0);
  var a4_1 = vec4<f32>(0.0);
  var a4_2 = vec4<f32>(0.0);
  var a4_3 = vec4<f32>(0.0);
  var a5_0 = vec4<f32>(0.0);
  var a5_1 = vec4<f32>(0.0);
  var a5_2 = vec4<f32>(0.0);
  var a5_3 = vec4<f32>(0.0);
  var a6_0 = vec4<f32>(0.0);
  var a6_1 = vec4<f32>(0.0);
  var a6_2 = vec4<f32>(0.0);
  var a6_3 = vec4<f32>(0.0);
  var a7_0 = vec4<f32>(0.0);
  var a7_1 = vec4<f32>(0.0);
  var a7_2 = vec4<f32>(0.0);
  var a7_3 = vec4<f32>(0.0);
  var a8_0 = vec4<f32>(0.0);
  var a8_1 = vec4<f32>(0.0);
  var a8_2 = vec4<f32>(0.0);
  var a8_3 = vec4<f32>(0.0);
  var a9_0 = vec4<f32>(0.0);
  var a9_1 = vec4<f32>(0.0);
  var a9_2 = vec4<f32>(0.0);
  var a9_3 = vec4<f32>(0.0);
  var a10_0 = vec4<f32>(0.0);
  var a10_1 = vec4<f32>(0.0);
  var a10_2 = vec4<f32>(0.0);
  var a10_3 = vec4<f32>(0.0);
  var a11_0 = vec4<f32>(0.0);
  var a11_1 = vec4<f32>(0.0);
  var a11_2 = vec4<f32>(0.0);
  var a11_3 = vec4<f32>(0.0);
  var a12_0 = vec4<f32>(0.0);
  var a12_1 = vec4<f32>(0.0);
  var a12_2 = vec4<f32>(0.0);
  var a12_3 = vec4<f32>(0.0);
  var a13_0 = vec4<f32>(0.0);
  var a13_1 = vec4<f32>(0.0);
  var a13_2 = vec4<f32>(0.0);
  var a13_3 = vec4<f32>(0.0);
  var a14_0 = vec4<f32>(0.0);
  var a14_1 = vec4<f32>(0.0);
  var a14_2 = vec4<f32>(0.0);
  var a14_3 = vec4<f32>(0.0);
  var a15_0 = vec4<f32>(0.0);
  var a15_1 = vec4<f32>(0.0);
  var a15_2 = vec4<f32>(0.0);
  var a15_3 = vec4<f32>(0.0);
  for (var k = 0u; k < qi; k++) {
    let m0 = mat4x4<f32>(b[w0 + k], b[w1 + k], b[w2 + k], b[w3 + k]);
    let m1 = mat4x4<f32>(b[w4 + k], b[w5 + k], b[w6 + k], b[w7 + k]);
    let m2 = mat4x4<f32>(b[w8 + k], b[w9 + k], b[w10 + k], b[w11 + k]);
    let m3 = mat4x4<f32>(b[w12 + k], b[w13 + k], b[w14 + k], b[w15 + k]);
    let v0 = a[x0 + k];
    a0_0 += v0 * m0;
    a0_1 += v0 * m1;
    a0_2 += v0 * m2;
    a0_3 += v0 * m3;
    let v1 = a[x1 + k];
    a1_0 += v1 * m0;
    a1_1 += v1 * m1;
    a1_2 += v1 * m2;
    a1_3 += v1 * m3;
    let v2 = a[x2 + k];
    a2_0 += v2 * m0;
    a2_1 += v2 * m1;
    a2_2 += v2 * m2;
    a2_3 += v2 * m3;
    let v3 = a[x3 + k];
    a3_0 += v3 * m0;
    a3_1 += v3 * m1;
    a3_2 += v3 * m2;
    a3_3 += v3 * m3;
    let v4 = a[x4 + k];
    a4_0 += v4 * m0;
    a4_1 += v4 * m1;
    a4_2 += v4 * m2;
    a4_3 += v4 * m3;
    let v5 = a[x5 + k];
    a5_0 += v5 * m0;
    a5_1 += v5 * m1;
    a5_2 += v5 * m2;
    a5_3 += v5 * m3;
    let v6 = a[x6 + k];
    a6_0 += v6 * m0;
    a6_1 += v6 * m1;
    a6_2 += v6 * m2;
    a6_3 += v6 * m3;
    let v7 = a[x7 + k];
    a7_0 += v7 * m0;
    a7_1 += v7 * m1;
    a7_2 += v7 * m2;
    a7_3 += v7 * m3;
    let v8 = a[x8 + k];
    a8_0 += v8 * m0;
    a8_1 += v8 * m1;
    a8_2 += v8 * m2;
    a8_3 += v8 * m3;
    let v9 = a[x9 + k];
    a9_0 += v9 * m0;
    a9_1 += v9 * m1;
    a9_2 += v9 * m2;
    a9_3 += v9 * m3;
    let v10 = a[x10 + k];
    a10_0 += v10 * m0;
    a10_1 += v10 * m1;
    a10_2 += v10 * m2;
    a10_3 += v10 * m3;
    let v11 = a[x11 + k];
    a11_0 += v11 * m0;
    a11_1 += v11 * m1;
    a11_2 += v11 * m2;
    a11_3 += v11 * m3;
    let v12 = a[x12 + k];
    a12_0 += v12 * m0;
    a12_1 += v12 * m1;
    a12_2 += v12 * m2;
    a12_3 += v12 * m3;
    let v13 = a[x13 + k];
    a13_0 += v13 * m0;
    a13_1 += v13 * m1;
    a13_2 += v13 * m2;
    a13_3 += v13 * m3;
    let v14 = a[x14 + k];
    a14_0 += v14 * m0;
    a14_1 += v14 * m1;
    a14_2 += v14 * m2;
    a14_3 += v14 * m3;
    let v15 = a[x15 + k];
    a15_0 += v15 * m0;
    a15_1 += v15 * m1;
    a15_2 += v15 * m2;
    a15_3 += v15 * m3;
  }
  if (q0 + 0u < qo) {
    store_rows(0u, r0 + 0u, p.rows, qo, q0 + 0u, forward_epilogue(a0_0, (q0 + 0u) * 4u), forward_epilogue(a1_0, (q0 + 0u) * 4u), forward_epilogue(a2_0, (q0 + 0u) * 4u), forward_epilogue(a3_0, (q0 + 0u) * 4u));
    if (r0 + 4u < p.rows) {
      store_rows(0u, r0 + 4u, p.rows, qo, q0 + 0u, forward_epilogue(a4_0, (q0 + 0u) * 4u), forward_epilogue(a5_0, (q0 + 0u) * 4u), forward_epilogue(a6_0, (q0 + 0u) * 4u), forward_epilogue(a7_0, (q0 + 0u) * 4u));
    }
    if (r0 + 8u < p.rows) {
      store_rows(0u, r0 + 8u, p.rows, qo, q0 + 0u, forward_epilogue(a8_0, (q0 + 0u) * 4u), forward_epilogue(a9_0, (q0 + 0u) * 4u), forward_epilogue(a10_0, (q0 + 0u) * 4u), forward_epilogue(a11_0, (q0 + 0u) * 4u));
    }
    if (r0 + 12u < p.rows) {
      store_rows(0u, r0 + 12u, p.rows, qo, q0 + 0u, forward_epilogue(a12_0, (q0 + 0u) * 4u), forward_epilogue(a13_0, (q0 + 0u) * 4u), forward_epilogue(a14_0, (q0 + 0u) * 4u), forward_epilogue(a15_0, (q0 + 0u) * 4u));
    }
  }
  if (q0 + 1u < qo) {
    store_rows(0u, r0 + 0u, p.rows, qo, q0 + 1u, forward_epilogue(a0_1, (q0 + 1u) * 4u), forward_epilogue(a1_1, (q0 + 1u) * 4u), forward_epilogue(a2_1, (q0 + 1u) * 4u), forward_epilogue(a3_1, (q0 + 1u) * 4u));
    if (r0 + 4u < p.rows) {
      store_rows(0u, r0 + 4u, p.rows, qo, q0 + 1u, forward_epilogue(a4_1, (q0 + 1u) * 4u), forward_epilogue(a5_1, (q0 + 1u) * 4u), forward_epilogue(a6_1, (q0 + 1u) * 4u), forward_epilogue(a7_1, (q0 + 1u) * 4u));
    }
    if (r0 + 8u < p.rows) {
      store_rows(0u, r0 + 8u, p.rows, qo, q0 + 1u, forward_epilogue(a8_1, (q0 + 1u) * 4u), forward_epilogue(a9_1, (q0 + 1u) * 4u), forward_epilogue(a10_1, (q0 + 1u) * 4u), forward_epilogue(a11_1, (q0 + 1u) * 4u));
    }
    if (r0 + 12u < p.rows) {
      store_rows(0u, r0 + 12u, p.rows, qo, q0 + 1u, forward_epilogue(a12_1, (q0 + 1u) * 4u), forward_epilogue(a13_1, (q0 + 1u) * 4u), forward_epilogue(a14_1, (q0 + 1u) * 4u), forward_epilogue(a15_1, (q0 + 1u) * 4u));
    }
  }
  if (q0 + 2u < qo) {
    store_rows(0u, r0 + 0u, p.rows, qo, q0 + 2u, forward_epilogue(a0_2, (q0 + 2u) * 4u), forward_epilogue(a1_2, (q0 + 2u) * 4u), forward_epilogue(a2_2, (q0 + 2u) * 4u), forward_epilogue(a3_2, (q0 + 2u) * 4u));
    if (r0 + 4u < p.rows) {
      store_rows(0u, r0 + 4u, p.rows, qo, q0 + 2u, forward_epilogue(a4_2, (q0 + 2u) * 4u), forward_epilogue(a5_2, (q0 + 2u) * 4u), forward_epilogue(a6_2, (q0 + 2u) * 4u), forward_epilogue(a7_2, (q0 + 2u) * 4u));
    }
    if (r0 + 8u < p.rows) {
      store_rows(0u, r0 + 8u, p.rows, qo, q0 + 2u, forward_epilogue(a8_2, (q0 + 2u) * 4u), forward_epilogue(a9_2, (q0 + 2u) * 4u), forward_epilogue(a10_2, (q0 + 2u) * 4u), forward_epilogue(a11_2, (q0 + 2u) * 4u));
    }
    if (r0 + 12u < p.rows) {
      store_rows(0u, r0 + 12u, p.rows, qo, q0 + 2u, forward_epilogue(a12_2, (q0 + 2u) * 4u), forward_epilogue(a13_2, (q0 + 2u) * 4u), forward_epilogue(a14_2, (q0 + 2u) * 4u), forward_epilogue(a15_2, (q0 + 2u) * 4u));
    }
  }
  if (q0 + 3u < qo) {
    store_rows(0u, r0 + 0u, p.rows, qo, q0 + 3u, forward_epilogue(a0_3, (q0 + 3u) * 4u), forward_epilogue(a1_3, (q0 + 3u) * 4u), forward_epilogue(a2_3, (q0 + 3u) * 4u), forward_epilogue(a3_3, (q0 + 3u) * 4u));
    if (r0 + 4u < p.rows) {
      store_rows(0u, r0 + 4u, p.rows, qo, q0 + 3u, forward_epilogue(a4_3, (q0 + 3u) * 4u), forward_epilogue(a5_3, (q0 + 3u) * 4u), forward_epilogue(a6_3, (q0 + 3u) * 4u), forward_epilogue(a7_3, (q0 + 3u) * 4u));
    }
    if (r0 + 8u < p.rows) {
      store_rows(0u, r0 + 8u, p.rows, qo, q0 + 3u, forward_epilogue(a8_3, (q0 + 3u) * 4u), forward_epilogue(a9_3, (q0 + 3u) * 4u), forward_epilogue(a10_3, (q0 + 3u) * 4u), forward_epilogue(a11_3, (q0 + 3u) * 4u));
    }
    if (r0 + 12u < p.rows) {
      store_rows(0u, r0 + 12u, p.rows, qo, q0 + 3u, forward_epilogue(a12_3, (q0 + 3u) * 4u), forward_epilogue(a13_3, (q0 + 3u) * 4u), forward_epilogue(a14_3, (q0 + 3u) * 4u), forward_epilogue(a15_3, (q0 + 3u) * 4u));
    }
  }
}

// dx (B, IN) = dy (B, OUT) · W (OUT, IN), times (x > 0) with FLAG_RELU_MASK. Invocation:
// rows r0..r0+15 × input column quads q0..q0+3, outer products over OUT (M * v: four W
// rows, four OUT columns per step). W rows past OUT are clamped (the matching dy columns
// are padding, hence zero); quads past IN are clamped and never stored.
@compute @workgroup_size(DIRECT_X, DIRECT_Y, 1)
fn linear_backward_input(@builtin(global_invocation_id) gid: vec3<u32>) {
  let q0 = gid.x * 4u;
  let r0 = gid.y * 16u;
  let qi = quads(p.in_features);
  if (q0 >= qi || r0 >= p.rows) {
    return;
  }
  let qo = quads(p.out_features);
  let lr = p.rows - 1u;
  let lo = p.out_features - 1u;
  let wb = p.weight_offset / 4u;
  let y0 = min(r0 + 0u, lr) * qo;
  let y1 = min(r0 + 1u, lr) * qo;
  let y2 = min(r0 + 2u, lr) * qo;
  let y3 = min(r0 + 3u, lr) * qo;
  let y4 = min(r0 + 4u, lr) * qo;
  let y5 = min(r0 + 5u, lr) * qo;
  let y6 = min(r0 + 6u, lr) * qo;
  let y7 = min(r0 + 7u, lr) * qo;
  let y8 = min(r0 + 8u, lr) * qo;
  let y9 = min(r0 + 9u, lr) * qo;
  let y10 = min(r0 + 10u, lr) * qo;
  let y11 = min(r0 + 11u, lr) * qo;
  let y12 = min(r0 + 12u, lr) * qo;
  let y13 = min(r0 + 13u, lr) * qo;
  let y14 = min(r0 + 14u, lr) * qo;
  let y15 = min(r0 + 15u, lr) * qo;
  let c0 = wb + min(q0 + 0u, qi - 1u);
  let c1 = wb + min(q0 + 1u, qi - 1u);
  let c2 = wb + min(q0 + 2u, qi - 1u);
  let c3 = wb + min(q0 + 3u, qi - 1u);
  var a0_0 = vec4<f32>(0.0);
  var a0_1 = vec4<f32>(0.0);
  var a0_2 = vec4<f32>(0.0);
  var a0_3 = vec4<f32>(0.0);
  var a1_0 = vec4<f32>(0.0);
  var a1_1 = vec4<f32>(0.0);
  var a1_2 = vec4<f32>(0.0);
  var a1_3 = vec4<f32>(0.0);
  var a2_0 = vec4<f32>(0.0);
  var a2_1 = vec4<f32>(0.0);
  var a2_2 = vec4<f32>(0.0);
  var a2_3 = vec4<f32>(0.0);
  var a3_0 = vec4<f32>(0.0);
  var a3_1 = vec4<f32>(0.0);
  var a3_2 = vec4<f32>(0.0);
  var a3_3 = vec4<f32>(0.0);
  var a4_0 = vec4<f32>(0.0);
  var a4_1 = vec4<f32>(0.0);
  var a4_2 = vec4<f32>(0.0);
  var a4_3 = vec4<f32>(0.0);
  var a5_0 = vec4<f32>(0.0);
  var a5_1 = vec4<f32>(0.0);
  var a5_2 = vec4<f32>(0.0);
  var a5_3 = vec4<f32>(0.0);
  var a6_0 = vec4<f32>(0.0);
  var a6_1 = vec4<f32>(0.0);
  var a6_2 = vec4<f32>(0.0);
  var a6_3 = vec4<f32>(0.0);
  var a7_0 = vec4<f32>(0.0);
  var a7_1 = vec4<f32>(0.0);
  var a7_2 = vec4<f32>(0.0);
  var a7_3 = vec4<f32>(0.0);
  var a8_0 = vec4<f32>(0.0);
  var a8_1 = vec4<f32>(0.0);
  var a8_2 = vec4<f32>(0.0);
  var a8_3 = vec4<f32>(0.0);
  var a9_0 = vec4<f32>(0.0);
  var a9_1 = vec4<f32>(0.0);
  var a9_2 = vec4<f32>(0.0);
  var a9_3 = vec4<f32>(0.0);
  var a10_0 = vec4<f32>(0.0);
  var a10_1 = vec4<f32>(0.0);
  var a10_2 = vec4<f32>(0.0);
  var a10_3 = vec4<f32>(0.0);
  var a11_0 = vec4<f32>(0.0);
  var a11_1 = vec4<f32>(0.0);
  var a11_2 = vec4<f32>(0.0);
  var a11_3 = vec4<f32>(0.0);
  var a12_0 = vec4<f32>(0.0);
  var a12_1 = vec4<f32>(0.0);
  var a12_2 = vec4<f32>(0.0);
  var a12_3 = vec4<f32>(0.0);
  var a13_0 = vec4<f32>(0.0);
  var a13_1 = vec4<f32>(0.0);
  var a13_2 = vec4<f32>(0.0);
  var a13_3 = vec4<f32>(0.0);
  var a14_0 = vec4<f32>(0.0);
  var a14_1 = vec4<f32>(0.0);
  var a14_2 = vec4<f32>(0.0);
  var a14_3 = vec4<f32>(0.0);
  var a15_0 = vec4<f32>(0.0);
  var a15_1 = vec4<f32>(0.0);
  var a15_2 = vec4<f32>(0.0);
  var a15_3 = vec4<f32>(0.0);
  for (var k = 0u; k < qo; k++) {
    let n = k * 4u;
    let o0 = min(n + 0u, lo) * qi;
    let o1 = min(n + 1u, lo) * qi;
    let o2 = min(n + 2u, lo) * qi;
    let o3 = min(n + 3u, lo) * qi;
    let m0 = mat4x4<f32>(b[c0 + o0], b[c0 + o1], b[c0 + o2], b[c0 + o3]);
    let m1 = mat4x4<f32>(b[c1 + o0], b[c1 + o1], b[c1 + o2], b[c1 + o3]);
    let m2 = mat4x4<f32>(b[c2 + o0], b[c2 + o1], b[c2 + o2], b[c2 + o3]);
    let m3 = mat4x4<f32>(b[c3 + o0], b[c3 + o1], b[c3 + o2], b[c3 + o3]);
    let d0 = a[y0 + k];
    a0_0 += m0 * d0;
    a0_1 += m1 * d0;
    a0_2 += m2 * d0;
    a0_3 += m3 * d0;
    let d1 = a[y1 + k];
    a1_0 += m0 * d1;
    a1_1 += m1 * d1;
    a1_2 += m2 * d1;
    a1_3 += m3 * d1;
    let d2 = a[y2 + k];
    a2_0 += m0 * d2;
    a2_1 += m1 * d2;
    a2_2 += m2 * d2;
    a2_3 += m3 * d2;
    let d3 = a[y3 + k];
    a3_0 += m0 * d3;
    a3_1 += m1 * d3;
    a3_2 += m2 * d3;
    a3_3 += m3 * d3;
    let d4 = a[y4 + k];
    a4_0 += m0 * d4;
    a4_1 += m1 * d4;
    a4_2 += m2 * d4;
    a4_3 += m3 * d4;
    let d5 = a[y5 + k];
    a5_0 += m0 * d5;
    a5_1 += m1 * d5;
    a5_2 += m2 * d5;
    a5_3 += m3 * d5;
    let d6 = a[y6 + k];
    a6_0 += m0 * d6;
    a6_1 += m1 * d6;
    a6_2 += m2 * d6;
    a6_3 += m3 * d6;
    let d7 = a[y7 + k];
    a7_0 += m0 * d7;
    a7_1 += m1 * d7;
    a7_2 += m2 * d7;
    a7_3 += m3 * d7;
    let d8 = a[y8 + k];
    a8_0 += m0 * d8;
    a8_1 += m1 * d8;
    a8_2 += m2 * d8;
    a8_3 += m3 * d8;
    let d9 = a[y9 + k];
    a9_0 += m0 * d9;
    a9_1 += m1 * d9;
    a9_2 += m2 * d9;
    a9_3 += m3 * d9;
    let d10 = a[y10 + k];
    a10_0 += m0 * d10;
    a10_1 += m1 * d10;
    a10_2 += m2 * d10;
    a10_3 += m3 * d10;
    let d11 = a[y11 + k];
    a11_0 += m0 * d11;
    a11_1 += m1 * d11;
    a11_2 += m2 * d11;
    a11_3 += m3 * d11;
    let d12 = a[y12 + k];
    a12_0 += m0 * d12;
    a12_1 += m1 * d12;
    a12_2 += m2 * d12;
    a12_3 += m3 * d12;
    let d13 = a[y13 + k];
    a13_0 += m0 * d13;
    a13_1 += m1 * d13;
    a13_2 += m2 * d13;
    a13_3 += m3 * d13;
    let d14 = a[y14 + k];
    a14_0 += m0 * d14;
    a14_1 += m1 * d14;
    a14_2 += m2 * d14;
    a14_3 += m3 * d14;
    let d15 = a[y15 + k];
    a15_0 += m0 * d15;
    a15_1 += m1 * d15;
    a15_2 += m2 * d15;
    a15_3 += m3 * d15;
  }
  if (q0 + 0u < qi) {
    store_rows(0u, r0 + 0u, p.rows, qi, q0 + 0u, input_epilogue(a0_0, min(r0 + 0u, lr), q0 + 0u), input_epilogue(a1_0, min(r0 + 1u, lr), q0 + 0u), input_epilogue(a2_0, min(r0 + 2u, lr), q0 + 0u), input_epilogue(a3_0, min(r0 + 3u, lr), q0 + 0u));
    if (r0 + 4u < p.rows) {
      store_rows(0u, r0 + 4u, p.rows, qi, q0 + 0u, input_epilogue(a4_0, min(r0 + 4u, lr), q0 + 0u), input_epilogue(a5_0, min(r0 + 5u, lr), q0 + 0u), input_epilogue(a6_0, min(r0 + 6u, lr), q0 + 0u), input_epilogue(a7_0, min(r0 + 7u, lr), q0 + 0u));
    }
    if (r0 + 8u < p.rows) {
      store_rows(0u, r0 + 8u, p.rows, qi, q0 + 0u, input_epilogue(a8_0, min(r0 + 8u, lr), q0 + 0u), input_epilogue(a9_0, min(r0 + 9u, lr), q0 + 0u), input_epilogue(a10_0, min(r0 + 10u, lr), q0 + 0u), input_epilogue(a11_0, min(r0 + 11u, lr), q0 + 0u));
    }
    if (r0 + 12u < p.rows) {
      store_rows(0u, r0 + 12u, p.rows, qi, q0 + 0u, input_epilogue(a12_0, min(r0 + 12u, lr), q0 + 0u), input_epilogue(a13_0, min(r0 + 13u, lr), q0 + 0u), input_epilogue(a14_0, min(r0 + 14u, lr), q0 + 0u), input_epilogue(a15_0, min(r0 + 15u, lr), q0 + 0u));
    }
  }
  if (q0 + 1u < qi) {
    store_rows(0u, r0 + 0u, p.rows, qi, q0 + 1u, input_epilogue(a0_1, min(r0 + 0u, lr), q0 + 1u), input_epilogue(a1_1, min(r0 + 1u, lr), q0 + 1u), input_epilogue(a2_1, min(r0 + 2u, lr), q0 + 1u), input_epilogue(a3_1, min(r0 + 3u, lr), q0 + 1u));
    if (r0 + 4u < p.rows) {
      store_rows(0u, r0 + 4u, p.rows, qi, q0 + 1u, input_epilogue(a4_1, min(r0 + 4u, lr), q0 + 1u), input_epilogue(a5_1, min(r0 + 5u, lr), q0 + 1u), input_epilogue(a6_1, min(r0 + 6u, lr), q0 + 1u), input_epilogue(a7_1, min(r0 + 7u, lr), q0 + 1u));
    }
    if (r0 + 8u < p.rows) {
      store_rows(0u, r0 + 8u, p.rows, qi, q0 + 1u, input_epilogue(a8_1, min(r0 + 8u, lr), q0 + 1u), input_epilogue(a9_1, min(r0 + 9u, lr), q0 + 1u), input_epilogue(a10_1, min(r0 + 10u, lr), q0 + 1u), input_epilogue(a11_1, min(r0 + 11u, lr), q0 + 1u));
    }
    if (r0 + 12u < p.rows) {
      store_rows(0u, r0 + 12u, p.rows, qi, q0 + 1u, input_epilogue(a12_1, min(r0 + 12u, lr), q0 + 1u), input_epilogue(a13_1, min(r0 + 13u, lr), q0 + 1u), input_epilogue(a14_1, min(r0 + 14u, lr), q0 + 1u), input_epilogue(a15_1, min(r0 + 15u, lr), q0 + 1u));
    }
  }
  if (q0 + 2u < qi) {
    store_rows(0u, r0 + 0u, p.rows, qi, q0 + 2u, input_epilogue(a0_2, min(r0 + 0u, lr), q0 + 2u), input_epilogue(a1_2, min(r0 + 1u, lr), q0 + 2u), input_epilogue(a2_2, min(r0 + 2u, lr), q0 + 2u), input_epilogue(a3_2, min(r0 + 3u, lr), q0 + 2u));
    if (r0 + 4u < p.rows) {
      store_rows(0u, r0 + 4u, p.rows, qi, q0 + 2u, input_epilogue(a4_2, min(r0 + 4u, lr), q0 + 2u), input_epilogue(a5_2, min(r0 + 5u, lr), q0 + 2u), input_epilogue(a6_2, min(r0 + 6u, lr), q0 + 2u), input_epilogue(a7_2, min(r0 + 7u, lr), q0 + 2u));
    }
    if (r0 + 8u < p.rows) {
      store_rows(0u, r0 + 8u, p.rows, qi, q0 + 2u, input_epilogue(a8_2, min(r0 + 8u, lr), q0 + 2u), input_epilogue(a9_2, min(r0 + 9u, lr), q0 + 2u), input_epilogue(a10_2, min(r0 + 10u, lr), q0 + 2u), input_epilogue(a11_2, min(r0 + 11u, lr), q0 + 2u));
    }
    if (r0 + 12u < p.rows) {
      store_rows(0u, r0 + 12u, p.rows, qi, q0 + 2u, input_epilogue(a12_2, min(r0 + 12u, lr), q0 + 2u), input_epilogue(a13_2, min(r0 + 13u, lr), q0 + 2u), input_epilogue(a14_2, min(r0 + 14u, lr), q0 + 2u), input_epilogue(a15_2, min(r0 + 15u, lr), q0 + 2u));
    }
  }
  if (q0 + 3u < qi) {
    store_rows(0u, r0 + 0u, p.rows, qi, q0 + 3u, input_epilogue(a0_3, min(r0 + 0u, lr), q0 + 3u), input_epilogue(a1_3, min(r0 + 1u, lr), q0 + 3u), input_epilogue(a2_3, min(r0 + 2u, lr), q0 + 3u), input_epilogue(a3_3, min(r0 + 3u, lr), q0 + 3u));
    if (r0 + 4u < p.rows) {
      store_rows(0u, r0 + 4u, p.rows, qi, q0 + 3u, input_epilogue(a4_3, min(r0 + 4u, lr), q0 + 3u), input_epilogue(a5_3, min(r0 + 5u, lr), q0 + 3u), input_epilogue(a6_3, min(r0 + 6u, lr), q0 + 3u), input_epilogue(a7_3, min(r0 + 7u, lr), q0 + 3u));
    }
    if (r0 + 8u < p.rows) {
      store_rows(0u, r0 + 8u, p.rows, qi, q0 + 3u, input_epilogue(a8_3, min(r0 + 8u, lr), q0 + 3u), input_epilogue(a9_3, min(r0 + 9u, lr), q0 + 3u), input_epilogue(a10_3, min(r0 + 10u, lr), q0 + 3u), input_epilogue(a11_3, min(r0 + 11u, lr), q0 + 3u));
    }
    if (r0 + 12u < p.rows) {
      store_rows(0u, r0 + 12u, p.rows, qi, q0 + 3u, input_epilogue(a12_3, min(r0 + 12u, lr), q0 + 3u), input_epilogue(a13_3, min(r0 + 13u, lr), q0 + 3u), input_epilogue(a14_3, min(r0 + 14u, lr), q0 + 3u), input_epilogue(a15_3, min(r0 + 15u, lr), q0 + 3u));
    }
  }
}

// dW (OUT, IN) = dyᵀ (OUT, B) · x (B, IN), written into the flat gradient buffer at
// weight_offset, and db = Σ_B dy at bias_offset (the direct form needs no
// linear_backward_bias). Invocation: W rows n0..n0+15 × column quads q0..q0+3, outer
// products over B. dy and x quads past OUT and IN are clamped; their results are never
// stored.
@compute @workgroup_size(DIRECT_X, DIRECT_Y, 1)
fn linear_backward_weight(@builtin(global_invocation_id) gid: vec3<u32>) {
  let q0 = gid.x * 4u;
  let n0 = gid.y * 16u;
  let qi = quads(p.in_features);
  if (q0 >= qi || n0 >= p.out_features) {
    return;
  }
  let qo = quads(p.out_features);
  let e0 = min(n0 / 4u + 0u, qo - 1u);
  let e1 = min(n0 / 4u + 1u, qo - 1u);
  let e2 = min(n0 / 4u + 2u, qo - 1u);
  let e3 = min(n0 / 4u + 3u, qo - 1u);
  let c0 = min(q0 + 0u, qi - 1u);
  let c1 = min(q0 + 1u, qi - 1u);
  let c2 = min(q0 + 2u, qi - 1u);
  let c3 = min(q0 + 3u, qi - 1u);
  var a0_0 = vec4<f32>(0.0);
  var a0_1 = vec4<f32>(0.0);
  var a0_2 = vec4<f32>(0.0);
  var a0_3 = vec4<f32>(0.0);
  var a1_0 = vec4<f32>(0.0);
  var a1_1 = vec4<f32>(0.0);
  var a1_2 = vec4<f32>(0.0);
  var a1_3 = vec4<f32>(0.0);
  var a2_0 = vec4<f32>(0.0);
  var a2_1 = vec4<f32>(0.0);
  var a2_2 = vec4<f32>(0.0);
  var a2_3 = vec4<f32>(0.0);
  var a3_0 = vec4<f32>(0.0);
  var a3_1 = vec4<f32>(0.0);
  var a3_2 = vec4<f32>(0.0);
  var a3_3 = vec4<f32>(0.0);
  var a4_0 = vec4<f32>(0.0);
  var a4_1 = vec4<f32>(0.0);
  var a4_2 = vec4<f32>(0.0);
  var a4_3 = vec4<f32>(0.0);
  var a5_0 = vec4<f32>(0.0);
  var a5_1 = vec4<f32>(0.0);
  var a5_2 = vec4<f32>(0.0);
  var a5_3 = vec4<f32>(0.0);
  var a6_0 = vec4<f32>(0.0);
  var a6_1 = vec4<f32>(0.0);
  var a6_2 = vec4<f32>(0.0);
  var a6_3 = vec4<f32>(0.0);
  var a7_0 = vec4<f32>(0.0);
  var a7_1 = vec4<f32>(0.0);
  var a7_2 = vec4<f32>(0.0);
  var a7_3 = vec4<f32>(0.0);
  var a8_0 = vec4<f32>(0.0);
  var a8_1 = vec4<f32>(0.0);
  var a8_2 = vec4<f32>(0.0);
  var a8_3 = vec4<f32>(0.0);
  var a9_0 = vec4<f32>(0.0);
  var a9_1 = vec4<f32>(0.0);
  var a9_2 = vec4<f32>(0.0);
  var a9_3 = vec4<f32>(0.0);
  var a10_0 = vec4<f32>(0.0);
  var a10_1 = vec4<f32>(0.0);
  var a10_2 = vec4<f32>(0.0);
  var a10_3 = vec4<f32>(0.0);
  var a11_0 = vec4<f32>(0.0);
  var a11_1 = vec4<f32>(0.0);
  var a11_2 = vec4<f32>(0.0);
  var a11_3 = vec4<f32>(0.0);
  var a12_0 = vec4<f32>(0.0);
  var a12_1 = vec4<f32>(0.0);
  var a12_2 = vec4<f32>(0.0);
  var a12_3 = vec4<f32>(0.0);
  var a13_0 = vec4<f32>(0.0);
  var a13_1 = vec4<f32>(0.0);
  var a13_2 = vec4<f32>(0.0);
  var a13_3 = vec4<f32>(0.0);
  var a14_0 = vec4<f32>(0.0);
  var a14_1 = vec4<f32>(0.0);
  var a14_2 = vec4<f32>(0.0);
  var a14_3 = vec4<f32>(0.0);
  var a15_0 = vec4<f32>(0.0);
  var a15_1 = vec4<f32>(0.0);
  var a15_2 = vec4<f32>(0.0);
  var a15_3 = vec4<f32>(0.0);
  var bias0 = vec4<f32>(0.0);
  var bias1 = vec4<f32>(0.0);
  var bias2 = vec4<f32>(0.0);
  var bias3 = vec4<f32>(0.0);
  for (var m = 0u; m < p.rows; m++) {
    let d0 = a[m * qo + e0];
    let d1 = a[m * qo + e1];
    let d2 = a[m * qo + e2];
    let d3 = a[m * qo + e3];
    let x0 = b[m * qi + c0];
    let x1 = b[m * qi + c1];
    let x2 = b[m * qi + c2];
    let x3 = b[m * qi + c3];
    bias0 += d0;
    bias1 += d1;
    bias2 += d2;
    bias3 += d3;
    a0_0 += d0.x * x0;
    a0_1 += d0.x * x1;
    a0_2 += d0.x * x2;
    a0_3 += d0.x * x3;
    a1_0 += d0.y * x0;
    a1_1 += d0.y * x1;
    a1_2 += d0.y * x2;
    a1_3 += d0.y * x3;
    a2_0 += d0.z * x0;
    a2_1 += d0.z * x1;
    a2_2 += d0.z * x2;
    a2_3 += d0.z * x3;
    a3_0 += d0.w * x0;
    a3_1 += d0.w * x1;
    a3_2 += d0.w * x2;
    a3_3 += d0.w * x3;
    a4_0 += d1.x * x0;
    a4_1 += d1.x * x1;
    a4_2 += d1.x * x2;
    a4_3 += d1.x * x3;
    a5_0 += d1.y * x0;
    a5_1 += d1.y * x1;
    a5_2 += d1.y * x2;
    a5_3 += d1.y * x3;
    a6_0 += d1.z * x0;
    a6_1 += d1.z * x1;
    a6_2 += d1.z * x2;
    a6_3 += d1.z * x3;
    a7_0 += d1.w * x0;
    a7_1 += d1.w * x1;
    a7_2 += d1.w * x2;
    a7_3 += d1.w * x3;
    a8_0 += d2.x * x0;
    a8_1 += d2.x * x1;
    a8_2 += d2.x * x2;
    a8_3 += d2.x * x3;
    a9_0 += d2.y * x0;
    a9_1 += d2.y * x1;
    a9_2 += d2.y * x2;
    a9_3 += d2.y * x3;
    a10_0 += d2.z * x0;
    a10_1 += d2.z * x1;
    a10_2 += d2.z * x2;
    a10_3 += d2.z * x3;
    a11_0 += d2.w * x0;
    a11_1 += d2.w * x1;
    a11_2 += d2.w * x2;
    a11_3 += d2.w * x3;
    a12_0 += d3.x * x0;
    a12_1 += d3.x * x1;
    a12_2 += d3.x * x2;
    a12_3 += d3.x * x3;
    a13_0 += d3.y * x0;
    a13_1 += d3.y * x1;
    a13_2 += d3.y * x2;
    a13_3 += d3.y * x3;
    a14_0 += d3.z * x0;
    a14_1 += d3.z * x1;
    a14_2 += d3.z * x2;
    a14_3 += d3.z * x3;
    a15_0 += d3.w * x0;
    a15_1 += d3.w * x1;
    a15_2 += d3.w * x2;
    a15_3 += d3.w * x3;
  }
  let wb = p.weight_offset / 4u;
  if (q0 + 0u < qi) {
    store_rows(wb, n0 + 0u, p.out_features, qi, q0 + 0u, a0_0, a1_0, a2_0, a3_0);
    if (n0 + 4u < p.out_features) {
      store_rows(wb, n0 + 4u, p.out_features, qi, q0 + 0u, a4_0, a5_0, a6_0, a7_0);
    }
    if (n0 + 8u < p.out_features) {
      store_rows(wb, n0 + 8u, p.out_features, qi, q0 + 0u, a8_0, a9_0, a10_0, a11_0);
    }
    if (n0 + 12u < p.out_features) {
      store_rows(wb, n0 + 12u, p.out_features, qi, q0 + 0u, a12_0, a13_0, a14_0, a15_0);
    }
  }
  if (q0 + 1u < qi) {
    store_rows(wb, n0 + 0u, p.out_features, qi, q0 + 1u, a0_1, a1_1, a2_1, a3_1);
    if (n0 + 4u < p.out_features) {
      store_rows(wb, n0 + 4u, p.out_features, qi, q0 + 1u, a4_1, a5_1, a6_1, a7_1);
    }
    if (n0 + 8u < p.out_features) {
      store_rows(wb, n0 + 8u, p.out_features, qi, q0 + 1u, a8_1, a9_1, a10_1, a11_1);
    }
    if (n0 + 12u < p.out_features) {
      store_rows(wb, n0 + 12u, p.out_features, qi, q0 + 1u, a12_1, a13_1, a14_1, a15_1);
    }
  }
  if (q0 + 2u < qi) {
    store_rows(wb, n0 + 0u, p.out_features, qi, q0 + 2u, a0_2, a1_2, a2_2, a3_2);
    if (n0 + 4u < p.out_features) {
      store_rows(wb, n0 + 4u, p.out_features, qi, q0 + 2u, a4_2, a5_2, a6_2, a7_2);
    }
    if (n0 + 8u < p.out_features) {
      store_rows(wb, n0 + 8u, p.out_features, qi, q0 + 2u, a8_2, a9_2, a10_2, a11_2);
    }
    if (n0 + 12u < p.out_features) {
      store_rows(wb, n0 + 12u, p.out_features, qi, q0 + 2u, a12_2, a13_2, a14_2, a15_2);
    }
  }
  if (q0 + 3u < qi) {
    store_rows(wb, n0 + 0u, p.out_features, qi, q0 + 3u, a0_3, a1_3, a2_3, a3_3);
    if (n0 + 4u < p.out_features) {
      store_rows(wb, n0 + 4u, p.out_features, qi, q0 + 3u, a4_3, a5_3, a6_3, a7_3);
    }
    if (n0 + 8u < p.out_features) {
      store_rows(wb, n0 + 8u, p.out_features, qi, q0 + 3u, a8_3, a9_3, a10_3, a11_3);
    }
    if (n0 + 12u < p.out_features) {
      store_rows(wb, n0 + 12u, p.out_features, qi, q0 + 3u, a12_3, a13_3, a14_3, a15_3);
    }
  }
  if (q0 == 0u) {
    store_bias4(n0 + 0u, bias0);
    store_bias4(n0 + 4u, bias1);
    store_bias4(n0 + 8u, bias2);
    store_bias4(n0 + 12u, bias3);
  }
}

// SUBGROUP KERNELS BEGIN
// The direct kernels with shared loads through subgroupBroadcast. kernels::linear cuts
// this section out for devices without the subgroups feature (naga rejects the builtins
// there) and uses these only where every subgroup has at least 8 lanes (lavapipe: 8).

// y (B, OUT) = act(x (B, IN) · Wᵀ + b). Invocation: rows r0..r0+31 × output column quads
// q0..q0+3, dot products of vec4s along IN (v * M: four W rows at once). Rows past B and
// W rows past OUT are clamped to valid ones; their results are never stored.
// Subgroup form (adapters with subgroups of ≥ 8 lanes, see SUBGROUP KERNELS above): 32
// rows per invocation, loaded by lanes 0..7, 4 rows each, and broadcast, instead of by
// every lane: the lanes of a subgroup share r0 (DIRECT_Y = 1). Same sums in the same order
// as the direct kernel, so the same bits.
@compute @workgroup_size(DIRECT_X, DIRECT_Y, 1)
fn linear_forward_subgroup(@builtin(global_invocation_id) gid: vec3<u32>,
    @builtin(subgroup_invocation_id) lane: u32) {
  let q0 = gid.x * 4u;
  let r0 = gid.y * 32u;
  let qo = quads(p.out_features);
  let dead = q0 >= qo || r0 >= p.rows;
  if (subgroupAll(dead)) {
    return;
  }
  let qi = quads(p.in_features);
  let lr = p.rows - 1u;
  let lo = p.out_features - 1u;
  let wb = p.weight_offset / 4u;
  let xs0 = min(r0 + 0u + lane, lr) * qi;
  let xs1 = min(r0 + 8u + lane, lr) * qi;
  let xs2 = min(r0 + 16u + lane, lr) * qi;
  let xs3 = min(r0 + 24u + lane, lr) * qi;
  let w0 = wb + min(q0 * 4u + 0u, lo) * qi;
  let w1 = wb + min(q0 * 4u + 1u, lo) * qi;
  let w2 = wb + min(q0 * 4u + 2u, lo) * qi;
  let w3 = wb + min(q0 * 4u + 3u, lo) * qi;
  let w4 = wb + min(q0 * 4u + 4u, lo) * qi;
  let w5 = wb + min(q0 * 4u + 5u, lo) * qi;
  let w6 = wb + min(q0 * 4u + 6u, lo) * qi;
  let w7 = wb + min(q0 * 4u + 7u, lo) * qi;
  let w8 = wb + min(q0 * 4u + 8u, lo) * qi;
  let w9 = wb + min(q0 * 4u + 9u, lo) * qi;
  let w10 = wb + min(q0 * 4u + 10u, lo) * qi;
  let w11 = wb + min(q0 * 4u + 11u, lo) * qi;
  let w12 = wb + min(q0 * 4u + 12u, lo) * qi;
  let w13 = wb + min(q0 * 4u + 13u, lo) * qi;
  let w14 = wb + min(q0 * 4u + 14u, lo) * qi;
  let w15 = wb + min(q0 * 4u + 15u, lo) * qi;
  var a0_0 = vec4<f32>(0.0);
  var a0_1 = vec4<f32>(0.0);
  var a0_2 = vec4<f32>(0.0);
  var a0_3 = vec4<f32>(0.0);
  var a1_0 = vec4<f32>(0.0);
  var a1_1 = vec4<f32>(0.0);
  var a1_2 = vec4<f32>(0.0);
  var a1_3 = vec4<f32>(0.0);
  var a2_0 = vec4<f32>(0.0);
  var a2_1 = vec4<f32>(0.0);
  var a2_2 = vec4<f32>(0.0);
  var a2_3 = vec4<f32>(0.0);
  var a3_0 = vec4<f32>(0.0);
  var a3_1 = vec4<f32>(0.0);
  var a3_2 = vec4<f32>(0.0);
  var a3_3 = vec4<f32>(0.0);
  var a4_0 = vec4<f32>(0.0);
  var a4_1 = vec4<f32>(0.0);
  var a4_2 = vec4<f32>(0.0);
  var a4_3 = vec4<f32>(0.0);
  var a5_0 = vec4<f32>(0.0);
  var a5_1 = vec4<f32>(0.0);
  var a5_2 = vec4<f32>(0.0);
  var a5_3 = vec4<f32>(0.0);
  var a6_0 = vec4<f32>(0.0);
  var a6_1 = vec4<f32>(0.0);
  var a6_2 = vec4<f32>(0.0);
  var a6_3 = vec4<f32>(0.0);
  var a7_0 = vec4<f32>(0.0);
  var a7_1 = vec4<f32>(0.0);
  var a7_2 = vec4<f32>(0.0);
  var a7_3 = vec4<f32>(0.0);
  var a8_0 = vec4<f32>(0.0);
  var a8_1 = vec4<f32>(0.0);
  var a8_2 = vec4<f32>(0.0);
  var a8_3 = vec4<f32>(0.0);
  var a9_0 = vec4<f32>(0.0);
  var a9_1 = vec4<f32>(0.0);
  var a9_2 = vec4<f32>(0.0);
  var a9_3 = vec4<f32>(0.0);
  var a10_0 = vec4<f32>(0.0);
  var a10_1 = vec4<f32>(0.0);
  var a10_2 = vec4<f32>(0.0);
  var a10_3 = vec4<f32>(0.0);
  var a11_0 = vec4<f32>(0.0);
  var a11_1 = vec4<f32>(0.0);
  var a11_2 = vec4<f32>(0.0);
  var a11_3 = vec4<f32>(0.0);
  var a12_0 = vec4<f32>(0.0);
  var a12_1 = vec4<f32>(0.0);
  var a12_2 = vec4<f32>(0.0);
  var a12_3 = vec4<f32>(0.0);
  var a13_0 = vec4<f32>(0.0);
  var a13_1 = vec4<f32>(0.0);
  var a13_2 = vec4<f32>(0.0);
  var a13_3 = vec4<f32>(0.0);
  var a14_0 = vec4<f32>(0.0);
  var a14_1 = vec4<f32>(0.0);
  var a14_2 = vec4<f32>(0.0);
  var a14_3 = vec4<f32>(0.0);
  var a15_0 = vec4<f32>(0.0);
  var a15_1 = vec4<f32>(0.0);
  var a15_2 = vec4<f32>(0.0);
  var a15_3 = vec4<f32>(0.0);
  var a16_0 = vec4<f32>(0.0);
  var a16_1 = vec4<f32>(0.0);
  var a16_2 = vec4<f32>(0.0);
  var a16_3 = vec4<f32>(0.0);
  var a17_0 = vec4<f32>(0.0);
  var a17_1 = vec4<f32>(0.0);
  var a17_2 = vec4<f32>(0.0);
  var a17_3 = vec4<f32>(0.0);
  var a18_0 = vec4<f32>(0.0);
  var a18_1 = vec4<f32>(0.0);
  var a18_2 = vec4<f32>(0.0);
  var a18_3 = vec4<f32>(0.0);
  var a19_0 = vec4<f32>(0.0);
  var a19_1 = vec4<f32>(0.0);
  var a19_2 = vec4<f32>(0.0);
  var a19_3 = vec4<f32>(0.0);
  var a20_0 = vec4<f32>(0.0);
  var a20_1 = vec4<f32>(0.0);
  var a20_2 = vec4<f32>(0.0);
  var a20_3 = vec4<f32>(0.0);
  var a21_0 = vec4<f32>(0.0);
  var a21_1 = vec4<f32>(0.0);
  var a21_2 = vec4<f32>(0.0);
  var a21_3 = vec4<f32>(0.0);
  var a22_0 = vec4<f32>(0.0);
  var a22_1 = vec4<f32>(0.0);
  var a22_2 = vec4<f32>(0.0);
  var a22_3 = vec4<f32>(0.0);
  var a23_0 = vec4<f32>(0.0);
  var a23_1 = vec4<f32>(0.0);
  var a23_2 = vec4<f32>(0.0);
  var a23_3 = vec4<f32>(0.0);
  var a24_0 = vec4<f32>(0.0);
  var a24_1 = vec4<f32>(0.0);
  var a24_2 = vec4<f32>(0.0);
  var a24_3 = vec4<f32>(0.0);
  var a25_0 = vec4<f32>(0.0);
  var a25_1 = vec4<f32>(0.0);
  var a25_2 = vec4<f32>(0.0);
  var a25_3 = vec4<f32>(0.0);
  var a26_0 = vec4<f32>(0.0);
  var a26_1 = vec4<f32>(0.0);
  var a26_2 = vec4<f32>(0.0);
  var a26_3 = vec4<f32>(0.0);
  var a27_0 = vec4<f32>(0.0);
  var a27_1 = vec4<f32>(0.0);
  var a27_2 = vec4<f32>(0.0);
  var a27_3 = vec4<f32>(0.0);
  var a28_0 = vec4<f32>(0.0);
  var a28_1 = vec4<f32>(0.0);
  var a28_2 = vec4<f32>(0.0);
  var a28_3 = vec4<f32>(0.0);
  var a29_0 = vec4<f32>(0.0);
  var a29_1 = vec4<f32>(0.0);
  var a29_2 = vec4<f32>(0.0);
  var a29_3 = vec4<f32>(0.0);
  var a30_0 = vec4<f32>(0.0);
  var a30_1 = vec4<f32>(0.0);
  var a30_2 = vec4<f32>(0.0);
  var a30_3 = vec4<f32>(0.0);
  var a31_0 = vec4<f32>(0.0);
  var a31_1 = vec4<f32>(0.0);
  var a31_2 = vec4<f32>(0.0);
  var a31_3 = vec4<f32>(0.0);
  for (var k = 0u; k < qi; k++) {
    let m0 = mat4x4<f32>(b[w0 + k], b[w1 + k], b[w2 + k], b[w3 + k]);
    let m1 = mat4x4<f32>(b[w4 + k], b[w5 + k], b[w6 + k], b[w7 + k]);
    let m2 = mat4x4<f32>(b[w8 + k], b[w9 + k], b[w10 + k], b[w11 + k]);
    let m3 = mat4x4<f32>(b[w12 + k], b[w13 + k], b[w14 + k], b[w15 + k]);
    let vs0 = a[xs0 + k];
    let v0 = subgroupBroadcast(vs0, 0u);
    a0_0 += v0 * m0;
    a0_1 += v0 * m1;
    a0_2 += v0 * m2;
    a0_3 += v0 * m3;
    let v1 = subgroupBroadcast(vs0, 1u);
    a1_0 += v1 * m0;
    a1_1 += v1 * m1;
    a1_2 += v1 * m2;
    a1_3 += v1 * m3;
    let v2 = subgroupBroadcast(vs0, 2u);
    a2_0 += v2 * m0;
    a2_1 += v2 * m1;
    a2_2 += v2 * m2;
    a2_3 += v2 * m3;
    let v3 = subgroupBroadcast(vs0, 3u);
    a3_0 += v3 * m0;
    a3_1 += v3 * m1;
    a3_2 += v3 * m2;
    a3_3 += v3 * m3;
    let v4 = subgroupBroadcast(vs0, 4u);
    a4_0 += v4 * m0;
    a4_1 += v4 * m1;
    a4_2 += v4 * m2;
    a4_3 += v4 * m3;
    let v5 = subgroupBroadcast(vs0, 5u);
    a5_0 += v5 * m0;
    a5_1 += v5 * m1;
    a5_2 += v5 * m2;
    a5_3 += v5 * m3;
    let v6 = subgroupBroadcast(vs0, 6u);
    a6_0 += v6 * m0;
    a6_1 += v6 * m1;
    a6_2 += v6 * m2;
    a6_3 += v6 * m3;
    let v7 = subgroupBroadcast(vs0, 7u);
    a7_0 += v7 * m0;
    a7_1 += v7 * m1;
    a7_2 += v7 * m2;
    a7_3 += v7 * m3;
    let vs1 = a[xs1 + k];
    let v8 = subgroupBroadcast(vs1, 0u);
    a8_0 += v8 * m0;
    a8_1 += v8 * m1;
    a8_2 += v8 * m2;
    a8_3 += v8 * m3;
    let v9 = subgroupBroadcast(vs1, 1u);
    a9_0 += v9 * m0;
    a9_1 += v9 * m1;
    a9_2 += v9 * m2;
    a9_3 += v9 * m3;
    let v10 = subgroupBroadcast(vs1, 2u);
    a10_0 += v10 * m0;
    a10_1 += v10 * m1;
    a10_2 += v10 * m2;
    a10_3 += v10 * m3;
    let v11 = subgroupBroadcast(vs1, 3u);
    a11_0 += v11 * m0;
    a11_1 += v11 * m1;
    a11_2 += v11 * m2;
    a11_3 += v11 * m3;
    let v12 = subgroupBroadcast(vs1, 4u);
    a12_0 += v12 * m0;
    a12_1 += v12 * m1;
    a12_2 += v12 * m2;
    a12_3 += v12 * m3;
    let v13 = subgroupBroadcast(vs1, 5u);
    a13_0 += v13 * m0;
    a13_1 += v13 * m1;
    a13_2 += v13 * m2;
    a13_3 += v13 * m3;
    let v14 = subgroupBroadcast(vs1, 6u);
    a14_0 += v14 * m0;
    a14_1 += v14 * m1;
    a14_2 += v14 * m2;
    a14_3 += v14 * m3;
    let v15 = subgroupBroadcast(vs1, 7u);
    a15_0 += v15 * m0;
    a15_1 += v15 * m1;
    a15_2 += v15 * m2;
    a15_3 += v15 * m3;
    let vs2 = a[xs2 + k];
    let v16 = subgroupBroadcast(vs2, 0u);
    a16_0 += v16 * m0;
    a16_1 += v16 * m1;
    a16_2 += v16 * m2;
    a16_3 += v16 * m3;
    let v17 = subgroupBroadcast(vs2, 1u);
    a17_0 += v17 * m0;
    a17_1 += v17 * m1;
    a17_2 += v17 * m2;
    a17_3 += v17 * m3;
    let v18 = subgroupBroadcast(vs2, 2u);
    a18_0 += v18 * m0;
    a18_1 += v18 * m1;
    a18_2 += v18 * m2;
    a18_3 += v18 * m3;
    let v19 = subgroupBroadcast(vs2, 3u);
    a19_0 += v19 * m0;
    a19_1 += v19 * m1;
    a19_2 += v19 * m2;
    a19_3 += v19 * m3;
    let v20 = subgroupBroadcast(vs2, 4u);
    a20_0 += v20 * m0;
    a20_1 += v20 * m1;
    a20_2 += v20 * m2;
    a20_3 += v20 * m3;
    let v21 = subgroupBroadcast(vs2, 5u);
    a21_0 += v21 * m0;
    a21_1 += v21 * m1;
    a21_2 += v21 * m2;
    a21_3 += v21 * m3;
    let v22 = subgroupBroadcast(vs2, 6u);
    a22_0 += v22 * m0;
    a22_1 += v22 * m1;
    a22_2 += v22 * m2;
    a22_3 += v22 * m3;
    let v23 = subgroupBroadcast(vs2, 7u);
    a23_0 += v23 * m0;
    a23_1 += v23 * m1;
    a23_2 += v23 * m2;
    a23_3 += v23 * m3;
    let vs3 = a[xs3 + k];
    let v24 = subgroupBroadcast(vs3, 0u);
    a24_0 += v24 * m0;
    a24_1 += v24 * m1;
    a24_2 += v24 * m2;
    a24_3 += v24 * m3;
    let v25 = subgroupBroadcast(vs3, 1u);
    a25_0 += v25 * m0;
    a25_1 += v25 * m1;
    a25_2 += v25 * m2;
    a25_3 += v25 * m3;
    let v26 = subgroupBroadcast(vs3, 2u);
    a26_0 += v26 * m0;
    a26_1 += v26 * m1;
    a26_2 += v26 * m2;
    a26_3 += v26 * m3;
    let v27 = subgroupBroadcast(vs3, 3u);
    a27_0 += v27 * m0;
    a27_1 += v27 * m1;
    a27_2 += v27 * m2;
    a27_3 += v27 * m3;
    let v28 = subgroupBroadcast(vs3, 4u);
    a28_0 += v28 * m0;
    a28_1 += v28 * m1;
    a28_2 += v28 * m2;
    a28_3 += v28 * m3;
    let v29 = subgroupBroadcast(vs3, 5u);
    a29_0 += v29 * m0;
    a29_1 += v29 * m1;
    a29_2 += v29 * m2;
    a29_3 += v29 * m3;
    let v30 = subgroupBroadcast(vs3, 6u);
    a30_0 += v30 * m0;
    a30_1 += v30 * m1;
    a30_2 += v30 * m2;
    a30_3 += v30 * m3;
    let v31 = subgroupBroadcast(vs3, 7u);
    a31_0 += v31 * m0;
    a31_1 += v31 * m1;
    a31_2 += v31 * m2;
    a31_3 += v31 * m3;
  }
  if (dead) {
    return;
  }
  if (q0 + 0u < qo) {
    store_rows(0u, r0 + 0u, p.rows, qo, q0 + 0u, forward_epilogue(a0_0, (q0 + 0u) * 4u), forward_epilogue(a1_0, (q0 + 0u) * 4u), forward_epilogue(a2_0, (q0 + 0u) * 4u), forward_epilogue(a3_0, (q0 + 0u) * 4u));
    if (r0 + 4u < p.rows) {
      store_rows(0u, r0 + 4u, p.rows, qo, q0 + 0u, forward_epilogue(a4_0, (q0 + 0u) * 4u), forward_epilogue(a5_0, (q0 + 0u) * 4u), forward_epilogue(a6_0, (q0 + 0u) * 4u), forward_epilogue(a7_0, (q0 + 0u) * 4u));
    }
    if (r0 + 8u < p.rows) {
      store_rows(0u, r0 + 8u, p.rows, qo, q0 + 0u, forward_epilogue(a8_0, (q0 + 0u) * 4u), forward_epilogue(a9_0, (q0 + 0u) * 4u), forward_epilogue(a10_0, (q0 + 0u) * 4u), forward_epilogue(a11_0, (q0 + 0u) * 4u));
    }
    if (r0 + 12u < p.rows) {
      store_rows(0u, r0 + 12u, p.rows, qo, q0 + 0u, forward_epilogue(a12_0, (q0 + 0u) * 4u), forward_epilogue(a13_0, (q0 + 0u) * 4u), forward_epilogue(a14_0, (q0 + 0u) * 4u), forward_epilogue(a15_0, (q0 + 0u) * 4u));
    }
    if (r0 + 16u < p.rows) {
      store_rows(0u, r0 + 16u, p.rows, qo, q0 + 0u, forward_epilogue(a16_0, (q0 + 0u) * 4u), forward_epilogue(a17_0, (q0 + 0u) * 4u), forward_epilogue(a18_0, (q0 + 0u) * 4u), forward_epilogue(a19_0, (q0 + 0u) * 4u));
    }
    if (r0 + 20u < p.rows) {
      store_rows(0u, r0 + 20u, p.rows, qo, q0 + 0u, forward_epilogue(a20_0, (q0 + 0u) * 4u), forward_epilogue(a21_0, (q0 + 0u) * 4u), forward_epilogue(a22_0, (q0 + 0u) * 4u), forward_epilogue(a23_0, (q0 + 0u) * 4u));
    }
    if (r0 + 24u < p.rows) {
      store_rows(0u, r0 + 24u, p.rows, qo, q0 + 0u, forward_epilogue(a24_0, (q0 + 0u) * 4u), forward_epilogue(a25_0, (q0 + 0u) * 4u), forward_epilogue(a26_0, (q0 + 0u) * 4u), forward_epilogue(a27_0, (q0 + 0u) * 4u));
    }
    if (r0 + 28u < p.rows) {
      store_rows(0u, r0 + 28u, p.rows, qo, q0 + 0u, forward_epilogue(a28_0, (q0 + 0u) * 4u), forward_epilogue(a29_0, (q0 + 0u) * 4u), forward_epilogue(a30_0, (q0 + 0u) * 4u), forward_epilogue(a31_0, (q0 + 0u) * 4u));
    }
  }
  if (q0 + 1u < qo) {
    store_rows(0u, r0 + 0u, p.rows, qo, q0 + 1u, forward_epilogue(a0_1, (q0 + 1u) * 4u), forward_epilogue(a1_1, (q0 + 1u) * 4u), forward_epilogue(a2_1, (q0 + 1u) * 4u), forward_epilogue(a3_1, (q0 + 1u) * 4u));
    if (r0 + 4u < p.rows) {
      store_rows(0u, r0 + 4u, p.rows, qo, q0 + 1u, forward_epilogue(a4_1, (q0 + 1u) * 4u), forward_epilogue(a5_1, (q0 + 1u) * 4u), forward_epilogue(a6_1, (q0 + 1u) * 4u), forward_epilogue(a7_1, (q0 + 1u) * 4u));
    }
    if (r0 + 8u < p.rows) {
      store_rows(0u, r0 + 8u, p.rows, qo, q0 + 1u, forward_epilogue(a8_1, (q0 + 1u) * 4u), forward_epilogue(a9_1, (q0 + 1u) * 4u), forward_epilogue(a10_1, (q0 + 1u) * 4u), forward_epilogue(a11_1, (q0 + 1u) * 4u));
    }
    if (r0 + 12u < p.rows) {
      store_rows(0u, r0 + 12u, p.rows, qo, q0 + 1u, forward_epilogue(a12_1, (q0 + 1u) * 4u), forward_epilogue(a13_1, (q0 + 1u) * 4u), forward_epilogue(a14_1, (q0 + 1u) * 4u), forward_epilogue(a15_1, (q0 + 1u) * 4u));
    }
    if (r0 + 16u < p.rows) {
      store_rows(0u, r0 + 16u, p.rows, qo, q0 + 1u, forward_epilogue(a16_1, (q0 + 1u) * 4u), forward_epilogue(a17_1, (q0 + 1u) * 4u), forward_epilogue(a18_1, (q0 + 1u) * 4u), forward_epilogue(a19_1, (q0 + 1u) * 4u));
    }
    if (r0 + 20u < p.rows) {
      store_rows(0u, r0 + 20u, p.rows, qo, q0 + 1u, forward_epilogue(a20_1, (q0 + 1u) * 4u), forward_epilogue(a21_1, (q0 + 1u) * 4u), forward_epilogue(a22_1, (q0 + 1u) * 4u), forward_epilogue(a23_1, (q0 + 1u) * 4u));
    }
    if (r0 + 24u < p.rows) {
      store_rows(0u, r0 + 24u, p.rows, qo, q0 + 1u, forward_epilogue(a24_1, (q0 + 1u) * 4u), forward_epilogue(a25_1, (q0 + 1u) * 4u), forward_epilogue(a26_1, (q0 + 1u) * 4u), forward_epilogue(a27_1, (q0 + 1u) * 4u));
    }
    if (r0 + 28u < p.rows) {
      store_rows(0u, r0 + 28u, p.rows, qo, q0 + 1u, forward_epilogue(a28_1, (q0 + 1u) * 4u), forward_epilogue(a29_1, (q0 + 1u) * 4u), forward_epilogue(a30_1, (q0 + 1u) * 4u), forward_epilogue(a31_1, (q0 + 1u) * 4u));
    }
  }
  if (q0 + 2u < qo) {
    store_rows(0u, r0 + 0u, p.rows, qo, q0 + 2u, forward_epilogue(a0_2, (q0 + 2u) * 4u), forward_epilogue(a1_2, (q0 + 2u) * 4u), forward_epilogue(a2_2, (q0 + 2u) * 4u), forward_epilogue(a3_2, (q0 + 2u) * 4u));
    if (r0 + 4u < p.rows) {
      store_rows(0u, r0 + 4u, p.rows, qo, q0 + 2u, forward_epilogue(a4_2, (q0 + 2u) * 4u), forward_epilogue(a5_2, (q0 + 2u) * 4u), forward_epilogue(a6_2, (q0 + 2u) * 4u), forward_epilogue(a7_2, (q0 + 2u) * 4u));
    }
    if (r0 + 8u < p.rows) {
      store_rows(0u, r0 + 8u, p.rows, qo, q0 + 2u, forward_epilogue(a8_2, (q0 + 2u) * 4u), forward_epilogue(a9_2, (q0 + 2u) * 4u), forward_epilogue(a10_2, (q0 + 2u) * 4u), forward_epilogue(a11_2, (q0 + 2u) * 4u));
    }
    if (r0 + 12u < p.rows) {
      store_rows(0u, r0 + 12u, p.rows, qo, q0 + 2u, forward_epilogue(a12_2, (q0 + 2u) * 4u), forward_epilogue(a13_2, (q0 + 2u) * 4u), forward_epilogue(a14_2, (q0 + 2u) * 4u), forward_epilogue(a15_2, (q0 + 2u) * 4u));
    }
    if (r0 + 16u < p.rows) {
      store_rows(0u, r0 + 16u, p.rows, qo, q0 + 2u, forward_epilogue(a16_2, (q0 + 2u) * 4u), forward_epilogue(a17_2, (q0 + 2u) * 4u), forward_epilogue(a18_2, (q0 + 2u) * 4u), forward_epilogue(a19_2, (q0 + 2u) * 4u));
    }
    if (r0 + 20u < p.rows) {
      store_rows(0u, r0 + 20u, p.rows, qo, q0 + 2u, forward_epilogue(a20_2, (q0 + 2u) * 4u), forward_epilogue(a21_2, (q0 + 2u) * 4u), forward_epilogue(a22_2, (q0 + 2u) * 4u), forward_epilogue(a23_2, (q0 + 2u) * 4u));
    }
    if (r0 + 24u < p.rows) {
      store_rows(0u, r0 + 24u, p.rows, qo, q0 + 2u, forward_epilogue(a24_2, (q0 + 2u) * 4u), forward_epilogue(a25_2, (q0 + 2u) * 4u), forward_epilogue(a26_2, (q0 + 2u) * 4u), forward_epilogue(a27_2, (q0 + 2u) * 4u));
    }
    if (r0 + 28u < p.rows) {
      store_rows(0u, r0 + 28u, p.rows, qo, q0 + 2u, forward_epilogue(a28_2, (q0 + 2u) * 4u), forward_epilogue(a29_2, (q0 + 2u) * 4u), forward_epilogue(a30_2, (q0 + 2u) * 4u), forward_epilogue(a31_2, (q0 + 2u) * 4u));
    }
  }
  if (q0 + 3u < qo) {
    store_rows(0u, r0 + 0u, p.rows, qo, q0 + 3u, forward_epilogue(a0_3, (q0 + 3u) * 4u), forward_epilogue(a1_3, (q0 + 3u) * 4u), forward_epilogue(a2_3, (q0 + 3u) * 4u), forward_epilogue(a3_3, (q0 + 3u) * 4u));
    if (r0 + 4u < p.rows) {
      store_rows(0u, r0 + 4u, p.rows, qo, q0 + 3u, forward_epilogue(a4_3, (q0 + 3u) * 4u), forward_epilogue(a5_3, (q0 + 3u) * 4u), forward_epilogue(a6_3, (q0 + 3u) * 4u), forward_epilogue(a7_3, (q0 + 3u) * 4u));
    }
    if (r0 + 8u < p.rows) {
      store_rows(0u, r0 + 8u, p.rows, qo, q0 + 3u, forward_epilogue(a8_3, (q0 + 3u) * 4u), forward_epilogue(a9_3, (q0 + 3u) * 4u), forward_epilogue(a10_3, (q0 + 3u) * 4u), forward_epilogue(a11_3, (q0 + 3u) * 4u));
    }
    if (r0 + 12u < p.rows) {
      store_rows(0u, r0 + 12u, p.rows, qo, q0 + 3u, forward_epilogue(a12_3, (q0 + 3u) * 4u), forward_epilogue(a13_3, (q0 + 3u) * 4u), forward_epilogue(a14_3, (q0 + 3u) * 4u), forward_epilogue(a15_3, (q0 + 3u) * 4u));
    }
    if (r0 + 16u < p.rows) {
      store_rows(0u, r0 + 16u, p.rows, qo, q0 + 3u, forward_epilogue(a16_3, (q0 + 3u) * 4u), forward_epilogue(a17_3, (q0 + 3u) * 4u), forward_epilogue(a18_3, (q0 + 3u) * 4u), forward_epilogue(a19_3, (q0 + 3u) * 4u));
    }
    if (r0 + 20u < p.rows) {
      store_rows(0u, r0 + 20u, p.rows, qo, q0 + 3u, forward_epilogue(a20_3, (q0 + 3u) * 4u), forward_epilogue(a21_3, (q0 + 3u) * 4u), forward_epilogue(a22_3, (q0 + 3u) * 4u), forward_epilogue(a23_3, (q0 + 3u) * 4u));
    }
    if (r0 + 24u < p.rows) {
      store_rows(0u, r0 + 24u, p.rows, qo, q0 + 3u, forward_epilogue(a24_3, (q0 + 3u) * 4u), forward_epilogue(a25_3, (q0 + 3u) * 4u), forward_epilogue(a26_3, (q0 + 3u) * 4u), forward_epilogue(a27_3, (q0 + 3u) * 4u));
    }
    if (r0 + 28u < p.rows) {
      store_rows(0u, r0 + 28u, p.rows, qo, q0 + 3u, forward_epilogue(a28_3, (q0 + 3u) * 4u), forward_epilogue(a29_3, (q0 + 3u) * 4u), forward_epilogue(a30_3, (q0 + 3u) * 4u), forward_epilogue(a31_3, (q0 + 3u) * 4u));
    }
  }
}

// dx (B, IN) = dy (B, OUT) · W (OUT, IN), times (x > 0) with FLAG_RELU_MASK. Invocation:
// rows r0..r0+31 × input column quads q0..q0+3, outer products over OUT (M * v: four W
// rows, four OUT columns per step). W rows past OUT are clamped (the matching dy columns
// are padding, hence zero); quads past IN are clamped and never stored.
// Subgroup form (adapters with subgroups of ≥ 8 lanes, see SUBGROUP KERNELS above): 32
// rows per invocation, loaded by lanes 0..7, 4 rows each, and broadcast, instead of by
// every lane: the lanes of a subgroup share r0 (DIRECT_Y = 1). Same sums in the same order
// as the direct kernel, so the same bits.
@compute @workgroup_size(DIRECT_X, DIRECT_Y, 1)
fn linear_backward_input_subgroup(@builtin(global_invocation_id) gid: vec3<u32>,
    @builtin(subgroup_invocation_id) lane: u32) {
  let q0 = gid.x * 4u;
  let r0 = gid.y * 32u;
  let qi = quads(p.in_features);
  let dead = q0 >= qi || r0 >= p.rows;
  if (subgroupAll(dead)) {
    return;
  }
  let qo = quads(p.out_features);
  let lr = p.rows - 1u;
  let lo = p.out_features - 1u;
  let wb = p.weight_offset / 4u;
  let ys0 = min(r0 + 0u + lane, lr) * qo;
  let ys1 = min(r0 + 8u + lane, lr) * qo;
  let ys2 = min(r0 + 16u + lane, lr) * qo;
  let ys3 = min(r0 + 24u + lane, lr) * qo;
  let c0 = wb + min(q0 + 0u, qi - 1u);
  let c1 = wb + min(q0 + 1u, qi - 1u);
  let c2 = wb + min(q0 + 2u, qi - 1u);
  let c3 = wb + min(q0 + 3u, qi - 1u);
  var a0_0 = vec4<f32>(0.0);
  var a0_1 = vec4<f32>(0.0);
  var a0_2 = vec4<f32>(0.0);
  var a0_3 = vec4<f32>(0.0);
  var a1_0 = vec4<f32>(0.0);
  var a1_1 = vec4<f32>(0.0);
  var a1_2 = vec4<f32>(0.0);
  var a1_3 = vec4<f32>(0.0);
  var a2_0 = vec4<f32>(0.0);
  var a2_1 = vec4<f32>(0.0);
  var a2_2 = vec4<f32>(0.0);
  var a2_3 = vec4<f32>(0.0);
  var a3_0 = vec4<f32>(0.0);
  var a3_1 = vec4<f32>(0.0);
  var a3_2 = vec4<f32>(0.0);
  var a3_3 = vec4<f32>(0.0);
  var a4_0 = vec4<f32>(0.0);
  var a4_1 = vec4<f32>(0.0);
  var a4_2 = vec4<f32>(0.0);
  var a4_3 = vec4<f32>(0.0);
  var a5_0 = vec4<f32>(0.0);
  var a5_1 = vec4<f32>(0.0);
  var a5_2 = vec4<f32>(0.0);
  var a5_3 = vec4<f32>(0.0);
  var a6_0 = vec4<f32>(0.0);
  var a6_1 = vec4<f32>(0.0);
  var a6_2 = vec4<f32>(0.0);
  var a6_3 = vec4<f32>(0.0);
  var a7_0 = vec4<f32>(0.0);
  var a7_1 = vec4<f32>(0.0);
  var a7_2 = vec4<f32>(0.0);
  var a7_3 = vec4<f32>(0.0);
  var a8_0 = vec4<f32>(0.0);
  var a8_1 = vec4<f32>(0.0);
  var a8_2 = vec4<f32>(0.0);
  var a8_3 = vec4<f32>(0.0);
  var a9_0 = vec4<f32>(0.0);
  var a9_1 = vec4<f32>(0.0);
  var a9_2 = vec4<f32>(0.0);
  var a9_3 = vec4<f32>(0.0);
  var a10_0 = vec4<f32>(0.0);
  var a10_1 = vec4<f32>(0.0);
  var a10_2 = vec4<f32>(0.0);
  var a10_3 = vec4<f32>(0.0);
  var a11_0 = vec4<f32>(0.0);
  var a11_1 = vec4<f32>(0.0);
  var a11_2 = vec4<f32>(0.0);
  var a11_3 = vec4<f32>(0.0);
  var a12_0 = vec4<f32>(0.0);
  var a12_1 = vec4<f32>(0.0);
  var a12_2 = vec4<f32>(0.0);
  var a12_3 = vec4<f32>(0.0);
  var a13_0 = vec4<f32>(0.0);
  var a13_1 = vec4<f32>(0.0);
  var a13_2 = vec4<f32>(0.0);
  var a13_3 = vec4<f32>(0.0);
  var a14_0 = vec4<f32>(0.0);
  var a14_1 = vec4<f32>(0.0);
  var a14_2 = vec4<f32>(0.0);
  var a14_3 = vec4<f32>(0.0);
  var a15_0 = vec4<f32>(0.0);
  var a15_1 = vec4<f32>(0.0);
  var a15_2 = vec4<f32>(0.0);
  var a15_3 = vec4<f32>(0.0);
  var a16_0 = vec4<f32>(0.0);
  var a16_1 = vec4<f32>(0.0);
  var a16_2 = vec4<f32>(0.0);
  var a16_3 = vec4<f32>(0.0);
  var a17_0 = vec4<f32>(0.0);
  var a17_1 = vec4<f32>(0.0);
  var a17_2 = vec4<f32>(0.0);
  var a17_3 = vec4<f32>(0.0);
  var a18_0 = vec4<f32>(0.0);
  var a18_1 = vec4<f32>(0.0);
  var a18_2 = vec4<f32>(0.0);
  var a18_3 = vec4<f32>(0.0);
  var a19_0 = vec4<f32>(0.0);
  var a19_1 = vec4<f32>(0.0);
  var a19_2 = vec4<f32>(0.0);
  var a19_3 = vec4<f32>(0.0);
  var a20_0 = vec4<f32>(0.0);
  var a20_1 = vec4<f32>(0.0);
  var a20_2 = vec4<f32>(0.0);
  var a20_3 = vec4<f32>(0.0);
  var a21_0 = vec4<f32>(0.0);
  var a21_1 = vec4<f32>(0.0);
  var a21_2 = vec4<f32>(0.0);
  var a21_3 = vec4<f32>(0.0);
  var a22_0 = vec4<f32>(0.0);
  var a22_1 = vec4<f32>(0.0);
  var a22_2 = vec4<f32>(0.0);
  var a22_3 = vec4<f32>(0.0);
  var a23_0 = vec4<f32>(0.0);
  var a23_1 = vec4<f32>(0.0);
  var a23_2 = vec4<f32>(0.0);
  var a23_3 = vec4<f32>(0.0);
  var a24_0 = vec4<f32>(0.0);
  var a24_1 = vec4<f32>(0.0);
  var a24_2 = vec4<f32>(0.0);
  var a24_3 = vec4<f32>(0.0);
  var a25_0 = vec4<f32>(0.0);
  var a25_1 = vec4<f32>(0.0);
  var a25_2 = vec4<f32>(0.0);
  var a25_3 = vec4<f32>(0.0);
  var a26_0 = vec4<f32>(0.0);
  var a26_1 = vec4<f32>(0.0);
  var a26_2 = vec4<f32>(0.0);
  var a26_3 = vec4<f32>(0.0);
  var a27_0 = vec4<f32>(0.0);
  var a27_1 = vec4<f32>(0.0);
  var a27_2 = vec4<f32>(0.0);
  var a27_3 = vec4<f32>(0.0);
  var a28_0 = vec4<f32>(0.0);
  var a28_1 = vec4<f32>(0.0);
  var a28_2 = vec4<f32>(0.0);
  var a28_3 = vec4<f32>(0.0);
  var a29_0 = vec4<f32>(0.0);
  var a29_1 = vec4<f32>(0.0);
  var a29_2 = vec4<f32>(0.0);
  var a29_3 = vec4<f32>(0.0);
  var a30_0 = vec4<f32>(0.0);
  var a30_1 = vec4<f32>(0.0);
  var a30_2 = vec4<f32>(0.0);
  var a30_3 = vec4<f32>(0.0);
  var a31_0 = vec4<f32>(0.0);
  var a31_1 = vec4<f32>(0.0);
  var a31_2 = vec4<f32>(0.0);
  var a31_3 = vec4<f32>(0.0);
  for (var k = 0u; k < qo; k++) {
    let n = k * 4u;
    let o0 = min(n + 0u, lo) * qi;
    let o1 = min(n + 1u, lo) * qi;
    let o2 = min(n + 2u, lo) * qi;
    let o3 = min(n + 3u, lo) * qi;
    let m0 = mat4x4<f32>(b[c0 + o0], b[c0 + o1], b[c0 + o2], b[c0 + o3]);
    let m1 = mat4x4<f32>(b[c1 + o0], b[c1 + o1], b[c1 + o2], b[c1 + o3]);
    let m2 = mat4x4<f32>(b[c2 + o0], b[c2 + o1], b[c2 + o2], b[c2 + o3]);
    let m3 = mat4x4<f32>(b[c3 + o0], b[c3 + o1], b[c3 + o2], b[c3 + o3]);
    let ds0 = a[ys0 + k];
    let d0 = subgroupBroadcast(ds0, 0u);
    a0_0 += m0 * d0;
    a0_1 += m1 * d0;
    a0_2 += m2 * d0;
    a0_3 += m3 * d0;
    let d1 = subgroupBroadcast(ds0, 1u);
    a1_0 += m0 * d1;
    a1_1 += m1 * d1;
    a1_2 += m2 * d1;
    a1_3 += m3 * d1;
    let d2 = subgroupBroadcast(ds0, 2u);
    a2_0 += m0 * d2;
    a2_1 += m1 * d2;
    a2_2 += m2 * d2;
    a2_3 += m3 * d2;
    let d3 = subgroupBroadcast(ds0, 3u);
    a3_0 += m0 * d3;
    a3_1 += m1 * d3;
    a3_2 += m2 * d3;
    a3_3 += m3 * d3;
    let d4 = subgroupBroadcast(ds0, 4u);
    a4_0 += m0 * d4;
    a4_1 += m1 * d4;
    a4_2 += m2 * d4;
    a4_3 += m3 * d4;
    let d5 = subgroupBroadcast(ds0, 5u);
    a5_0 += m0 * d5;
    a5_1 += m1 * d5;
    a5_2 += m2 * d5;
    a5_3 += m3 * d5;
    let d6 = subgroupBroadcast(ds0, 6u);
    a6_0 += m0 * d6;
    a6_1 += m1 * d6;
    a6_2 += m2 * d6;
    a6_3 += m3 * d6;
    let d7 = subgroupBroadcast(ds0, 7u);
    a7_0 += m0 * d7;
    a7_1 += m1 * d7;
    a7_2 += m2 * d7;
    a7_3 += m3 * d7;
    let ds1 = a[ys1 + k];
    let d8 = subgroupBroadcast(ds1, 0u);
    a8_0 += m0 * d8;
    a8_1 += m1 * d8;
    a8_2 += m2 * d8;
    a8_3 += m3 * d8;
    let d9 = subgroupBroadcast(ds1, 1u);
    a9_0 += m0 * d9;
    a9_1 += m1 * d9;
    a9_2 += m2 * d9;
    a9_3 += m3 * d9;
    let d10 = subgroupBroadcast(ds1, 2u);
    a10_0 += m0 * d10;
    a10_1 += m1 * d10;
    a10_2 += m2 * d10;
    a10_3 += m3 * d10;
    let d11 = subgroupBroadcast(ds1, 3u);
    a11_0 += m0 * d11;
    a11_1 += m1 * d11;
    a11_2 += m2 * d11;
    a11_3 += m3 * d11;
    let d12 = subgroupBroadcast(ds1, 4u);
    a12_0 += m0 * d12;
    a12_1 += m1 * d12;
    a12_2 += m2 * d12;
    a12_3 += m3 * d12;
    let d13 = subgroupBroadcast(ds1, 5u);
    a13_0 += m0 * d13;
    a13_1 += m1 * d13;
    a13_2 += m2 * d13;
    a13_3 += m3 * d13;
    let d14 = subgroupBroadcast(ds1, 6u);
    a14_0 += m0 * d14;
    a14_1 += m1 * d14;
    a14_2 += m2 * d14;
    a14_3 += m3 * d14;
    let d15 = subgroupBroadcast(ds1, 7u);
    a15_0 += m0 * d15;
    a15_1 += m1 * d15;
    a15_2 += m2 * d15;
    a15_3 += m3 * d15;
    let ds2 = a[ys2 + k];
    let d16 = subgroupBroadcast(ds2, 0u);
    a16_0 += m0 * d16;
    a16_1 += m1 * d16;
    a16_2 += m2 * d16;
    a16_3 += m3 * d16;
    let d17 = subgroupBroadcast(ds2, 1u);
    a17_0 += m0 * d17;
    a17_1 += m1 * d17;
    a17_2 += m2 * d17;
    a17_3 += m3 * d17;
    let d18 = subgroupBroadcast(ds2, 2u);
    a18_0 += m0 * d18;
    a18_1 += m1 * d18;
    a18_2 += m2 * d18;
    a18_3 += m3 * d18;
    let d19 = subgroupBroadcast(ds2, 3u);
    a19_0 += m0 * d19;
    a19_1 += m1 * d19;
    a19_2 += m2 * d19;
    a19_3 += m3 * d19;
    let d20 = subgroupBroadcast(ds2, 4u);
    a20_0 += m0 * d20;
    a20_1 += m1 * d20;
    a20_2 += m2 * d20;
    a20_3 += m3 * d20;
    let d21 = subgroupBroadcast(ds2, 5u);
    a21_0 += m0 * d21;
    a21_1 += m1 * d21;
    a21_2 += m2 * d21;
    a21_3 += m3 * d21;
    let d22 = subgroupBroadcast(ds2, 6u);
    a22_0 += m0 * d22;
    a22_1 += m1 * d22;
    a22_2 += m2 * d22;
    a22_3 += m3 * d22;
    let d23 = subgroupBroadcast(ds2, 7u);
    a23_0 += m0 * d23;
    a23_1 += m1 * d23;
    a23_2 += m2 * d23;
    a23_3 += m3 * d23;
    let ds3 = a[ys3 + k];
    let d24 = subgroupBroadcast(ds3, 0u);
    a24_0 += m0 * d24;
    a24_1 += m1 * d24;
    a24_2 += m2 * d24;
    a24_3 += m3 * d24;
    let d25 = subgroupBroadcast(ds3, 1u);
    a25_0 += m0 * d25;
    a25_1 += m1 * d25;
    a25_2 += m2 * d25;
    a25_3 += m3 * d25;
    let d26 = subgroupBroadcast(ds3, 2u);
    a26_0 += m0 * d26;
    a26_1 += m1 * d26;
    a26_2 += m2 * d26;
    a26_3 += m3 * d26;
    let d27 = subgroupBroadcast(ds3, 3u);
    a27_0 += m0 * d27;
    a27_1 += m1 * d27;
    a27_2 += m2 * d27;
    a27_3 += m3 * d27;
    let d28 = subgroupBroadcast(ds3, 4u);
    a28_0 += m0 * d28;
    a28_1 += m1 * d28;
    a28_2 += m2 * d28;
    a28_3 += m3 * d28;
    let d29 = subgroupBroadcast(ds3, 5u);
    a29_0 += m0 * d29;
    a29_1 += m1 * d29;
    a29_2 += m2 * d29;
    a29_3 += m3 * d29;
    let d30 = subgroupBroadcast(ds3, 6u);
    a30_0 += m0 * d30;
    a30_1 += m1 * d30;
    a30_2 += m2 * d30;
    a30_3 += m3 * d30;
    let d31 = subgroupBroadcast(ds3, 7u);
    a31_0 += m0 * d31;
    a31_1 += m1 * d31;
    a31_2 += m2 * d31;
    a31_3 += m3 * d31;
  }
  if (dead) {
    return;
  }
  if (q0 + 0u < qi) {
    store_rows(0u, r0 + 0u, p.rows, qi, q0 + 0u, input_epilogue(a0_0, min(r0 + 0u, lr), q0 + 0u), input_epilogue(a1_0, min(r0 + 1u, lr), q0 + 0u), input_epilogue(a2_0, min(r0 + 2u, lr), q0 + 0u), input_epilogue(a3_0, min(r0 + 3u, lr), q0 + 0u));
    if (r0 + 4u < p.rows) {
      store_rows(0u, r0 + 4u, p.rows, qi, q0 + 0u, input_epilogue(a4_0, min(r0 + 4u, lr), q0 + 0u), input_epilogue(a5_0, min(r0 + 5u, lr), q0 + 0u), input_epilogue(a6_0, min(r0 + 6u, lr), q0 + 0u), input_epilogue(a7_0, min(r0 + 7u, lr), q0 + 0u));
    }
    if (r0 + 8u < p.rows) {
      store_rows(0u, r0 + 8u, p.rows, qi, q0 + 0u, input_epilogue(a8_0, min(r0 + 8u, lr), q0 + 0u), input_epilogue(a9_0, min(r0 + 9u, lr), q0 + 0u), input_epilogue(a10_0, min(r0 + 10u, lr), q0 + 0u), input_epilogue(a11_0, min(r0 + 11u, lr), q0 + 0u));
    }
    if (r0 + 12u < p.rows) {
      store_rows(0u, r0 + 12u, p.rows, qi, q0 + 0u, input_epilogue(a12_0, min(r0 + 12u, lr), q0 + 0u), input_epilogue(a13_0, min(r0 + 13u, lr), q0 + 0u), input_epilogue(a14_0, min(r0 + 14u, lr), q0 + 0u), input_epilogue(a15_0, min(r0 + 15u, lr), q0 + 0u));
    }
    if (r0 + 16u < p.rows) {
      store_rows(0u, r0 + 16u, p.rows, qi, q0 + 0u, input_epilogue(a16_0, min(r0 + 16u, lr), q0 + 0u), input_epilogue(a17_0, min(r0 + 17u, lr), q0 + 0u), input_epilogue(a18_0, min(r0 + 18u, lr), q0 + 0u), input_epilogue(a19_0, min(r0 + 19u, lr), q0 + 0u));
    }
    if (r0 + 20u < p.rows) {
      store_rows(0u, r0 + 20u, p.rows, qi, q0 + 0u, input_epilogue(a20_0, min(r0 + 20u, lr), q0 + 0u), input_epilogue(a21_0, min(r0 + 21u, lr), q0 + 0u), input_epilogue(a22_0, min(r0 + 22u, lr), q0 + 0u), input_epilogue(a23_0, min(r0 + 23u, lr), q0 + 0u));
    }
    if (r0 + 24u < p.rows) {
      store_rows(0u, r0 + 24u, p.rows, qi, q0 + 0u, input_epilogue(a24_0, min(r0 + 24u, lr), q0 + 0u), input_epilogue(a25_0, min(r0 + 25u, lr), q0 + 0u), input_epilogue(a26_0, min(r0 + 26u, lr), q0 + 0u), input_epilogue(a27_0, min(r0 + 27u, lr), q0 + 0u));
    }
    if (r0 + 28u < p.rows) {
      store_rows(0u, r0 + 28u, p.rows, qi, q0 + 0u, input_epilogue(a28_0, min(r0 + 28u, lr), q0 + 0u), input_epilogue(a29_0, min(r0 + 29u, lr), q0 + 0u), input_epilogue(a30_0, min(r0 + 30u, lr), q0 + 0u), input_epilogue(a31_0, min(r0 + 31u, lr), q0 + 0u));
    }
  }
  if (q0 + 1u < qi) {
    store_rows(0u, r0 + 0u, p.rows, qi, q0 + 1u, input_epilogue(a0_1, min(r0 + 0u, lr), q0 + 1u), input_epilogue(a1_1, min(r0 + 1u, lr), q0 + 1u), input_epilogue(a2_1, min(r0 + 2u, lr), q0 + 1u), input_epilogue(a3_1, min(r0 + 3u, lr), q0 + 1u));
    if (r0 + 4u < p.rows) {
      store_rows(0u, r0 + 4u, p.rows, qi, q0 + 1u, input_epilogue(a4_1, min(r0 + 4u, lr), q0 + 1u), input_epilogue(a5_1, min(r0 + 5u, lr), q0 + 1u), input_epilogue(a6_1, min(r0 + 6u, lr), q0 + 1u), input_epilogue(a7_1, min(r0 + 7u, lr), q0 + 1u));
    }
    if (r0 + 8u < p.rows) {
      store_rows(0u, r0 + 8u, p.rows, qi, q0 + 1u, input_epilogue(a8_1, min(r0 + 8u, lr), q0 + 1u), input_epilogue(a9_1, min(r0 + 9u, lr), q0 + 1u), input_epilogue(a10_1, min(r0 + 10u, lr), q0 + 1u), input_epilogue(a11_1, min(r0 + 11u, lr), q0 + 1u));
    }
    if (r0 + 12u < p.rows) {
      store_rows(0u, r0 + 12u, p.rows, qi, q0 + 1u, input_epilogue(a12_1, min(r0 + 12u, lr), q0 + 1u), input_epilogue(a13_1, min(r0 + 13u, lr), q0 + 1u), input_epilogue(a14_1, min(r0 + 14u, lr), q0 + 1u), input_epilogue(a15_1, min(r0 + 15u, lr), q0 + 1u));
    }
    if (r0 + 16u < p.rows) {
      store_rows(0u, r0 + 16u, p.rows, qi, q0 + 1u, input_epilogue(a16_1, min(r0 + 16u, lr), q0 + 1u), input_epilogue(a17_1, min(r0 + 17u, lr), q0 + 1u), input_epilogue(a18_1, min(r0 + 18u, lr), q0 + 1u), input_epilogue(a19_1, min(r0 + 19u, lr), q0 + 1u));
    }
    if (r0 + 20u < p.rows) {
      store_rows(0u, r0 + 20u, p.rows, qi, q0 + 1u, input_epilogue(a20_1, min(r0 + 20u, lr), q0 + 1u), input_epilogue(a21_1, min(r0 + 21u, lr), q0 + 1u), input_epilogue(a22_1, min(r0 + 22u, lr), q0 + 1u), input_epilogue(a23_1, min(r0 + 23u, lr), q0 + 1u));
    }
    if (r0 + 24u < p.rows) {
      store_rows(0u, r0 + 24u, p.rows, qi, q0 + 1u, input_epilogue(a24_1, min(r0 + 24u, lr), q0 + 1u), input_epilogue(a25_1, min(r0 + 25u, lr), q0 + 1u), input_epilogue(a26_1, min(r0 + 26u, lr), q0 + 1u), input_epilogue(a27_1, min(r0 + 27u, lr), q0 + 1u));
    }
    if (r0 + 28u < p.rows) {
      store_rows(0u, r0 + 28u, p.rows, qi, q0 + 1u, input_epilogue(a28_1, min(r0 + 28u, lr), q0 + 1u), input_epilogue(a29_1, min(r0 + 29u, lr), q0 + 1u), input_epilogue(a30_1, min(r0 + 30u, lr), q0 + 1u), input_epilogue(a31_1, min(r0 + 31u, lr), q0 + 1u));
    }
  }
  if (q0 + 2u < qi) {
    store_rows(0u, r0 + 0u, p.rows, qi, q0 + 2u, input_epilogue(a0_2, min(r0 + 0u, lr), q0 + 2u), input_epilogue(a1_2, min(r0 + 1u, lr), q0 + 2u), input_epilogue(a2_2, min(r0 + 2u, lr), q0 + 2u), input_epilogue(a3_2, min(r0 + 3u, lr), q0 + 2u));
    if (r0 + 4u < p.rows) {
      store_rows(0u, r0 + 4u, p.rows, qi, q0 + 2u, input_epilogue(a4_2, min(r0 + 4u, lr), q0 + 2u), input_epilogue(a5_2, min(r0 + 5u, lr), q0 + 2u), input_epilogue(a6_2, min(r0 + 6u, lr), q0 + 2u), input_epilogue(a7_2, min(r0 + 7u, lr), q0 + 2u));
    }
    if (r0 + 8u < p.rows) {
      store_rows(0u, r0 + 8u, p.rows, qi, q0 + 2u, input_epilogue(a8_2, min(r0 + 8u, lr), q0 + 2u), input_epilogue(a9_2, min(r0 + 9u, lr), q0 + 2u), input_epilogue(a10_2, min(r0 + 10u, lr), q0 + 2u), input_epilogue(a11_2, min(r0 + 11u, lr), q0 + 2u));
    }
    if (r0 + 12u < p.rows) {
      store_rows(0u, r0 + 12u, p.rows, qi, q0 + 2u, input_epilogue(a12_2, min(r0 + 12u, lr), q0 + 2u), input_epilogue(a13_2, min(r0 + 13u, lr), q0 + 2u), input_epilogue(a14_2, min(r0 + 14u, lr), q0 + 2u), input_epilogue(a15_2, min(r0 + 15u, lr), q0 + 2u));
    }
    if (r0 + 16u < p.rows) {
      store_rows(0u, r0 + 16u, p.rows, qi, q0 + 2u, input_epilogue(a16_2, min(r0 + 16u, lr), q0 + 2u), input_epilogue(a17_2, min(r0 + 17u, lr), q0 + 2u), input_epilogue(a18_2, min(r0 + 18u, lr), q0 + 2u), input_epilogue(a19_2, min(r0 + 19u, lr), q0 + 2u));
    }
    if (r0 + 20u < p.rows) {
      store_rows(0u, r0 + 20u, p.rows, qi, q0 + 2u, input_epilogue(a20_2, min(r0 + 20u, lr), q0 + 2u), input_epilogue(a21_2, min(r0 + 21u, lr), q0 + 2u), input_epilogue(a22_2, min(r0 + 22u, lr), q0 + 2u), input_epilogue(a23_2, min(r0 + 23u, lr), q0 + 2u));
    }
    if (r0 + 24u < p.rows) {
      store_rows(0u, r0 + 24u, p.rows, qi, q0 + 2u, input_epilogue(a24_2, min(r0 + 24u, lr), q0 + 2u), input_epilogue(a25_2, min(r0 + 25u, lr), q0 + 2u), input_epilogue(a26_2, min(r0 + 26u, lr), q0 + 2u), input_epilogue(a27_2, min(r0 + 27u, lr), q0 + 2u));
    }
    if (r0 + 28u < p.rows) {
      store_rows(0u, r0 + 28u, p.rows, qi, q0 + 2u, input_epilogue(a28_2, min(r0 + 28u, lr), q0 + 2u), input_epilogue(a29_2, min(r0 + 29u, lr), q0 + 2u), input_epilogue(a30_2, min(r0 + 30u, lr), q0 + 2u), input_epilogue(a31_2, min(r0 + 31u, lr), q0 + 2u));
    }
  }
  if (q0 + 3u < qi) {
    store_rows(0u, r0 + 0u, p.rows, qi, q0 + 3u, input_epilogue(a0_3, min(r0 + 0u, lr), q0 + 3u), input_epilogue(a1_3, min(r0 + 1u, lr), q0 + 3u), input_epilogue(a2_3, min(r0 + 2u, lr), q0 + 3u), input_epilogue(a3_3, min(r0 + 3u, lr), q0 + 3u));
    if (r0 + 4u < p.rows) {
      store_rows(0u, r0 + 4u, p.rows, qi, q0 + 3u, input_epilogue(a4_3, min(r0 + 4u, lr), q0 + 3u), input_epilogue(a5_3, min(r0 + 5u, lr), q0 + 3u), input_epilogue(a6_3, min(r0 + 6u, lr), q0 + 3u), input_epilogue(a7_3, min(r0 + 7u, lr), q0 + 3u));
    }
    if (r0 + 8u < p.rows) {
      store_rows(0u, r0 + 8u, p.rows, qi, q0 + 3u, input_epilogue(a8_3, min(r0 + 8u, lr), q0 + 3u), input_epilogue(a9_3, min(r0 + 9u, lr), q0 + 3u), input_epilogue(a10_3, min(r0 + 10u, lr), q0 + 3u), input_epilogue(a11_3, min(r0 + 11u, lr), q0 + 3u));
    }
    if (r0 + 12u < p.rows) {
      store_rows(0u, r0 + 12u, p.rows, qi, q0 + 3u, input_epilogue(a12_3, min(r0 + 12u, lr), q0 + 3u), input_epilogue(a13_3, min(r0 + 13u, lr), q0 + 3u), input_epilogue(a14_3, min(r0 + 14u, lr), q0 + 3u), input_epilogue(a15_3, min(r0 + 15u, lr), q0 + 3u));
    }
    if (r0 + 16u < p.rows) {
      store_rows(0u, r0 + 16u, p.rows, qi, q0 + 3u, input_epilogue(a16_3, min(r0 + 16u, lr), q0 + 3u), input_epilogue(a17_3, min(r0 + 17u, lr), q0 + 3u), input_epilogue(a18_3, min(r0 + 18u, lr), q0 + 3u), input_epilogue(a19_3, min(r0 + 19u, lr), q0 + 3u));
    }
    if (r0 + 20u < p.rows) {
      store_rows(0u, r0 + 20u, p.rows, qi, q0 + 3u, input_epilogue(a20_3, min(r0 + 20u, lr), q0 + 3u), input_epilogue(a21_3, min(r0 + 21u, lr), q0 + 3u), input_epilogue(a22_3, min(r0 + 22u, lr), q0 + 3u), input_epilogue(a23_3, min(r0 + 23u, lr), q0 + 3u));
    }
    if (r0 + 24u < p.rows) {
      store_rows(0u, r0 + 24u, p.rows, qi, q0 + 3u, input_epilogue(a24_3, min(r0 + 24u, lr), q0 + 3u), input_epilogue(a25_3, min(r0 + 25u, lr), q0 + 3u), input_epilogue(a26_3, min(r0 + 26u, lr), q0 + 3u), input_epilogue(a27_3, min(r0 + 27u, lr), q0 + 3u));
    }
    if (r0 + 28u < p.rows) {
      store_rows(0u, r0 + 28u, p.rows, qi, q0 + 3u, input_epilogue(a28_3, min(r0 + 28u, lr), q0 + 3u), input_epilogue(a29_3, min(r0 + 29u, lr), q0 + 3u), input_epilogue(a30_3, min(r0 + 30u, lr), q0 + 3u), input_epilogue(a31_3, min(r0 + 31u, lr), q0 + 3u));
    }
  }
}

// dW (OUT, IN) = dyᵀ (OUT, B) · x (B, IN), written into the flat gradient buffer at
// weight_offset, and db = Σ_B dy at bias_offset (the direct form needs no
// linear_backward_bias). Invocation: W rows n0..n0+31 × column quads q0..q0+3, outer
// products over B. dy and x quads past OUT and IN are clamped; their results are never
// stored.
// Subgroup form: for each B row m, lanes 0..7 load the 32 dy values of the block
// (1 vec4 each) and broadcast them, instead of every lane loading all 32.
// Same sums in the same order as the direct kernel, so the same bits.
@compute @workgroup_size(DIRECT_X, DIRECT_Y, 1)
fn linear_backward_weight_subgroup(@builtin(global_invocation_id) gid: vec3<u32>,
    @builtin(subgroup_invocation_id) lane: u32) {
  let q0 = gid.x * 4u;
  let n0 = gid.y * 32u;
  let qi = quads(p.in_features);
  let dead = q0 >= qi || n0 >= p.out_features;
  if (subgroupAll(dead)) {
    return;
  }
  let qo = quads(p.out_features);
  let e0 = min(n0 / 4u + 0u + lane, qo - 1u);
  let c0 = min(q0 + 0u, qi - 1u);
  let c1 = min(q0 + 1u, qi - 1u);
  let c2 = min(q0 + 2u, qi - 1u);
  let c3 = min(q0 + 3u, qi - 1u);
  var a0_0 = vec4<f32>(0.0);
  var a0_1 = vec4<f32>(0.0);
  var a0_2 = vec4<f32>(0.0);
  var a0_3 = vec4<f32>(0.0);
  var a1_0 = vec4<f32>(0.0);
  var a1_1 = vec4<f32>(0.0);
  var a1_2 = vec4<f32>(0.0);
  var a1_3 = vec4<f32>(0.0);
  var a2_0 = vec4<f32>(0.0);
  var a2_1 = vec4<f32>(0.0);
  var a2_2 = vec4<f32>(0.0);
  var a2_3 = vec4<f32>(0.0);
  var a3_0 = vec4<f32>(0.0);
  var a3_1 = vec4<f32>(0.0);
  var a3_2 = vec4<f32>(0.0);
  var a3_3 = vec4<f32>(0.0);
  var a4_0 = vec4<f32>(0.0);
  var a4_1 = vec4<f32>(0.0);
  var a4_2 = vec4<f32>(0.0);
  var a4_3 = vec4<f32>(0.0);
  var a5_0 = vec4<f32>(0.0);
  var a5_1 = vec4<f32>(0.0);
  var a5_2 = vec4<f32>(0.0);
  var a5_3 = vec4<f32>(0.0);
  var a6_0 = vec4<f32>(0.0);
  var a6_1 = vec4<f32>(0.0);
  var a6_2 = vec4<f32>(0.0);
  var a6_3 = vec4<f32>(0.0);
  var a7_0 = vec4<f32>(0.0);
  var a7_1 = vec4<f32>(0.0);
  var a7_2 = vec4<f32>(0.0);
  var a7_3 = vec4<f32>(0.0);
  var a8_0 = vec4<f32>(0.0);
  var a8_1 = vec4<f32>(0.0);
  var a8_2 = vec4<f32>(0.0);
  var a8_3 = vec4<f32>(0.0);
  var a9_0 = vec4<f32>(0.0);
  var a9_1 = vec4<f32>(0.0);
  var a9_2 = vec4<f32>(0.0);
  var a9_3 = vec4<f32>(0.0);
  var a10_0 = vec4<f32>(0.0);
  var a10_1 = vec4<f32>(0.0);
  var a10_2 = vec4<f32>(0.0);
  var a10_3 = vec4<f32>(0.0);
  var a11_0 = vec4<f32>(0.0);
  var a11_1 = vec4<f32>(0.0);
  var a11_2 = vec4<f32>(0.0);
  var a11_3 = vec4<f32>(0.0);
  var a12_0 = vec4<f32>(0.0);
  var a12_1 = vec4<f32>(0.0);
  var a12_2 = vec4<f32>(0.0);
  var a12_3 = vec4<f32>(0.0);
  var a13_0 = vec4<f32>(0.0);
  var a13_1 = vec4<f32>(0.0);
  var a13_2 = vec4<f32>(0.0);
  var a13_3 = vec4<f32>(0.0);
  var a14_0 = vec4<f32>(0.0);
  var a14_1 = vec4<f32>(0.0);
  var a14_2 = vec4<f32>(0.0);
  var a14_3 = vec4<f32>(0.0);
  var a15_0 = vec4<f32>(0.0);
  var a15_1 = vec4<f32>(0.0);
  var a15_2 = vec4<f32>(0.0);
  var a15_3 = vec4<f32>(0.0);
  var a16_0 = vec4<f32>(0.0);
  var a16_1 = vec4<f32>(0.0);
  var a16_2 = vec4<f32>(0.0);
  var a16_3 = vec4<f32>(0.0);
  var a17_0 = vec4<f32>(0.0);
  var a17_1 = vec4<f32>(0.0);
  var a17_2 = vec4<f32>(0.0);
  var a17_3 = vec4<f32>(0.0);
  var a18_0 = vec4<f32>(0.0);
  var a18_1 = vec4<f32>(0.0);
  var a18_2 = vec4<f32>(0.0);
  var a18_3 = vec4<f32>(0.0);
  var a19_0 = vec4<f32>(0.0);
  var a19_1 = vec4<f32>(0.0);
  var a19_2 = vec4<f32>(0.0);
  var a19_3 = vec4<f32>(0.0);
  var a20_0 = vec4<f32>(0.0);
  var a20_1 = vec4<f32>(0.0);
  var a20_2 = vec4<f32>(0.0);
  var a20_3 = vec4<f32>(0.0);
  var a21_0 = vec4<f32>(0.0);
  var a21_1 = vec4<f32>(0.0);
  var a21_2 = vec4<f32>(0.0);
  var a21_3 = vec4<f32>(0.0);
  var a22_0 = vec4<f32>(0.0);
  var a22_1 = vec4<f32>(0.0);
  var a22_2 = vec4<f32>(0.0);
  var a22_3 = vec4<f32>(0.0);
  var a23_0 = vec4<f32>(0.0);
  var a23_1 = vec4<f32>(0.0);
  var a23_2 = vec4<f32>(0.0);
  var a23_3 = vec4<f32>(0.0);
  var a24_0 = vec4<f32>(0.0);
  var a24_1 = vec4<f32>(0.0);
  var a24_2 = vec4<f32>(0.0);
  var a24_3 = vec4<f32>(0.0);
  var a25_0 = vec4<f32>(0.0);
  var a25_1 = vec4<f32>(0.0);
  var a25_2 = vec4<f32>(0.0);
  var a25_3 = vec4<f32>(0.0);
  var a26_0 = vec4<f32>(0.0);
  var a26_1 = vec4<f32>(0.0);
  var a26_2 = vec4<f32>(0.0);
  var a26_3 = vec4<f32>(0.0);
  var a27_0 = vec4<f32>(0.0);
  var a27_1 = vec4<f32>(0.0);
  var a27_2 = vec4<f32>(0.0);
  var a27_3 = vec4<f32>(0.0);
  var a28_0 = vec4<f32>(0.0);
  var a28_1 = vec4<f32>(0.0);
  var a28_2 = vec4<f32>(0.0);
  var a28_3 = vec4<f32>(0.0);
  var a29_0 = vec4<f32>(0.0);
  var a29_1 = vec4<f32>(0.0);
  var a29_2 = vec4<f32>(0.0);
  var a29_3 = vec4<f32>(0.0);
  var a30_0 = vec4<f32>(0.0);
  var a30_1 = vec4<f32>(0.0);
  var a30_2 = vec4<f32>(0.0);
  var a30_3 = vec4<f32>(0.0);
  var a31_0 = vec4<f32>(0.0);
  var a31_1 = vec4<f32>(0.0);
  var a31_2 = vec4<f32>(0.0);
  var a31_3 = vec4<f32>(0.0);
  var bias0 = vec4<f32>(0.0);
  var bias1 = vec4<f32>(0.0);
  var bias2 = vec4<f32>(0.0);
  var bias3 = vec4<f32>(0.0);
  var bias4 = vec4<f32>(0.0);
  var bias5 = vec4<f32>(0.0);
  var bias6 = vec4<f32>(0.0);
  var bias7 = vec4<f32>(0.0);
  for (var m = 0u; m < p.rows; m++) {
    let g0 = a[m * qo + e0];
    let d0 = subgroupBroadcast(g0, 0u);
    let d1 = subgroupBroadcast(g0, 1u);
    let d2 = subgroupBroadcast(g0, 2u);
    let d3 = subgroupBroadcast(g0, 3u);
    let d4 = subgroupBroadcast(g0, 4u);
    let d5 = subgroupBroadcast(g0, 5u);
    let d6 = subgroupBroadcast(g0, 6u);
    let d7 = subgroupBroadcast(g0, 7u);
    let x0 = b[m * qi + c0];
    let x1 = b[m * qi + c1];
    let x2 = b[m * qi + c2];
    let x3 = b[m * qi + c3];
    bias0 += d0;
    bias1 += d1;
    bias2 += d2;
    bias3 += d3;
    bias4 += d4;
    bias5 += d5;
    bias6 += d6;
    bias7 += d7;
    a0_0 += d0.x * x0;
    a0_1 += d0.x * x1;
    a0_2 += d0.x * x2;
    a0_3 += d0.x * x3;
    a1_0 += d0.y * x0;
    a1_1 += d0.y * x1;
    a1_2 += d0.y * x2;
    a1_3 += d0.y * x3;
    a2_0 += d0.z * x0;
    a2_1 += d0.z * x1;
    a2_2 += d0.z * x2;
    a2_3 += d0.z * x3;
    a3_0 += d0.w * x0;
    a3_1 += d0.w * x1;
    a3_2 += d0.w * x2;
    a3_3 += d0.w * x3;
    a4_0 += d1.x * x0;
    a4_1 += d1.x * x1;
    a4_2 += d1.x * x2;
    a4_3 += d1.x * x3;
    a5_0 += d1.y * x0;
    a5_1 += d1.y * x1;
    a5_2 += d1.y * x2;
    a5_3 += d1.y * x3;
    a6_0 += d1.z * x0;
    a6_1 += d1.z * x1;
    a6_2 += d1.z * x2;
    a6_3 += d1.z * x3;
    a7_0 += d1.w * x0;
    a7_1 += d1.w * x1;
    a7_2 += d1.w * x2;
    a7_3 += d1.w * x3;
    a8_0 += d2.x * x0;
    a8_1 += d2.x * x1;
    a8_2 += d2.x * x2;
    a8_3 += d2.x * x3;
    a9_0 += d2.y * x0;
    a9_1 += d2.y * x1;
    a9_2 += d2.y * x2;
    a9_3 += d2.y * x3;
    a10_0 += d2.z * x0;
    a10_1 += d2.z * x1;
    a10_2 += d2.z * x2;
    a10_3 += d2.z * x3;
    a11_0 += d2.w * x0;
    a11_1 += d2.w * x1;
    a11_2 += d2.w * x2;
    a11_3 += d2.w * x3;
    a12_0 += d3.x * x0;
    a12_1 += d3.x * x1;
    a12_2 += d3.x * x2;
    a12_3 += d3.x * x3;
    a13_0 += d3.y * x0;
    a13_1 += d3.y * x1;
    a13_2 += d3.y * x2;
    a13_3 += d3.y * x3;
    a14_0 += d3.z * x0;
    a14_1 += d3.z * x1;
    a14_2 += d3.z * x2;
    a14_3 += d3.z * x3;
    a15_0 += d3.w * x0;
    a15_1 += d3.w * x1;
    a15_2 += d3.w * x2;
    a15_3 += d3.w * x3;
    a16_0 += d4.x * x0;
    a16_1 += d4.x * x1;
    a16_2 += d4.x * x2;
    a16_3 += d4.x * x3;
    a17_0 += d4.y * x0;
    a17_1 += d4.y * x1;
    a17_2 += d4.y * x2;
    a17_3 += d4.y * x3;
    a18_0 += d4.z * x0;
    a18_1 += d4.z * x1;
    a18_2 += d4.z * x2;
    a18_3 += d4.z * x3;
    a19_0 += d4.w * x0;
    a19_1 += d4.w * x1;
    a19_2 += d4.w * x2;
    a19_3 += d4.w * x3;
    a20_0 += d5.x * x0;
    a20_1 += d5.x * x1;
    a20_2 += d5.x * x2;
    a20_3 += d5.x * x3;
    a21_0 += d5.y * x0;
    a21_1 += d5.y * x1;
    a21_2 += d5.y * x2;
    a21_3 += d5.y * x3;
    a22_0 += d5.z * x0;
    a22_1 += d5.z * x1;
    a22_2 += d5.z * x2;
    a22_3 += d5.z * x3;
    a23_0 += d5.w * x0;
    a23_1 += d5.w * x1;
    a23_2 += d5.w * x2;
    a23_3 += d5.w * x3;
    a24_0 += d6.x * x0;
    a24_1 += d6.x * x1;
    a24_2 += d6.x * x2;
    a24_3 += d6.x * x3;
    a25_0 += d6.y * x0;
    a25_1 += d6.y * x1;
    a25_2 += d6.y * x2;
    a25_3 += d6.y * x3;
    a26_0 += d6.z * x0;
    a26_1 += d6.z * x1;
    a26_2 += d6.z * x2;
    a26_3 += d6.z * x3;
    a27_0 += d6.w * x0;
    a27_1 += d6.w * x1;
    a27_2 += d6.w * x2;
    a27_3 += d6.w * x3;
    a28_0 += d7.x * x0;
    a28_1 += d7.x * x1;
    a28_2 += d7.x * x2;
    a28_3 += d7.x * x3;
    a29_0 += d7.y * x0;
    a29_1 += d7.y * x1;
    a29_2 += d7.y * x2;
    a29_3 += d7.y * x3;
    a30_0 += d7.z * x0;
    a30_1 += d7.z * x1;
    a30_2 += d7.z * x2;
    a30_3 += d7.z * x3;
    a31_0 += d7.w * x0;
    a31_1 += d7.w * x1;
    a31_2 += d7.w * x2;
    a31_3 += d7.w * x3;
  }
  if (dead) {
    return;
  }
  let wb = p.weight_offset / 4u;
  if (q0 + 0u < qi) {
    store_rows(wb, n0 + 0u, p.out_features, qi, q0 + 0u, a0_0, a1_0, a2_0, a3_0);
    if (n0 + 4u < p.out_features) {
      store_rows(wb, n0 + 4u, p.out_features, qi, q0 + 0u, a4_0, a5_0, a6_0, a7_0);
    }
    if (n0 + 8u < p.out_features) {
      store_rows(wb, n0 + 8u, p.out_features, qi, q0 + 0u, a8_0, a9_0, a10_0, a11_0);
    }
    if (n0 + 12u < p.out_features) {
      store_rows(wb, n0 + 12u, p.out_features, qi, q0 + 0u, a12_0, a13_0, a14_0, a15_0);
    }
    if (n0 + 16u < p.out_features) {
      store_rows(wb, n0 + 16u, p.out_features, qi, q0 + 0u, a16_0, a17_0, a18_0, a19_0);
    }
    if (n0 + 20u < p.out_features) {
      store_rows(wb, n0 + 20u, p.out_features, qi, q0 + 0u, a20_0, a21_0, a22_0, a23_0);
    }
    if (n0 + 24u < p.out_features) {
      store_rows(wb, n0 + 24u, p.out_features, qi, q0 + 0u, a24_0, a25_0, a26_0, a27_0);
    }
    if (n0 + 28u < p.out_features) {
      store_rows(wb, n0 + 28u, p.out_features, qi, q0 + 0u, a28_0, a29_0, a30_0, a31_0);
    }
  }
  if (q0 + 1u < qi) {
    store_rows(wb, n0 + 0u, p.out_features, qi, q0 + 1u, a0_1, a1_1, a2_1, a3_1);
    if (n0 + 4u < p.out_features) {
      store_rows(wb, n0 + 4u, p.out_features, qi, q0 + 1u, a4_1, a5_1, a6_1, a7_1);
    }
    if (n0 + 8u < p.out_features) {
      store_rows(wb, n0 + 8u, p.out_features, qi, q0 + 1u, a8_1, a9_1, a10_1, a11_1);
    }
    if (n0 + 12u < p.out_features) {
      store_rows(wb, n0 + 12u, p.out_features, qi, q0 + 1u, a12_1, a13_1, a14_1, a15_1);
    }
    if (n0 + 16u < p.out_features) {
      store_rows(wb, n0 + 16u, p.out_features, qi, q0 + 1u, a16_1, a17_1, a18_1, a19_1);
    }
    if (n0 + 20u < p.out_features) {
      store_rows(wb, n0 + 20u, p.out_features, qi, q0 + 1u, a20_1, a21_1, a22_1, a23_1);
    }
    if (n0 + 24u < p.out_features) {
      store_rows(wb, n0 + 24u, p.out_features, qi, q0 + 1u, a24_1, a25_1, a26_1, a27_1);
    }
    if (n0 + 28u < p.out_features) {
      store_rows(wb, n0 + 28u, p.out_features, qi, q0 + 1u, a28_1, a29_1, a30_1, a31_1);
    }
  }
  if (q0 + 2u < qi) {
    store_rows(wb, n0 + 0u, p.out_features, qi, q0 + 2u, a0_2, a1_2, a2_2, a3_2);
    if (n0 + 4u < p.out_features) {
      store_rows(wb, n0 + 4u, p.out_features, qi, q0 + 2u, a4_2, a5_2, a6_2, a7_2);
    }
    if (n0 + 8u < p.out_features) {
      store_rows(wb, n0 + 8u, p.out_features, qi, q0 + 2u, a8_2, a9_2, a10_2, a11_2);
    }
    if (n0 + 12u < p.out_features) {
      store_rows(wb, n0 + 12u, p.out_features, qi, q0 + 2u, a12_2, a13_2, a14_2, a15_2);
    }
    if (n0 + 16u < p.out_features) {
      store_rows(wb, n0 + 16u, p.out_features, qi, q0 + 2u, a16_2, a17_2, a18_2, a19_2);
    }
    if (n0 + 20u < p.out_features) {
      store_rows(wb, n0 + 20u, p.out_features, qi, q0 + 2u, a20_2, a21_2, a22_2, a23_2);
    }
    if (n0 + 24u < p.out_features) {
      store_rows(wb, n0 + 24u, p.out_features, qi, q0 + 2u, a24_2, a25_2, a26_2, a27_2);
    }
    if (n0 + 28u < p.out_features) {
      store_rows(wb, n0 + 28u, p.out_features, qi, q0 + 2u, a28_2, a29_2, a30_2, a31_2);
    }
  }
  if (q0 + 3u < qi) {
    store_rows(wb, n0 + 0u, p.out_features, qi, q0 + 3u, a0_3, a1_3, a2_3, a3_3);
    if (n0 + 4u < p.out_features) {
      store_rows(wb, n0 + 4u, p.out_features, qi, q0 + 3u, a4_3, a5_3, a6_3, a7_3);
    }
    if (n0 + 8u < p.out_features) {
      store_rows(wb, n0 + 8u, p.out_features, qi, q0 + 3u, a8_3, a9_3, a10_3, a11_3);
    }
    if (n0 + 12u < p.out_features) {
      store_rows(wb, n0 + 12u, p.out_features, qi, q0 + 3u, a12_3, a13_3, a14_3, a15_3);
    }
    if (n0 + 16u < p.out_features) {
      store_rows(wb, n0 + 16u, p.out_features, qi, q0 + 3u, a16_3, a17_3, a18_3, a19_3);
    }
    if (n0 + 20u < p.out_features) {
      store_rows(wb, n0 + 20u, p.out_features, qi, q0 + 3u, a20_3, a21_3, a22_3, a23_3);
    }
    if (n0 + 24u < p.out_features) {
      store_rows(wb, n0 + 24u, p.out_features, qi, q0 + 3u, a24_3, a25_3, a26_3, a27_3);
    }
    if (n0 + 28u < p.out_features) {
      store_rows(wb, n0 + 28u, p.out_features, qi, q0 + 3u, a28_3, a29_3, a30_3, a31_3);
    }
  }
  if (q0 == 0u) {
    store_bias4(n0 + 0u, bias0);
    store_bias4(n0 + 4u, bias1);
    store_bias4(n0 + 8u, bias2);
    store_bias4(n0 + 12u, bias3);
    store_bias4(n0 + 16u, bias4);
    store_bias4(n0 + 20u, bias5);
    store_bias4(n0 + 24u, bias6);
    store_bias4(n0 + 28u, bias7);
  }
}
// SUBGROUP KERNELS END
// DIRECT KERNELS END

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
