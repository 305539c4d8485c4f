//! `shaders/linear.wgsl`: the linear layer's forward, input-gradient and weight-and-bias-gradient
//! products, in the direct and the tiled form; and, tiled, fc5's forward with the loss in its
//! epilogue (the fused step form).

use bytemuck::{Pod, Zeroable};

use super::{bind, bind_at, dispatch, layout, layout_at, pipeline, shader};
use super::{LINEAR_PLAIN_WGSL, LINEAR_WGSL};
use crate::error::Result;
use crate::gpu::{GemmForm, Gpu};

/// Twin of WGSL `struct LinearParams`.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Pod, Zeroable)]
pub struct LinearParams {
    pub rows: u32,
    pub out_features: u32,
    pub in_features: u32,
    pub weight_offset: u32,
    pub bias_offset: u32,
    pub flags: u32,
    /// linear_forward_loss_tiled: the step's first partial-sum record in the stats buffer.
    pub partials_at: u32,
    pub _pad1: u32,
}

/// Forward: ReLU on the output.
pub const FLAG_RELU: u32 = 1;
/// Backward input: multiply by (x > 0).
pub const FLAG_RELU_MASK: u32 = 2;
/// Tiled form: invocations per workgroup (x: column quads, y: row quads); each computes a 4×4
/// block.
pub const BLOCK_X: u32 = 8;
pub const BLOCK_Y: u32 = 8;
/// Direct form: invocations per workgroup (x: 16-column blocks, y: 16-row blocks); each computes
/// a 16×16 block. A 16×1 row, because llvmpipe fills its SIMD lanes from x only (see
/// linear.wgsl).
pub const DIRECT_X: u32 = 16;
pub const DIRECT_Y: u32 = 1;
/// Subgroup form: rows per invocation (batch rows forward and for the input gradient, W rows for
/// the weight gradient), written into its kernels by scripts/gen-linear-direct.py (`RS`).
pub const SUBGROUP_ROWS: u32 = 32;

/// Workgroups covering an output of `rows` × `cols` in `form`.
fn grid(gpu: &Gpu, form: GemmForm, rows: u32, cols: u32) -> Result<(u32, u32)> {
    let (per_x, per_y, wx, wy) = match form {
        GemmForm::Direct => (16, 16, DIRECT_X, DIRECT_Y),
        GemmForm::DirectSubgroup => (16, SUBGROUP_ROWS, DIRECT_X, DIRECT_Y),
        GemmForm::Tiled => (4, 4, BLOCK_X, BLOCK_Y),
    };
    let x = super::groups(
        gpu,
        cols.div_ceil(per_x) as usize,
        wx as usize,
        "max_compute_workgroups_per_dimension",
    )?;
    let y = super::groups(
        gpu,
        rows.div_ceil(per_y) as usize,
        wy as usize,
        "max_compute_workgroups_per_dimension",
    )?;
    Ok((x, y))
}

/// linear.wgsl's bindings, in binding order; what a, b, aux and c hold depends on the entry
/// point (see the table in linear.wgsl).
pub struct LinearBindings<'a> {
    /// LinearParams uniform.
    pub params: &'a wgpu::Buffer,
    pub a: &'a wgpu::Buffer,
    pub b: &'a wgpu::Buffer,
    pub aux: &'a wgpu::Buffer,
    /// The output.
    pub c: &'a wgpu::Buffer,
}

pub struct LinearKernels {
    pub form: GemmForm,
    pub layout: wgpu::BindGroupLayout,
    forward: wgpu::ComputePipeline,
    backward_input: wgpu::ComputePipeline,
    backward_weight: wgpu::ComputePipeline,
    /// The tiled form's fc5 forward with the loss (and its layout).
    forward_loss: Option<(wgpu::BindGroupLayout, wgpu::ComputePipeline)>,
    /// The tiled form's weight and input gradients in one dispatch (and its layout).
    backward_both: Option<(wgpu::BindGroupLayout, wgpu::ComputePipeline)>,
}

/// Bindings of linear_backward_tiled: (binding, read-only) of dy, params, x, grads, dx.
const BACKWARD_BOTH: [(u32, bool); 5] = [(1, true), (2, true), (3, true), (4, false), (8, false)];

/// linear_forward_loss_tiled's bindings beyond [`LinearBindings`] (a = h4, b = aux = params,
/// c = logits).
pub struct LossEpilogue<'a> {
    /// The images the logits reconstruct, (B, ld(OUT)).
    pub targets: &'a wgpu::Buffer,
    pub dlogits: &'a wgpu::Buffer,
    /// Stats records | the loss's partial sums.
    pub stats: &'a wgpu::Buffer,
}

/// The pipeline of a kernel only the tiled form has, or an internal error naming it.
fn tiled_only<'a>(
    k: &'a Option<(wgpu::BindGroupLayout, wgpu::ComputePipeline)>,
    entry: &str,
) -> Result<&'a wgpu::ComputePipeline> {
    k.as_ref().map(|(_, p)| p).ok_or_else(|| {
        crate::error::VaeError::Internal(format!("{entry} exists in the tiled form only"))
    })
}

/// Workgroups of linear_forward_loss_tiled for `rows` × `out`: one partial-sum record each.
pub fn loss_groups(rows: u32, out: u32) -> u32 {
    rows.div_ceil(BLOCK_Y * 4) * out.div_ceil(BLOCK_X * 4)
}

/// linear.wgsl as compiled: with the subgroup kernels for a device that has `subgroups`, else
/// without them (naga rejects subgroup builtins on a device without the feature).
pub fn source(subgroups: bool) -> &'static str {
    if subgroups {
        LINEAR_WGSL
    } else {
        LINEAR_PLAIN_WGSL
    }
}

impl LinearKernels {
    /// Pipelines of `form`; the subgroup form falls back to the direct one (same results) on a
    /// device that cannot run it (`gpu.subgroups` false).
    pub fn new(gpu: &Gpu, form: GemmForm) -> Self {
        let form = match form {
            GemmForm::DirectSubgroup if !gpu.subgroups => GemmForm::Direct,
            form => form,
        };
        let module = shader(gpu, "linear.wgsl", source(form == GemmForm::DirectSubgroup));
        let layout = layout(gpu, "linear.wgsl", false, &[true, true, true, false]);
        let suffix = match form {
            GemmForm::Direct => "",
            GemmForm::Tiled => "_tiled",
            GemmForm::DirectSubgroup => "_subgroup",
        };
        let p = |entry: &str| pipeline(gpu, &module, &layout, "linear.wgsl", entry);
        let forward_loss = (form == GemmForm::Tiled).then(|| {
            let l = super::layout(
                gpu,
                "linear.wgsl:linear_forward_loss_tiled",
                false,
                &[true, true, true, false, true, false, false],
            );
            let entry = "linear_forward_loss_tiled";
            let pl = pipeline(gpu, &module, &l, "linear.wgsl", entry);
            (l, pl)
        });
        let backward_both = (form == GemmForm::Tiled).then(|| {
            let entry = "linear_backward_tiled";
            let l = layout_at(
                gpu,
                "linear.wgsl:linear_backward_tiled",
                false,
                &BACKWARD_BOTH,
            );
            let pl = pipeline(gpu, &module, &l, "linear.wgsl", entry);
            (l, pl)
        });
        LinearKernels {
            form,
            forward_loss,
            backward_both,
            forward: p(&format!("linear_forward{suffix}")),
            backward_input: p(&format!("linear_backward_input{suffix}")),
            backward_weight: p(&format!("linear_backward_weight{suffix}")),
            layout,
        }
    }

    pub fn bind_group(&self, gpu: &Gpu, label: &str, b: &LinearBindings) -> wgpu::BindGroup {
        bind(
            gpu,
            label,
            &self.layout,
            b.params,
            None,
            &[b.a, b.b, b.aux, b.c],
        )
    }

    /// y = act(x·Wᵀ + b): bind group (p, x, params, params, y).
    pub fn forward(
        &self,
        gpu: &Gpu,
        pass: &mut wgpu::ComputePass,
        bg: &wgpu::BindGroup,
        p: &LinearParams,
    ) -> Result<()> {
        dispatch(
            pass,
            &self.forward,
            bg,
            &[],
            grid(gpu, self.form, p.rows, p.out_features)?,
        );
        Ok(())
    }

    /// A bind group for [`Self::forward_loss`] (the tiled form only).
    pub fn loss_bind_group(
        &self,
        gpu: &Gpu,
        label: &str,
        b: &LinearBindings,
        e: &LossEpilogue,
    ) -> Option<wgpu::BindGroup> {
        let (layout, _) = self.forward_loss.as_ref()?;
        let buffers = [b.a, b.b, b.aux, b.c, e.targets, e.dlogits, e.stats];
        Some(bind(gpu, label, layout, b.params, None, &buffers))
    }

    /// logits = x·Wᵀ + b with BCE against the targets, dlogits and Σ BCE per workgroup (the
    /// tiled form): bind group from [`Self::loss_bind_group`].
    pub fn forward_loss(
        &self,
        gpu: &Gpu,
        pass: &mut wgpu::ComputePass,
        bg: &wgpu::BindGroup,
        p: &LinearParams,
    ) -> Result<()> {
        let pl = tiled_only(&self.forward_loss, "linear_forward_loss_tiled")?;
        dispatch(
            pass,
            pl,
            bg,
            &[],
            grid(gpu, self.form, p.rows, p.out_features)?,
        );
        Ok(())
    }

    /// A bind group for [`Self::backward_both`] (the tiled form only): the layer's params
    /// uniform, dy, the parameters, its input x, the gradient buffer and dx.
    pub fn backward_both_bind_group(
        &self,
        gpu: &Gpu,
        label: &str,
        p: &wgpu::Buffer,
        [dy, params, x, grads, dx]: [&wgpu::Buffer; 5],
    ) -> Option<wgpu::BindGroup> {
        let (layout, _) = self.backward_both.as_ref()?;
        let places = BACKWARD_BOTH.map(|b| b.0);
        let at: Vec<(u32, &wgpu::Buffer)> =
            places.into_iter().zip([dy, params, x, grads, dx]).collect();
        Some(bind_at(gpu, label, layout, p, None, &at))
    }

    /// dW, db and dx (masked) in one dispatch (the tiled form): bind group from
    /// [`Self::backward_both_bind_group`].
    pub fn backward_both(
        &self,
        gpu: &Gpu,
        pass: &mut wgpu::ComputePass,
        bg: &wgpu::BindGroup,
        p: &LinearParams,
    ) -> Result<()> {
        let pl = tiled_only(&self.backward_both, "linear_backward_tiled")?;
        let (wx, wy) = grid(gpu, self.form, p.out_features, p.in_features)?;
        let (ix, iy) = grid(gpu, self.form, p.rows, p.in_features)?;
        let n = super::groups(
            gpu,
            (wx * wy + ix * iy) as usize,
            1,
            "max_compute_workgroups_per_dimension",
        )?;
        dispatch(pass, pl, bg, &[], (n, 1));
        Ok(())
    }

    /// dx = dy·W (masked): bind group (p, dy, params, x, dx).
    pub fn backward_input(
        &self,
        gpu: &Gpu,
        pass: &mut wgpu::ComputePass,
        bg: &wgpu::BindGroup,
        p: &LinearParams,
    ) -> Result<()> {
        dispatch(
            pass,
            &self.backward_input,
            bg,
            &[],
            grid(gpu, self.form, p.rows, p.in_features)?,
        );
        Ok(())
    }

    /// dW = dyᵀ·x and db = Σ dy: bind group (p, dy, x, x, grads).
    pub fn backward_params(
        &self,
        gpu: &Gpu,
        pass: &mut wgpu::ComputePass,
        bg: &wgpu::BindGroup,
        p: &LinearParams,
    ) -> Result<()> {
        dispatch(
            pass,
            &self.backward_weight,
            bg,
            &[],
            grid(gpu, self.form, p.out_features, p.in_features)?,
        );
        Ok(())
    }
}
