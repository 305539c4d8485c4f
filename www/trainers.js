// Where the page's trainers live: in a module Worker (trainer-worker.js, the default), so the
// page's thread only draws and listens; or, where this browser cannot run the trainer in a
// worker (or `?worker=0` asks), on the page's thread as before. Either way the page gets the
// same object: `create(config)`, `createBeside(trainer, config)`, `checkGpu()`, `info()`, and
// `mode` ("worker" or "page") with `why` (the reason for "page").
import { WorkerClient } from "./spawn.js";
import { makeApi } from "./trainer.js";
import { loadModule } from "./boot.js";

async function inWorker() {
  const url = new URL(`./trainer-worker.js${location.search}`, import.meta.url);
  const client = new WorkerClient(new Worker(url, { type: "module", name: "vae-webgpu trainer" }));
  try {
    await client.info(); // the module loaded there (or the worker failed)
  } catch (e) {
    client.terminate();
    throw e;
  }
  return {
    mode: "worker",
    why: "",
    create: (config) => client.create(config),
    createBeside: (other, config) => client.createBeside(other, config),
    checkGpu: () => client.checkGpu(),
    info: () => client.info(),
  };
}

async function onPage(why) {
  const { bindings, memory, build } = await loadModule();
  const { Trainer } = makeApi(bindings);
  return {
    mode: "page",
    why,
    create: (config) => Trainer.create(config),
    createBeside: (other, config) => Trainer.createBeside(other, config),
    checkGpu: () => bindings.checkGpu(),
    info: async () => {
      const live = bindings.liveGpuBuffers();
      const info = { build, cpuThreads: bindings.cpuThreads(), wasmBytes: memory.buffer.byteLength, liveGpuBuffers: { count: live.count, bytes: live.bytes }, trainers: NaN };
      live.free();
      return info;
    },
  };
}

/** Starts the trainers' home: the worker, else the page's thread (saying why). */
export async function startTrainers() {
  if (new URLSearchParams(location.search).get("worker") === "0") return onPage("?worker=0");
  if (typeof Worker === "undefined") return onPage("no Worker in this browser");
  try {
    return await inWorker();
  } catch (e) {
    const why = e && e.message ? e.message : String(e);
    console.warn(`the trainer cannot run in a worker here (${why}); it runs on the page's thread`);
    return onPage(why);
  }
}
