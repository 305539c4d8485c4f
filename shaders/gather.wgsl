// gather.wgsl: builds the batch on the GPU from the dataset uploaded once.
// Shape legend: B = batch rows, IN = pixels per image, N = images in the dataset buffer.
// The dataset is N·IN bytes packed four to a u32 (little-endian byte order).

const GATHER_WG: u32 = 64u;

@group(0) @binding(0) var<uniform> step: StepParams;
@group(0) @binding(1) var<storage, read> images: array<u32>;         // (N·IN) bytes, packed
@group(0) @binding(2) var<storage, read> indices: array<u32>;        // image ids; batch at index_offset
@group(0) @binding(3) var<storage, read_write> x: array<vec4<f32>>;  // (B, ld(IN)) row-major

fn pixel(byte_index: u32) -> f32 {
  let word = images[byte_index >> 2u];
  return f32((word >> ((byte_index & 3u) * 8u)) & 0xFFu) * (1.0 / 255.0);
}

// x[r, c] = images[indices[index_offset + r], c] / 255; one invocation per 4 columns of a row,
// padding columns written as 0.
@compute @workgroup_size(GATHER_WG, 1, 1)
fn gather_batch(@builtin(global_invocation_id) gid: vec3<u32>) {
  let quads = ld(step.in_features) / 4u;
  let q = gid.x;
  let r = gid.y;
  if (q >= quads || r >= step.rows) {
    return;
  }
  let base = indices[step.index_offset + r] * step.in_features;
  var v = vec4<f32>(0.0);
  for (var j = 0u; j < 4u; j++) {
    let c = q * 4u + j;
    if (c < step.in_features) {
      v[j] = pixel(base + c);
    }
  }
  x[r * quads + q] = v;
}
