//! Seeded random numbers: Philox4x32-10 for ε (the CPU twin of `shaders/reparam.wgsl`), and a
//! SplitMix64 stream for initialisation and shuffling.
//!
//! Why a counter-based generator on the GPU rather than uploading ε each step: ε for element `i`
//! of step `t` is a pure function of `(seed, t, i)`, so nothing is uploaded per step, many steps
//! can be recorded into one submit, and a test can recompute any ε on the CPU without replaying
//! a stream. Philox needs only 32-bit integer multiplies (WGSL has no 64-bit integers; the high
//! half is assembled from 16-bit pieces in the shader) and passes BigCrush.

const PHILOX_M0: u32 = 0xD251_1F53;
const PHILOX_M1: u32 = 0xCD9E_8D57;
const PHILOX_W0: u32 = 0x9E37_79B9;
const PHILOX_W1: u32 = 0xBB67_AE85;

/// Philox4x32 with 10 rounds (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3").
pub fn philox4x32_10(counter: [u32; 4], key: [u32; 2]) -> [u32; 4] {
    let mut c = counter;
    let mut k = key;
    for round in 0..10 {
        if round > 0 {
            k[0] = k[0].wrapping_add(PHILOX_W0);
            k[1] = k[1].wrapping_add(PHILOX_W1);
        }
        let p0 = u64::from(PHILOX_M0) * u64::from(c[0]);
        let p1 = u64::from(PHILOX_M1) * u64::from(c[2]);
        let (hi0, lo0) = ((p0 >> 32) as u32, p0 as u32);
        let (hi1, lo1) = ((p1 >> 32) as u32, p1 as u32);
        c = [hi1 ^ c[1] ^ k[0], lo1, hi0 ^ c[3] ^ k[1], lo0];
    }
    c
}

/// The Philox key of a seed: its two 32-bit halves.
pub fn seed_key(seed: u64) -> [u32; 2] {
    [seed as u32, (seed >> 32) as u32]
}

/// ε ~ N(0, 1) for element `index` (row-major over (B, L)) of RNG step `step`: Box–Muller on
/// the first two Philox words; exactly the arithmetic of `reparam.wgsl:normal_eps`.
pub fn normal_eps(key: [u32; 2], step: u32, index: u32) -> f32 {
    let r = philox4x32_10([index, step, 0, 0], key);
    // u1 in (0, 1], u2 in [0, 1): 24-bit mantissas, so both are exact in f32.
    let u1 = ((r[0] >> 8) as f32 + 1.0) * (1.0 / 16_777_216.0);
    let u2 = (r[1] >> 8) as f32 * (1.0 / 16_777_216.0);
    (-2.0 * u1.ln()).sqrt() * (std::f32::consts::TAU * u2 - std::f32::consts::PI).cos()
}

/// A small, fast, seedable 64-bit generator (SplitMix64) for CPU-side randomness.
#[derive(Debug, Clone)]
pub struct SplitMix64 {
    state: u64,
}

/// Independent streams derived from one seed.
pub const STREAM_INIT: u64 = 1;
pub const STREAM_SHUFFLE: u64 = 2;
pub const STREAM_SAMPLE: u64 = 3;
pub const STREAM_DATA: u64 = 4;

impl SplitMix64 {
    pub fn new(seed: u64, stream: u64, index: u64) -> Self {
        let mut g = SplitMix64 {
            state: seed ^ 0x5851_F42D_4C95_7F2D,
        };
        let a = g.next_u64() ^ stream.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        let b = SplitMix64 { state: a }.next_u64() ^ index.wrapping_mul(0xD1B5_4A32_D192_ED03);
        SplitMix64 { state: b }
    }

    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1) with 53 random bits.
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform integer in [0, n) without modulo bias (Lemire's method). `n` must be > 0.
    pub fn below(&mut self, n: u64) -> u64 {
        loop {
            let m = u128::from(self.next_u64()) * u128::from(n);
            let lo = m as u64;
            if lo >= n.wrapping_neg() % n {
                return (m >> 64) as u64;
            }
        }
    }

    /// Standard normal (Box–Muller, f64).
    pub fn next_normal(&mut self) -> f64 {
        let u1 = 1.0 - self.next_f64();
        let u2 = self.next_f64();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }
}

/// `rows` latent vectors (rows × `latent`) from z ~ N(0, I), seeded: the same `seed` gives the
/// same z on every engine.
pub fn prior_z(rows: usize, latent: usize, seed: u64) -> Vec<f32> {
    let mut g = SplitMix64::new(seed, STREAM_SAMPLE, 0);
    (0..rows * latent).map(|_| g.next_normal() as f32).collect()
}

/// The order of the `n` training images in epoch `epoch` (Fisher–Yates, seeded).
pub fn shuffle(seed: u64, epoch: u64, n: usize) -> Vec<u32> {
    let mut order: Vec<u32> = (0..n as u32).collect();
    let mut g = SplitMix64::new(seed, STREAM_SHUFFLE, epoch);
    for i in (1..n).rev() {
        let j = g.below(i as u64 + 1) as usize;
        order.swap(i, j);
    }
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn philox_known_answers() {
        // Known-answer vectors of Random123 (kat_vectors, philox4x32 10 rounds).
        assert_eq!(
            philox4x32_10([0; 4], [0; 2]),
            [0x6627_e8d5, 0xe169_c58d, 0xbc57_ac4c, 0x9b00_dbd8]
        );
        assert_eq!(
            philox4x32_10([u32::MAX; 4], [u32::MAX; 2]),
            [0x408f_276d, 0x41c8_3b0e, 0xa20b_c7c6, 0x6d54_51fd]
        );
        assert_eq!(
            philox4x32_10(
                [0x243f_6a88, 0x85a3_08d3, 0x1319_8a2e, 0x0370_7344],
                [0xa409_3822, 0x299f_31d0]
            ),
            [0xd16c_fe09, 0x94fd_cceb, 0x5001_e420, 0x2412_6ea1]
        );
    }

    #[test]
    fn shuffle_is_a_seeded_permutation() {
        let a = shuffle(7, 0, 1000);
        assert_eq!(a, shuffle(7, 0, 1000));
        assert_ne!(a, shuffle(7, 1, 1000));
        assert_ne!(a, shuffle(8, 0, 1000));
        let mut s = a.clone();
        s.sort_unstable();
        assert_eq!(s, (0..1000).collect::<Vec<u32>>());
    }
}
