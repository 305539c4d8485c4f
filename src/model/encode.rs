//! The order of dispatches: a submit of steps, one stage (for profiling), an encode, a decode.

use super::*;

impl VaeModel {
    /// Records `steps` (at most [`MAX_STEPS_PER_SUBMIT`]) into one command buffer with one
    /// compute pass; their StepParams are written to the queue first. Submit the result next.
    pub fn encode_steps(&mut self, gpu: &Gpu, steps: &[StepSpec]) -> Result<wgpu::CommandBuffer> {
        if steps.len() > MAX_STEPS_PER_SUBMIT {
            return Err(VaeError::Internal(format!(
                "{} steps in one submit; at most {MAX_STEPS_PER_SUBMIT}",
                steps.len()
            )));
        }
        for s in steps {
            self.ensure_plan(gpu, s.rows)?;
        }
        let mut uniform = vec![0u8; self.stride as usize * steps.len().max(1)];
        let records: Vec<StepParams> = steps.iter().map(|s| self.step_params(s)).collect();
        for (i, r) in records.iter().enumerate() {
            let at = i * self.stride as usize;
            uniform[at..at + std::mem::size_of::<StepParams>()]
                .copy_from_slice(bytemuck::bytes_of(r));
        }
        gpu.queue.write_buffer(&self.step_uniform, 0, &uniform);
        let data = self.data.as_ref().ok_or_else(no_data)?;
        gpu.record("vae steps", |pass| {
            for (i, (spec, sp)) in steps.iter().zip(&records).enumerate() {
                let offset = (i as u64 * self.stride) as u32;
                let plan = self.plan(spec.rows)?;
                self.encode_forward(gpu, pass, &data.gather, plan, offset, sp)?;
                match spec.kind {
                    StepKind::Train => {
                        self.encode_backward(gpu, pass, &data.gather, plan, offset, sp)?
                    }
                    // The fused form sums a training step's loss in latent_backward.
                    StepKind::Eval if self.step_form == StepForm::Fused => {
                        self.kernels.loss.loss_reduce(pass, &self.bg_loss, offset)
                    }
                    StepKind::Eval => {}
                }
            }
            Ok(())
        })
    }

    fn encode_forward(
        &self,
        gpu: &Gpu,
        pass: &mut wgpu::ComputePass,
        gather: &wgpu::BindGroup,
        plan: &Plan,
        offset: u32,
        sp: &StepParams,
    ) -> Result<()> {
        for stage in Stage::FORWARD {
            self.encode_stage(gpu, pass, gather, plan, offset, sp, stage)?;
        }
        Ok(())
    }

    fn encode_backward(
        &self,
        gpu: &Gpu,
        pass: &mut wgpu::ComputePass,
        gather: &wgpu::BindGroup,
        plan: &Plan,
        offset: u32,
        sp: &StepParams,
    ) -> Result<()> {
        for stage in Stage::BACKWARD {
            self.encode_stage(gpu, pass, gather, plan, offset, sp, stage)?;
        }
        Ok(())
    }

    /// Records the dispatches of one stage of a step.
    #[allow(clippy::too_many_arguments)]
    fn encode_stage(
        &self,
        gpu: &Gpu,
        pass: &mut wgpu::ComputePass,
        gather: &wgpu::BindGroup,
        plan: &Plan,
        offset: u32,
        sp: &StepParams,
        stage: Stage,
    ) -> Result<()> {
        let k = &self.kernels;
        let layer = |i: usize| &plan.layers[i.min(3)];
        let fused = self.step_form == StepForm::Fused;
        match stage {
            Stage::Gather => k.gather.gather_batch(gpu, pass, gather, offset, sp),
            Stage::Forward(i) => match &layer(i).forward_loss {
                Some(bg) => k.linear.forward_loss(gpu, pass, bg, &layer(i).params),
                None => k
                    .linear
                    .forward(gpu, pass, &layer(i).forward, &layer(i).params),
            },
            // In the fused form the loss is fc5's epilogue.
            Stage::Loss if fused => Ok(()),
            Stage::Latent if fused => {
                k.latent
                    .latent_forward(gpu, pass, &self.bg_latent_forward, offset, sp)
            }
            Stage::Latent => {
                k.linear
                    .forward(gpu, pass, &layer(1).forward, &layer(1).params)?;
                k.reparam
                    .reparam_forward(gpu, pass, &self.bg_reparam, offset, sp)?;
                k.linear
                    .forward(gpu, pass, &layer(2).forward, &layer(2).params)
            }
            Stage::Loss => {
                k.loss.loss_bce_kl(gpu, pass, &self.bg_loss, offset, sp)?;
                k.loss.loss_reduce(pass, &self.bg_loss, offset);
                Ok(())
            }
            Stage::Backward(i) => self.encode_linear_backward(gpu, pass, layer(i)),
            Stage::LatentBackward if fused => {
                k.latent
                    .latent_backward(gpu, pass, &self.bg_latent_backward, offset, sp)
            }
            Stage::LatentBackward => {
                self.encode_linear_backward(gpu, pass, layer(2))?;
                k.reparam
                    .reparam_backward(gpu, pass, &self.bg_reparam, offset, sp)?;
                self.encode_linear_backward(gpu, pass, layer(1))
            }
            Stage::Adam => k.adam.adam_step(gpu, pass, &self.bg_adam, offset, sp),
        }
    }

    /// A layer's weight (and bias) gradient, then its input gradient (none for fc1).
    fn encode_linear_backward(
        &self,
        gpu: &Gpu,
        pass: &mut wgpu::ComputePass,
        l: &LayerPlan,
    ) -> Result<()> {
        let k = &self.kernels.linear;
        if let Some(bg) = &l.backward_both {
            return k.backward_both(gpu, pass, bg, &l.params);
        }
        k.backward_params(gpu, pass, &l.backward_params, &l.params)?;
        match &l.backward_input {
            Some(bg) => k.backward_input(gpu, pass, bg, &l.params),
            None => Ok(()),
        }
    }

    /// Records `stage` of a training step on `rows` rows, `reps` times over (for benchmarks:
    /// the stage's buffers are read and written as in a step, so a repeated Adam stage moves
    /// the parameters).
    pub fn encode_stage_reps(
        &mut self,
        gpu: &Gpu,
        spec: &StepSpec,
        stage: Stage,
        reps: u32,
    ) -> Result<wgpu::CommandBuffer> {
        self.ensure_plan(gpu, spec.rows)?;
        let record = self.step_params(spec);
        gpu.queue
            .write_buffer(&self.step_uniform, 0, bytemuck::bytes_of(&record));
        let data = self.data.as_ref().ok_or_else(no_data)?;
        gpu.record("vae stage", |pass| {
            let plan = self.plan(spec.rows)?;
            for _ in 0..reps {
                self.encode_stage(gpu, pass, &data.gather, plan, 0, &record, stage)?;
            }
            Ok(())
        })
    }

    /// Dispatches per training step in step form `step` (for the benchmark's report; every GEMM
    /// form records the same number).
    pub fn dispatches_per_train_step(step: StepForm) -> usize {
        match step {
            // gather, fc1, latent, fc5 with the loss; fc5's gradients, latent backward (with the
            // loss's sum), fc1's weight gradient, Adam (a test counts what a step records)
            StepForm::Fused => 8,
            // gather, fc1, fc2|fc3, reparam, fc4, fc5, loss and its sum; weight and input
            // gradients of fc5, fc4 and fc2|fc3, reparam backward, fc1's weight gradient, Adam
            StepForm::Separate => 17,
        }
    }

    /// Records a decode of `rows` latent vectors already written to `act.z`: fc4, fc5.
    pub fn encode_decode(&mut self, gpu: &Gpu, rows: u32) -> Result<wgpu::CommandBuffer> {
        self.ensure_plan(gpu, rows)?;
        let plan = self.plan(rows)?;
        let [_, _, fc4, fc5] = &plan.layers;
        gpu.record("vae decode", |pass| {
            let k = &self.kernels.linear;
            k.forward(gpu, pass, &fc4.forward, &fc4.params)?;
            k.forward(gpu, pass, &fc5.forward, &fc5.params)
        })
    }

    /// Records the encoder for `rows` inputs already written to `act.x`: fc1, fc2|fc3, so that
    /// `act.mulv` holds [μ | log σ²].
    pub fn encode_encoder(&mut self, gpu: &Gpu, rows: u32) -> Result<wgpu::CommandBuffer> {
        self.ensure_plan(gpu, rows)?;
        let plan = self.plan(rows)?;
        let [fc1, fc23, _, _] = &plan.layers;
        gpu.record("vae encode", |pass| {
            let k = &self.kernels.linear;
            k.forward(gpu, pass, &fc1.forward, &fc1.params)?;
            k.forward(gpu, pass, &fc23.forward, &fc23.params)
        })
    }
}
