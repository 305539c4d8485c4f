// Teach, the panels after the first four: the model's structure (drawn from the live trainer,
// with the WGSL entry points and the milliseconds profileStep measures), the per-epoch history
// (sampled-E.png and reconst-E.png in the CLI's layout, downloadable), and AutoEncoder vs VAE
// (an autoencoder trained beside the VAE on one device, the β slider on the running VAE) — each
// checked to change with training, with screenshots at 1280×800 and 800×600 (target/e2e/).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { serve, launch, openReady, loadDigits, closeBrowser } from "./serve.mjs";

const SHOTS = "target/e2e";
mkdirSync(SHOTS, { recursive: true });
let server;
before(async () => { server = await serve("dist"); });
after(async () => { await server.close(); });

/** Width, height and the first 8 bytes of the PNG the page offers at `selector`'s link (its
 * image shown in the strip). */
async function png(page, selector) {
  return page.evaluate(async (sel) => {
    const a = document.querySelector(sel);
    // The link's blob (the page's CSP allows blob: images, not fetches).
    const files = window.vaePage.history.entries.flatMap((e) => [e.sampled, e.reconst]);
    const file = files.find((f) => f.url === a.href);
    const img = a.querySelector("img");
    if (!img.complete || img.naturalWidth !== file.width) throw new Error(`the strip's image is not drawn: ${img.naturalWidth}`);
    const bytes = new Uint8Array(await file.blob.arrayBuffer());
    const view = new DataView(bytes.buffer);
    return { name: a.download, magic: Array.from(bytes.slice(0, 8)), width: view.getUint32(16), height: view.getUint32(20) };
  }, selector);
}

/** A canvas's pixels, hashed (to see that a drawing changed). */
function canvasHash(page, id) {
  return page.evaluate((id) => {
    const c = document.getElementById(id);
    const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
    let h = 0;
    for (let i = 0; i < d.length; i += 7) h = (h * 31 + d[i]) >>> 0;
    return `${c.width}x${c.height}:${h}`;
  }, id);
}

const PNG_MAGIC = [137, 80, 78, 71, 13, 10, 26, 10];

test("structure, history and AutoEncoder vs VAE: live, downloadable, side by side on one device", { timeout: 900_000 }, async () => {
  const browser = await launch(true);
  const { page, errors, consoleErrors } = await openReady(browser, `${server.url}?lang=en`);

  // The structure figure: an SVG of the seed's VAE with the live batch shapes, the seed's code
  // line at each layer, ε coming in, and the loss's two terms.
  const figure = () => page.evaluate(() => {
    const svg = document.getElementById("structure-svg");
    return { tag: svg.tagName.toLowerCase(), text: svg.textContent, nodes: Array.from(svg.querySelectorAll("[data-node]"), (g) => g.dataset.node) };
  });
  let fig = await figure();
  assert.equal(fig.tag, "svg");
  assert.deepEqual(fig.nodes, ["x", "fc1", "h1", "fc2", "fc3", "mu", "logvar", "reparam", "eps", "z", "fc4", "h4", "fc5", "xhat", "bce", "kl", "total"]);
  for (const part of ["[128, 784]", "[128, 400]", "[128, 20]", "784 → 400", "z = μ + σ·ε", "ε ~ N(0, I)", "h = F.relu(self.fc1(x))",
    "z = mu + torch.exp(log_var/2) * eps", "x_reconst = F.sigmoid(self.fc5(h))", "reduction='sum'", "BCE + β·KL"]) {
    assert.ok(fig.text.includes(part), `the figure shows ${part}`);
  }
  assert.equal(await page.isVisible("#structure-blocks"), false, "the kernels are a collapsed detail");
  await page.click("#structure-detail summary");
  assert.equal(await page.isVisible("#structure-blocks"), true);

  // The structure of the shipped model: 784 → 400 → 20, the seed's names, WGSL entry points.
  const blocks = () => page.evaluate(() => Array.from(document.querySelectorAll("#structure-blocks .block"), (b) => ({
    key: b.dataset.block, head: b.querySelector(".block-head").textContent, code: b.querySelector(".block-code").textContent,
    kernels: Array.from(b.querySelectorAll(".kernels li"), (li) => li.textContent), ms: b.querySelector(".block-ms").dataset.ms,
  })));
  let shown = await blocks();
  assert.deepEqual(shown.map((b) => b.key), ["x", "fc1", "fc23", "reparam", "fc4", "fc5", "loss", "adam"]);
  const by = (k) => shown.find((b) => b.key === k);
  assert.match(by("fc1").head, /fc1 · encode 784 → 400/);
  assert.match(by("fc23").head, /400 → 20 \+ 20/);
  assert.match(by("fc5").head, /fc5 · decode 400 → 784/);
  assert.equal(by("reparam").code, "z = μ + exp(½·log σ²)·ε");
  assert.ok(by("fc1").kernels.some((k) => k.startsWith("linear.wgsl: linear_forward")), by("fc1").kernels.join());
  assert.ok(by("fc1").kernels.some((k) => k.startsWith("linear.wgsl: linear_backward_weight")));
  assert.ok(!by("fc1").kernels.some((k) => k.includes("backward_input")), "fc1 has no input gradient");
  // SwiftShader gets the direct GEMMs and the separate step form (a real GPU: latent.wgsl).
  assert.deepEqual(by("loss").kernels, ["loss.wgsl: loss_bce_kl", "loss.wgsl: loss_reduce"]);
  // fc2|fc3 → z → fc4 is one stage each way: the three blocks list its kernels.
  for (const k of ["fc23", "reparam", "fc4"]) assert.deepEqual(by(k).kernels, by("reparam").kernels, k);
  assert.ok(by("reparam").kernels.includes("reparam.wgsl: reparam_forward"), by("reparam").kernels.join());
  assert.ok(by("reparam").kernels.includes("reparam.wgsl: reparam_backward"), by("reparam").kernels.join());
  assert.equal(by("fc1").ms, undefined, "not timed before the button");
  await page.click("#profile");
  await page.waitForFunction(() => document.querySelector('#structure-blocks [data-block="fc1"] .block-ms').dataset.ms, null, { timeout: 300_000 });
  shown = await blocks();
  for (const b of shown) assert.ok(Number(b.ms) > 0, `${b.key}: ${b.ms} ms`);
  assert.ok(by("fc23").ms === by("reparam").ms && by("reparam").ms === by("fc4").ms, "one time for the fused blocks");
  assert.match(await page.textContent('#structure-blocks [data-block="reparam"] .block-ms'), /fc2\|fc3, reparameterize and fc4 together/);
  assert.match(await page.textContent("#structure-total"), /a whole training step: [\d.]+ ms at batch 128/);

  // The shipped model's entry in the history: the CLI's layout (8 per row, 2-pixel borders).
  assert.deepEqual(await page.evaluate(() => Array.from(document.querySelectorAll("#history-strip figcaption"), (f) => f.textContent)), ["shipped model, epoch 15"]);
  const sampled = await png(page, '#history-strip [data-epoch="15"] a[download^="sampled"]');
  assert.deepEqual(sampled, { name: "sampled-15.png", magic: PNG_MAGIC, width: 8 * 30 + 2, height: 16 * 30 + 2 });
  const reconst = await png(page, '#history-strip [data-epoch="15"] a[download^="reconst"]');
  // MNIST's last batch of an epoch has 60000 − 468·128 = 96 inputs: 12 rows of 8 pairs.
  assert.deepEqual(reconst, { name: "reconst-15.png", magic: PNG_MAGIC, width: 8 * 58 + 2, height: 12 * 30 + 2 });
  await page.screenshot({ path: `${SHOTS}/teach-shipped-1280x800-full.png`, fullPage: true });

  // A small model and small data: the structure follows the new sizes.
  await loadDigits(page, 384, 128);
  await page.fill("#hidden", "64");
  await page.fill("#latent", "2");
  await page.fill("#epochs", "4");
  await page.fill("#batch", "64");
  // β = 0.5 for the VAE (applied to the running one and to every new one).
  await page.$eval("#beta", (el) => { el.value = "0.5"; el.dispatchEvent(new Event("input")); });
  await page.click("#compare-start");
  await page.waitForFunction(() => window.vaePage.compare.twin && window.vaePage.state === "training", null, { timeout: 120_000 });
  const pair = await page.evaluate(async () => {
    const v = window.vaePage;
    return { shares: await v.trainer.sharesDeviceWith(v.compare.twin), beta: v.trainer.klWeight, vae: v.trainer.variational, ae: v.compare.twin.variational };
  });
  assert.deepEqual(pair, { shares: true, beta: 0.5, vae: true, ae: false });
  shown = await blocks();
  assert.match(shown.find((b) => b.key === "fc1").head, /784 → 64/);
  assert.match(shown.find((b) => b.key === "fc23").head, /64 → 2 \+ 2/);
  assert.equal(shown.find((b) => b.key === "fc1").ms, undefined, "the old profile does not describe the new model");
  // The figure follows the settings: batch 64, hidden 64, latent 2.
  fig = await figure();
  for (const part of ["[64, 784]", "[64, 64]", "[64, 2]", "784 → 64", "64 → 2"]) assert.ok(fig.text.includes(part), `the figure shows ${part}`);
  assert.ok(!fig.text.includes("[128,"), "no shape of the old batch size");

  // After the first epoch: both curves, both maps, both test losses, a history entry.
  await page.waitForFunction(() => window.vaePage.plot.epochs.length >= 1 && document.getElementById("cmp-test-ae").textContent, null, { timeout: 300_000 });
  const first = { map: await canvasHash(page, "cmp-map-ae"), samples: await canvasHash(page, "cmp-samples-vae"), curves: await canvasHash(page, "cmp-curves") };
  const c1 = await page.evaluate(() => {
    const c = window.vaePage.compare;
    return { vae: c.curves.vae.length, ae: c.curves.ae.length, kl: c.curves.kl.length, lastVae: c.curves.vae.at(-1)[0], lastAe: c.curves.ae.at(-1)[0] };
  });
  // Both have an epoch's steps; the VAE may be a call ahead (the AE's last steps are read back
  // on its next call or at the epoch's end).
  assert.ok(c1.vae >= 6 && c1.ae >= 6 && c1.kl === c1.vae && c1.lastAe <= c1.lastVae, JSON.stringify(c1));
  assert.match(await page.textContent("#cmp-test-vae"), /test reconstruction per sample: [\d.]+ · KL: [\d.]+/);
  assert.match(await page.textContent("#cmp-test-ae"), /^test reconstruction per sample: [\d.]+$/);
  assert.match(await page.textContent("#cmp-mu2-ae"), /mean of μ² over the test digits and dimensions: [\d.]+/);
  // β changed on the running VAE.
  // The β = 4 preset, and the count of active dimensions beside each map.
  assert.match(await page.textContent("#cmp-mu2-vae"), /active dimensions: \d of 2/);
  await page.click('#beta-presets button[data-beta="4"]');
  await page.waitForFunction(() => window.vaePage.trainer.klWeight === 4);
  assert.equal(await page.inputValue("#beta"), "4");
  await page.waitForFunction(() => window.vaePage.state === "done", null, { timeout: 600_000 });
  const end = await page.evaluate(() => {
    const c = window.vaePage.compare;
    return { views: !!c.views, vae: c.curves.vae.length, ae: c.curves.ae.length, lastVae: c.curves.vae.at(-1)[0], lastAe: c.curves.ae.at(-1)[0], mu2: [c.views.vae.mu2, c.views.ae.mu2], test: c.test };
  });
  console.log(`compare after 4 epochs: mean μ² VAE ${end.mu2[0].toFixed(3)}, AE ${end.mu2[1].toFixed(3)}; test reconstruction VAE ${end.test.vae.toFixed(2)}, AE ${end.test.ae.toFixed(2)}`);
  // At the end both are read back to the last step: the two models in lockstep.
  assert.ok(end.ae === end.vae && end.vae === 4 * 6 && end.lastAe === end.lastVae, JSON.stringify(end));
  assert.notEqual(await canvasHash(page, "cmp-map-ae"), first.map, "the AE's map moved with training");
  assert.notEqual(await canvasHash(page, "cmp-samples-vae"), first.samples, "the VAE's samples changed with training");
  assert.notEqual(await canvasHash(page, "cmp-curves"), first.curves, "the curves grew");
  // The history: one entry per epoch of the new model (the shipped model's is gone), in the
  // CLI's layout: 384 − 5·64 = 64 inputs in the last batch, 8 rows of 8 pairs.
  assert.deepEqual(await page.evaluate(() => Array.from(document.querySelectorAll("#history-strip figcaption"), (f) => f.textContent)), ["epoch 1", "epoch 2", "epoch 3", "epoch 4"]);
  assert.deepEqual(await png(page, '#history-strip [data-epoch="4"] a[download^="reconst"]'), { name: "reconst-4.png", magic: PNG_MAGIC, width: 8 * 58 + 2, height: 8 * 30 + 2 });
  assert.notEqual(
    await page.evaluate(() => document.querySelector('#history-strip [data-epoch="1"] img.sampled').src),
    await page.evaluate(() => document.querySelector('#history-strip [data-epoch="4"] img.sampled').src));
  for (const [w, h] of [[1280, 800], [800, 600]]) {
    await page.setViewportSize({ width: w, height: h });
    await page.evaluate(() => document.getElementById("compare").scrollIntoView());
    await page.screenshot({ path: `${SHOTS}/compare-${w}x${h}.png` });
    await page.evaluate(() => document.getElementById("structure").scrollIntoView());
    await page.screenshot({ path: `${SHOTS}/structure-${w}x${h}.png` });
  }
  // Japanese: every new panel's text switches.
  await page.selectOption("#lang", "ja");
  assert.match(await page.textContent("#compare h2"), /「AutoEncoder との違い」/);
  assert.match(await page.textContent('#structure-blocks [data-block="loss"] .block-head'), /損失/);
  assert.match(await page.textContent("#history-strip figcaption"), /エポック 1/);
  // Stop comparing: the autoencoder is freed, the VAE stays.
  await page.click("#compare-stop");
  assert.equal(await page.evaluate(() => window.vaePage.compare.twin), null);
  assert.ok(await page.evaluate(() => window.vaePage.trainer.globalStep) > 0);
  assert.deepEqual(consoleErrors, []);
  assert.deepEqual(errors, []);
  await closeBrowser(browser);
});
