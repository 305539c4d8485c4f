//! Splitting the CPU engine's work over threads in a browser: the calling thread and the Web
//! Workers that `npm/cpu-worker.js` starts on the threads build of the wasm module (one shared
//! memory; built with `+atomics`, `scripts/trunk-post-build.sh`).
//!
//! [`run`] hands out the parts `0..n` of one job to whichever thread claims them first: the
//! caller takes parts too and then **spins** until every part is done — a browser's main thread
//! may not block (`memory.atomic.wait32` traps there), and a job is a few milliseconds of a
//! matrix product, so spinning costs nothing the caller had other use for. Workers sleep in
//! `memory.atomic.wait32` between jobs (after a short spin: most jobs follow each other within
//! a step). The result of a job never depends on which thread ran which part: each part writes
//! its own outputs, so a run is bit for bit the same on any number of threads (the e2e test
//! `engine.test.mjs` compares a threaded run with a one-thread run).
//!
//! Natively [`run`] spreads a job's parts over scoped threads, one a core (up to 8), for the
//! jobs outside the matrix products (`matrixmultiply`'s `threading` splits those itself). In
//! the one-thread wasm builds (SIMD128, relaxed) [`threads`] is 1 and [`run`] calls the parts
//! in order on the caller's thread.

use std::marker::PhantomData;
use std::ops::Range;
use std::sync::atomic::{AtomicUsize, Ordering};

/// At most this many threads take part ([`set_limit`]).
static LIMIT: AtomicUsize = AtomicUsize::new(usize::MAX);

/// Threads a job is spread over: the caller and the workers that have started, up to the
/// [`set_limit`].
pub fn threads() -> usize {
    (1 + imp::workers()).min(LIMIT.load(Ordering::Relaxed))
}

/// Threads that could take part: the caller and the workers that have started.
pub fn available() -> usize {
    1 + imp::workers()
}

/// Uses at most `n` threads from now on (at least 1; more than [`available`] means all of
/// them). The result of a run does not depend on it; its speed does.
pub fn set_limit(n: usize) {
    LIMIT.store(n.max(1), Ordering::Relaxed);
}

/// Parts a job is cut into for each thread. More parts than threads: a thread the system holds
/// back for a moment (the page's own thread, the compositor, another tab: a 2-core machine has
/// no core to spare) leaves its share to the others, which claim the parts still unclaimed,
/// instead of making them wait at the job's end.
pub const PARTS_PER_THREAD: usize = 4;

/// Parts to cut a job into: [`PARTS_PER_THREAD`] per thread, one when there is one thread.
pub fn parts() -> usize {
    match threads() {
        1 => 1,
        t => t * PARTS_PER_THREAD,
    }
}

/// Runs `f(i)` for every `i` in `0..n`, spread over [`threads`]; returns when all are done.
pub fn run(n: usize, f: &(dyn Fn(usize) + Sync)) {
    if n <= 1 || threads() == 1 {
        (0..n).for_each(f);
    } else {
        imp::run(n, f);
    }
}

/// `len` items in at most `parts` blocks whose sizes differ by at most `align` (each a
/// multiple of `align` long, but the last): part `i` of a [`run`] over [`Blocks::count`] parts
/// takes [`Blocks::get`]`(i)`. Balanced, not ⌈len ÷ parts⌉ each with a short last block: 50
/// panels in 8 parts are 6 or 7 each (not seven of 7 and one of 1), so two threads claiming
/// them in turn end within a part of each other.
#[derive(Clone, Copy, Debug)]
pub struct Blocks {
    len: usize,
    align: usize,
    /// `len` in units of `align` (the last one may be short).
    units: usize,
    count: usize,
}

impl Blocks {
    pub fn new(len: usize, parts: usize, align: usize) -> Self {
        let align = align.max(1);
        let units = len.div_ceil(align);
        Blocks {
            len,
            align,
            units,
            count: parts.max(1).min(units),
        }
    }

    /// [`PARTS_PER_THREAD`] blocks for each of the [`threads`] (one block on one thread).
    pub fn per_thread(len: usize, align: usize) -> Self {
        Self::new(len, parts(), align)
    }

    pub fn count(&self) -> usize {
        self.count
    }

    pub fn get(&self, i: usize) -> Range<usize> {
        let at = |i: usize| (i * self.units / self.count * self.align).min(self.len);
        at(i)..at(i + 1)
    }
}

/// A mutable slice that the parts of one [`run`] write in disjoint ranges.
pub struct Disjoint<'a, T> {
    ptr: *mut T,
    len: usize,
    _slice: PhantomData<&'a mut [T]>,
}

// SAFETY: a `Disjoint` only hands out ranges through `range`, whose callers promise that no
// two live ranges overlap; the data is `Send`, so writing it from another thread is sound.
unsafe impl<T: Send> Sync for Disjoint<'_, T> {}
// SAFETY: as above.
unsafe impl<T: Send> Send for Disjoint<'_, T> {}

impl<'a, T> Disjoint<'a, T> {
    pub fn new(slice: &'a mut [T]) -> Self {
        Disjoint {
            ptr: slice.as_mut_ptr(),
            len: slice.len(),
            _slice: PhantomData,
        }
    }

    /// Elements `r` (panics when out of bounds).
    ///
    /// # Safety
    /// No other range of this slice that overlaps `r` may be alive at the same time.
    #[allow(clippy::mut_from_ref)]
    pub unsafe fn range(&self, r: Range<usize>) -> &mut [T] {
        assert!(r.start <= r.end && r.end <= self.len, "range out of bounds");
        // SAFETY: in bounds (checked); exclusive by the caller's promise.
        unsafe { std::slice::from_raw_parts_mut(self.ptr.add(r.start), r.end - r.start) }
    }

    /// The start of the slice, for strided views that [`Self::range`] cannot express.
    pub fn as_ptr(&self) -> *mut T {
        self.ptr
    }
}

/// Natively: scoped threads for each job (a spawn costs ≈ 20 µs; the jobs are the loss, Adam,
/// the gather and ε, each 0.05–1 ms a step), one a core up to 8 (`matrixmultiply` threads the
/// products itself). No state is shared between jobs, so callers on several threads (tests)
/// run theirs side by side.
#[cfg(not(target_arch = "wasm32"))]
mod imp {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::OnceLock;

    pub fn workers() -> usize {
        static CORES: OnceLock<usize> = OnceLock::new();
        *CORES.get_or_init(|| {
            std::thread::available_parallelism()
                .map_or(1, |n| n.get())
                .min(8)
        }) - 1
    }

    pub fn run(n: usize, f: &(dyn Fn(usize) + Sync)) {
        let next = AtomicUsize::new(0);
        let work = || loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            if i >= n {
                break;
            }
            f(i);
        };
        let helpers = (super::threads() - 1).min(n - 1);
        std::thread::scope(|s| {
            for _ in 0..helpers {
                s.spawn(work);
            }
            work();
        });
    }
}

/// A wasm build without atomics: one thread.
#[cfg(all(target_arch = "wasm32", not(target_feature = "atomics")))]
mod imp {
    pub fn workers() -> usize {
        0
    }

    pub fn run(n: usize, f: &(dyn Fn(usize) + Sync)) {
        (0..n).for_each(f);
    }
}

#[cfg(all(target_arch = "wasm32", target_feature = "atomics"))]
mod imp {
    use std::arch::wasm32::{memory_atomic_notify, memory_atomic_wait32};
    use std::sync::atomic::{AtomicI32, AtomicU32, AtomicU64, AtomicUsize, Ordering::SeqCst};

    /// Workers inside [`worker_loop`].
    static WORKERS: AtomicUsize = AtomicUsize::new(0);
    /// The job's generation, bumped to wake the workers (what they wait on).
    static WAKE: AtomicI32 = AtomicI32::new(0);
    /// generation (32 bits) | parts (16) | next unclaimed part (16): one word, so a claim can
    /// only succeed for the job the claimer read.
    static CLAIM: AtomicU64 = AtomicU64::new(0);
    /// Parts finished of the current job.
    static DONE: AtomicU32 = AtomicU32::new(0);
    /// The job: a `&dyn Fn(usize) + Sync` as its two words (data, vtable). Written only while
    /// no part of an earlier job can still be claimed.
    static JOB: [AtomicUsize; 2] = [AtomicUsize::new(0), AtomicUsize::new(0)];
    /// Spins before a worker sleeps (a few tens of µs: the next product of a step comes soon).
    const SPINS: u32 = 1 << 16;

    pub fn workers() -> usize {
        WORKERS.load(SeqCst)
    }

    type Job<'a> = &'a (dyn Fn(usize) + Sync);

    pub fn run(n: usize, f: Job<'_>) {
        let n = n.min(u16::MAX as usize) as u64;
        // SAFETY: a fat reference is two words; it is turned back into one only by claimers of
        // this generation, all of whom finish before this function returns (DONE == n below).
        let words: [usize; 2] = unsafe { std::mem::transmute::<Job<'_>, [usize; 2]>(f) };
        JOB[0].store(words[0], SeqCst);
        JOB[1].store(words[1], SeqCst);
        DONE.store(0, SeqCst);
        let generation = (WAKE.load(SeqCst) as u32).wrapping_add(1);
        CLAIM.store(u64::from(generation) << 32 | n << 16, SeqCst);
        WAKE.store(generation as i32, SeqCst);
        // SAFETY: WAKE is a live static i32; notify wakes every waiter.
        unsafe {
            memory_atomic_notify(WAKE.as_ptr(), u32::MAX);
        }
        work(generation);
        while DONE.load(SeqCst) < n as u32 {
            std::hint::spin_loop();
        }
    }

    /// Claims and runs parts of generation `generation` until none is left.
    fn work(generation: u32) {
        let words = [JOB[0].load(SeqCst), JOB[1].load(SeqCst)];
        loop {
            let c = CLAIM.load(SeqCst);
            let (g, n, next) = ((c >> 32) as u32, (c >> 16) & 0xffff, c & 0xffff);
            if g != generation || next >= n {
                return;
            }
            if CLAIM.compare_exchange(c, c + 1, SeqCst, SeqCst).is_err() {
                continue;
            }
            // SAFETY: the claim succeeded, so this generation's job is not finished and its
            // caller is still inside `run`, keeping `f` alive; JOB is rewritten only after
            // every part is done, so `words` (read before the claim) are this job's.
            let f: Job<'_> = unsafe { std::mem::transmute::<[usize; 2], Job<'_>>(words) };
            f(next as usize);
            DONE.fetch_add(1, SeqCst);
        }
    }

    /// A worker's life: wait for a job, take parts of it, again. Never returns.
    pub fn worker_loop() -> ! {
        let mut seen = WAKE.load(SeqCst);
        WORKERS.fetch_add(1, SeqCst);
        loop {
            let mut spins = 0;
            while WAKE.load(SeqCst) == seen {
                if spins < SPINS {
                    spins += 1;
                    std::hint::spin_loop();
                } else {
                    // SAFETY: WAKE is a live static i32; a worker may block (it is not a
                    // browser's main thread). Returns at once if WAKE moved on.
                    unsafe {
                        memory_atomic_wait32(WAKE.as_ptr(), seen, -1);
                    }
                }
            }
            seen = WAKE.load(SeqCst);
            work(seen as u32);
        }
    }
}

/// Runs the calling Web Worker as a thread of the pool; never returns (`npm/cpu-worker.js`
/// calls it on the threads build after `initSync` with the page's module and memory).
#[cfg(all(target_arch = "wasm32", target_feature = "atomics"))]
#[wasm_bindgen::prelude::wasm_bindgen(js_name = cpuWorkerLoop)]
pub fn cpu_worker_loop() {
    imp::worker_loop()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_cover_the_length_once_aligned() {
        let cases = [
            (0, 2, 8),
            (1, 2, 8),
            (128, 2, 8),
            (400, 3, 8),
            (7, 4, 1),
            (50, 8, 1),
            (98, 8, 1),
            (196, 8, 1),
            (3, 8, 1),
            (101, 8, 8),
            (784 * 400 + 20, 8, 64),
        ];
        for (len, parts, align) in cases {
            let b = Blocks::new(len, parts, align);
            let rs: Vec<_> = (0..b.count()).map(|i| b.get(i)).collect();
            assert!(rs.len() <= parts.max(1), "{len} {parts} {align}: {rs:?}");
            // As many parts as asked for when there are items enough for them.
            assert_eq!(
                rs.len(),
                parts.min(len.div_ceil(align)),
                "{len} {parts} {align}"
            );
            let mut at = 0;
            for r in &rs {
                assert_eq!(r.start, at);
                assert!(r.end > r.start);
                if r.end != len {
                    assert_eq!(r.len() % align, 0);
                }
                at = r.end;
            }
            assert_eq!(at, len);
            // Balanced: the parts' sizes (the last, possibly short, aside) within one `align`.
            let whole: Vec<usize> = rs
                .iter()
                .filter(|r| r.end != len)
                .map(|r| r.len())
                .collect();
            if let (Some(lo), Some(hi)) = (whole.iter().min(), whole.iter().max()) {
                assert!(hi - lo <= align, "{len} {parts} {align}: {rs:?}");
            }
            if let (Some(last), Some(&hi)) = (rs.last(), whole.iter().max()) {
                assert!(last.len() + 2 * align > hi, "a short last part: {rs:?}");
            }
        }
    }

    #[test]
    fn every_part_runs_once() {
        let seen = std::sync::Mutex::new(Vec::new());
        run(50, &|i| seen.lock().unwrap().push(i));
        let mut seen = seen.into_inner().unwrap();
        seen.sort_unstable();
        assert_eq!(seen, (0..50).collect::<Vec<_>>());
    }

    #[test]
    fn natively_a_job_runs_on_every_core() {
        let cores = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(8);
        assert_eq!(available(), cores);
        if cores > 1 {
            // Parts that wait for each other finish only if they run on threads of their own.
            let arrived = std::sync::atomic::AtomicUsize::new(0);
            run(2, &|_| {
                arrived.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let start = std::time::Instant::now();
                while arrived.load(std::sync::atomic::Ordering::SeqCst) < 2 {
                    assert!(
                        start.elapsed().as_secs() < 10,
                        "the parts ran one after the other"
                    );
                    std::hint::spin_loop();
                }
            });
        }
    }
}
