//! Forward passes for display and inference: reconstructions and encodes of test images, encodes
//! of given pixels, decodes of given z, samples from the prior. Each takes at most
//! [`Trainer::capacity`] rows; the session chunks larger requests.

use crate::error::{Result, VaeError};
use crate::model::StepSpec;
use crate::render::sigmoid;
use crate::run::{check_ids, split_mulv, StepKind};

use super::{SlotMeta, Trainer};

impl Trainer {
    /// Runs the forward pass (ε drawn as in training) on test images `ids`, leaving x, [μ | log σ²]
    /// and the logits in the activation buffers.
    fn forward_test(&mut self, ids: &[u32]) -> Result<()> {
        self.forward_images(ids, true)
    }

    /// [`Self::forward_test`] on test images, or on training images with `test` false.
    fn forward_images(&mut self, ids: &[u32], test: bool) -> Result<()> {
        let data = self
            .model
            .data()
            .ok_or_else(|| VaeError::NoData("load one to see its images".into()))?;
        let (len, base) = if test {
            (data.test_len, data.test_offset())
        } else {
            (data.train_len, 0)
        };
        check_ids(ids, len, test)?;
        let global: Vec<u32> = ids.iter().map(|i| base + i).collect();
        let offset = self.model.write_scratch_indices(&self.gpu, &global)?;
        let slot = self.ring.take_slot(SlotMeta {
            kind: StepKind::Eval,
            epoch: self.pos.epoch,
            step: 0,
            global_step: self.pos.global_step,
            keep: false,
        })?;
        let spec = StepSpec {
            kind: StepKind::Eval,
            rows: ids.len() as u32,
            index_offset: offset,
            rng_step: self.next_eval_rng(),
            slot,
            t: self.adam_t,
        };
        let cmd = self.model.encode_steps(&self.gpu, &[spec])?;
        self.submit(cmd)
    }

    /// Test images `ids` and their reconstructions (sigmoid of the decoder's logits, ε drawn as
    /// in training), each `ids.len()` × IN values in [0, 1].
    pub async fn reconstruct(&mut self, ids: &[u32]) -> Result<(Vec<f32>, Vec<f32>)> {
        self.reconstruct_images(ids, true).await
    }

    /// [`Self::reconstruct`] of training images (`test` false) or test images.
    pub async fn reconstruct_images(
        &mut self,
        ids: &[u32],
        test: bool,
    ) -> Result<(Vec<f32>, Vec<f32>)> {
        self.forward_images(ids, test)?;
        let (m, input) = (&self.model, self.model.cfg.input);
        let x = m.read_rows(&self.gpu, &m.act.x, ids.len(), input).await?;
        let logits = m
            .read_rows(&self.gpu, &m.act.logits, ids.len(), input)
            .await?;
        Ok((x, logits.into_iter().map(sigmoid).collect()))
    }

    async fn read_mulv(&self, rows: usize) -> Result<(Vec<f32>, Vec<f32>)> {
        let (m, l) = (&self.model, self.model.cfg.latent);
        let mulv = m.read_rows(&self.gpu, &m.act.mulv, rows, 2 * l).await?;
        Ok(split_mulv(&mulv, l))
    }

    /// Images `ids` (training images, or test images with `test`), their μ and log σ²: pixels
    /// (rows × IN), μ and log σ² (rows × L each).
    pub async fn encode_images(
        &mut self,
        ids: &[u32],
        test: bool,
    ) -> Result<(Vec<f32>, Vec<f32>, Vec<f32>)> {
        self.forward_images(ids, test)?;
        let (m, input) = (&self.model, self.model.cfg.input);
        let x = m.read_rows(&self.gpu, &m.act.x, ids.len(), input).await?;
        let (mu, log_var) = self.read_mulv(ids.len()).await?;
        Ok((x, mu, log_var))
    }

    /// μ and log σ² (each `ids.len()` × L) of test images `ids`.
    pub async fn encode_test(&mut self, ids: &[u32]) -> Result<(Vec<f32>, Vec<f32>)> {
        self.forward_test(ids)?;
        self.read_mulv(ids.len()).await
    }

    /// μ and log σ² (each rows × L) of `rows` inputs given as pixels (rows × IN, in [0, 1]).
    pub async fn encode(&mut self, pixels: &[f32], rows: usize) -> Result<(Vec<f32>, Vec<f32>)> {
        self.model.write_x(&self.gpu, pixels, rows)?;
        let cmd = self.model.encode_encoder(&self.gpu, rows as u32)?;
        self.submit(cmd)?;
        self.read_mulv(rows).await
    }

    /// Labels of the first `n` test images (fewer when the test set is smaller).
    pub fn test_labels(&self, n: usize) -> Result<Vec<u8>> {
        let data = self
            .model
            .data()
            .ok_or_else(|| VaeError::NoData("load one to see test labels".into()))?;
        Ok(data.labels_test[..n.min(data.labels_test.len())].to_vec())
    }

    /// Decodes `z` (rows × L) to pixels in [0, 1].
    pub async fn decode(&mut self, z: &[f32], rows: usize) -> Result<Vec<f32>> {
        self.model.write_z(&self.gpu, z, rows)?;
        let cmd = self.model.encode_decode(&self.gpu, rows as u32)?;
        self.submit(cmd)?;
        let (m, input) = (&self.model, self.model.cfg.input);
        let logits = m.read_rows(&self.gpu, &m.act.logits, rows, input).await?;
        Ok(logits.into_iter().map(sigmoid).collect())
    }

    /// `rows` latent vectors from z ~ N(0, I), seeded (the same `seed` gives the same z).
    pub fn prior_z(&self, rows: usize, seed: u64) -> Vec<f32> {
        crate::rng::prior_z(rows, self.model.cfg.latent, seed)
    }

    /// `rows` (at most [`Trainer::capacity`]) images decoded from z ~ N(0, I), seeded.
    pub async fn sample(&mut self, rows: usize, seed: u64) -> Result<Vec<f32>> {
        let z = self.prior_z(rows, seed);
        self.decode(&z, rows).await
    }
}
