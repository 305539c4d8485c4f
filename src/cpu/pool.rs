//! Splitting the CPU engine's work over threads in a browser: the calling thread and the Web
//! Workers that `npm/cpu-worker.js` starts on the threads build of the wasm module (one shared
//! memory; built with `+atomics`, `scripts/trunk-post-build.sh`).
//!
//! [`run`] hands out the parts `0..n` of one job to the threads: each claims the parts homed
//! on it first (a run of consecutive parts, the same for every job cut alike — a product's
//! packing, then its tiles — so a thread's tiles read the panels it packed itself, from its own
//! core's cache), then takes what the others have not yet claimed. The caller takes parts too
//! and then **spins** until every part is done — a browser's main thread
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

/// The part thread `me` claims next of those still free (`free`, one bit a part) when the
/// job's parts are homed on `homes` threads: the parts fall into `homes` runs of
/// consecutive parts, thread t's the t-th; a thread takes its own run's first free part,
/// and once its run is done the last free part of the others'. The jobs of a product cut
/// alike (packing, then tiles) thus put a part on the same thread each time, and the
/// panels a thread packed are in its own core's cache when its tiles read them; a thread
/// held back leaves its run's tail to the others.
#[cfg_attr(
    not(all(target_arch = "wasm32", target_feature = "atomics")),
    allow(dead_code)
)]
fn pick(free: u32, n: usize, homes: usize, me: usize) -> usize {
    let own = if me < homes {
        let (lo, hi) = (me * n / homes, (me + 1) * n / homes);
        let run = (!0u32).checked_shl(lo as u32).unwrap_or(0)
            & !(!0u32).checked_shl(hi as u32).unwrap_or(0);
        free & run
    } else {
        0
    };
    if own != 0 {
        own.trailing_zeros() as usize
    } else {
        31 - free.leading_zeros() as usize
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
    /// generation (32 bits) | one bit a part, set once claimed (32): one word, so a claim can
    /// only succeed for the job the claimer read. Parts past the job's count start set.
    static CLAIM: AtomicU64 = AtomicU64::new(0);
    /// The current job's parts, and the threads they are homed on (see [`super::pick`]).
    static PARTS: AtomicUsize = AtomicUsize::new(0);
    static HOMES: AtomicUsize = AtomicUsize::new(1);
    /// Parts finished of the current job.
    static DONE: AtomicU32 = AtomicU32::new(0);
    /// The job: a `&dyn Fn(usize) + Sync` as its two words (data, vtable). Written only while
    /// no part of an earlier job can still be claimed.
    static JOB: [AtomicUsize; 2] = [AtomicUsize::new(0), AtomicUsize::new(0)];
    /// Spins before a worker sleeps (a few tens of µs: the next product of a step comes soon).
    const SPINS: u32 = 1 << 16;
    /// Parts one job hands out (one bit each in [`CLAIM`]); [`run`] takes more in rounds.
    const MAX_PARTS: usize = 32;

    pub fn workers() -> usize {
        WORKERS.load(SeqCst)
    }

    type Job<'a> = &'a (dyn Fn(usize) + Sync);

    pub fn run(n: usize, f: Job<'_>) {
        for base in (0..n).step_by(MAX_PARTS) {
            let len = (n - base).min(MAX_PARTS);
            if base == 0 && len == n {
                run_parts(n, f);
            } else {
                run_parts(len, &|i| f(base + i));
            }
        }
    }

    /// [`run`] of at most [`MAX_PARTS`] parts.
    fn run_parts(n: usize, f: Job<'_>) {
        // SAFETY: a fat reference is two words; it is turned back into one only by claimers of
        // this generation, all of whom finish before this function returns (DONE == n below).
        let words: [usize; 2] = unsafe { std::mem::transmute::<Job<'_>, [usize; 2]>(f) };
        JOB[0].store(words[0], SeqCst);
        JOB[1].store(words[1], SeqCst);
        PARTS.store(n, SeqCst);
        HOMES.store(super::threads().min(n).max(1), SeqCst);
        DONE.store(0, SeqCst);
        let generation = (WAKE.load(SeqCst) as u32).wrapping_add(1);
        // Parts n.. do not exist: claimed from the start.
        let unused = (!0u32).checked_shl(n as u32).unwrap_or(0);
        CLAIM.store(u64::from(generation) << 32 | u64::from(unused), SeqCst);
        WAKE.store(generation as i32, SeqCst);
        // SAFETY: WAKE is a live static i32; notify wakes every waiter.
        unsafe {
            memory_atomic_notify(WAKE.as_ptr(), u32::MAX);
        }
        work(generation, 0);
        while DONE.load(SeqCst) < n as u32 {
            std::hint::spin_loop();
        }
    }

    /// Claims and runs parts of generation `generation` as thread `me` until none is left.
    fn work(generation: u32, me: usize) {
        // Read before the first claim: a claim succeeds only while this generation has parts
        // free, and no later job rewrites these before every part of this one is claimed.
        let words = [JOB[0].load(SeqCst), JOB[1].load(SeqCst)];
        let (n, homes) = (PARTS.load(SeqCst), HOMES.load(SeqCst));
        loop {
            let c = CLAIM.load(SeqCst);
            let (g, free) = ((c >> 32) as u32, !(c as u32));
            if g != generation || free == 0 {
                return;
            }
            let part = super::pick(free, n, homes, me);
            if CLAIM
                .compare_exchange(c, c | 1 << part, SeqCst, SeqCst)
                .is_err()
            {
                continue;
            }
            // SAFETY: the claim succeeded, so this generation's job is not finished and its
            // caller is still inside `run`, keeping `f` alive; JOB is rewritten only after
            // every part is done, so `words` (read before the claim) are this job's.
            let f: Job<'_> = unsafe { std::mem::transmute::<[usize; 2], Job<'_>>(words) };
            f(part);
            DONE.fetch_add(1, SeqCst);
        }
    }

    /// A worker's life: wait for a job, take parts of it, again. Never returns.
    pub fn worker_loop() -> ! {
        let mut seen = WAKE.load(SeqCst);
        let me = WORKERS.fetch_add(1, SeqCst) + 1;
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
            work(seen as u32, me);
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

    /// Claiming as the wasm pool's threads do: each thread its own run of parts first, in
    /// order, then the others' from their end; every part exactly once, whatever the order
    /// the threads come in.
    #[test]
    fn threads_claim_their_own_run_first_then_the_others_from_the_end() {
        let claim = |n: usize, homes: usize, order: &[usize]| {
            let mut claimed = (!0u32).checked_shl(n as u32).unwrap_or(0);
            let mut got = Vec::new();
            for &me in order.iter().cycle() {
                let free = !claimed;
                if free == 0 {
                    break;
                }
                let part = pick(free, n, homes, me);
                assert!(part < n && free & 1 << part != 0, "{part} is not free");
                claimed |= 1 << part;
                got.push((me, part));
            }
            got
        };
        // Two threads in turn: 0..4 to thread 0, 4..8 to thread 1, each in order.
        let got = claim(8, 2, &[0, 1]);
        let mine =
            |t: usize| -> Vec<usize> { got.iter().filter(|g| g.0 == t).map(|g| g.1).collect() };
        assert_eq!(mine(0), [0, 1, 2, 3]);
        assert_eq!(mine(1), [4, 5, 6, 7]);
        // Thread 1 held back: thread 0 does its run, then thread 1's from the end.
        let got = claim(8, 2, &[0, 0, 0, 0, 0, 0, 1]);
        assert_eq!(
            got.iter().map(|g| g.1).collect::<Vec<_>>(),
            [0, 1, 2, 3, 7, 6, 4, 5]
        );
        // A thread past the homes only takes others' parts; 32 parts; parts not a multiple of
        // the threads.
        for (n, homes, order) in [
            (8, 2, vec![2, 0, 1]),
            (32, 8, (0..8).collect()),
            (7, 3, vec![0, 1, 2]),
        ] {
            let mut parts: Vec<usize> = claim(n, homes, &order).iter().map(|g| g.1).collect();
            parts.sort_unstable();
            assert_eq!(
                parts,
                (0..n).collect::<Vec<_>>(),
                "{n} parts, {homes} homes"
            );
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
