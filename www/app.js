// The page: owns its state, wires the DOM, and hands the work to modules with one job each —
// boot.js (the wasm module: drawing here, the trainer's build in its worker), trainers.js (where
// the trainers live: a Worker, so this thread only draws and listens), data.js (MNIST and dropped files), form.js (settings built from the
// engine's defaults and limits), scheduler.js (training in chunks), plot.js (the loss plot),
// explore.js (the Explore view), lost.js (device loss) and autosave.js (the run kept in this
// browser across a closed tab). Tests read the page through the one small debug object
// `window.vaePage`.
import { loadDrawing } from "./boot.js";
import { startTrainers } from "./trainers.js";
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
import { t as tr, chooseLang, setLang, currentLang, onLangChange } from "./i18n.js";
import { $ } from "./dom.js";


const ui = {
  state: "starting", // starting | ready | training | paused | done | lost
  gpuProblem: null, // why WebGPU is unusable here: { kind: "insecure" | "absent" | "adapter", detail }
  wasm: null, // the drawing functions (the SIMD128 build on this thread)
  host: null, // trainers.js: where trainers are made (a worker, or this thread)
  settings: null,
  trainer: null,
  trainerConfig: null,
  data: null, // { files: [Uint8Array × 4], label }
  plot: new LossPlot($("plot")),
  lastRefresh: 0,
  walkPair: [0, 1],
  kept: null, // { bytes, step, at }: the last checkpoint kept in memory, for a lost device
  autosave: new Autosave(), // the run kept in this browser (opened in main)
  restored: null, // { step, bytes }: the checkpoint of the run continued from this browser's storage
  pretrained: null, // pretrained/pretrained.json while the shipped model is shown
  explore: null,
  /** Whether the Teach panels redraw while training (else at epoch ends only). */
  teachLive: () => $("teach-live").checked,
};

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
  const s = ui.state;
  const haveModel = !!ui.trainer && !!ui.data && s !== "lost";
  $("train").disabled = !(haveModel || ui.data) || ["training", "starting", "lost"].includes(s);
  $("train").dataset.i18n = ui.pretrained ? "btn.trainOwn" : "btn.train";
  $("train").textContent = tr($("train").dataset.i18n);
  $("resume").disabled = s !== "paused";
  $("pause").disabled = s !== "training";
  $("reset").disabled = !haveModel || s === "training" || s === "starting";
  $("download").disabled = !haveModel || s === "starting";
  $("load").disabled = !haveModel || s === "training" || s === "starting";
  $("load-label").classList.toggle("disabled", $("load").disabled);
  $("compare-start").disabled = !ui.data || !ui.trainer || ["training", "starting", "lost"].includes(s);
  $("engine").disabled = ["training", "starting", "lost"].includes(s);
  $("compare-stop").disabled = s === "training";
  $("saved-continue").disabled = ["training", "starting", "lost"].includes(s);
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
  const t = ui.trainer;
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
  const t = ui.trainer;
  const side = t.imageSide;
  const n = Math.min(8, t.testCount);
  ui.wasm.drawGrid($("recon-canvas"), await t.reconstruct(n), side, n);
  ui.wasm.drawGrid($("samples-canvas"), await t.sample(64, 7), side, 8);
  const [a, b] = ui.walkPair;
  if (t.testCount > Math.max(a, b)) {
    ui.wasm.drawGrid($("walk-canvas"), await t.latentWalk(a, b, 10), side, 10);
    $("walk-caption").textContent = tr("walk.caption", a, b);
  }
  ui.lastRefresh = performance.now();
}

/** Loads the model shipped with the page (pretrained/pretrained.json says what it is), so
 * Explore means something before any training. Without it (or with other settings) the page is
 * ready as before. */
async function showPretrained() {
  let info;
  try {
    const res = await fetch("pretrained/pretrained.json");
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    info = await res.json();
    const config = readConfig(ui.settings);
    if (info.config.hidden !== config.hidden || info.config.latent !== config.latent) throw new Error("other settings");
    const file = await fetch(`pretrained/${info.file}`);
    if (!file.ok) throw new Error(`HTTP ${file.status}`);
    const bytes = new Uint8Array(await file.arrayBuffer());
    await exclusive(() => ui.trainer.importCheckpoint(bytes));
  } catch (e) {
    console.info(`no pretrained model: ${e && e.message ? e.message : e}`);
    message(() => tr("msg.ready"));
    return;
  }
  ui.pretrained = info;
  // Its run as the CLI recorded it: train and test loss per epoch.
  const spe = ui.trainer.stepsPerEpoch;
  for (const h of info.history) ui.plot.addEpoch(h.epoch * spe, h.trainLoss, h.testLoss);
  ui.plot.draw();
  await refreshImages();
  await ui.explore.refresh();
  await ui.explore.refreshMap();
  await ui.teach.refresh();
  await ui.history.record(info.epochs, true);
  const loss = info.testLoss.toFixed(2);
  message(() => tr("msg.pretrained", info.epochs, loss));
}

/** Redraws the images once interactive decodes are done (they go first). */
async function refreshImages() {
  await ui.explore.yield();
  return exclusive(drawImages);
}

const scheduler = new Scheduler(ui, {
  message,
  setButtons,
  updateProgress,
  refreshImages,
  fmt,
  showTestLoss: (loss) => { $("test").textContent = fmt(loss); },
  get fields() { return ui.settings.recordFields; },
  get saving() { return ui.autosave.on; },
  saveRun,
});

/** Saves the run in this browser (a snapshot kept with Adam's state; see autosave.js). */
async function saveRun(snap) {
  const step = snap.position.globalStep;
  const flat = (points) => Float64Array.from(points.filter((p) => p[0] <= step).flat());
  const ok = await ui.autosave.save({
    config: JSON.parse(ui.trainerConfig),
    engine: $("engine").value,
    data: ui.data.kind === "files" ? { kind: "files", files: ui.data.files } : { kind: "mnist" },
    position: snap.position,
    checkpoint: snap.bytes,
    adam: snap.adam,
    plotSteps: flat(ui.plot.steps),
    plotEpochs: flat(ui.plot.epochs),
  });
  showAutosave(ok ? step : null);
}

/** The autosave line: when the run was last saved here, or why saving is off. */
function showAutosave(step = null, at = new Date()) {
  const note = $("autosave-note");
  const off = ui.autosave.off;
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
  ui.pill = () => (gpu ? tr("engine.gpuPill", gpu, t.gemmForm) : tr("engine.cpuPill", threads));
  $("adapter").textContent = ui.pill();
  $("adapter").title = gpu ? t.adapter : `${t.adapter}: ${t.engineReason}`;
  $("adapter").dataset.engine = t.engine;
}

/** A new trainer for `config` with the page's data (and a checkpoint's run, if given). The old
 * trainer is freed only once the new one stands: if building fails, the model in hand stays. */
async function buildTrainer(config, resumeFrom = null, adam = null) {
  const t = await ui.host.create({ ...config, engine: $("engine").value });
  try {
    await t.loadDataset(...ui.data.files);
    if (resumeFrom) await t.resume(resumeFrom, adam ?? undefined);
  } catch (e) {
    release(t);
    throw e;
  }
  release(ui.trainer);
  ui.trainer = t;
  ui.pretrained = null;
  ui.compare.onNewTrainer(t);
  if (!resumeFrom) ui.history.clear();
  // The plot forgets the old model's points at once (the shipped model's history too).
  if (!resumeFrom) ui.plot.clear();
  ui.trainerConfig = JSON.stringify(config);
  await showEngine(t);
  $("rate").textContent = "–"; // the old trainer's rate says nothing of this one
  scheduler.restart();
  await drawImages();
  updateProgress(null);
  ui.kept = { bytes: await t.exportCheckpoint(), step: t.globalStep, at: performance.now() };
}

async function createTrainer(config) {
  await exclusive(() => buildTrainer(config));
  ui.explore.input = null;
  ui.explore.b.pixels = null;
  ui.explore.map = null;
  $("explore").hidden = false;
  await ui.explore.refresh();
  await ui.explore.refreshMap();
  await ui.teach.refresh();
  for (const id of ["compare", "structure", "contents"]) $(id).hidden = false;
  ui.structure.draw();
}

// Applies the form to the model: a new learning rate goes to the model in place (e.g. after a
// divergence); any other change needs a new model. Returns true when it needs one.
async function needsNewModel(config) {
  if (!ui.trainer || ui.state === "done" || ui.pretrained) return true;
  const was = JSON.parse(ui.trainerConfig);
  if (JSON.stringify({ ...was, lr: config.lr }) !== JSON.stringify(config)) return true;
  if (was.lr !== config.lr) {
    await ui.trainer.setLr(config.lr);
    ui.trainerConfig = JSON.stringify(config);
  }
  return false;
}

async function guarded(what, fn) {
  try {
    await fn();
  } catch (e) {
    const text = e && e.message ? e.message : String(e);
    if (ui.trainer && ui.trainer.deviceLost) return onDeviceLost();
    if (ui.trainer) scheduler.forgetAfter(ui.trainer.globalStep);
    message(`${what}: ${text}`, "error");
    if (ui.state === "training") ui.state = "paused";
    setButtons();
    // The images show the model in place now (after a roll-back, the last good one).
    if (ui.trainer && ui.trainer.lastGoodStep === ui.trainer.globalStep) {
      try {
        await refreshImages();
        await ui.explore.refresh();
      } catch {
        // they keep what they showed
      }
    }
  }
}

function onDeviceLost() {
  if (ui.state === "lost") return;
  ui.state = "lost";
  lost.show(ui.trainer.deviceLost);
  message(() => tr("msg.lost"), "error");
  setButtons();
}

async function onResumeNewDevice() {
  await guarded(tr("fail.newDevice"), async () => {
    message(() => tr("msg.newDevice"));
    const config = JSON.parse(ui.trainerConfig);
    resetQueue(); // the old trainer's queue may hold a call that never settles
    await exclusive(() => buildTrainer(config, ui.kept.bytes));
    lost.hide();
    ui.state = "training";
    setButtons();
    const step = ui.trainer.globalStep;
    message(() => tr("msg.resumed", step), "ok");
    await ui.explore.refresh();
    await scheduler.run();
  });
}

const lost = new LostPanel(ui, onResumeNewDevice);

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
  const found = await ui.autosave.load();
  if (!found) return;
  saved = found;
  renderSaved();
}

async function onStartFresh() {
  hideSaved();
  await ui.autosave.clear();
  message(() => tr("msg.savedDeleted"));
}

/** Whether an error says the saved entry itself is bad (so it is discarded, not kept). */
const entryFault = (e) => ["bad-checkpoint", "bad-config", "bad-data", "bad-argument"].includes(e && e.code);

/** Continues the saved run: its settings, data, weights, Adam state, place and loss plot. */
async function onContinueSaved() {
  const entry = saved && saved.entry;
  if (!entry || ["training", "starting", "lost"].includes(ui.state)) return;
  message(() => tr("msg.continuing"));
  const before = { data: ui.data, form: readConfig(ui.settings), engine: $("engine").value };
  try {
    writeConfig(entry.config);
    let config;
    try {
      config = readConfig(ui.settings);
    } catch (e) {
      throw Object.assign(new Error(`its settings: ${e.message}`), { code: "bad-config" });
    }
    const webgpuOff = $("engine").querySelector('option[value="webgpu"]').disabled;
    $("engine").value = entry.engine === "webgpu" && webgpuOff ? "auto" : entry.engine;
    if (entry.data.kind === "files") ui.data = { kind: "files", files: entry.data.files, label: () => tr("data.restored") };
    else if (ui.data.kind !== "mnist") ui.data = await loadMnist(ui.settings, (f) => setBar("data", 100 * f));
    await exclusive(() => buildTrainer(config, entry.checkpoint, entry.adam));
  } catch (e) {
    ui.data = before.data;
    writeConfig(before.form);
    $("engine").value = before.engine;
    const text = e && e.message ? e.message : String(e);
    if (entryFault(e)) {
      await ui.autosave.clear();
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
  const t = ui.trainer;
  ui.restored = { step: ui.kept.step, bytes: ui.kept.bytes };
  const points = (flat) => Array.from({ length: flat.length / 3 }, (_, i) => [flat[3 * i], flat[3 * i + 1], flat[3 * i + 2]]);
  ui.plot.steps = points(entry.plotSteps);
  ui.plot.epochs = points(entry.plotEpochs);
  ui.plot.draw();
  scheduler.resumeEpochMean((t.epoch - 1) * t.stepsPerEpoch + 1);
  const lastEpoch = ui.plot.epochs.at(-1);
  $("test").textContent = lastEpoch ? fmt(lastEpoch[2]) : "–";
  updateProgress({ epoch: t.epoch, stepInEpoch: t.stepInEpoch, reconstruction: NaN });
  $("explore").hidden = false;
  for (const id of ["compare", "structure", "contents"]) $(id).hidden = false;
  await guarded(tr("fail.continue"), async () => {
    await ui.explore.refresh();
    await ui.explore.refreshMap();
    await ui.teach.refresh();
    ui.structure.draw();
  });
  const [epoch, step] = [t.epoch, t.globalStep];
  if (epoch >= t.epochs && t.stepInEpoch === t.stepsPerEpoch) {
    ui.state = "done";
    message(() => tr("msg.continuedDone", epoch, step), "ok");
    setButtons();
    return;
  }
  ui.state = "training";
  setButtons();
  message(() => tr("msg.continued", epoch, step), "ok");
  await guarded(tr("fail.stopped"), () => scheduler.run());
}

async function onTrain() {
  let ready = false;
  await guarded(tr("fail.start"), async () => {
    const config = readConfig(ui.settings);
    if (await needsNewModel(config)) {
      message(() => tr("msg.building"));
      await createTrainer(config);
      hideSaved(); // this run's first save replaces the one offered
    }
    ready = true;
  });
  if (!ready) return;
  ui.state = "training";
  setButtons();
  message(() => tr("msg.training"));
  await guarded(tr("fail.stopped"), () => scheduler.run());
}

/** Starts a VAE and a plain autoencoder afresh, side by side on one device, and trains both. */
async function onCompare() {
  let ready = false;
  await guarded(tr("fail.compare"), async () => {
    const config = readConfig(ui.settings);
    message(() => tr("msg.building"));
    await createTrainer(config);
    hideSaved();
    await ui.compare.attach(config);
    ready = true;
  });
  setButtons();
  if (!ready) return;
  ui.state = "training";
  setButtons();
  message(() => tr("msg.comparing"));
  await guarded(tr("fail.stopped"), () => scheduler.run());
}

function onPause() {
  // The training loop sees this after its current chunk (≈120 ms), reads back what is in
  // flight and reports "Paused".
  ui.state = "paused";
  setButtons();
  message(() => tr("msg.pausing"));
}

async function onResume() {
  await guarded(tr("fail.resume"), async () => {
    if (await needsNewModel(readConfig(ui.settings))) throw new Error(tr("err.settingsChanged"));
    ui.state = "training";
    setButtons();
    message(() => tr("msg.training"));
  });
  if (ui.state === "training") await guarded(tr("fail.stopped"), () => scheduler.run());
}

async function onReset() {
  await guarded(tr("fail.reset"), async () => {
    await createTrainer(readConfig(ui.settings));
    ui.state = "ready";
    $("test").textContent = "–";
    message(() => tr("msg.reset"));
    setButtons();
  });
}

async function onDownload() {
  await guarded(tr("fail.download"), async () => {
    const bytes = await exclusive(() => ui.trainer.exportCheckpoint());
    saveBytes(bytes, `vae-step-${ui.trainer.globalStep}.safetensors`);
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
    await exclusive(() => ui.trainer.importCheckpoint(bytes));
    await refreshImages();
    await ui.explore.refresh();
    await ui.explore.refreshMap();
    message(() => tr("msg.loaded", file.name), "ok");
  });
}

async function onIdxFiles(files) {
  await guarded(tr("fail.files"), async () => {
    const data = await readIdxFiles(files);
    if (ui.trainer) {
      // throws (and keeps the old data) if a file is bad
      await exclusive(() => ui.trainer.loadDataset(...data.files));
    }
    ui.data = data;
    showDataLabel();
    if (ui.trainer) {
      ui.explore.input = null;
      ui.explore.b.pixels = null;
      await refreshImages();
      await ui.explore.refresh();
      await ui.explore.refreshMap();
    }
    message(() => tr("msg.idxLoaded"), "ok");
    setButtons();
  });
}

/** The data label (MNIST or the user's files) in the current language. */
function showDataLabel() {
  $("data-status").textContent = ui.data.label();
}

/** Says why the model trains on the CPU engine when WebGPU is unusable here (the page goes on
 * without it), and takes WebGPU off the engine choices. */
function showNoGpu() {
  const p = ui.gpuProblem;
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
  if (!ui.trainer || !ui.data) return; // the next model is built on it
  await guarded(tr("fail.switch"), async () => {
    const asked = $("engine").value;
    message(() => tr("msg.switching", engineName(asked)));
    const config = JSON.parse(ui.trainerConfig);
    const pretrained = ui.pretrained;
    await exclusive(async () => buildTrainer(config, await ui.trainer.exportCheckpoint()));
    ui.pretrained = pretrained;
    await ui.explore.refresh();
    await ui.explore.refreshMap();
    ui.structure.draw();
    const [engine, step] = [ui.trainer.engine, ui.trainer.globalStep];
    message(() => tr("msg.switched", engineName(engine), step), "ok");
  });
  setButtons();
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
      if (ui.trainer && ui.trainer.deviceLost) onDeviceLost();
    } catch {
      // a trainer being replaced
    }
  }, 1000);
  $("idx-files").addEventListener("change", (e) => onIdxFiles([...e.target.files]));
  const drop = $("drop");
  drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (e) => { e.preventDefault(); drop.classList.remove("over"); onIdxFiles([...e.dataTransfer.files]); });
  addEventListener("resize", () => ui.plot.draw());
  // A click on one of the test digits (top row of the reconstructions) explores it.
  $("recon-canvas").addEventListener("click", (e) => {
    const r = e.target.getBoundingClientRect();
    const n = Math.min(8, ui.trainer ? ui.trainer.testCount : 0);
    const col = Math.floor(((e.clientX - r.left) / r.width) * n);
    if (n && col >= 0 && col < n) ui.explore.pick(col);
  });
  ui.explore = new Explore(ui, exclusive, message);
  ui.teach = new Teach(ui, exclusive, message);
  ui.compare = new Compare(ui, exclusive, message);
  ui.structure = new Structure(ui, exclusive, message);
  ui.history = new History(ui, exclusive);
  $("compare-start").addEventListener("click", onCompare);
  $("saved-continue").addEventListener("click", onContinueSaved);
  $("saved-fresh").addEventListener("click", onStartFresh);
  $("compare-stop").addEventListener("click", () => { ui.compare.stop(); setButtons(); });
}

// The one object tests read: the page's state, read-only.
window.vaePage = {
  get state() { return ui.state; },
  get trainer() { return ui.trainer; },
  get wasm() { return ui.wasm; },
  get plot() { return ui.plot; },
  get explore() { return ui.explore; },
  get teach() { return ui.teach; },
  get compare() { return ui.compare; },
  get structure() { return ui.structure; },
  get history() { return ui.history; },
  get kept() { return ui.kept; },
  /** The run kept in this browser: `on`, `off` (why not), `stats` ({ saves, lastMs, totalMs, bytes }). */
  get autosave() { return ui.autosave; },
  /** `{ step, bytes }`: the checkpoint of a run continued from this browser's storage, as it stood once restored. */
  get restored() { return ui.restored; },
  get lastRefresh() { return ui.lastRefresh; },
  get pretrained() { return ui.pretrained; },
  /** Where the trainers live (trainers.js): `mode` "worker" or "page", `info()` → `{ build,
   * cpuThreads, wasmBytes, liveGpuBuffers }` of the trainer's module (the soak test watches). */
  get host() { return ui.host; },
  wasmBuild: null, // "threads", "relaxed-simd" or "simd128": which build of the module the trainer runs (boot.js)
};

async function main() {
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
    if (ui.data) showDataLabel();
    if (ui.trainer) $("walk-caption").textContent = tr("walk.caption", ...ui.walkPair);
    setButtons();
    ui.plot.draw();
    if (ui.explore) ui.explore.relabel();
    if (ui.teach) ui.teach.draw();
    if (ui.compare) ui.compare.draw();
    if (ui.trainer && ui.structure) ui.structure.draw();
    if (ui.history) ui.history.render();
    if (ui.pill) $("adapter").textContent = ui.pill();
    showNoGpu();
    renderSaved();
    const note = $("autosave-note");
    if (note.dataset.kind === "off") showAutosave();
    else if (note.dataset.kind === "saved") showAutosave(Number(note.dataset.step), new Date(Number(note.dataset.at)));
  });
  ui.plot.draw();
  setButtons();
  wire();
  try {
    const boot = await loadDrawing();
    ui.wasm = boot.wasm;
    ui.settings = boot.settings;
    ui.host = await startTrainers();
    window.vaePage.wasmBuild = (await ui.host.info()).build;
    await ui.autosave.open();
    showAutosave();
  } catch (e) {
    message(() => tr("msg.wasmFailed", e && e.message ? e.message : e), "error");
    $("adapter").textContent = tr("adapter.notLoaded");
    return;
  }
  if (ui.host.mode === "page") {
    const note = $("noworker");
    note.dataset.why = ui.host.why;
    if (ui.host.why === "?worker=0") note.dataset.i18n = "noworker.asked";
    note.textContent = tr(note.dataset.i18n);
    note.hidden = false;
  }
  buildForm(ui.settings);
  const asked = new URLSearchParams(location.search).get("engine");
  if (["auto", "webgpu", "cpu"].includes(asked)) $("engine").value = asked;
  // Ask for the GPU before downloading anything: a device only, no model. (A throwaway
  // trainer here, freed while SwiftShader still compiled its pipelines, left Chromium's GPU
  // process hung now and then when the real trainer asked for a second device.) Without
  // WebGPU the page goes on with the CPU engine and says why.
  if (!navigator.gpu) {
    ui.gpuProblem = { kind: window.isSecureContext === false ? "insecure" : "absent" };
  } else if ($("engine").value !== "cpu") {
    try {
      await ui.host.checkGpu();
    } catch (e) {
      ui.gpuProblem = { kind: "adapter", detail: e && e.message ? e.message : String(e) };
    }
  }
  showNoGpu();
  try {
    ui.data = await loadMnist(ui.settings, (f) => setBar("data", 100 * f));
    showDataLabel();
    message(() => tr("msg.building"));
    await createTrainer(readConfig(ui.settings));
    ui.state = "ready";
    await showPretrained();
    await offerSaved();
  } catch (e) {
    ui.state = "ready";
    message(e && e.message ? e.message : String(e), "error");
  }
  setButtons();
}

main();
