// linear.wgsl: a linear layer y = act(x·Wᵀ + b), forward and backward, as register-blocked
// matrix multiplies in two forms with identical bindings:
//   * direct (linear_forward, linear_backward_input, linear_backward_weight): every invocation
//     reads vec4s straight from storage and keeps a 16×16 block of outputs in registers. Fastest
//     on CPU-emulated adapters (lavapipe, SwiftShader), where workgroup memory and barriers are
//     slow and each storage load costs more than the arithmetic it feeds.
//   * tiled (…_tiled): the workgroup stages 32×16 slices of both operands in workgroup memory
//     behind barriers, then each invocation computes the same 4×4 block from there. The fast
//     path on real GPUs.
// The direct kernels (and their subgroup variant) are generated into linear_direct.wgsl and
// linear_subgroup.wgsl by scripts/gen-linear-direct.py and compiled after this file.
// kernels::linear picks one form per adapter at startup; tests run every form.
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
//   linear_backward_weight[_tiled]     dy (B,OUT)   x (B,IN)      x (unused)    grads (dW, db)
//   linear_forward_loss_tiled          x (B,IN)     params        params (b)    logits (B,OUT)
//     and: targets (B,OUT) at 5, dlogits (B,OUT) at 6, stats (records | partial sums) at 7
//   linear_backward_tiled              dy (B,OUT)   params (W)    x (B,IN)      grads (dW, db)
//     and: dx (B,IN) at 8 (weight and input gradients in one dispatch)

struct LinearParams {
  rows: u32,          // B
  out_features: u32,  // OUT
  in_features: u32,   // IN
  weight_offset: u32, // first float of W in the flat parameter buffer (a multiple of 4)
  bias_offset: u32,   // first float of b in the flat parameter buffer
  flags: u32,         // FLAG_* below
  partials_at: u32,   // linear_forward_loss_tiled: the step's first partial-sum record (stats)
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

@group(0) @binding(0) var<uniform> p: LinearParams;
@group(0) @binding(1) var<storage, read> a: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> b: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> aux: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> c: array<vec4<f32>>;
// linear_forward_loss_tiled only:
@group(0) @binding(5) var<storage, read> targets: array<vec4<f32>>;       // (B, ld(OUT)) in [0, 1]
@group(0) @binding(6) var<storage, read_write> dlogits: array<vec4<f32>>; // (B, ld(OUT))
@group(0) @binding(7) var<storage, read_write> stats: array<vec4<u32>>;   // records | partials
// linear_backward_tiled only:
@group(0) @binding(8) var<storage, read_write> dx: array<vec4<f32>>;      // (B, ld(IN))

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

// store_rows into dx (linear_backward_tiled's second output), from row 0.
fn store_rows_dx(r0: u32, rows: u32, stride: u32, q: u32, v0: vec4<f32>, v1: vec4<f32>, v2: vec4<f32>, v3: vec4<f32>) {
  dx[r0 * stride + q] = v0;
  if (r0 + 1u < rows) {
    dx[(r0 + 1u) * stride + q] = v1;
  }
  if (r0 + 2u < rows) {
    dx[(r0 + 2u) * stride + q] = v2;
  }
  if (r0 + 3u < rows) {
    dx[(r0 + 3u) * stride + q] = v3;
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

// B is read from `b`, or from `aux` when b_from_aux (linear_backward_tiled's weight tiles,
// whose `b` holds the parameters): a uniform branch.
fn tiled_product(lid: vec2<u32>, tile_row: u32, tile_col: u32, inner: u32, sa: Strided, sb: Strided, b_from_aux: bool) -> array<vec4<f32>, 4> {
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
        if (b_from_aux) {
          vb = aux[i >> 2u][i & 3u];
        } else {
          vb = b[i >> 2u][i & 3u];
        }
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

// x·Wᵀ for the workgroup's tile (before the bias and activation).
fn forward_tile(lid: vec2<u32>, wid: vec3<u32>) -> array<vec4<f32>, 4> {
  let qi = quads(p.in_features);
  return tiled_product(lid, wid.y * TILE, wid.x * TILE, qi * 4u,
                       Strided(0u, qi * 4u, 1u, p.rows),
                       Strided(p.weight_offset, qi * 4u, 1u, p.out_features), false);
}

// Same result as linear_forward.
@compute @workgroup_size(BLOCK_X, BLOCK_Y, 1)
fn linear_forward_tiled(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
  let qo = quads(p.out_features);
  let acc = forward_tile(lid.xy, wid);
  let q = wid.x * BLOCK_X + lid.x;
  let r0 = (wid.y * BLOCK_Y + lid.y) * 4u;
  if (q < qo && r0 < p.rows) {
    let n0 = q * 4u;
    store_rows(0u, r0, p.rows, qo, q, forward_epilogue(acc[0], n0), forward_epilogue(acc[1], n0),
               forward_epilogue(acc[2], n0), forward_epilogue(acc[3], n0));
  }
}

// dx for the tile (tx, ty) of (B, IN): an invocation's four rows r0.. of column quad q, to store
// when `store` (the caller stores them: into c, or into dx for linear_backward_tiled).
struct InputTile {
  store: bool,
  q: u32,
  r0: u32,
  v: array<vec4<f32>, 4>,
}

fn input_tile(lid: vec2<u32>, tx: u32, ty: u32) -> InputTile {
  let qi = quads(p.in_features);
  let qo = quads(p.out_features);
  let acc = tiled_product(lid, ty * TILE, tx * TILE, p.out_features,
                          Strided(0u, qo * 4u, 1u, p.rows),
                          Strided(p.weight_offset, 1u, qi * 4u, p.in_features), false);
  var t: InputTile;
  t.q = tx * BLOCK_X + lid.x;
  t.r0 = (ty * BLOCK_Y + lid.y) * 4u;
  t.store = t.q < qi && t.r0 < p.rows;
  if (t.store) {
    let last_row = p.rows - 1u;
    for (var i = 0u; i < 4u; i++) {
      t.v[i] = input_epilogue(acc[i], min(t.r0 + i, last_row), t.q);
    }
  }
  return t;
}

// Same result as linear_backward_input.
@compute @workgroup_size(BLOCK_X, BLOCK_Y, 1)
fn linear_backward_input_tiled(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
  let t = input_tile(lid.xy, wid.x, wid.y);
  if (t.store) {
    store_rows(0u, t.r0, p.rows, quads(p.in_features), t.q, t.v[0], t.v[1], t.v[2], t.v[3]);
  }
}

// dW and db for the tile (tx, ty) of (OUT, IN), with x read from `b`, or from `aux` (x_in_aux).
// The first column of tiles (tx = 0) also sums dy over the batch for its 32 outputs, four per
// invocation of its first column (a bias kernel of its own cost a dispatch per layer, which
// real GPUs pay in latency).
fn weight_tile(lid: vec2<u32>, tx: u32, ty: u32, x_in_aux: bool) {
  let qi = quads(p.in_features);
  let qo = quads(p.out_features);
  let acc = tiled_product(lid, ty * TILE, tx * TILE, p.rows,
                          Strided(0u, 1u, qo * 4u, p.out_features),
                          Strided(0u, 1u, qi * 4u, p.in_features), x_in_aux);
  let q = tx * BLOCK_X + lid.x;
  let n0 = (ty * BLOCK_Y + lid.y) * 4u;
  if (q < qi && n0 < p.out_features) {
    store_rows(p.weight_offset / 4u, n0, p.out_features, qi, q, acc[0], acc[1], acc[2], acc[3]);
  }
  if (tx == 0u && lid.x == 0u && n0 < p.out_features) {
    var s = vec4<f32>(0.0);
    for (var m = 0u; m < p.rows; m++) {
      s += a[m * qo + n0 / 4u];
    }
    store_bias4(n0, s);
  }
}

// Same result as linear_backward_weight, db included.
@compute @workgroup_size(BLOCK_X, BLOCK_Y, 1)
fn linear_backward_weight_tiled(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
  weight_tile(lid.xy, wid.x, wid.y, false);
}

// A layer's whole backward in one dispatch (the fused step form, fc5): workgroups 0..W-1 (a row
// of workgroups, W = the weight gradient's tiles) are linear_backward_weight_tiled's, the rest
// linear_backward_input_tiled's with dx in its own binding (here `b` holds the parameters and
// `aux` the layer's input, which the weight tiles read as x). Both outputs tile IN.
@compute @workgroup_size(BLOCK_X, BLOCK_Y, 1)
fn linear_backward_tiled(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
  let tiles_x = (quads(p.in_features) + BLOCK_X - 1u) / BLOCK_X;
  let weight_tiles = tiles_x * ((p.out_features + TILE - 1u) / TILE);
  let g = wid.x;
  if (g < weight_tiles) {
    weight_tile(lid.xy, g % tiles_x, g / tiles_x, true);
  } else {
    let h = g - weight_tiles;
    let t = input_tile(lid.xy, h % tiles_x, h / tiles_x);
    if (t.store) {
      store_rows_dx(t.r0, p.rows, quads(p.in_features), t.q, t.v[0], t.v[1], t.v[2], t.v[3]);
    }
  }
}

// fc5's forward with the loss in its epilogue (the fused step form, real GPUs: a dispatch less):
// the logits as linear_forward_tiled writes them, then per element BCE against the target and
// dlogits = σ(logit) − target (bce.wgsl, as loss_bce_kl computes them), and the workgroup's Σ BCE
// as one partial-sum record (Σ BCE, 0) at partials_at + B + the workgroup's index; latent_forward
// wrote each row's KL at partials_at + row, and latent_backward adds them all up.
var<workgroup> bce_sums: array<f32, 64>; // BLOCK_X · BLOCK_Y

@compute @workgroup_size(BLOCK_X, BLOCK_Y, 1)
fn linear_forward_loss_tiled(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let qo = quads(p.out_features);
  let acc = forward_tile(lid.xy, wid);
  let q = wid.x * BLOCK_X + lid.x;
  let r0 = (wid.y * BLOCK_Y + lid.y) * 4u;
  var bce = vec4<f32>(0.0);
  if (q < qo && r0 < p.rows) {
    let n0 = q * 4u;
    let valid = col_mask(n0, p.out_features);
    for (var i = 0u; i < 4u; i++) {
      if (r0 + i < p.rows) {
        let at = (r0 + i) * qo + q;
        let l = forward_epilogue(acc[i], n0);
        let t = targets[at];
        c[at] = l;
        bce += select(vec4<f32>(0.0), bce_with_logits(l, t), valid);
        dlogits[at] = select(vec4<f32>(0.0), sigmoid(l) - t, valid);
      }
    }
  }
  let t = lid.y * BLOCK_X + lid.x;
  bce_sums[t] = (bce.x + bce.y) + (bce.z + bce.w);
  for (var width = BLOCK_X * BLOCK_Y / 2u; width > 0u; width = width / 2u) {
    workgroupBarrier();
    if (t < width) {
      bce_sums[t] = bce_sums[t] + bce_sums[t + width];
    }
  }
  if (t == 0u) {
    let g = wid.y * nwg.x + wid.x;
    stats[p.partials_at + p.rows + g] = vec4<u32>(bitcast<u32>(bce_sums[0]), 0u, 0u, 0u);
  }
}
