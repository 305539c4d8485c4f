// bce.wgsl: the reconstruction loss's arithmetic as functions, with no bindings of its own.
// Prepended to loss.wgsl (loss_bce_kl) and linear.wgsl (linear_forward_loss_tiled: the loss in
// fc5's epilogue), so both compute it alike.

// Stable BCE of sigmoid(l) against t: max(l, 0) − l·t + log(1 + exp(−|l|)).
fn bce_with_logits(l: vec4<f32>, t: vec4<f32>) -> vec4<f32> {
  return max(l, vec4<f32>(0.0)) - l * t + log(1.0 + exp(-abs(l)));
}

fn sigmoid(l: vec4<f32>) -> vec4<f32> {
  let e = exp(-abs(l));
  return select(e / (1.0 + e), 1.0 / (1.0 + e), l >= vec4<f32>(0.0));
}
