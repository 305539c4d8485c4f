// A thread of the CPU engine (threads build only; threads.js starts one per extra thread):
// instantiates the trainer's wasm module on its shared memory, then runs the pool's worker loop
// (src/cpu/pool.rs), which takes parts of the engine's matrix products, loss and Adam as the
// trainer's thread hands them out, and sleeps in between. It never returns.
import { initSync, cpuWorkerLoop } from "./vae-webgpu-threads.js";

self.onmessage = ({ data }) => {
  try {
    initSync({ module: data.module, memory: data.memory });
  } catch (e) {
    self.postMessage({ error: e && e.message ? e.message : String(e) });
    return;
  }
  self.postMessage({ started: true });
  cpuWorkerLoop();
};
