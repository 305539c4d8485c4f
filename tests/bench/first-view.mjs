// The first view as a visitor meets it: the trunk-built page (dist/), served cross-origin
// isolated as `trunk serve` serves it, in headless Chromium; for each engine choice (auto, cpu,
// webgpu) and each link (localhost, and a 20 Mbit/s link with 20 ms latency through the DevTools
// protocol), the time from navigation to the shipped model's first picture (its images,
// Explore and the latent map, drawn) and the bytes downloaded before then; then the "Ready"
// message (with WebGPU: once the model has moved there from the CPU engine that drew it) and
// when MNIST's training set is in (Train opens). (A --baseline build must note its first
// picture as this one does: window.vaePage.firstPictureMs, since 2026-12-06.) Medians [min–max] of --loads loads each (a fresh browser context, no cache).
// Figures, not a test: results go to target/bench/first-view.json.
// Run: node tests/bench/first-view.mjs [--loads 3] [--only auto,cpu,webgpu] [--links local,20mbit]
//   [--dist dist] [--baseline DIR]: with --baseline, that build (an earlier dist/, say) loads
//   alternately with --dist in the same rounds, and each line gives both and their ratio.
import { mkdirSync, writeFileSync } from "node:fs";
import { serve, launch, closeBrowser } from "../e2e/serve.mjs";

const args = Object.fromEntries(process.argv.slice(2).reduce((a, v, i, all) => (v.startsWith("--") ? [...a, [v.slice(2), all[i + 1]]] : a), []));
const LOADS = Number(args.loads || 3);
const ENGINES = (args.only || "auto,cpu,webgpu").split(",");
const LINKS = (args.links || "local,20mbit").split(",");
const DISTS = [args.dist || "dist", ...(args.baseline ? [args.baseline] : [])];
const MBIT = 1e6 / 8; // bytes per second of one megabit

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const range = (xs) => `${median(xs).toFixed(2)} [${Math.min(...xs).toFixed(2)}–${Math.max(...xs).toFixed(2)}]`;

async function load(browser, url, link) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send("Network.enable");
  await cdp.send("Network.setCacheDisabled", { cacheDisabled: true });
  if (link === "20mbit") {
    await cdp.send("Network.emulateNetworkConditions", { offline: false, latency: 20, downloadThroughput: 20 * MBIT, uploadThroughput: 5 * MBIT });
  }
  let bytes = 0;
  cdp.on("Network.loadingFinished", (e) => { bytes += e.encodedDataLength; });
  const start = Date.now();
  await page.goto(url);
  // Drawn: the shipped model's first picture (its images, Explore and the map; the page notes
  // the time, from navigation). With WebGPU the CPU engine draws it while WebGPU's pipelines
  // build; "Ready" comes once the model has moved there (`ready`).
  await page.waitForFunction(() => window.vaePage && window.vaePage.pretrained && window.vaePage.firstPictureMs, null, { timeout: 240_000, polling: 50 });
  const before = bytes;
  const drawn = (await page.evaluate(() => window.vaePage.firstPictureMs)) / 1e3;
  await page.waitForFunction(() => /^(Ready|準備完了)/.test(document.getElementById("message").textContent), null, { timeout: 240_000, polling: 50 });
  const ready = (Date.now() - start) / 1e3;
  await page.waitForFunction(() => !document.getElementById("train").disabled, null, { timeout: 240_000, polling: 50 });
  const trainable = (Date.now() - start) / 1e3;
  const engine = await page.evaluate(() => window.vaePage.trainer.engine);
  await context.close();
  return { drawn, ready, trainable, mib: before / 2 ** 20, engine };
}

const servers = [];
for (const d of DISTS) servers.push(await serve(d, "/", { isolate: true }));
const browser = await launch(true);
const results = [];
for (const link of LINKS) {
  for (const engine of ENGINES) {
    const runs = DISTS.map(() => []);
    // Alternating: build A, build B, A, B… so the machine's drift falls on both alike.
    for (let i = 0; i < LOADS; i++) {
      for (let k = 0; k < DISTS.length; k++) runs[k].push(await load(browser, `${servers[k].url}?lang=en&engine=${engine}`, link));
    }
    DISTS.forEach((dist, k) => {
      const rs = runs[k];
      const r = { dist, link, engine, ran: rs[0].engine, drawn: rs.map((x) => x.drawn), ready: rs.map((x) => x.ready), trainable: rs.map((x) => x.trainable), mib: rs.map((x) => x.mib) };
      results.push(r);
      console.log(`${dist.padEnd(16)} ${link.padEnd(7)} ${engine.padEnd(6)} (${r.ran}): shipped model drawn after ${range(r.drawn)} s, ${median(r.mib).toFixed(2)} MiB before it; Ready after ${range(r.ready)} s; Train open after ${range(r.trainable)} s`);
    });
    if (DISTS.length === 2) {
      const [a, b] = [results.at(-2), results.at(-1)];
      console.log(`${"".padEnd(16)} ${link.padEnd(7)} ${engine.padEnd(6)} first picture ${(median(b.drawn) / median(a.drawn)).toFixed(1)}× sooner than ${b.dist}`);
    }
  }
}
await closeBrowser(browser);
for (const s of servers) await s.close();
mkdirSync("target/bench", { recursive: true });
writeFileSync("target/bench/first-view.json", JSON.stringify({ date: new Date().toISOString(), loads: LOADS, results }, null, 1));
