// Starts the trainer's worker while the page is still being read: a classic script in <head>
// runs at once, before the page's modules (which run only once the whole page is parsed), so the
// worker loads its wasm module meanwhile; trainers.js adopts it. What the worker says before
// then (an error loading it) is kept for trainers.js to hand on.
(() => {
  const query = new URLSearchParams(location.search);
  if (query.get("worker") === "0" || typeof Worker === "undefined") return;
  try {
    const url = new URL(`trainer-worker.js${location.search}`, document.baseURI);
    const worker = new Worker(url, { type: "module", name: "vae-webgpu trainer" });
    const early = { worker, errors: [], messages: [] };
    worker.onerror = (e) => early.errors.push(e);
    worker.onmessage = (e) => early.messages.push(e);
    window.vaeEarlyWorker = early;
  } catch {
    // trainers.js starts the worker itself (and says why it cannot)
  }
})();
