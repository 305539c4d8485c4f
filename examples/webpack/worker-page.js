// The worker example's page: hands an OffscreenCanvas to the worker, draws the ImageData it
// sends, and counts the page thread's long tasks (> 50 ms) while the model trains — in the
// worker (default) or, with ?mode=main, on this thread, for comparison.
import { train } from "./train.js";

const STEPS = Number(new URLSearchParams(location.search).get("steps") || 48);
const mode = new URLSearchParams(location.search).get("mode") === "main" ? "main" : "worker";
const status = document.getElementById("status");
const long = [];
new PerformanceObserver((list) => { for (const e of list.getEntries()) long.push(e.duration); }).observe({ type: "longtask", buffered: false });

function show(progress, recon) {
  status.textContent = `${mode}: step ${progress.step} of ${STEPS}, loss ${progress.loss.toFixed(2)} per sample`;
  const c = document.getElementById("recon");
  c.width = recon.width;
  c.height = recon.height;
  c.getContext("2d").putImageData(recon, 0, 0);
}

function finish(done) {
  const blocking = long.reduce((a, d) => a + Math.max(0, d - 50), 0);
  window.exampleResult = { mode, ...done, longTasks: long.length, longestMs: Math.max(0, ...long), blockingMs: blocking };
  status.textContent = `${mode}: ${done.steps} steps in ${(done.ms / 1000).toFixed(1)} s (${done.samplesPerSec.toFixed(0)} samples/s)`;
  document.getElementById("longtasks").textContent = `page thread while training: ${long.length} long tasks, ${blocking.toFixed(0)} ms blocking`;
}

const fail = (e) => { status.textContent = `error: ${e}`; window.exampleResult = { error: String(e) }; };
const samples = document.getElementById("samples");
if (mode === "worker") {
  const worker = new Worker(new URL("./worker.js", import.meta.url), { type: "module" });
  const canvas = samples.transferControlToOffscreen();
  worker.onmessage = ({ data }) => {
    if (data.progress) show(data.progress, data.recon);
    else if (data.done) finish(data.done);
    else if (data.error) fail(data.error);
  };
  worker.onerror = (e) => fail(e.message);
  worker.postMessage({ steps: STEPS, canvas }, [canvas]);
} else {
  train(STEPS, samples, show).then(finish, (e) => fail(e.message || e));
}
