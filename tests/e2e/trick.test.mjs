// Q3 live: the reparameterization trick's gradient for the picked input and dimension, and the
// trick switched off — the same VAE trained beside one without a gradient through z, on the
// CPU engine (fast here), for one MNIST epoch: the one without collapses to the prior and
// reconstructs one average digit. Screenshots at 1280×800 in both languages (target/e2e/).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { serve, launch, openReady, closeBrowser } from "./serve.mjs";

const SHOTS = "target/e2e";
mkdirSync(SHOTS, { recursive: true });
let server;
before(async () => { server = await serve("dist", "/", { isolate: true }); });
after(async () => { await server.close(); });

test("Q3: the live gradient through z, and the trick switched off trained side by side", { timeout: 600_000 }, async () => {
  const browser = await launch(true);
  const { page, errors } = await openReady(browser, `${server.url}?lang=en&engine=cpu`);
  // The shipped model's Q3: ∂BCE/∂z for the picked input, and what reaches μ and log σ².
  await page.waitForFunction(() => document.getElementById("q3-grad").dataset.g !== undefined, null, { timeout: 60_000 });
  const grad = await page.evaluate(() => {
    const d = document.getElementById("q3-grad").dataset, v = window.vaePage.teach.values;
    return { g: Number(d.g), dmu: Number(d.dmu), dlv: Number(d.dlv), ...v, text: document.getElementById("q3-grad").textContent };
  });
  assert.ok(Number.isFinite(grad.g) && grad.g !== 0, JSON.stringify(grad));
  assert.equal(grad.dmu, grad.g, "∂BCE/∂μ = ∂BCE/∂z · 1");
  assert.ok(Math.abs(grad.dlv - grad.g * 0.5 * grad.sigma * grad.eps) <= 1e-6 * Math.abs(grad.dlv) + 1e-12, "∂BCE/∂log σ² = ∂BCE/∂z · ½σε");
  assert.match(grad.text, /∂BCE\/∂z = .*switched off both are 0/);
  // A new ε gives a new z and a new gradient.
  await page.click("#reparam-eps");
  await page.waitForFunction((g) => Number(document.getElementById("q3-grad").dataset.g) !== g, grad.g);

  // The trick switched off, beside the VAE with it: one epoch of MNIST from the same seed.
  await page.fill("#epochs", "1");
  await page.click("#compare-notrick");
  await page.waitForFunction(() => window.vaePage.compare.twin && window.vaePage.state === "training", null, { timeout: 120_000 });
  const pair = await page.evaluate(() => {
    const v = window.vaePage;
    return { trick: v.trainer.reparameterize, twin: v.compare.twin.reparameterize, variational: v.compare.twin.variational, kind: document.getElementById("compare-title").dataset.kind, title: document.getElementById("compare-title").textContent };
  });
  assert.deepEqual({ ...pair, title: undefined }, { trick: true, twin: false, variational: true, kind: "notrick", title: undefined });
  assert.match(pair.title, /^Q3 · The trick switched off/);
  await page.waitForFunction(() => window.vaePage.state === "done", null, { timeout: 480_000 });
  await page.waitForFunction(() => Number.isFinite(window.vaePage.compare.test.ae) && window.vaePage.compare.views);
  const end = await page.evaluate(() => {
    const c = window.vaePage.compare;
    return { mu2: [c.views.vae.mu2, c.views.ae.mu2], active: [c.views.vae.active, c.views.ae.active], test: c.test, steps: [c.curves.vae.length, c.curves.ae.length] };
  });
  console.log(`one epoch: mean μ² with the trick ${end.mu2[0].toFixed(3)}, without ${end.mu2[1].toFixed(4)}; test reconstruction ${end.test.vae.toFixed(1)} vs ${end.test.ae.toFixed(1)}; KL without ${end.test.aeKl.toFixed(3)}`);
  assert.deepEqual(end.steps, [469, 469], "both models took the epoch's steps");
  assert.ok(end.mu2[1] < 0.05, `without the trick μ falls to the prior: ${end.mu2[1]}`);
  assert.ok(end.mu2[0] > 0.3, `with the trick μ spreads: ${end.mu2[0]}`);
  assert.equal(end.active[1], 0, "without the trick no dimension carries the input");
  assert.ok(end.test.ae >= 1.3 * end.test.vae, `reconstruction ${end.test.ae} vs ${end.test.vae}`);
  assert.match(await page.textContent("#cmp-test-ae"), /test reconstruction per sample: [\d.]+ · KL: [\d.]+/);
  // The visitor's 20-D model's grid: along its latent map's two principal axes.
  await page.waitForFunction(() => window.vaePage.teach.manifold && !window.vaePage.teach.manifold.shipped);
  assert.deepEqual(await page.evaluate(() => window.vaePage.teach.manifold), { n: 100, pca: true, shipped: false });
  assert.match(await page.textContent("#manifold-axes"), /^along the latent map's two principal axes \(\d+% \+ \d+% of μ's variance\)/);
  await page.evaluate(() => document.getElementById("compare").scrollIntoView());
  await page.screenshot({ path: `${SHOTS}/notrick-en-1280x800.png` });
  // reduction='mean' as a preset: β = 784 on the running VAE, past the slider's end.
  await page.click('#beta-presets button[data-beta="784"]');
  await page.waitForFunction(() => window.vaePage.trainer.klWeight === 784);
  assert.equal(await page.textContent("#beta-value"), "784");
  await page.selectOption("#lang", "ja");
  assert.match(await page.textContent("#compare-title"), /^Q3 · トリックを外すと/);
  assert.match(await page.textContent("#cmp-twin-title"), /トリックなしの VAE/);
  await page.screenshot({ path: `${SHOTS}/notrick-ja-1280x800.png` });
  await page.evaluate(() => document.getElementById("q3").scrollIntoView());
  await page.screenshot({ path: `${SHOTS}/q3-ja-1280x800.png` });
  assert.deepEqual(errors, []);
  await closeBrowser(browser);
});
