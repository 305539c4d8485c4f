//! The WGSL entry points that run each stage of a step (the run layer names the stages).

use super::*;

impl Stage {
    /// The WGSL entry points that run this stage in GEMM form `form` and step form `step` (the
    /// names in `shaders/`).
    pub fn kernels(self, form: GemmForm, step: StepForm) -> Vec<String> {
        let fused = step == StepForm::Fused;
        let suffix = match form {
            GemmForm::Direct => "",
            GemmForm::Tiled => "_tiled",
            GemmForm::DirectSubgroup => "_subgroup",
        };
        let linear = |name: &str| format!("linear.wgsl: linear_{name}{suffix}");
        // A layer's weight and bias gradients, then its input gradient.
        let linear_backward = |input: bool| {
            let mut k = vec![linear("backward_weight")];
            if input {
                k.push(linear("backward_input"));
            }
            k
        };
        match self {
            Stage::Gather => vec!["gather.wgsl: gather_batch".into()],
            Stage::Forward(3) if fused => vec!["linear.wgsl: linear_forward_loss_tiled".into()],
            Stage::Forward(_) => vec![linear("forward")],
            Stage::Latent if fused => vec!["latent.wgsl: latent_forward".into()],
            Stage::Latent => vec![linear("forward"), "reparam.wgsl: reparam_forward".into()],
            // Computed in fc5's forward kernel.
            Stage::Loss if fused => vec![],
            Stage::Loss => vec![
                "loss.wgsl: loss_bce_kl".into(),
                "loss.wgsl: loss_reduce".into(),
            ],
            Stage::Backward(3) if fused => vec!["linear.wgsl: linear_backward_tiled".into()],
            Stage::Backward(i) => linear_backward(i > 0),
            Stage::LatentBackward if fused => vec!["latent.wgsl: latent_backward".into()],
            Stage::LatentBackward => {
                let mut k = linear_backward(true);
                k.push("reparam.wgsl: reparam_backward".into());
                k
            }
            Stage::Adam => vec!["adam.wgsl: adam_step".into()],
        }
    }
}
