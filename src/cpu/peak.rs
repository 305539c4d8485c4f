//! The multiply-add peak of this CPU, the figure the CPU engine's GFLOP/s are read against: many
//! independent multiply-add chains (no memory traffic), vectorised for this target — AVX2 + FMA
//! where the CPU has them (detected at run time, as `matrixmultiply` does), otherwise the
//! build's baseline SIMD (SSE2, NEON, or wasm SIMD128 when built with it) — on every thread the
//! engine uses.

use super::profile::per_rep_ms;

/// Independent accumulators: enough to hide the multiply-add latency, few enough to stay in
/// registers (measured on AVX2: 64 → 116 GFLOP/s a core, 128 → 66 with spills; wasm has 16
/// 128-bit registers on x86 hosts, so 12 vectors).
const CHAINS: usize = if cfg!(target_arch = "wasm32") { 48 } else { 64 };
/// Multiply-adds per chain per call (≈ 0.5 ms a thread at AVX2 speed: far above the cost of
/// starting the threads).
const ITERS: usize = 65_536;
/// Timed rounds; the fastest is the peak (a shared machine only ever slows a round down).
const ROUNDS: usize = 5;

/// `CHAINS × ITERS` multiply-adds in the build's baseline SIMD.
#[cfg(not(all(target_arch = "wasm32", target_feature = "relaxed-simd")))]
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
/// kernel uses it in this build.
#[cfg(all(target_arch = "wasm32", target_feature = "relaxed-simd"))]
fn chains_relaxed(acc: &mut [f32; CHAINS], a: f32, b: f32) {
    use core::arch::wasm32::{f32x4_relaxed_madd, f32x4_splat, v128, v128_load, v128_store};
    let (va, vb) = (f32x4_splat(a), f32x4_splat(b));
    let mut v = [f32x4_splat(0.0); CHAINS / 4];
    for (i, x) in v.iter_mut().enumerate() {
        // SAFETY: acc holds CHAINS f32s; i·4 + 4 ≤ CHAINS.
        *x = unsafe { v128_load(acc.as_ptr().add(i * 4) as *const v128) };
    }
    for _ in 0..ITERS {
        for x in v.iter_mut() {
            *x = f32x4_relaxed_madd(*x, va, vb);
        }
    }
    for (i, x) in v.iter().enumerate() {
        // SAFETY: as above.
        unsafe { v128_store(acc.as_mut_ptr().add(i * 4) as *mut v128, *x) };
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

/// One thread's multiply-adds, the widest form this CPU runs.
fn chains(acc: &mut [f32; CHAINS], a: f32, b: f32) {
    #[cfg(all(target_arch = "wasm32", target_feature = "relaxed-simd"))]
    let baseline = chains_relaxed;
    #[cfg(not(all(target_arch = "wasm32", target_feature = "relaxed-simd")))]
    let baseline = chains_baseline;
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
        // SAFETY: the CPU has AVX2 and FMA (checked just above).
        unsafe { chains_fma(acc, a, b) };
        return;
    }
    baseline(acc, a, b)
}

/// Threads the engine's matrix products use: natively every core (`matrixmultiply`'s
/// `threading`), in a browser one.
pub fn engine_threads() -> usize {
    if cfg!(target_arch = "wasm32") {
        1
    } else {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    }
}

/// GFLOP/s (a multiply-add counts 2) of this CPU on [`engine_threads`] threads: the fastest
/// of [`ROUNDS`] timed rounds.
pub fn fma_peak(now: &dyn Fn() -> f64) -> f64 {
    let flop = 2.0 * (CHAINS * ITERS) as f64;
    let threads = engine_threads();
    let round = || {
        per_rep_ms(now, &mut || {
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
            run();
        })
    };
    let ms = (0..ROUNDS).map(|_| round()).fold(f64::INFINITY, f64::min);
    flop * threads as f64 / ms / 1e6
}
