// End to end: the built page (dist/, from `trunk build --release`) in headless Chromium with
// WebGPU (SwiftShader): MNIST loads, training runs, canvases fill, the loss plot gets points, Pause
// stops progress, a downloaded checkpoint loads back (the page without WebGPU: engine.test.mjs).
// Screenshots go to target/e2e/. Run: node --test tests/e2e/
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { serve, launch, openReady, loadDigits, closeBrowser, within } from "./serve.mjs";

const SHOTS = "target/e2e";
mkdirSync(SHOTS, { recursive: true });
let server;
before(async () => { server = await serve("dist"); });
after(async () => { await server.close(); });

/** Pixels of canvas `id` that are lit (red > 40), or with `curve`, of the loss plot's
 * reconstruction curve (#1d4ed8, blue; antialiased edges too). */
async function nonBlank(page, id, curve = false) {
  return page.evaluate(({ id, curve }) => {
    const c = document.getElementById(id);
    if (!c.width || !c.height) return 0;
    const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
    const lit = curve
      ? (i) => d[i + 3] > 200 && d[i + 2] > 150 && d[i] < 90 && d[i + 1] < 120
      : (i) => d[i] > 40;
    let n = 0;
    for (let i = 0; i < d.length; i += 4) if (lit(i)) n++;
    return n;
  }, { id, curve });
}

test("the page trains, draws, pauses and round-trips a checkpoint", { timeout: 600_000 }, async () => {
  const browser = await launch(true);
  const { page, errors } = await openReady(browser, server.url, { acceptDownloads: true, streaming: true });
  assert.match(await page.textContent("#adapter"), /WebGPU/);
  // The shipped model is drawn from the test set; the training set streams in after, and Train
  // waits for it.
  assert.match(await page.textContent("#data-status"), /10,000 test digits are in|60,000 training/);
  await page.waitForFunction(() => /60,000 training/.test(document.getElementById("data-status").textContent) && !document.getElementById("train").disabled);

  await page.click("#train");
  await page.waitForFunction(() => window.vaePage.plot.steps.length >= 6, null, { timeout: 300_000 });
  // images are refreshed every few seconds while training
  await page.waitForFunction(() => performance.now() - window.vaePage.lastRefresh < 5000 && window.vaePage.plot.steps.length >= 6, null, { timeout: 120_000 });
  assert.ok((await nonBlank(page, "recon-canvas")) > 200, "reconstructions are drawn");
  assert.ok((await nonBlank(page, "samples-canvas")) > 200, "samples are drawn");
  assert.ok((await nonBlank(page, "walk-canvas")) > 100, "latent walk is drawn");
  assert.ok((await nonBlank(page, "plot", true)) > 50, "the loss plot's reconstruction curve is drawn");
  const points = await page.evaluate(() => window.vaePage.plot.pointCount());
  assert.ok(points >= 6, `loss plot has ${points} points`);
  const rate = await page.textContent("#rate");
  console.log(`samples/s shown: ${rate}; steps so far: ${await page.textContent("#step")}`);
  await page.screenshot({ path: `${SHOTS}/training-1280x800.png` });
  await page.setViewportSize({ width: 800, height: 600 });
  await page.waitForTimeout(300);
  await page.screenshot({ path: `${SHOTS}/training-800x600.png`, fullPage: true });
  await page.setViewportSize({ width: 1280, height: 800 });

  // Pause takes effect quickly and progress stops.
  const t0 = Date.now();
  await page.click("#pause");
  await page.waitForFunction(() => document.getElementById("message").textContent.startsWith("Paused"), null, { timeout: 30_000 });
  console.log(`pause settled in ${Date.now() - t0} ms`);
  const stepA = await page.evaluate(() => window.vaePage.trainer.globalStep);
  await page.waitForTimeout(2000);
  const stepB = await page.evaluate(() => window.vaePage.trainer.globalStep);
  assert.equal(stepB, stepA, "no steps while paused");
  assert.equal(await page.isEnabled("#resume"), true);

  // Download a checkpoint, then load it back.
  const [download] = await Promise.all([page.waitForEvent("download"), page.click("#download")]);
  const path = `${SHOTS}/checkpoint.safetensors`;
  await download.saveAs(path);
  assert.match(download.suggestedFilename(), /^vae-step-\d+\.safetensors$/);
  await page.setInputFiles("#load", path);
  await page.waitForFunction(() => document.getElementById("message").textContent.startsWith("Loaded"), null, { timeout: 60_000 });
  // A file that is not a checkpoint is refused with a message; the model stays usable.
  await page.setInputFiles("#load", { name: "bad.safetensors", mimeType: "application/octet-stream", buffer: Buffer.from("not a checkpoint") });
  await page.waitForFunction(() => document.getElementById("message").className.includes("error"), null, { timeout: 30_000 });
  assert.match(await page.textContent("#message"), /bad\.safetensors: bad checkpoint/);

  // Resume continues from where it paused.
  await page.click("#resume");
  await page.waitForFunction((s) => window.vaePage.trainer.globalStep > s, stepA, { timeout: 120_000 });
  await page.click("#pause");
  await page.waitForFunction(() => document.getElementById("message").textContent.startsWith("Paused"), null, { timeout: 30_000 });
  const xs = await page.evaluate(() => window.vaePage.plot.steps.map((p) => p[0]));
  assert.ok(xs.every((x, i) => i === 0 || x > xs[i - 1]), `plotted steps go forward after a checkpoint load: ${xs}`);
  await page.screenshot({ path: `${SHOTS}/paused-1280x800.png` });
  assert.deepEqual(errors, []);
  await closeBrowser(browser);
});

test("a strict Content-Security-Policy: no inline script or style runs, nothing loads from elsewhere", { timeout: 300_000 }, async (t) => {
  // Each phase is timed and reported, so a slow or stuck one is named in the log.
  const t0 = performance.now();
  const phase = (what) => t.diagnostic(`${what} at ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const browser = await launch(true);
  const { page, errors } = await openReady(browser, server.url);
  phase("ready");
  const csp = await page.getAttribute('meta[http-equiv="Content-Security-Policy"]', "content");
  assert.match(csp, /script-src 'self' 'wasm-unsafe-eval';/);
  assert.doesNotMatch(csp, /'unsafe-inline'|'unsafe-eval'|\*|https?:/);
  // Train briefly, so the training loop's code runs under the policy too.
  await page.click("#train");
  await page.waitForFunction(() => window.vaePage.trainer && window.vaePage.trainer.globalStep >= 4, null, { timeout: 120_000 });
  phase("4 steps trained");
  await page.click("#pause");
  await page.waitForFunction(() => document.getElementById("message").textContent.startsWith("Paused"));
  phase("paused");
  assert.deepEqual(errors, []);
  // It got this far (wasm compiled, model built, trained) under that policy with no violation
  // reported (openReady collects them). An inline script and an inline style are refused.
  const refused = await within(60_000, "the inline script and style probe", page.evaluate(async () => {
    const seen = [];
    document.addEventListener("securitypolicyviolation", (e) => seen.push(e.violatedDirective));
    const s = document.createElement("script");
    s.textContent = "window.__inlineRan = true";
    document.body.append(s);
    const d = document.createElement("div");
    d.setAttribute("style", "width: 123px");
    document.body.append(d);
    await new Promise((r) => setTimeout(r, 200));
    const width = d.getBoundingClientRect().width;
    s.remove();
    d.remove();
    return { ran: window.__inlineRan === true, width, seen };
  }));
  phase("probed");
  assert.equal(refused.ran, false, "an inline script ran");
  assert.notEqual(refused.width, 123, "an inline style applied");
  assert.ok(refused.seen.some((d) => d.startsWith("script-src")) && refused.seen.some((d) => d.startsWith("style-src")), `violations: ${refused.seen}`);
  await closeBrowser(browser);
});

test("trainers created and freed back to back leave the GPU usable", { timeout: 300_000 }, async (t) => {
  // A trainer freed while SwiftShader still compiled its pipelines used to hang Chromium's GPU
  // process (and the page with it) now and then when the next device was requested.
  const browser = await launch(true);
  const { page, errors } = await openReady(browser, server.url);
  for (let round = 0; round < 4; round++) {
    const ms = await within(60_000, `round ${round}: create, free, create`, page.evaluate(async () => {
      const t0 = performance.now();
      const host = window.vaePage.host; // in the page's trainer worker
      const a = await host.create({ hidden: 16, latent: 2, batchSize: 8, engine: "webgpu" });
      a.free();
      const b = await host.create({ hidden: 16, latent: 2, batchSize: 8, engine: "webgpu" });
      const side = b.imageSide;
      b.free();
      if (side !== 28) throw new Error(`image side ${side}`);
      return performance.now() - t0;
    }));
    t.diagnostic(`round ${round}: two trainers created and freed in ${ms.toFixed(0)} ms`);
  }
  // The page's own trainer still trains.
  await page.click("#train");
  await page.waitForFunction(() => window.vaePage.trainer.globalStep >= 2, null, { timeout: 120_000 });
  assert.deepEqual(errors, []);
  await closeBrowser(browser);
});

test("own IDX files train through whole epochs with test loss per epoch", { timeout: 600_000 }, async () => {
  const browser = await launch(true);
  const { page, errors } = await openReady(browser, server.url);
  await loadDigits(page, 640, 256);
  await page.fill("#epochs", "2");
  await page.fill("#batch", "64");
  await page.click("#train");
  await page.waitForFunction(() => window.vaePage.state === "done", null, { timeout: 500_000 });
  const epochs = await page.evaluate(() => window.vaePage.plot.epochs);
  assert.equal(epochs.length, 2, "a train and a test point per epoch");
  for (const [step, train, testLoss] of epochs) {
    assert.ok(step > 0 && Number.isFinite(train) && Number.isFinite(testLoss), `epoch point ${[step, train, testLoss]}`);
  }
  assert.equal(await page.evaluate(() => window.vaePage.trainer.globalStep), 20);
  assert.notEqual(await page.textContent("#test"), "–");
  assert.match(await page.textContent("#message"), /Finished 2 epochs/);
  await page.screenshot({ path: `${SHOTS}/own-data-done-1280x800.png` });
  assert.deepEqual(errors, []);
  await closeBrowser(browser);
});

test("dist/ works under a sub-path (relative URLs: the module, the wasm, MNIST, the shipped model)", { timeout: 300_000 }, async () => {
  const sub = await serve("dist", "/some/path/");
  const browser = await launch(true);
  try {
    const { page, errors, consoleErrors } = await openReady(browser, `${sub.url}?lang=en`);
    assert.ok(page.url().includes("/some/path/"));
    await page.waitForFunction(() => window.vaePage.pretrained, null, { timeout: 120_000 });
    assert.match(await page.textContent("#data-status"), /MNIST/);
    assert.ok(await page.evaluate(() => window.vaePage.trainer.testCount) === 10000);
    assert.deepEqual(consoleErrors, [], "no 404 under the sub-path");
    assert.deepEqual(errors, []);
  } finally {
    await closeBrowser(browser);
    await sub.close();
  }
});
