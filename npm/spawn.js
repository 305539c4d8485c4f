// The page's side of a trainer that lives in a Web Worker (host.js is the worker's side): the
// same calls as trainer.js's Trainer, each a message to the worker, and the same getters, read
// from the state the worker sent with its last answer. Nothing here computes, so the calling
// thread never blocks while the model trains.
import { GETTERS, METHODS, codedError, fitLoop, untilOf } from "./trainer.js";

/** A connection to a worker that runs host.js's `serve`. */
export class WorkerClient {
  #worker;
  #pending = new Map();
  #next = 1;
  #trainers = new Map(); // handle → RemoteTrainer (for "lost" events)
  #ended = null;

  constructor(worker) {
    this.#worker = worker;
    worker.onmessage = ({ data }) => this.#receive(data);
    worker.onerror = (e) => {
      const why = e && e.message ? e.message : "the trainer's worker failed to start";
      this.#end(codedError("internal", `trainer worker: ${why}`));
    };
  }

  #receive(data) {
    if (data.event === "lost") {
      const t = this.#trainers.get(data.handle);
      if (t) t._lost(data.message);
      return;
    }
    const p = this.#pending.get(data.id);
    if (!p) return;
    this.#pending.delete(data.id);
    if (data.ok) p.resolve(data);
    else p.reject(Object.assign(codedError(data.error.code, data.error.message), { status: data.status }));
  }

  #end(error) {
    this.#ended = error;
    for (const p of this.#pending.values()) p.reject(error);
    this.#pending.clear();
  }

  /** Posts `msg` and resolves with the worker's answer `{ result, status }`. */
  send(msg) {
    if (this.#ended) return Promise.reject(this.#ended);
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#worker.postMessage({ ...msg, id });
    });
  }

  /** A trainer built in the worker from `config` (as `Trainer.create`). */
  async create(config = {}) {
    const { result, status } = await this.send({ op: "create", args: [config] });
    return this.adopt(result, status);
  }

  /** A second trainer in this worker beside `other` (see `Trainer.createBeside`). */
  createBeside(other, config = {}) {
    return other.createBeside(config);
  }

  adopt(handle, status) {
    const t = new RemoteTrainer(this, handle, status);
    this.#trainers.set(handle, t);
    return t;
  }

  forget(handle) {
    this.#trainers.delete(handle);
  }

  /** Asks the worker for a WebGPU device without building a model: the adapter's name, or a
   * rejection saying what is missing (code "no-webgpu" or "no-adapter"). */
  async checkGpu() {
    return (await this.send({ op: "checkGpu" })).result;
  }

  /** The worker's module: `{ build, cpuThreads, wasmBytes, liveGpuBuffers, trainers }`. */
  async info() {
    return (await this.send({ op: "info" })).result;
  }

  /** Ends the worker: every trainer in it, and every call still waiting, with code "freed". */
  terminate() {
    if (this.#ended) return;
    this.#worker.terminate();
    for (const t of this.#trainers.values()) t._terminated();
    this.#end(codedError("freed", "the trainer's worker was terminated"));
  }
}

/** A trainer in a worker: every call async and queued in order, getters answer at once. */
export class RemoteTrainer {
  #client;
  #handle;
  #status;
  #freed = false;
  #owner = false;
  #lostResolve;
  /** Resolves with `{ reason: "lost", message }` once the WebGPU device is lost. */
  lost = new Promise((resolve) => { this.#lostResolve = resolve; });

  constructor(client, handle, status) {
    this.#client = client;
    this.#handle = handle;
    this.#status = status;
  }

  /** @internal the worker says the device was lost */
  _lost(message) {
    this.#status = { ...this.#status, deviceLost: message };
    this.#lostResolve({ reason: "lost", message });
  }

  /** @internal the worker was terminated */
  _terminated() {
    this.#freed = true;
  }

  /** @internal this trainer's worker ends with it (spawnTrainer's) */
  _own() {
    this.#owner = true;
    return this;
  }

  async #call(method, args) {
    if (this.#freed) throw codedError("freed", `${method}: this trainer was freed`);
    try {
      const { result, status } = await this.#client.send({ op: "call", handle: this.#handle, method, args });
      if (status) this.#status = status;
      return result;
    } catch (e) {
      if (e.status) this.#status = e.status;
      delete e.status;
      throw e;
    }
  }

  /** A second trainer in the same worker, on the same WebGPU device (see `Trainer.createBeside`). */
  async createBeside(config = {}) {
    if (this.#freed) throw codedError("freed", "createBeside: this trainer was freed");
    const { result, status } = await this.#client.send({ op: "createBeside", handle: this.#handle, args: [config] });
    return this.#client.adopt(result, status);
  }

  /** True when `other` (of the same worker) trains on the same WebGPU device. */
  async sharesDeviceWith(other) {
    if (!(other instanceof RemoteTrainer) || other.#client !== this.#client) return false;
    return this.#call("sharesDeviceWith", [other.#handle]);
  }

  /** Trains until done or aborted (trainer.js's `fitLoop`; callbacks run on this thread; an
   * abort ends the call in flight at its next step where the page is cross-origin isolated). */
  fit(options = {}) {
    return fitLoop(this, options, true);
  }

  /** Frees the trainer in the worker (after its running call); idempotent. */
  free() {
    if (this.#freed) return;
    this.#freed = true;
    this.#client.forget(this.#handle);
    if (this.#owner) this.#client.terminate();
    else this.#client.send({ op: "free", handle: this.#handle }).catch(() => {});
  }

  /** Ends the worker this trainer runs in (and every trainer in it). */
  terminate() {
    this.#freed = true;
    this.#client.terminate();
  }

  [Symbol.dispose ?? Symbol.for("Symbol.dispose")]() {
    this.free();
  }

  get freed() {
    return this.#freed;
  }

  /** The worker's module: `{ build, cpuThreads, wasmBytes, liveGpuBuffers, trainers }`. */
  info() {
    return this.#client.info();
  }

  /** @deprecated the config's name is `lr` */
  get learningRate() {
    return this.#status.lr;
  }

  static {
    for (const name of Object.keys(METHODS)) {
      Object.defineProperty(RemoteTrainer.prototype, name, {
        value(...args) {
          // `until` must reach the worker as shared memory: checked here, where a function
          // would fail to post and an unshared array would arrive as a copy never set.
          if (name === "train") {
            try {
              untilOf(args[1], true);
            } catch (e) {
              return Promise.reject(e);
            }
          }
          return this.#call(name, args);
        },
        writable: true,
        configurable: true,
      });
    }
    for (const g of GETTERS) {
      Object.defineProperty(RemoteTrainer.prototype, g, {
        get() {
          return this.#status[g];
        },
        configurable: true,
      });
    }
  }
}

/** Checks spawnTrainer's options: `{ threads, simd }`, threads an integer 1 … 16 and simd
 * "auto" or "plain" when given. */
function spawnOptions(options) {
  if (options === undefined || options === null) return {};
  if (typeof options !== "object") throw codedError("bad-argument", `spawnTrainer: options must be an object like { threads: 2 }, not ${typeof options}`);
  for (const key of Object.keys(options)) {
    if (key !== "threads" && key !== "simd") throw codedError("bad-argument", `spawnTrainer: unknown option "${key}" (the options are: threads, simd)`);
  }
  const { threads, simd } = options;
  if (threads !== undefined && !(Number.isInteger(threads) && threads >= 1 && threads <= 16)) {
    throw codedError("bad-argument", `spawnTrainer: threads must be an integer 1 … 16, not ${threads}`);
  }
  if (simd !== undefined && simd !== "auto" && simd !== "plain") {
    throw codedError("bad-argument", `spawnTrainer: simd must be "auto" or "plain", not ${JSON.stringify(simd)}`);
  }
  return { threads, simd };
}

/** A trainer in a new worker made by `makeWorker()`, its module loaded with `options`
 * (`{ threads, simd }`: the CPU engine's threads where the page is cross-origin isolated, one a
 * core, at most 8, by default; `simd: "plain"` for the SIMD128 builds even where relaxed SIMD
 * runs); its `free()`/`terminate()` end the worker. */
export async function spawnWith(makeWorker, config = {}, options = {}) {
  const loadOptions = spawnOptions(options);
  let worker;
  try {
    worker = makeWorker();
  } catch (e) {
    throw codedError("no-worker", `this browser cannot start the trainer's module worker: ${e && e.message ? e.message : e}`);
  }
  const client = new WorkerClient(worker);
  try {
    await client.send({ op: "init", args: [loadOptions] });
    return (await client.create(config))._own();
  } catch (e) {
    client.terminate();
    throw e;
  }
}
