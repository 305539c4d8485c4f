// Where the page's trainers live: in a module Worker (trainer-worker.js, the default), so the
// page's thread only draws and listens; or, where this browser cannot run the trainer in a
// worker (or `?worker=0` asks), on the page's thread as before. Either way the page gets the
// same object: `create(config)`, `createBeside(trainer, config)`, `checkGpu()`, `info()`, and
// `mode` ("worker" or "page") with `why` (the reason for "page").
import { WorkerClient } from "./spawn.js";
import { makeApi, callTimesOf } from "./trainer.js";
import { loadModule } from "./boot.js";

/** The worker early.js started while the page was read (once), with what it said meanwhile. */
function adoptEarly() {
  const early = window.vaeEarlyWorker;
  window.vaeEarlyWorker = null;
  return early || null;
}

async function inWorker() {
  const early = adoptEarly();
  const url = new URL(`./trainer-worker.js${location.search}`, import.meta.url);
  const worker = early ? early.worker : new Worker(url, { type: "module", name: "vae-webgpu trainer" });
  const client = new WorkerClient(worker);
  if (early) {
    for (const e of early.errors) worker.onerror(e);
    for (const m of early.messages) worker.onmessage(m);
  }
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
  let made = new Set(); // the trainers made here, for info()'s calls (freed ones are dropped)
  const keep = (t) => (made.add(t), t);
  return {
    mode: "page",
    why,
    create: async (config) => keep(await Trainer.create(config)),
    createBeside: async (other, config) => keep(await Trainer.createBeside(other, config)),
    checkGpu: () => bindings.checkGpu(),
    info: async () => {
      const live = bindings.liveGpuBuffers();
      made = new Set([...made].filter((t) => !t.freed));
      const info = { build, cpuThreads: bindings.cpuThreads(), wasmBytes: memory.buffer.byteLength, liveGpuBuffers: { count: live.count, bytes: live.bytes }, trainers: made.size, calls: callTimesOf(made) };
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
