//! The bind groups of a batch size (made once per size) and each step's parameters.

use super::*;

impl VaeModel {
    pub(super) fn ensure_plan(&mut self, gpu: &Gpu, rows: u32) -> Result<()> {
        if rows == 0 || rows > self.capacity {
            return Err(VaeError::config(
                "rows",
                format!("{rows} rows; 1..={} allowed", self.capacity),
            ));
        }
        if self.plans.iter().any(|p| p.rows == rows) {
            return Ok(());
        }
        let a = &self.act;
        // (layer, input activation, output activation, output gradient, input gradient, flags)
        let wiring: [Wiring; 4] = [
            (0, &a.x, &a.h1, &a.dh1, None, FLAG_RELU),
            (1, &a.h1, &a.mulv, &a.dmulv, Some(&a.dh1), FLAG_RELU_MASK),
            (2, &a.z, &a.h4, &a.dh4, Some(&a.dz), FLAG_RELU),
            (
                3,
                &a.h4,
                &a.logits,
                &a.dlogits,
                Some(&a.dh4),
                FLAG_RELU_MASK,
            ),
        ];
        let views = self.layout.layers();
        let names = ["fc1", "fc2|fc3", "fc4", "fc5"];
        let lin = &self.kernels.linear;
        let mut layers = Vec::with_capacity(4);
        for (li, input, output, d_out, d_in, flags) in wiring {
            let v = views[li];
            let params = LinearParams {
                rows,
                out_features: v.out_features as u32,
                in_features: v.in_features as u32,
                weight_offset: v.weight_offset as u32,
                bias_offset: v.bias_offset as u32,
                flags,
                partials_at: STATS_SLOTS,
                _pad1: 0,
            };
            let name = names[li];
            let uniform = gpu.uniform(
                &format!("{name} params (B={rows})"),
                std::mem::size_of::<LinearParams>() as u64,
            );
            gpu.queue
                .write_buffer(&uniform, 0, bytemuck::bytes_of(&params));
            let bindings = |a, b, aux, c| LinearBindings {
                params: &uniform,
                a,
                b,
                aux,
                c,
            };
            let forward = lin.bind_group(
                gpu,
                &format!("{name} forward"),
                &bindings(input, &self.params, &self.params, output),
            );
            let fused = self.step_form == StepForm::Fused;
            let forward_loss = match li {
                3 if fused => {
                    let epilogue = LossEpilogue {
                        targets: &a.x,
                        dlogits: &a.dlogits,
                        stats: &self.stats,
                    };
                    let b = bindings(input, &self.params, &self.params, output);
                    let bg = lin.loss_bind_group(gpu, "fc5 forward + loss", &b, &epilogue);
                    Some(bg.ok_or_else(|| {
                        VaeError::Internal("the fused step needs the tiled GEMM form".into())
                    })?)
                }
                _ => None,
            };
            let backward_both = match (li, d_in) {
                (3, Some(d_in)) if fused => {
                    let bufs: [&wgpu::Buffer; 5] = [d_out, &self.params, input, &self.grads, d_in];
                    let bg = lin.backward_both_bind_group(gpu, "fc5 backward", &uniform, bufs);
                    Some(bg.ok_or_else(|| {
                        VaeError::Internal("the fused step needs the tiled GEMM form".into())
                    })?)
                }
                _ => None,
            };
            let backward_input = d_in.map(|d_in| {
                lin.bind_group(
                    gpu,
                    &format!("{name} backward_input"),
                    &bindings(d_out, &self.params, input, d_in),
                )
            });
            let backward_params = lin.bind_group(
                gpu,
                &format!("{name} backward_params"),
                &bindings(d_out, input, input, &self.grads),
            );
            layers.push(LayerPlan {
                params,
                forward,
                forward_loss,
                backward_both,
                backward_input,
                backward_params,
                _uniform: uniform,
            });
        }
        let layers: [LayerPlan; 4] = layers
            .try_into()
            .map_err(|_| VaeError::Internal("a plan needs four layers".into()))?;
        self.plans.push(Plan { rows, layers });
        Ok(())
    }

    pub(super) fn plan(&self, rows: u32) -> Result<&Plan> {
        self.plans
            .iter()
            .find(|p| p.rows == rows)
            .ok_or_else(|| VaeError::Internal(format!("no plan for {rows} rows")))
    }

    pub(super) fn step_params(&self, s: &StepSpec) -> StepParams {
        let c = &self.cfg;
        let t = s.t.max(1) as i32;
        let bc1 = 1.0 - f64::from(c.beta1).powi(t);
        let bc2 = 1.0 - f64::from(c.beta2).powi(t);
        let [_, fc23, fc4, _] = self.layout.layers();
        // Adam makes fc2|fc3's and fc4's gradients in the fused form; the separate form has
        // them made by linear kernels, and puts these offsets past the buffer (adam.wgsl).
        let small = |at: usize| match self.step_form {
            StepForm::Fused => at as u32,
            StepForm::Separate => NOT_IN_ADAM,
        };
        StepParams {
            rows: s.rows,
            in_features: c.input as u32,
            latent: c.latent as u32,
            index_offset: s.index_offset,
            rng_step: s.rng_step,
            seed_lo: c.seed as u32,
            seed_hi: (c.seed >> 32) as u32,
            slot: s.slot,
            lr: c.lr,
            beta1: c.beta1,
            beta2: c.beta2,
            eps: c.eps,
            step_size: (f64::from(c.lr) / bc1) as f32,
            bc2_sqrt: bc2.sqrt() as f32,
            param_vec4s: (self.layout.len / 4) as u32,
            loss_partials: match self.step_form {
                // Each row's KL (latent_forward), then a Σ BCE per fc5 workgroup.
                StepForm::Fused => s.rows + loss_groups(s.rows, c.input as u32),
                StepForm::Separate => loss_partials(s.rows),
            },
            // A plain autoencoder has no KL term in its objective.
            kl_weight: if c.variational { c.kl_weight } else { 0.0 },
            variational: u32::from(c.variational),
            hidden: c.hidden as u32,
            partials_at: STATS_SLOTS,
            w23_at: small(fc23.weight_offset),
            b23_at: small(fc23.bias_offset),
            w4_at: small(fc4.weight_offset),
            b4_at: small(fc4.bias_offset),
            through_z: u32::from(c.grad_through_z()),
        }
    }
}
