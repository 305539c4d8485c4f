// Loads the wasm module. A file of its own, not Trunk's inline loader, so the
// Content-Security-Policy can forbid inline script: Trunk.toml turns script injection and file
// hashes off, so the module keeps the package's name: vae-webgpu.js and vae-webgpu_bg.wasm.
//
// Two builds of the module ship (scripts/trunk-post-build.sh), each with its own JS glue:
// SIMD128 (vae-webgpu.js) and relaxed SIMD (vae-webgpu-relaxed.js: fused multiply-adds in the CPU
// engine's matrix products). The relaxed one loads where this browser validates relaxed-SIMD
// code; if it is missing or fails, the SIMD128 one.

// The smallest module using a relaxed-SIMD instruction (i8x16.relaxed_swizzle), as
// wasm-feature-detect tests it.
const RELAXED_PROBE = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 15, 1, 13, 0, 65, 1, 253, 15, 65, 2, 253, 15, 253, 128, 2, 11]);

/** Whether this browser runs relaxed SIMD (?simd=plain asks for the SIMD128 build anyway). */
export function relaxedSimd() {
  if (new URLSearchParams(location.search).get("simd") === "plain") return false;
  try {
    return WebAssembly.validate(RELAXED_PROBE);
  } catch {
    return false;
  }
}

/** Imports and starts the build for this browser: `{ bindings, memory, build }`. */
export async function loadModule() {
  if (relaxedSimd()) {
    try {
      const bindings = await import("./vae-webgpu-relaxed.js");
      const w = await bindings.default();
      return { bindings, memory: w.memory, build: "relaxed-simd" };
    } catch (e) {
      console.info(`relaxed-SIMD module not loaded (${e && e.message ? e.message : e}); using SIMD128`);
    }
  }
  const bindings = await import("./vae-webgpu.js");
  const w = await bindings.default();
  return { bindings, memory: w.memory, build: "simd128" };
}

/** Resolves to `{ wasm, memory, settings, build }` (the bindings, the module's memory, the
 * engine's defaults, limits and layouts — one source for the form and the plot — and which build
 * loaded: "relaxed-simd" or "simd128"), or rejects with the load error. */
export const ready = loadModule().then(({ bindings, memory, build }) => ({ wasm: bindings, memory, settings: bindings.settings(), build }));
