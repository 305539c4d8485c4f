// A thread of the CPU engine on the relaxed-SIMD threads build (threads.js starts one per extra
// thread): as cpu-worker.js, on that build's glue.
import * as glue from "./vae-webgpu-threads-relaxed.js";
import { serveCpuThread } from "./cpu-thread.js";

serveCpuThread(glue);
