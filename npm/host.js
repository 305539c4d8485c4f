// The worker's side of a spawned trainer (spawn.js is the other side): serves trainers of
// trainer.js over messages. Each trainer has a handle; a call's reply carries the result
// (typed arrays' buffers transferred: each result is a fresh copy), or the error's message and
// code, and the trainer's getters as they stand after it. Calls reach each trainer's queue in
// the order they were posted, so they run in the order made.
import { makeApi, callTimesOf, GETTERS, METHODS } from "./trainer.js";

/** Buffers of the typed arrays in `v` (a plain result), each once. */
function transferables(v, out = new Set()) {
  if (ArrayBuffer.isView(v)) {
    if (v.buffer instanceof ArrayBuffer) out.add(v.buffer);
  } else if (Array.isArray(v)) {
    for (const x of v) transferables(x, out);
  } else if (v && typeof v === "object") {
    for (const x of Object.values(v)) transferables(x, out);
  }
  return out;
}

function status(t) {
  const s = {};
  for (const g of GETTERS) s[g] = t[g];
  return s;
}

/**
 * Answers spawn.js's messages on `scope` (the worker's global). `load(options)` resolves to
 * `{ bindings, build, memory }`: the wasm module's bindings (initialised), which build loaded
 * and its memory (`info` reports its size). It runs once, at the first message: with the
 * options of an "init" message (spawnTrainer's second argument) when that comes first, else
 * with none.
 */
export function serve(load, scope = self) {
  let loaded = null;
  const start = (options) =>
    (loaded ??= Promise.resolve()
      .then(() => load(options))
      .then(({ bindings, build, memory }) => ({ bindings, build, memory, api: makeApi(bindings) })));
  const trainers = new Map();
  let next = 1;

  const reply = (id, result, t) => {
    scope.postMessage({ id, ok: true, result, status: t ? status(t) : null }, [...transferables(result)]);
  };
  const fail = (id, e, t) => {
    const code = e && typeof e.code === "string" ? e.code : "internal";
    scope.postMessage({ id, ok: false, error: { message: e && e.message ? e.message : String(e), code }, status: t ? status(t) : null });
  };
  const adopt = (t) => {
    const handle = next++;
    trainers.set(handle, t);
    t.lost.then(({ message }) => scope.postMessage({ event: "lost", handle, message }));
    return handle;
  };

  scope.onmessage = async ({ data }) => {
    const { id, op, handle, method, args = [] } = data;
    let loadedNow;
    try {
      loadedNow = await start(op === "init" ? args[0] || {} : {});
    } catch (e) {
      return fail(id, Object.assign(new Error(`the wasm module did not load: ${e && e.message ? e.message : e}`), { code: "internal" }));
    }
    const { bindings, build, memory, api } = loadedNow;
    const t = trainers.get(handle);
    try {
      switch (op) {
        case "create": {
          const made = await api.Trainer.create(args[0]);
          return reply(id, adopt(made), made);
        }
        case "createBeside": {
          if (!t) throw Object.assign(new Error("createBeside: that trainer was freed"), { code: "freed" });
          const made = await api.Trainer.createBeside(t, args[0]);
          return reply(id, adopt(made), made);
        }
        case "call": {
          if (!t) throw Object.assign(new Error(`${method}: this trainer was freed`), { code: "freed" });
          if (!(method in METHODS) && method !== "sharesDeviceWith") throw Object.assign(new Error(`no such call: ${method}`), { code: "bad-argument" });
          const callArgs = method === "sharesDeviceWith" ? [trainers.get(args[0])] : args;
          return reply(id, await t[method](...callArgs), t);
        }
        case "free": {
          if (t) t.free();
          trainers.delete(handle);
          return reply(id, undefined, null);
        }
        case "checkGpu":
          return reply(id, await bindings.checkGpu(), null);
        case "init": // the module loaded (above): answer as "info" does
        case "info": {
          const live = typeof bindings.liveGpuBuffers === "function" ? bindings.liveGpuBuffers() : null;
          const info = {
            build,
            cpuThreads: typeof bindings.cpuThreads === "function" ? bindings.cpuThreads() : 1,
            wasmBytes: memory ? memory.buffer.byteLength : NaN,
            liveGpuBuffers: live ? { count: live.count, bytes: live.bytes } : null,
            trainers: trainers.size,
            calls: callTimesOf(trainers.values()),
          };
          if (live) live.free();
          return reply(id, info, null);
        }
        default:
          throw Object.assign(new Error(`unknown operation ${op}`), { code: "bad-argument" });
      }
    } catch (e) {
      fail(id, e, t && !t.freed ? t : null);
    }
  };
}
