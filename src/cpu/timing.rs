//! Timing on the clock the session is given (in a browser `performance.now()`, 5 µs ticks where
//! cross-origin isolated, 100 µs or coarser elsewhere): what the CPU engine's peak and profile
//! both measure with.

/// Shortest timed span per figure (many ticks of a coarse clock).
const MIN_SPAN_MS: f64 = 25.0;

/// Milliseconds per call of `f`, from doubling repetitions until they span [`MIN_SPAN_MS`].
pub(super) fn ms_per_call(now: &dyn Fn() -> f64, f: &mut dyn FnMut()) -> f64 {
    let mut reps = 1u32;
    loop {
        let start = now();
        for _ in 0..reps {
            f();
        }
        let ms = now() - start;
        if ms >= MIN_SPAN_MS || reps >= 1 << 16 {
            return ms / f64::from(reps);
        }
        reps *= 2;
    }
}
