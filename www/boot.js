// Loads the wasm module. A file of its own, not Trunk's inline loader, so the
// Content-Security-Policy can forbid inline script: Trunk.toml turns script injection and file
// hashes off, so the module keeps the package's name: vae-webgpu.js and vae-webgpu_bg.wasm.
//
// Three builds of the module ship (scripts/trunk-post-build.sh), each with its own JS glue:
// SIMD128 (vae-webgpu.js), relaxed SIMD (vae-webgpu-relaxed.js: fused multiply-adds in the CPU
// engine's matrix products) and threads (vae-webgpu-threads.js: SIMD128 on a shared memory, the
// CPU engine's work split over Web Workers: threads.js and cpu-worker.js, shared with the npm
// package; vae-webgpu-threads-relaxed.js with cpu-worker-relaxed.js: the same with relaxed
// SIMD). A threads build loads where the page is cross-origin isolated (served with
// COOP/COEP: shared memory is allowed), the relaxed one where this browser validates
// relaxed-SIMD code; else the one-thread relaxed build; else, or if one fails to load, the
// SIMD128 one. `?threads=N` sets the CPU engine's threads (1: no workers, the SIMD builds).

import { startThreads, threadsFor } from "./threads.js";

// The smallest module using a relaxed-SIMD instruction (i8x16.relaxed_swizzle), as
// wasm-feature-detect tests it.
const RELAXED_PROBE = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 15, 1, 13, 0, 65, 1, 253, 15, 65, 2, 253, 15, 253, 128, 2, 11]);

// In the trainer's worker (trainer-worker.js), `location.search` is the page's: the page
// starts the worker with its own query string.

/** Whether this browser runs relaxed SIMD (?simd=plain asks for the SIMD128 build anyway). */
export function relaxedSimd() {
  if (new URLSearchParams(location.search).get("simd") === "plain") return false;
  try {
    return WebAssembly.validate(RELAXED_PROBE);
  } catch {
    return false;
  }
}

/** The CPU engine's threads to start: `?threads=N` (1 … 16), else one a core, at most 8; 1
 * where the page is not cross-origin isolated (threads.js). */
export function threadsWanted() {
  return threadsFor(Number(new URLSearchParams(location.search).get("threads")));
}

/** The relaxed-SIMD threads build (page only: scripts/build-threads.sh DEST relaxed). */
const RELAXED_THREADS = {
  wasm: "vae-webgpu-threads-relaxed_bg.wasm",
  worker: (name) => new Worker(new URL("./cpu-worker-relaxed.js", import.meta.url), { type: "module", name }),
};

/** Loads a threads build — the relaxed-SIMD one when `relaxed` — and starts its workers
 * (threads.js). */
async function loadThreads(threads, relaxed) {
  if (relaxed) {
    const bindings = await import("./vae-webgpu-threads-relaxed.js");
    const { memory } = await startThreads(bindings, threads, RELAXED_THREADS);
    return { bindings, memory, build: "threads-relaxed" };
  }
  const bindings = await import("./vae-webgpu-threads.js");
  const { memory } = await startThreads(bindings, threads);
  return { bindings, memory, build: "threads" };
}

let loading = null;

/** Imports and starts the build for this browser: `{ bindings, memory, build }` (once: later
 * calls get the same module, and no more workers). */
export function loadModule() {
  loading ??= load();
  return loading;
}

async function load() {
  const threads = threadsWanted();
  const relaxed = relaxedSimd();
  if (threads > 1 && relaxed) {
    try {
      return await loadThreads(threads, true);
    } catch (e) {
      console.info(`relaxed-SIMD threads module not loaded (${e && e.message ? e.message : e}); using SIMD128`);
    }
  }
  if (threads > 1) {
    try {
      return await loadThreads(threads, false);
    } catch (e) {
      console.info(`threads module not loaded (${e && e.message ? e.message : e}); using one thread`);
    }
  }
  if (relaxed) {
    try {
      const bindings = await import("./vae-webgpu-relaxed.js");
      const w = await bindings.default();
      return { bindings, memory: w.memory, build: "relaxed-simd" };
    } catch (e) {
      console.info(`relaxed-SIMD module not loaded (${e && e.message ? e.message : e}); using SIMD128`);
    }
  }
  const bindings = await import("./vae-webgpu.js");
  const w = await bindings.default();
  return { bindings, memory: w.memory, build: "simd128" };
}

/** The page's own thread only draws: it loads the SIMD128 build for its drawing functions and
 * the engine's settings, and the trainer lives in a worker (trainer-worker.js loads the build
 * for this browser there with `loadModule`). Resolves to `{ wasm, settings }` (the bindings and
 * the engine's defaults, limits and layouts — one source for the form and the plot), or rejects
 * with the load error. */
export async function loadDrawing() {
  const bindings = await import("./vae-webgpu.js");
  await bindings.default();
  return { wasm: bindings, settings: bindings.settings() };
}
