// The page's trainer lives in a module Worker: on the CPU engine (the one that computes on the
// thread that calls it), cross-origin isolated as `trunk serve` serves it, the page's own thread
// sees no long task over 10 s of training and a hover decode answers while it trains, and a
// progress update repaints the progress card, not the whole page. The figures are printed; the
// README's before/after comes from tests/bench/page.mjs.
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
    // `train(n, { until })` in the worker: a call ends after the step during which this thread
    // set the shared flag (one step at least, as long as the flag stays set); a function or
    // unshared memory cannot reach the worker and is refused with a coded error.
    const cut = await page.evaluate(async () => {
      const t = window.vaePage.trainer;
      const flag = new Int32Array(new SharedArrayBuffer(4));
      let at = t.globalStep;
      const call = t.train(2000, { until: flag });
      setTimeout(() => Atomics.store(flag, 0, 1), 300);
      const first = (await call).globalStep - at;
      at = t.globalStep;
      const second = (await t.train(2000, { until: flag })).globalStep - at;
      const code = (p) => p.then(() => "resolved", (e) => e.code);
      return {
        first, second,
        fn: await code(t.train(5, { until: () => true })),
        unshared: await code(t.train(5, { until: new Int32Array(1) })),
        notObject: await code(t.train(5, 7)),
        steps: t.globalStep - at - second,
      };
    });
    console.log(`a 2000-step call in the worker, the flag set after 300 ms: ${cut.first} steps; with it still set: ${cut.second}`);
    assert.ok(cut.first >= 1 && cut.first < 2000, `the call ended early: ${cut.first} steps`);
    assert.equal(cut.second, 1, "with the flag set a call runs one step");
    assert.deepEqual([cut.fn, cut.unshared, cut.notObject, cut.steps], ["bad-argument", "bad-argument", "bad-argument", 0]);
    // `fit` on a trainer in a worker, the page isolated: every call takes a flag in shared memory
    // as `until`, which the signal's abort sets, so the call in flight ends at its next step.
    const fitted = await page.evaluate(async () => {
      const t = window.vaePage.trainer;
      const seen = [];
      const train = t.train;
      t.train = function (n, o) {
        seen.push(o && o.until);
        return train.call(this, n, o);
      };
      const stop = new AbortController();
      try {
        const at = t.globalStep;
        const call = t.fit({ steps: 5000, signal: stop.signal });
        setTimeout(() => stop.abort(), 400);
        const r = await call;
        const shared = seen.filter((u) => u instanceof Int32Array && u.buffer instanceof SharedArrayBuffer);
        return { aborted: r.aborted, steps: r.globalStep - at, calls: seen.length, shared: shared.length, one: new Set(shared).size, set: shared.length ? Atomics.load(shared[0], 0) : null };
      } finally {
        delete t.train;
      }
    });
    console.log(`fit in the worker aborted after 400 ms: ${fitted.steps} steps in ${fitted.calls} calls`);
    assert.equal(fitted.aborted, true, "fit saw the abort");
    assert.ok(fitted.steps >= 1 && fitted.steps < 5000, `fit stopped early: ${fitted.steps} steps`);
    assert.ok(fitted.calls >= 1 && fitted.shared === fitted.calls && fitted.one === 1, `fit's calls with one shared until: ${fitted.shared} of ${fitted.calls}`);
    assert.equal(fitted.set, 1, "the abort set the shared flag");
    await page.fill("#batch", "128");
    await startTraining(page);
    // While it trains, only the views on screen are redrawn: the page is at its top, the
    // images are redrawn, Teach (below the fold) is not, until it is scrolled into view.
    await page.evaluate(() => {
      const t = window.vaePage.trainer;
      window.__calls = { reconstruct: 0, currentBatch: 0 };
      for (const name of Object.keys(window.__calls)) {
        const f = t[name];
        t[name] = function (...a) {
          window.__calls[name] += 1;
          return f.apply(this, a);
        };
      }
      // Training chunks in flight at once (posted, not yet answered): the scheduler posts the
      // next chunk while one runs, so the worker never waits for this thread between them; each
      // ends early once another call waits (`until`: a flag in memory shared with the worker).
      window.__chunks = { inFlight: 0, most: 0, shared: 0, calls: 0 };
      const train = t.train;
      t.train = function (...a) {
        const c = window.__chunks;
        c.calls += 1;
        const until = a[1]?.until;
        if (until instanceof Int32Array && until.buffer instanceof SharedArrayBuffer) c.shared += 1;
        c.most = Math.max(c.most, ++c.inFlight);
        return train.apply(this, a).finally(() => (c.inFlight -= 1));
      };
    });
    // One thread of two cores: a core to spare, the plot redrawn up to 4 times a second.
    if (await page.evaluate(() => navigator.hardwareConcurrency) >= 2) assert.equal(await page.evaluate(() => window.vaePage.plotMs), 250);
    const w = await watchWindow(page, 10_000, 128);
    const calls = await page.evaluate(() => ({ ...window.__calls }));
    const { most: chunks, shared, calls: chunkCalls } = await page.evaluate(() => window.__chunks);
    console.log(`training chunks in flight at once: at most ${chunks}; ${shared} of ${chunkCalls} with a shared \`until\``);
    assert.ok(chunks >= 2 && chunks <= 3, `chunks in flight at once: ${chunks} (the one awaited and up to two behind it)`);
    assert.ok(chunkCalls >= 10 && shared === chunkCalls, `chunks given the shared flag: ${shared} of ${chunkCalls}`);
    const teachY = await page.evaluate(() => document.getElementById("teach").getBoundingClientRect().top);
    console.log(`redraws over the window: ${calls.reconstruct} of the images (on screen), ${calls.currentBatch} of Teach (${teachY.toFixed(0)} px down, viewport 800 px)`);
    assert.ok(calls.reconstruct >= 2, `the images were redrawn ${calls.reconstruct} times in 10 s`);
    assert.ok(teachY > 1100, `Teach starts ${teachY} px down`);
    assert.equal(calls.currentBatch, 0, "Teach, off screen, was not redrawn");
    // Where the worker's time went (info().calls, each trainer's callTimes summed): the training
    // chunks and the redraws' calls counted there as the page made them, their time within
    // the worker's life.
    const info = await page.evaluate(async () => ({ info: await window.vaePage.host.info(), life: performance.now() }));
    const spent = Object.values(info.info.calls).reduce((ms, c) => ms + c.ms, 0);
    console.log(`the worker's calls: ${Object.entries(info.info.calls).map(([n, c]) => `${n} ${c.count} (${c.ms.toFixed(0)} ms)`).join(", ")}`);
    assert.ok(info.info.calls.train.count >= 10 && info.info.calls.train.ms > 1000, `train: ${JSON.stringify(info.info.calls.train)}`);
    assert.ok(info.info.calls.reconstruct.count >= calls.reconstruct, `reconstruct: ${info.info.calls.reconstruct.count} counted, ${calls.reconstruct} made in the window`);
    assert.ok(spent < info.life, `${spent.toFixed(0)} ms of calls in the page's ${info.life.toFixed(0)} ms`);
    await page.locator("#teach").scrollIntoViewIfNeeded();
    await page.waitForFunction(() => window.__calls.currentBatch > 0, null, { timeout: 10_000 });
    await page.evaluate(() => window.scrollTo(0, 0));
    // What a progress update repaints: the progress card alone (its own layout and paint,
    // style.css), never the whole page (4,500 px) as before — two seconds of a trace.
    await browser.startTracing(page, { categories: ["devtools.timeline"] });
    await page.waitForTimeout(2000);
    const paints = JSON.parse((await browser.stopTracing()).toString())
      .traceEvents.filter((e) => e.name === "Paint" && e.ph === "X")
      .map((e) => String(e.args.data.nodeName));
    const cardPaints = paints.filter((n) => n.includes("card progress")).length;
    const pagePaints = paints.filter((n) => n === "HTML").length;
    console.log(`paints over 2 s of training: ${paints.length} (${cardPaints} of the progress card, ${pagePaints} of the whole page's HTML)`);
    assert.ok(cardPaints >= 2, `the progress card was painted on its own ${cardPaints} times in 2 s`);
    assert.equal(pagePaints, 0, "a progress update repainted the whole page");
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
    // An in-thread trainer takes `until` as a function too, asked after each step but the last.
    const asked = await onPage.page.evaluate(async () => {
      const t = window.vaePage.trainer;
      const at = t.globalStep;
      let n = 0;
      const stats = await t.train(50, { until: () => ++n >= 3 });
      return { steps: stats.globalStep - at, n };
    });
    assert.deepEqual(asked, { steps: 3, n: 3 }, "in the page's thread: three steps, asked three times");
    const onPageCalls = await onPage.page.evaluate(async () => (await window.vaePage.host.info()).calls);
    assert.ok(onPageCalls.reconstruct?.count >= 1, `the page's own trainer's calls are counted too: ${JSON.stringify(onPageCalls)}`);
    await onPage.page.screenshot({ path: `${SHOTS}/worker-fallback-1280x800.png` });
    assert.deepEqual(onPage.errors, []);
  } finally {
    await closeBrowser(browser);
    await server.close();
  }
});

test("on the WebGPU engine a CPU copy answers hovers and drawings while it trains; at rest the trainer does", { timeout: 600_000 }, async () => {
  const server = await serve("dist", "/", { isolate: true });
  const browser = await launch(true);
  try {
    const { page, errors } = await openReady(browser, `${server.url}?lang=en&engine=webgpu`);
    assert.equal(await page.evaluate(() => window.vaePage.trainer.engine), "webgpu");
    assert.equal(await page.evaluate(() => window.vaePage.quick.active), false, "no copy before training");
    await page.fill("#batch", "64");
    await startTraining(page, 0);
    // The copy is made and filled after the first chunk.
    await page.waitForFunction(() => window.vaePage.quick.active, null, { timeout: 120_000 });
    const before = await page.evaluate(() => ({ answered: window.vaePage.quick.answered, step: window.vaePage.trainer.globalStep }));
    const lat = await hoverLatencies(page, 8);
    const drawn = await drawLatencies(page, 3);
    const after = await page.evaluate(() => ({ answered: window.vaePage.quick.answered, step: window.vaePage.trainer.globalStep, state: window.vaePage.state }));
    console.log(`WebGPU engine, hover→decode while training (CPU copy): median ${quantile(lat, 0.5).toFixed(0)} ms, p95 ${quantile(lat, 0.95).toFixed(0)} ms over ${lat.length}; drawn digit→encoding: median ${quantile(drawn, 0.5).toFixed(0)} ms over ${drawn.length}; ${after.step - before.step} steps meanwhile`);
    assert.equal(after.state, "training");
    assert.ok(lat.length >= 5 && drawn.length >= 3, "hovers and drawings answered while training");
    assert.ok(after.answered - before.answered >= lat.length + drawn.length, `the copy answered them (${after.answered - before.answered} requests)`);
    assert.ok(after.step > before.step, "training went on meanwhile");
    // Pause: the gestures go to the trainer itself again. The copy, refreshed now, holds the
    // trainer's model: its decode matches the WebGPU engine's to float rounding.
    await page.click("#pause");
    await page.waitForFunction(() => window.vaePage.state === "paused", null, { timeout: 120_000 });
    assert.equal(await page.evaluate(() => window.vaePage.quick.active), false);
    // Hover once the pause is through (the page's buttons and message change with it).
    await page.waitForFunction(() => /^Paused at step/.test(document.getElementById("message").textContent), null, { timeout: 120_000 });
    const answered = await page.evaluate(() => window.vaePage.quick.answered);
    const atRest = await hoverLatencies(page, 3);
    assert.ok(atRest.length >= 1);
    assert.equal(await page.evaluate(() => window.vaePage.quick.answered), answered, "at rest the trainer answers");
    const diff = await page.evaluate(async () => {
      const { trainer: t, quick } = window.vaePage;
      await quick.load(t, await t.exportCheckpoint());
      const z = Float32Array.from({ length: 3 * t.latent }, (_, i) => Math.sin(i));
      const [a, b] = [await t.decode(z), await quick.decode(z)];
      return a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);
    });
    assert.ok(diff < 1e-4, `the copy decodes as the trainer does: max |Δ| ${diff}`);
    assert.deepEqual(errors, []);
  } finally {
    await closeBrowser(browser);
    await server.close();
  }
});
