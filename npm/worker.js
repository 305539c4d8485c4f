// The package's trainer worker (spawnTrainer starts it as a module worker): loads the wasm
// module here, then serves trainers over messages (host.js).
import init, * as bindings from "./vae_webgpu.js";
import { serve } from "./host.js";

serve(async () => {
  const exports = await init();
  return { bindings, build: "simd128", memory: exports.memory };
});
