//! Checks of the CPU engine's own matrix product (`vae_webgpu::cpu::gemm`), shared by the native
//! tests (tests/cpu_engine.rs: its `[f32; 4]` vectors) and the browser tests (tests/web.rs: its
//! wasm SIMD128 micro-kernel): against an f64 product on shapes that are not multiples of the
//! 4 × 8 tile nor of the k block, on the strided views the engine uses (transposed, padded
//! rows), for β = 0, 1 and ½; β = 0 never reads C; a product split into any number of parts is
//! the same bit for bit; the epilogues (bias, ReLU, ReLU's derivative) give the bits of the
//! separate passes they replace.

use vae_webgpu::cpu::gemm::{gemm, relu, relu_grad, Epilogue, Last, Strides, KC};

/// Values that make rounding visible: any change of summation order shows in the bits.
fn values(n: usize, salt: usize) -> Vec<f32> {
    (0..n)
        .map(|i| ((i * 7919 + salt * 104_729) % 1013) as f32 / 97.0 - 5.1)
        .collect()
}

/// C = A·B + β·C in f64, element by element from the views.
fn reference(
    (m, k, n): (usize, usize, usize),
    (a, sa): (&[f32], Strides),
    (b, sb): (&[f32], Strides),
    beta: f32,
    c: &[f32],
) -> Vec<f64> {
    let mut out = vec![0.0; m * n];
    for i in 0..m {
        for j in 0..n {
            let mut s = f64::from(beta) * f64::from(c[i * n + j]);
            for kk in 0..k {
                s +=
                    f64::from(a[i * sa.row + kk * sa.col]) * f64::from(b[kk * sb.row + j * sb.col]);
            }
            out[i * n + j] = s;
        }
    }
    out
}

pub fn gemm_matches_the_f64_reference_on_uneven_shapes() {
    for (m, k, n) in [
        (1, 1, 1),
        (5, 3, 9),
        (37, 129, 5),
        (13, KC + 44, 17),
        // Whole panels of A (row-major) and of B (transposed) with k not a multiple of 4 or of
        // the k block: the packers' whole-panel paths on an odd k.
        (9, 131, 16),
        (128, 20, 400),
    ] {
        let a = values(m * k, 1);
        let b = values(k * (n + 3), 2);
        let bt = values((k + 2) * n, 4);
        for sa in [Strides::dense(k), Strides::transposed(m)] {
            // B row-major with 3 padding columns, or the transpose of a matrix with padded rows.
            for (b, sb) in [
                (&b[..], Strides::dense(n + 3)),
                (&bt[..], Strides { row: 1, col: k + 2 }),
            ] {
                for beta in [0.0, 1.0, 0.5] {
                    let c0 = values(m * n, 3);
                    let want = reference((m, k, n), (&a, sa), (b, sb), beta, &c0);
                    let mut c = c0.clone();
                    gemm(
                        3,
                        (m, k, n),
                        (&a, sa),
                        (b, sb),
                        beta,
                        (&mut c, Strides::dense(n)),
                        Epilogue::NONE,
                    );
                    // Terms of size ≤ 27 summed in f32: a few ulp of the largest partial sums.
                    let tol = 2e-6 * 27.0 * k as f64 + 1e-5;
                    for (i, (&got, &want)) in c.iter().zip(&want).enumerate() {
                        assert!(
                            (f64::from(got) - want).abs() <= tol,
                            "{m}×{k}×{n} β {beta} {sa:?} {sb:?} at {i}: {got} vs {want}"
                        );
                    }
                }
            }
        }
    }
}

pub fn gemm_with_beta_zero_never_reads_c() {
    let (m, k, n) = (6, 5, 10);
    let (a, b) = (values(m * k, 1), values(k * n, 2));
    let mut c = vec![f32::NAN; m * n];
    gemm(
        2,
        (m, k, n),
        (&a, Strides::dense(k)),
        (&b, Strides::dense(n)),
        0.0,
        (&mut c, Strides::dense(n)),
        Epilogue::NONE,
    );
    assert!(c.iter().all(|v| v.is_finite()), "β = 0 read C's NaNs");
}

pub fn gemm_split_into_parts_is_the_same_bit_for_bit() {
    for (m, k, n) in [
        (128, 784, 400),
        (400, 128, 784),
        (37, 129, 5),
        (3, 1000, 61),
    ] {
        let a = values(m * k, 1);
        let b = values(k * (n + 3), 2);
        let (sa, sb) = (Strides::transposed(m), Strides::dense(n + 3));
        let run = |parts| {
            let mut c = values(m * n, 3);
            gemm(
                parts,
                (m, k, n),
                (&a, sa),
                (&b, sb),
                0.5,
                (&mut c, Strides::dense(n)),
                Epilogue::NONE,
            );
            c
        };
        let whole = run(1);
        for parts in [2, 3, 5, 16] {
            let same = run(parts)
                .iter()
                .zip(&whole)
                .all(|(x, y)| x.to_bits() == y.to_bits());
            assert!(same, "{m}×{k}×{n} in {parts} parts differs");
        }
    }
}

/// The epilogues against the passes they replace, bit for bit: y = x·Wᵀ + b then ReLU (the bias
/// copied into C, β = 1, then `relu` over C), and dX = dY·W masked by ReLU'(h) (β = 0, then
/// `relu_grad`), on shapes across the tile and k block edges, whole and in 3 parts; and with
/// k = 0, C is the bias (then ReLU) or β·C.
pub fn gemm_epilogues_match_the_separate_passes() {
    for (m, k, n) in [(5, 3, 9), (37, KC + 44, 21), (128, 20, 400), (7, 0, 13)] {
        let a = values(m * k, 1);
        let b = values(k * (n + 3), 2);
        let (sa, sb, sc) = (Strides::dense(k), Strides::dense(n + 3), Strides::dense(n));
        let bias = values(n, 5);
        // Activations with zeros and negatives (ReLU outputs are ≥ 0; ≤ 0 is what masks).
        let act: Vec<f32> = values(m * n, 6).iter().map(|&v| relu(v)).collect();
        for parts in [1, 3] {
            let product = |beta: f32, c: &mut Vec<f32>, ep: Epilogue<'_>| {
                gemm(parts, (m, k, n), (&a, sa), (&b, sb), beta, (c, sc), ep);
            };
            // Bias and ReLU.
            let mut fused = vec![f32::NAN; m * n];
            let ep = Epilogue {
                bias: Some(&bias),
                last: Last::Relu,
            };
            product(0.0, &mut fused, ep);
            let mut apart: Vec<f32> = (0..m * n).map(|i| bias[i % n]).collect();
            product(1.0, &mut apart, Epilogue::NONE);
            apart.iter_mut().for_each(|v| *v = relu(*v));
            let same = fused
                .iter()
                .zip(&apart)
                .all(|(x, y)| x.to_bits() == y.to_bits());
            assert!(same, "{m}×{k}×{n} in {parts}: bias + ReLU differ");
            assert!(fused.contains(&0.0) && fused.iter().any(|&v| v > 0.0));
            // ReLU's derivative at the activations.
            let mut fused = vec![f32::NAN; m * n];
            let ep = Epilogue {
                bias: None,
                last: Last::ReluGrad(&act),
            };
            product(0.0, &mut fused, ep);
            let mut apart = vec![f32::NAN; m * n];
            product(0.0, &mut apart, Epilogue::NONE);
            for (v, &h) in apart.iter_mut().zip(&act) {
                *v = relu_grad(*v, h);
            }
            let same = fused
                .iter()
                .zip(&apart)
                .all(|(x, y)| x.to_bits() == y.to_bits());
            assert!(same, "{m}×{k}×{n} in {parts}: ReLU's derivative differs");
            if k == 0 {
                assert!(fused.iter().all(|&v| v == 0.0), "k = 0, β = 0: C is 0");
            }
        }
    }
}
