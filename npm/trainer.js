// The JS API over the wasm module's raw trainer: what a JS developer expects of it, whichever
// thread it runs on (the page's, or a worker's: host.js serves this same class to spawn.js).
//  - Calls are queued: they run in the order made, one at a time; none is refused as "busy".
//    A call that can never run rejects with the reason (`code` "freed" or "device-lost").
//  - Results are plain objects of numbers, strings and typed arrays (no handle to free):
//    `structuredClone`, `postMessage` and `JSON.stringify` (typed arrays aside) take them.
//  - Every rejection is an `Error` with a stable `code` (ERROR_CODES) beside its message.
//  - `fit(...)` trains in a loop until done or aborted; `free()` is idempotent and
//    `[Symbol.dispose]` frees, so `using` works.

/** What `error.code` can be (the wasm module's `errorCodes()` lists the same, plus "busy" of
 * the raw class, which this API never gives). */
export const ERROR_CODES = [
  "no-webgpu", "no-adapter", "device-lost", "gpu", "no-data", "internal", "bad-data", "bad-config",
  "bad-argument", "too-large", "bad-checkpoint", "io", "diverged", "freed", "no-worker",
  "interrupted",
];

/** The trainer's state the getters read (copied after every call, so they answer at any time,
 * even while a call is in flight or after `free()`). */
export const GETTERS = [
  "engine", "engineReason", "adapter", "adapterName", "gemmForm", "epochs", "input", "hidden",
  "latent", "imageSide", "stepsPerEpoch", "globalStep", "stepInEpoch", "epoch", "testCount",
  "deviceLost", "lastGoodStep", "lr", "klWeight", "variational", "reparameterize", "cpuThreads",
];

/** The calls, each queued and async, with the raw method each runs. */
export const METHODS = {
  train: "train", flush: "flush", evaluate: "evaluate", evaluateSome: "evaluateSome", reconstruct: "reconstruct", sample: "sample",
  latentWalk: "latentWalk", exportCheckpoint: "exportCheckpoint", exportAdam: "exportAdam", importCheckpoint: "importCheckpoint",
  resume: "resume", loadDataset: "loadDataset", testDigits: "testDigits", currentBatch: "currentBatch",
  encode: "encode", decode: "decode", reconstructionGradient: "reconstructionGradient", latentMeans: "latentMeans", latentMap: "latentMap", reset: "reset",
  profileStep: "profileStep", lastBatch: "lastBatch", stageKernels: "stageKernels",
  setKlWeight: "setKlWeight", setReparameterize: "setReparameterize", setLr: "setLearningRate",
  /** @deprecated the config's name is `lr`: use `setLr` */
  setLearningRate: "setLearningRate",
};

/** An `Error` with `code`. */
export function codedError(code, message) {
  const e = new Error(message);
  e.code = code;
  return e;
}

/** Any thrown value as an `Error` with a code: the module's errors carry theirs; a call on a
 * freed raw object or a wasm trap becomes "freed" or "internal". */
export function coded(e) {
  if (e instanceof Error && typeof e.code === "string") return e;
  const message = e instanceof Error ? e.message : String(e);
  if (/null pointer passed to rust|recursive use of an object/.test(message)) return codedError("freed", `the trainer was freed (${message})`);
  const err = codedError("internal", message);
  if (e instanceof Error && e.stack) err.stack = e.stack;
  return err;
}

/** A wasm-bindgen result object copied into a plain one (its getters read, then freed);
 * arrays of them likewise; typed arrays, strings and numbers as they are. */
export function plain(v) {
  if (Array.isArray(v)) return v.map(plain);
  if (v === null || typeof v !== "object" || ArrayBuffer.isView(v) || !("__wbg_ptr" in v)) return v;
  const out = {};
  for (let proto = Object.getPrototypeOf(v); proto && proto !== Object.prototype; proto = Object.getPrototypeOf(proto)) {
    for (const [key, d] of Object.entries(Object.getOwnPropertyDescriptors(proto))) {
      if (d.get && !(key in out)) out[key] = plain(v[key]);
    }
  }
  v.free();
  return out;
}

/** `n` as a whole number ≥ `min`, or an error naming `what`. */
function whole(what, n, min) {
  if (!Number.isInteger(n) || n < min) throw codedError("bad-argument", `fit: ${what} must be a whole number ≥ ${min}, got ${n}`);
  return n;
}

/** The calls of `trainers` (any iterable of Trainers; freed ones are left out) by name, summed:
 * `{ [name]: { count, ms } }` (each trainer's `callTimes()`). */
export function callTimesOf(trainers) {
  const sum = {};
  for (const t of trainers) {
    if (t.freed) continue;
    for (const [name, c] of Object.entries(t.callTimes())) {
      const s = (sum[name] ??= { count: 0, ms: 0 });
      s.count += c.count;
      s.ms += c.ms;
    }
  }
  return sum;
}

/** `train`'s `{ until }` as the function the wasm module asks after each step: a function as
 * it is, an Int32Array read with `Atomics.load` (non-zero: end the call), none: undefined. */
export function untilOf(options, shared = false) {
  if (options === undefined || options === null) return undefined;
  if (typeof options !== "object") throw codedError("bad-argument", "train: the second argument must be an options object ({ until })");
  const { until } = options;
  if (until === undefined || until === null) return undefined;
  if (typeof until === "function" && !shared) return until;
  if (until instanceof Int32Array && until.length >= 1 && (!shared || sharedMemory(until))) return () => Atomics.load(until, 0) !== 0;
  throw codedError(
    "bad-argument",
    shared
      ? "train: a trainer in a worker takes `until` as an Int32Array over a SharedArrayBuffer (a function or unshared memory cannot reach the worker; the page must be cross-origin isolated)"
      : "train: `until` must be a function or an Int32Array",
  );
}

/** Whether `a` (a typed array) lies in memory another thread sees. */
function sharedMemory(a) {
  return typeof SharedArrayBuffer === "function" && a.buffer instanceof SharedArrayBuffer;
}

/** How long one train call should keep the engine busy in `fit` (short, so abort is prompt). */
const FIT_CALL_MS = 60;

/** For a trainer in a worker where memory can be shared (the page cross-origin isolated):
 * a flag `signal`'s abort sets, for `train`'s `until`, so the call in flight ends at its next
 * step instead of running its course; `{ until, done }` (`done` forgets the listener), or
 * null where there is no signal or no shared memory. */
function abortFlag(signal) {
  if (!signal || typeof signal.addEventListener !== "function") return null;
  if (typeof SharedArrayBuffer !== "function" || !globalThis.crossOriginIsolated) return null;
  const until = new Int32Array(new SharedArrayBuffer(4));
  const set = () => Atomics.store(until, 0, 1);
  if (signal.aborted) set();
  signal.addEventListener("abort", set, { once: true });
  return { until, done: () => signal.removeEventListener("abort", set) };
}

/**
 * The training loop both the in-thread and the spawned trainer offer: trains until `epochs`
 * more epochs end, `steps` more steps are done, or the run's planned epochs are done (neither
 * given); stops after the call in flight when `signal` aborts — for a trainer in a worker
 * (`spawned`) on a cross-origin isolated page, within the step in flight (a shared flag as
 * `train`'s `until`). Calls `onStep` with each step's
 * `{ globalStep, epoch, reconstruction, kl }` (per sample) and `onEpochEnd` with
 * `{ epoch, globalStep, trainLoss, test }` (test: `evaluate()`'s result). Resolves with
 * `{ epoch, stepInEpoch, globalStep, steps, aborted, reconstruction, kl }`.
 */
export async function fitLoop(t, options = {}, spawned = false) {
  const flag = spawned && options ? abortFlag(options.signal) : null;
  try {
    return await fitCalls(t, options, flag ? { until: flag.until } : undefined);
  } finally {
    if (flag) flag.done();
  }
}

async function fitCalls(t, { epochs, steps, signal, onStep, onEpochEnd, recordFields } = {}, trainOptions) {
  if (epochs !== undefined) whole("epochs", epochs, 1);
  if (steps !== undefined) whole("steps", steps, 1);
  if (t.testCount === 0) throw codedError("no-data", "no dataset is loaded: call loadDataset before fit");
  const fields = recordFields || ["globalStep", "epoch", "reconstruction", "kl"];
  const start = t.globalStep;
  // Epochs already done: the one in progress counts once its last step is in.
  const completed = t.stepInEpoch === t.stepsPerEpoch ? t.epoch : Math.max(0, t.epoch - 1);
  let epochsLeft = epochs ?? (steps === undefined ? Math.max(0, t.epochs - completed) : Infinity);
  let stepsLeft = steps ?? Infinity;
  let perCall = 1;
  let last = { reconstruction: NaN, kl: NaN };
  let sum = 0, count = 0;
  const report = (stats) => {
    const r = stats.records;
    for (let i = 0; i + fields.length <= r.length; i += fields.length) {
      const rec = {};
      fields.forEach((f, j) => { rec[f] = r[i + j]; });
      // A pipelined engine reads back steps of earlier calls: only this fit's steps count.
      if (rec.globalStep <= start) continue;
      sum += rec.reconstruction + rec.kl;
      count += 1;
      if (onStep) onStep(rec);
    }
    if (Number.isFinite(stats.reconstruction)) last = stats;
  };
  while (epochsLeft > 0 && stepsLeft > 0 && !(signal && signal.aborted)) {
    const began = performance.now();
    const n = Math.max(1, Math.min(perCall, stepsLeft));
    const before = t.globalStep;
    const stats = await t.train(n, trainOptions); // stops early at an epoch's end (or an abort)
    stepsLeft -= stats.globalStep - before;
    report(stats);
    const ms = performance.now() - began;
    perCall = Math.max(1, Math.min(64, Math.round((perCall * FIT_CALL_MS) / Math.max(ms, 1)), perCall * 2));
    if (stats.epochFinished) {
      report(await t.flush());
      epochsLeft -= 1;
      const test = await t.evaluate();
      if (onEpochEnd) onEpochEnd({ epoch: stats.epoch, globalStep: t.globalStep, trainLoss: count ? sum / count : NaN, test });
      sum = count = 0;
    }
  }
  report(await t.flush());
  return {
    epoch: t.epoch, stepInEpoch: t.stepInEpoch, globalStep: t.globalStep, steps: t.globalStep - start,
    aborted: !!(signal && signal.aborted), reconstruction: last.reconstruction, kl: last.kl,
  };
}

/** How often a WebGPU trainer looks whether its device was lost while no call runs. */
const LOST_POLL_MS = 500;

/** The API classes over the wasm module `bindings` (its `Trainer`, `cpuThreads`, `default`
 * init): `{ Trainer }`. */
export function makeApi(bindings) {
  const Raw = bindings.Trainer;
  const TOKEN = Symbol("internal");

  class Trainer {
    #raw;
    #queue = Promise.resolve();
    #status;
    #freed = false;
    #lostReason = null;
    #onLost = [];
    #poll = null;
    #times = {};
    /** Resolves with `{ reason: "lost", message }` once the WebGPU device is lost (never on the
     * CPU engine), as `GPUDevice.lost` does. */
    lost;

    /** Builds the model from `config` (`TrainerConfig`: every field optional) on the engine it
     * asks for ("auto" by default). Loads the wasm module first if needed. */
    static async create(config = {}) {
      if (typeof bindings.default === "function") await bindings.default();
      let raw;
      try {
        raw = await Raw.create(config);
      } catch (e) {
        throw coded(e);
      }
      return new Trainer(TOKEN, raw);
    }

    /** A second trainer on the same WebGPU device as `other` (or on the CPU engine beside a
     * CPU trainer); waits for `other`'s queued calls first. */
    static async createBeside(other, config = {}) {
      if (!(other instanceof Trainer)) throw codedError("bad-argument", "createBeside: the first argument must be a Trainer");
      const raw = await other.#call("createBeside", (r) => Raw.createBeside(r, config), false);
      return new Trainer(TOKEN, raw);
    }

    constructor(token, raw) {
      if (token !== TOKEN) throw codedError("bad-argument", "use `await Trainer.create(config)` (or spawnTrainer) to make a trainer");
      this.#raw = raw;
      this.lost = new Promise((resolve) => this.#onLost.push(resolve));
      this.#snapshot();
      if (raw.engine === "webgpu") {
        this.#poll = setInterval(() => this.#checkLost(), LOST_POLL_MS);
      }
    }

    #snapshot() {
      if (this.#freed) return;
      const r = this.#raw, s = {};
      for (const g of GETTERS) {
        if (g === "lr") s.lr = r.learningRate;
        else if (g === "cpuThreads") s.cpuThreads = typeof bindings.cpuThreads === "function" ? bindings.cpuThreads() : 1;
        else s[g] = r[g];
      }
      this.#status = s;
      this.#checkLost();
    }

    #checkLost() {
      if (this.#lostReason !== null || this.#freed) return;
      const why = this.#raw.deviceLost;
      if (!why) return;
      this.#lostReason = why;
      this.#status = { ...this.#status, deviceLost: why };
      clearInterval(this.#poll);
      for (const f of this.#onLost.splice(0)) f({ reason: "lost", message: why });
    }

    /** Runs `fn(raw)` after every call made before it; its result made plain (unless `asIs`). */
    #call(name, fn, asPlain = true) {
      if (this.#freed) return Promise.reject(codedError("freed", `${name}: this trainer was freed`));
      const prev = this.#queue;
      const lost = this.lost.then(({ message }) => { throw codedError("device-lost", `${name}: the GPU device was lost: ${message}`); });
      const run = (async () => {
        await Promise.race([prev, lost]);
        if (this.#freed) throw codedError("freed", `${name}: this trainer was freed before the call ran`);
        const began = performance.now();
        try {
          const r = await Promise.race([fn(this.#raw), lost]);
          return asPlain ? plain(r) : r;
        } catch (e) {
          throw coded(e);
        } finally {
          const c = (this.#times[name] ??= { count: 0, ms: 0 });
          c.count += 1;
          c.ms += performance.now() - began;
          this.#snapshot();
        }
      })();
      this.#queue = run.catch(() => {});
      return run;
    }

    /** Trains until done or aborted (see `fitLoop`). */
    fit(options = {}) {
      return fitLoop(this, options);
    }

    /** The calls this trainer ran, by name: `{ [name]: { count, ms } }`, ms from when each
     * call began (its turn in the queue) to when it settled — where the trainer's time went,
     * e.g. training against the decodes a page's redraws asked for. A copy. */
    callTimes() {
      const out = {};
      for (const [name, c] of Object.entries(this.#times)) out[name] = { ...c };
      return out;
    }

    /** True when `other` trains on the same WebGPU device. */
    async sharesDeviceWith(other) {
      if (!(other instanceof Trainer) || this.#freed || other.#freed) return false;
      return this.#raw.sharesDeviceWith(other.#raw);
    }

    /** Frees the trainer once the call running now (if any) settles; calls still waiting and
     * every later call reject with code "freed". Safe to call twice. */
    free() {
      if (this.#freed) return;
      this.#freed = true;
      clearInterval(this.#poll);
      const raw = this.#raw;
      this.#queue.then(() => {
        try {
          raw.free();
        } catch {
          // a call that never settled (a lost device) keeps it: the garbage collector's then
        }
      });
    }

    /** The same as `free()`, for `using t = await Trainer.create(…)`. */
    [Symbol.dispose ?? Symbol.for("Symbol.dispose")]() {
      this.free();
    }

    /** True once `free()` was called. */
    get freed() {
      return this.#freed;
    }

    /** @deprecated the config's name is `lr` */
    get learningRate() {
      return this.#status.lr;
    }

    // The queued calls and the getters, from the lists above.
    static {
      for (const [name, raw] of Object.entries(METHODS)) {
        Object.defineProperty(Trainer.prototype, name, {
          value(...args) {
            if (name === "train") {
              let until;
              try {
                until = untilOf(args[1]);
              } catch (e) {
                return Promise.reject(e);
              }
              return this.#call(name, (r) => r.train(args[0], until));
            }
            return this.#call(name, (r) => r[raw](...args));
          },
          writable: true,
          configurable: true,
        });
      }
      for (const g of GETTERS) {
        Object.defineProperty(Trainer.prototype, g, {
          get() {
            return this.#status[g];
          },
          configurable: true,
        });
      }
    }
  }

  return { Trainer };
}
