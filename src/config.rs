//! Hyperparameters of the VAE and its training, with the PyTorch reference's defaults.

use crate::error::{Result, VaeError};

/// Largest accepted sizes: far past anything sensible for MNIST-like data, small enough that a
/// typo cannot ask the GPU for gigabytes.
pub const MAX_INPUT: usize = 16_384;
pub const MAX_HIDDEN: usize = 8_192;
pub const MAX_LATENT: usize = 1_024;
pub const MAX_BATCH: usize = 8_192;
pub const MAX_EPOCHS: usize = 100_000;
pub const MAX_LR: f32 = 10.0;
/// Largest KL weight β accepted (the page offers 0 … 4 and 784: what reduction='mean' amounts
/// to when KL is averaged over the batch too).
pub const MAX_KL_WEIGHT: f32 = 1000.0;

/// The model (input → hidden → 2·latent → hidden → input) and its training.
#[derive(Debug, Clone, PartialEq)]
pub struct VaeConfig {
    pub input: usize,
    pub hidden: usize,
    pub latent: usize,
    pub batch_size: usize,
    pub lr: f32,
    pub beta1: f32,
    pub beta2: f32,
    pub eps: f32,
    pub epochs: usize,
    pub seed: u64,
    /// β: the objective is BCE + β·KL (1: the seed's VAE; 0: no pull toward the prior).
    pub kl_weight: f32,
    /// true: a VAE (z = μ + σ·ε); false: a plain autoencoder (z = μ, no sampling, no KL term).
    pub variational: bool,
    /// true: the reparameterization trick (z = μ + σ·ε carries the reconstruction's gradient to
    /// μ and σ); false: z is sampled the same way but as a constant — no gradient from the
    /// reconstruction reaches μ or σ, only the KL term trains them (the trick switched off, to
    /// see why it is needed). Only for a VAE.
    pub reparameterize: bool,
}

impl Default for VaeConfig {
    fn default() -> Self {
        VaeConfig {
            input: 784,
            hidden: 400,
            latent: 20,
            batch_size: 128,
            lr: 1e-3,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            epochs: 15,
            seed: 1,
            kl_weight: 1.0,
            variational: true,
            reparameterize: true,
        }
    }
}

fn check_size(field: &'static str, value: usize, max: usize) -> Result<()> {
    if value == 0 {
        return Err(VaeError::config(field, "must be at least 1"));
    }
    if value > max {
        return Err(VaeError::config(
            field,
            format!("{value} is larger than the maximum {max}"),
        ));
    }
    Ok(())
}

impl VaeConfig {
    /// This config with learning rate `lr`, checked (a model changes it in place).
    pub fn with_lr(&self, lr: f32) -> Result<VaeConfig> {
        let cfg = VaeConfig { lr, ..self.clone() };
        cfg.validate(None)?;
        Ok(cfg)
    }

    /// This config with KL weight `kl_weight`, checked (a model changes it in place).
    pub fn with_kl_weight(&self, kl_weight: f32) -> Result<VaeConfig> {
        let cfg = VaeConfig {
            kl_weight,
            ..self.clone()
        };
        cfg.validate(None)?;
        Ok(cfg)
    }

    /// This config with the reparameterization trick on or off, checked (a model changes it in
    /// place).
    pub fn with_reparameterize(&self, reparameterize: bool) -> Result<VaeConfig> {
        let cfg = VaeConfig {
            reparameterize,
            ..self.clone()
        };
        cfg.validate(None)?;
        Ok(cfg)
    }

    /// Whether the reconstruction's gradient flows through z to μ and log σ² (a VAE with the
    /// trick; an autoencoder's z = μ always carries it).
    pub fn grad_through_z(&self) -> bool {
        self.reparameterize || !self.variational
    }

    /// Checks every field; `train_len`, when known, bounds the batch size.
    pub fn validate(&self, train_len: Option<usize>) -> Result<()> {
        check_size("input", self.input, MAX_INPUT)?;
        check_size("hidden", self.hidden, MAX_HIDDEN)?;
        check_size("latent", self.latent, MAX_LATENT)?;
        check_size("batch_size", self.batch_size, MAX_BATCH)?;
        check_size("epochs", self.epochs, MAX_EPOCHS)?;
        if !self.lr.is_finite() || self.lr <= 0.0 {
            return Err(VaeError::config(
                "lr",
                format!("must be a finite number > 0, got {}", self.lr),
            ));
        }
        if self.lr > MAX_LR {
            return Err(VaeError::config(
                "lr",
                format!("{} is larger than the maximum {MAX_LR}", self.lr),
            ));
        }
        if !(0.0..=MAX_KL_WEIGHT).contains(&self.kl_weight) {
            return Err(VaeError::config(
                "kl_weight",
                format!(
                    "must be a number in [0, {MAX_KL_WEIGHT}], got {}",
                    self.kl_weight
                ),
            ));
        }
        if !self.reparameterize && !self.variational {
            return Err(VaeError::config(
                "reparameterize",
                "false needs a VAE (variational: true): an autoencoder samples nothing, so there \
                 is no trick to switch off",
            ));
        }
        for (field, beta) in [("beta1", self.beta1), ("beta2", self.beta2)] {
            if !(0.0..1.0).contains(&beta) {
                return Err(VaeError::config(
                    field,
                    format!("must be in [0, 1), got {beta}"),
                ));
            }
        }
        if !self.eps.is_finite() || self.eps <= 0.0 {
            return Err(VaeError::config(
                "eps",
                format!("must be a finite number > 0, got {}", self.eps),
            ));
        }
        if let Some(n) = train_len {
            if self.batch_size > n {
                return Err(VaeError::config(
                    "batch_size",
                    format!("{} is larger than the {n} training images", self.batch_size),
                ));
            }
        }
        Ok(())
    }
}
