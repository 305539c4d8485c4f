//! Checkpoints as safetensors with the PyTorch reference's tensor names and shapes (f32), so
//! `safetensors.torch.load_file` gives a `state_dict` the reference `VAE` loads directly.
//!
//! One metadata schema for every writer (the CLI and the page, through the session): the keys
//! in [`keys`], versioned by [`keys::SCHEMA`] = [`SCHEMA_VERSION`]. Older files still resume:
//! the page's (`step`, `epoch`, `step_in_epoch`, no schema) and the CLI's (`step`, `epoch`,
//! `format`, no schema; its place in the epoch follows from the step count).

use std::collections::HashMap;

use crate::error::{Result, VaeError};
use crate::layout::{ParamLayout, TENSOR_NAMES};

/// A tensor to write: its name, shape and little-endian f32 bytes.
type NamedTensor = (String, Vec<usize>, Vec<u8>);

/// Serialises the flat parameters. `meta` goes into the safetensors header's `__metadata__`.
pub fn save(layout: &ParamLayout, flat: &[f32], meta: &[(&str, String)]) -> Result<Vec<u8>> {
    let tensors = named_tensors(layout, flat, "")?;
    serialize(&tensors, meta)
}

/// The tensors of `flat` (layout order) under their PyTorch names, each after `prefix`, as
/// little-endian f32 bytes. Refuses values that are not finite: a file of them would be refused
/// by [`load`] (and by PyTorch users' eyes), so none is ever written.
fn named_tensors(layout: &ParamLayout, flat: &[f32], prefix: &str) -> Result<Vec<NamedTensor>> {
    if flat.len() != layout.len {
        return Err(VaeError::Checkpoint(format!(
            "{} values given, the layout has {}",
            flat.len(),
            layout.len
        )));
    }
    let unpacked = layout.unpack_all(flat);
    for (name, _, v) in &unpacked {
        let bad = v.iter().filter(|x| !x.is_finite()).count();
        if bad > 0 {
            return Err(VaeError::Diverged(format!(
                "{prefix}{name} holds {bad} non-finite values, so no checkpoint is written; \
                 flush() reads the steps in flight back and restores the last good \
                 parameters, which can then be exported"
            )));
        }
    }
    Ok(unpacked
        .into_iter()
        .map(|(name, shape, v)| {
            (
                format!("{prefix}{name}"),
                shape,
                v.iter().flat_map(|x| x.to_le_bytes()).collect(),
            )
        })
        .collect())
}

fn serialize(tensors: &[NamedTensor], meta: &[(&str, String)]) -> Result<Vec<u8>> {
    let mut views = Vec::with_capacity(tensors.len());
    for (name, shape, bytes) in tensors {
        let view =
            safetensors::tensor::TensorView::new(safetensors::Dtype::F32, shape.clone(), bytes)
                .map_err(|e| VaeError::Checkpoint(format!("{name}: {e}")))?;
        views.push((name.clone(), view));
    }
    let info: HashMap<String, String> = meta
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
    let bytes = safetensors::serialize(views, Some(info))
        .map_err(|e| VaeError::Checkpoint(e.to_string()))?;
    canonical_header(bytes)
}

/// The file with its JSON header's keys sorted: safetensors writes the metadata from a
/// `HashMap`, whose order changes from one map to the next, so the same model and run would
/// give other bytes each time (and a digest of a checkpoint would say nothing). Same keys and
/// values, so the same length: offsets and tensor bytes are untouched.
fn canonical_header(mut bytes: Vec<u8>) -> Result<Vec<u8>> {
    fn sorted(v: serde_json::Value) -> serde_json::Value {
        match v {
            serde_json::Value::Object(map) => {
                let mut entries: Vec<_> = map.into_iter().collect();
                entries.sort_by(|a, b| a.0.cmp(&b.0));
                serde_json::Value::Object(
                    entries.into_iter().map(|(k, v)| (k, sorted(v))).collect(),
                )
            }
            other => other,
        }
    }
    let bad = |what: &str| VaeError::Checkpoint(format!("writing the header: {what}"));
    let head: [u8; 8] = bytes
        .get(..8)
        .and_then(|h| h.try_into().ok())
        .ok_or_else(|| bad("no length"))?;
    let n = usize::try_from(u64::from_le_bytes(head)).map_err(|_| bad("length"))?;
    let header = bytes.get(8..8 + n).ok_or_else(|| bad("short file"))?;
    let value: serde_json::Value =
        serde_json::from_slice(header).map_err(|e| bad(&e.to_string()))?;
    let text = serde_json::to_string(&sorted(value)).map_err(|e| bad(&e.to_string()))?;
    if text.len() > n {
        return Err(bad("the sorted header is longer"));
    }
    // safetensors pads the header with spaces to its length; the same here.
    bytes[8..8 + text.len()].copy_from_slice(text.as_bytes());
    bytes[8 + text.len()..8 + n].fill(b' ');
    Ok(bytes)
}

/// Parses a checkpoint for `layout`: every tensor must be present, f32, and of the model's
/// shape. Returns new flat parameters; the caller's current ones are untouched on error.
pub fn load(layout: &ParamLayout, bytes: &[u8]) -> Result<Vec<f32>> {
    let st = safetensors::SafeTensors::deserialize(bytes)
        .map_err(|e| VaeError::Checkpoint(format!("not a safetensors file: {e}")))?;
    read_named(&st, layout, "")
}

/// The tensors named `prefix` + each PyTorch name, flat in layout order.
fn read_named(
    st: &safetensors::SafeTensors<'_>,
    layout: &ParamLayout,
    prefix: &str,
) -> Result<Vec<f32>> {
    let mut flat = vec![0.0f32; layout.len];
    for name in TENSOR_NAMES {
        let t = layout
            .get(name)
            .ok_or_else(|| VaeError::Checkpoint(format!("layout lacks {name}")))?;
        let name = format!("{prefix}{name}");
        let view = st
            .tensor(&name)
            .map_err(|_| VaeError::Checkpoint(format!("tensor {name} is missing")))?;
        let values: Vec<f32> = match view.dtype() {
            safetensors::Dtype::F32 => view
                .data()
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect(),
            // A display copy (`to_f16`): half the bytes, each value f16's rounding of the f32.
            safetensors::Dtype::F16 => view
                .data()
                .chunks_exact(2)
                .map(|c| f16_to_f32(u16::from_le_bytes([c[0], c[1]])))
                .collect(),
            other => {
                return Err(VaeError::Checkpoint(format!(
                    "{name} is {other:?}, expected F32 (or F16)"
                )))
            }
        };
        if view.shape() != t.shape.as_slice() {
            return Err(VaeError::Checkpoint(format!(
                "{name} has shape {:?} but this model needs {:?} (input {}, hidden {}, latent {})",
                view.shape(),
                t.shape,
                layout.input,
                layout.hidden,
                layout.latent
            )));
        }
        if let Some(i) = values.iter().position(|v| !v.is_finite()) {
            return Err(VaeError::Checkpoint(format!("{name}[{i}] is not finite")));
        }
        layout.write(&mut flat, t, &values);
    }
    Ok(flat)
}

/// An IEEE 754 half-precision value as f32 (exact).
pub fn f16_to_f32(h: u16) -> f32 {
    let sign = u32::from(h & 0x8000) << 16;
    let exp = u32::from((h >> 10) & 0x1f);
    let mant = u32::from(h & 0x3ff);
    match exp {
        // Zero and subnormals: mant · 2⁻²⁴ (exact in f32).
        0 => {
            let v = mant as f32 * (1.0 / 16_777_216.0);
            if sign != 0 {
                -v
            } else {
                v
            }
        }
        0x1f => f32::from_bits(sign | 0x7f80_0000 | (mant << 13)),
        _ => f32::from_bits(sign | ((exp + 112) << 23) | (mant << 13)),
    }
}

/// `x` as IEEE 754 half precision, rounded to the nearest (ties to even); ±Inf past ±65504's
/// rounding range, NaN stays NaN.
pub fn f32_to_f16(x: f32) -> u16 {
    let bits = x.to_bits();
    let sign = ((bits >> 16) & 0x8000) as u16;
    let exp = ((bits >> 23) & 0xff) as i32;
    let mant = bits & 0x7f_ffff;
    if exp == 0xff {
        return sign | 0x7c00 | if mant != 0 { 0x200 } else { 0 };
    }
    // Rounds `full >> shift` to the nearest, ties to even.
    let round = |full: u32, shift: u32| -> u32 {
        if shift >= 32 {
            return 0;
        }
        let (m, rem, half) = (full >> shift, full & ((1 << shift) - 1), 1 << (shift - 1));
        if rem > half || (rem == half && m & 1 == 1) {
            m + 1
        } else {
            m
        }
    };
    let e = exp - 112; // the half's biased exponent
    if e >= 0x1f {
        return sign | 0x7c00;
    }
    if e <= 0 {
        // A subnormal half (or zero): m · 2⁻²⁴; a carry into 0x400 is the smallest normal.
        if exp == 0 {
            return sign; // f32 subnormals are far below half's range
        }
        return sign | round(mant | 0x80_0000, (126 - exp) as u32) as u16;
    }
    // A carry out of the mantissa moves into the exponent (up to Inf): the encoding's order.
    sign | ((e as u32) << 10).wrapping_add(round(mant, 13)) as u16
}

/// The checkpoint `bytes` with every tensor stored as f16 — half the bytes, for display where a
/// page downloads a model to show it (the shipped models). Its metadata is the original's with
/// `precision` = "f16"; [`load`] reads it back as f32, each value f16's rounding of the
/// original. A checkpoint of a run to resume stays f32.
pub fn to_f16(bytes: &[u8]) -> Result<Vec<u8>> {
    let st = safetensors::SafeTensors::deserialize(bytes)
        .map_err(|e| VaeError::Checkpoint(format!("not a safetensors file: {e}")))?;
    let (_, meta) = safetensors::SafeTensors::read_metadata(bytes)
        .map_err(|e| VaeError::Checkpoint(format!("not a safetensors file: {e}")))?;
    let mut info: HashMap<String, String> = meta.metadata().clone().unwrap_or_default();
    info.insert("precision".into(), "f16".into());
    let mut names: Vec<String> = st.names().into_iter().map(str::to_string).collect();
    names.sort();
    let mut data = Vec::with_capacity(names.len());
    for name in &names {
        let view = st
            .tensor(name)
            .map_err(|e| VaeError::Checkpoint(format!("{name}: {e}")))?;
        if view.dtype() != safetensors::Dtype::F32 {
            return Err(VaeError::Checkpoint(format!(
                "{name} is {:?}, expected F32",
                view.dtype()
            )));
        }
        let half: Vec<u8> = view
            .data()
            .chunks_exact(4)
            .flat_map(|c| f32_to_f16(f32::from_le_bytes([c[0], c[1], c[2], c[3]])).to_le_bytes())
            .collect();
        data.push((name.clone(), view.shape().to_vec(), half));
    }
    let mut views = Vec::with_capacity(data.len());
    for (name, shape, half) in &data {
        let view =
            safetensors::tensor::TensorView::new(safetensors::Dtype::F16, shape.clone(), half)
                .map_err(|e| VaeError::Checkpoint(format!("{name}: {e}")))?;
        views.push((name.clone(), view));
    }
    let out = safetensors::serialize(views, Some(info))
        .map_err(|e| VaeError::Checkpoint(e.to_string()))?;
    canonical_header(out)
}

/// Adam's state beside a checkpoint (a run interrupted mid-epoch, to resume exactly): its
/// moments under PyTorch's names for them (`exp_avg.fc1.weight`, `exp_avg_sq.fc1.weight`, …)
/// and its step count.
#[derive(Debug, Clone, PartialEq)]
pub struct AdamState {
    pub m: Vec<f32>,
    pub v: Vec<f32>,
    /// Adam's step count t (bias correction).
    pub t: u64,
    /// The run's training step the state belongs to (its checkpoint's `step`).
    pub step: u64,
}

/// Metadata key of [`AdamState::t`].
const ADAM_T: &str = "adam_t";

impl AdamState {
    /// Serialises the state for `layout`.
    pub fn save(&self, layout: &ParamLayout) -> Result<Vec<u8>> {
        let mut tensors = named_tensors(layout, &self.m, "exp_avg.")?;
        tensors.extend(named_tensors(layout, &self.v, "exp_avg_sq.")?);
        serialize(
            &tensors,
            &[
                (keys::SCHEMA, SCHEMA_VERSION.to_string()),
                (keys::STEP, self.step.to_string()),
                (ADAM_T, self.t.to_string()),
            ],
        )
    }

    /// Parses a state written by [`AdamState::save`] for `layout`.
    pub fn load(layout: &ParamLayout, bytes: &[u8]) -> Result<AdamState> {
        let st = safetensors::SafeTensors::deserialize(bytes).map_err(|e| {
            VaeError::Checkpoint(format!("Adam's state: not a safetensors file: {e}"))
        })?;
        let meta = metadata(bytes)?;
        let need = |k: &str| {
            meta_u64(&meta, k)?
                .ok_or_else(|| VaeError::Checkpoint(format!("Adam's state does not say its {k}")))
        };
        let (t, step) = (need(ADAM_T)?, need(keys::STEP)?);
        if t > step {
            return Err(VaeError::Checkpoint(format!(
                "Adam's state says {t} Adam steps at training step {step}"
            )));
        }
        Ok(AdamState {
            m: read_named(&st, layout, "exp_avg.")?,
            v: read_named(&st, layout, "exp_avg_sq.")?,
            t,
            step,
        })
    }
}

/// The `__metadata__` of a checkpoint (empty when it has none).
pub fn metadata(bytes: &[u8]) -> Result<HashMap<String, String>> {
    let (_, meta) = safetensors::SafeTensors::read_metadata(bytes)
        .map_err(|e| VaeError::Checkpoint(format!("not a safetensors file: {e}")))?;
    Ok(meta.metadata().clone().unwrap_or_default())
}

/// A whole-number metadata field, if present and not empty; an error names it if it is not a
/// number.
pub fn meta_u64(meta: &HashMap<String, String>, key: &str) -> Result<Option<u64>> {
    meta.get(key)
        .filter(|v| !v.is_empty())
        .map(|v| {
            v.parse::<u64>().map_err(|_| {
                VaeError::Checkpoint(format!("metadata {key} = {v:?} is not a whole number"))
            })
        })
        .transpose()
}

/// The checkpoint metadata keys (the safetensors header's `__metadata__`).
pub mod keys {
    /// Schema version of the keys below.
    pub const SCHEMA: &str = "vae_webgpu_schema";
    /// Training steps done (Adam steps since the start of the run).
    pub const STEP: &str = "step";
    /// The epoch in progress or last finished (1-based; 0 before training).
    pub const EPOCH: &str = "epoch";
    /// Steps done in that epoch.
    pub const STEP_IN_EPOCH: &str = "step_in_epoch";
    /// Steps per epoch of the data the run trained on.
    pub const STEPS_PER_EPOCH: &str = "steps_per_epoch";
    /// The seed of initialisation, shuffles and ε.
    pub const SEED: &str = "seed";
    /// The learning rate in use.
    pub const LR: &str = "lr";
    /// Always "pt" (safetensors' PyTorch flavour), as `safetensors.torch` writes.
    pub const FORMAT: &str = "format";
    /// "true" for a VAE's run, "false" for a plain autoencoder's (schema 2).
    pub const VARIATIONAL: &str = "variational";
    /// The KL weight β in use (schema 2).
    pub const KL_WEIGHT: &str = "kl_weight";
    /// "false" while the reparameterization trick is switched off (schema 2, optional).
    pub const REPARAMETERIZE: &str = "reparameterize";
    /// Every key a checkpoint of the current schema carries.
    pub const ALL: [&str; 11] = [
        SCHEMA,
        STEP,
        EPOCH,
        STEP_IN_EPOCH,
        STEPS_PER_EPOCH,
        SEED,
        LR,
        FORMAT,
        VARIATIONAL,
        KL_WEIGHT,
        REPARAMETERIZE,
    ];
}

/// The schema this build writes; files of a newer one are refused. 2 added
/// [`keys::VARIATIONAL`] and [`keys::KL_WEIGHT`]; files of schema 1 (and before) still load.
pub const SCHEMA_VERSION: u64 = 2;

/// Where a run stood when its checkpoint was written, and how it was set up.
#[derive(Debug, Clone, PartialEq)]
pub struct RunMeta {
    pub step: u64,
    pub epoch: u64,
    /// `None` only in the CLI's files from before the schema (derive it from the step count).
    pub step_in_epoch: Option<u32>,
    pub steps_per_epoch: Option<u32>,
    pub seed: Option<u64>,
    pub lr: Option<f32>,
    /// Whether the run was a VAE's (`None` before schema 2).
    pub variational: Option<bool>,
    /// The KL weight β (`None` before schema 2).
    pub kl_weight: Option<f32>,
    /// Whether the reparameterization trick was on (`None` in files that do not say).
    pub reparameterize: Option<bool>,
}

impl RunMeta {
    /// The metadata pairs to write, every key of [`keys::ALL`].
    pub fn to_pairs(&self) -> Vec<(&'static str, String)> {
        let opt = |v: Option<String>| v.unwrap_or_default();
        vec![
            (keys::SCHEMA, SCHEMA_VERSION.to_string()),
            (keys::STEP, self.step.to_string()),
            (keys::EPOCH, self.epoch.to_string()),
            (
                keys::STEP_IN_EPOCH,
                opt(self.step_in_epoch.map(|v| v.to_string())),
            ),
            (
                keys::STEPS_PER_EPOCH,
                opt(self.steps_per_epoch.map(|v| v.to_string())),
            ),
            (keys::SEED, opt(self.seed.map(|v| v.to_string()))),
            (keys::LR, opt(self.lr.map(|v| v.to_string()))),
            (keys::FORMAT, "pt".into()),
            (
                keys::VARIATIONAL,
                opt(self.variational.map(|v| v.to_string())),
            ),
            (keys::KL_WEIGHT, opt(self.kl_weight.map(|v| v.to_string()))),
            (
                keys::REPARAMETERIZE,
                opt(self.reparameterize.map(|v| v.to_string())),
            ),
        ]
    }

    /// Reads the run's place from a checkpoint's metadata; `Ok(None)` when it does not say
    /// (a plain `safetensors` file from PyTorch, say: load its weights without resuming).
    pub fn read(meta: &HashMap<String, String>) -> Result<Option<RunMeta>> {
        let num = |k: &str| meta_u64(meta, k);
        if let Some(v) = num(keys::SCHEMA)? {
            if v > SCHEMA_VERSION {
                return Err(VaeError::Checkpoint(format!(
                    "metadata schema {v} is newer than this build reads ({SCHEMA_VERSION}); \
                     update vae-webgpu"
                )));
            }
        }
        let (Some(step), Some(epoch)) = (num(keys::STEP)?, num(keys::EPOCH)?) else {
            return Ok(None);
        };
        let small = |k: &'static str| -> Result<Option<u32>> {
            num(k)?
                .map(|v| {
                    u32::try_from(v).map_err(|_| {
                        VaeError::Checkpoint(format!("metadata {k} = {v} is too large"))
                    })
                })
                .transpose()
        };
        let real = |k: &'static str| -> Result<Option<f32>> {
            match meta.get(k).filter(|v| !v.is_empty()) {
                None => Ok(None),
                Some(v) => match v.parse::<f32>() {
                    Ok(x) if x.is_finite() => Ok(Some(x)),
                    _ => Err(VaeError::Checkpoint(format!(
                        "metadata {k} = {v:?} is not a finite number"
                    ))),
                },
            }
        };
        let flag = |k: &'static str| -> Result<Option<bool>> {
            match meta.get(k).map(String::as_str) {
                None | Some("") => Ok(None),
                Some("true") => Ok(Some(true)),
                Some("false") => Ok(Some(false)),
                Some(v) => Err(VaeError::Checkpoint(format!(
                    "metadata {k} = {v:?} is neither \"true\" nor \"false\""
                ))),
            }
        };
        Ok(Some(RunMeta {
            step,
            epoch,
            step_in_epoch: small(keys::STEP_IN_EPOCH)?,
            steps_per_epoch: small(keys::STEPS_PER_EPOCH)?,
            seed: num(keys::SEED)?,
            lr: real(keys::LR)?,
            variational: flag(keys::VARIATIONAL)?,
            kl_weight: real(keys::KL_WEIGHT)?,
            reparameterize: flag(keys::REPARAMETERIZE)?,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_shape_mismatch() {
        let l = ParamLayout::new(13, 7, 3);
        let flat = l.init(5);
        let bytes = save(&l, &flat, &[("epoch", "1".into())]).unwrap();
        assert_eq!(load(&l, &bytes).unwrap(), flat);
        let other = ParamLayout::new(13, 8, 3);
        let err = load(&other, &bytes).unwrap_err().to_string();
        assert!(
            err.contains("fc1.weight has shape [7, 13] but this model needs [8, 13]"),
            "{err}"
        );
        let meta = metadata(&bytes).unwrap();
        assert_eq!(meta_u64(&meta, "epoch").unwrap(), Some(1));
        assert_eq!(meta_u64(&meta, "step").unwrap(), None);
        let odd = save(&l, &flat, &[("step", "x1".into())]).unwrap();
        assert!(meta_u64(&metadata(&odd).unwrap(), "step").is_err());
        assert!(load(&l, b"garbage")
            .unwrap_err()
            .to_string()
            .contains("not a safetensors file"));
    }

    #[test]
    fn the_same_model_and_run_give_the_same_bytes() {
        // Before the header was sorted, the metadata's order followed each HashMap's seed.
        let l = ParamLayout::new(13, 7, 3);
        let flat = l.init(5);
        let meta = RunMeta {
            step: 40,
            epoch: 2,
            step_in_epoch: Some(7),
            steps_per_epoch: Some(33),
            seed: Some(1),
            lr: Some(1e-3),
            variational: Some(true),
            kl_weight: Some(1.0),
            reparameterize: Some(true),
        }
        .to_pairs();
        let first = save(&l, &flat, &meta).unwrap();
        for _ in 0..16 {
            assert!(save(&l, &flat, &meta).unwrap() == first);
        }
        assert_eq!(load(&l, &first).unwrap(), flat);
        assert_eq!(metadata(&first).unwrap().len(), meta.len());
        let n = u64::from_le_bytes(first[..8].try_into().unwrap()) as usize;
        let header = std::str::from_utf8(&first[8..8 + n]).unwrap();
        let (a, b) = (
            header.find("\"epoch\"").unwrap(),
            header.find("\"step\"").unwrap(),
        );
        assert!(a < b, "sorted keys: {header}");
    }

    fn meta_of(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn run_meta_round_trips_and_reads_older_files() {
        let m = RunMeta {
            step: 470,
            epoch: 2,
            step_in_epoch: Some(1),
            steps_per_epoch: Some(469),
            seed: Some(7),
            lr: Some(1e-3),
            variational: Some(false),
            kl_weight: Some(0.5),
            reparameterize: Some(false),
        };
        let pairs: HashMap<String, String> = m
            .to_pairs()
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect();
        assert_eq!(pairs.len(), keys::ALL.len());
        assert_eq!(RunMeta::read(&pairs).unwrap(), Some(m));
        // The page's files before the schema.
        let page = meta_of(&[("step", "5"), ("epoch", "1"), ("step_in_epoch", "5")]);
        let r = RunMeta::read(&page).unwrap().unwrap();
        assert_eq!((r.step, r.epoch, r.step_in_epoch), (5, 1, Some(5)));
        // The CLI's files before the schema: no place in the epoch.
        let cli = meta_of(&[("epoch", "3"), ("step", "1407"), ("format", "pt")]);
        let r = RunMeta::read(&cli).unwrap().unwrap();
        assert_eq!((r.step, r.epoch, r.step_in_epoch), (1407, 3, None));
        // No position: not resumable, not an error.
        assert_eq!(RunMeta::read(&meta_of(&[("format", "pt")])).unwrap(), None);
        let newer = meta_of(&[("vae_webgpu_schema", "99"), ("step", "1"), ("epoch", "1")]);
        let e = RunMeta::read(&newer).unwrap_err().to_string();
        assert!(e.contains("schema 99 is newer"), "{e}");
        // Schema 1 (no variational, no kl_weight) still reads.
        let v1 = meta_of(&[("vae_webgpu_schema", "1"), ("step", "2"), ("epoch", "1")]);
        let r = RunMeta::read(&v1).unwrap().unwrap();
        assert_eq!((r.variational, r.kl_weight), (None, None));
        let odd = meta_of(&[("step", "1"), ("epoch", "1"), ("variational", "yes")]);
        let e = RunMeta::read(&odd).unwrap_err().to_string();
        assert!(e.contains("neither \"true\" nor \"false\""), "{e}");
        let nan = meta_of(&[("step", "1"), ("epoch", "1"), ("kl_weight", "NaN")]);
        let e = RunMeta::read(&nan).unwrap_err().to_string();
        assert!(
            e.contains("kl_weight = \"NaN\" is not a finite number"),
            "{e}"
        );
        let huge = meta_of(&[
            ("step", "1"),
            ("epoch", "1"),
            ("step_in_epoch", "99999999999"),
        ]);
        assert!(RunMeta::read(&huge)
            .unwrap_err()
            .to_string()
            .contains("too large"));
    }

    #[test]
    fn half_precision_round_trips_and_rounds_to_nearest_even() {
        // Every half that is not NaN comes back bit for bit through f32.
        for h in 0..=u16::MAX {
            let x = f16_to_f32(h);
            if x.is_nan() {
                assert!(f32_to_f16(x) & 0x7c00 == 0x7c00 && f32_to_f16(x) & 0x3ff != 0);
            } else {
                assert_eq!(f32_to_f16(x), h, "{h:#06x} → {x}");
            }
        }
        for (x, h) in [
            (1.0f32, 0x3c00u16),
            (-2.0, 0xc000),
            (65504.0, 0x7bff),
            (65519.0, 0x7bff),
            (65520.0, 0x7c00), // the tie rounds to even: 65536, past the range
            (f32::INFINITY, 0x7c00),
            (1.0 / 16_777_216.0, 0x0001), // the smallest subnormal, 2⁻²⁴
            (0.5 / 16_777_216.0, 0x0000), // half of it: ties to even (0)
            (1.5 / 16_777_216.0, 0x0002), // 1.5 of it: ties to even (2)
            (1023.0 / 16_777_216.0, 0x03ff), // the largest subnormal
            (1024.0 / 16_777_216.0, 0x0400), // the smallest normal
            (1.0 / 3.0, 0x3555),
            (1.0 + 1.0 / 2048.0, 0x3c00), // a tie below: even
            (1.0 + 3.0 / 2048.0, 0x3c02), // a tie above: even
            (-0.0, 0x8000),
            (1e-30, 0x0000),
        ] {
            assert_eq!(f32_to_f16(x), h, "{x}");
        }
    }

    #[test]
    fn an_f16_copy_loads_within_halfs_rounding_and_keeps_the_metadata() {
        let l = ParamLayout::new(196, 64, 8);
        let flat = l.init(5);
        let bytes = save(&l, &flat, &[("epoch", "1".into()), ("step", "9".into())]).unwrap();
        let half = to_f16(&bytes).unwrap();
        assert!(
            half.len() < bytes.len() * 6 / 10,
            "{} vs {}",
            half.len(),
            bytes.len()
        );
        let back = load(&l, &half).unwrap();
        for (a, b) in flat.iter().zip(&back) {
            assert!(
                (a - b).abs() <= a.abs() * 2f32.powi(-11) + 1e-7,
                "{a} vs {b}"
            );
        }
        let meta = metadata(&half).unwrap();
        assert_eq!(meta_u64(&meta, "step").unwrap(), Some(9));
        assert_eq!(meta.get("precision").map(String::as_str), Some("f16"));
        assert_eq!(to_f16(&bytes).unwrap(), half, "the same bytes each time");
        assert!(to_f16(&half)
            .unwrap_err()
            .to_string()
            .contains("expected F32"));
    }
}
