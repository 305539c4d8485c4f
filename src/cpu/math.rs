//! e^x in `f32` without a branch or a library call, so that a loop over pixels of it is
//! vectorised by the compiler (4 lanes of wasm SIMD128, SSE or AVX natively): the loss needs
//! e^−|l| at every pixel of every image (for σ(l) and for BCE's log(1 + e^−|l|), taken as the
//! log of a product, `step.rs` `bce_rows`). Cephes' `expf` polynomial (Stephen L. Moshier,
//! public domain), within 2 ulp of the exact values on the line the loss uses (checked against
//! f64 below).

/// log₂ e.
const LOG2E: f32 = std::f32::consts::LOG2_E;
/// ln 2 in two parts: the first has few bits, so n·C1 is exact for |n| < 2⁹.
const C1: f32 = 0.693_359_4;
const C2: f32 = -2.121_944_4e-4;
/// 1.5·2²³: adding it rounds an f32 of magnitude < 2²² to an integer, which its low bits hold.
const ROUND: f32 = 12_582_912.0;
/// Below this e^x is under f32's smallest normal number: 0.
const EXP_MIN: f32 = -87.0;

/// e^x for x ≤ 0 (0 below −87; NaN gives a finite value: callers see NaN elsewhere).
#[inline(always)]
pub fn exp_nonpositive(x: f32) -> f32 {
    let xc = x.max(EXP_MIN);
    // n = round(x·log₂e) ∈ [−126, 0], r = x − n·ln 2 ∈ [−½ ln 2, ½ ln 2].
    let nf = xc * LOG2E + ROUND;
    let n = nf - ROUND;
    let r = xc - n * C1 - n * C2;
    let p = ((((1.987_569_2e-4 * r + 1.398_199_9e-3) * r + 8.333_452e-3) * r + 4.166_579_6e-2) * r
        + 1.666_666_5e-1)
        * r
        + 0.5;
    let er = p * (r * r) + r + 1.0;
    // 2ⁿ from n's bits in nf: its low bits are n + 2²² (two's complement below it).
    let bits = (nf.to_bits().wrapping_sub(ROUND.to_bits()) as i32 + 127) << 23;
    let y = er * f32::from_bits(bits as u32);
    if x < EXP_MIN {
        0.0
    } else {
        y
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// |got − want| in units of the last place of want (as an f32).
    fn ulps(got: f32, want: f64) -> f64 {
        let w = want as f32;
        let ulp = (f32::from_bits(w.abs().to_bits() + 1) - w.abs()) as f64;
        (f64::from(got) - want).abs() / ulp
    }

    #[test]
    fn exp_is_within_2_ulp_on_the_nonpositive_line() {
        let mut worst: f64 = 0.0;
        for i in 0..=2_000_000u32 {
            let x = -87.0 * i as f32 / 2_000_000.0;
            let want = f64::from(x).exp();
            worst = worst.max(ulps(exp_nonpositive(x), want));
        }
        assert!(worst <= 2.0, "exp: {worst} ulp");
        assert_eq!(exp_nonpositive(0.0), 1.0);
        assert_eq!(exp_nonpositive(-88.0), 0.0);
        assert_eq!(exp_nonpositive(f32::NEG_INFINITY), 0.0);
        // Tiny arguments (as −|l| for logits near 0).
        for x in [-1e-30f32, -1e-8, -3e-5] {
            assert!(ulps(exp_nonpositive(x), f64::from(x).exp()) <= 1.0);
        }
    }
}
