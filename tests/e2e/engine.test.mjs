// The engines on the page: without WebGPU (a browser without it, or a page opened over plain
// HTTP from another host) the whole page — the shipped model, Explore, training — runs on the
// CPU engine and says why; with WebGPU the engine can be switched both ways and the model in
// hand goes along (same weights, same place in the run). Screenshots go to target/e2e/.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync } from "node:fs";
import { serve, launch, openReady, closeBrowser } from "./serve.mjs";

const SHOTS = "target/e2e";
mkdirSync(SHOTS, { recursive: true });
let server;
before(async () => { server = await serve("dist"); });
after(async () => { await server.close(); });

const message = (page) => page.textContent("#message");

/** Trains until the step count has grown by `n`, then pauses; returns the step reached. */
async function trainSteps(page, n) {
  const from = await page.evaluate(() => window.vaePage.trainer.globalStep);
  await page.click(await page.isEnabled("#resume") ? "#resume" : "#train");
  await page.waitForFunction((s) => window.vaePage.trainer.globalStep >= s, from + n, { timeout: 180_000 });
  await page.click("#pause");
  await page.waitForFunction(() => /^(Paused|一時停止)/.test(document.getElementById("message").textContent), null, { timeout: 60_000 });
  return page.evaluate(() => window.vaePage.trainer.globalStep);
}

/** The whole page on the CPU engine: the shipped model shown and explorable, training runs and
 * the plot gets points, and the notice says `why`. */
async function checkCpuPage(page, why, shot) {
  assert.equal(await page.evaluate(() => window.vaePage.trainer.engine), "cpu");
  assert.equal(await page.isVisible("#nogpu"), true, "the notice is shown");
  assert.match(await page.textContent("#nogpu"), why);
  assert.match(await page.textContent("#adapter"), /CPU engine/);
  // This Chromium runs relaxed SIMD: the relaxed build loaded, and the trainer says so.
  assert.equal(await page.evaluate(() => window.vaePage.wasmBuild), "relaxed-simd");
  assert.match(await page.evaluate(() => window.vaePage.trainer.adapter), /relaxed SIMD/);
  assert.equal(await page.$eval('#engine option[value="webgpu"]', (o) => o.disabled), true);
  // The shipped model, explorable at once.
  assert.ok(await page.evaluate(() => !!window.vaePage.pretrained), "the shipped model is shown");
  assert.match(await message(page), /trained for \d+ epochs/);
  const z = await page.evaluate(async () => {
    const t = window.vaePage.trainer;
    const px = await t.decode(new Float32Array(t.latent));
    return px.length;
  });
  assert.equal(z, 784);
  // Training runs, with losses on the plot.
  const step = await trainSteps(page, 4);
  assert.ok(step >= 4, `step ${step}`);
  const points = await page.evaluate(() => window.vaePage.plot.steps.length);
  assert.ok(points >= 4, `${points} loss points`);
  const loss = await page.evaluate(() => window.vaePage.plot.steps.at(-1)[1]);
  assert.ok(Number.isFinite(loss) && loss > 50 && loss < 600, `reconstruction ${loss}`);
  // The structure panel names the CPU engine's functions and times them.
  assert.match(await page.textContent("#structure"), /cpu\/step\.rs: linear_forward/);
  // The kernels and timings sit in a collapsed detail under the structure figure.
  await page.evaluate(() => { document.getElementById("structure-detail").open = true; });
  await page.click("#profile");
  await page.waitForFunction(() => /a whole training step: [\d.]+ ms/.test(document.getElementById("structure").textContent), null, { timeout: 120_000 });
  await page.screenshot({ path: `${SHOTS}/${shot}` });
}

test("in a browser without WebGPU the whole page runs on the CPU engine and says why", { timeout: 600_000 }, async () => {
  // An older browser, or Firefox on Linux: no navigator.gpu at all.
  const browser = await launch(false);
  const noWebgpu = () => { delete Navigator.prototype.gpu; };
  const { page, errors } = await openReady(browser, `${server.url}?lang=en&engine=auto`, {}, noWebgpu);
  assert.equal(await page.evaluate(() => "gpu" in navigator), false);
  await checkCpuPage(page, /does not offer WebGPU/, "cpu-no-webgpu-1280x800.png");
  assert.match(await page.textContent("#nogpu"), /enable-unsafe-webgpu/);
  // An explicit ?engine=webgpu cannot be had here: the page falls back to auto (the CPU).
  await page.goto(`${server.url}?lang=ja&engine=webgpu`);
  await page.waitForFunction(() => /^準備完了/.test(document.getElementById("message").textContent), null, { timeout: 180_000 });
  assert.equal(await page.evaluate(() => window.vaePage.trainer.engine), "cpu");
  assert.match(await page.textContent("#nogpu"), /WebGPU を提供していない/);
  await page.setViewportSize({ width: 800, height: 600 });
  await page.screenshot({ path: `${SHOTS}/cpu-no-webgpu-ja-800x600.png` });
  assert.deepEqual(errors, []);
  await closeBrowser(browser);
});

test("with WebGPU present but no adapter the page runs on the CPU engine and says so", { timeout: 600_000 }, async () => {
  // Chromium on Linux without --enable-unsafe-webgpu: navigator.gpu, but no adapter.
  const browser = await launch(false);
  const { page, errors } = await openReady(browser, `${server.url}?lang=en&engine=auto`);
  assert.equal(await page.evaluate(() => "gpu" in navigator), true);
  await checkCpuPage(page, /WebGPU is present but gave no GPU adapter/, "cpu-no-adapter-1280x800.png");
  assert.deepEqual(errors, []);
  await closeBrowser(browser);
});

test("over plain HTTP from another host the page says WebGPU needs a secure page", { timeout: 600_000 }, async () => {
  // vae.test resolves to this machine; as a plain-HTTP origin that is not localhost it is not a
  // secure context, so Chromium withholds WebGPU even with the flag on.
  const browser = await launch(true, ["--host-resolver-rules=MAP vae.test 127.0.0.1"]);
  const port = new URL(server.url).port;
  const { page, errors } = await openReady(browser, `http://vae.test:${port}/?lang=en&engine=auto`);
  assert.equal(await page.evaluate(() => window.isSecureContext), false);
  await checkCpuPage(page, /plain HTTP \(http:\/\/vae\.test:\d+\).*HTTPS.*localhost/, "cpu-insecure-1280x800.png");
  assert.equal(await page.isVisible("#nogpu ul"), false, "no browser advice: the browser is not the problem");
  assert.deepEqual(errors, []);
  await closeBrowser(browser);
});

test("with WebGPU asked for, the CPU engine draws the shipped model at once, then the model moves to WebGPU", { timeout: 600_000 }, async () => {
  const browser = await launch(true);
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const errors = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    await page.goto(`${server.url}?lang=en&engine=webgpu`);
    // The first picture, while WebGPU's pipelines build (≈ 8 s on SwiftShader): drawn by the CPU
    // engine, the message says so, and Train waits.
    await page.waitForFunction(() => window.vaePage && window.vaePage.firstPictureMs && /while WebGPU builds/.test(document.getElementById("message").textContent), null, { timeout: 120_000, polling: 50 });
    const tensors = () => page.evaluate(async () => {
      const b = await window.vaePage.trainer.exportCheckpoint();
      const n = Number(new DataView(b.buffer, b.byteOffset).getBigUint64(0, true));
      let h = 2166136261;
      for (const v of b.subarray(8 + n)) h = Math.imul(h ^ v, 16777619) >>> 0;
      return h;
    });
    const interim = await page.evaluate(() => ({
      engine: window.vaePage.trainer.engine,
      pretrained: !!window.vaePage.pretrained,
      train: document.getElementById("train").disabled,
      lit: (() => {
        const c = document.getElementById("recon-canvas");
        const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
        let lit = 0;
        for (let i = 0; i < d.length; i += 4) if (d[i] > 40) lit++;
        return lit;
      })(),
    }));
    assert.deepEqual({ ...interim, lit: interim.lit > 200 }, { engine: "cpu", pretrained: true, train: true, lit: true });
    const drawn = await tensors();
    // Then the model runs on WebGPU, the shipped one still, and the page says Ready.
    await page.waitForFunction(() => /^Ready/.test(document.getElementById("message").textContent), null, { timeout: 180_000, polling: 100 });
    assert.equal(await page.evaluate(() => window.vaePage.trainer.engine), "webgpu");
    // The shipped model came along: the same tensors, byte for byte (a new model's differ).
    assert.equal(await tensors(), drawn);
    assert.match(await message(page), /trained for 15 epochs/);
    assert.equal(await page.getAttribute("#adapter", "data-engine"), "webgpu");
    assert.deepEqual(errors, []);
  } finally {
    await closeBrowser(browser);
  }
});

test("the engine switches both ways and the model goes along", { timeout: 600_000 }, async () => {
  const browser = await launch(true);
  const { page, errors } = await openReady(browser, `${server.url}?lang=en&engine=webgpu`);
  assert.equal(await page.evaluate(() => window.vaePage.trainer.engine), "webgpu");
  assert.equal(await page.isVisible("#nogpu"), false);
  // The checkpoint summarised: its header (parsed: the metadata's key order is not fixed) and
  // a hash of the tensors' bytes.
  const exported = () => page.evaluate(async () => {
    const b = await window.vaePage.trainer.exportCheckpoint();
    const n = Number(new DataView(b.buffer, b.byteOffset).getBigUint64(0, true));
    let h = 2166136261;
    for (const v of b.subarray(8 + n)) h = Math.imul(h ^ v, 16777619) >>> 0;
    return { header: JSON.parse(new TextDecoder().decode(b.subarray(8, 8 + n))), tensors: b.length - 8 - n, hash: h };
  });
  const shipped = await exported();
  // The shipped model moves to the CPU engine unchanged, with its place in the run.
  await page.selectOption("#engine", "cpu");
  await page.waitForFunction(() => /^Ready\. The model/.test(document.getElementById("message").textContent), null, { timeout: 180_000 });
  assert.equal(await page.evaluate(() => window.vaePage.trainer.engine), "cpu");
  assert.match(page.url(), /engine=cpu/);
  assert.deepEqual(await exported(), shipped, "the checkpoint is the same on the CPU engine");
  assert.ok(await page.evaluate(() => !!window.vaePage.pretrained), "still the shipped model");
  // Train on the CPU, then back to WebGPU: the run goes on where it was.
  const step = await trainSteps(page, 3);
  const onCpu = await exported();
  await page.selectOption("#engine", "webgpu");
  await page.waitForFunction(() => /^Ready\. The model/.test(document.getElementById("message").textContent), null, { timeout: 180_000 });
  assert.equal(await page.evaluate(() => window.vaePage.trainer.engine), "webgpu");
  assert.equal(await page.evaluate(() => window.vaePage.trainer.globalStep), step);
  assert.deepEqual(await exported(), onCpu, "the checkpoint is the same back on WebGPU");
  const after = await trainSteps(page, 2);
  assert.ok(after >= step + 2);
  const xs = await page.evaluate(() => window.vaePage.plot.steps.map((p) => p[0]));
  assert.ok(xs.every((x, i) => i === 0 || x > xs[i - 1]), `plotted steps go forward across the switches: ${xs}`);
  // Auto on this software adapter: the CPU engine, decided at once from the adapter, and said.
  await page.selectOption("#engine", "auto");
  await page.waitForFunction(() => /^Ready\. The model/.test(document.getElementById("message").textContent), null, { timeout: 180_000 });
  const reason = await page.evaluate(() => window.vaePage.trainer.engineReason);
  console.log(`auto chose ${await page.evaluate(() => window.vaePage.trainer.engine)}: ${reason}`);
  assert.match(reason, /the adapter is a software one \(a GPU emulated on the CPU\)/);
  assert.equal(await page.evaluate(() => window.vaePage.trainer.engine), "cpu");
  await page.screenshot({ path: `${SHOTS}/engine-switched-1280x800.png` });
  assert.deepEqual(errors, []);
  await closeBrowser(browser);
});

/** In `page`: a fresh CPU-engine trainer (seed 7) on MNIST trains `steps` steps; returns each
 * step's numbers, a hash of the checkpoint's tensors, the build and the threads, and the time. */
const seededCpuRun = (page, steps) => page.evaluate(async (steps) => {
  const { settings } = window.vaePage.wasm;
  const host = window.vaePage.host; // the page's trainer worker
  const files = await Promise.all(settings().idxFiles.map(async (f) => new Uint8Array(await (await fetch(`data/${f}.gz`)).arrayBuffer())));
  const t = await host.create({ engine: "cpu", seed: 7 });
  await t.loadDataset(...files);
  await t.train(1);
  const t0 = performance.now();
  const { records } = await t.train(steps);
  const ms = performance.now() - t0;
  const b = await t.exportCheckpoint();
  const n = Number(new DataView(b.buffer, b.byteOffset).getBigUint64(0, true));
  let hash = 2166136261;
  for (const v of b.subarray(8 + n)) hash = Math.imul(hash ^ v, 16777619) >>> 0;
  const adapter = t.adapter;
  t.free();
  return { records: Array.from(records), hash, adapter, ms, build: window.vaePage.wasmBuild, threads: (await host.info()).cpuThreads };
}, steps);

test("cross-origin isolated, the CPU engine splits its work over threads: the same run bit for bit", { timeout: 600_000 }, async (t) => {
  // The threads build needs the pinned nightly (scripts/setup.sh); a machine that could not
  // install it builds the page without it.
  if (!existsSync("dist/vae-webgpu-threads.js")) {
    t.skip("dist/ has no threads build (scripts/trunk-post-build.sh found no pinned nightly)");
    return;
  }
  const isolated = await serve("dist", "/", { isolate: true });
  const browser = await launch(false);
  try {
    // Threads where the page is cross-origin isolated (COOP/COEP): by default the relaxed-SIMD
    // threads build (Chromium validates relaxed SIMD), its workers on their own script.
    const relaxed = await openReady(browser, `${isolated.url}?lang=en&engine=cpu&threads=2`);
    assert.equal(await relaxed.page.evaluate(() => window.vaePage.wasmBuild), "threads-relaxed");
    assert.match(await relaxed.page.evaluate(() => window.vaePage.trainer.adapter), /^CPU engine \(wasm SIMD128 \+ relaxed SIMD, 2 threads\)$/);
    const relaxedRun = await seededCpuRun(relaxed.page, 3);
    assert.equal(relaxedRun.threads, 2);
    assert.ok(relaxedRun.records.every((r) => Number.isFinite(r.loss ?? r)), "finite losses");
    assert.deepEqual(relaxed.errors, []);
    await relaxed.page.close();
    // ?simd=plain: the SIMD128 threads build, 2 threads (its arithmetic is the one-thread
    // SIMD128 build's, compared below).
    const { page, errors } = await openReady(browser, `${isolated.url}?lang=en&engine=cpu&threads=2&simd=plain`);
    assert.equal(await page.evaluate(() => self.crossOriginIsolated), true);
    assert.equal(await page.evaluate(() => window.vaePage.wasmBuild), "threads");
    assert.equal(await page.textContent("#adapter"), "CPU engine · WebAssembly · 2 threads");
    assert.match(await page.evaluate(() => window.vaePage.trainer.adapter), /^CPU engine \(wasm SIMD128, 2 threads\)$/);
    const threaded = await seededCpuRun(page, 20);
    assert.equal(threaded.threads, 2);
    // The page itself trains on them, with its plot and images.
    const step = await trainSteps(page, 4);
    assert.ok(step >= 4, `step ${step}`);
    // Both threads on a machine of 2 cores (this one, CI's) take every core: the plot and the
    // progress are redrawn at most every 1250 ÷ cores ms (scheduler.js), else every 250 ms.
    const cores = await page.evaluate(() => navigator.hardwareConcurrency);
    assert.equal(await page.evaluate(() => window.vaePage.plotMs), cores <= 2 ? Math.max(250, Math.round(1250 / cores)) : 250, `${cores} cores`);
    await page.screenshot({ path: `${SHOTS}/cpu-threads-1280x800.png` });
    assert.deepEqual(errors, []);
    await page.close();
    // One thread, same arithmetic (the SIMD128 build, not isolated): the same losses and the
    // same parameters, bit for bit.
    const plain = await openReady(browser, `${server.url}?lang=en&engine=cpu&simd=plain`);
    assert.equal(await plain.page.evaluate(() => window.vaePage.wasmBuild), "simd128");
    const single = await seededCpuRun(plain.page, 20);
    assert.equal(single.threads, 1);
    assert.match(single.adapter, /one thread/);
    assert.equal(threaded.records.length, single.records.length);
    assert.deepEqual(threaded.records, single.records, "every step's numbers");
    assert.equal(threaded.hash, single.hash, "the parameters and Adam's moments");
    t.diagnostic(`20 steps: ${threaded.ms.toFixed(0)} ms on 2 threads, ${single.ms.toFixed(0)} ms on one (${(single.ms / threaded.ms).toFixed(2)}×)`);
    assert.deepEqual(plain.errors, []);
    // ?threads=1 on an isolated page: no workers (the one-thread builds).
    const one = await openReady(browser, `${isolated.url}?lang=en&engine=cpu&threads=1&simd=plain`);
    assert.equal(await one.page.evaluate(() => window.vaePage.wasmBuild), "simd128");
    assert.equal(await one.page.textContent("#adapter"), "CPU engine · WebAssembly");
    assert.deepEqual(one.errors, []);
  } finally {
    await closeBrowser(browser);
    await isolated.close();
  }
});
