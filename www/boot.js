// Loads the wasm module. A file of its own, not Trunk's inline loader, so the
// Content-Security-Policy can forbid inline script: Trunk.toml turns script injection and file
// hashes off, so the module keeps the package's name: vae-webgpu.js and vae-webgpu_bg.wasm.
import init, * as bindings from "./vae-webgpu.js";

/** Resolves to `{ wasm, memory, settings }` (the bindings, the module's memory and the engine's
 * defaults, limits and layouts: one source for the form and the plot), or rejects with the
 * load error. */
export const ready = init().then((w) => ({ wasm: bindings, memory: w.memory, settings: bindings.settings() }));
