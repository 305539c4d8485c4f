// What the Teach panels cost, in headless Chromium on the built page (dist/) with MNIST:
//  1. AutoEncoder vs VAE: samples/s of a VAE trained alone, then of a VAE and an autoencoder
//     trained side by side on one device (Trainer.createBeside, calls alternating as the page's
//     scheduler makes them), in alternating rounds; each model's rate ÷ the single rate.
//  2. The panels: the page training a VAE with the Teach panels redrawn while training (the
//     default) and without (#teach-live off: epoch ends only), in alternating windows; the
//     page's steps per second each way.
// Medians [min–max] of the rounds. Not a test (nothing asserted). Needs dist/ (trunk build --release).
// Run: node tests/bench/side.mjs [--rounds 5] [--steps 96] [--window 20]
import { serve, launch, openReady, closeBrowser } from "../e2e/serve.mjs";

const args = Object.fromEntries(process.argv.slice(2).reduce((a, v, i, all) => (v.startsWith("--") ? [...a, [v.slice(2), all[i + 1]]] : a), []));
const ROUNDS = Number(args.rounds || 5);
const STEPS = Number(args.steps || 96);
const WINDOW_S = Number(args.window || 20);

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };
const fmt = (xs, d = 0) => `${median(xs).toFixed(d)} [${Math.min(...xs).toFixed(d)}–${Math.max(...xs).toFixed(d)}]`;

const server = await serve("dist");
const browser = await launch(true);
try {
  const { page } = await openReady(browser, `${server.url}?lang=en`);
  const adapter = await page.textContent("#adapter");
  // 1. Single vs side by side, through the wasm API on the page's MNIST.
  const rates = await page.evaluate(async ({ ROUNDS, STEPS }) => {
    const v = window.vaePage, T = v.wasm.Trainer;
    const config = { batchSize: 128 };
    const files = await Promise.all(["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"].map(async (n) => {
      const res = await fetch(`data/${n}.gz`);
      return new Uint8Array(await new Response(res.body.pipeThrough(new DecompressionStream("gzip"))).arrayBuffer());
    }));
    const single = await T.create(config);
    single.loadDataset(...files);
    const vae = await T.create(config);
    vae.loadDataset(...files);
    const ae = await T.createBeside(vae, { ...config, variational: false });
    ae.loadDataset(...files);
    const CHUNK = 16;
    const run = async (ts) => {
      const t0 = performance.now();
      for (let done = 0; done < STEPS; done += CHUNK) for (const t of ts) await t.train(Math.min(CHUNK, STEPS - done));
      for (const t of ts) await t.flush();
      return performance.now() - t0;
    };
    await run([single]); await run([vae, ae]); // warm-up: pipelines, first epochs' shuffles
    const out = { single: [], pair: [] };
    for (let r = 0; r < ROUNDS; r++) {
      out.single.push((STEPS * 128) / ((await run([single])) / 1000));
      out.pair.push((STEPS * 128) / ((await run([vae, ae])) / 1000)); // each model's samples/s
    }
    for (const t of [single, ae, vae]) t.free();
    return out;
  }, { ROUNDS, STEPS });
  const ratios = rates.pair.map((p, i) => p / rates.single[i]);
  console.log(`adapter: ${adapter}`);
  console.log(`\n1. AutoEncoder vs VAE, ${ROUNDS} alternating rounds of ${STEPS} steps (batch 128, MNIST):`);
  console.log("| trainer | samples/s median [min–max] | ÷ single (per round) |");
  console.log("|---|---|---|");
  console.log(`| VAE alone | ${fmt(rates.single)} | 1 |`);
  console.log(`| VAE beside an AE (each model) | ${fmt(rates.pair)} | ${fmt(ratios, 2)} |`);

  // 2. The page's training with and without the panels redrawn.
  await page.fill("#epochs", "50");
  await page.click("#train");
  await page.waitForFunction(() => !window.vaePage.pretrained && window.vaePage.state === "training" && window.vaePage.trainer.globalStep > 20, null, { timeout: 180_000 });
  const windows = { live: [], off: [] };
  for (let r = 0; r < ROUNDS; r++) {
    for (const mode of r % 2 ? ["off", "live"] : ["live", "off"]) {
      await page.evaluate((on) => { document.getElementById("teach-live").checked = on; }, mode === "live");
      await new Promise((res) => setTimeout(res, 3000)); // a refresh in flight settles
      const a = await page.evaluate(() => [window.vaePage.trainer.globalStep, performance.now()]);
      await new Promise((res) => setTimeout(res, WINDOW_S * 1000));
      const b = await page.evaluate(() => [window.vaePage.trainer.globalStep, performance.now(), window.vaePage.teach.batch ? 1 : 0]);
      windows[mode].push(((b[0] - a[0]) * 1000) / (b[1] - a[1]));
    }
  }
  const slow = windows.live.map((l, i) => 1 - l / windows.off[i]);
  console.log(`\n2. The page training (batch 128), ${ROUNDS} alternating pairs of ${WINDOW_S} s windows:`);
  console.log("| panels | steps/s median [min–max] |");
  console.log("|---|---|");
  console.log(`| redrawn while training (default) | ${fmt(windows.live, 2)} |`);
  console.log(`| epoch ends only | ${fmt(windows.off, 2)} |`);
  console.log(`slowdown from the live panels (per pair): ${fmt(slow.map((s) => 100 * s), 1)} %`);
  await page.click("#pause");
} finally {
  await closeBrowser(browser);
  await server.close();
}
