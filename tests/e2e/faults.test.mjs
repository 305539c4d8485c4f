// Faults on the built page (dist/), in headless Chromium with WebGPU (SwiftShader): a learning
// rate that makes training diverge, a GPU device that is lost (forced with device.destroy(), the
// device captured from WebGPU itself, not from the crate), and bad files dropped on the page.
// Each must end in a clear message, a model that can still be saved, and a way to go on.
// Screenshots go to target/e2e/.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, readFileSync } from "node:fs";
import { serve, launch, openReady, closeBrowser } from "./serve.mjs";

const SHOTS = "target/e2e";
mkdirSync(SHOTS, { recursive: true });
let server;
before(async () => { server = await serve("dist"); });
after(async () => { await server.close(); });

const messageText = (page) => page.textContent("#message");
const waitMessage = (page, re, timeout = 120_000) =>
  page.waitForFunction((src) => new RegExp(src).test(document.getElementById("message").textContent), re.source, { timeout });

/** The safetensors header of `bytes`: tensor names, shapes and __metadata__. */
function safetensorsHeader(bytes) {
  const n = Number(Buffer.from(bytes).readBigUInt64LE(0));
  return JSON.parse(Buffer.from(bytes).subarray(8, 8 + n).toString("utf8"));
}

test("a diverging learning rate stops training with the step, restores the last good parameters, and training goes on", { timeout: 600_000 }, async () => {
  const browser = await launch(true);
  const { page, errors } = await openReady(browser, server.url, { acceptDownloads: true });
  // Train a little at the default rate, pause, then raise it to 10 (the largest accepted).
  await page.click("#train");
  await page.waitForFunction(() => window.vaePage.trainer.globalStep >= 4, null, { timeout: 120_000 });
  await page.click("#pause");
  await waitMessage(page, /^Paused/);
  const paused = await page.evaluate(() => window.vaePage.trainer.globalStep);
  const tensors = (bytes) => Buffer.from(bytes).subarray(8 + Number(Buffer.from(bytes).readBigUInt64LE(0)));
  const atPause = tensors(await page.evaluate(async () => Array.from(await window.vaePage.trainer.exportCheckpoint())));
  await page.fill("#lr", "10");
  await page.click("#resume");
  await page.waitForFunction(() => document.getElementById("message").className.includes("error"), null, { timeout: 300_000 });
  const text = await messageText(page);
  console.log(`paused at step ${paused}, then lr 10; on screen: ${text}`);
  assert.match(text, /^Training stopped: the (loss|parameters) became non-finite at step (\d+)/);
  const [, , bad] = text.match(/the (loss|parameters) became non-finite at step (\d+)/);
  const [, restored] = text.match(/the parameters of step (\d+), the last good ones, were restored/);
  assert.ok(Number(bad) > paused, `diverged at step ${bad}, after the change at ${paused}`);
  assert.equal(Number(restored), paused, "rolled back to where the rate was raised");
  assert.equal(await page.evaluate(() => window.vaePage.trainer.globalStep), paused, "the step count is back too");
  assert.equal(await page.textContent("#step"), String(paused), "and so is the Step box");
  const plotted = await page.evaluate(() => window.vaePage.plot.steps.map((p) => p[0]));
  assert.ok(plotted.every((x) => x <= paused), `the plot forgot the steps after ${paused}: ${plotted.slice(-4)}`);
  assert.match(text, /lower the learning rate/);
  assert.equal(await page.evaluate(() => window.vaePage.state), "paused");
  assert.equal(await page.evaluate(() => window.vaePage.trainer.lastGoodStep), Number(restored));
  assert.equal(await page.isEnabled("#resume"), true);
  assert.equal(await page.isEnabled("#lr"), true);
  await page.screenshot({ path: `${SHOTS}/diverged-1280x800.png` });

  // The restored model can be saved: every value is finite (the checkpoint reader refuses
  // anything else) and it loads back.
  const [download] = await Promise.all([page.waitForEvent("download"), page.click("#download")]);
  const path = `${SHOTS}/diverged.safetensors`;
  await download.saveAs(path);
  const header = safetensorsHeader(readFileSync(path));
  assert.deepEqual(header["fc1.weight"].shape, [400, 784]);
  assert.equal(header.__metadata__.step, String(paused));
  assert.ok(tensors(readFileSync(path)).equals(atPause), "the restored parameters are bit for bit those at the pause");
  await page.setInputFiles("#load", path);
  await waitMessage(page, /^Loaded/);

  // A sane learning rate, applied in place, and training goes on with finite losses.
  await page.fill("#lr", "0.001");
  const before = await page.evaluate(() => window.vaePage.trainer.globalStep);
  await page.click("#resume");
  await page.waitForFunction((s) => window.vaePage.trainer.globalStep >= s + 8 && window.vaePage.plot.steps.at(-1)[0] > s, before, { timeout: 300_000 });
  await page.click("#pause");
  await waitMessage(page, /^Paused/);
  assert.equal(await page.evaluate(() => window.vaePage.trainer.learningRate), Math.fround(0.001));
  const tail = await page.evaluate(() => window.vaePage.plot.steps.slice(-5).map((p) => p[1] + p[2]));
  assert.ok(tail.length > 0 && tail.every(Number.isFinite), `finite losses after the fix: ${tail}`);
  console.log(`after lowering lr: last losses ${tail.map((v) => v.toFixed(1)).join(", ")}`);
  assert.deepEqual(errors, []);
  await closeBrowser(browser);
});

test("a lost GPU device: the page says so, offers the kept checkpoint and resumes on a new device", { timeout: 600_000 }, async () => {
  const browser = await launch(true);
  // Capture every GPUDevice the trainer's worker creates from now on, so the test can destroy
  // the trainer's (Train builds a new trainer there: the shipped model is replaced).
  const capture = () => {
    globalThis.__gpuDevices = [];
    const request = GPUAdapter.prototype.requestDevice;
    GPUAdapter.prototype.requestDevice = async function (...args) {
      const d = await request.apply(this, args);
      globalThis.__gpuDevices.push(d);
      return d;
    };
  };
  const { page, errors } = await openReady(browser, server.url, { acceptDownloads: true });
  assert.equal(await page.evaluate(() => window.vaePage.host.mode), "worker");
  const worker = page.workers().find((w) => w.url().includes("trainer-worker.js"));
  assert.ok(worker, `the trainer's worker among ${page.workers().map((w) => w.url())}`);
  await worker.evaluate(capture);
  await page.click("#train");
  // Train until a checkpoint has been kept in memory while training (every 15 s).
  await page.waitForFunction(() => window.vaePage.kept && window.vaePage.kept.step > 0, null, { timeout: 300_000 });
  const kept = await page.evaluate(() => window.vaePage.kept.step);
  const devices = await worker.evaluate(() => globalThis.__gpuDevices.length);
  assert.ok(devices >= 1, "the new trainer's device was captured");
  await worker.evaluate(() => globalThis.__gpuDevices.at(-1).destroy());
  await page.waitForSelector("#lost", { state: "visible", timeout: 60_000 });
  const panel = await page.textContent("#lost");
  console.log(`on screen: ${(await messageText(page)).trim()} | ${panel.replace(/\s+/g, " ").trim()}`);
  assert.match(panel, /The GPU device was lost/);
  assert.match(panel, /Destroyed|destroyed/);
  assert.match(panel, new RegExp(`The model as of step ${kept} is kept in this page`));
  assert.equal(await page.evaluate(() => window.vaePage.state), "lost");
  assert.equal(await page.isEnabled("#train"), false);
  await page.screenshot({ path: `${SHOTS}/device-lost-1280x800.png` });

  const [download] = await Promise.all([page.waitForEvent("download"), page.click("#lost-download")]);
  assert.equal(download.suggestedFilename(), `vae-step-${kept}.safetensors`);
  const path = `${SHOTS}/device-lost.safetensors`;
  await download.saveAs(path);
  const header = safetensorsHeader(readFileSync(path));
  assert.equal(header.__metadata__.step, String(kept));
  assert.deepEqual(header["fc5.weight"].shape, [784, 400]);

  // A call left pending on the dead trainer (it may never settle) keeps it borrowed: freeing it
  // throws, and Resume must go on regardless.
  await page.evaluate(() => { window.vaePage.trainer.evaluate().catch(() => {}); });
  await page.click("#lost-resume");
  await waitMessage(page, new RegExp(`^Resumed from step ${kept} on a new device`), 120_000);
  assert.equal(await worker.evaluate(() => globalThis.__gpuDevices.length), devices + 1, "a new device was requested");
  assert.equal(await page.isHidden("#lost"), true);
  await page.waitForFunction((k) => window.vaePage.trainer.globalStep >= k + 5, kept, { timeout: 300_000 });
  await page.click("#pause");
  await waitMessage(page, /^Paused/);
  const xs = await page.evaluate(() => window.vaePage.plot.steps.map((p) => p[0]));
  assert.ok(xs.at(-1) > kept, `plotting goes on past step ${kept}: ${xs.slice(-3)}`);
  await page.screenshot({ path: `${SHOTS}/device-resumed-1280x800.png` });
  assert.deepEqual(errors, []);
  await closeBrowser(browser);
});

test("bad files on the page: each a clear message, and the data loaded before is kept", { timeout: 300_000 }, async () => {
  const browser = await launch(true);
  const { page, errors } = await openReady(browser, server.url);
  const file = (name) => readFileSync(`www/data/${name}.gz`);
  const good = {
    "train-images-idx3-ubyte.gz": file("train-images-idx3-ubyte"),
    "train-labels-idx1-ubyte.gz": file("train-labels-idx1-ubyte"),
    "t10k-images-idx3-ubyte.gz": file("t10k-images-idx3-ubyte"),
    "t10k-labels-idx1-ubyte.gz": file("t10k-labels-idx1-ubyte"),
  };
  // The start of a real PNG (signature and IHDR chunk of a 1×1 image) and some pixel bytes.
  const png = Buffer.concat([Buffer.from("89504e470d0a1a0a0000000d4948445200000001000000010806000000", "hex"), Buffer.alloc(64, 7)]);
  const cases = [
    ["a PNG named as training images", { "train-images-idx3-ubyte.gz": png }, /training images: wrong magic/],
    ["images and labels swapped", { "train-images-idx3-ubyte.gz": good["train-labels-idx1-ubyte.gz"], "train-labels-idx1-ubyte.gz": good["train-images-idx3-ubyte.gz"] }, /training images: wrong number of dimensions: 1 \(expected 3\)/],
    ["a truncated gzip", { "t10k-labels-idx1-ubyte.gz": good["t10k-labels-idx1-ubyte.gz"].subarray(0, 2000) }, /test labels: gzip data is corrupt or truncated/],
    ["three files", null, /pick all four IDX files \(got 3\)/],
  ];
  const dataBefore = await page.textContent("#data-status");
  const countBefore = await page.evaluate(() => window.vaePage.trainer.testCount);
  for (const [what, replace, want] of cases) {
    const files = Object.entries({ ...good, ...(replace || {}) }).map(([name, buffer]) => ({ name, mimeType: "application/gzip", buffer }));
    await page.evaluate(() => { const m = document.getElementById("message"); m.textContent = ""; m.className = "message"; });
    await page.setInputFiles("#idx-files", replace ? files : files.slice(0, 3));
    await page.waitForFunction(() => document.getElementById("message").className.includes("error"), null, { timeout: 60_000 });
    const text = await messageText(page);
    console.log(`${what}: ${text}`);
    assert.match(text, want, what);
    assert.equal(await page.textContent("#data-status"), dataBefore, `${what}: data label kept`);
    assert.equal(await page.evaluate(() => window.vaePage.trainer.testCount), countBefore, `${what}: data kept`);
  }
  await page.screenshot({ path: `${SHOTS}/bad-file-1280x800.png` });
  // The data in place still trains.
  await page.click("#train");
  await page.waitForFunction(() => window.vaePage.trainer.globalStep >= 2, null, { timeout: 120_000 });
  await page.click("#pause");
  await waitMessage(page, /^Paused/);
  assert.deepEqual(errors, []);
  await closeBrowser(browser);
});

test("bad settings and oversized files are refused and the model in hand is kept", { timeout: 300_000 }, async () => {
  const browser = await launch(true);
  const { page, errors } = await openReady(browser, server.url);
  await page.click("#train");
  await page.waitForFunction(() => window.vaePage.trainer.globalStep >= 3, null, { timeout: 120_000 });
  await page.click("#pause");
  await waitMessage(page, /^Paused/);
  const step = await page.evaluate(() => window.vaePage.trainer.globalStep);
  // Hidden 0, 9000 or empty, then Train: a message naming the field; the trained model stays.
  for (const [value, want] of [["0", /Hidden: 0 is outside 1 … 8192/], ["9000", /Hidden: 9000 is outside 1 … 8192/], ["", /Hidden: enter a number/]]) {
    await page.fill("#hidden", value);
    await page.click("#train");
    await waitMessage(page, want);
    assert.equal(await page.evaluate(() => window.vaePage.trainer.globalStep), step, `hidden ${value}: the model is kept`);
    assert.equal(await page.isEnabled("#download"), true, `hidden ${value}: Download stays`);
  }
  await page.fill("#hidden", "400");
  // Files past the size limit, dropped or picked as a checkpoint: refused before being read.
  const drop = async (names, big) => page.evaluate(({ names, big }) => {
    const dt = new DataTransfer();
    for (const n of names) dt.items.add(new File([new Uint8Array(n === big ? 129 * 1024 * 1024 : 16)], n));
    document.getElementById("drop").dispatchEvent(new DragEvent("drop", { dataTransfer: dt, bubbles: true, cancelable: true }));
  }, { names, big });
  const names = ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"];
  await drop(names, names[0]);
  await waitMessage(page, /train-images-idx3-ubyte\.gz is \d+ MB, more than the 128 MiB limit/);
  await page.evaluate(() => {
    const dt = new DataTransfer();
    dt.items.add(new File([new Uint8Array(129 * 1024 * 1024)], "huge.safetensors"));
    const input = document.getElementById("load");
    input.files = dt.files;
    input.dispatchEvent(new Event("change"));
  });
  await waitMessage(page, /Could not load huge\.safetensors: the file is \d+ MB, more than the 128 MiB limit/);
  assert.equal(await page.evaluate(() => window.vaePage.trainer.globalStep), step);
  // Resume goes on with the same model.
  await page.click("#resume");
  await page.waitForFunction((s) => window.vaePage.trainer.globalStep > s, step, { timeout: 120_000 });
  await page.click("#pause");
  await waitMessage(page, /^Paused/);
  await page.screenshot({ path: `${SHOTS}/bad-settings-1280x800.png` });
  assert.deepEqual(errors, []);
  await closeBrowser(browser);
});
