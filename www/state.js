// The page's state, with one owner: every field is read through a getter and written only
// through the setters below (a module is strict code, so `page.trainer = t` elsewhere throws).
// app.js and the scheduler write; the panels get read-only views of the parts they need.
// Listeners registered with `onChange` hear every change (the buttons follow the phase).

/** The page's phases: what the visitor can do now. */
export const PHASES = ["starting", "ready", "training", "paused", "done", "lost"];

export class PageState {
  #phase = "starting";
  #gpuProblem = null; // why WebGPU is unusable here: { kind: "insecure" | "absent" | "adapter", detail }
  #trainer = null;
  #config = null; // the trainer's config, as JSON (a copy goes out; the text is the truth)
  #data = null; // { kind: "mnist" | "files", files: [Uint8Array × 4], label() }
  #lastRefresh = 0; // when the images were last redrawn (performance.now())
  #walkPair = Object.freeze([0, 1]); // the two test digits of the latent walk
  #kept = null; // { bytes, step, at }: the last checkpoint kept in memory, for a lost device
  #restored = null; // { step, bytes }: the checkpoint of a run continued from this browser's storage
  #pretrained = null; // pretrained/pretrained.json while the shipped model is shown
  #listeners = new Set();

  get phase() { return this.#phase; }
  get gpuProblem() { return this.#gpuProblem; }
  get trainer() { return this.#trainer; }
  /** A copy of the trainer's config (null without a trainer). */
  get config() { return this.#config === null ? null : JSON.parse(this.#config); }
  get data() { return this.#data; }
  get lastRefresh() { return this.#lastRefresh; }
  get walkPair() { return this.#walkPair; }
  get kept() { return this.#kept; }
  get restored() { return this.#restored; }
  get pretrained() { return this.#pretrained; }
  /** Whether training, starting or without a device: no new run, no engine switch. */
  get busy() { return ["training", "starting", "lost"].includes(this.#phase); }

  /** Calls `fn(field)` after every change; returns a function that stops it. */
  onChange(fn) {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  #changed(field) {
    for (const fn of this.#listeners) fn(field);
  }

  setPhase(phase) {
    if (!PHASES.includes(phase)) throw new RangeError(`unknown page phase "${phase}" (one of ${PHASES.join(", ")})`);
    this.#phase = phase;
    this.#changed("phase");
  }

  setGpuProblem(problem) {
    this.#gpuProblem = problem;
    this.#changed("gpuProblem");
  }

  /** The trainer now in hand and its config; the shipped model's info goes with the old one. */
  setTrainer(trainer, config) {
    if (!trainer) throw new TypeError("setTrainer needs a trainer");
    this.#trainer = trainer;
    this.#config = JSON.stringify(config);
    this.#pretrained = null;
    this.#changed("trainer");
  }

  /** A new learning rate applied to the trainer in hand. */
  setLr(lr) {
    if (this.#config === null) throw new Error("no trainer to set the learning rate of");
    this.#config = JSON.stringify({ ...JSON.parse(this.#config), lr });
    this.#changed("config");
  }

  setData(data) {
    if (!data || !Array.isArray(data.files) || data.files.length !== 4 || typeof data.label !== "function") {
      throw new TypeError("data needs four IDX files and a label()");
    }
    this.#data = data;
    this.#changed("data");
  }

  /** The shipped model's info while it is what the trainer holds (null once it is not). */
  setPretrained(info) {
    this.#pretrained = info;
    this.#changed("pretrained");
  }

  /** A checkpoint kept in memory at global step `step`. */
  keep(bytes, step) {
    this.#kept = Object.freeze({ bytes, step, at: performance.now() });
    this.#changed("kept");
  }

  /** The checkpoint kept now is the one a run from this browser's storage was restored to. */
  markRestored() {
    this.#restored = this.#kept && Object.freeze({ step: this.#kept.step, bytes: this.#kept.bytes });
    this.#changed("restored");
  }

  /** The images were redrawn just now. */
  markRefreshed() {
    this.#lastRefresh = performance.now();
  }

  /** The latent walk moves on to the next two test digits (of `count`). */
  advanceWalkPair(count) {
    const n = Math.max(2, count);
    this.#walkPair = Object.freeze(this.#walkPair.map((i) => (i + 2) % n));
    this.#changed("walkPair");
  }
}
