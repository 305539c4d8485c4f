// Quick answers to the visitor's own gestures while the WebGPU engine trains: a hover's decode
// on the latent map, a drawn digit's encoding, the interpolation slider. On a GPU that is slow
// per step (a software adapter takes 0.1–0.3 s a step here) such a request, queued behind the
// training chunk in flight, waits for it. Here it goes instead to a copy of the model on the CPU
// engine, in the same worker but outside the trainer's queue (a decode is 0.3 MFLOP: well under
// a millisecond), refreshed from the training model every SYNC_MS. The copy answers for the
// model as it stood at its last refresh, at most SYNC_MS old like the images redrawn beside it;
// when training stops the requests go to the trainer itself again, so what is shown at rest is
// exact. The CPU engine needs no copy: its requests wait at most one short chunk.

const SYNC_MS = 2500;

export class QuickCopy {
  #host;
  #page;
  #copy = null; // a CPU-engine trainer holding the trainer's parameters
  #of = null; // the trainer it copies
  #syncedAt = -Infinity;
  /** How many requests the copy answered (the tests read it). */
  answered = 0;

  /** `host` makes trainers (trainers.js); `page` is the page's state (state.js). */
  constructor(host, page) {
    this.#host = host;
    this.#page = page;
    page.onChange((field) => {
      if (field === "trainer") this.drop();
    });
  }

  /** Whether the visitor's requests go to the copy now: the WebGPU engine trains and the copy
   * holds its model. */
  get active() {
    return this.#copy !== null && this.#of === this.#page.trainer && this.#page.phase === "training";
  }

  /** When the copy was last refreshed (performance.now()), or -Infinity. */
  get syncedAt() {
    return this.#syncedAt;
  }

  /** Whether the trainer in hand wants a refreshed copy (it is on the WebGPU engine and the copy
   * is SYNC_MS old or missing). */
  due() {
    const t = this.#page.trainer;
    return Boolean(t) && t.engine === "webgpu" && performance.now() - this.#syncedAt > SYNC_MS;
  }

  /** Loads `bytes`, a checkpoint of trainer `t` (the one in hand), into the copy; makes the copy
   * on first use. */
  async load(t, bytes) {
    if (!t || t.engine !== "webgpu" || t !== this.#page.trainer) return;
    if (this.#of !== t) {
      this.drop();
      const copy = await this.#host.create({
        engine: "cpu",
        input: t.input,
        hidden: t.hidden,
        latent: t.latent,
        variational: t.variational,
        batchSize: 16,
      });
      if (t !== this.#page.trainer || this.#copy !== null) {
        copy.free(); // the trainer changed meanwhile, or another load made one first
        return;
      }
      this.#copy = copy;
      this.#of = t;
    }
    const copy = this.#copy;
    await copy.importCheckpoint(bytes);
    if (copy === this.#copy) this.#syncedAt = performance.now();
  }

  /** `{ mu, logVar }` of `pixels` under the copy. */
  encode(pixels) {
    this.answered += 1;
    return this.#copy.encode(pixels);
  }

  /** The images decoded from the latent vectors `z` under the copy. */
  decode(z) {
    this.answered += 1;
    return this.#copy.decode(z);
  }

  /** Frees the copy (a new trainer, or none wanted). */
  drop() {
    if (this.#copy) this.#copy.free();
    this.#copy = null;
    this.#of = null;
    this.#syncedAt = -Infinity;
  }
}
