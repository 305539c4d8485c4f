// The page's thread while the model trains, before and after the trainer moved into a Worker:
// the trunk-built dist/ served cross-origin isolated (as `trunk serve` does), headless Chromium,
// the CPU engine with the page's default threads; rounds alternate between the trainer in its
// worker (the default) and on the page's thread (`?worker=0`, the old way), each: 15 s of
// training watched (long tasks, blocking time, frames/s, samples/s), then hover decodes on the
// latent map and drawn digits' encodings while it trains; then the page is paused and the same
// trainer is called directly for as long (no scheduler, redraws or plot): the page's samples/s
// as a share of that. Medians over the rounds. Figures only, nothing asserted.
// Then (--pairs N, default 3; 0: none) whole epochs alternately in the page and called directly,
// in the same page: the page's epoch from the first step after one epoch's end to the first
// step after the next (its steps and its end: evaluation, redraws, history, save), then the
// paused page's trainer called directly for one epoch and its evaluate(); the in-page ratio is
// the median of the pairs' ratios. Adjacent epochs see the same machine: this shared machine's
// speed drifts by a third within minutes, which a window's ratio cannot tell from the page.
// Usage: node tests/bench/page.mjs [--runs 3] [--seconds 15] [--pairs 3] [--engine cpu|webgpu] [--query threads=1]
//   [--modes worker,page] [--dist DIR] (another build of the page, e.g. one made from an earlier commit; default dist/)
import { serve, launch, openReady, closeBrowser } from "../e2e/serve.mjs";
import { watchLongTasks, startTraining, watchWindow, hoverLatencies, drawLatencies, quantile, bareRate } from "../e2e/responsive.mjs";

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : dflt;
};
const RUNS = Number(arg("runs", 3));
const SECONDS = Number(arg("seconds", 15));
const ENGINE = arg("engine", "cpu");
const EXTRA = arg("query", "");
const PAIRS = Number(arg("pairs", 3));
const MODES = arg("modes", "worker,page").split(","); // where the trainer runs: its worker, the page's thread // more of the page's query, e.g. "threads=1"
const median = (xs) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** One pair of whole epochs (the page paused between them, then resumed): the page's epoch and
 * the directly called one's samples/s (each with its end) and their ratio. The page is training
 * when it is called and when it returns. */
async function epochPair(page, batch) {
  // The page: the epoch after the next boundary (a resumed page's first epoch is left out).
  const inPage = await page.evaluate(async () => {
    const t = window.vaePage.trainer;
    const S = t.stepsPerEpoch;
    const frame = () => new Promise((r) => requestAnimationFrame(r));
    const reach = async (g) => {
      while (t.globalStep < g) await frame();
      return performance.now();
    };
    const k = Math.ceil(t.globalStep / S) + 1; // a boundary at least one full epoch ahead
    const t0 = await reach(k * S + 1);
    const t1 = await reach((k + 1) * S + 1);
    return { steps: S, ms: t1 - t0 };
  });
  await page.click("#pause");
  await page.waitForFunction(() => window.vaePage.state === "paused", null, { timeout: 120_000 });
  const direct = await page.evaluate(async () => {
    const t = window.vaePage.trainer;
    let counting = true; // the frames the page's window drew, drawn here too
    const frame = () => {
      if (counting) requestAnimationFrame(frame);
    };
    requestAnimationFrame(frame);
    const toEnd = async () => {
      for (;;) if ((await t.train(32)).epochFinished) break;
      await t.evaluate();
    };
    await toEnd(); // the rest of the paused epoch
    const g0 = t.globalStep;
    const t0 = performance.now();
    await toEnd();
    const ms = performance.now() - t0;
    counting = false;
    return { steps: t.globalStep - g0, ms };
  });
  await page.click("#resume");
  await page.waitForFunction(() => window.vaePage.state === "training", null, { timeout: 120_000 });
  const rate = (x) => (1000 * x.steps * batch) / x.ms;
  return { page: rate(inPage), direct: rate(direct), ratio: rate(inPage) / rate(direct) };
}

const server = await serve(arg("dist", "dist"), "/", { isolate: true });
const browser = await launch(true);
const rows = { worker: [], page: [] };
try {
  for (let r = 0; r < RUNS; r++) {
    for (const mode of MODES) {
      const q = (mode === "page" ? "&worker=0" : "") + (EXTRA ? `&${EXTRA}` : "");
      const { page } = await openReady(browser, `${server.url}?lang=en&engine=${ENGINE}${q}`, {}, watchLongTasks);
      await page.fill("#batch", "128");
      await page.fill("#epochs", "500"); // the run outlasts the rounds and pairs
      await startTraining(page);
      const w = await watchWindow(page, SECONDS * 1000, 128);
      const lat = await hoverLatencies(page);
      const drawn = await drawLatencies(page);
      const threads = await page.evaluate(async () => (await window.vaePage.host.info()).cpuThreads);
      const pairs = [];
      for (let k = 0; k < PAIRS; k++) pairs.push(await epochPair(page, 128));
      if (pairs.length) console.log(`  epochs, in the page ÷ called directly: ${pairs.map((x) => `${x.page.toFixed(0)}/${x.direct.toFixed(0)} samples/s ${x.ratio.toFixed(2)}×`).join(", ")}`);
      // The same trainer without the page around it: paused, then trained by direct calls.
      const bare = await bareRate(page, SECONDS * 1000, 128);
      const row = { ...w, pairs: pairs.length ? median(pairs.map((x) => x.ratio)) : NaN, hoverMedian: quantile(lat, 0.5), hoverP95: quantile(lat, 0.95), drawMedian: quantile(drawn, 0.5), drawP95: quantile(drawn, 0.95), threads, bare, inPage: w.samplesPerSec / bare };
      rows[mode].push(row);
      console.log(`round ${r + 1}, trainer ${mode === "worker" ? "in a worker" : "on the page"} (${threads} threads): ${row.longTasks} long tasks (longest ${row.longestMs.toFixed(0)} ms), blocking ${row.blockingMs.toFixed(0)} ms (${(100 * row.blockingShare).toFixed(1)}%), ${row.fps.toFixed(1)} frames/s, ${row.samplesPerSec.toFixed(0)} samples/s, hover decode median ${row.hoverMedian.toFixed(0)} ms, p95 ${row.hoverP95.toFixed(0)} ms, drawn digit encoded median ${row.drawMedian.toFixed(0)} ms, p95 ${row.drawP95.toFixed(0)} ms; the same trainer called directly (paused page) ${row.bare.toFixed(0)} samples/s: in the page ${row.inPage.toFixed(2)}×`);
      await page.close();
    }
  }
  console.log(`\nmedians over ${RUNS} rounds, ${SECONDS} s of training each (${ENGINE} engine):`);
  for (const mode of MODES) {
    const m = (k) => median(rows[mode].map((x) => x[k]));
    console.log(`  trainer ${mode === "worker" ? "in a worker " : "on the page "}: ${m("longTasks")} long tasks, longest ${m("longestMs").toFixed(0)} ms, blocking ${(100 * m("blockingShare")).toFixed(1)}%, ${m("fps").toFixed(1)} frames/s, ${m("samplesPerSec").toFixed(0)} samples/s, hover p95 ${m("hoverP95").toFixed(0)} ms, drawn digit p95 ${m("drawP95").toFixed(0)} ms; called directly ${m("bare").toFixed(0)} samples/s, in the page ${m("inPage").toFixed(2)}× that; whole epochs in alternation: in the page ${m("pairs").toFixed(2)}× (medians of each round's pairs: ${rows[mode].map((x) => x.pairs.toFixed(2)).join(", ")})`);
  }
  if (rows.worker.length && rows.page.length) {
    const ratio = median(rows.worker.map((x) => x.samplesPerSec)) / median(rows.page.map((x) => x.samplesPerSec));
    console.log(`  samples/s, worker ÷ page: ${ratio.toFixed(2)}×`);
  }
} finally {
  await closeBrowser(browser);
  await server.close();
}
