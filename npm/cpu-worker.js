// A thread of the CPU engine (threads build only; threads.js starts one per extra thread): its
// module on the shared memory, then the pool's worker loop (threads.js: serveCpuThread).
import * as glue from "./vae-webgpu-threads.js";
import { serveCpuThread } from "./threads.js";

serveCpuThread(glue);
