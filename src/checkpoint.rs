//! Checkpoints as safetensors with the PyTorch reference's tensor names and shapes (f32), so
//! `safetensors.torch.load_file` gives a `state_dict` the reference `VAE` loads directly.

use std::collections::HashMap;

use crate::error::{Result, VaeError};
use crate::layout::{ParamLayout, TENSOR_NAMES};

/// Serialises the flat parameters. `meta` goes into the safetensors header's `__metadata__`.
pub fn save(layout: &ParamLayout, flat: &[f32], meta: &[(&str, String)]) -> Result<Vec<u8>> {
    if flat.len() != layout.len {
        return Err(VaeError::Checkpoint(format!(
            "{} values given, the layout has {}",
            flat.len(),
            layout.len
        )));
    }
    let tensors: Vec<(String, Vec<usize>, Vec<u8>)> = layout
        .unpack_all(flat)
        .into_iter()
        .map(|(name, shape, v)| {
            (
                name.to_string(),
                shape,
                v.iter().flat_map(|x| x.to_le_bytes()).collect(),
            )
        })
        .collect();
    let mut views = Vec::with_capacity(tensors.len());
    for (name, shape, bytes) in &tensors {
        let view =
            safetensors::tensor::TensorView::new(safetensors::Dtype::F32, shape.clone(), bytes)
                .map_err(|e| VaeError::Checkpoint(format!("{name}: {e}")))?;
        views.push((name.clone(), view));
    }
    let info: HashMap<String, String> = meta
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
    safetensors::serialize(views, Some(info)).map_err(|e| VaeError::Checkpoint(e.to_string()))
}

/// Parses a checkpoint for `layout`: every tensor must be present, f32, and of the model's
/// shape. Returns new flat parameters; the caller's current ones are untouched on error.
pub fn load(layout: &ParamLayout, bytes: &[u8]) -> Result<Vec<f32>> {
    let st = safetensors::SafeTensors::deserialize(bytes)
        .map_err(|e| VaeError::Checkpoint(format!("not a safetensors file: {e}")))?;
    let mut flat = vec![0.0f32; layout.len];
    for name in TENSOR_NAMES {
        let t = layout
            .get(name)
            .ok_or_else(|| VaeError::Checkpoint(format!("layout lacks {name}")))?;
        let view = st
            .tensor(name)
            .map_err(|_| VaeError::Checkpoint(format!("tensor {name} is missing")))?;
        if view.dtype() != safetensors::Dtype::F32 {
            return Err(VaeError::Checkpoint(format!(
                "{name} is {:?}, expected F32",
                view.dtype()
            )));
        }
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
        let values: Vec<f32> = view
            .data()
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        if let Some(i) = values.iter().position(|v| !v.is_finite()) {
            return Err(VaeError::Checkpoint(format!("{name}[{i}] is not finite")));
        }
        layout.write(&mut flat, t, &values);
    }
    Ok(flat)
}

/// The `__metadata__` of a checkpoint (empty when it has none).
pub fn metadata(bytes: &[u8]) -> Result<HashMap<String, String>> {
    let (_, meta) = safetensors::SafeTensors::read_metadata(bytes)
        .map_err(|e| VaeError::Checkpoint(format!("not a safetensors file: {e}")))?;
    Ok(meta.metadata().clone().unwrap_or_default())
}

/// A whole-number metadata field, if present; an error names it if it is not a number.
pub fn meta_u64(meta: &HashMap<String, String>, key: &str) -> Result<Option<u64>> {
    meta.get(key)
        .map(|v| {
            v.parse::<u64>().map_err(|_| {
                VaeError::Checkpoint(format!("metadata {key} = {v:?} is not a whole number"))
            })
        })
        .transpose()
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
}
