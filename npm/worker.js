// The package's trainer worker (spawnTrainer starts it as a module worker): loads the wasm
// module here, then serves trainers over messages (host.js). Which build (threads.js): where
// this worker is cross-origin isolated (the page that spawned it was served with COOP/COEP) a
// threads build, and the CPU engine splits its work over more workers; else a one-thread
// build; relaxed SIMD where the browser runs it, SIMD128 otherwise. spawnTrainer's options:
// `threads` (1: a one-thread build), `simd: "plain"` (the SIMD128 builds).
// The glue modules are imported statically (a worker bundled as one file by Vite cannot split
// out dynamic imports); a build's wasm is fetched only when it is the one loaded.
import * as plain from "./vae_webgpu.js";
import * as relaxed from "./vae-webgpu-relaxed.js";
import * as threaded from "./vae-webgpu-threads.js";
import * as threadedRelaxed from "./vae-webgpu-threads-relaxed.js";
import { serve } from "./host.js";
import { loadBuild, relaxedSimdRuns, threadsFor } from "./threads.js";

const IMPORTS = {
  threadsRelaxed: async () => threadedRelaxed,
  threads: async () => threaded,
  relaxed: async () => relaxed,
  plain: async () => plain,
};

serve(({ threads, simd } = {}) => loadBuild(threadsFor(threads), simd !== "plain" && relaxedSimdRuns(), IMPORTS));
