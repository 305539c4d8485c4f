// A CPU engine thread's side of the threads builds (threads.js is the calling side): a module
// of its own, without the workers' URLs, so a bundler sees no cycle from a worker script back
// to the workers (cpu-worker.js and cpu-worker-relaxed.js import it with their build's glue).

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
