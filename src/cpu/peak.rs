//! The multiply-add peak of this CPU, the figure the CPU engine's GFLOP/s are read against: many
//! independent multiply-add chains (no memory traffic), vectorised for this target — AVX2 + FMA
//! where the CPU has them (detected at run time, as `matrixmultiply` does), otherwise the
//! build's baseline SIMD (SSE2, NEON, or wasm SIMD128 when built with it) — on every thread the
//! engine uses.

use super::timing::ms_per_call;

/// Independent accumulators: enough to hide the multiply-add latency, few enough to stay in
/// registers (measured on AVX2: 64 → 116 GFLOP/s a core, 128 → 66 with spills; wasm has 16
/// 128-bit registers on x86 hosts, so 12 vectors).
const CHAINS: usize = if cfg!(target_arch = "wasm32") { 48 } else { 64 };
/// Multiply-adds per chain per call (≈ 0.5 ms a thread at AVX2 speed: far above the cost of
/// starting the threads).
const ITERS: usize = 65_536;
/// Timed rounds; the fastest is the peak (a shared machine only ever slows a round down).
const ROUNDS: usize = 5;
/// Untimed running before the rounds in a browser (see [`fma_peak`]).
const WARM_MS: f64 = 400.0;

/// `CHAINS × ITERS` multiply-adds in the build's baseline SIMD.
#[inline(never)]
fn chains_baseline(acc: &mut [f32; CHAINS], a: f32, b: f32) {
    for _ in 0..ITERS {
        for v in acc.iter_mut() {
            *v = *v * a + b;
        }
    }
}

/// The same with fused multiply-adds on 256-bit vectors.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn chains_fma(acc: &mut [f32; CHAINS], a: f32, b: f32) {
    for _ in 0..ITERS {
        for v in acc.iter_mut() {
            *v = v.mul_add(a, b);
        }
    }
}

/// The same with relaxed SIMD's multiply-add (fused where the CPU has FMA), as matrixmultiply's
/// kernel uses it in this build: 12 vectors (all CHAINS) in named locals, as an array of them
/// stays in memory.
#[cfg(all(target_arch = "wasm32", target_feature = "relaxed-simd"))]
const _: () = assert!(CHAINS == 48, "chains_relaxed holds 12 vectors of 4");

#[cfg(all(target_arch = "wasm32", target_feature = "relaxed-simd"))]
fn chains_relaxed(acc: &mut [f32; CHAINS], a: f32, b: f32) {
    use core::arch::wasm32::{f32x4, f32x4_extract_lane, f32x4_relaxed_madd, f32x4_splat};
    let (va, vb) = (f32x4_splat(a), f32x4_splat(b));
    let lane = |i: usize| f32x4(acc[i], acc[i + 1], acc[i + 2], acc[i + 3]);
    let (mut x0, mut x1, mut x2, mut x3) = (lane(0), lane(4), lane(8), lane(12));
    let (mut x4, mut x5, mut x6, mut x7) = (lane(16), lane(20), lane(24), lane(28));
    let (mut x8, mut x9, mut x10, mut x11) = (lane(32), lane(36), lane(40), lane(44));
    for _ in 0..ITERS {
        x0 = f32x4_relaxed_madd(x0, va, vb);
        x1 = f32x4_relaxed_madd(x1, va, vb);
        x2 = f32x4_relaxed_madd(x2, va, vb);
        x3 = f32x4_relaxed_madd(x3, va, vb);
        x4 = f32x4_relaxed_madd(x4, va, vb);
        x5 = f32x4_relaxed_madd(x5, va, vb);
        x6 = f32x4_relaxed_madd(x6, va, vb);
        x7 = f32x4_relaxed_madd(x7, va, vb);
        x8 = f32x4_relaxed_madd(x8, va, vb);
        x9 = f32x4_relaxed_madd(x9, va, vb);
        x10 = f32x4_relaxed_madd(x10, va, vb);
        x11 = f32x4_relaxed_madd(x11, va, vb);
    }
    for (i, x) in [x0, x1, x2, x3, x4, x5, x6, x7, x8, x9, x10, x11]
        .into_iter()
        .enumerate()
    {
        acc[i * 4] = f32x4_extract_lane::<0>(x);
        acc[i * 4 + 1] = f32x4_extract_lane::<1>(x);
        acc[i * 4 + 2] = f32x4_extract_lane::<2>(x);
        acc[i * 4 + 3] = f32x4_extract_lane::<3>(x);
    }
}

/// What this build and CPU run the engine's arithmetic with, e.g. "AVX2+FMA" or
/// "wasm SIMD128 + relaxed SIMD".
pub fn features() -> &'static str {
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
        return "AVX2+FMA";
    }
    if cfg!(all(target_arch = "wasm32", target_feature = "relaxed-simd")) {
        "wasm SIMD128 + relaxed SIMD"
    } else if cfg!(all(target_arch = "wasm32", target_feature = "simd128")) {
        "wasm SIMD128"
    } else if cfg!(target_arch = "wasm32") {
        "wasm, no SIMD"
    } else if cfg!(target_arch = "aarch64") {
        "NEON"
    } else {
        "SSE2"
    }
}

type Chains = fn(&mut [f32; CHAINS], f32, f32);

/// The multiply-add forms this build and CPU run: AVX2 + FMA where detected, relaxed SIMD in a
/// relaxed build (in V8 its dependent chains measured slower than separate multiply and add,
/// while matrixmultiply's kernel gains from it: both are timed), and the baseline SIMD.
fn forms() -> Vec<Chains> {
    [Some(chains_baseline as Chains), fma_form(), relaxed_form()]
        .into_iter()
        .flatten()
        .collect()
}

/// AVX2 + FMA, where the CPU has them.
fn fma_form() -> Option<Chains> {
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
        // SAFETY: only called where the CPU has AVX2 and FMA (checked just above).
        return Some(|acc, a, b| unsafe { chains_fma(acc, a, b) });
    }
    None
}

/// Relaxed SIMD's multiply-add, in a relaxed build.
fn relaxed_form() -> Option<Chains> {
    #[cfg(all(target_arch = "wasm32", target_feature = "relaxed-simd"))]
    return Some(chains_relaxed);
    #[allow(unreachable_code)]
    None
}

/// Threads the engine's matrix products use: natively every core (`matrixmultiply`'s
/// `threading`), in a browser those of [`super::pool`] (one but in the threads build).
pub fn engine_threads() -> usize {
    if cfg!(target_arch = "wasm32") {
        super::pool::threads()
    } else {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    }
}

/// GFLOP/s (a multiply-add counts 2) of this CPU on [`engine_threads`] threads: for each form in
/// [`forms`], the fastest of [`ROUNDS`] timed rounds; the fastest form.
pub fn fma_peak(now: &dyn Fn() -> f64) -> f64 {
    let flop = 2.0 * (CHAINS * ITERS) as f64;
    let threads = engine_threads();
    let round = |chains: Chains| {
        ms_per_call(now, &mut || {
            let run = || {
                let mut acc = [1.0f32; CHAINS];
                chains(&mut acc, 0.999_99, 1e-6);
                std::hint::black_box(&acc);
            };
            #[cfg(not(target_arch = "wasm32"))]
            std::thread::scope(|s| {
                for _ in 1..threads {
                    s.spawn(run);
                }
                run();
            });
            #[cfg(target_arch = "wasm32")]
            super::pool::run(threads, &|_| run());
        })
    };
    let mut best = 0.0f64;
    for chains in forms() {
        // In a browser the probe's code starts in the baseline compiler and is swapped for the
        // optimising one after it has run a while (there is no tier-up inside a running call):
        // run it for WARM_MS before timing.
        if cfg!(target_arch = "wasm32") {
            let start = now();
            while now() - start < WARM_MS {
                round(chains);
            }
        }
        let ms = (0..ROUNDS)
            .map(|_| round(chains))
            .fold(f64::INFINITY, f64::min);
        best = best.max(flop * threads as f64 / ms / 1e6);
    }
    best
}
