//! The JS API's config object (`Trainer.create(config)`, `spawnTrainer(config)`), as one table:
//! each field's name as JS spells it, its kind and range, and its default — from [`VaeConfig`]'s
//! defaults and limits, so the page's form, `settings()`, the config reader and the checks all
//! read the same figures. The TypeScript `TrainerConfig` and `Settings` (in `web.rs`) are checked
//! against this table by `tests/fields.rs`. `config.rs` itself knows nothing of JS.

use crate::config::{
    VaeConfig, MAX_BATCH, MAX_EPOCHS, MAX_HIDDEN, MAX_INPUT, MAX_KL_WEIGHT, MAX_LATENT, MAX_LR,
};
use crate::error::{Result, VaeError};

/// The engines a config may ask for (`engine`), the default first.
pub const ENGINE_NAMES: [&str; 3] = ["auto", "webgpu", "cpu"];
/// Smallest learning rate the page's form offers (the engine takes any positive rate).
pub const MIN_FORM_LR: f64 = 1e-6;
/// Largest seed the page's form and the JS config take.
pub const MAX_SEED: u64 = 1_000_000_000;

/// What a field holds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Kind {
    /// A whole number in `min ..= max`.
    Whole { min: f64, max: f64 },
    /// A number in `min ..= max`.
    Real { min: f64, max: f64 },
    /// true or false.
    Flag,
    /// One of these names.
    Choice(&'static [&'static str]),
}

/// A field's default.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Default {
    Number(f64),
    Flag(bool),
    Name(&'static str),
}

/// One field of the JS config.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Field {
    /// As JS spells it.
    pub name: &'static str,
    pub kind: Kind,
    pub default: Default,
    /// The page's settings form offers it.
    pub in_form: bool,
}

/// `v` as the shortest decimal that reads back as the same f32 (0.001, not 0.0010000000474974513).
fn shortest(v: f32) -> f64 {
    v.to_string().parse().unwrap_or(f64::from(v))
}

/// Every field of the JS config, in the order the docs list them.
pub fn fields() -> [Field; 11] {
    let d = VaeConfig::default();
    let whole = |name, default: usize, min: f64, max: usize, in_form| Field {
        name,
        kind: Kind::Whole {
            min,
            max: max as f64,
        },
        default: Default::Number(default as f64),
        in_form,
    };
    [
        whole("epochs", d.epochs, 1.0, MAX_EPOCHS, true),
        whole("batchSize", d.batch_size, 1.0, MAX_BATCH, true),
        Field {
            name: "lr",
            kind: Kind::Real {
                min: MIN_FORM_LR,
                max: shortest(MAX_LR),
            },
            default: Default::Number(shortest(d.lr)),
            in_form: true,
        },
        whole("hidden", d.hidden, 1.0, MAX_HIDDEN, true),
        whole("latent", d.latent, 1.0, MAX_LATENT, true),
        whole("input", d.input, 1.0, MAX_INPUT, false),
        whole("seed", d.seed as usize, 0.0, MAX_SEED as usize, true),
        Field {
            name: "klWeight",
            kind: Kind::Real {
                min: 0.0,
                max: shortest(MAX_KL_WEIGHT),
            },
            default: Default::Number(shortest(d.kl_weight)),
            in_form: false,
        },
        Field {
            name: "variational",
            kind: Kind::Flag,
            default: Default::Flag(d.variational),
            in_form: false,
        },
        Field {
            name: "reparameterize",
            kind: Kind::Flag,
            default: Default::Flag(d.reparameterize),
            in_form: false,
        },
        Field {
            name: "engine",
            kind: Kind::Choice(&ENGINE_NAMES),
            default: Default::Name(ENGINE_NAMES[0]),
            in_form: false,
        },
    ]
}

/// Sets numeric field `name` of `cfg` to `v` (checked later by [`VaeConfig::validate`]);
/// false when `name` is not a numeric field.
pub fn set_number(cfg: &mut VaeConfig, name: &str, v: f64) -> bool {
    match name {
        "epochs" => cfg.epochs = v as usize,
        "batchSize" => cfg.batch_size = v as usize,
        "lr" => cfg.lr = v as f32,
        "hidden" => cfg.hidden = v as usize,
        "latent" => cfg.latent = v as usize,
        "input" => cfg.input = v as usize,
        "seed" => cfg.seed = v as u64,
        "klWeight" => cfg.kl_weight = v as f32,
        _ => return false,
    }
    true
}

/// Sets flag field `name` of `cfg`; false when `name` is not a flag.
pub fn set_flag(cfg: &mut VaeConfig, name: &str, v: bool) -> bool {
    match name {
        "variational" => cfg.variational = v,
        "reparameterize" => cfg.reparameterize = v,
        _ => return false,
    }
    true
}

/// Checks a JS config key: `Ok` for a field's name, otherwise an error that names it and, when
/// it is a known key spelled another way (`batch_size`, `BatchSize`, `learningRate`…), the
/// right spelling.
pub fn check_key(key: &str) -> Result<()> {
    let all = fields();
    let names: Vec<&str> = all.iter().map(|f| f.name).collect();
    if names.contains(&key) {
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
        _ => names.iter().copied().find(|j| fold(j) == k),
    };
    let hint = alias.map_or_else(
        || format!("known keys: {}", names.join(", ")),
        |a| format!("did you mean {a}?"),
    );
    Err(VaeError::Config {
        field: "config",
        message: format!("unknown key {key} — {hint}"),
    })
}
