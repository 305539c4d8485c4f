// Every visitor: a Japanese browser gets the Japanese page and ?lang=en the English one, the
// language control switches in place; the model shipped with the page is explored before any
// training; an axe-core audit finds no serious or critical violation in either language;
// screenshots at 1280×800, 800×600 and 360×740 in both languages (target/e2e/).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, readFileSync } from "node:fs";
import { serve, launch, openReady, closeBrowser } from "./serve.mjs";

const SHOTS = "target/e2e";
mkdirSync(SHOTS, { recursive: true });
const AXE = readFileSync("node_modules/axe-core/axe.min.js", "utf8");
let server;
before(async () => { server = await serve("dist"); });
after(async () => { await server.close(); });

/** Serious and critical axe violations on the page, as "id: help (n nodes)". */
async function audit(page) {
  await page.evaluate(AXE);
  const result = await page.evaluate(() => window.axe.run(document, { resultTypes: ["violations"] }));
  return result.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.id}: ${v.help} (${v.nodes.length} nodes: ${v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join(", ")})`);
}

test("a Japanese browser gets the Japanese page with the shipped model drawn before any training", { timeout: 300_000 }, async () => {
  const browser = await launch(true);
  const { page, errors, consoleErrors } = await openReady(browser, server.url, { locale: "ja-JP" });
  assert.equal(await page.getAttribute("html", "lang"), "ja");
  assert.match(await page.textContent(".tagline"), /変分オートエンコーダ/);
  assert.match(await page.textContent("#message"), /^準備完了。表示中は 15 エポック学習済みのモデルです/);
  assert.equal(await page.textContent("#train"), "自分で学習させる");
  assert.equal(await page.title(), "vae-webgpu — あなたの GPU で VAE が MNIST を学ぶ様子を見る");
  // The shipped model's panels, before any training step.
  const shown = await page.evaluate(() => ({
    step: window.vaePage.trainer.globalStep,
    pretrained: window.vaePage.pretrained && window.vaePage.pretrained.epochs,
    map: window.vaePage.explore.map ? window.vaePage.explore.map.labels.length : 0,
    mu: window.vaePage.explore.enc ? window.vaePage.explore.enc.mu.length : 0,
    recon: document.getElementById("recon-canvas").width,
  }));
  assert.deepEqual(shown, { step: 0, pretrained: 15, map: 2000, mu: 20, recon: 242 });
  // A trained decoder: the PCA of μ over 2,000 test digits explains a real share of the variance.
  assert.match(await page.textContent("#map-caption"), /μ の主成分分析：分散の \d+% \+ \d+%/);
  for (const [w, h] of [[1280, 800], [800, 600], [360, 740]]) {
    await page.setViewportSize({ width: w, height: h });
    await page.screenshot({ path: `${SHOTS}/ja-${w}x${h}.png` });
  }
  await page.screenshot({ path: `${SHOTS}/ja-360x740-full.png`, fullPage: true });
  const violations = await audit(page);
  assert.deepEqual(violations, [], "axe, Japanese");
  assert.deepEqual(consoleErrors, []);
  assert.deepEqual(errors, []);
  await closeBrowser(browser);
});

test("?lang=en gives English in a Japanese browser, and the control switches in place", { timeout: 300_000 }, async () => {
  const browser = await launch(true);
  const { page, errors, consoleErrors } = await openReady(browser, `${server.url}?lang=en`, { locale: "ja-JP" });
  assert.equal(await page.getAttribute("html", "lang"), "en");
  assert.match(await page.textContent("#message"), /^Ready\. Shown: a model trained for 15 epochs/);
  assert.equal(await page.textContent("#train"), "Train your own");
  for (const [w, h] of [[1280, 800], [800, 600], [360, 740]]) {
    await page.setViewportSize({ width: w, height: h });
    await page.screenshot({ path: `${SHOTS}/en-${w}x${h}.png` });
  }
  await page.setViewportSize({ width: 1280, height: 800 });
  assert.deepEqual(await audit(page), [], "axe, English");
  // Switch to Japanese: texts, <html lang>, the message and the URL follow.
  await page.selectOption("#lang", "ja");
  assert.equal(await page.getAttribute("html", "lang"), "ja");
  assert.match(await page.textContent("#message"), /^準備完了/);
  assert.equal(await page.textContent(".lang span"), "言語");
  assert.match(page.url(), /lang=ja/);
  // The file inputs and the latent map are reachable by keyboard, and the map answers arrows.
  const focusable = await page.evaluate(() => ["idx-files", "map"].map((id) => {
    const el = document.getElementById(id);
    el.focus();
    return document.activeElement === el;
  }));
  assert.deepEqual(focusable, [true, true]);
  const before = await page.evaluate(() => window.vaePage.explore.hoverLatencies.length);
  await page.focus("#map");
  await page.keyboard.press("ArrowRight");
  await page.waitForFunction((n) => window.vaePage.explore.hoverLatencies.length > n, before);
  // The Teach panels: the batch's 128 normals, their log σ² and σ, and z = μ + σ·ε.
  await page.waitForFunction(() => window.vaePage.teach.batch && window.vaePage.teach.values);
  const shipped = await page.evaluate(() => {
    const b = window.vaePage.teach.batch;
    return { rows: b.rows, mu: Array.from(b.mu.slice(0, 20)), kl: document.getElementById("batch-kl").textContent };
  });
  assert.equal(shipped.rows, 128);
  assert.match(shipped.kl, /^入力 #0 の KL（次元について合計）：\d+\.\d+/);
  assert.equal(await page.isVisible("#teach"), true);
  // The learned manifold: the shipped 2-D VAE's 10×10 grid over the prior's quantiles.
  await page.waitForFunction(() => window.vaePage.teach.manifold && window.vaePage.teach.manifold.shipped, null, { timeout: 120_000 });
  assert.deepEqual(await page.evaluate(() => window.vaePage.teach.manifold), { n: 100, pca: null, shipped: true });
  assert.match(await page.textContent("#manifold-axes"), /^同梱の 2 次元 VAE（784-400-2、15 エポック）/);
  // Draw again changes ε only: μ and σ stay, z follows.
  const v0 = await page.evaluate(() => ({ ...window.vaePage.teach.values }));
  await page.click("#reparam-eps");
  const v1 = await page.evaluate(() => ({ ...window.vaePage.teach.values }));
  assert.equal(v1.mu, v0.mu);
  assert.equal(v1.sigma, v0.sigma);
  assert.notEqual(v1.eps, v0.eps);
  assert.ok(Math.abs(v1.z - (v1.mu + v1.sigma * v1.eps)) < 1e-9);
  // "Train your own" trains a model from scratch.
  await page.click("#train");
  await page.waitForFunction(() => window.vaePage.trainer.globalStep >= 2 && !window.vaePage.pretrained, null, { timeout: 120_000 });
  const bars = await page.evaluate(() => ["data-progress", "epoch-progress", "overall-progress"].map((id) => {
    const el = document.getElementById(id);
    return [el.getAttribute("role"), Number(el.getAttribute("aria-valuenow")) >= 0];
  }));
  assert.deepEqual(bars, [["progressbar", true], ["progressbar", true], ["progressbar", true]]);
  await page.click("#pause");
  await page.waitForFunction(() => /^ステップ \d+ で一時停止しました。/.test(document.getElementById("message").textContent));
  // The batch panel follows the model in training: a new model's μ are not the shipped one's.
  await page.evaluate(() => window.vaePage.teach.refresh());
  const fresh = await page.evaluate(() => Array.from(window.vaePage.teach.batch.mu.slice(0, 20)));
  assert.notDeepEqual(fresh, shipped.mu);
  await page.screenshot({ path: `${SHOTS}/teach-ja-1280x800.png`, fullPage: true });
  // A clean console from load through training (no 404 for /favicon.ico or anything else).
  assert.deepEqual(consoleErrors, []);
  assert.deepEqual(errors, []);
  await closeBrowser(browser);
});

test("both languages have the same keys", async () => {
  const en = (await import("../../www/i18n/en.js")).default;
  const ja = (await import("../../www/i18n/ja.js")).default;
  assert.deepEqual(Object.keys(ja).sort(), Object.keys(en).sort());
  for (const k of Object.keys(en)) assert.equal(typeof ja[k], typeof en[k], k);
});
