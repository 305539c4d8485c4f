// probe.wgsl: the adapter's multiply-add throughput, the ceiling the GEMMs are measured against.
// Every invocation runs 8 independent chains of vec4 fma (so no chain waits on its own latency)
// for `iters` rounds: 64 multiply-adds, 128 FLOP, per invocation per round. The sum is stored
// so no compiler can drop the work.

struct ProbeParams {
  iters: u32,
  _pad0: u32,
  _pad1: u32,
  _pad2: u32,
}

const PROBE_WG: u32 = 64u;

@group(0) @binding(0) var<uniform> p: ProbeParams;
@group(0) @binding(1) var<storage, read_write> out: array<vec4<f32>>;

@compute @workgroup_size(PROBE_WG, 1, 1)
fn probe_fma(@builtin(global_invocation_id) gid: vec3<u32>) {
  let s = vec4<f32>(f32(gid.x) * 1e-9);
  var x0 = s;
  var x1 = s + 0.1;
  var x2 = s + 0.2;
  var x3 = s + 0.3;
  var x4 = s + 0.4;
  var x5 = s + 0.5;
  var x6 = s + 0.6;
  var x7 = s + 0.7;
  let m = vec4<f32>(0.999);
  let a = vec4<f32>(0.001);
  for (var i = 0u; i < p.iters; i++) {
    x0 = fma(x0, m, a);
    x1 = fma(x1, m, a);
    x2 = fma(x2, m, a);
    x3 = fma(x3, m, a);
    x4 = fma(x4, m, a);
    x5 = fma(x5, m, a);
    x6 = fma(x6, m, a);
    x7 = fma(x7, m, a);
  }
  out[gid.x] = x0 + x1 + x2 + x3 + x4 + x5 + x6 + x7;
}
