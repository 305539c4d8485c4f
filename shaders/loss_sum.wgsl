// loss_sum.wgsl: the step's loss from its partial sums, as one function with no bindings of its
// own. Prepended to loss.wgsl (loss_reduce: an evaluation step's sum) and latent.wgsl (a training
// step adds it up in one extra workgroup of latent_backward, saving a dispatch), which both
// declare `step` and `stats`; the same code in both, so a training and an evaluation step add in
// the same fixed order.
//
// The partials live in the stats buffer after the ring of records (at record step.partials_at,
// one record (Σ BCE, Σ KL, 0, 0) as f32 bits per partial): one binding serves both.
// The record written: (Σ BCE and KL as f32 bits, B, flags: bit 0 = non-finite loss; adam.wgsl
// sets bit 1 later in the step when a parameter becomes non-finite). The host reads records back
// asynchronously, many steps at a time.

const SUM_WG: u32 = 64u; // invocations of the workgroup that calls sum_partials

var<workgroup> sums: array<vec2<f32>, SUM_WG>;

// Every invocation of a SUM_WG-wide workgroup must call this (it has barriers).
fn sum_partials(lid: u32) {
  var s = vec2<f32>(0.0);
  for (var g = lid; g < step.loss_partials; g += SUM_WG) {
    let w = stats[step.partials_at + g];
    s = s + vec2<f32>(bitcast<f32>(w.x), bitcast<f32>(w.y));
  }
  sums[lid] = s;
  for (var width = SUM_WG / 2u; width > 0u; width = width / 2u) {
    workgroupBarrier();
    if (lid < width) {
      sums[lid] = sums[lid] + sums[lid + width];
    }
  }
  workgroupBarrier();
  if (lid == 0u) {
    let total = sums[0];
    let bad = non_finite(total.x) || non_finite(total.y);
    stats[step.slot] = vec4<u32>(bitcast<u32>(total.x), bitcast<u32>(total.y), step.rows, select(0u, 1u, bad));
  }
}
