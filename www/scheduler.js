// The training scheduler: one call at a time into the wasm Trainer (a queue), training in
// chunks of about TARGET_CALL_MS of GPU work, losses into the plot, the end of each epoch
// (evaluation, redraws), checkpoints kept in memory, and roll-backs after a divergence.
import { stepRecords } from "./plot.js";
import { t as tr } from "./i18n.js";
import { onScreen, watch, whenShown } from "./onscreen.js";

const TARGET_CALL_MS = 80; // GPU work per train() call: short enough that Pause and hovers act at once
// With the trainer in a worker, chunks are queued ahead (so the worker never waits for the page
// between chunks), and a hover may wait behind two: shorter chunks.
const TARGET_CALL_MS_WORKER = 25;
// Chunks in the worker behind the one whose answer is awaited (worker mode): on the CPU engine
// two, so the answer's trip to this thread and back never leaves the worker idle; on the WebGPU
// engine one (its chunks are long, and Pause waits for every chunk queued).
const AHEAD = { cpu: 2, webgpu: 1 };
// Where the page is cross-origin isolated the CPU engine's chunks in the worker end at the next
// step once any other call is queued (`train`'s `until`, a flag in shared memory): a hover or
// Pause waits at most three steps (the rest of the one running, one of each chunk queued behind
// it) whatever the chunks' length, so they are longer — each chunk's answer costs this thread
// ≈ 0.7 ms and the worker ≈ 0.4 ms between chunks (2 cores), 40 times a second at 25 ms.
const TARGET_CALL_MS_YIELDING = 100;
// On the WebGPU engine each call ends with a read-back the GPU waits through before the next
// call's steps: on a slow adapter (a software one: ≈ 0.2 s a step) one-step calls left it idle
// ≈ 17% of the time. The visitor's gestures do not wait for chunks there (quick.js answers them),
// so calls are longer: Pause waits at most about this much (twice with a chunk queued ahead).
const TARGET_CALL_MS_GPU = 600;
const REFRESH_MS = 2500; // how often images are redrawn while training (at most)
// The redraws' share of the trainer's time: a redraw that took longer than this share of
// REFRESH_MS (a slow adapter, every panel in view) spaces the next one out, up to REFRESH_MAX_MS.
const VIEW_SHARE = 0.05;
const REFRESH_MAX_MS = 10000;
const QUIET_MS = 2000; // no redraws while the user hovers or slides, so their decodes come first
const PLOT_MS = 250; // the loss plot is redrawn at most this often while training (this thread's budget)
// Each redraw of the plot and the progress makes the browser draw a frame, which costs the page's
// thread, its compositor and the GPU process: on a 2-core machine the threads beside the
// trainer's took 19.5–22% of one core more than with the trainer called directly at 4 redraws a
// second, 13.7–14.3% at 1.6 (tests/bench/threads.mjs, 30 s windows). Where the CPU engine's
// threads take every core that comes out of training, a share that shrinks with the cores: the
// redraws are spaced to PLOT_CORE_MS ÷ cores there (625 ms on 2 cores, 250 from 5 cores up).
const PLOT_CORE_MS = 1250;

/** How often (ms) the loss plot and the progress are redrawn at most while training, on
 * `engine` with `threads` CPU-engine threads on a machine of `cores` (navigator's
 * hardwareConcurrency): PLOT_MS, or PLOT_CORE_MS ÷ cores where the CPU engine's threads take
 * every core. */
export function plotInterval(engine, threads, cores) {
  if (engine !== "cpu" || !(cores >= 1) || !(threads >= cores)) return PLOT_MS;
  return Math.max(PLOT_MS, Math.round(PLOT_CORE_MS / cores));
}
const EVAL_BATCHES = 8; // test batches per evaluation call at an epoch's end (a hover waits at most one)
const KEEP_MS = 15000; // how often a checkpoint is kept in memory while training (device loss)
// The run is saved in the browser at every epoch's end (at most once every SAVE_MIN_MS: a fast
// GPU ends an MNIST epoch every second or two, the CPU engine every 6 s on 2 threads, and a save
// — Adam's state too, 7.85 MB — took 2% of the page's training at every epoch), on Pause, and
// SAVE_MS after the last save.
const SAVE_MS = 30000;
const SAVE_MIN_MS = 15000;

// Every call into the Trainer goes through this queue: the wasm object allows one call at a
// time, and Pause, Download or Load can come while a training chunk is in flight.
let queue = Promise.resolve();
// When the queue's last call is a training chunk: resolves once that chunk is posted.
let chunkPosted = null;
// The calls queued through `exclusive` and not yet begun, in shared memory (where the page is
// cross-origin isolated; else null): training chunks given it as `until` end at the next step
// while it is non-zero, so those calls wait a step, not the chunks queued before them.
let waiting = newWaiting();
function newWaiting() {
  const shared = globalThis.crossOriginIsolated && typeof SharedArrayBuffer === "function";
  return shared ? new Int32Array(new SharedArrayBuffer(4)) : null;
}

/** The flag for `train`'s `until` (null where memory cannot be shared with the worker). */
export function waitingFlag() {
  return waiting;
}

export function exclusive(fn) {
  chunkPosted = null;
  const flag = waiting;
  if (flag) Atomics.add(flag, 0, 1);
  const begin = () => {
    if (flag) Atomics.sub(flag, 0, 1);
    return fn();
  };
  const run = queue.then(begin, begin);
  queue = run.catch(() => {});
  return run;
}

/** A training chunk on a trainer in a worker (`t.train`): queued like `exclusive`, but posted as
 * soon as the call before it was posted when that call is a chunk too. The worker runs its
 * messages in order, so it holds the next chunk when one ends and trains on while this thread
 * is busy (drawing a frame, the plot) instead of idling until this thread has read one chunk's
 * answer and sent the next: chained through `exclusive`, every chunk's answer made that round
 * trip, and the worker sat idle 3–7% of the time (tests/bench/threads.mjs, 2 cores).
 * Anything queued through `exclusive` meanwhile waits for every chunk before it, as before. */
export function exclusiveChunk(fn) {
  let mark;
  const posted = new Promise((resolve) => (mark = resolve));
  const post = () => {
    mark();
    return fn();
  };
  const run = chunkPosted ? chunkPosted.then(post) : queue.then(post, post);
  queue = Promise.all([queue, run.catch(() => {})]).then(() => {});
  chunkPosted = posted;
  return run;
}

/** Forgets calls queued on a trainer that will never answer (its device is lost). */
export function resetQueue() {
  queue = Promise.resolve();
  chunkPosted = null;
  waiting = newWaiting(); // calls that will never begin must not hold chunks short
}

export class Scheduler {
  /**
   * @param page the page's state (state.js): the scheduler reads the trainer and the phase, and
   *   sets the phase ("done"), the kept checkpoint, the walk pair and the refresh time
   * @param panels { plot, explore, teach, history, compare }: what it redraws and feeds
   * @param view { message(text, kind), setButtons(), updateProgress(stats), refreshImages(),
   *   fields: the record layout (settings().recordFields), saving: whether autosave is on,
   *   worker: whether the trainer lives in a worker, teachLive(): whether the lessons redraw
   *   while training, saveRun(snapshot): saves a keepCheckpoint snapshot taken with Adam,
   *   quick: the CPU copy of quick.js, refreshed here while the WebGPU engine trains,
   *   where: { images, explore, map, teach, compare }: each view's element; while training only
   *   the views on screen are redrawn (onscreen.js), the others when they come into view }
   */
  constructor(page, panels, view) {
    this.page = page;
    this.panels = panels;
    this.view = view;
    this.stepsPerCall = 1;
    this.plotMs = PLOT_MS; // how often the plot is redrawn at most while training (plotInterval)
    this.perStep = Infinity; // ms a step, as the last chunk took (unknown before one)
    this.epochSum = 0;
    this.epochCount = 0;
    this.pending = []; // stats from a flush inside the loop, merged into the next call's
    this.refreshes = 0;
    this.savedAt = 0; // when the run was last saved in the browser (or began training)
    this.tickAt = 0; // when the views were last redrawn while training
    this.refreshMs = REFRESH_MS; // until the next redraw (spaced out by VIEW_SHARE)
    this.stale = new Set(); // views that missed a redraw while off screen
    this.behind = Promise.resolve(); // this thread's own work the trainer does not wait for
    this.due = false; // a stale view came into view: redraw after this chunk
    this.held = null; // the waiting flag raised by stopSoon (until run() lets go)
    watch(...Object.values(view.where));
    whenShown(() => {
      if (!this.stale.size) return;
      if (this.page.phase === "training") this.due = true;
      else this.drawStale();
    });
  }

  /** Each view's redraw, by the names of `view.where`. */
  views() {
    const { panels, view } = this;
    return {
      images: () => view.refreshImages(),
      explore: () => panels.explore.refresh(),
      map: () => panels.explore.refreshMap(),
      teach: () => panels.teach.refresh(),
      compare: () => panels.compare.refresh(),
    };
  }

  /** Redraws view `name` if the visitor can see it (or `always`), else marks it stale: it is
   * redrawn when it comes into view. */
  async redraw(name, always = false) {
    if (!always && !onScreen(this.view.where[name])) {
      this.stale.add(name);
      return;
    }
    this.stale.delete(name);
    await this.views()[name]();
  }

  /** Not training: the stale views that are now on screen are redrawn at once. */
  async drawStale() {
    try {
      for (const name of [...this.stale]) await this.redraw(name);
    } catch (e) {
      console.warn(`a view could not be redrawn: ${e && e.message ? e.message : e}`);
    }
  }

  /** Redraws the loss plot and the progress soon: at most once every `plotMs` while training
   * (plotInterval), so drawing (and the layout and frames it makes the browser do) costs the
   * training threads little. */
  plotSoon() {
    if (this.plotTimer) return;
    const wait = Math.max(0, (this.plotAt || 0) + this.plotMs - performance.now());
    this.plotTimer = setTimeout(() => {
      this.plotTimer = null;
      this.plotAt = performance.now();
      this.panels.plot.draw();
      this.showProgress();
    }, wait);
  }

  /** The progress of the latest stats absorbed, on the page. */
  showProgress() {
    if (!this.progress) return;
    this.view.updateProgress(this.progress);
    this.progress = null;
  }

  /** A new model: the running means and the chunk size start over. */
  restart() {
    this.stale.clear();
    this.epochSum = 0;
    this.epochCount = 0;
    this.stepsPerCall = 1;
    this.perStep = Infinity;
  }

  absorbLater(stats) {
    this.pending.push(stats);
  }

  absorb(stats) {
    for (const p of this.pending.splice(0)) this.absorbOne(p);
    this.absorbOne(stats);
  }

  absorbOne(stats) {
    const steps = stepRecords(stats, this.view.fields);
    this.panels.plot.addSteps(steps);
    this.panels.compare.addVaeSteps(steps);
    for (const r of steps) {
      this.epochSum += r.reconstruction + r.kl;
      this.epochCount += 1;
    }
    // Shown with the plot's next redraw (plotSoon), or at once when nothing trains.
    this.progress = stats;
    if (this.page.phase !== "training") this.showProgress();
  }

  /** Training was rolled back to `step` (a divergence restores the last good state): the plot
   * and the epoch's running mean forget the steps after it. */
  forgetAfter(step) {
    for (const [, r, k] of this.panels.plot.truncate(step)) {
      this.epochSum -= r + k;
      this.epochCount -= 1;
    }
    if (this.epochCount <= 0) this.epochSum = this.epochCount = 0;
    this.panels.plot.draw();
    const t = this.page.trainer;
    this.view.updateProgress({ epoch: t.epoch, stepInEpoch: t.stepInEpoch, reconstruction: NaN });
  }

  /** A checkpoint kept in memory (at most every KEEP_MS, at epoch ends and on pause), so a lost
   * device costs at most that much training. Every step is read back first: a divergence
   * surfaces here (and rolls back) instead of being kept. With `adam`, Adam's state of the same
   * step too (for a save). Returns `{ bytes, adam, position }`. */
  async keepCheckpoint(t = this.page.trainer, adam = false) {
    this.absorb(await exclusive(() => t.flush()));
    const snap = await exclusive(async () => ({
      bytes: await t.exportCheckpoint(),
      adam: adam ? await t.exportAdam() : null,
      position: { epoch: t.epoch, stepInEpoch: t.stepInEpoch, globalStep: t.globalStep },
    }));
    this.page.keep(snap.bytes, snap.position.globalStep);
    return snap;
  }

  /** The CPU copy that answers the visitor's gestures while the WebGPU engine trains (quick.js)
   * takes the trainer's parameters as they stand. A copy that cannot be refreshed is dropped
   * (the gestures then queue on the trainer); a diverging run is caught by the next read-back. */
  async refreshQuick(t) {
    try {
      const bytes = await exclusive(() => t.exportCheckpoint());
      await this.view.quick.load(t, bytes);
    } catch {
      this.view.quick.drop();
    }
  }

  /** Whether the run is due to be saved in the browser (SAVE_MS since the last save). */
  saveDue() {
    return this.view.saving && performance.now() - this.savedAt > SAVE_MS;
  }

  /** Runs `work` on this thread after the work queued before it, without the trainer waiting:
   * it goes on training while the page writes a save or draws an epoch's PNGs. A failure is
   * reported in the console, never stops training. Returns the queue's end (`settled`). */
  later(work) {
    this.behind = this.behind.then(work).catch((e) => console.warn(`the page's work beside training failed: ${e && e.message ? e.message : e}`));
    return this.behind;
  }

  /** When the work queued by `later` is done. */
  settled() {
    return this.behind;
  }

  /** Saves a snapshot kept with Adam's state (one without is not a save) behind training
   * (`later`: the snapshot is in hand, the page's thread writes it). Returns when it is saved. */
  save(snap) {
    if (!snap.adam) return this.settled();
    this.savedAt = performance.now();
    return this.later(() => this.view.saveRun(snap));
  }

  /** The running mean of the epoch in progress, from the plot (a run continued mid-epoch). */
  resumeEpochMean(firstStepOfEpoch) {
    const mine = this.panels.plot.steps.filter((p) => p[0] >= firstStepOfEpoch);
    this.epochSum = mine.reduce((s, p) => s + p[1] + p[2], 0);
    this.epochCount = mine.length;
  }

  async endOfEpoch(stats) {
    const { page, panels, view } = this;
    const t = page.trainer;
    this.absorb(await exclusive(() => t.flush()));
    const last = stats.epoch >= t.epochs; // the finished run is always saved
    const saving = view.saving && (last || performance.now() - this.savedAt >= SAVE_MIN_MS);
    const snap = await this.keepCheckpoint(t, saving);
    view.message(() => tr("msg.epochEval", stats.epoch));
    // The test set in parts, so a hover or a drawn digit waits for one part, not all of it.
    let ev;
    do {
      await panels.explore.yield();
      ev = await exclusive(() => t.evaluateSome(EVAL_BATCHES));
    } while (!ev.done);
    const trainMean = this.epochCount ? this.epochSum / this.epochCount : NaN;
    panels.plot.addEpoch(t.globalStep, trainMean, ev.loss);
    this.epochSum = 0;
    this.epochCount = 0;
    view.showTestLoss(ev.loss);
    this.save(snap); // with the epoch's test loss in its plot
    page.advanceWalkPair(t.testCount);
    // The views on screen (all of them once the run is finished: nothing redraws them later).
    for (const name of ["images", "explore", "map", "teach"]) await this.redraw(name, last);
    this.tickAt = performance.now(); // the next periodic redraw comes refreshMs after these
    const taken = await panels.history.take(stats.epoch);
    if (taken) this.later(() => panels.history.add(stats.epoch, taken));
    await panels.compare.endOfEpoch(ev);
    this.plotSoon();
    // The finished run: its save and its history entry are in before it is called done.
    if (last) await this.settled();
    const [train, test] = [view.fmt(trainMean), view.fmt(ev.loss)];
    view.message(() => tr("msg.epochDone", stats.epoch, train, test));
  }

  /** Whether a redraw or a kept checkpoint is due after the chunk that returned `stats` (the
   * trainer is needed). */
  somethingDue(stats) {
    const page = this.page;
    return performance.now() - page.kept.at > KEEP_MS || this.saveDue() || this.due || this.tickDue(stats);
  }

  /** Trains while `page.phase` is "training"; on Pause reads back what is in flight. */
  async run() {
    const { page, panels, view } = this;
    const t = page.trainer;
    const worker = view.worker;
    this.release(); // a Pause that came after the last run read its chunks in
    // Chunks that end early once another call waits (see TARGET_CALL_MS_YIELDING).
    const yielding = worker && t.engine === "cpu" && waitingFlag() !== null;
    const target = t.engine === "webgpu" ? TARGET_CALL_MS_GPU : yielding ? TARGET_CALL_MS_YIELDING : worker ? TARGET_CALL_MS_WORKER : TARGET_CALL_MS;
    const train = (steps) => (yielding ? t.train(steps, { until: waitingFlag() }) : t.train(steps));
    let lastStep = t.globalStep; // steps a chunk took: the difference (it may end early)
    this.plotMs = plotInterval(t.engine, t.cpuThreads, globalThis.navigator?.hardwareConcurrency);
    // In worker mode: chunks queued ahead, oldest first. When a chunk's answer comes, the
    // worker is already running the next one and one more is queued behind it, so it goes from
    // chunk to chunk without waiting for this thread (which may be drawing a frame when the
    // answer arrives). A chunk never runs past the epoch's end: that end is evaluated first.
    const ahead = []; // { call, steps, at }
    let failure = null;
    let answered = performance.now(); // when the last chunk's answer came
    this.savedAt = performance.now(); // the first save comes SAVE_MS in (or at an epoch's end)
    this.tickAt = performance.now();
    try {
      while (page.phase === "training") {
        // Interactive decodes (hovering the map, the slider) go first: hold training back until
        // they are done, so they wait behind at most the chunks already queued.
        await panels.explore.yield();
        // (Not while a CPU copy answers them: quick.js.)
        const engaged = !view.quick.active && panels.explore.recentlyUsed(QUIET_MS);
        const queued = worker ? exclusiveChunk : exclusive;
        const head = ahead.shift() ?? { call: queued(() => train(engaged ? 1 : this.stepsPerCall)), steps: engaged ? 1 : this.stepsPerCall, at: performance.now() };
        const stats = await head.call;
        const took = Math.max(1, stats.globalStep - lastStep);
        lastStep = stats.globalStep;
        // The worker began this chunk when it was posted or when the one before it ended.
        const started = Math.max(head.at, answered);
        answered = performance.now();
        if (worker && !engaged && !panels.compare.twin && page.phase === "training" && !this.somethingDue(stats)) {
          let left = stats.stepsPerEpoch - stats.stepInEpoch - ahead.reduce((n, c) => n + c.steps, 0);
          while (ahead.length < (AHEAD[t.engine] ?? 1) && left > 0) {
            const next = Math.min(this.stepsPerCall, left);
            const call = exclusiveChunk(() => train(next));
            call.catch(() => {}); // awaited (and its error met) in turn
            ahead.push({ call, steps: next, at: performance.now() });
            left -= next;
          }
        }
        await this.chunkDone(stats, took, started, engaged, target);
        if (page.phase !== "training") break;
        if (!worker) await new Promise((r) => setTimeout(r, 0));
      }
    } catch (e) {
      failure = e;
    }
    // Chunks queued ahead are read in: Pause (or an error) leaves nothing unaccounted for.
    for (const c of ahead) {
      try {
        this.absorb(await c.call);
      } catch (e) {
        failure ??= e;
      }
    }
    this.release();
    await this.settled(); // a save or an epoch's PNGs still being made
    if (failure) throw failure;
    if (page.phase === "paused") {
      this.absorb(await exclusive(() => t.flush()));
      await panels.compare.flushTwin();
      await this.save(await this.keepCheckpoint(t, view.saving));
      const step = t.globalStep;
      view.message(() => tr("msg.paused", step));
      await this.drawStale(); // a view that came into view since the last redraw
    }
    panels.plot.draw();
    view.setButtons();
  }

  /** Pause: chunks in flight end at their next step (where they take `until`; run() lets go
   * once they are read in). */
  stopSoon() {
    if (this.held || !waiting) return;
    this.held = waiting;
    Atomics.add(this.held, 0, 1);
  }

  release() {
    if (this.held) Atomics.sub(this.held, 0, 1);
    this.held = null;
  }

  /** One chunk's results: the autoencoder's share, the chunk size for the next, the plot, and
   * the end of an epoch, a kept checkpoint or a redraw when due. */
  async chunkDone(stats, steps, started, engaged, target) {
    const { page, panels, view } = this;
    const t = page.trainer;
    {
      // An autoencoder beside the VAE takes the same steps (same epochs, in lockstep).
      await panels.compare.trainTwin(steps);
      // While the user explores, keep nothing queued on the GPU behind their decodes: wait for
      // this step too (one step is the smallest unit of GPU work that can be in the way).
      if (engaged) this.absorbLater(await exclusive(() => t.flush()));
      // Both models' work counts when an autoencoder trains beside the VAE.
      const ms = (performance.now() - started) / (panels.compare.twin ? 2 : 1);
      // Aim each call at `target` ms of work, from what this chunk's steps took each (a chunk
      // of one step while the visitor explores says as much as a full one: never scale a
      // one-step chunk's time as if it were stepsPerCall steps).
      const perStep = Math.max(ms, 1) / Math.max(1, steps);
      this.perStep = perStep;
      const scaled = Math.round(target / perStep);
      this.stepsPerCall = Math.max(1, Math.min(32, scaled, this.stepsPerCall * 2));
      this.absorb(stats);
      this.plotSoon();
      if (view.quick.due()) await this.refreshQuick(t);
      if (stats.epochFinished) {
        await this.endOfEpoch(stats);
        if (stats.epoch >= t.epochs) {
          page.setPhase("done");
          const epochs = t.epochs;
          view.message(() => tr("msg.finished", epochs), "ok");
          return;
        }
      } else if (performance.now() - page.kept.at > KEEP_MS || this.saveDue()) {
        this.save(await this.keepCheckpoint(t, this.saveDue()));
      } else if ((this.due || this.tickDue(stats)) && (view.quick.active || !panels.explore.recentlyUsed(QUIET_MS))) {
        try {
          await this.tick();
        } catch (e) {
          // Decodes of a model that is diverging (not yet read back) fail on non-finite values:
          // read the steps back, so the real cause is what stops training and is reported.
          this.absorb(await exclusive(() => t.flush()));
          throw e;
        }
      }
    }
  }

  /** Whether the periodic redraw is due after a chunk: refreshMs since the last redraw, unless
   * the epoch's end (which redraws the views in view anyway) is less than half that away at
   * the last chunk's time a step — on the CPU engine an epoch ends every 5–6 s, and a redraw
   * just before it cost the trainer a second redraw's decodes and waits for little new. */
  tickDue(stats) {
    if (performance.now() - this.tickAt <= this.refreshMs) return false;
    const left = (stats.stepsPerEpoch - stats.stepInEpoch) * this.perStep;
    return !(left < this.refreshMs / 2);
  }

  /** The redraws while training: the views on screen (and stale ones come into view), a hover
   * or a drawn digit first between them (explore.yield). The next comes REFRESH_MS later, or
   * later still where this one took more than VIEW_SHARE of that. */
  async tick() {
    const { panels, view } = this;
    const t0 = performance.now();
    this.due = false;
    await this.redraw("images");
    await panels.explore.yield();
    await this.redraw("explore");
    // The lessons redraw while training unless the visitor turned that off.
    if (view.teachLive()) {
      await panels.explore.yield();
      await this.redraw("teach");
      await panels.explore.yield();
      if (this.refreshes % 2 === 0 || this.stale.has("compare")) await this.redraw("compare");
      else panels.compare.draw();
    }
    this.refreshes += 1;
    if (this.refreshes % 12 === 0 || this.stale.has("map")) {
      await panels.explore.yield();
      await this.redraw("map");
    }
    const took = performance.now() - t0;
    this.tickAt = performance.now();
    this.refreshMs = Math.min(REFRESH_MAX_MS, Math.max(REFRESH_MS, took / VIEW_SHARE));
  }
}
