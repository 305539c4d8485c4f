// The CPU engine's threads: the threads build of the wasm module (vae-webgpu-threads.js and
// _bg.wasm, built by scripts/build-threads.sh; SIMD128 on a shared memory) plus one module
// Worker per extra thread (cpu-worker.js) on the same module and memory. Shared memory needs a
// cross-origin isolated context (the page served with `Cross-Origin-Opener-Policy:
// same-origin` and `Cross-Origin-Embedder-Policy: require-corp`); elsewhere one thread runs.
// Used by the page (www/boot.js) and the package's worker (worker.js); the files sit side by
// side in both, so the URLs below are the same.

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

/** The SIMD128 threads build and its worker script (the URL written out where bundlers see it). */
const THREADS_BUILD = {
  wasm: "vae-webgpu-threads_bg.wasm",
  worker: (name) => new Worker(new URL("./cpu-worker.js", import.meta.url), { type: "module", name }),
};

/** Initialises the threads build's `bindings` (the imported vae-webgpu-threads.js) and starts
 * `threads - 1` workers on its module and memory; resolves with `{ memory, started }` once they
 * all run (or WORKER_START_MS passed: whoever started takes part; the calling thread does all
 * the work if none did). Rejects if the module does not load. `build` names another threads
 * build and the worker script that imports its glue (the page's relaxed-SIMD one:
 * `{ wasm: "vae-webgpu-threads-relaxed_bg.wasm", worker: (name) => new Worker(…) }`). */
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

/** A CPU engine thread's life (cpu-worker.js, on the `glue` of its build): instantiates the
 * module it is sent on the shared memory, says so, then runs the pool's worker loop
 * (src/cpu/pool.rs), which takes parts of the engine's matrix products, loss and Adam as the
 * trainer's thread hands them out, and sleeps in between. It never returns. */
export function serveCpuThread(glue) {
  self.onmessage = ({ data }) => {
    try {
      glue.initSync({ module: data.module, memory: data.memory });
    } catch (e) {
      self.postMessage({ error: e && e.message ? e.message : String(e) });
      return;
    }
    self.postMessage({ started: true });
    glue.cpuWorkerLoop();
  };
}
