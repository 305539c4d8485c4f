//! JS values in and out of the API: the config object, the settings the page's form is built
//! from, and the result objects the trainer's calls resolve to.

use wasm_bindgen::prelude::*;

use super::{js, ApiError};
use crate::config::VaeConfig;
use crate::fields::{self, Default, Kind};
use crate::session;
use crate::session::EngineChoice;

/// Field `name` of a JS object, read by `as` (e.g. `JsValue::as_f64`): `None` when the object
/// or the field is absent, an error naming the field and `kind` when it is of another type.
fn read<T>(
    obj: &JsValue,
    name: &str,
    kind: &str,
    as_: impl Fn(&JsValue) -> Option<T>,
) -> Result<Option<T>, ApiError> {
    if obj.is_undefined() || obj.is_null() {
        return Ok(None);
    }
    let v = js_sys::Reflect::get(obj, &JsValue::from_str(name))
        .map_err(|_| ApiError::bad_config(&format!("config.{name} cannot be read")))?;
    if v.is_undefined() || v.is_null() {
        return Ok(None);
    }
    as_(&v)
        .map(Some)
        .ok_or_else(|| ApiError::bad_config(&format!("config.{name} must be {kind}")))
}

/// A number field: `None` when absent, an error naming it when not a number.
fn field(obj: &JsValue, name: &str) -> Result<Option<f64>, ApiError> {
    read(obj, name, "a number", JsValue::as_f64)
}

/// A boolean field: `None` when absent, an error naming it otherwise.
fn flag(obj: &JsValue, name: &str) -> Result<Option<bool>, ApiError> {
    read(obj, name, "true or false", JsValue::as_bool)
}

/// A whole-number field: `None` when absent, an error naming it when not a whole number ≥ 0.
fn whole(obj: &JsValue, name: &str) -> Result<Option<f64>, ApiError> {
    match field(obj, name)? {
        None => Ok(None),
        Some(x) if x.is_finite() && x >= 0.0 && x.fract() == 0.0 && x <= 1e9 => Ok(Some(x)),
        Some(x) => Err(ApiError::bad_config(&format!(
            "config.{name} must be a whole number ≥ 0, got {x}"
        ))),
    }
}

/// The engine `config.engine` asks for: "auto" (the default), "webgpu" or "cpu".
pub(super) fn engine_from_js(obj: &JsValue) -> Result<EngineChoice, ApiError> {
    match read(obj, "engine", "a string", JsValue::as_string)? {
        None => Ok(EngineChoice::Auto),
        Some(name) => EngineChoice::parse(&name).map_err(js),
    }
}

/// A [`VaeConfig`] from the JS config (every field of [`fields::fields`] optional; the PyTorch
/// reference's defaults otherwise), validated. `engine` is read by [`engine_from_js`].
pub(super) fn config_from_js(obj: &JsValue) -> Result<VaeConfig, ApiError> {
    if !obj.is_undefined() && !obj.is_null() {
        if !obj.is_object() {
            return Err(ApiError::bad_config(
                "invalid config: config must be an object such as { batchSize: 128 }",
            ));
        }
        for key in js_sys::Object::keys(&js_sys::Object::from(obj.clone())).iter() {
            let key = key.as_string().unwrap_or_default();
            fields::check_key(&key).map_err(js)?;
        }
    }
    let mut cfg = VaeConfig::default();
    for f in fields::fields() {
        let set = match f.kind {
            Kind::Whole { .. } => {
                whole(obj, f.name)?.is_none_or(|v| fields::set_number(&mut cfg, f.name, v))
            }
            Kind::Real { .. } => {
                field(obj, f.name)?.is_none_or(|v| fields::set_number(&mut cfg, f.name, v))
            }
            Kind::Flag => flag(obj, f.name)?.is_none_or(|v| fields::set_flag(&mut cfg, f.name, v)),
            Kind::Choice(_) => true,
        };
        if !set {
            return Err(ApiError::bad_config(&format!(
                "config.{} cannot be set",
                f.name
            )));
        }
    }
    cfg.validate(None).map_err(js)?;
    Ok(cfg)
}

/// A count or index argument: a whole number in `min..=max`, or an error naming the argument
/// and its range (JS would turn NaN into 0 and −1 into 4294967295).
pub(super) fn count(name: &str, v: f64, min: u32, max: u32) -> Result<u32, ApiError> {
    if v.is_finite() && v.fract() == 0.0 && v >= f64::from(min) && v <= f64::from(max) {
        Ok(v as u32)
    } else {
        Err(ApiError::bad_argument(&format!(
            "invalid {name}: {v} is not a whole number in {min}..={max}"
        )))
    }
}

/// The defaults and limits of every config field (one source: [`fields::fields`]) and what the
/// page's form needs besides: `{ defaults: {...}, limits: {...}, idxFiles: [...], recordFields: [...],
/// checkpointKeys: [...] }`.
#[wasm_bindgen(unchecked_return_type = "Settings")]
pub fn settings() -> Result<JsValue, ApiError> {
    let o = js_sys::Object::new();
    let set = |obj: &js_sys::Object, k: &str, v: JsValue| {
        js_sys::Reflect::set(obj, &JsValue::from_str(k), &v)
            .map(|_| ())
            .map_err(|_| ApiError::bad_argument("settings: cannot build the object"))
    };
    let strings = |items: &[&str]| -> JsValue {
        items
            .iter()
            .map(|s| JsValue::from_str(s))
            .collect::<js_sys::Array>()
            .into()
    };
    let (defaults, limits) = (js_sys::Object::new(), js_sys::Object::new());
    for f in fields::fields() {
        let default = match f.default {
            Default::Number(v) => v.into(),
            Default::Flag(b) => b.into(),
            Default::Name(n) => n.into(),
        };
        set(&defaults, f.name, default)?;
        let limit = js_sys::Object::new();
        match f.kind {
            Kind::Whole { min, max } | Kind::Real { min, max } => {
                set(&limit, "min", min.into())?;
                set(&limit, "max", max.into())?;
            }
            Kind::Flag => set(
                &limit,
                "values",
                [true, false]
                    .map(JsValue::from)
                    .iter()
                    .collect::<js_sys::Array>()
                    .into(),
            )?,
            Kind::Choice(names) => set(&limit, "values", strings(names))?,
        }
        set(&limits, f.name, limit.into())?;
    }
    set(&o, "defaults", defaults.into())?;
    set(&o, "limits", limits.into())?;
    set(&o, "idxFiles", strings(&crate::mnist::FILE_NAMES))?;
    set(&o, "recordFields", strings(&session::RECORD_FIELDS))?;
    set(&o, "checkpointKeys", strings(&crate::checkpoint::keys::ALL))?;
    set(
        &o,
        "maxRequestRows",
        (session::MAX_REQUEST_ROWS as f64).into(),
    )?;
    Ok(o.into())
}

/// Losses and progress after a call to `train` or `flush` (see `session::TrainReport`);
/// `records` holds `settings().recordFields` per step, flat.
#[wasm_bindgen(getter_with_clone)]
#[derive(Debug, Clone)]
pub struct TrainStats {
    pub epoch: u32,
    #[wasm_bindgen(js_name = stepInEpoch)]
    pub step_in_epoch: u32,
    #[wasm_bindgen(js_name = stepsPerEpoch)]
    pub steps_per_epoch: u32,
    #[wasm_bindgen(js_name = globalStep)]
    pub global_step: u32,
    #[wasm_bindgen(js_name = epochFinished)]
    pub epoch_finished: bool,
    pub reconstruction: f64,
    pub kl: f64,
    #[wasm_bindgen(js_name = samplesPerSec)]
    pub samples_per_sec: f64,
    pub records: Vec<f64>,
}

impl From<session::TrainReport> for TrainStats {
    fn from(r: session::TrainReport) -> Self {
        TrainStats {
            epoch: r.position.epoch as u32,
            step_in_epoch: r.position.step_in_epoch,
            steps_per_epoch: r.steps_per_epoch,
            global_step: r.position.global_step as u32,
            epoch_finished: r.epoch_finished,
            reconstruction: r.reconstruction,
            kl: r.kl,
            samples_per_sec: r.samples_per_sec,
            records: r.records,
        }
    }
}

/// One stage of a training step: milliseconds per step and useful GFLOP/s (0 without GEMMs).
#[wasm_bindgen(getter_with_clone)]
#[derive(Debug, Clone)]
pub struct StageTiming {
    pub name: String,
    pub ms: f64,
    pub gflops: f64,
    /// The WGSL entry points it dispatches, e.g. "linear.wgsl: linear_forward".
    pub kernels: Vec<String>,
}

/// A training step stage by stage, against the adapter's multiply-add peak.
#[wasm_bindgen(getter_with_clone)]
#[derive(Debug, Clone)]
pub struct StepTimings {
    pub batch: u32,
    #[wasm_bindgen(js_name = peakGflops)]
    pub peak_gflops: f64,
    #[wasm_bindgen(js_name = stepMs)]
    pub step_ms: f64,
    #[wasm_bindgen(js_name = stepGflops)]
    pub step_gflops: f64,
    pub stages: Vec<StageTiming>,
}

/// μ and log σ² of a batch of inputs, each rows × latent.
#[wasm_bindgen(getter_with_clone)]
#[derive(Debug, Clone)]
pub struct Encoding {
    pub mu: Vec<f32>,
    #[wasm_bindgen(js_name = logVar)]
    pub log_var: Vec<f32>,
}

/// ∂(reconstruction)/∂z for one input decoded from one z (latent values), and that
/// reconstruction's BCE (sum over the pixels).
#[wasm_bindgen(getter_with_clone)]
#[derive(Debug, Clone)]
pub struct ReconstructionGradient {
    pub gradient: Vec<f32>,
    pub bce: f64,
}

/// A training batch's images and the normal distribution the encoder gives each of them.
#[wasm_bindgen(getter_with_clone)]
#[derive(Debug, Clone)]
pub struct BatchEncoding {
    /// rows × imageSide² pixels in [0, 1].
    pub pixels: Vec<f32>,
    /// rows × latent.
    pub mu: Vec<f32>,
    #[wasm_bindgen(js_name = logVar)]
    pub log_var: Vec<f32>,
    pub rows: u32,
}

/// The first n test digits' latent means (n × latent) and their labels.
#[wasm_bindgen(getter_with_clone)]
#[derive(Debug, Clone)]
pub struct LatentMeans {
    pub mu: Vec<f32>,
    pub labels: Vec<u8>,
}

/// A training batch's inputs and their reconstructions.
#[wasm_bindgen(getter_with_clone)]
#[derive(Debug, Clone)]
pub struct BatchImages {
    /// rows × imageSide² pixels in [0, 1].
    pub pixels: Vec<f32>,
    /// The model's reconstructions of them, same shape.
    pub reconstruction: Vec<f32>,
    pub rows: u32,
}

/// Test digits placed in two dimensions by their μ (see `session::LatentMap`).
#[wasm_bindgen(getter_with_clone)]
#[derive(Debug, Clone)]
pub struct LatentMap {
    pub points: Vec<f32>,
    pub labels: Vec<u8>,
    pub pca: bool,
    pub explained: Vec<f64>,
    pub mean: Vec<f32>,
    pub components: Vec<f32>,
}

/// Test-set loss per sample (ε drawn as in training).
#[wasm_bindgen]
#[derive(Debug, Clone, Copy)]
pub struct EvalStats {
    pub reconstruction: f64,
    pub kl: f64,
    pub loss: f64,
    pub count: u32,
}

impl From<&crate::session::EvalReport> for EvalStats {
    fn from(r: &crate::session::EvalReport) -> Self {
        EvalStats {
            reconstruction: r.reconstruction,
            kl: r.kl,
            loss: r.loss,
            count: r.count as u32,
        }
    }
}

/// An evaluation in parts (`evaluateSome`): batches done of all, and once `done`, the test-set
/// loss per sample as `evaluate` gives it (NaN before).
#[wasm_bindgen]
#[derive(Debug, Clone, Copy)]
pub struct EvalProgress {
    pub done: bool,
    #[wasm_bindgen(js_name = batchesDone)]
    pub batches_done: u32,
    pub batches: u32,
    pub reconstruction: f64,
    pub kl: f64,
    pub loss: f64,
    pub count: u32,
}

impl From<&crate::session::EvalProgress> for EvalProgress {
    fn from(p: &crate::session::EvalProgress) -> Self {
        let nan = EvalStats {
            reconstruction: f64::NAN,
            kl: f64::NAN,
            loss: f64::NAN,
            count: 0,
        };
        let s = p.report.as_ref().map_or(nan, EvalStats::from);
        EvalProgress {
            done: p.report.is_some(),
            batches_done: p.batches_done,
            batches: p.batches,
            reconstruction: s.reconstruction,
            kl: s.kl,
            loss: s.loss,
            count: s.count,
        }
    }
}
