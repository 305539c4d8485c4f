// The package's trainer worker (spawnTrainer starts it as a module worker): loads the wasm
// module here, then serves trainers over messages (host.js). Where this worker is cross-origin
// isolated (the page that spawned it was served with COOP/COEP) the threads build loads and
// the CPU engine splits its work over more workers (threads.js); else the SIMD128 build runs
// on this one thread. spawnTrainer's `threads` option sets how many (1: the SIMD128 build).
import initPlain, * as plain from "./vae_webgpu.js";
import * as threaded from "./vae-webgpu-threads.js";
import { serve } from "./host.js";
import { startThreads, threadsFor } from "./threads.js";

serve(async ({ threads: asked } = {}) => {
  const threads = threadsFor(asked);
  if (threads > 1) {
    try {
      const { memory } = await startThreads(threaded, threads);
      return { bindings: threaded, build: "threads", memory };
    } catch (e) {
      console.warn(`vae-webgpu: the threads build did not load (${e && e.message ? e.message : e}); the CPU engine runs on one thread`);
    }
  }
  const exports = await initPlain();
  return { bindings: plain, build: "simd128", memory: exports.memory };
});
