// Loads the wasm module. A file of its own, not Trunk's inline loader, so the
// Content-Security-Policy can forbid inline script: Trunk.toml turns script injection and file
// hashes off, so the module keeps the package's name: vae-webgpu.js and vae-webgpu_bg.wasm.
//
// Four builds of the module ship (scripts/trunk-post-build.sh), each with its own JS glue:
// SIMD128 (vae-webgpu.js), relaxed SIMD (vae-webgpu-relaxed.js), threads (vae-webgpu-threads.js)
// and threads with relaxed SIMD (vae-webgpu-threads-relaxed.js); threads.js, shared with the npm
// package, says what each is and picks one (`loadBuild`): a threads build where the page is
// cross-origin isolated, relaxed SIMD where this browser validates it, falling back to the next
// when one fails to load. `?threads=N` sets the CPU engine's threads (1: no workers, the
// one-thread builds); `?simd=plain` asks for the SIMD128 builds.

import { loadBuild, relaxedSimdRuns, threadsFor } from "./threads.js";

// In the trainer's worker (trainer-worker.js), `location.search` is the page's: the page
// starts the worker with its own query string.

/** Whether this browser runs relaxed SIMD (?simd=plain asks for the SIMD128 build anyway). */
export function relaxedSimd() {
  return new URLSearchParams(location.search).get("simd") !== "plain" && relaxedSimdRuns();
}

/** The CPU engine's threads to start: `?threads=N` (1 … 16), else one a core, at most 8; 1
 * where the page is not cross-origin isolated (threads.js). */
export function threadsWanted() {
  return threadsFor(Number(new URLSearchParams(location.search).get("threads")));
}

/** The builds' glue, imported where Trunk's copy of the files has them. */
const IMPORTS = {
  threadsRelaxed: () => import("./vae-webgpu-threads-relaxed.js"),
  threads: () => import("./vae-webgpu-threads.js"),
  relaxed: () => import("./vae-webgpu-relaxed.js"),
  plain: () => import("./vae-webgpu.js"),
};

let loading = null;

/** Imports and starts the build for this browser: `{ bindings, memory, build }` (once: later
 * calls get the same module, and no more workers). */
export function loadModule() {
  loading ??= load();
  return loading;
}

function load() {
  return loadBuild(threadsWanted(), relaxedSimd(), IMPORTS);
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
