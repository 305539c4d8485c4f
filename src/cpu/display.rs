//! The CPU engine's forward passes for display and inference, as `train::display`'s: each takes
//! at most [`CpuTrainer::capacity`] rows (the session chunks larger requests).

use crate::error::{Result, VaeError};
use crate::run::{check_ids, check_rows, split_mulv, RunState};

use super::step::{self, linear_forward};
use super::CpuTrainer;
use crate::render::sigmoid;

impl CpuTrainer {
    /// The forward pass (ε drawn as in training, from the evaluation counter words) on images
    /// `ids` of the test set, or of the training set with `test` false; returns (Σ BCE, Σ KL)
    /// and leaves x, [μ | log σ²] and the logits in the activations.
    pub(super) fn forward_images(&mut self, ids: &[u32], test: bool) -> Result<(f64, f64)> {
        let rng = self.next_eval_rng();
        self.forward_images_with(ids, test, rng)
    }

    /// [`CpuTrainer::forward_images`] with ε from counter word `rng`.
    pub(super) fn forward_images_with(
        &mut self,
        ids: &[u32],
        test: bool,
        rng: u32,
    ) -> Result<(f64, f64)> {
        self.gather_images(ids, test)?;
        Ok(self.forward(ids.len(), rng))
    }

    /// Images `ids` of the test set (or the training set) into x, checked.
    fn gather_images(&mut self, ids: &[u32], test: bool) -> Result<()> {
        let Some((train, test_set)) = &self.data else {
            return Err(VaeError::NoData("load one to see its images".into()));
        };
        let set = if test { test_set } else { train };
        check_ids(ids, set.len() as u32, test)?;
        if ids.len() > self.capacity() as usize {
            return Err(VaeError::Internal(format!(
                "{} rows in one pass; at most {}",
                ids.len(),
                self.capacity()
            )));
        }
        step::gather(&mut self.act.x, &set.images, ids, self.cfg.input);
        Ok(())
    }

    fn mulv(&self, rows: usize) -> (Vec<f32>, Vec<f32>) {
        let l = self.cfg.latent;
        split_mulv(&self.act.mulv[..rows * 2 * l], l)
    }

    /// Images `ids` (test images, or training images with `test` false) and their
    /// reconstructions (sigmoid of the decoder's logits), each `ids.len()` × IN in [0, 1].
    pub fn reconstruct_images(&mut self, ids: &[u32], test: bool) -> Result<(Vec<f32>, Vec<f32>)> {
        self.forward_images(ids, test)?;
        let n = ids.len() * self.cfg.input;
        let x = self.act.x[..n].to_vec();
        let recon = self.act.logits[..n].iter().map(|&l| sigmoid(l)).collect();
        Ok((x, recon))
    }

    /// Images `ids`, their μ and log σ²: pixels (rows × IN), μ and log σ² (rows × L each).
    pub fn encode_images(
        &mut self,
        ids: &[u32],
        test: bool,
    ) -> Result<(Vec<f32>, Vec<f32>, Vec<f32>)> {
        self.forward_images(ids, test)?;
        let x = self.act.x[..ids.len() * self.cfg.input].to_vec();
        let (mu, log_var) = self.mulv(ids.len());
        Ok((x, mu, log_var))
    }

    /// μ and log σ² (each `ids.len()` × L) of test images `ids`.
    /// Only the encoder runs (μ and log σ² do not depend on ε): a third of a full pass, which
    /// the latent map and the lessons' latent means take thousands of rows of. The evaluation
    /// counter moves on as a full pass's would, so later draws are the WGSL engine's.
    pub fn encode_test(&mut self, ids: &[u32]) -> Result<(Vec<f32>, Vec<f32>)> {
        self.gather_images(ids, true)?;
        self.next_eval_rng();
        let [fc1, fc23, _, _] = self.layout.layers();
        let a = &mut self.act;
        linear_forward(&self.state.params, &fc1, &a.x, &mut a.h1, ids.len(), true);
        linear_forward(
            &self.state.params,
            &fc23,
            &a.h1,
            &mut a.mulv,
            ids.len(),
            false,
        );
        Ok(self.mulv(ids.len()))
    }

    /// Labels of the first `n` test images (fewer when the test set is smaller).
    pub fn test_labels(&self, n: usize) -> Result<Vec<u8>> {
        let Some((_, test)) = &self.data else {
            return Err(VaeError::NoData("load one to see test labels".into()));
        };
        Ok(test.labels[..n.min(test.labels.len())].to_vec())
    }

    /// μ and log σ² (each rows × L) of `rows` inputs given as pixels (rows × IN, in [0, 1]).
    pub fn encode(&mut self, pixels: &[f32], rows: usize) -> Result<(Vec<f32>, Vec<f32>)> {
        check_rows(
            pixels,
            rows,
            self.cfg.input,
            self.capacity() as usize,
            "pixels",
        )?;
        let [fc1, fc23, _, _] = self.layout.layers();
        let a = &mut self.act;
        a.x[..pixels.len()].copy_from_slice(pixels);
        linear_forward(&self.state.params, &fc1, &a.x, &mut a.h1, rows, true);
        linear_forward(&self.state.params, &fc23, &a.h1, &mut a.mulv, rows, false);
        Ok(self.mulv(rows))
    }

    /// Decodes `z` (rows × L) to pixels in [0, 1].
    pub fn decode(&mut self, z: &[f32], rows: usize) -> Result<Vec<f32>> {
        check_rows(z, rows, self.cfg.latent, self.capacity() as usize, "z")?;
        let [_, _, fc4, fc5] = self.layout.layers();
        let a = &mut self.act;
        a.z[..z.len()].copy_from_slice(z);
        linear_forward(&self.state.params, &fc4, &a.z, &mut a.h4, rows, true);
        linear_forward(&self.state.params, &fc5, &a.h4, &mut a.logits, rows, false);
        let n = rows * self.cfg.input;
        Ok(a.logits[..n].iter().map(|&l| sigmoid(l)).collect())
    }
}
