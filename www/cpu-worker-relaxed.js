// A thread of the CPU engine on the page's relaxed-SIMD threads build (boot.js): as
// cpu-worker.js, on that build's glue.
import * as glue from "./vae-webgpu-threads-relaxed.js";
import { serveCpuThread } from "./threads.js";

serveCpuThread(glue);
