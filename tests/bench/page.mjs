// The page's thread while the model trains, before and after the trainer moved into a Worker:
// the trunk-built dist/ served cross-origin isolated (as `trunk serve` does), headless Chromium,
// the CPU engine with the page's default threads; rounds alternate between the trainer in its
// worker (the default) and on the page's thread (`?worker=0`, the old way), each: 15 s of
// training watched (long tasks, blocking time, frames/s, samples/s), then hover decodes on the
// latent map and drawn digits' encodings while it trains; then the page is paused and the same
// trainer is called directly for as long (no scheduler, redraws or plot): the page's samples/s
// as a share of that. Medians over the rounds. Figures only, nothing asserted.
// Usage: node tests/bench/page.mjs [--runs 3] [--seconds 15] [--engine cpu|webgpu] [--query threads=1]
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
const MODES = arg("modes", "worker,page").split(","); // where the trainer runs: its worker, the page's thread // more of the page's query, e.g. "threads=1"
const median = (xs) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const server = await serve(arg("dist", "dist"), "/", { isolate: true });
const browser = await launch(true);
const rows = { worker: [], page: [] };
try {
  for (let r = 0; r < RUNS; r++) {
    for (const mode of MODES) {
      const q = (mode === "page" ? "&worker=0" : "") + (EXTRA ? `&${EXTRA}` : "");
      const { page } = await openReady(browser, `${server.url}?lang=en&engine=${ENGINE}${q}`, {}, watchLongTasks);
      await page.fill("#batch", "128");
      await startTraining(page);
      const w = await watchWindow(page, SECONDS * 1000, 128);
      const lat = await hoverLatencies(page);
      const drawn = await drawLatencies(page);
      const threads = await page.evaluate(async () => (await window.vaePage.host.info()).cpuThreads);
      // The same trainer without the page around it: paused, then trained by direct calls.
      const bare = await bareRate(page, SECONDS * 1000, 128);
      const row = { ...w, hoverMedian: quantile(lat, 0.5), hoverP95: quantile(lat, 0.95), drawMedian: quantile(drawn, 0.5), drawP95: quantile(drawn, 0.95), threads, bare, inPage: w.samplesPerSec / bare };
      rows[mode].push(row);
      console.log(`round ${r + 1}, trainer ${mode === "worker" ? "in a worker" : "on the page"} (${threads} threads): ${row.longTasks} long tasks (longest ${row.longestMs.toFixed(0)} ms), blocking ${row.blockingMs.toFixed(0)} ms (${(100 * row.blockingShare).toFixed(1)}%), ${row.fps.toFixed(1)} frames/s, ${row.samplesPerSec.toFixed(0)} samples/s, hover decode median ${row.hoverMedian.toFixed(0)} ms, p95 ${row.hoverP95.toFixed(0)} ms, drawn digit encoded median ${row.drawMedian.toFixed(0)} ms, p95 ${row.drawP95.toFixed(0)} ms; the same trainer called directly (paused page) ${row.bare.toFixed(0)} samples/s: in the page ${row.inPage.toFixed(2)}×`);
      await page.close();
    }
  }
  console.log(`\nmedians over ${RUNS} rounds, ${SECONDS} s of training each (${ENGINE} engine):`);
  for (const mode of MODES) {
    const m = (k) => median(rows[mode].map((x) => x[k]));
    console.log(`  trainer ${mode === "worker" ? "in a worker " : "on the page "}: ${m("longTasks")} long tasks, longest ${m("longestMs").toFixed(0)} ms, blocking ${(100 * m("blockingShare")).toFixed(1)}%, ${m("fps").toFixed(1)} frames/s, ${m("samplesPerSec").toFixed(0)} samples/s, hover p95 ${m("hoverP95").toFixed(0)} ms, drawn digit p95 ${m("drawP95").toFixed(0)} ms; called directly ${m("bare").toFixed(0)} samples/s, in the page ${m("inPage").toFixed(2)}× that`);
  }
  if (rows.worker.length && rows.page.length) {
    const ratio = median(rows.worker.map((x) => x.samplesPerSec)) / median(rows.page.map((x) => x.samplesPerSec));
    console.log(`  samples/s, worker ÷ page: ${ratio.toFixed(2)}×`);
  }
} finally {
  await closeBrowser(browser);
  await server.close();
}
