// The CPU engine's builds of the wasm module and how one is chosen (used by the page,
// www/boot.js, and by the package's worker, worker.js; the files sit side by side in both, so the
// URLs below are the same):
// - SIMD128 on one thread (vae_webgpu.js / the page's vae-webgpu.js);
// - relaxed SIMD on one thread (vae-webgpu-relaxed.js: the CPU engine's matrix products with
//   f32x4.relaxed_madd, a fused multiply-add where the CPU has one; scripts/build-relaxed.sh);
// - threads (vae-webgpu-threads.js and _bg.wasm, scripts/build-threads.sh: SIMD128 on a shared
//   memory) plus one module Worker per extra thread (cpu-worker.js) on the same module and
//   memory; and the same with relaxed SIMD (vae-webgpu-threads-relaxed.js, cpu-worker-relaxed.js).
// Shared memory needs a cross-origin isolated context (the page served with
// `Cross-Origin-Opener-Policy: same-origin` and `Cross-Origin-Embedder-Policy: require-corp`);
// elsewhere one thread runs. Relaxed SIMD runs where the browser validates it (Chromium ≥ 114;
// not Safari or Firefox today).

/** How long the workers get to start before the engine runs without the missing ones. */
const WORKER_START_MS = 10_000;

/** Whether this context may run the threads build (shared memory is allowed). */
export function threadsAllowed() {
  return Boolean(globalThis.crossOriginIsolated) && typeof SharedArrayBuffer !== "undefined";
}

/** The threads to start: `asked` (an integer ≥ 1, at most 16) where threads are allowed, else
 * one a core, at most 8 (a batch of 128 gives little to more); 1 where they are not allowed. */
export function threadsFor(asked) {
  if (!threadsAllowed()) return 1;
  if (Number.isInteger(asked) && asked >= 1) return Math.min(asked, 16);
  return Math.max(1, Math.min(globalThis.navigator?.hardwareConcurrency || 1, 8));
}

// The smallest module using a relaxed-SIMD instruction (i8x16.relaxed_swizzle), as
// wasm-feature-detect tests it.
const RELAXED_PROBE = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 15, 1, 13, 0, 65, 1, 253, 15, 65, 2, 253, 15, 253, 128, 2, 11]);

/** Whether this browser runs relaxed SIMD. */
export function relaxedSimdRuns() {
  try {
    return WebAssembly.validate(RELAXED_PROBE);
  } catch {
    return false;
  }
}

/** The SIMD128 threads build and its worker script (the URL written out where bundlers see it). */
const THREADS_BUILD = {
  wasm: "vae-webgpu-threads_bg.wasm",
  worker: (name) => new Worker(new URL("./cpu-worker.js", import.meta.url), { type: "module", name }),
};

/** The relaxed-SIMD threads build and its worker script. */
const RELAXED_THREADS_BUILD = {
  wasm: "vae-webgpu-threads-relaxed_bg.wasm",
  worker: (name) => new Worker(new URL("./cpu-worker-relaxed.js", import.meta.url), { type: "module", name }),
};

/**
 * Loads the best build this context runs and starts its threads: with `threads` > 1 a threads
 * build (relaxed SIMD when `relaxed`), else a one-thread build (relaxed SIMD when `relaxed`);
 * a build that fails to load falls back to the next (threads-relaxed → threads → relaxed-simd →
 * simd128), saying why on the console. `imports` are the builds' glue modules as the caller
 * imports them (the import written out where bundlers see it): `{ threadsRelaxed, threads,
 * relaxed, plain }`, each `() => Promise<module>`. Resolves to `{ bindings, memory, build }`.
 */
export async function loadBuild(threads, relaxed, imports) {
  const tries = [];
  if (threads > 1 && relaxed) tries.push(["threads-relaxed", imports.threadsRelaxed, RELAXED_THREADS_BUILD]);
  if (threads > 1) tries.push(["threads", imports.threads, THREADS_BUILD]);
  if (relaxed) tries.push(["relaxed-simd", imports.relaxed, null]);
  for (const [build, load, threadsBuild] of tries) {
    try {
      const bindings = await load();
      if (threadsBuild) {
        const { memory } = await startThreads(bindings, threads, threadsBuild);
        return { bindings, memory, build };
      }
      const w = await bindings.default();
      return { bindings, memory: w.memory, build };
    } catch (e) {
      console.info(`vae-webgpu: the ${build} build did not load (${e && e.message ? e.message : e}); trying the next`);
    }
  }
  const bindings = await imports.plain();
  const w = await bindings.default();
  return { bindings, memory: w.memory, build: "simd128" };
}

/** Initialises the threads build's `bindings` (the imported vae-webgpu-threads.js) and starts
 * `threads - 1` workers on its module and memory; resolves with `{ memory, started }` once they
 * all run (or WORKER_START_MS passed: whoever started takes part; the calling thread does all
 * the work if none did). Rejects if the module does not load. `build` names the build's wasm
 * file and the worker script that imports its glue (THREADS_BUILD, RELAXED_THREADS_BUILD). */
export async function startThreads(bindings, threads, build = THREADS_BUILD) {
  const bytes = await fetch(new URL(`./${build.wasm}`, import.meta.url));
  if (!bytes.ok) throw new Error(`${build.wasm}: ${bytes.status} ${bytes.statusText}`);
  const module = await WebAssembly.compile(await bytes.arrayBuffer());
  const w = await bindings.default({ module_or_path: module });
  const memory = w.memory;
  const started = [];
  for (let i = 1; i < threads; i++) {
    started.push(new Promise((resolve) => {
      const worker = build.worker(`vae-cpu-${i}`);
      const fail = (why) => {
        console.warn(`CPU engine worker ${i} did not start: ${why}`);
        resolve(false);
      };
      worker.onerror = (e) => fail(e.message || "error");
      worker.onmessage = ({ data }) => (data && data.started ? resolve(true) : fail(data && data.error));
      worker.postMessage({ module, memory });
    }));
  }
  const timeout = new Promise((resolve) => setTimeout(resolve, WORKER_START_MS));
  await Promise.race([Promise.all(started), timeout]);
  // A worker counts once it is inside cpuWorkerLoop, just after saying it started.
  for (let waited = 0; bindings.cpuThreads() < threads && waited < 1000; waited += 10) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return { memory, started: bindings.cpuThreads() };
}
