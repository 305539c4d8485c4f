//! The kernel checks, shared by the native tests (tests/kernels.rs, driven by pollster) and the
//! browser tests (tests/web.rs, awaited in headless Chromium): every kernel against the CPU
//! reference (`vae_webgpu::reference`, same names) on shapes 1×1, smaller than a tile (32×32
//! outputs per workgroup, 4×4 per invocation), larger, and not multiples of either; the linear
//! kernels in both GEMM forms.
//!
//! Tolerances: inputs are O(1) and sums have at most a few hundred terms, so f32 accumulation
//! error is below ~1e-5 relative; 1e-5 absolute + 1e-4 relative leaves margin without hiding an
//! indexing bug (which gives O(1) errors). Transcendentals (exp, log, cos) in WGSL are allowed a
//! few ulp more, hence 1e-4 relative where they appear.

use super::{assert_close, assert_close_sum, pad, to_f64, uniform, unpad};
use vae_webgpu::gpu::{GemmForm, Gpu};
use vae_webgpu::kernels::adam::AdamBindings;
use vae_webgpu::kernels::linear::{LinearBindings, LinearParams, FLAG_RELU, FLAG_RELU_MASK};
use vae_webgpu::kernels::loss::{
    loss_partials, LossBindings, StatsRecord, FLAG_LOSS_NON_FINITE, FLAG_PARAMS_NON_FINITE,
};
use vae_webgpu::kernels::reparam::ReparamBindings;
use vae_webgpu::kernels::{step_stride, Kernels, StepParams};
use vae_webgpu::layout::ld;
use vae_webgpu::reference;
use vae_webgpu::rng::{normal_eps, seed_key};

pub const SHAPES: [(usize, usize, usize); 8] = [
    (1, 1, 1),
    (13, 18, 9),
    (9, 44, 21),
    (3, 5, 7),
    (4, 8, 4),
    (37, 50, 45),
    (64, 64, 32),
    (130, 33, 70),
];

/// Records `f` into one compute pass and submits it; the next read waits for it.
fn run(gpu: &Gpu, f: impl FnOnce(&mut wgpu::ComputePass)) {
    let cmd = gpu
        .record("test", |pass| {
            f(pass);
            Ok(())
        })
        .unwrap();
    gpu.queue.submit([cmd]);
}

/// Reads `rows` padded rows of `cols` from `buf` (checking the padding is zero) and compares
/// them with `want`.
async fn assert_rows(
    gpu: &Gpu,
    buf: &wgpu::Buffer,
    (rows, cols): (usize, usize),
    want: &[f64],
    what: &str,
    (atol, rtol): (f64, f64),
) {
    let got = unpad(&read(gpu, buf, rows * ld(cols)).await, rows, cols, what);
    assert_close(what, &got, want, atol, rtol);
}

/// `n` floats of `buf` from float `at`.
async fn read_at(gpu: &Gpu, buf: &wgpu::Buffer, at: usize, n: usize) -> Vec<f32> {
    gpu.read_f32(buf, at as u64 * 4, n).await.unwrap()
}

async fn read(gpu: &Gpu, buf: &wgpu::Buffer, n: usize) -> Vec<f32> {
    gpu.read_f32(buf, 0, n).await.unwrap()
}

fn step_uniform(gpu: &Gpu, s: &StepParams) -> vae_webgpu::gpu::Buffer {
    let buf = gpu.uniform("test step", step_stride(gpu));
    gpu.queue.write_buffer(&buf, 0, bytemuck::bytes_of(s));
    buf
}

fn step(rows: usize, inp: usize, latent: usize) -> StepParams {
    StepParams {
        rows: rows as u32,
        in_features: inp as u32,
        latent: latent as u32,
        index_offset: 0,
        rng_step: 7,
        seed_lo: 42,
        seed_hi: 1,
        slot: 3,
        lr: 1e-3,
        beta1: 0.9,
        beta2: 0.999,
        eps: 1e-8,
        step_size: 0.0,
        bc2_sqrt: 1.0,
        param_vec4s: 0,
        loss_partials: loss_partials(rows as u32),
        kl_weight: 1.0,
        variational: 1,
        hidden: 0,
        partials_at: PARTIALS_AT,
        // Past any parameter buffer here: Adam reads every gradient from `grads`.
        w23_at: u32::MAX / 2,
        b23_at: u32::MAX / 2,
        w4_at: u32::MAX / 2,
        b4_at: u32::MAX / 2,
        through_z: 1,
    }
}

/// Where test steps put the loss's partial sums in the stats buffer (after `slot` 3).
const PARTIALS_AT: u32 = 4;

/// A stats buffer for `s`: records up to [`PARTIALS_AT`], then the partial sums.
fn stats_buffer(gpu: &Gpu, s: &StepParams) -> vae_webgpu::gpu::Buffer {
    gpu.storage("stats", u64::from(PARTIALS_AT + s.loss_partials) * 16)
}

/// Stand-ins for the activations Adam binds for the small layers' gradients (unread here:
/// `step` puts those layers past the parameters).
fn adam_unused(gpu: &Gpu) -> vae_webgpu::gpu::Buffer {
    gpu.storage("unused activation", 16)
}

/// One layer's W (`out` × `inp`, uniform in ±1 from `seed`) and b (from `seed + 1`) placed in a
/// flat parameter vector of garbage (from `seed + 4`, which must not leak in): W at 8 and b at an
/// offset that is not a multiple of 4 (as fc3.bias can be).
struct LayerInGarbage {
    w: Vec<f32>,
    b: Vec<f32>,
    flat: Vec<f32>,
    w_off: usize,
    b_off: usize,
}

fn layer_in_garbage(seed: u64, inp: usize, out: usize) -> LayerInGarbage {
    let w_off = 8;
    let b_off = w_off + out * ld(inp) + 1;
    let w = uniform(seed, out * inp, -1.0, 1.0);
    let b = uniform(seed + 1, out, -1.0, 1.0);
    let mut flat = uniform(seed + 4, ld(b_off + out + 3), -9.0, 9.0);
    for (r, row) in pad(&w, out, inp).chunks(ld(inp)).enumerate() {
        flat[w_off + r * ld(inp)..w_off + (r + 1) * ld(inp)].copy_from_slice(row);
    }
    flat[b_off..b_off + out].copy_from_slice(&b);
    LayerInGarbage {
        w,
        b,
        flat,
        w_off,
        b_off,
    }
}

/// LinearParams of a `rows` × `inp` → `out` layer with W and b at `offsets`, and its uniform.
fn linear_uniform(
    gpu: &Gpu,
    (rows, inp, out): (usize, usize, usize),
    (w_off, b_off): (usize, usize),
    flags: u32,
    partials_at: u32,
) -> (LinearParams, vae_webgpu::gpu::Buffer) {
    let p = LinearParams {
        rows: rows as u32,
        out_features: out as u32,
        in_features: inp as u32,
        weight_offset: w_off as u32,
        bias_offset: b_off as u32,
        flags,
        partials_at,
        _pad1: 0,
    };
    let pu = gpu.uniform("p", std::mem::size_of::<LinearParams>() as u64);
    gpu.queue.write_buffer(&pu, 0, bytemuck::bytes_of(&p));
    (p, pu)
}

/// Shapes for the kernels only the tiled form has: 1×1, smaller and larger than the 32×32 tile
/// and not multiples of it, and fc5's at the VAE's sizes.
const TILED_SHAPES: [(usize, usize, usize); 5] = [
    (1, 1, 1),
    (13, 18, 9),
    (37, 50, 45),
    (130, 33, 70),
    (128, 400, 784),
];

/// One linear layer of `rows` × `inp` → `out` in a flat parameter buffer ([`layer_in_garbage`]). Returns what the kernels wrote (y,
/// dx and the gradient buffer, without and with ReLU), for comparisons between forms.
pub async fn check_linear(
    gpu: &Gpu,
    form: GemmForm,
    (rows, inp, out): (usize, usize, usize),
) -> Vec<Vec<f32>> {
    let mut written = Vec::new();
    let k = Kernels::new(gpu, form);
    let tag = format!("{form:?} B={rows} IN={inp} OUT={out}");
    let LayerInGarbage {
        w,
        b,
        flat,
        w_off,
        b_off,
    } = layer_in_garbage(1, inp, out);
    let total = flat.len();
    let x = uniform(3, rows * inp, -1.0, 1.0);
    let dy = uniform(4, rows * out, -1.0, 1.0);
    let params = gpu.storage_with("params", bytemuck::cast_slice(&flat));
    let xb = gpu.storage_with("x", bytemuck::cast_slice(&pad(&x, rows, inp)));
    let dyb = gpu.storage_with("dy", bytemuck::cast_slice(&pad(&dy, rows, out)));
    let y = gpu.storage("y", (rows * ld(out) * 4) as u64);
    let dx = gpu.storage("dx", (rows * ld(inp) * 4) as u64);
    let grads = gpu.storage_with("grads", bytemuck::cast_slice(&vec![0.0f32; total]));
    for relu in [false, true] {
        let (p, pu) = linear_uniform(
            gpu,
            (rows, inp, out),
            (w_off, b_off),
            if relu { FLAG_RELU | FLAG_RELU_MASK } else { 0 },
            0,
        );
        let lin = |a, b, aux, c| LinearBindings {
            params: &pu,
            a,
            b,
            aux,
            c,
        };
        let bg_f = k
            .linear
            .bind_group(gpu, "f", &lin(&xb, &params, &params, &y));
        let bg_i = k.linear.bind_group(gpu, "i", &lin(&dyb, &params, &xb, &dx));
        let bg_p = k.linear.bind_group(gpu, "p", &lin(&dyb, &xb, &xb, &grads));
        run(gpu, |pass| {
            k.linear.forward(gpu, pass, &bg_f, &p).unwrap();
            k.linear.backward_input(gpu, pass, &bg_i, &p).unwrap();
            k.linear.backward_params(gpu, pass, &bg_p, &p).unwrap();
        });
        let (w64, b64, x64, dy64) = (to_f64(&w), to_f64(&b), to_f64(&x), to_f64(&dy));
        // The same products over absolute values: each sum's Σ|terms|, for the f32 bound.
        let abs = |v: &[f64]| v.iter().map(|a| a.abs()).collect::<Vec<f64>>();
        let (wa, ba, xa, dya) = (abs(&w64), abs(&b64), abs(&x64), abs(&dy64));
        let mut want = vec![0.0; rows * out];
        reference::linear_forward(&mut want, &x64, &w64, &b64, rows, inp, out, relu);
        let mut sums = vec![0.0; rows * out];
        reference::linear_forward(&mut sums, &xa, &wa, &ba, rows, inp, out, false);
        let raw = read(gpu, &y, rows * ld(out)).await;
        let got = unpad(&raw, rows, out, "linear_forward padding");
        written.push(raw);
        assert_close_sum(
            &format!("linear_forward relu={relu} {tag}"),
            &got,
            &want,
            &sums,
            inp + 1,
            (1e-5, 1e-4),
        );

        let mut want = vec![0.0; rows * inp];
        reference::linear_backward_input(
            &mut want,
            &dy64,
            &w64,
            relu.then_some(&x64[..]),
            rows,
            inp,
            out,
        );
        let mut sums = vec![0.0; rows * inp];
        reference::linear_backward_input(&mut sums, &dya, &wa, None, rows, inp, out);
        let raw = read(gpu, &dx, rows * ld(inp)).await;
        let got = unpad(&raw, rows, inp, "linear_backward_input padding");
        written.push(raw);
        assert_close_sum(
            &format!("linear_backward_input mask={relu} {tag}"),
            &got,
            &want,
            &sums,
            out,
            (1e-5, 1e-4),
        );

        let g = read(gpu, &grads, total).await;
        let mut want = vec![0.0; out * inp];
        reference::linear_backward_weight(&mut want, &dy64, &x64, rows, inp, out);
        let mut sums = vec![0.0; out * inp];
        reference::linear_backward_weight(&mut sums, &dya, &xa, rows, inp, out);
        let dw = unpad(
            &g[w_off..w_off + out * ld(inp)],
            out,
            inp,
            "linear_backward_weight padding",
        );
        assert_close_sum(
            &format!("linear_backward_weight {tag}"),
            &dw,
            &want,
            &sums,
            rows,
            (1e-5, 1e-4),
        );
        let mut want = vec![0.0; out];
        reference::linear_backward_bias(&mut want, &dy64, rows, out);
        let mut sums = vec![0.0; out];
        reference::linear_backward_bias(&mut sums, &dya, rows, out);
        assert_close_sum(
            &format!("linear_backward_bias {tag}"),
            &g[b_off..b_off + out],
            &want,
            &sums,
            rows,
            (1e-5, 1e-4),
        );
        assert!(
            g[..w_off].iter().all(|&v| v == 0.0),
            "{tag}: wrote before W"
        );
        assert!(
            g[w_off + out * ld(inp)..b_off].iter().all(|&v| v == 0.0),
            "{tag}: wrote between W and b"
        );
        assert!(
            g[b_off + out..].iter().all(|&v| v == 0.0),
            "{tag}: wrote after b"
        );
        written.push(g);
    }
    written
}

pub async fn linear_direct_matches_reference_on_uneven_shapes(gpu: &Gpu) {
    for shape in SHAPES {
        check_linear(gpu, GemmForm::Direct, shape).await;
    }
}

pub async fn linear_tiled_matches_reference_on_uneven_shapes(gpu: &Gpu) {
    for shape in SHAPES {
        check_linear(gpu, GemmForm::Tiled, shape).await;
    }
}

/// The subgroup form against the reference and, bit for bit, against the direct form (same
/// sums in the same order), on uneven shapes and batches that are not multiples of its 8 lanes.
/// Where the device has no usable subgroups there is nothing to run: it says so and returns, but
/// under CI on lavapipe (whose subgroups have 8 lanes) it fails instead, so CI always runs it.
pub async fn linear_subgroup_matches_direct_bit_for_bit(gpu: &Gpu) {
    if !gpu.subgroups {
        let lavapipe = gpu.describe().to_ascii_lowercase().contains("llvmpipe");
        assert!(
            !(lavapipe && std::env::var_os("CI").is_some()),
            "CI runs on lavapipe, whose subgroups the subgroup form needs, but the device has none"
        );
        eprintln!("SKIPPED: the device has no subgroups of ≥ 8 lanes");
        return;
    }
    for shape in SHAPES.into_iter().chain([(128, 784, 400), (96, 400, 40)]) {
        let direct = check_linear(gpu, GemmForm::Direct, shape).await;
        let subgroup = check_linear(gpu, GemmForm::DirectSubgroup, shape).await;
        assert!(
            direct == subgroup,
            "{shape:?}: subgroup form differs from the direct form"
        );
    }
}

pub async fn linear_both_forms_at_vae_sizes(gpu: &Gpu) {
    for form in [GemmForm::Direct, GemmForm::Tiled] {
        check_linear(gpu, form, (128, 784, 400)).await;
        check_linear(gpu, form, (96, 400, 40)).await;
    }
}

pub async fn gather_batch_matches_reference(gpu: &Gpu) {
    let k = Kernels::new(gpu, gpu.gemm);
    for (n_img, inp, ids) in [
        (1usize, 1usize, vec![0u32]),
        (5, 13, vec![3, 0, 4, 4]),
        (40, 784, (0..37).rev().collect()),
    ] {
        let images: Vec<u8> = uniform(9, n_img * inp, 0.0, 256.0)
            .iter()
            .map(|&v| v as u8)
            .collect();
        let mut padded = images.clone();
        padded.resize(images.len().div_ceil(16) * 16, 0);
        let rows = ids.len();
        let mut idx = vec![99u32, 98];
        idx.extend(&ids);
        let mut s = step(rows, inp, 1);
        s.index_offset = 2;
        let su = step_uniform(gpu, &s);
        let ib = gpu.storage_with("images", &padded);
        let xb = gpu.storage_with("indices", bytemuck::cast_slice(&idx));
        let out = gpu.storage_with("x", bytemuck::cast_slice(&vec![7.0f32; rows * ld(inp)]));
        let bg = k.gather.bind_group(gpu, &su, &ib, &xb, &out);
        run(gpu, |pass| {
            k.gather.gather_batch(gpu, pass, &bg, 0, &s).unwrap()
        });
        let got = unpad(
            &read(gpu, &out, rows * ld(inp)).await,
            rows,
            inp,
            "gather padding",
        );
        let mut want = vec![0.0; rows * inp];
        reference::gather_batch(&mut want, &images, &ids, inp);
        assert_close(&format!("gather_batch IN={inp}"), &got, &want, 1e-7, 0.0);
    }
}

pub async fn reparam_forward_and_backward_match_reference(gpu: &Gpu) {
    let k = Kernels::new(gpu, gpu.gemm);
    // (rows, L, β, variational, through z): the seed's VAE, then β = 0, 0.5 and 4, then a plain
    // autoencoder (z = μ, ε = 0, β = 0), then the trick switched off (KL's gradient alone).
    for (rows, l, beta, variational, through_z) in [
        (1usize, 1usize, 1.0f32, true, true),
        (5, 3, 1.0, true, true),
        (128, 20, 1.0, true, true),
        (33, 7, 1.0, true, true),
        (33, 7, 0.0, true, true),
        (5, 3, 0.5, true, true),
        (128, 20, 4.0, true, true),
        (33, 7, 0.0, false, true),
        (33, 7, 1.0, true, false),
    ] {
        let s = StepParams {
            kl_weight: beta,
            variational: u32::from(variational),
            through_z: u32::from(through_z),
            ..step(rows, 4, l)
        };
        let su = step_uniform(gpu, &s);
        let mulv = uniform(11, rows * 2 * l, -2.0, 2.0);
        let dz = uniform(12, rows * l, -1.0, 1.0);
        let mulv_b = gpu.storage_with("mulv", bytemuck::cast_slice(&pad(&mulv, rows, 2 * l)));
        let dz_b = gpu.storage_with("dz", bytemuck::cast_slice(&pad(&dz, rows, l)));
        let z_b = gpu.storage("z", (rows * ld(l) * 4) as u64);
        let eps_b = gpu.storage("eps", (rows * l * 4) as u64);
        let dmulv_b = gpu.storage("dmulv", (rows * ld(2 * l) * 4) as u64);
        let bg = k.reparam.bind_group(
            gpu,
            &ReparamBindings {
                step: &su,
                mulv: &mulv_b,
                dz: &dz_b,
                z: &z_b,
                eps: &eps_b,
                dmulv: &dmulv_b,
            },
        );
        run(gpu, |pass| {
            k.reparam.reparam_forward(gpu, pass, &bg, 0, &s).unwrap();
            k.reparam.reparam_backward(gpu, pass, &bg, 0, &s).unwrap();
        });
        let eps = read(gpu, &eps_b, rows * l).await;
        let key = seed_key(42 | (1 << 32));
        let twin: Vec<f64> = (0..rows * l)
            .map(|i| {
                if variational {
                    f64::from(normal_eps(key, 7, i as u32))
                } else {
                    0.0
                }
            })
            .collect();
        // The integer part (Philox) is exact; WGSL allows log/cos a few ulp and cos 2^-11
        // absolute error, times sqrt(-2 ln u1) ≤ 5.8: 4e-3. An indexing bug gives O(1) errors.
        assert_close(
            &format!("reparam eps vs CPU twin L={l}"),
            &eps,
            &twin,
            4e-3,
            1e-4,
        );
        let eps64 = to_f64(&eps);
        let mut want = vec![0.0; rows * l];
        reference::reparam_forward(&mut want, &to_f64(&mulv), &eps64, rows, l);
        let got = unpad(&read(gpu, &z_b, rows * ld(l)).await, rows, l, "z padding");
        assert_close(
            &format!("reparam_forward B={rows} L={l}"),
            &got,
            &want,
            1e-5,
            1e-4,
        );
        let mut want = vec![0.0; rows * 2 * l];
        reference::reparam_backward_weighted(
            &mut want,
            &to_f64(&dz),
            &to_f64(&mulv),
            &eps64,
            rows,
            l,
            f64::from(beta),
            through_z,
        );
        let got = unpad(
            &read(gpu, &dmulv_b, rows * ld(2 * l)).await,
            rows,
            2 * l,
            "dmulv padding",
        );
        assert_close(
            &format!("reparam_backward B={rows} L={l} β={beta} variational={variational} through z={through_z}"),
            &got,
            &want,
            1e-5,
            1e-4,
        );
    }
}

pub async fn loss_bce_kl_matches_reference(gpu: &Gpu) {
    let k = Kernels::new(gpu, gpu.gemm);
    for (rows, inp, l) in [
        (1usize, 1usize, 1usize),
        (3, 13, 3),
        (128, 784, 20),
        (7, 5, 9),
        (6, 27, 5),
    ] {
        let s = step(rows, inp, l);
        let su = step_uniform(gpu, &s);
        let logits = uniform(21, rows * inp, -12.0, 12.0);
        let x = uniform(22, rows * inp, 0.0, 1.0);
        let mulv = uniform(23, rows * 2 * l, -2.0, 2.0);
        let lb = gpu.storage_with("logits", bytemuck::cast_slice(&pad(&logits, rows, inp)));
        let xb = gpu.storage_with("x", bytemuck::cast_slice(&pad(&x, rows, inp)));
        let mb = gpu.storage_with("mulv", bytemuck::cast_slice(&pad(&mulv, rows, 2 * l)));
        let db = gpu.storage("dlogits", (rows * ld(inp) * 4) as u64);
        let sb = stats_buffer(gpu, &s);
        let bg = k.loss.bind_group(
            gpu,
            &LossBindings {
                step: &su,
                logits: &lb,
                x: &xb,
                mulv: &mb,
                dlogits: &db,
                stats: &sb,
            },
        );
        run(gpu, |pass| {
            k.loss.loss_bce_kl(gpu, pass, &bg, 0, &s).unwrap();
            k.loss.loss_reduce(pass, &bg, 0);
        });
        let mut want_d = vec![0.0; rows * inp];
        let (bce, kl) = reference::loss_bce_kl(
            &mut want_d,
            &to_f64(&logits),
            &to_f64(&x),
            &to_f64(&mulv),
            rows,
            inp,
            l,
        );
        let rec = StatsRecord::parse(bytemuck::cast_slice(&read(gpu, &sb, 16).await))[3];
        assert_close(
            &format!("loss Σ BCE B={rows} IN={inp}"),
            &[rec.recon],
            &[bce],
            1e-4,
            1e-5,
        );
        assert_close(
            &format!("loss KL B={rows} L={l}"),
            &[rec.kl],
            &[kl],
            1e-4,
            1e-5,
        );
        assert_eq!(rec.rows, rows as u32);
        assert_eq!(rec.flags, 0, "non-finite flag");
        let got = unpad(
            &read(gpu, &db, rows * ld(inp)).await,
            rows,
            inp,
            "dlogits padding",
        );
        assert_close(&format!("loss dlogits B={rows}"), &got, &want_d, 1e-6, 1e-5);
    }
}

pub async fn loss_flags_non_finite(gpu: &Gpu) {
    let k = Kernels::new(gpu, gpu.gemm);
    let s = step(2, 4, 2);
    let su = step_uniform(gpu, &s);
    let lb = gpu.storage_with(
        "logits",
        bytemuck::cast_slice(&[0.0f32, 1.0, f32::NAN, 2.0, 0.0, 0.0, 0.0, 0.0]),
    );
    let xb = gpu.storage_with("x", bytemuck::cast_slice(&[0.5f32; 8]));
    let mb = gpu.storage_with("mulv", bytemuck::cast_slice(&[0.1f32; 8]));
    let db = gpu.storage("dlogits", 32);
    let sb = stats_buffer(gpu, &s);
    let bg = k.loss.bind_group(
        gpu,
        &LossBindings {
            step: &su,
            logits: &lb,
            x: &xb,
            mulv: &mb,
            dlogits: &db,
            stats: &sb,
        },
    );
    run(gpu, |pass| {
        k.loss.loss_bce_kl(gpu, pass, &bg, 0, &s).unwrap();
        k.loss.loss_reduce(pass, &bg, 0);
    });
    let rec = StatsRecord::parse(bytemuck::cast_slice(&read(gpu, &sb, 16).await))[3];
    assert_eq!(
        rec.flags, FLAG_LOSS_NON_FINITE,
        "NaN loss not flagged: {rec:?}"
    );
    assert!(!rec.recon.is_finite(), "{rec:?}");
}

/// An Adam update that makes a parameter non-finite sets bit 1 of the step's flags word and
/// leaves the other words (written by the loss kernel) alone; a finite update sets nothing.
pub async fn adam_flags_non_finite_params(gpu: &Gpu) {
    let k = Kernels::new(gpu, gpu.gemm);
    let n = 37 * 4;
    for (bad, want) in [(None, 0u32), (Some(101usize), FLAG_PARAMS_NON_FINITE)] {
        let mut g = uniform(51, n, -1.0, 1.0);
        let mut p0 = uniform(52, n, -1.0, 1.0);
        if let Some(i) = bad {
            g[i] = f32::INFINITY;
            p0[i + 1] = f32::MAX;
        }
        let pb = gpu.storage_with("params", bytemuck::cast_slice(&p0));
        let gb = gpu.storage_with("grads", bytemuck::cast_slice(&g));
        let mvb = gpu.storage("m|v", (2 * n * 4) as u64);
        let unused = adam_unused(gpu);
        let words: Vec<u32> = (0..16u32).map(|i| 1000 + i).collect();
        let sb = gpu.storage_with("stats", bytemuck::cast_slice(&words));
        let mut s = step(1, 1, 1);
        s.slot = 2;
        s.step_size = 1e-3;
        s.bc2_sqrt = 0.0447;
        s.param_vec4s = (n / 4) as u32;
        let su = step_uniform(gpu, &s);
        let bg = k.adam.bind_group(
            gpu,
            &AdamBindings {
                step: &su,
                grads: &gb,
                params: &pb,
                mv: &mvb,
                stats: &sb,
                h1: &unused,
                dh4: &unused,
                z: &unused,
                dmulv: &unused,
            },
        );
        run(gpu, |pass| k.adam.adam_step(gpu, pass, &bg, 0, &s).unwrap());
        let got: Vec<u32> = bytemuck::cast_slice(&read(gpu, &sb, 16).await).to_vec();
        let mut expect = words.clone();
        expect[11] |= want;
        assert_eq!(got, expect, "stats words after Adam (bad = {bad:?})");
    }
}

pub async fn adam_step_matches_torch_adam_over_three_steps(gpu: &Gpu) {
    let k = Kernels::new(gpu, gpu.gemm);
    for n in [4usize, 1000, 70_004] {
        let p0 = uniform(31, n, -1.0, 1.0);
        let pb = gpu.storage_with("params", bytemuck::cast_slice(&p0));
        let gb = gpu.storage("grads", (n * 4) as u64);
        let mvb = gpu.storage("m|v", (2 * n * 4) as u64);
        let unused = adam_unused(gpu);
        let sb = gpu.storage("stats", 64);
        let (mut p, mut m, mut v) = (to_f64(&p0), vec![0.0; n], vec![0.0; n]);
        for t in 1..=3u64 {
            let g = uniform(40 + t, n, -2.0, 2.0);
            gpu.queue.write_buffer(&gb, 0, bytemuck::cast_slice(&g));
            let mut s = step(1, 1, 1);
            s.lr = 1e-2;
            s.step_size = (1e-2 / (1.0 - 0.9f64.powi(t as i32))) as f32;
            s.bc2_sqrt = (1.0 - 0.999f64.powi(t as i32)).sqrt() as f32;
            s.param_vec4s = (n / 4) as u32;
            let su = step_uniform(gpu, &s);
            let bg = k.adam.bind_group(
                gpu,
                &AdamBindings {
                    step: &su,
                    grads: &gb,
                    params: &pb,
                    mv: &mvb,
                    stats: &sb,
                    h1: &unused,
                    dh4: &unused,
                    z: &unused,
                    dmulv: &unused,
                },
            );
            run(gpu, |pass| k.adam.adam_step(gpu, pass, &bg, 0, &s).unwrap());
            reference::adam_step(
                &mut p,
                &to_f64(&g),
                &mut m,
                &mut v,
                1e-2,
                0.9,
                0.999,
                1e-8,
                t,
            );
        }
        assert_close(
            &format!("adam params n={n}"),
            &read(gpu, &pb, n).await,
            &p,
            1e-6,
            1e-5,
        );
        assert_close(
            &format!("adam m n={n}"),
            &read(gpu, &mvb, n).await,
            &m,
            1e-6,
            1e-5,
        );
        assert_close(
            &format!("adam v n={n}"),
            &read_at(gpu, &mvb, n, n).await,
            &v,
            1e-6,
            1e-5,
        );
    }
}

/// The two engines behind one [`Session`] each, from one seed on the same data: every step's
/// losses and the parameters after them, the test loss (twice: the ε counter moves on alike),
/// reconstructions and encodes of test images, encodes and decodes of given values (more than a
/// pass: chunked), samples, the latent map, the current and last batch, and a checkpoint
/// exported by the CPU engine and resumed by the GPU engine (both then train on alike).
///
/// Tolerances: losses 1e-3 relative (seen ≤ 7e-6); parameters 1e-3 of the largest; outputs of
/// trained parameters summed in two orders 2e-4 + 1e-3 relative (seen 3.8e-5 in Chromium) —
/// an indexing bug gives O(1).
async fn params(s: &vae_webgpu::session::Session) -> Vec<f32> {
    s.engine().read_params().await.unwrap()
}

pub async fn cpu_engine_matches_gpu_engine(
    gpu: Gpu,
    cfg: vae_webgpu::VaeConfig,
    steps: u32,
) -> String {
    use vae_webgpu::engine::{Engine, EngineKind};
    use vae_webgpu::session::Session;
    let (train, test) = (
        super::synthetic_digits(7, 150, 14),
        super::synthetic_digits(8, 40, 14),
    );
    let trainer = vae_webgpu::train::Trainer::without_data(gpu, &cfg).unwrap();
    let mut g = Session::new(Engine::gpu(trainer), || 0.0);
    let mut c = Session::open_cpu(&cfg, || 0.0).unwrap();
    assert_eq!(
        (g.engine().kind(), c.engine().kind()),
        (EngineKind::Gpu, EngineKind::Cpu)
    );
    for s in [&mut g, &mut c] {
        s.attach(train.clone(), test.clone()).unwrap();
    }
    assert_eq!(c.status(), g.status());
    let rel = |a: f64, b: f64| (a - b).abs() / b.abs().max(1e-6);
    let mut worst = 0.0f64;
    let mut compare_steps = async |g: &mut Session, c: &mut Session, steps: u32| {
        let mut records = Vec::new();
        while records.len() < steps as usize {
            records.extend(g.steps(steps - records.len() as u32).await.unwrap());
            records.extend(g.flush_steps().await.unwrap());
        }
        for r in &records {
            let s = c.steps(1).await.unwrap()[0];
            let at = |r: &vae_webgpu::run::StepRecord| (r.epoch, r.step, r.global_step, r.rows);
            assert_eq!(at(&s), at(r));
            for (what, cv, gv) in [("reconstruction", s.recon, r.recon), ("KL", s.kl, r.kl)] {
                let e = rel(f64::from(cv), f64::from(gv));
                worst = worst.max(e);
                assert!(e < 1e-3, "step {}: {what} CPU {cv} GPU {gv}", r.global_step);
            }
        }
        assert_eq!(c.status(), g.status());
    };
    compare_steps(&mut g, &mut c, steps).await;
    let (gp, cp) = (params(&g).await, params(&c).await);
    assert_eq!(gp.len(), cp.len());
    let scale = gp.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    let diff = gp
        .iter()
        .zip(&cp)
        .fold(0.0f32, |m, (a, b)| m.max((a - b).abs()));
    assert!(
        diff <= 1e-3 * scale.max(1.0),
        "parameters: {diff} against {scale}"
    );
    for _ in 0..2 {
        let (ge, ce) = (g.evaluate().await.unwrap(), c.evaluate().await.unwrap());
        assert_eq!(ce.count, ge.count);
        assert!(
            rel(ce.reconstruction, ge.reconstruction) < 1e-3,
            "test BCE {ce:?} {ge:?}"
        );
        assert!(rel(ce.kl, ge.kl) < 1e-3, "test KL {ce:?} {ge:?}");
    }
    let close = |what: &str, cv: &[f32], gv: &[f32]| {
        assert_eq!(cv.len(), gv.len(), "{what}");
        assert_close(what, cv, &to_f64(gv), 2e-4, 1e-3);
    };
    // Display passes: 35 test images (ε from the same counter words), more than a pass.
    let rows = cfg.batch_size + 3;
    let (gr, cr) = (
        g.reconstruct(35).await.unwrap(),
        c.reconstruct(35).await.unwrap(),
    );
    close("test reconstructions", &cr, &gr);
    let (gm, cm) = (
        g.latent_map(40).await.unwrap(),
        c.latent_map(40).await.unwrap(),
    );
    close("latent map", &cm.points, &gm.points);
    assert_eq!(cm.labels, gm.labels);
    let (gb, cb) = (
        g.current_batch().await.unwrap(),
        c.current_batch().await.unwrap(),
    );
    close("current batch pixels", &cb.0, &gb.0);
    close("current batch μ", &cb.1, &gb.1);
    let (gl, cl) = (g.last_batch().await.unwrap(), c.last_batch().await.unwrap());
    close("last batch pixels", &cl.0, &gl.0);
    close("last batch reconstructions", &cl.1, &gl.1);
    let pixels: Vec<f32> = (0..rows * cfg.input)
        .map(|i| (i * 37 % 101) as f32 / 100.0)
        .collect();
    let (ge, ce) = (
        g.encode(&pixels).await.unwrap(),
        c.encode(&pixels).await.unwrap(),
    );
    assert_eq!(ce.0.len(), rows * cfg.latent);
    close("encode μ", &ce.0, &ge.0);
    close("encode log σ²", &ce.1, &ge.1);
    let z: Vec<f32> = (0..rows * cfg.latent)
        .map(|i| (i % 7) as f32 * 0.3 - 1.0)
        .collect();
    let (gd, cd) = (g.decode(&z).await.unwrap(), c.decode(&z).await.unwrap());
    assert_eq!(cd.len(), rows * cfg.input);
    close("decode", &cd, &gd);
    let (gs, cs) = (
        g.sample(10, 3).await.unwrap(),
        c.sample(10, 3).await.unwrap(),
    );
    close("samples", &cs, &gs);
    assert!(c.decode(&z[1..]).await.is_err() && c.encode(&pixels[1..]).await.is_err());
    // The CPU engine's checkpoint resumes on the GPU engine: same place, same weights, and the
    // two go on alike (Adam restarted on both).
    let bytes = c.export_checkpoint().await.unwrap();
    let at = g.resume(&bytes).unwrap();
    assert_eq!(c.resume(&bytes).unwrap(), at);
    assert_eq!(params(&g).await, params(&c).await);
    compare_steps(&mut g, &mut c, 3).await;
    format!(
        "{steps} steps (β {}, variational {}): worst loss difference {worst:.2e} relative; \
         parameters differ by at most {diff:.2e} (largest |p| {scale:.3})",
        cfg.kl_weight, cfg.variational
    )
}

/// A weight (rows × cols, row stride ld(cols)) or bias (cols = n, one row) out of a flat
/// parameter vector, dense.
fn tensor(flat: &[f32], offset: usize, rows: usize, cols: usize) -> Vec<f32> {
    let stride = if rows == 1 { cols } else { ld(cols) };
    (0..rows)
        .flat_map(|r| {
            flat[offset + r * stride..offset + r * stride + cols]
                .iter()
                .copied()
        })
        .collect()
}

/// latent.wgsl's fused kernels and the small layers' gradients adam.wgsl makes, against the
/// reference's separate steps (fc2|fc3 → z → fc4 forward; fc4 → z → fc2|fc3 backward; their
/// weight and bias gradients), on sizes that are and are not multiples of 4, a latent wider
/// than the workgroup, β = 4, and a plain autoencoder. Also: latent_backward's extra workgroup
/// sums the loss's partials into the step's record, and Adam leaves the other gradients alone.
pub async fn latent_kernels_and_small_gradients_match_reference(gpu: &Gpu) {
    use vae_webgpu::kernels::latent::{LatentBackwardBindings, LatentForwardBindings};
    use vae_webgpu::layout::ParamLayout;
    let k = Kernels::new(gpu, gpu.gemm);
    for (rows, h, l, beta, variational, through_z) in [
        (1usize, 1usize, 1usize, 1.0f32, true, true),
        (5, 13, 3, 1.0, true, true),
        (3, 30, 5, 4.0, true, true),
        (33, 7, 9, 0.0, false, true),
        (2, 70, 70, 1.0, true, true),
        (128, 400, 20, 1.0, true, true),
        (5, 13, 3, 1.0, true, false),
    ] {
        let what = format!(
            "B={rows} H={h} L={l} β={beta} variational={variational} through z={through_z}"
        );
        let layout = ParamLayout::new(6, h, l);
        let [_, fc23, fc4, _] = layout.layers();
        let flat = layout.init(9);
        let n = layout.len;
        let s = StepParams {
            kl_weight: beta,
            variational: u32::from(variational),
            through_z: u32::from(through_z),
            hidden: h as u32,
            param_vec4s: (n / 4) as u32,
            step_size: 1e-3,
            w23_at: fc23.weight_offset as u32,
            b23_at: fc23.bias_offset as u32,
            w4_at: fc4.weight_offset as u32,
            b4_at: fc4.bias_offset as u32,
            ..step(rows, 6, l)
        };
        let su = step_uniform(gpu, &s);
        let h1: Vec<f32> = uniform(61, rows * h, -1.0, 1.0)
            .iter()
            .map(|v| v.max(0.0))
            .collect();
        let dh4 = uniform(62, rows * h, -1.0, 1.0);
        let marker = 0.25f32;
        let params_b = gpu.storage_with("params", bytemuck::cast_slice(&flat));
        let grads_b = gpu.storage_with("grads", bytemuck::cast_slice(&vec![marker; n]));
        let mv_b = gpu.storage("m|v", (2 * n * 4) as u64);
        let h1_b = gpu.storage_with("h1", bytemuck::cast_slice(&pad(&h1, rows, h)));
        let dh4_b = gpu.storage_with("dh4", bytemuck::cast_slice(&pad(&dh4, rows, h)));
        let mulv_b = gpu.storage("mulv", (rows * ld(2 * l) * 4) as u64);
        let z_b = gpu.storage("z", (rows * ld(l) * 4) as u64);
        let eps_b = gpu.storage("eps", (rows * l * 4) as u64);
        let h4_b = gpu.storage("h4", (rows * ld(h) * 4) as u64);
        let dmulv_b = gpu.storage("dmulv", (rows * ld(2 * l) * 4) as u64);
        let dh1_b = gpu.storage("dh1", (rows * ld(h) * 4) as u64);
        // Partial sums as loss_bce_kl leaves them, after the records.
        let parts = uniform(63, 2 * s.loss_partials as usize, 0.0, 10.0);
        let mut words = vec![0u32; 4 * PARTIALS_AT as usize];
        for p in parts.chunks(2) {
            words.extend([p[0].to_bits(), p[1].to_bits(), 0, 0]);
        }
        let stats_b = gpu.storage_with("stats", bytemuck::cast_slice(&words));
        let forward = k.latent.forward_bind_group(
            gpu,
            &LatentForwardBindings {
                step: &su,
                params: &params_b,
                h1: &h1_b,
                mulv: &mulv_b,
                z: &z_b,
                eps: &eps_b,
                h4: &h4_b,
                stats: &stats_b,
            },
        );
        let backward = k.latent.backward_bind_group(
            gpu,
            &LatentBackwardBindings {
                step: &su,
                params: &params_b,
                h1: &h1_b,
                mulv: &mulv_b,
                eps: &eps_b,
                dh4: &dh4_b,
                dmulv: &dmulv_b,
                dh1: &dh1_b,
                stats: &stats_b,
            },
        );
        let adam = k.adam.bind_group(
            gpu,
            &AdamBindings {
                step: &su,
                grads: &grads_b,
                params: &params_b,
                mv: &mv_b,
                stats: &stats_b,
                h1: &h1_b,
                dh4: &dh4_b,
                z: &z_b,
                dmulv: &dmulv_b,
            },
        );
        run(gpu, |pass| {
            k.latent.latent_forward(gpu, pass, &forward, 0, &s).unwrap();
            k.latent
                .latent_backward(gpu, pass, &backward, 0, &s)
                .unwrap();
            k.adam.adam_step(gpu, pass, &adam, 0, &s).unwrap();
        });

        // Forward.
        let w23 = to_f64(&tensor(&flat, fc23.weight_offset, 2 * l, h));
        let b23 = to_f64(&tensor(&flat, fc23.bias_offset, 1, 2 * l));
        let w4 = to_f64(&tensor(&flat, fc4.weight_offset, h, l));
        let b4 = to_f64(&tensor(&flat, fc4.bias_offset, 1, h));
        let h1_64 = to_f64(&h1);
        let mut mulv = vec![0.0; rows * 2 * l];
        reference::linear_forward(&mut mulv, &h1_64, &w23, &b23, rows, h, 2 * l, false);
        let label = format!("latent_forward μ|log σ² {what}");
        assert_rows(gpu, &mulv_b, (rows, 2 * l), &mulv, &label, (1e-5, 1e-4)).await;
        let eps = read(gpu, &eps_b, rows * l).await;
        let key = seed_key(42 | (1 << 32));
        let twin: Vec<f64> = (0..rows * l)
            .map(|i| match variational {
                true => f64::from(normal_eps(key, 7, i as u32)),
                false => 0.0,
            })
            .collect();
        assert_close(&format!("latent_forward ε {what}"), &eps, &twin, 4e-3, 1e-4);
        let eps64 = to_f64(&eps);
        let mut z = vec![0.0; rows * l];
        reference::reparam_forward(&mut z, &mulv, &eps64, rows, l);
        let label = format!("latent_forward z {what}");
        assert_rows(gpu, &z_b, (rows, l), &z, &label, (1e-5, 1e-4)).await;
        let mut h4 = vec![0.0; rows * h];
        reference::linear_forward(&mut h4, &z, &w4, &b4, rows, l, h, true);
        let label = format!("latent_forward h4 {what}");
        assert_rows(gpu, &h4_b, (rows, h), &h4, &label, (1e-5, 1e-4)).await;

        // Backward.
        let dh4_64 = to_f64(&dh4);
        let mut dz = vec![0.0; rows * l];
        reference::linear_backward_input(&mut dz, &dh4_64, &w4, None, rows, l, h);
        let mut dmulv = vec![0.0; rows * 2 * l];
        reference::reparam_backward_weighted(
            &mut dmulv,
            &dz,
            &mulv,
            &eps64,
            rows,
            l,
            f64::from(beta),
            through_z,
        );
        let label = format!("latent_backward dμ|dlog σ² {what}");
        assert_rows(gpu, &dmulv_b, (rows, 2 * l), &dmulv, &label, (1e-5, 1e-4)).await;
        let mut dh1 = vec![0.0; rows * h];
        reference::linear_backward_input(&mut dh1, &dmulv, &w23, Some(&h1_64), rows, h, 2 * l);
        let label = format!("latent_backward dh1 {what}");
        assert_rows(gpu, &dh1_b, (rows, h), &dh1, &label, (1e-5, 1e-4)).await;
        // latent_forward's partial records: (0, the row's KL), in place of the first B.
        let words = 4 * (PARTIALS_AT as usize + s.loss_partials as usize);
        let records = StatsRecord::parse(bytemuck::cast_slice(&read(gpu, &stats_b, words).await));
        let kl_rows: Vec<f64> = (0..rows)
            .map(|r| {
                (0..l)
                    .map(|j| {
                        let (mu, lv) = (mulv[r * 2 * l + j], mulv[r * 2 * l + l + j]);
                        -0.5 * (1.0 + lv - mu * mu - lv.exp())
                    })
                    .sum()
            })
            .collect();
        let kl_records = &records[PARTIALS_AT as usize..][..rows];
        let kl_got: Vec<f32> = kl_records.iter().map(|r| r.kl).collect();
        assert_close(
            &format!("latent_forward KL per row {what}"),
            &kl_got,
            &kl_rows,
            1e-5,
            1e-4,
        );
        assert!(kl_records.iter().all(|r| r.recon == 0.0), "{what}");
        // latent_backward's extra workgroup: every partial added into the step's record.
        let rec = records[3];
        let loaded = |k: usize| {
            parts
                .chunks(2)
                .skip(rows)
                .map(|p| f64::from(p[k]))
                .sum::<f64>()
        };
        let kl_sum: f64 = kl_got.iter().map(|&v| f64::from(v)).sum();
        assert_close(
            &format!("loss sum {what}"),
            &[rec.recon, rec.kl],
            &[loaded(0), loaded(1) + kl_sum],
            1e-6,
            1e-5,
        );
        assert_eq!((rec.rows, rec.flags), (rows as u32, 0), "{what}");

        // The small layers' gradients, made in Adam's dispatch; every other one untouched.
        let grads = read(gpu, &grads_b, n).await;
        let mut dw23 = vec![0.0; 2 * l * h];
        reference::linear_backward_weight(&mut dw23, &dmulv, &h1_64, rows, h, 2 * l);
        let mut db23 = vec![0.0; 2 * l];
        reference::linear_backward_bias(&mut db23, &dmulv, rows, 2 * l);
        let mut dw4 = vec![0.0; h * l];
        reference::linear_backward_weight(&mut dw4, &dh4_64, &z, rows, l, h);
        let mut db4 = vec![0.0; h];
        reference::linear_backward_bias(&mut db4, &dh4_64, rows, h);
        let small = [
            ("dW23", fc23.weight_offset, 2 * l, h, dw23),
            ("db23", fc23.bias_offset, 1, 2 * l, db23),
            ("dW4", fc4.weight_offset, h, l, dw4),
            ("db4", fc4.bias_offset, 1, h, db4),
        ];
        let mut mine = vec![false; n];
        for (name, at, r, c, want) in &small {
            let got = tensor(&grads, *at, *r, *c);
            assert_close(&format!("adam's {name} {what}"), &got, want, 1e-4, 1e-4);
            let span = if *r == 1 { ld(*c) } else { r * ld(*c) };
            mine[*at..at + span].iter_mut().for_each(|m| *m = true);
        }
        for (i, g) in grads.iter().enumerate() {
            match mine[i] {
                // Padding of the small tensors gets a zero gradient.
                true => {}
                false => assert_eq!(*g, marker, "gradient {i} of another layer moved ({what})"),
            }
        }
        for (name, at, r, c, _) in &small {
            let stride = ld(*c);
            for row in 0..*r {
                for col in *c..stride {
                    assert_eq!(
                        grads[at + row * stride + col],
                        0.0,
                        "{name} padding ({what})"
                    );
                }
            }
        }
    }
}

/// linear_forward_loss_tiled (fc5's forward with the loss, the fused step form) against the
/// reference: the logits, dlogits = σ(logit) − target, and Σ BCE over its partial-sum records
/// (one per workgroup, after the B records latent_forward owns), on shapes that are and are not
/// multiples of the 32×32 tile, with W and b among garbage (b not on a vec4).
pub async fn linear_forward_loss_matches_reference(gpu: &Gpu) {
    use vae_webgpu::kernels::linear::{loss_groups, LinearKernels, LossEpilogue};
    let k = LinearKernels::new(gpu, GemmForm::Tiled);
    for (rows, inp, out) in TILED_SHAPES {
        let tag = format!("B={rows} IN={inp} OUT={out}");
        let LayerInGarbage {
            w,
            b,
            flat,
            w_off,
            b_off,
        } = layer_in_garbage(71, inp, out);
        let x = uniform(73, rows * inp, 0.0, 1.0);
        let t = uniform(74, rows * out, 0.0, 1.0);
        let groups = loss_groups(rows as u32, out as u32) as usize;
        let (p, pu) = linear_uniform(gpu, (rows, inp, out), (w_off, b_off), 0, PARTIALS_AT);
        let params = gpu.storage_with("params", bytemuck::cast_slice(&flat));
        let xb = gpu.storage_with("x", bytemuck::cast_slice(&pad(&x, rows, inp)));
        let tb = gpu.storage_with("targets", bytemuck::cast_slice(&pad(&t, rows, out)));
        let logits_b = gpu.storage("logits", (rows * ld(out) * 4) as u64);
        let dl_b = gpu.storage("dlogits", (rows * ld(out) * 4) as u64);
        let records = PARTIALS_AT as usize + rows + groups;
        let stats_b = gpu.storage("stats", (records * 16) as u64);
        let lin = LinearBindings {
            params: &pu,
            a: &xb,
            b: &params,
            aux: &params,
            c: &logits_b,
        };
        let epilogue = LossEpilogue {
            targets: &tb,
            dlogits: &dl_b,
            stats: &stats_b,
        };
        let bg = k
            .loss_bind_group(gpu, "fc5 + loss", &lin, &epilogue)
            .unwrap();
        run(gpu, |pass| k.forward_loss(gpu, pass, &bg, &p).unwrap());
        let mut logits = vec![0.0; rows * out];
        let (w64, b64, x64) = (to_f64(&w), to_f64(&b), to_f64(&x));
        reference::linear_forward(&mut logits, &x64, &w64, &b64, rows, inp, out, false);
        let got = unpad(
            &read(gpu, &logits_b, rows * ld(out)).await,
            rows,
            out,
            "logits padding",
        );
        assert_close(
            &format!("forward_loss logits {tag}"),
            &got,
            &logits,
            1e-4,
            1e-4,
        );
        // From the kernel's own logits: σ and BCE need no second tolerance for the product.
        let l64 = to_f64(&got);
        let t64 = to_f64(&t);
        let want_d: Vec<f64> = l64
            .iter()
            .zip(&t64)
            .map(|(l, t)| reference::sigmoid(*l) - t)
            .collect();
        let got_d = unpad(
            &read(gpu, &dl_b, rows * ld(out)).await,
            rows,
            out,
            "dlogits padding",
        );
        assert_close(
            &format!("forward_loss dlogits {tag}"),
            &got_d,
            &want_d,
            1e-6,
            1e-5,
        );
        let bce: f64 = l64
            .iter()
            .zip(&t64)
            .map(|(l, t)| reference::bce_with_logits(*l, *t))
            .sum();
        let all = StatsRecord::parse(bytemuck::cast_slice(
            &read(gpu, &stats_b, 4 * records).await,
        ));
        let parts = &all[PARTIALS_AT as usize + rows..];
        assert_eq!(parts.len(), groups);
        assert!(parts.iter().all(|r| r.kl == 0.0 && r.rows == 0), "{tag}");
        let sum: f64 = parts.iter().map(|r| f64::from(r.recon)).sum();
        assert_close(
            &format!("forward_loss Σ BCE {tag}"),
            &[sum as f32],
            &[bce],
            1e-3,
            1e-5,
        );
        // The B records before them are latent_forward's: left alone.
        assert!(all[..PARTIALS_AT as usize + rows]
            .iter()
            .all(|r| *r == StatsRecord::parse(&[0; 16])[0]));
    }
}

/// linear_backward_tiled (a layer's weight, bias and input gradients in one dispatch, the fused
/// step form) against the reference, with the ReLU mask, on shapes that are and are not
/// multiples of the 32×32 tile, W and b among garbage (b not on a vec4).
pub async fn linear_backward_tiled_matches_reference(gpu: &Gpu) {
    use vae_webgpu::kernels::linear::LinearKernels;
    let k = LinearKernels::new(gpu, GemmForm::Tiled);
    for (rows, inp, out) in TILED_SHAPES {
        let tag = format!("B={rows} IN={inp} OUT={out}");
        let LayerInGarbage {
            w,
            flat,
            w_off,
            b_off,
            ..
        } = layer_in_garbage(81, inp, out);
        let total = flat.len();
        let x: Vec<f32> = uniform(85, rows * inp, -1.0, 1.0)
            .iter()
            .map(|v| v.max(0.0))
            .collect();
        let dy = uniform(83, rows * out, -1.0, 1.0);
        let (p, pu) = linear_uniform(gpu, (rows, inp, out), (w_off, b_off), FLAG_RELU_MASK, 0);
        let params = gpu.storage_with("params", bytemuck::cast_slice(&flat));
        let xb = gpu.storage_with("x", bytemuck::cast_slice(&pad(&x, rows, inp)));
        let dyb = gpu.storage_with("dy", bytemuck::cast_slice(&pad(&dy, rows, out)));
        let grads = gpu.storage_with("grads", bytemuck::cast_slice(&vec![0.0f32; total]));
        let dx = gpu.storage("dx", (rows * ld(inp) * 4) as u64);
        let bg = k
            .backward_both_bind_group(gpu, "backward", &pu, [&dyb, &params, &xb, &grads, &dx])
            .unwrap();
        run(gpu, |pass| k.backward_both(gpu, pass, &bg, &p).unwrap());
        let (w64, x64, dy64) = (to_f64(&w), to_f64(&x), to_f64(&dy));
        let mut want_dx = vec![0.0; rows * inp];
        reference::linear_backward_input(&mut want_dx, &dy64, &w64, Some(&x64), rows, inp, out);
        let got = unpad(
            &read(gpu, &dx, rows * ld(inp)).await,
            rows,
            inp,
            "dx padding",
        );
        assert_close(
            &format!("backward_tiled dx {tag}"),
            &got,
            &want_dx,
            1e-4,
            1e-4,
        );
        let mut want_dw = vec![0.0; out * inp];
        reference::linear_backward_weight(&mut want_dw, &dy64, &x64, rows, inp, out);
        let g = read(gpu, &grads, total).await;
        let got_w = unpad(&g[w_off..w_off + out * ld(inp)], out, inp, "dW padding");
        assert_close(
            &format!("backward_tiled dW {tag}"),
            &got_w,
            &want_dw,
            1e-4,
            1e-4,
        );
        let mut want_db = vec![0.0; out];
        reference::linear_backward_bias(&mut want_db, &dy64, rows, out);
        assert_close(
            &format!("backward_tiled db {tag}"),
            &g[b_off..b_off + out],
            &want_db,
            1e-4,
            1e-4,
        );
        // Nothing else in the gradient buffer is written.
        assert!(
            g[..w_off]
                .iter()
                .chain(&g[b_off + out..])
                .all(|&v| v == 0.0),
            "{tag}"
        );
    }
}
