// A thread of the CPU engine (threads build only; threads.js starts one per extra thread): its
// module on the shared memory, then the pool's worker loop (cpu-thread.js).
import * as glue from "./vae-webgpu-threads.js";
import { serveCpuThread } from "./cpu-thread.js";

serveCpuThread(glue);
