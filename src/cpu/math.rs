//! e^x and log(1 + x) in `f32` without a branch or a library call, so that a loop over pixels
//! of them is vectorised by the compiler (4 lanes of wasm SIMD128, SSE or AVX natively): the
//! loss's BCE needs both at every pixel of every image. Cephes' `expf` and `logf` polynomials
//! (Stephen L. Moshier, public domain), within 2 ulp of the exact values over the ranges the
//! loss uses (checked against f64 below).

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

/// √2 − 1: above it log(1 + x) is taken as ln 2 + log((1 + x)/2).
const SQRT2_M1: f32 = 0.414_213_57;

/// Below this log(1 + x) rounds to x itself: x − x²/2 differs from x by less than half an ulp.
const LN_1P_TINY: f32 = 2.980_232_2e-8; // 2⁻²⁵

/// log(1 + x) for x in [0, 1].
#[inline(always)]
pub fn ln_1p_unit(x: f32) -> f32 {
    // log(1 + x) = k·ln 2 + log(1 + f), f in [√½ − 1, √2 − 1]: f = x (k = 0) or (x − 1)/2
    // (k = 1; x − 1 is exact for x in [½, 1], and the halving too). Below LN_1P_TINY the
    // answer is x, and the polynomial runs on LN_1P_TINY instead: x² and x³ of a tiny x
    // (e^−|l| of a logit beyond ≈ −29: 0.08% of the pixels for the shipped 15-epoch model, more
    // the longer a model trains) are subnormal, which x86 cores compute at many times the cost.
    let tiny = x < LN_1P_TINY;
    let big = x > SQRT2_M1;
    let f = if big {
        (x - 1.0) * 0.5
    } else {
        x.max(LN_1P_TINY)
    };
    let k = if big { 1.0 } else { 0.0 };
    let z = f * f;
    let p = (((((((7.037_683_6e-2 * f - 1.151_461e-1) * f + 1.167_699_9e-1) * f
        - 1.242_014_1e-1)
        * f
        + 1.424_932_3e-1)
        * f
        - 1.666_805_8e-1)
        * f
        + 2.000_071_5e-1)
        * f
        - 2.499_999_4e-1)
        * f
        + 3.333_333e-1;
    let y = f * z * p + k * C2 - 0.5 * z;
    let r = f + y + k * C1;
    if tiny {
        x
    } else {
        r
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

    #[test]
    fn ln_1p_is_within_2_ulp_on_the_unit_interval() {
        let mut worst: f64 = 0.0;
        for i in 0..=2_000_000u32 {
            let x = i as f32 / 2_000_000.0;
            if x == 0.0 {
                continue;
            }
            worst = worst.max(ulps(ln_1p_unit(x), f64::from(x).ln_1p()));
        }
        for x in [1e-38f32, 1e-20, 1e-9, 3e-6, 0.414_213_5, 0.414_213_6] {
            worst = worst.max(ulps(ln_1p_unit(x), f64::from(x).ln_1p()));
        }
        assert!(worst <= 2.0, "ln_1p: {worst} ulp");
        assert_eq!(ln_1p_unit(0.0), 0.0);
    }

    #[test]
    fn ln_1p_of_a_tiny_x_is_x_correctly_rounded() {
        // Every 97th f32 from the smallest normal up to past LN_1P_TINY, and the values next
        // to it: the tiny path gives x, which is log(1 + x) rounded to f32, and the
        // polynomial takes over with no step.
        let (lo, hi) = (f32::MIN_POSITIVE.to_bits(), (4.0 * LN_1P_TINY).to_bits());
        let near = LN_1P_TINY.to_bits();
        for bits in (lo..hi).step_by(97).chain(near - 2..near + 3) {
            let x = f32::from_bits(bits);
            let want = f64::from(x).ln_1p() as f32;
            assert_eq!(ln_1p_unit(x).to_bits(), want.to_bits(), "log1p({x:e})");
        }
    }
}
