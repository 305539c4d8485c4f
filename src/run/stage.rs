//! The stages of a training step (the vocabulary both engines' profiles and the page's structure
//! figure use), their useful work, and a profile's figures. Which kernels run a stage is each
//! engine's own: `Stage::kernels` in `model/stage_kernels.rs` (WGSL entry points), `Stage::cpu_kernels` in
//! `cpu/profile.rs`.

use crate::config::VaeConfig;

/// The stages of a training step, in order; a layer index is into fc1, fc2|fc3, fc4, fc5 (the
/// big layers fc1 and fc5 have stages of their own; fc2|fc3, z and fc4 form one each way).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// The batch's images, gathered from the resident dataset into x.
    Gather,
    /// fc1's (0) or fc5's (3) forward product with bias and activation.
    Forward(usize),
    /// fc2|fc3 → z = μ + σ·ε → fc4 with ReLU (one kernel in the fused [`StepForm`]).
    Latent,
    /// BCE + KL, their sum per batch, and the gradient of the logits (in the fused
    /// [`StepForm`], fc5's forward kernel computes BCE and latent_forward KL: no dispatch here).
    Loss,
    /// fc5's (3) or fc1's (0) weight and bias gradients, then its input gradient (none for fc1).
    Backward(usize),
    /// The gradient back through fc4, z (with the KL term) and fc2|fc3 to h1, and those layers'
    /// weight gradients (the fused [`StepForm`] makes these inside Adam's dispatch instead).
    LatentBackward,
    /// Adam on the whole flat parameter buffer.
    Adam,
}

impl Stage {
    pub const FORWARD: [Stage; 5] = [
        Stage::Gather,
        Stage::Forward(0),
        Stage::Latent,
        Stage::Forward(3),
        Stage::Loss,
    ];
    pub const BACKWARD: [Stage; 4] = [
        Stage::Backward(3),
        Stage::LatentBackward,
        Stage::Backward(0),
        Stage::Adam,
    ];

    /// A short name: "fc1 forward", "adam", ….
    pub fn name(self) -> String {
        const LAYERS: [&str; 4] = ["fc1", "fc2|fc3", "fc4", "fc5"];
        let layer = |i: usize| LAYERS.get(i).copied().unwrap_or("fc?");
        match self {
            Stage::Gather => "gather".into(),
            Stage::Forward(i) => format!("{} forward", layer(i)),
            Stage::Latent => "fc2|fc3 · z · fc4 forward".into(),
            Stage::Loss => "loss".into(),
            Stage::Backward(i) => format!("{} backward", layer(i)),
            Stage::LatentBackward => "fc2|fc3 · z · fc4 backward".into(),
            Stage::Adam => "adam".into(),
        }
    }
}

/// One stage of a training step.
#[derive(Debug, Clone, PartialEq)]
pub struct StageTime {
    pub name: String,
    /// Milliseconds per step.
    pub ms: f64,
    /// Useful FLOP per step (the matrix products; 0 for the other stages).
    pub flop: f64,
    /// The WGSL entry points it dispatches (see [`Stage::kernels`]).
    pub kernels: Vec<String>,
}

impl StageTime {
    pub fn gflops(&self) -> f64 {
        if self.ms > 0.0 {
            self.flop / self.ms / 1e6
        } else {
            0.0
        }
    }
}

/// A training step, stage by stage, against the adapter's peak.
#[derive(Debug, Clone, PartialEq)]
pub struct StepProfile {
    pub batch: u32,
    /// The multiply-add probe's GFLOP/s.
    pub peak_gflops: f64,
    /// A whole step, measured as consecutive steps in one submit.
    pub step_ms: f64,
    /// Useful FLOP of a whole step (every matrix product, forward and backward).
    pub step_flop: f64,
    pub stages: Vec<StageTime>,
}

/// Useful FLOP of one training step of `cfg` at `rows` rows, per stage.
pub fn stage_flop(cfg: &VaeConfig, stage: Stage, rows: u32) -> f64 {
    let (i, h, l) = (cfg.input as f64, cfg.hidden as f64, cfg.latent as f64);
    let dims = [(i, h), (h, 2.0 * l), (l, h), (h, i)];
    let b = f64::from(rows);
    let forward = |k: usize| dims.get(k).map_or(0.0, |(a, c)| 2.0 * b * a * c);
    // Weight gradient, and the input gradient for every layer but the first.
    let backward = |k: usize| forward(k) * if k == 0 { 1.0 } else { 2.0 };
    match stage {
        Stage::Forward(k) => forward(k),
        Stage::Latent => forward(1) + forward(2),
        Stage::Backward(k) => backward(k),
        // On the GPU the weight-gradient half of these runs inside Adam's dispatch.
        Stage::LatentBackward => backward(1) + backward(2),
        _ => 0.0,
    }
}

/// Useful FLOP of one training sample of `cfg` (every matrix product, forward and backward;
/// 3.28 M for 784-400-20).
pub fn flop_per_sample(cfg: &VaeConfig) -> f64 {
    Stage::FORWARD
        .into_iter()
        .chain(Stage::BACKWARD)
        .map(|s| stage_flop(cfg, s, 1))
        .sum()
}
