//! The flat parameter buffer: every tensor of the VAE in one `f32` allocation, with a layout
//! table naming each tensor as PyTorch does. Gradients and Adam's m and v share this layout, so
//! the optimizer is one dispatch over one range.
//!
//! Matrices are row-major (OUT, IN) as in `torch.nn.Linear`, each row padded to a multiple of 4
//! floats ([`ld`]) so kernels can load `vec4`s; the padding is zero and stays zero (its gradient
//! is zero, so Adam never moves it). With the default sizes (784, 400, 20) nothing is padded.
//! `fc2.weight` is followed directly by `fc3.weight`, and `fc2.bias` by `fc3.bias`, so the μ and
//! log σ² heads run as one linear layer of width 2·L.

use crate::config::VaeConfig;
use crate::rng::{SplitMix64, STREAM_INIT};

/// Row stride of a matrix with `cols` columns: `cols` rounded up to a multiple of 4.
/// Rows the activation buffers hold at least, so the page and the CLI can decode 64 samples
/// even with a small batch.
pub const DISPLAY_ROWS: usize = 64;

/// Rows one GPU pass takes: the batch, and at least [`DISPLAY_ROWS`].
pub fn capacity(cfg: &VaeConfig) -> usize {
    cfg.batch_size.max(DISPLAY_ROWS)
}

/// The sizes that decide whether a model fits a device: the largest buffer bound to a kernel
/// (an activation or the parameters) and the state copy (parameters, m and v in one buffer).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BufferBytes {
    pub largest_binding: u64,
    pub state_copy: u64,
}

/// [`BufferBytes`] of the model `cfg` describes (u64 arithmetic; the config's limits keep every
/// product far below overflow).
pub fn buffer_bytes(cfg: &VaeConfig) -> BufferBytes {
    let rows = capacity(cfg) as u64;
    let params = ParamLayout::from_config(cfg).len as u64 * 4;
    let act = |cols: usize| rows * ld(cols) as u64 * 4;
    let largest_binding = [act(cfg.input), act(cfg.hidden), act(2 * cfg.latent), params]
        .into_iter()
        .max()
        .unwrap_or(params);
    BufferBytes {
        largest_binding,
        state_copy: 3 * params,
    }
}

pub const fn ld(cols: usize) -> usize {
    (cols + 3) & !3
}

/// One named tensor inside the flat buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TensorInfo {
    /// PyTorch name, e.g. `fc1.weight`.
    pub name: &'static str,
    /// PyTorch shape: `[out, in]` for a weight, `[out]` for a bias.
    pub shape: Vec<usize>,
    /// First element in the flat buffer.
    pub offset: usize,
    /// Elements between consecutive rows (`ld(in)` for a weight, the length for a bias).
    pub row_stride: usize,
    /// `in` of the layer, for the `U(-1/sqrt(fan_in), 1/sqrt(fan_in))` init.
    pub fan_in: usize,
}

impl TensorInfo {
    /// Number of values (without padding).
    pub fn numel(&self) -> usize {
        self.shape.iter().product()
    }
    fn rows(&self) -> usize {
        if self.shape.len() == 2 {
            self.shape[0]
        } else {
            1
        }
    }
    fn cols(&self) -> usize {
        *self.shape.last().unwrap_or(&0)
    }
    /// Elements the tensor spans in the flat buffer, padding included.
    pub fn span(&self) -> usize {
        self.rows() * self.row_stride
    }
}

/// A linear layer as the kernels see it: offsets of its weight and bias in the flat buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LayerView {
    pub in_features: usize,
    pub out_features: usize,
    pub weight_offset: usize,
    pub bias_offset: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamLayout {
    pub tensors: Vec<TensorInfo>,
    /// Total length in floats (a multiple of 4).
    pub len: usize,
    pub input: usize,
    pub hidden: usize,
    pub latent: usize,
}

/// The PyTorch tensor names, in the order of the reference model's `state_dict`.
pub const TENSOR_NAMES: [&str; 10] = [
    "fc1.weight",
    "fc1.bias",
    "fc2.weight",
    "fc2.bias",
    "fc3.weight",
    "fc3.bias",
    "fc4.weight",
    "fc4.bias",
    "fc5.weight",
    "fc5.bias",
];

impl ParamLayout {
    pub fn new(input: usize, hidden: usize, latent: usize) -> Self {
        // (name, out, in, is_weight, starts aligned)
        let order: [(&'static str, usize, usize, bool, bool); 10] = [
            ("fc1.weight", hidden, input, true, true),
            ("fc1.bias", hidden, input, false, true),
            ("fc2.weight", latent, hidden, true, true),
            ("fc3.weight", latent, hidden, true, false),
            ("fc2.bias", latent, hidden, false, true),
            ("fc3.bias", latent, hidden, false, false),
            ("fc4.weight", hidden, latent, true, true),
            ("fc4.bias", hidden, latent, false, true),
            ("fc5.weight", input, hidden, true, true),
            ("fc5.bias", input, hidden, false, true),
        ];
        let mut offset = 0;
        let mut tensors = Vec::with_capacity(order.len());
        for (name, out, inp, is_weight, aligned) in order {
            if aligned {
                offset = ld(offset);
            }
            let t = if is_weight {
                TensorInfo {
                    name,
                    shape: vec![out, inp],
                    offset,
                    row_stride: ld(inp),
                    fan_in: inp,
                }
            } else {
                TensorInfo {
                    name,
                    shape: vec![out],
                    offset,
                    row_stride: out,
                    fan_in: inp,
                }
            };
            offset += t.span();
            tensors.push(t);
        }
        ParamLayout {
            tensors,
            len: ld(offset),
            input,
            hidden,
            latent,
        }
    }

    pub fn from_config(cfg: &VaeConfig) -> Self {
        Self::new(cfg.input, cfg.hidden, cfg.latent)
    }

    pub fn get(&self, name: &str) -> Option<&TensorInfo> {
        self.tensors.iter().find(|t| t.name == name)
    }

    fn tensor(&self, name: &str) -> &TensorInfo {
        // Only called with the fixed names above, all of which `new` creates.
        match self.get(name) {
            Some(t) => t,
            None => unreachable!("layout has no tensor {name}"),
        }
    }

    /// The four linear layers the kernels run: fc1, fc2+fc3 fused (width 2·L), fc4, fc5.
    pub fn layers(&self) -> [LayerView; 4] {
        let view = |w: &str, b: &str, out: usize| {
            let w = self.tensor(w);
            LayerView {
                in_features: w.fan_in,
                out_features: out,
                weight_offset: w.offset,
                bias_offset: self.tensor(b).offset,
            }
        };
        [
            view("fc1.weight", "fc1.bias", self.hidden),
            view("fc2.weight", "fc2.bias", 2 * self.latent),
            view("fc4.weight", "fc4.bias", self.hidden),
            view("fc5.weight", "fc5.bias", self.input),
        ]
    }

    /// `torch.nn.Linear`'s default init: weight and bias ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)),
    /// one seeded stream per tensor. Padding is zero.
    pub fn init(&self, seed: u64) -> Vec<f32> {
        let mut flat = vec![0.0f32; self.len];
        for name in TENSOR_NAMES {
            let t = self.tensor(name);
            let index = TENSOR_NAMES.iter().position(|n| *n == name).unwrap_or(0) as u64;
            let mut g = SplitMix64::new(seed, STREAM_INIT, index);
            let bound = 1.0 / (t.fan_in as f64).sqrt();
            let dense: Vec<f32> = (0..t.numel())
                .map(|_| ((g.next_f64() * 2.0 - 1.0) * bound) as f32)
                .collect();
            self.write(&mut flat, t, &dense);
        }
        flat
    }

    /// The dense (unpadded, PyTorch-contiguous) values of tensor `t` from a flat buffer.
    pub fn read(&self, flat: &[f32], t: &TensorInfo) -> Vec<f32> {
        let cols = t.cols();
        let mut out = Vec::with_capacity(t.numel());
        for r in 0..t.rows() {
            let start = t.offset + r * t.row_stride;
            out.extend_from_slice(&flat[start..start + cols]);
        }
        out
    }

    /// Writes dense values of tensor `t` into a flat buffer (`dense.len()` must be `t.numel()`).
    pub fn write(&self, flat: &mut [f32], t: &TensorInfo, dense: &[f32]) {
        let cols = t.cols();
        for r in 0..t.rows() {
            let start = t.offset + r * t.row_stride;
            flat[start..start + cols].copy_from_slice(&dense[r * cols..(r + 1) * cols]);
        }
    }

    /// Dense copies of every tensor, in PyTorch order.
    pub fn unpack_all(&self, flat: &[f32]) -> Vec<(&'static str, Vec<usize>, Vec<f32>)> {
        TENSOR_NAMES
            .iter()
            .map(|n| {
                let t = self.tensor(n);
                (t.name, t.shape.clone(), self.read(flat, t))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_layout_is_unpadded_and_fused_heads_are_contiguous() {
        let l = ParamLayout::new(784, 400, 20);
        let n: usize = l.tensors.iter().map(|t| t.numel()).sum();
        assert_eq!(
            n,
            784 * 400 + 400 + 2 * (400 * 20 + 20) + 20 * 400 + 400 + 400 * 784 + 784
        );
        assert_eq!(l.len, n);
        let fc2 = l.get("fc2.weight").unwrap();
        assert_eq!(l.get("fc3.weight").unwrap().offset, fc2.offset + fc2.span());
        assert_eq!(
            l.get("fc3.bias").unwrap().offset,
            l.get("fc2.bias").unwrap().offset + 20
        );
    }

    #[test]
    fn odd_sizes_pad_rows_and_keep_padding_zero() {
        let l = ParamLayout::new(13, 7, 3);
        let flat = l.init(3);
        assert_eq!(l.len % 4, 0);
        let w1 = l.get("fc1.weight").unwrap();
        assert_eq!(w1.row_stride, 16);
        for r in 0..7 {
            for c in 13..16 {
                assert_eq!(flat[w1.offset + r * 16 + c], 0.0);
            }
        }
        for t in &l.tensors {
            if t.name != "fc3.bias" {
                assert_eq!(t.offset % 4, 0, "{} must start on a vec4", t.name);
            }
            let dense = l.read(&flat, t);
            let bound = 1.0 / (t.fan_in as f32).sqrt();
            assert!(
                dense.iter().all(|v| v.abs() <= bound && *v != 0.0),
                "{}",
                t.name
            );
        }
        let mut again = vec![0.0; l.len];
        for (name, _, dense) in l.unpack_all(&flat) {
            l.write(&mut again, l.get(name).unwrap(), &dense);
        }
        assert_eq!(again, flat);
    }
}
