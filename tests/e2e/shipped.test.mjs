// The models shipped with the page, drawn before any training: the 20-D VAE beside the shipped
// plain autoencoder (Q5: maps, reconstructions, samples; hovering a map decodes there, so the
// autoencoder's holes are seen) and the shipped 2-D VAE's Kingma-style 10 × 10 grid (Q4). A run
// of the visitor's own replaces them. Screenshots at 1280×800, 800×600 and 360×740 in both
// languages (target/e2e/shipped-*).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { serve, launch, openReady, closeBrowser } from "./serve.mjs";

const SHOTS = "target/e2e";
mkdirSync(SHOTS, { recursive: true });
let server;
before(async () => { server = await serve("dist", "/", { isolate: true }); });
after(async () => { await server.close(); });

test("the shipped autoencoder and 2-D VAE are drawn before any training, and a run replaces them", { timeout: 400_000 }, async () => {
  const browser = await launch(true);
  const { page, errors } = await openReady(browser, `${server.url}?lang=en&engine=cpu`);
  await page.waitForFunction(() => {
    const v = window.vaePage;
    return v.compare.shipped && v.compare.views && v.teach.manifold && v.teach.manifold.shipped;
  }, null, { timeout: 120_000 });
  const shown = await page.evaluate(() => {
    const v = window.vaePage, c = v.compare;
    return {
      steps: v.trainer.globalStep, twinStep: c.twin.globalStep, twinVariational: c.twin.variational,
      mu2: [c.views.vae.mu2, c.views.ae.mu2], active: c.views.vae.active, grid: v.teach.manifold.n,
      hidden: document.getElementById("compare-body").hidden, note: document.getElementById("compare-shipped").textContent,
      test: document.getElementById("cmp-test-ae").textContent, axes: document.getElementById("manifold-axes").textContent,
    };
  });
  console.log(`shipped: mean μ² VAE ${shown.mu2[0].toFixed(2)}, AE ${shown.mu2[1].toFixed(2)}; ${shown.test}`);
  assert.equal(shown.twinVariational, false);
  assert.equal(shown.twinStep, 0, "its weights alone: nothing trains until a run starts");
  assert.equal(shown.hidden, false);
  assert.match(shown.note, /shipped with the page/);
  assert.ok(shown.mu2[1] > 2 * shown.mu2[0], `the autoencoder's means drift from the prior: ${shown.mu2}`);
  assert.match(shown.test, /test reconstruction per sample: 66\.82/);
  assert.equal(shown.grid, 100, "a 10 × 10 grid");
  assert.match(shown.axes, /shipped 2-D VAE/);
  // Hover each map: the point under the pointer is decoded by that map's model.
  for (const name of ["vae", "ae"]) {
    await page.evaluate((n) => document.getElementById(`cmp-map-${n}`).scrollIntoView({ block: "center" }), name);
    const box = await page.locator(`#cmp-map-${name}`).boundingBox();
    await page.mouse.move(box.x + box.width * 0.8, box.y + box.height * 0.3);
    await page.waitForFunction((n) => !document.getElementById(`cmp-hover-${n}`).hidden, name);
    const z = await page.getAttribute(`#cmp-hover-${name}`, "data-z");
    assert.match(z, /^-?[\d.]+,-?[\d.]+$/, `${name}: ${z}`);
  }
  for (const lang of ["en", "ja"]) {
    await page.selectOption("#lang", lang);
    for (const [w, h] of [[1280, 800], [800, 600], [360, 740]]) {
      await page.setViewportSize({ width: w, height: h });
      await page.evaluate(() => window.scrollTo(0, 0));
      await page.screenshot({ path: `${SHOTS}/shipped-top-${lang}-${w}x${h}.png` });
      for (const id of ["compare", "q4"]) {
        await page.evaluate((id) => document.getElementById(id).scrollIntoView(), id);
        await page.screenshot({ path: `${SHOTS}/shipped-${id}-${lang}-${w}x${h}.png` });
      }
    }
  }
  if (await page.inputValue("#lang") !== "en") await page.selectOption("#lang", "en");
  await page.setViewportSize({ width: 1280, height: 800 });

  // The visitor's own run replaces both: the comparison waits for its button, the grid is the
  // new model's.
  await page.fill("#epochs", "1");
  await page.click("#train");
  await page.waitForFunction(() => window.vaePage.state === "training" && !window.vaePage.pretrained, null, { timeout: 120_000 });
  await page.click("#pause");
  await page.waitForFunction(() => window.vaePage.state === "paused" && window.vaePage.teach.manifold && !window.vaePage.teach.manifold.shipped, null, { timeout: 120_000 });
  assert.equal(await page.evaluate(() => window.vaePage.compare.twin), null);
  assert.equal(await page.evaluate(() => document.getElementById("compare-body").hidden), true);
  assert.deepEqual(errors, []);
  await closeBrowser(browser);
});
