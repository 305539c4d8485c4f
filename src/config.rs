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
/// Largest KL weight β accepted (the page offers 0 … 4).
pub const MAX_KL_WEIGHT: f32 = 100.0;
/// Smallest learning rate the page's form offers (the engine takes any positive rate).
pub const MIN_FORM_LR: f64 = 1e-6;
/// Largest seed the page's form and the JS config take.
pub const MAX_SEED: u64 = 1_000_000_000;

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
        }
    }
}

/// `v` as the shortest decimal that reads back as the same f32 (0.001, not 0.0010000000474974513).
fn shortest(v: f32) -> f64 {
    v.to_string().parse().unwrap_or(f64::from(v))
}

/// The page's form fields with their default, minimum and maximum, from this file's constants
/// and [`VaeConfig::default`] (names as the JS config spells them).
pub fn form_fields() -> [(&'static str, f64, f64, f64); 6] {
    let d = VaeConfig::default();
    [
        ("epochs", d.epochs as f64, 1.0, MAX_EPOCHS as f64),
        ("batchSize", d.batch_size as f64, 1.0, MAX_BATCH as f64),
        ("lr", shortest(d.lr), MIN_FORM_LR, shortest(MAX_LR)),
        ("hidden", d.hidden as f64, 1.0, MAX_HIDDEN as f64),
        ("latent", d.latent as f64, 1.0, MAX_LATENT as f64),
        ("seed", d.seed as f64, 0.0, MAX_SEED as f64),
    ]
}

/// The keys the JS config object (`Trainer.create(config)`) takes.
pub const JS_KEYS: [&str; 10] = [
    "epochs",
    "batchSize",
    "lr",
    "hidden",
    "latent",
    "input",
    "seed",
    "klWeight",
    "variational",
    "engine",
];

/// Checks a JS config key: `Ok` for one of [`JS_KEYS`], otherwise an error that names it and,
/// when it is a known key spelled another way (`batch_size`, `BatchSize`, `learningRate`…),
/// the right spelling.
pub fn check_js_key(key: &str) -> Result<()> {
    if JS_KEYS.contains(&key) {
        return Ok(());
    }
    let fold = |s: &str| -> String {
        s.chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .map(|c| c.to_ascii_lowercase())
            .collect()
    };
    let k = fold(key);
    let alias = match k.as_str() {
        "learningrate" | "rate" => Some("lr"),
        "beta" | "klbeta" => Some("klWeight"),
        "batch" => Some("batchSize"),
        "latentsize" | "latentdim" | "zdim" => Some("latent"),
        "hiddensize" | "hdim" => Some("hidden"),
        _ => JS_KEYS.iter().copied().find(|j| fold(j) == k),
    };
    let hint = alias.map_or_else(
        || format!("known keys: {}", JS_KEYS.join(", ")),
        |a| format!("did you mean {a}?"),
    );
    Err(VaeError::Config {
        field: "config",
        message: format!("unknown key {key} — {hint}"),
    })
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
