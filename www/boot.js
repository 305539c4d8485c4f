// Loads the wasm module and hands its bindings to the page (app.js waits for them). A file of
// its own, not Trunk's inline loader, so the Content-Security-Policy can forbid inline script:
// Trunk.toml turns script injection and file hashes off, so the module keeps the package's
// name: vae-webgpu.js and vae-webgpu_bg.wasm.
import init, * as bindings from "./vae-webgpu.js";

try {
  const wasm = await init();
  window.wasmBindings = bindings;
  window.wasmMemory = wasm.memory; // its size is watched by the soak test
  dispatchEvent(new CustomEvent("TrunkApplicationStarted", { detail: { wasm: bindings } }));
} catch (e) {
  window.wasmLoadError = e;
  dispatchEvent(new CustomEvent("WasmLoadFailed", { detail: { error: e } }));
}
