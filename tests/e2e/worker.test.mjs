// The page's trainer lives in a module Worker: on the CPU engine (the one that computes on the
// thread that calls it), cross-origin isolated as `trunk serve` serves it, the page's own thread
// sees no long task over 10 s of training and a hover decode answers while it trains. The
// figures are printed; the README's before/after comes from tests/bench/page.mjs.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { serve, launch, openReady, closeBrowser } from "./serve.mjs";
import { watchLongTasks, startTraining, watchWindow, hoverLatencies, drawLatencies, quantile } from "./responsive.mjs";

const SHOTS = "target/e2e";
mkdirSync(SHOTS, { recursive: true });

test("the CPU engine trains in the page's worker; the page's thread stays free", { timeout: 600_000 }, async () => {
  const server = await serve("dist", "/", { isolate: true });
  const browser = await launch(true);
  try {
    // One CPU thread: the other core is the page's, so what is measured is our code, not two
    // training threads and the page sharing two cores.
    const { page, errors } = await openReady(browser, `${server.url}?lang=en&engine=cpu&threads=1`, {}, watchLongTasks);
    assert.equal(await page.evaluate(() => window.vaePage.host.mode), "worker");
    assert.equal(await page.evaluate(() => window.vaePage.trainer.engine), "cpu");
    await page.fill("#batch", "128");
    await startTraining(page);
    const w = await watchWindow(page, 10_000, 128);
    console.log(`page thread over ${(w.windowMs / 1000).toFixed(1)} s of CPU-engine training in the worker: ${w.longTasks} long tasks (longest ${w.longestMs.toFixed(0)} ms, ${w.blockingMs.toFixed(0)} ms blocking, ${(100 * w.blockingShare).toFixed(2)}%), ${w.fps.toFixed(1)} frames/s, ${w.samplesPerSec.toFixed(0)} samples/s`);
    const lat = await hoverLatencies(page);
    console.log(`hover→decode while training: median ${quantile(lat, 0.5).toFixed(0)} ms, p95 ${quantile(lat, 0.95).toFixed(0)} ms over ${lat.length}`);
    const drawn = await drawLatencies(page, 6);
    console.log(`drawn digit→encoding while training: median ${quantile(drawn, 0.5).toFixed(0)} ms, p95 ${quantile(drawn, 0.95).toFixed(0)} ms over ${drawn.length}`);
    assert.ok(w.samplesPerSec > 0, "it trained during the window");
    assert.equal(w.longTasks, 0, `long tasks on the page's thread: longest ${w.longestMs} ms`);
    assert.ok(lat.length >= 5, "hover decodes answered while training");
    assert.equal(drawn.length, 6, "each drawn digit was encoded while training");
    assert.equal(await page.evaluate(() => window.vaePage.state), "training");
    await page.screenshot({ path: `${SHOTS}/worker-training-1280x800.png` });
    assert.deepEqual(errors, []);
    // Where the trainer cannot run in a worker (here asked with ?worker=0), the page says so and
    // trains on its own thread as before.
    const onPage = await openReady(browser, `${server.url}?lang=en&engine=cpu&worker=0`);
    assert.equal(await onPage.page.evaluate(() => window.vaePage.host.mode), "page");
    assert.match(await onPage.page.textContent("#noworker"), /As \?worker=0 asks, the trainer runs on the page's own thread/);
    assert.equal(await onPage.page.isVisible("#noworker"), true);
    await onPage.page.screenshot({ path: `${SHOTS}/worker-fallback-1280x800.png` });
    assert.deepEqual(onPage.errors, []);
  } finally {
    await closeBrowser(browser);
    await server.close();
  }
});
