//! Rows and parameters in and out of the GPU: pixels and z written, activations and
//! parameters read back, parameters replaced.

use super::*;

impl VaeModel {
    /// Writes dense inputs (rows × IN, values in [0, 1]) into the x buffer with row padding.
    pub fn write_x(&self, gpu: &Gpu, x: &[f32], rows: usize) -> Result<()> {
        self.write_rows(gpu, &self.act.x, x, rows, self.cfg.input, "pixels")
    }

    fn write_rows(
        &self,
        gpu: &Gpu,
        buf: &Buffer,
        values: &[f32],
        rows: usize,
        cols: usize,
        what: &'static str,
    ) -> Result<()> {
        check_rows(values, rows, cols, self.capacity as usize, what)?;
        let mut padded = vec![0.0f32; rows * ld(cols)];
        for r in 0..rows {
            padded[r * ld(cols)..r * ld(cols) + cols]
                .copy_from_slice(&values[r * cols..(r + 1) * cols]);
        }
        gpu.queue
            .write_buffer(buf, 0, bytemuck::cast_slice(&padded));
        Ok(())
    }

    /// Writes dense z (rows × L) into the z buffer with row padding.
    pub fn write_z(&self, gpu: &Gpu, z: &[f32], rows: usize) -> Result<()> {
        self.write_rows(gpu, &self.act.z, z, rows, self.cfg.latent, "z")
    }

    /// Reads `rows` rows of a padded activation with `cols` columns, dense.
    pub async fn read_rows(
        &self,
        gpu: &Gpu,
        buf: &Buffer,
        rows: usize,
        cols: usize,
    ) -> Result<Vec<f32>> {
        let padded = gpu.read_f32(buf, 0, rows * ld(cols)).await?;
        Ok(padded
            .chunks(ld(cols))
            .flat_map(|r| r[..cols].iter().copied())
            .collect())
    }

    /// The flat parameters (layout order, padded).
    pub async fn read_params(&self, gpu: &Gpu) -> Result<Vec<f32>> {
        gpu.read_f32(&self.params, 0, self.layout.len).await
    }

    pub async fn read_grads(&self, gpu: &Gpu) -> Result<Vec<f32>> {
        gpu.read_f32(&self.grads, 0, self.layout.len).await
    }

    /// Replaces the parameters and resets Adam's state (the caller resets its step count).
    pub fn write_params(&self, gpu: &Gpu, flat: &[f32]) -> Result<()> {
        if flat.len() != self.layout.len {
            return Err(VaeError::Checkpoint(format!(
                "{} parameters given, the model has {}",
                flat.len(),
                self.layout.len
            )));
        }
        gpu.queue
            .write_buffer(&self.params, 0, bytemuck::cast_slice(flat));
        let zeros = vec![0u8; self.layout.len * 4];
        gpu.queue.write_buffer(&self.adam_mv, 0, &zeros);
        gpu.queue
            .write_buffer(&self.adam_mv, f32_bytes(self.layout.len), &zeros);
        Ok(())
    }
}
