// The package's entry: the wasm module's functions, the queued `Trainer` (trainer.js) and
// `spawnTrainer`, which runs one in a module Worker so the calling thread never blocks.
import * as raw from "./vae_webgpu.js";
import { makeApi } from "./trainer.js";
import { spawnWith } from "./spawn.js";

export {
  default, initSync, settings, checkGpu, cpuThreads, setCpuThreads, drawGrid, drawPairs, gridImage,
  drawingToInput, liveGpuBuffers, errorCodes,
} from "./vae_webgpu.js";
export { ERROR_CODES } from "./trainer.js";
export { RemoteTrainer } from "./spawn.js";

/** The trainer on this thread (for code already in a worker): calls queued, results plain. */
export const { Trainer } = makeApi(raw);

/** A trainer in a new module Worker: the same calls as `Trainer` (all async) and getters;
 * `terminate()` or `free()` ends the worker. `options.threads`: the CPU engine's threads where
 * the page is cross-origin isolated (default one a core, at most 8; one thread elsewhere). */
export function spawnTrainer(config = {}, options = {}) {
  return spawnWith(() => new Worker(new URL("./worker.js", import.meta.url), { type: "module", name: "vae-webgpu trainer" }), config, options);
}
