// A thread of the CPU engine (threads build only, www/boot.js starts one per extra thread):
// instantiates the page's wasm module on the page's shared memory, then runs the pool's worker
// loop (src/cpu/pool.rs), which takes parts of the engine's matrix products, loss and Adam
// as the page's thread hands them out, and sleeps in between. It never returns.
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
