// Drives tests/bench/bench.html in headless Chromium (WebGPU on whatever adapter it has) and
// prints vae-webgpu's training speed (its WebGPU and CPU engines) against TensorFlow.js's wasm,
// webgl and webgpu backends and jax-js's wasm and webgpu devices: median samples/s [min–max] of
// the runs, the ratio of vae-webgpu's fastest engine to each, and the mean loss per sample over
// the last 10 of the loss steps. The page is served cross-origin isolated (COOP/COEP), so the
// peers' wasm backends may use threads. Results go to target/bench/browser.json.
// Needs dist/ (trunk build --release); TF.js and jax-js come from the npm registry into
// target/bench/node.
// vae-cpu is the CPU engine on all the page's threads (the threads build: the page is isolated),
// vae-cpu-1 the same module limited to one thread (setCpuThreads), in the same rounds.
// Run: node tests/bench/run.mjs [--runs 5] [--steps 20] [--loss-steps 30] [--only vae,vae-cpu,…]
//   [--simd plain] [--threads N] [--dist DIR] (another build of the page; default dist/)
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { serve, launch } from "../e2e/serve.mjs";

const TFJS = "4.22.0";
const JAX = "0.1.25";
const args = Object.fromEntries(process.argv.slice(2).reduce((a, v, i, all) => (v.startsWith("--") ? [...a, [v.slice(2), all[i + 1]]] : a), []));
const query = new URLSearchParams({ runs: args.runs || "5", steps: args.steps || "20", lossSteps: args["loss-steps"] || "30", only: args.only || "vae,vae-cpu,vae-cpu-1,wasm,webgl,webgpu,jax-wasm,jax-webgpu", jax: JAX });

const NODE = "target/bench/node";
const TF = `${NODE}/node_modules/@tensorflow`;
// --simd plain: vae-webgpu's SIMD128 build instead of the relaxed-SIMD one.
if (args.simd) query.set("simd", args.simd);
// --threads N: the CPU engine's threads (1: the one-thread builds, as on a page not isolated).
if (args.threads) query.set("threads", args.threads);
const JAXDIR = `${NODE}/node_modules/@jax-js/jax`;
// One install for all (a --no-save install removes what an earlier one put there).
if (![`${TF}/tfjs`, `${TF}/tfjs-backend-webgpu`, `${TF}/tfjs-backend-wasm`, JAXDIR].every((d) => existsSync(`${d}/package.json`))) {
  mkdirSync(NODE, { recursive: true });
  console.log(`installing TensorFlow.js ${TFJS} (tfjs, backend-wasm, backend-webgpu) and jax-js ${JAX} into ${NODE}`);
  execFileSync("npm", ["install", "--prefix", NODE, "--no-save", "--no-audit", "--no-fund", `@tensorflow/tfjs@${TFJS}`, `@tensorflow/tfjs-backend-wasm@${TFJS}`, `@tensorflow/tfjs-backend-webgpu@${TFJS}`, `@jax-js/jax@${JAX}`], { stdio: "inherit" });
}
// --dist DIR: another build of the page (e.g. one made from an earlier commit, to compare).
const DIST = args.dist || "dist";
if (!existsSync(`${DIST}/vae-webgpu.js`)) throw new Error(`${DIST}/ is missing: run trunk build --release first`);

const SITE = "target/bench/site";
rmSync(SITE, { recursive: true, force: true });
mkdirSync(`${SITE}/tf`, { recursive: true });
cpSync(DIST, SITE, { recursive: true });
cpSync("tests/bench/bench.html", `${SITE}/index.html`);
cpSync("tests/bench/bench.js", `${SITE}/bench.js`);
cpSync(`${TF}/tfjs/dist/tf.min.js`, `${SITE}/tf/tf.min.js`);
cpSync(`${TF}/tfjs-backend-webgpu/dist/tf-backend-webgpu.min.js`, `${SITE}/tf/tf-backend-webgpu.min.js`);
cpSync(`${TF}/tfjs-backend-wasm/dist/tf-backend-wasm.min.js`, `${SITE}/tf/tf-backend-wasm.min.js`);
for (const f of ["tfjs-backend-wasm.wasm", "tfjs-backend-wasm-simd.wasm", "tfjs-backend-wasm-threaded-simd.wasm"]) {
  cpSync(`${TF}/tfjs-backend-wasm/dist/${f}`, `${SITE}/tf/${f}`);
}

cpSync(`${JAXDIR}/dist`, `${SITE}/jax`, { recursive: true });

const server = await serve(SITE, "/", { isolate: true });
const browser = await launch(true);
try {
  const page = await browser.newPage();
  page.on("console", (m) => console.log(`  page: ${m.text()}`));
  page.on("pageerror", (e) => console.log(`  page error: ${e}`));
  await page.goto(`${server.url}?${query}`);
  await page.waitForFunction(() => window.bench && window.bench.done, null, { timeout: 3_600_000, polling: 1000 });
  const bench = await page.evaluate(() => window.bench);
  const ua = await page.evaluate(() => navigator.userAgent);
  const ours = bench.results.filter((r) => r.name === "vae-webgpu").sort((a, b) => b.samplesPerSec.median - a.samplesPerSec.median)[0];
  const tail = (r) => { const l = r.losses.slice(-10); return l.reduce((a, b) => a + b, 0) / l.length; };
  console.log(`\nbatch ${bench.config.batch}; ${bench.config.runs} runs of ${bench.config.steps} steps; loss: mean of steps ${bench.config.lossSteps - 9}–${bench.config.lossSteps} from a fresh model`);
  console.log(`cross-origin isolated: ${bench.isolated}; vae-webgpu's fastest here: ${ours ? ours.backend : "–"}`);
  console.log("| trainer | backend | samples/s median | min | max | useful GFLOP/s | vae-webgpu (fastest) ÷ this | loss/sample |");
  console.log("|---|---|---|---|---|---|---|---|");
  for (const r of bench.results) {
    const s = r.samplesPerSec;
    const ratio = ours ? (ours.samplesPerSec.median / s.median).toFixed(2) : "–";
    console.log(`| ${r.name} | ${r.backend} | ${s.median.toFixed(0)} | ${s.min.toFixed(0)} | ${s.max.toFixed(0)} | ${((s.median * 3.28e6) / 1e9).toFixed(2)} | ${ratio} | ${tail(r).toFixed(1)} |`);
  }
  for (const r of bench.results.filter((r) => r.profile)) {
    const p = r.profile;
    const pct = (g) => `${((100 * g) / p.peakGflops).toFixed(1)}%`;
    console.log(`\nvae-webgpu ${r.backend}: step by stage (batch ${p.batch}); the multiply-add peak: ${p.peakGflops.toFixed(2)} GFLOP/s`);
    console.log("| stage | ms per step | share | GFLOP/s | % of peak |");
    console.log("|---|---|---|---|---|");
    const total = p.stages.reduce((a, s) => a + s.ms, 0);
    for (const s of p.stages) {
      console.log(`| ${s.name} | ${s.ms.toFixed(2)} | ${((100 * s.ms) / total).toFixed(1)}% | ${s.gflops ? s.gflops.toFixed(2) : "–"} | ${s.gflops ? pct(s.gflops) : "–"} |`);
    }
    console.log(`| whole step (one submit) | ${p.stepMs.toFixed(2)} | | ${p.stepGflops.toFixed(2)} | ${pct(p.stepGflops)} |`);
    const m = r.samplesPerSec.median;
    console.log(`| training loop (samples/s median) | ${((1000 * p.batch) / m).toFixed(2)} | | ${((m * 3.28e6) / 1e9).toFixed(2)} | ${pct((m * 3.28e6) / 1e9)} |`);
  }
  for (const e of bench.errors) console.log(`error: ${e}`);
  mkdirSync("target/bench", { recursive: true });
  writeFileSync("target/bench/browser.json", JSON.stringify({ date: new Date().toISOString(), userAgent: ua, ...bench }, null, 1));
  console.log("\nwritten: target/bench/browser.json");
} finally {
  await browser.close();
  await server.close();
}
