// The page: owns its state, wires the DOM, and hands the work to modules with one job each —
// boot.js (the wasm module: drawing here, the trainer's build in its worker), trainers.js (where
// the trainers live: a Worker, so this thread only draws and listens), data.js (MNIST and dropped files), form.js (settings built from the
// engine's defaults and limits), scheduler.js (training in chunks), plot.js (the loss plot),
// explore.js (the Explore view), lost.js (device loss) and autosave.js (the run kept in this
// browser across a closed tab). Tests read the page through the one small debug object
// `window.vaePage`.
import { loadDrawing } from "./boot.js";
import { startTrainers } from "./trainers.js";
import { QuickCopy } from "./quick.js";
import { loadMnist, readIdxFiles, MAX_FILE_BYTES } from "./data.js";
import { buildForm, readConfig, writeConfig, setFormDisabled } from "./form.js";
import { LossPlot } from "./plot.js";
import { Explore } from "./explore.js";
import { Teach } from "./teach.js";
import { Compare } from "./compare.js";
import { Structure } from "./structure.js";
import { History } from "./history.js";
import { LostPanel, saveBytes } from "./lost.js";
import { Scheduler, exclusive, resetQueue } from "./scheduler.js";
import { Autosave } from "./autosave.js";
import { PageState } from "./state.js";
import { t as tr, chooseLang, setLang, currentLang, onLangChange } from "./i18n.js";
import { $ } from "./dom.js";


// The page's state, one owner (state.js: getters, and setters app.js and the scheduler call).
const page = new PageState();
// The parts, made once: the loss plot, the run kept in this browser, and (at boot) the drawing
// functions, the settings and where the trainers live; the panels are made in wire().
const plot = new LossPlot($("plot"));
const autosave = new Autosave(); // opened in main
let wasm = null; // the drawing functions (the SIMD128 build on this thread)
let host = null; // trainers.js: where trainers are made (a worker, or this thread)
let settings = null; // the engine's defaults and limits (settings())
let pill = null; // the engine pill's text in the current language
let movingToGpu = false; // the shipped model moving to WebGPU at boot (moveToGpu): Train waits
const panels = { plot, explore: null, teach: null, compare: null, structure: null, history: null };
/** Whether the Teach panels redraw while training (else at epoch ends only). */
const teachLive = () => $("teach-live").checked;

let lastMessage = { render: () => "", kind: "info" };
/** Shows a message; `text` is a string or a function giving it (re-run when the language
 * changes). */
function message(text, kind = "info") {
  const render = typeof text === "function" ? text : () => text;
  lastMessage = { render, kind };
  const m = $("message");
  m.textContent = render();
  m.className = `message ${kind}`;
}

function setButtons() {
  const s = page.phase;
  const haveModel = !!page.trainer && !!page.data && s !== "lost";
  // Nothing trains on the test set standing in while MNIST's training set streams in, nor
  // while the shipped model moves to WebGPU at boot (moveToGpu).
  const partial = (!!page.data && !!page.data.partial) || movingToGpu;
  $("train").disabled = !(haveModel || page.data) || page.busy || partial;
  $("train").dataset.i18n = page.pretrained ? "btn.trainOwn" : "btn.train";
  $("train").textContent = tr($("train").dataset.i18n);
  $("resume").disabled = s !== "paused";
  $("pause").disabled = s !== "training";
  $("reset").disabled = !haveModel || s === "training" || s === "starting" || partial;
  $("download").disabled = !haveModel || s === "starting";
  $("load").disabled = !haveModel || s === "training" || s === "starting";
  $("load-label").classList.toggle("disabled", $("load").disabled);
  $("compare-start").disabled = !page.data || !page.trainer || page.busy || partial;
  $("compare-notrick").disabled = $("compare-start").disabled;
  $("engine").disabled = page.busy || movingToGpu;
  $("compare-stop").disabled = s === "training";
  $("saved-continue").disabled = page.busy || movingToGpu;
  setFormDisabled(s === "training" || s === "lost");
}

/** Sets progress bar `name` (data, epoch, overall) to `pct` percent, for eyes and screen readers. */
function setBar(name, pct) {
  const p = Math.max(0, Math.min(100, pct));
  $(`${name}-bar`).style.transform = `scaleX(${p / 100})`;
  $(`${name}-progress`).setAttribute("aria-valuenow", String(Math.round(p)));
}

function fmt(v, digits = 2) {
  return Number.isFinite(v) ? v.toFixed(digits) : "–";
}

function updateProgress(stats) {
  const t = page.trainer;
  if (!t) return;
  const epochs = t.epochs, spe = t.stepsPerEpoch || 1;
  const epoch = stats ? stats.epoch : t.epoch;
  const inEpoch = stats ? stats.stepInEpoch : 0;
  const doneSteps = stats ? (epoch - 1) * spe + inEpoch : 0;
  $("epoch-text").textContent = epoch ? `${epoch} / ${epochs}` : `0 / ${epochs}`;
  setBar("epoch", (100 * inEpoch) / spe);
  const overall = (100 * Math.max(0, doneSteps)) / (epochs * spe);
  $("overall-text").textContent = `${Math.round(overall)}%`;
  setBar("overall", overall);
  $("step").textContent = String(t.globalStep);
  if (stats && Number.isFinite(stats.reconstruction)) {
    $("recon").textContent = fmt(stats.reconstruction);
    $("kl").textContent = fmt(stats.kl);
    $("loss").textContent = fmt(stats.reconstruction + stats.kl);
  }
  if (stats && stats.samplesPerSec > 0) $("rate").textContent = Math.round(stats.samplesPerSec).toLocaleString();
}

async function drawImages() {
  const t = page.trainer;
  const side = t.imageSide;
  const n = Math.min(8, t.testCount);
  const [a, b] = page.walkPair;
  // The three calls go to the trainer at once (a worker runs them back to back instead of
  // waiting for this thread to draw each answer first), and the three are drawn together: one
  // frame for the browser to draw, not one per answer.
  const walked = t.testCount > Math.max(a, b);
  const [recon, samples, walk] = await Promise.all([t.reconstruct(n), t.sample(64, 7), walked ? t.latentWalk(a, b, 10) : null]);
  wasm.drawGrid($("recon-canvas"), recon, side, n);
  wasm.drawGrid($("samples-canvas"), samples, side, 8);
  if (walk) {
    wasm.drawGrid($("walk-canvas"), walk, side, 10);
    $("walk-caption").textContent = tr("walk.caption", a, b);
  }
  page.markRefreshed();
}

/** Whether `shipped` (fetchShipped's result) is a model the form's settings can import. */
function fitsForm(shipped) {
  if (shipped instanceof Error) return false;
  const config = readConfig(settings);
  return shipped.info.config.hidden === config.hidden && shipped.info.config.latent === config.latent;
}

/** Loads the model shipped with the page (`shipped`: fetchShipped("pretrained")'s result, or
 * why there is none), so Explore means something before any training. Without it (or with
 * other settings) the page is ready as before. `pictured()` is called once the first picture
 * is drawn (before the lessons that follow). */
async function showPretrained(shipped, pictured = () => {}, interim = null) {
  let info;
  try {
    if (shipped instanceof Error) throw shipped;
    info = shipped.info;
    if (!fitsForm(shipped)) throw new Error("other settings");
    await exclusive(() => page.trainer.importCheckpoint(shipped.bytes));
  } catch (e) {
    console.info(`no pretrained model: ${e && e.message ? e.message : e}`);
    // A model built for it (not drawn then) is what the page shows now.
    if (fitsForm(shipped)) {
      await refreshImages();
      await drawModelViews();
    }
    message(() => tr("msg.ready"));
    return;
  }
  page.setPretrained(info);
  // Its run as the CLI recorded it: train and test loss per epoch.
  // Its own run's steps per epoch (the trainer may hold the test set alone while MNIST's
  // training set streams in).
  const spe = info.stepsPerEpoch ?? page.trainer.stepsPerEpoch;
  for (const h of info.history) plot.addEpoch(h.epoch * spe, h.trainLoss, h.testLoss);
  plot.draw();
  await refreshImages();
  await panels.explore.refresh();
  await panels.explore.refreshMap();
  // The batch lessons and the history read the training set: once it is in (whole MNIST).
  if (!page.data.partial) await shipTrainingViews();
  const loss = info.testLoss.toFixed(2);
  message(interim ?? (() => tr("msg.pretrained", info.epochs, loss)));
  pictured();
  // Until then, Teach shows this model on the test set (after the first picture).
  if (page.data.partial) await panels.teach.refresh();
}

// The models shipped beside the 20-D one (pretrained/ae.json, pretrained/vae2d.json): Q5's
// autoencoder and Q4's 2-D VAE, shown while the shipped model is: { ae, vae2d }: { trainer, info }.
const companions = {};

/** Loads a shipped model's record and its checkpoint: the f16 display copy where there is one
 * (half the bytes; within 0.5% of the recorded test loss, tests/pretrained.rs). */
async function fetchShipped(name) {
  const res = await fetch(`pretrained/${name}.json`);
  if (!res.ok) throw new Error(`${name}.json: HTTP ${res.status}`);
  const info = await res.json();
  const path = info.displayFile ?? info.file;
  const file = await fetch(`pretrained/${path}`);
  if (!file.ok) throw new Error(`${path}: HTTP ${file.status}`);
  return { info, bytes: new Uint8Array(await file.arrayBuffer()) };
}

/** Builds a shipped companion beside the model in hand (same device), from its record. */
async function buildCompanion(name, withData) {
  const { info, bytes } = await fetchShipped(name);
  const c = info.config;
  const config = { epochs: info.epochs, batchSize: c.batchSize, lr: c.lr, hidden: c.hidden, latent: c.latent, seed: c.seed, variational: c.variational ?? true };
  const t = await exclusive(() => host.createBeside(page.trainer, config));
  try {
    if (withData) await exclusive(() => t.loadDataset(...page.data.files));
    await exclusive(() => t.importCheckpoint(bytes));
  } catch (e) {
    t.free();
    throw e;
  }
  return { trainer: t, info };
}

/** Shows the shipped autoencoder beside the shipped VAE (Q5) and the shipped 2-D VAE's grid
 * (Q4), without training. Each is optional: without it, its panel waits for a run. */
async function showCompanions() {
  const shown = page.pretrained;
  if (!shown) return;
  dropCompanions();
  try {
    const ae = await buildCompanion("ae", true);
    if (page.pretrained !== shown) return ae.trainer.free(); // a run started meanwhile
    $("compare").hidden = false;
    await panels.compare.showShipped(ae.trainer, "ae", ae.info, shown);
  } catch (e) {
    console.info(`no shipped autoencoder: ${e && e.message ? e.message : e}`);
  }
  try {
    const vae2d = await buildCompanion("vae2d", false);
    if (page.pretrained !== shown) return vae2d.trainer.free();
    companions.vae2d = vae2d;
    await panels.teach.drawManifold();
  } catch (e) {
    console.info(`no shipped 2-D VAE: ${e && e.message ? e.message : e}`);
  }
}

/** Frees the shipped 2-D VAE (the autoencoder goes with the comparison it is shown in). */
function dropCompanions() {
  if (companions.vae2d) companions.vae2d.trainer.free();
  companions.vae2d = null;
}

/** The shipped model's lessons and history that read training batches. */
async function shipTrainingViews() {
  await panels.teach.refresh();
  if (page.pretrained) await panels.history.record(page.pretrained.epochs, true);
}

/** MNIST's training set, loading (or loaded): what `Train` and a continued run wait for. */
let mnistAll = null;

/** The whole of MNIST (the load started at boot, or a new one). */
function wholeMnist() {
  mnistAll ??= loadMnist(settings, (f) => setBar("data", 100 * f)).all;
  return mnistAll;
}

/** Whether MNIST's training set is still on its way (or its views still drawing). */
let streaming = true;

/** MNIST's training set is in: the trainer in hand gets it (its model stays) in the same queued
 * call that makes it the page's data (so no other call sees one without the other), Train
 * opens, and the views that read training batches are drawn. Nothing happens if other data came
 * meanwhile (the visitor's files, a continued run's). */
async function completeMnist(all) {
  try {
    const partial = page.data;
    if (!partial || !partial.partial) return;
    const taken = await exclusive(async () => {
      if (page.data !== partial) return false;
      if (page.trainer) await page.trainer.loadDataset(...all.files);
      page.setData(all);
      return true;
    });
    if (!taken) return;
    showDataLabel();
    setButtons();
    if (page.trainer) await shipTrainingViews();
  } finally {
    streaming = false;
  }
}

/** Redraws the images once interactive decodes are done (they go first). */
async function refreshImages() {
  await panels.explore.yield();
  return exclusive(drawImages);
}

// While the WebGPU engine trains, a CPU copy of the model answers hovers and drawings (quick.js).
const quick = new QuickCopy({ create: (config) => host.create(config) }, page);

const scheduler = new Scheduler(page, panels, {
  message,
  setButtons,
  updateProgress,
  refreshImages,
  fmt,
  showTestLoss: (loss) => { $("test").textContent = fmt(loss); },
  get fields() { return settings.recordFields; },
  get saving() { return autosave.on; },
  get worker() { return !!host && host.mode === "worker"; },
  teachLive,
  saveRun,
  quick,
  where: {
    images: document.querySelector("section.card.images"),
    explore: $("explore"),
    map: $("map"),
    teach: $("teach"),
    compare: $("compare"),
  },
});

/** Saves the run in this browser (a snapshot kept with Adam's state; see autosave.js). */
async function saveRun(snap) {
  const step = snap.position.globalStep;
  const flat = (points) => Float64Array.from(points.filter((p) => p[0] <= step).flat());
  const ok = await autosave.save({
    config: page.config,
    engine: $("engine").value,
    data: page.data.kind === "files" ? { kind: "files", files: page.data.files } : { kind: "mnist" },
    position: snap.position,
    checkpoint: snap.bytes,
    adam: snap.adam,
    plotSteps: flat(plot.steps),
    plotEpochs: flat(plot.epochs),
  });
  showAutosave(ok ? step : null);
}

/** The autosave line: when the run was last saved here, or why saving is off. */
function showAutosave(step = null, at = new Date()) {
  const note = $("autosave-note");
  const off = autosave.off;
  if (off) {
    note.dataset.kind = "off";
    note.textContent = tr("autosave.off", off);
  } else if (step !== null) {
    note.dataset.kind = "saved";
    note.dataset.step = String(step);
    note.dataset.at = String(at.getTime());
    note.textContent = tr("autosave.saved", step, at.toLocaleTimeString(currentLang()));
  } else {
    return;
  }
  note.hidden = false;
}

// Browsers withhold the adapter's name from wgpu; ask WebGPU for vendor and architecture.
async function adapterLabel(t) {
  if (t.adapterName) return `WebGPU · ${t.adapterName}`;
  try {
    const a = await navigator.gpu.requestAdapter();
    const info = a && (a.info || (a.requestAdapterInfo && (await a.requestAdapterInfo())));
    const parts = info ? [info.vendor, info.architecture, info.device].filter(Boolean) : [];
    if (parts.length) return `WebGPU · ${parts.join(" ")}`;
  } catch {
    // fall through
  }
  return "WebGPU";
}

/** Frees a trainer (after its running call; a second free does nothing). */
function release(t) {
  if (t) t.free();
}

/** The engine pill: the WebGPU adapter and GEMM form, or the CPU engine (and why, on hover). */
async function showEngine(t) {
  const gpu = t.engine === "webgpu" ? await adapterLabel(t) : null;
  const threads = t.cpuThreads;
  pill = () => (gpu ? tr("engine.gpuPill", gpu, t.gemmForm) : tr("engine.cpuPill", threads));
  $("adapter").textContent = pill();
  $("adapter").title = gpu ? t.adapter : `${t.adapter}: ${t.engineReason}`;
  $("adapter").dataset.engine = t.engine;
}

/** A new trainer for `config` with the page's data (and a checkpoint's run, if given), on the
 * engine chosen (or `engine`). The old trainer is freed only once the new one stands: if
 * building fails, the model in hand stays. */
async function buildTrainer(config, resumeFrom = null, adam = null, draw = true, engine = null) {
  const t = await host.create({ ...config, engine: engine ?? $("engine").value });
  await installTrainer(t, config, resumeFrom, adam, draw);
}

/** Makes `t` (a trainer just created for `config`) the page's, as buildTrainer says. */
async function installTrainer(t, config, resumeFrom = null, adam = null, draw = true) {
  try {
    await t.loadDataset(...page.data.files);
    if (resumeFrom) await t.resume(resumeFrom, adam ?? undefined);
  } catch (e) {
    release(t);
    throw e;
  }
  release(page.trainer);
  page.setTrainer(t, config);
  dropCompanions();
  panels.compare.onNewTrainer(t);
  if (!resumeFrom) panels.history.clear();
  // The plot forgets the old model's points at once (the shipped model's history too).
  if (!resumeFrom) plot.clear();
  await showEngine(t);
  $("rate").textContent = "–"; // the old trainer's rate says nothing of this one
  scheduler.restart();
  if (draw) await drawImages();
  updateProgress(null);
  page.keep(await t.exportCheckpoint(), t.globalStep);
}

/** A new model from `config` (on `engine`, else the one chosen), its views drawn — unless
 * `draw` is false: a model about to be replaced (the shipped one is imported into it next) is
 * not drawn first. */
async function createTrainer(config, draw = true, engine = null) {
  await exclusive(() => buildTrainer(config, null, null, draw, engine));
  panels.explore.input = null;
  panels.explore.b.pixels = null;
  panels.explore.map = null;
  $("explore").hidden = false;
  if (draw) await drawModelViews();
  for (const id of ["compare", "structure", "contents"]) $(id).hidden = false;
  panels.structure.draw();
}

/** Explore, the latent map and Teach, for the model in hand. */
async function drawModelViews() {
  await panels.explore.refresh();
  await panels.explore.refreshMap();
  await panels.teach.refresh();
}

// Applies the form to the model: a new learning rate goes to the model in place (e.g. after a
// divergence); any other change needs a new model. Returns true when it needs one.
async function needsNewModel(config) {
  if (!page.trainer || page.phase === "done" || page.pretrained) return true;
  const was = page.config;
  if (JSON.stringify({ ...was, lr: config.lr }) !== JSON.stringify(config)) return true;
  if (was.lr !== config.lr) {
    const t = page.trainer;
    await exclusive(() => t.setLr(config.lr));
    page.setLr(config.lr);
  }
  return false;
}

async function guarded(what, fn) {
  try {
    await fn();
  } catch (e) {
    const text = e && e.message ? e.message : String(e);
    if (page.trainer && page.trainer.deviceLost) return onDeviceLost();
    if (page.trainer) scheduler.forgetAfter(page.trainer.globalStep);
    message(`${what}: ${text}`, "error");
    if (page.phase === "training") page.setPhase("paused");
    setButtons();
    // The images show the model in place now (after a roll-back, the last good one).
    if (page.trainer && page.trainer.lastGoodStep === page.trainer.globalStep) {
      try {
        await refreshImages();
        await panels.explore.refresh();
      } catch {
        // they keep what they showed
      }
    }
  }
}

function onDeviceLost() {
  if (page.phase === "lost") return;
  page.setPhase("lost");
  lost.show(page.trainer.deviceLost);
  message(() => tr("msg.lost"), "error");
  setButtons();
}

async function onResumeNewDevice() {
  await guarded(tr("fail.newDevice"), async () => {
    message(() => tr("msg.newDevice"));
    const config = page.config;
    resetQueue(); // the old trainer's queue may hold a call that never settles
    await exclusive(() => buildTrainer(config, page.kept.bytes));
    lost.hide();
    page.setPhase("training");
    setButtons();
    const step = page.trainer.globalStep;
    message(() => tr("msg.resumed", step), "ok");
    await panels.explore.refresh();
    await scheduler.run();
  });
}

const lost = new LostPanel({ get kept() { return page.kept; } }, onResumeNewDevice);

// The run saved in this browser on an earlier visit, offered until the visitor continues it,
// starts fresh or starts another run (whose first save replaces it).
let saved = null; // { entry } or { discarded: reason }

function renderSaved() {
  const box = $("saved");
  box.hidden = !saved;
  if (!saved) return;
  box.dataset.kind = saved.entry ? "offer" : "discarded";
  $("saved-actions").hidden = !saved.entry;
  if (!saved.entry) {
    $("saved-text").textContent = tr("saved.discarded", saved.discarded);
    return;
  }
  const { position: p, savedAt, plotEpochs } = saved.entry;
  const when = new Date(savedAt).toLocaleString(currentLang());
  const test = plotEpochs.length ? plotEpochs[plotEpochs.length - 1] : NaN;
  $("saved-text").textContent = tr("saved.offer", when, Number.isFinite(test) ? test.toFixed(2) : "–");
  $("saved-continue").textContent = tr("btn.savedContinue", p.epoch, p.globalStep);
}

function hideSaved() {
  saved = null;
  renderSaved();
}

/** Offers the run saved in this browser (or says why a saved entry was discarded). */
async function offerSaved() {
  const found = await autosave.load();
  if (!found) return;
  saved = found;
  renderSaved();
}

async function onStartFresh() {
  hideSaved();
  await autosave.clear();
  message(() => tr("msg.savedDeleted"));
}

/** Whether an error says the saved entry itself is bad (so it is discarded, not kept). */
const entryFault = (e) => ["bad-checkpoint", "bad-config", "bad-data", "bad-argument"].includes(e && e.code);

/** Continues the saved run: its settings, data, weights, Adam state, place and loss plot. */
async function onContinueSaved() {
  const entry = saved && saved.entry;
  if (!entry || page.busy) return;
  message(() => tr("msg.continuing"));
  const before = { data: page.data, form: readConfig(settings), engine: $("engine").value };
  try {
    writeConfig(entry.config);
    let config;
    try {
      config = readConfig(settings);
    } catch (e) {
      throw Object.assign(new Error(`its settings: ${e.message}`), { code: "bad-config" });
    }
    const webgpuOff = $("engine").querySelector('option[value="webgpu"]').disabled;
    $("engine").value = entry.engine === "webgpu" && webgpuOff ? "auto" : entry.engine;
    if (entry.data.kind === "files") page.setData({ kind: "files", files: entry.data.files, label: () => tr("data.restored") });
    else if (page.data.kind !== "mnist" || page.data.partial) page.setData(await wholeMnist());
    await exclusive(() => buildTrainer(config, entry.checkpoint, entry.adam));
  } catch (e) {
    if (before.data) page.setData(before.data);
    writeConfig(before.form);
    $("engine").value = before.engine;
    const text = e && e.message ? e.message : String(e);
    if (entryFault(e)) {
      await autosave.clear();
      saved = { discarded: text };
      renderSaved();
    } else {
      message(`${tr("fail.continue")}: ${text}`, "error");
    }
    setButtons();
    return;
  }
  hideSaved();
  showDataLabel();
  const t = page.trainer;
  page.markRestored();
  const points = (flat) => Array.from({ length: flat.length / 3 }, (_, i) => [flat[3 * i], flat[3 * i + 1], flat[3 * i + 2]]);
  plot.steps = points(entry.plotSteps);
  plot.epochs = points(entry.plotEpochs);
  plot.draw();
  scheduler.resumeEpochMean((t.epoch - 1) * t.stepsPerEpoch + 1);
  const lastEpoch = plot.epochs.at(-1);
  $("test").textContent = lastEpoch ? fmt(lastEpoch[2]) : "–";
  updateProgress({ epoch: t.epoch, stepInEpoch: t.stepInEpoch, reconstruction: NaN });
  $("explore").hidden = false;
  for (const id of ["compare", "structure", "contents"]) $(id).hidden = false;
  await guarded(tr("fail.continue"), async () => {
    await panels.explore.refresh();
    await panels.explore.refreshMap();
    await panels.teach.refresh();
    panels.structure.draw();
  });
  const [epoch, step] = [t.epoch, t.globalStep];
  if (epoch >= t.epochs && t.stepInEpoch === t.stepsPerEpoch) {
    page.setPhase("done");
    message(() => tr("msg.continuedDone", epoch, step), "ok");
    setButtons();
    return;
  }
  page.setPhase("training");
  setButtons();
  message(() => tr("msg.continued", epoch, step), "ok");
  await guarded(tr("fail.stopped"), () => scheduler.run());
}

async function onTrain() {
  let ready = false;
  await guarded(tr("fail.start"), async () => {
    const config = readConfig(settings);
    if (await needsNewModel(config)) {
      message(() => tr("msg.building"));
      await createTrainer(config);
      hideSaved(); // this run's first save replaces the one offered
    }
    ready = true;
  });
  if (!ready) return;
  page.setPhase("training");
  setButtons();
  message(() => tr("msg.training"));
  await guarded(tr("fail.stopped"), () => scheduler.run());
}

/** Starts a VAE and a second model afresh (`kind`: a plain autoencoder, "ae", or the VAE with
 * the trick switched off, "notrick"), side by side on one device, and trains both. */
async function onCompare(kind) {
  let ready = false;
  await guarded(tr("fail.compare"), async () => {
    const config = readConfig(settings);
    message(() => tr("msg.building"));
    await createTrainer(config);
    hideSaved();
    await panels.compare.attach(config, kind);
    ready = true;
  });
  setButtons();
  if (!ready) return;
  page.setPhase("training");
  setButtons();
  if (kind === "notrick") $("compare").scrollIntoView({ behavior: "smooth", block: "start" });
  message(() => tr(kind === "notrick" ? "msg.comparingNoTrick" : "msg.comparing"));
  await guarded(tr("fail.stopped"), () => scheduler.run());
}

function onPause() {
  // The training loop sees this after its current chunk (at most three steps on the CPU
  // engine in a worker of a cross-origin isolated page: stopSoon; 25–80 ms elsewhere on it; up
  // to ≈ 0.6 s on a slow WebGPU adapter), reads back what is in flight and reports "Paused".
  page.setPhase("paused");
  scheduler.stopSoon();
  setButtons();
  message(() => tr("msg.pausing"));
}

async function onResume() {
  await guarded(tr("fail.resume"), async () => {
    if (await needsNewModel(readConfig(settings))) throw new Error(tr("err.settingsChanged"));
    page.setPhase("training");
    setButtons();
    message(() => tr("msg.training"));
  });
  if (page.phase === "training") await guarded(tr("fail.stopped"), () => scheduler.run());
}

async function onReset() {
  await guarded(tr("fail.reset"), async () => {
    await createTrainer(readConfig(settings));
    page.setPhase("ready");
    $("test").textContent = "–";
    message(() => tr("msg.reset"));
    setButtons();
  });
}

async function onDownload() {
  await guarded(tr("fail.download"), async () => {
    const bytes = await exclusive(() => page.trainer.exportCheckpoint());
    saveBytes(bytes, `vae-step-${page.trainer.globalStep}.safetensors`);
    const mb = (bytes.length / 1e6).toFixed(1);
    message(() => tr("msg.saved", mb), "ok");
  });
}

async function onLoadCheckpoint(ev) {
  const file = ev.target.files[0];
  ev.target.value = "";
  if (!file) return;
  await guarded(tr("fail.load", file.name), async () => {
    if (file.size > MAX_FILE_BYTES) throw new Error(tr("err.fileTooBig", (file.size / 1e6).toFixed(0), MAX_FILE_BYTES >> 20));
    const bytes = new Uint8Array(await file.arrayBuffer());
    await exclusive(() => page.trainer.importCheckpoint(bytes));
    await refreshImages();
    await panels.explore.refresh();
    await panels.explore.refreshMap();
    message(() => tr("msg.loaded", file.name), "ok");
  });
}

async function onIdxFiles(files) {
  await guarded(tr("fail.files"), async () => {
    const data = await readIdxFiles(files);
    if (page.trainer) {
      // throws (and keeps the old data) if a file is bad
      await exclusive(() => page.trainer.loadDataset(...data.files));
    }
    page.setData(data);
    showDataLabel();
    if (page.trainer) {
      panels.explore.input = null;
      panels.explore.b.pixels = null;
      await refreshImages();
      await panels.explore.refresh();
      await panels.explore.refreshMap();
    }
    message(() => tr("msg.idxLoaded"), "ok");
    setButtons();
  });
}

/** The data label (MNIST or the user's files) in the current language. */
function showDataLabel() {
  $("data-status").textContent = page.data.label();
}

/** Says why the model trains on the CPU engine when WebGPU is unusable here (the page goes on
 * without it), and takes WebGPU off the engine choices. */
function showNoGpu() {
  const p = page.gpuProblem;
  if (!p) return;
  $("nogpu").hidden = false;
  $("nogpu").dataset.kind = p.kind;
  const texts = { insecure: () => tr("nogpu.insecure", location.origin), absent: () => tr("nogpu.detail"), adapter: () => tr("nogpu.adapter", p.detail) };
  $("nogpu-detail").textContent = texts[p.kind]();
  $("nogpu").querySelector("ul").hidden = p.kind === "insecure";
  const webgpu = $("engine").querySelector('option[value="webgpu"]');
  webgpu.disabled = true;
  if ($("engine").value === "webgpu") $("engine").value = "auto";
}

/** How messages name an engine ("webgpu", "cpu" or the choice "auto"). */
const engineName = (e) => ({ webgpu: "WebGPU", cpu: "CPU" })[e] || tr("engine.auto");

/** Moves the model in hand to the engine now chosen: its checkpoint (weights and place in the
 * run) resumes on a new trainer; the plot and the history stay. */
async function onEngineChange() {
  const url = new URL(location.href);
  url.searchParams.set("engine", $("engine").value);
  history.replaceState(null, "", url);
  if (!page.trainer || !page.data) return; // the next model is built on it
  await guarded(tr("fail.switch"), async () => {
    const asked = $("engine").value;
    message(() => tr("msg.switching", engineName(asked)));
    const config = page.config;
    const pretrained = page.pretrained;
    await exclusive(async () => buildTrainer(config, await page.trainer.exportCheckpoint()));
    page.setPretrained(pretrained);
    showCompanions(); // on the new engine (it says so in the console if it cannot)
    await panels.explore.refresh();
    await panels.explore.refreshMap();
    panels.structure.draw();
    const [engine, step] = [page.trainer.engine, page.trainer.globalStep];
    message(() => tr("msg.switched", engineName(engine), step), "ok");
  });
  setButtons();
}

/** The shipped model, drawn by the CPU engine at boot, moves to the WebGPU trainer `built`
 * (host.create's promise for `config`, started after the first picture): its checkpoint
 * resumes there, its views are redrawn by it, and the page says Ready. If WebGPU fails to
 * start, the model stays on the CPU engine and the page says why. */
async function moveToGpu(built, config, shipped) {
  movingToGpu = true;
  setButtons();
  try {
    let t;
    try {
      t = await built;
    } catch (e) {
      message(() => tr("msg.gpuFailed", e && e.message ? e.message : String(e)), "error");
      $("engine").value = "cpu";
      return;
    }
    const pretrained = page.pretrained;
    await exclusive(async () => installTrainer(t, config, await page.trainer.exportCheckpoint()));
    page.setPretrained(pretrained);
    await refreshImages();
    await drawModelViews();
    panels.structure.draw();
    const loss = shipped.info.testLoss.toFixed(2);
    message(() => tr("msg.pretrained", shipped.info.epochs, loss));
  } finally {
    movingToGpu = false;
    setButtons();
  }
}

/** A panel's read-only view: the trainer in hand and the drawing functions, and `more`'s getters. */
function view(more = {}) {
  const base = { get trainer() { return page.trainer; }, get wasm() { return wasm; } };
  return Object.freeze(Object.defineProperties({}, {
    ...Object.getOwnPropertyDescriptors(base),
    ...Object.getOwnPropertyDescriptors(more),
  }));
}

function wire() {
  $("engine").addEventListener("change", onEngineChange);
  $("train").addEventListener("click", onTrain);
  $("pause").addEventListener("click", onPause);
  $("resume").addEventListener("click", onResume);
  $("reset").addEventListener("click", onReset);
  $("download").addEventListener("click", onDownload);
  $("load").addEventListener("change", onLoadCheckpoint);
  // A device can also be lost while nothing runs on it (a paused tab): look once a second.
  setInterval(() => {
    try {
      if (page.trainer && page.trainer.deviceLost) onDeviceLost();
    } catch {
      // a trainer being replaced
    }
  }, 1000);
  $("idx-files").addEventListener("change", (e) => onIdxFiles([...e.target.files]));
  const drop = $("drop");
  drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (e) => { e.preventDefault(); drop.classList.remove("over"); onIdxFiles([...e.dataTransfer.files]); });
  addEventListener("resize", () => plot.draw());
  // A click on one of the test digits (top row of the reconstructions) explores it.
  $("recon-canvas").addEventListener("click", (e) => {
    const r = e.target.getBoundingClientRect();
    const n = Math.min(8, page.trainer ? page.trainer.testCount : 0);
    const col = Math.floor(((e.clientX - r.left) / r.width) * n);
    if (n && col >= 0 && col < n) panels.explore.pick(col);
  });
  // Each panel gets a read-only view of what it needs, read at each use (the trainer in hand
  // changes when a model is rebuilt or the engine switched).
  panels.explore = new Explore(view({ get quick() { return quick; } }), exclusive, message);
  panels.teach = new Teach(view({
    get training() { return page.phase === "training"; },
    get shipped2d() { return page.pretrained && companions.vae2d ? companions.vae2d.trainer : null; },
    get map() { return panels.explore.map; },
  }), exclusive, message);
  panels.compare = new Compare(view({
    get host() { return host; },
    get dataFiles() { return page.data.files; },
    get recordFields() { return settings.recordFields; },
    get walkPair() { return page.walkPair; },
  }), exclusive, message);
  panels.structure = new Structure(view({ get config() { return page.config; } }), exclusive, message);
  panels.history = new History(view(), exclusive);
  $("compare-start").addEventListener("click", () => onCompare("ae"));
  $("compare-notrick").addEventListener("click", () => onCompare("notrick"));
  $("saved-continue").addEventListener("click", onContinueSaved);
  $("saved-fresh").addEventListener("click", onStartFresh);
  $("compare-stop").addEventListener("click", () => { panels.compare.stop(); setButtons(); });
}

// The one object tests read: the page's state, read-only.
window.vaePage = {
  get state() { return page.phase; },
  get trainer() { return page.trainer; },
  get wasm() { return wasm; },
  get plot() { return plot; },
  get explore() { return panels.explore; },
  get teach() { return panels.teach; },
  get compare() { return panels.compare; },
  get structure() { return panels.structure; },
  get history() { return panels.history; },
  /** The CPU copy answering gestures while the WebGPU engine trains: `active`, `syncedAt`. */
  get quick() { return quick; },
  get kept() { return page.kept; },
  /** The run kept in this browser: `on`, `off` (why not), `stats` ({ saves, lastMs, totalMs, bytes }). */
  get autosave() { return autosave; },
  /** `{ step, bytes }`: the checkpoint of a run continued from this browser's storage, as it stood once restored. */
  get restored() { return page.restored; },
  get lastRefresh() { return page.lastRefresh; },
  /** How often (ms) the loss plot and the progress are redrawn at most while training
   * (scheduler.js's plotInterval, set as training starts). */
  get plotMs() { return scheduler.plotMs; },
  get pretrained() { return page.pretrained; },
  /** True until MNIST's training set is in and the views that read it are drawn (the page shows
   * the shipped model from the test set first). */
  get streaming() { return streaming; },
  /** Where the trainers live (trainers.js): `mode` "worker" or "page", `info()` → `{ build,
   * cpuThreads, wasmBytes, liveGpuBuffers, trainers, calls }` of the trainer's module (the soak
   * test watches; calls: where the trainers' time went, tests/bench/threads.mjs). */
  get host() { return host; },
  wasmBuild: null, // "threads", "relaxed-simd" or "simd128": which build of the module the trainer runs (boot.js)
};

async function main() {
  // The modules first: the trainer's worker and this thread's drawing module load while the
  // page is wired.
  const trainers = startTrainers();
  trainers.catch(() => {}); // met below
  const drawing = loadDrawing();
  drawing.catch(() => {}); // met below
  let pictured;
  const firstPicture = new Promise((resolve) => { pictured = resolve; });
  // When the first picture was drawn (ms from navigation): tests/bench/first-view.mjs reads it.
  firstPicture.then(() => { window.vaePage.firstPictureMs = performance.now(); });
  setLang(chooseLang());
  $("lang").value = currentLang();
  $("lang").addEventListener("change", (e) => {
    setLang(e.target.value);
    const url = new URL(location.href);
    url.searchParams.set("lang", e.target.value);
    history.replaceState(null, "", url);
  });
  onLangChange(() => {
    const m = $("message");
    m.textContent = lastMessage.render();
    if (page.data) showDataLabel();
    if (page.trainer) $("walk-caption").textContent = tr("walk.caption", ...page.walkPair);
    setButtons();
    plot.draw();
    if (panels.explore) panels.explore.relabel();
    if (panels.teach) panels.teach.draw();
    if (panels.compare) panels.compare.draw();
    if (page.trainer && panels.structure) panels.structure.draw();
    if (panels.history) panels.history.render();
    if (pill) $("adapter").textContent = pill();
    showNoGpu();
    renderSaved();
    const note = $("autosave-note");
    if (note.dataset.kind === "off") showAutosave();
    else if (note.dataset.kind === "saved") showAutosave(Number(note.dataset.step), new Date(Number(note.dataset.at)));
  });
  plot.draw();
  setButtons();
  wire();
  let mnist = null, shipped = null;
  try {
    // The trainer's worker loads its module while this thread loads the drawing one; MNIST's
    // test set and the shipped model are fetched as soon as the file names are known (the
    // page preloads them: index.html), the training set once the first picture is drawn.
    const boot = await drawing;
    wasm = boot.wasm;
    settings = boot.settings;
    shipped = fetchShipped("pretrained").catch((e) => e);
    mnist = loadMnist(settings, (f) => setBar("data", 100 * f), firstPicture);
    mnist.test.catch(() => {}); // met below
    mnist.all.catch(() => {}); // met below, once the first picture is drawn
    host = await trainers;
    window.vaePage.wasmBuild = (await host.info()).build;
    await autosave.open();
    showAutosave();
  } catch (e) {
    message(() => tr("msg.wasmFailed", e && e.message ? e.message : e), "error");
    $("adapter").textContent = tr("adapter.notLoaded");
    return;
  }
  if (host.mode === "page") {
    const note = $("noworker");
    note.dataset.why = host.why;
    if (host.why === "?worker=0") note.dataset.i18n = "noworker.asked";
    note.textContent = tr(note.dataset.i18n);
    note.hidden = false;
  }
  buildForm(settings);
  const asked = new URLSearchParams(location.search).get("engine");
  if (["auto", "webgpu", "cpu"].includes(asked)) $("engine").value = asked;
  // Ask for the GPU while the first picture's files come in: a device only, no model. (A
  // throwaway trainer here, freed while SwiftShader still compiled its pipelines, left
  // Chromium's GPU process hung now and then when the real trainer asked for a second device.)
  // Without WebGPU the page goes on with the CPU engine and says why. `auto` decides from the
  // answer before it builds; WebGPU asked for waits for it only after the CPU engine's first
  // picture (below).
  if (!navigator.gpu) {
    page.setGpuProblem({ kind: window.isSecureContext === false ? "insecure" : "absent" });
  }
  const gpuCheck = navigator.gpu && $("engine").value !== "cpu"
    ? host.checkGpu().then(() => null, (e) => ({ kind: "adapter", detail: e && e.message ? e.message : String(e) }))
    : Promise.resolve(null);
  const meetGpuCheck = async () => {
    const problem = await gpuCheck;
    if (problem) page.setGpuProblem(problem);
    showNoGpu();
  };
  try {
    // The test set first (enough to show the shipped model); the training set streams in after.
    mnistAll = mnist.all;
    page.setData(await mnist.test);
    showDataLabel();
    message(() => tr("msg.building"));
    const model = await shipped;
    const config = readConfig(settings);
    // WebGPU asked for: its trainer builds its pipelines first (seconds on a software adapter,
    // ≈ 8 s on SwiftShader). The CPU engine draws the shipped model first, then the WebGPU
    // trainer is built and the model moves there (moveToGpu), and the page says Ready. (Built
    // beside the first picture, it took CPU time from it: 1.67 s against 1.56 s here.)
    const gpuFirst = $("engine").value === "webgpu" && !!navigator.gpu && fitsForm(model) && host.mode === "worker";
    if (!gpuFirst) await meetGpuCheck();
    // The model built here is drawn once: as the shipped model, when there is one to import.
    await createTrainer(config, !fitsForm(model), gpuFirst ? "cpu" : null);
    page.setPhase("ready");
    await showPretrained(model, pictured, gpuFirst ? () => tr("msg.gpuComing") : null);
    pictured(); // (no shipped model: the model built is the picture)
    if (gpuFirst) await meetGpuCheck();
    if (gpuFirst && !page.gpuProblem) await moveToGpu(host.create({ ...config, engine: "webgpu" }), config, model);
    else if (gpuFirst) message(() => tr("msg.pretrained", model.info.epochs, model.info.testLoss.toFixed(2)));
    await offerSaved();
    // After the first picture: the training set, and the shipped autoencoder (Q5) and 2-D VAE (Q4).
    mnist.all.then(completeMnist).catch((e) => {
      streaming = false;
      message(() => tr("msg.trainDataFailed", e && e.message ? e.message : String(e)), "error");
    });
    showCompanions();
  } catch (e) {
    pictured();
    streaming = false;
    await meetGpuCheck();
    page.setPhase("ready");
    message(e && e.message ? e.message : String(e), "error");
  }
  setButtons();
}

main();
