// The Explore view in headless Chromium (WebGPU on SwiftShader): draw strokes with the mouse and
// see μ/σ and the sampled decodes change, hover the latent map and see its decode change, drag the
// interpolation slider; measure hover-to-decode latency while training runs (reported, not
// asserted). Screenshots in target/e2e/.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { serve, launch, openReady, closeBrowser } from "./serve.mjs";

const SHOTS = "target/e2e";
mkdirSync(SHOTS, { recursive: true });
let server;
before(async () => { server = await serve("dist"); });
after(async () => { await server.close(); });

const pixels = (page, id) => page.evaluate((id) => {
  const c = document.getElementById(id);
  return Array.from(c.getContext("2d").getImageData(0, 0, c.width, c.height).data.filter((_, i) => i % 4 === 0));
}, id);
const lit = (px) => px.filter((v) => v > 40).length;
const differ = (a, b) => a.length !== b.length || a.some((v, i) => Math.abs(v - b[i]) > 8);

async function stroke(page, points) {
  const box = await page.locator("#draw").boundingBox();
  const at = ([x, y]) => [box.x + x * box.width, box.y + y * box.height];
  await page.mouse.move(...at(points[0]));
  await page.mouse.down();
  for (const p of points.slice(1)) await page.mouse.move(...at(p), { steps: 6 });
  await page.mouse.up();
}

test("draw, see μ and σ, sample, hover the map, interpolate", { timeout: 600_000 }, async () => {
  const browser = await launch(true);
  try {
    await explore(browser);
  } finally {
    await closeBrowser(browser);
  }
});

async function explore(browser) {
  const { page, errors } = await openReady(browser, server.url);
  await page.waitForFunction(() => window.vaePage.explore.map && window.vaePage.explore.enc);
  assert.equal(await page.isVisible("#explore"), true);
  const map = await page.evaluate(() => ({ n: window.vaePage.explore.map.labels.length, pca: window.vaePage.explore.map.pca }));
  assert.deepEqual(map, { n: 2000, pca: true });
  assert.match(await page.textContent("#map-caption"), /PCA of μ: \d+% \+ \d+% of the variance/);
  // Train a little first: an untrained decoder gives grey noise everywhere.
  await page.click("#train");
  await page.waitForFunction(() => window.vaePage.trainer.globalStep >= 30, null, { timeout: 300_000 });
  await page.click("#pause");
  await page.waitForFunction(() => document.getElementById("message").textContent.startsWith("Paused"));
  await page.click("#next-b"); // refreshes the interpolation end with the trained model
  await page.evaluate(() => window.vaePage.explore.refreshMap());

  // A vertical stroke, then a loop: μ/σ and the decodes follow the drawing.
  await page.click("#clear");
  await stroke(page, [[0.5, 0.15], [0.5, 0.5], [0.5, 0.85]]);
  await page.waitForFunction(() => window.vaePage.explore.input && window.vaePage.explore.input.some((v) => v > 0));
  await page.waitForTimeout(800);
  const mu1 = await page.evaluate(() => Array.from(window.vaePage.explore.enc.mu));
  const chart1 = await pixels(page, "musigma");
  const draws1 = await pixels(page, "draws");
  assert.ok(lit(draws1) > 100, "sampled decodes are drawn");
  assert.ok(chart1.some((v) => v < 200), "the μ/σ chart is drawn");
  assert.notEqual(await page.textContent("#x-kl"), "–");
  await page.click("#clear");
  await stroke(page, [[0.3, 0.3], [0.7, 0.3], [0.7, 0.7], [0.3, 0.7], [0.3, 0.3]]);
  await page.waitForFunction((mu1) => {
    const mu = window.vaePage.explore.enc.mu;
    return mu.some((v, i) => Math.abs(v - mu1[i]) > 1e-3);
  }, mu1);
  await page.waitForTimeout(800);
  assert.ok(differ(chart1, await pixels(page, "musigma")), "the μ/σ chart changed with the stroke");
  assert.ok(differ(draws1, await pixels(page, "draws")), "the decodes changed with the stroke");
  const draws2 = await pixels(page, "draws");
  await page.click("#redraw");
  await page.waitForTimeout(800);
  assert.ok(differ(draws2, await pixels(page, "draws")), "Draw again gives new samples");

  // A click on a test digit above picks it as the input.
  const before = await page.evaluate(() => Array.from(window.vaePage.explore.input));
  const rbox = await page.locator("#recon-canvas").boundingBox();
  await page.locator("#recon-canvas").click({ position: { x: rbox.width * (2.5 / 8), y: rbox.height * 0.25 } });
  await page.waitForFunction((b) => window.vaePage.explore.input.some((v, i) => Math.abs(v - b[i]) > 0.1), before);

  // Hover two places on the map: two different decodes.
  await page.locator("#map").scrollIntoViewIfNeeded();
  const box = await page.locator("#map").boundingBox();
  const hoverAt = async (fx, fy) => {
    const before = await page.evaluate(() => window.vaePage.explore.hoverLatencies.length);
    await page.mouse.move(box.x + fx * box.width, box.y + fy * box.height);
    await page.waitForFunction((n) => window.vaePage.explore.hoverLatencies.length > n, before);
    return pixels(page, "map-decode");
  };
  const h1 = await hoverAt(0.2, 0.3);
  const h2 = await hoverAt(0.8, 0.7);
  assert.ok(lit(h1) > 5 && differ(h1, h2), "hover decodes change with the point");
  const idle = await page.evaluate(() => window.vaePage.explore.hoverLatencies.slice());
  console.log(`hover→decode latency with training paused: ${idle.map((v) => v.toFixed(0)).join(", ")} ms`);

  // The interpolation slider decodes the straight line between the two μ.
  const slide = async (v) => {
    await page.fill("#interp", String(v));
    await page.waitForFunction((v) => window.vaePage.explore.lastInterp && window.vaePage.explore.lastInterp.s === v, v);
    return page.evaluate(() => ({ ...window.vaePage.explore.lastInterp, a: Array.from(window.vaePage.explore.enc.mu), b: Array.from(window.vaePage.explore.b.mu) }));
  };
  const s0 = await slide(0);
  const px0 = await pixels(page, "interp-mid");
  const s1 = await slide(1);
  const close = (x, y) => x.every((v, i) => Math.abs(v - y[i]) < 1e-5);
  assert.ok(close(s0.z, s0.a), "slider at 0 decodes μ of the input");
  assert.ok(close(s1.z, s1.b), "slider at 1 decodes μ of the other digit");
  assert.ok(!close(s0.a, s0.b), "the two ends differ");
  const half = await slide(0.5);
  assert.ok(close(half.z, half.a.map((v, k) => (v + half.b[k]) / 2)), "slider at 0.5 decodes the midpoint");
  console.log(`slider: decodes at 0 and 0.5 differ in ${(await pixels(page, "interp-mid")).filter((v, k) => Math.abs(v - px0[k]) > 8).length} pixels (30 training steps)`);
  await page.screenshot({ path: `${SHOTS}/explore-1280x800.png`, fullPage: true });

  // Latency of hover decodes while training runs.
  await page.click("#resume");
  await page.waitForFunction(() => window.vaePage.plot.steps.length >= 3, null, { timeout: 120_000 });
  await page.evaluate(() => { window.vaePage.explore.hoverLatencies = []; });
  await page.locator("#map").scrollIntoViewIfNeeded();
  const box2 = await page.locator("#map").boundingBox();
  for (let k = 0; k < 12; k++) {
    await page.mouse.move(box2.x + (0.15 + 0.06 * k) * box2.width, box2.y + (0.8 - 0.05 * k) * box2.height);
    await page.waitForTimeout(400);
  }
  await page.waitForFunction(() => window.vaePage.explore.hoverLatencies.length >= 5).catch(async (e) => {
    const st = await page.evaluate(() => ({ msg: document.getElementById("message").textContent, n: window.vaePage.explore.hoverLatencies.length, busy: window.vaePage.explore.hoverBusy, state: window.vaePage.state }));
    await page.screenshot({ path: `${SHOTS}/explore-failure.png` });
    throw new Error(`hover decodes did not arrive: ${JSON.stringify(st)}: ${e.message}`);
  });
  const lat = (await page.evaluate(() => window.vaePage.explore.hoverLatencies)).sort((a, b) => a - b);
  const med = lat[Math.floor(lat.length / 2)];
  console.log(`hover→decode latency while training (SwiftShader): median ${med.toFixed(0)} ms, min ${lat[0].toFixed(0)}, max ${lat.at(-1).toFixed(0)} over ${lat.length} hovers`);
  await page.click("#pause");
  await page.waitForFunction(() => document.getElementById("message").textContent.startsWith("Paused"));
  await page.setViewportSize({ width: 800, height: 600 });
  await page.waitForTimeout(400);
  await page.screenshot({ path: `${SHOTS}/explore-800x600.png`, fullPage: true });
  assert.deepEqual(errors, []);
}
