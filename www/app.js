// The page: loads MNIST, drives the wasm Trainer in small chunks so the page stays responsive,
// and draws progress, the loss plot, reconstructions, samples and a latent walk.
import { LossPlot } from "./plot.js";
import { Explore } from "./explore.js";

const $ = (id) => document.getElementById(id);
const FILES = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"];
const TARGET_CALL_MS = 80; // GPU work per train() call: short enough that Pause and hovers act at once
const REFRESH_MS = 2500; // how often images are redrawn while training
const QUIET_MS = 2000; // no redraws while the user hovers or slides, so their decodes come first
const KEEP_MS = 15000; // how often a checkpoint is kept in memory while training (device loss)

const ui = {
  state: "starting", // starting | nogpu | ready | training | paused | done | lost
  wasm: null,
  trainer: null,
  trainerConfig: null,
  data: null, // { files: [Uint8Array × 4], label }
  plot: new LossPlot($("plot")),
  stepsPerCall: 1,
  lastRefresh: 0,
  epochSum: 0,
  epochCount: 0,
  walkPair: [0, 1],
  kept: null, // { bytes, step }: the last checkpoint kept in memory, for when the device is lost
};
window.vaePage = ui; // for tests and the curious

// Every call into the Trainer goes through this queue: the wasm object allows one call at a
// time, and Pause, Download or Load can come while a training chunk is in flight.
let queue = Promise.resolve();
function exclusive(fn) {
  const run = queue.then(fn, fn);
  queue = run.catch(() => {});
  return run;
}

function message(text, kind = "info") {
  const m = $("message");
  m.textContent = text;
  m.className = `message ${kind}`;
}

function setButtons() {
  const s = ui.state;
  const haveModel = !!ui.trainer && !!ui.data && s !== "lost";
  $("train").disabled = !(haveModel || ui.data) || ["training", "nogpu", "starting", "lost"].includes(s);
  $("pause").disabled = s !== "training";
  $("resume").disabled = s !== "paused";
  $("reset").disabled = !haveModel || s === "training" || s === "starting";
  $("download").disabled = !haveModel || s === "starting";
  $("load").disabled = !haveModel || s === "training" || s === "starting";
  $("load-label").classList.toggle("disabled", $("load").disabled);
  for (const el of $("config").elements) el.disabled = s === "training" || s === "lost";
  $("preset-2").disabled = $("preset-20").disabled = s === "training" || s === "lost";
}

function readConfig() {
  const num = (id) => Number($(id).value);
  return { epochs: num("epochs"), batchSize: num("batch"), lr: num("lr"), hidden: num("hidden"), latent: num("latent"), seed: num("seed") };
}

// boot.js loads the wasm module and announces it (or its failure) with an event.
async function bindings() {
  if (window.wasmBindings) return window.wasmBindings;
  if (window.wasmLoadError) throw window.wasmLoadError;
  return new Promise((resolve, reject) => {
    addEventListener("TrunkApplicationStarted", () => resolve(window.wasmBindings), { once: true });
    addEventListener("WasmLoadFailed", (e) => reject(e.detail.error), { once: true });
  });
}

async function fetchWithProgress(url, onBytes) {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  const reader = res.body.getReader();
  const chunks = [];
  let n = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    n += value.length;
    onBytes(value.length);
  }
  const out = new Uint8Array(n);
  let at = 0;
  for (const c of chunks) { out.set(c, at); at += c.length; }
  return out;
}

async function loadMnist() {
  const total = 11.6e6; // approximate gzip sizes of the four files together
  let got = 0;
  const files = [];
  for (const f of FILES) {
    files.push(await fetchWithProgress(`data/${f}.gz`, (b) => {
      got += b;
      $("data-bar").style.width = `${Math.min(100, (100 * got) / total).toFixed(1)}%`;
    }));
  }
  $("data-bar").style.width = "100%";
  return { files, label: "MNIST: 60,000 training and 10,000 test digits" };
}

async function createTrainer(config) {
  await exclusive(() => buildTrainer(config));
  ui.explore.input = null;
  ui.explore.b.pixels = null;
  ui.explore.map = null;
  $("explore").hidden = false;
  await ui.explore.refresh();
  await ui.explore.refreshMap();
}

async function buildTrainer(config, resumeFrom = null) {
  if (ui.trainer) { ui.trainer.free(); ui.trainer = null; }
  const t = await ui.wasm.Trainer.create(config);
  t.loadDataset(...ui.data.files);
  if (resumeFrom) t.resume(resumeFrom);
  ui.trainer = t;
  ui.trainerConfig = JSON.stringify(config);
  $("adapter").textContent = `${await adapterLabel(t)} · ${t.gemmForm} GEMM`;
  $("adapter").title = t.adapter;
  if (!resumeFrom) ui.plot.clear();
  ui.epochSum = 0;
  ui.epochCount = 0;
  ui.stepsPerCall = 1;
  await drawImages();
  updateProgress(null);
  ui.kept = { bytes: await t.exportCheckpoint(), step: t.globalStep, at: performance.now() };
}

// A checkpoint kept in memory (not read back per step: at most every KEEP_MS, at epoch ends and
// on pause), so a lost device costs at most that much training.
async function keepCheckpoint(t = ui.trainer) {
  // Every step read back first: a divergence surfaces here (and rolls back) instead of being
  // kept. Exporting waits for the queued steps anyway, so this costs no extra stall.
  absorb(await exclusive(() => t.flush()));
  const bytes = await exclusive(() => t.exportCheckpoint());
  ui.kept = { bytes, step: t.globalStep, at: performance.now() };
}

// Applies the form to the model: a new learning rate goes to the model in place (e.g. after a
// divergence); any other change needs a new model. Returns true when it needs one.
function needsNewModel(config) {
  if (!ui.trainer || ui.state === "done") return true;
  const was = JSON.parse(ui.trainerConfig);
  if (JSON.stringify({ ...was, lr: config.lr }) !== JSON.stringify(config)) return true;
  if (was.lr !== config.lr) {
    ui.trainer.setLearningRate(config.lr);
    ui.trainerConfig = JSON.stringify(config);
  }
  return false;
}

// Browsers withhold the adapter's name from wgpu; ask WebGPU for vendor and architecture.
async function adapterLabel(t) {
  const named = t.adapter.split(" (")[0];
  if (named && named !== "unnamed adapter") return `WebGPU · ${named}`;
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
  $("epoch-bar").style.width = `${(100 * inEpoch) / spe}%`;
  $("overall-text").textContent = `${Math.round((100 * Math.max(0, doneSteps)) / (epochs * spe))}%`;
  $("overall-bar").style.width = `${(100 * Math.max(0, doneSteps)) / (epochs * spe)}%`;
  $("step").textContent = String(t.globalStep);
  if (stats && Number.isFinite(stats.reconstruction)) {
    $("recon").textContent = fmt(stats.reconstruction);
    $("kl").textContent = fmt(stats.kl);
    $("loss").textContent = fmt(stats.reconstruction + stats.kl);
  }
  if (stats && stats.samplesPerSec > 0) $("rate").textContent = Math.round(stats.samplesPerSec).toLocaleString();
}

async function refreshImages() {
  await yieldToInteractive();
  return exclusive(drawImages);
}

/** Waits while a hover or slider decode is pending, so it is not queued behind display work. */
async function yieldToInteractive() {
  while (ui.explore && ui.explore.interactive()) await new Promise((r) => setTimeout(r, 5));
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
    $("walk-caption").textContent = `from test digit #${a} to #${b} through the latent space`;
  }
  ui.lastRefresh = performance.now();
}

async function endOfEpoch(stats) {
  const t = ui.trainer;
  absorb(await exclusive(() => t.flush()));
  await keepCheckpoint(t);
  message(`Epoch ${stats.epoch} done; evaluating on the test set…`);
  const ev = await exclusive(() => t.evaluate());
  const trainMean = ui.epochCount ? ui.epochSum / ui.epochCount : NaN;
  ui.plot.addEpoch(t.globalStep, trainMean, ev.loss);
  ui.epochSum = 0;
  ui.epochCount = 0;
  $("test").textContent = fmt(ev.loss);
  ui.walkPair = [(ui.walkPair[0] + 2) % Math.max(2, t.testCount), (ui.walkPair[1] + 2) % Math.max(2, t.testCount)];
  await refreshImages();
  await ui.explore.refresh();
  await ui.explore.refreshMap();
  ui.plot.draw();
  message(`Epoch ${stats.epoch}: train ${fmt(trainMean)} and test ${fmt(ev.loss)} per sample.`);
}

// Records from a flush inside the loop, merged into the next call's stats.
let pending = [];
function absorbLater(stats) {
  pending.push(stats);
}

function absorb(stats) {
  for (const p of pending.splice(0)) absorbOne(p);
  absorbOne(stats);
}

function absorbOne(stats) {
  const r = stats.records;
  ui.plot.addSteps(r);
  for (let i = 0; i + 3 < r.length; i += 4) {
    ui.epochSum += r[i + 2] + r[i + 3];
    ui.epochCount += 1;
  }
  updateProgress(stats);
}

// Training was rolled back to `step` (a divergence restores the last good state): the plot and
// the epoch's running mean forget the steps after it.
function forgetAfter(step) {
  for (const [, r, k] of ui.plot.truncate(step)) {
    ui.epochSum -= r + k;
    ui.epochCount -= 1;
  }
  if (ui.epochCount <= 0) ui.epochSum = ui.epochCount = 0;
  ui.plot.draw();
  const t = ui.trainer;
  updateProgress({ epoch: t.epoch, stepInEpoch: t.stepInEpoch, reconstruction: NaN });
}

async function trainLoop() {
  const t = ui.trainer;
  while (ui.state === "training") {
    // Interactive decodes (hovering the map, the slider) go first: hold training back until
    // they are done, so they wait behind at most the chunk already on the GPU.
    await yieldToInteractive();
    const started = performance.now();
    const engaged = ui.explore.recentlyUsed(QUIET_MS);
    const stats = await exclusive(() => t.train(engaged ? 1 : ui.stepsPerCall));
    // While the user explores, keep nothing queued on the GPU behind their decodes: wait for
    // this step too (one step is the smallest unit of GPU work that can be in the way).
    if (engaged) absorbLater(await exclusive(() => t.flush()));
    const ms = performance.now() - started;
    // Aim each call at TARGET_CALL_MS of GPU work.
    const scaled = Math.round((ui.stepsPerCall * TARGET_CALL_MS) / Math.max(ms, 1));
    ui.stepsPerCall = Math.max(1, Math.min(32, scaled, ui.stepsPerCall * 2));
    absorb(stats);
    ui.plot.draw();
    if (stats.epochFinished) {
      await endOfEpoch(stats);
      if (stats.epoch >= t.epochs) {
        ui.state = "done";
        message(`Finished ${t.epochs} epochs. Download the checkpoint, or Reset to start again.`, "ok");
        break;
      }
    } else if (performance.now() - ui.kept.at > KEEP_MS) {
      await keepCheckpoint(t);
    } else if (performance.now() - ui.lastRefresh > REFRESH_MS && !ui.explore.recentlyUsed(QUIET_MS)) {
      try {
        await refreshImages();
        await ui.explore.refresh();
        ui.refreshes = (ui.refreshes || 0) + 1;
        if (ui.refreshes % 12 === 0) await ui.explore.refreshMap();
      } catch (e) {
        // Decodes of a model that is diverging (not yet read back) fail on non-finite values:
        // read the steps back, so the real cause is what stops training and is reported.
        absorb(await exclusive(() => t.flush()));
        throw e;
      }
    }
    await new Promise((r) => setTimeout(r, 0));
  }
  if (ui.state === "paused") {
    absorb(await exclusive(() => t.flush()));
    await keepCheckpoint(t);
    message(`Paused at step ${t.globalStep}.`);
  }
  ui.plot.draw();
  setButtons();
}

async function guarded(what, fn) {
  try {
    await fn();
  } catch (e) {
    const text = e && e.message ? e.message : String(e);
    if (ui.trainer && ui.trainer.deviceLost) return onDeviceLost();
    if (ui.trainer) forgetAfter(ui.trainer.globalStep);
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

// The GPU device is gone (driver reset, GPU process crash, device.destroy()): every call on the
// trainer now fails. Offer the checkpoint kept in memory, and a new device to go on with it.
function onDeviceLost() {
  if (ui.state === "lost") return;
  ui.state = "lost";
  $("lost-detail").textContent = `(${ui.trainer.deviceLost}). Training stopped.`;
  $("lost-kept").textContent = ui.kept
    ? `The model as of step ${ui.kept.step} is kept in this page (${(ui.kept.bytes.length / 1e6).toFixed(1)} MB).`
    : "No checkpoint was kept before the loss.";
  $("lost-download").disabled = !ui.kept;
  $("lost-resume").disabled = !ui.kept;
  $("lost").hidden = false;
  message("The GPU device was lost; see below.", "error");
  setButtons();
}

function saveBytes(bytes, name) {
  const a = document.createElement("a");
  a.href = URL.createObjectURL(new Blob([bytes], { type: "application/octet-stream" }));
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
}

async function onResumeNewDevice() {
  await guarded("Could not resume on a new device", async () => {
    message("Requesting a new GPU device…");
    const config = JSON.parse(ui.trainerConfig);
    queue = Promise.resolve(); // the old trainer's queue may hold a call that never settles
    await exclusive(() => buildTrainer(config, ui.kept.bytes));
    $("lost").hidden = true;
    ui.state = "training";
    setButtons();
    message(`Resumed from step ${ui.trainer.globalStep} on a new device.`, "ok");
    await ui.explore.refresh();
    await trainLoop();
  });
}

async function onTrain() {
  let ready = false;
  await guarded("Could not start training", async () => {
    const config = readConfig();
    if (needsNewModel(config)) {
      message("Building the model on the GPU…");
      await createTrainer(config);
    }
    ready = true;
  });
  if (!ready) return;
  ui.state = "training";
  setButtons();
  message("Training…");
  await guarded("Training stopped", trainLoop);
}

function onPause() {
  // The training loop sees this after its current chunk (≈120 ms), reads back what is in
  // flight and reports "Paused".
  ui.state = "paused";
  setButtons();
  message("Pausing…");
}

async function onResume() {
  await guarded("Could not resume", async () => {
    if (needsNewModel(readConfig())) throw new Error("the model settings changed; press Train for a new model or undo the change (only the learning rate can change in place)");
    ui.state = "training";
    setButtons();
    message("Training…");
  });
  if (ui.state === "training") await guarded("Training stopped", trainLoop);
}

async function onReset() {
  await guarded("Reset", async () => {
    ui.state = "ready";
    await createTrainer(readConfig());
    $("test").textContent = "–";
    message("Reset: a freshly initialised model with the settings above.");
    setButtons();
  });
}

async function onDownload() {
  await guarded("Download", async () => {
    const bytes = await exclusive(() => ui.trainer.exportCheckpoint());
    saveBytes(bytes, `vae-step-${ui.trainer.globalStep}.safetensors`);
    message(`Checkpoint saved (${(bytes.length / 1e6).toFixed(1)} MB, PyTorch tensor names).`, "ok");
  });
}

async function onLoadCheckpoint(ev) {
  const file = ev.target.files[0];
  ev.target.value = "";
  if (!file) return;
  await guarded(`Could not load ${file.name}`, async () => {
    const bytes = new Uint8Array(await file.arrayBuffer());
    await exclusive(() => ui.trainer.importCheckpoint(bytes));
    await refreshImages();
    await ui.explore.refresh();
    await ui.explore.refreshMap();
    message(`Loaded ${file.name}.`, "ok");
  });
}

function classify(name) {
  const n = name.toLowerCase();
  const images = n.includes("images") || n.includes("idx3");
  const labels = n.includes("labels") || n.includes("idx1");
  const test = n.includes("t10k") || n.includes("test");
  if (images === labels) return -1;
  return (test ? 2 : 0) + (labels ? 1 : 0);
}

async function onIdxFiles(files) {
  await guarded("Could not use these files", async () => {
    if (files.length !== 4) throw new Error(`pick all four IDX files (got ${files.length})`);
    const slots = [null, null, null, null];
    for (const f of files) {
      const k = classify(f.name);
      if (k < 0 || slots[k]) throw new Error(`cannot tell which file ${f.name} is; name them like MNIST (train-images…, t10k-labels…)`);
      slots[k] = new Uint8Array(await f.arrayBuffer());
    }
    if (ui.trainer) {
      // throws (and keeps the old data) if a file is bad
      await exclusive(() => ui.trainer.loadDataset(...slots));
    }
    ui.data = { files: slots, label: `Your data: ${files.length} files` };
    $("data-status").textContent = ui.data.label;
    if (ui.trainer) {
      ui.explore.input = null;
      ui.explore.b.pixels = null;
      await refreshImages();
      await ui.explore.refresh();
      await ui.explore.refreshMap();
    }
    message("Loaded your IDX files.", "ok");
    setButtons();
  });
}

function showNoGpu(detail) {
  ui.state = "nogpu";
  $("nogpu").hidden = false;
  $("app").hidden = true;
  if (detail) $("nogpu-detail").textContent = detail;
  $("adapter").textContent = "no WebGPU";
  $("adapter").classList.add("bad");
  setButtons();
}

async function main() {
  ui.plot.draw();
  setButtons();
  $("train").addEventListener("click", onTrain);
  $("pause").addEventListener("click", onPause);
  $("resume").addEventListener("click", onResume);
  $("reset").addEventListener("click", onReset);
  $("download").addEventListener("click", onDownload);
  $("load").addEventListener("change", onLoadCheckpoint);
  $("lost-download").addEventListener("click", () => saveBytes(ui.kept.bytes, `vae-step-${ui.kept.step}.safetensors`));
  $("lost-resume").addEventListener("click", onResumeNewDevice);
  // A device can also be lost while nothing runs on it (a paused tab): look once a second.
  setInterval(() => { if (ui.trainer && ui.trainer.deviceLost) onDeviceLost(); }, 1000);
  $("idx-files").addEventListener("change", (e) => onIdxFiles([...e.target.files]));
  const drop = $("drop");
  drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (e) => { e.preventDefault(); drop.classList.remove("over"); onIdxFiles([...e.dataTransfer.files]); });
  addEventListener("resize", () => ui.plot.draw());
  $("preset-2").addEventListener("click", () => { $("latent").value = "2"; });
  $("preset-20").addEventListener("click", () => { $("latent").value = "20"; });
  ui.explore = new Explore(ui, exclusive);

  try {
    ui.wasm = await bindings();
  } catch (e) {
    message(`The trainer's WebAssembly module did not load: ${e && e.message ? e.message : e}`, "error");
    $("adapter").textContent = "not loaded";
    return;
  }
  if (!navigator.gpu) {
    showNoGpu();
    return;
  }
  // Ask for the GPU before downloading anything: a device only, no model. (A throwaway
  // trainer here, freed while SwiftShader still compiled its pipelines, left Chromium's GPU
  // process hung now and then when the real trainer asked for a second device.)
  try {
    await ui.wasm.checkGpu();
  } catch (e) {
    showNoGpu(e && e.message ? e.message : String(e));
    return;
  }
  try {
    ui.data = await loadMnist();
    $("data-status").textContent = ui.data.label;
    message("Building the model on the GPU…");
    await createTrainer(readConfig());
    ui.state = "ready";
    message("Ready. Press Train to watch the VAE learn.");
  } catch (e) {
    ui.state = "ready";
    message(e && e.message ? e.message : String(e), "error");
  }
  setButtons();
}

main();
