// How the page's own thread fares while the model trains: long tasks (a PerformanceObserver
// installed before the page's scripts), frames drawn (requestAnimationFrame), training speed
// (steps over the window × batch), hover decodes on the latent map and drawn digits' encodings
// while training. Used by
// worker.test.mjs (asserted) and tests/bench/page.mjs (figures, before and after).

/** Runs in the page before its scripts: every long task (> 50 ms) of the page's thread. */
export function watchLongTasks() {
  window.__longTasks = [];
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) window.__longTasks.push({ start: e.startTime, ms: e.duration });
  }).observe({ type: "longtask", buffered: true });
}

/** Clicks Train and waits until steps are in the plot; `settleMs` later the window opens. */
export async function startTraining(page, settleMs = 1000) {
  await page.click("#train");
  await page.waitForFunction(() => window.vaePage.state === "training" && window.vaePage.plot.steps.length > 0, null, { timeout: 180_000 });
  await page.waitForTimeout(settleMs);
}

/** `ms` of training watched: `{ windowMs, longTasks, longestMs, blockingMs, blockingShare,
 * fps, samplesPerSec }` (blocking: the part of each long task past 50 ms, as Lighthouse's total
 * blocking time counts it). */
export async function watchWindow(page, ms, batch) {
  return page.evaluate(async ({ ms, batch }) => {
    const t = window.vaePage.trainer;
    const step0 = t.globalStep;
    const t0 = performance.now();
    let frames = 0;
    await new Promise((resolve) => {
      const frame = (now) => {
        frames += 1;
        if (now - t0 < ms) requestAnimationFrame(frame);
        else resolve();
      };
      requestAnimationFrame(frame);
    });
    const t1 = performance.now();
    const steps = window.vaePage.trainer.globalStep - step0;
    const long = window.__longTasks.filter((e) => e.start >= t0 && e.start < t1);
    const blockingMs = long.reduce((s, e) => s + Math.max(0, e.ms - 50), 0);
    return {
      windowMs: t1 - t0,
      longTasks: long.length,
      longestMs: long.reduce((m, e) => Math.max(m, e.ms), 0),
      blockingMs,
      blockingShare: blockingMs / (t1 - t0),
      fps: (1000 * frames) / (t1 - t0),
      samplesPerSec: (1000 * steps * batch) / (t1 - t0),
    };
  }, { ms, batch });
}

/** Hovers `n` points of the latent map while training runs; the decodes' latencies (ms). */
export async function hoverLatencies(page, n = 12) {
  await page.evaluate(() => { window.vaePage.explore.hoverLatencies = []; });
  await page.locator("#map").scrollIntoViewIfNeeded();
  const box = await page.locator("#map").boundingBox();
  for (let k = 0; k < n; k++) {
    await page.mouse.move(box.x + (0.15 + (0.7 * k) / n) * box.width, box.y + (0.8 - (0.6 * k) / n) * box.height);
    await page.waitForTimeout(300);
  }
  await page.waitForFunction((n) => window.vaePage.explore.hoverLatencies.length >= Math.min(n, 5), n, { timeout: 60_000 });
  return (await page.evaluate(() => window.vaePage.explore.hoverLatencies)).slice().sort((a, b) => a - b);
}

/** Draws `n` strokes on the drawing pad while training runs; the latencies (ms) from each
 * stroke's end to its encoding drawn (explore.js's drawLatencies). */
export async function drawLatencies(page, n = 8) {
  await page.evaluate(() => { window.vaePage.explore.drawLatencies = []; });
  await page.locator("#draw").scrollIntoViewIfNeeded();
  const box = await page.locator("#draw").boundingBox();
  for (let k = 0; k < n; k++) {
    const x = box.x + box.width * (0.3 + (0.4 * k) / n);
    await page.mouse.move(x, box.y + 0.2 * box.height);
    await page.mouse.down();
    for (let i = 1; i <= 4; i++) await page.mouse.move(x + 0.05 * box.width * (i % 2), box.y + (0.2 + 0.15 * i) * box.height);
    await page.mouse.up();
    await page.waitForFunction((k) => window.vaePage.explore.drawLatencies.length > k, k, { timeout: 60_000 });
    await page.waitForTimeout(200);
  }
  return (await page.evaluate(() => window.vaePage.explore.drawLatencies)).slice().sort((a, b) => a - b);
}

/** The `q` quantile of sorted `xs`. */
export const quantile = (xs, q) => xs[Math.min(xs.length - 1, Math.floor(q * xs.length))];

/** Pauses the page's training, then trains its trainer directly — the same model, data, engine
 * and worker, but without the page's scheduler, redraws or plot — for `ms`: samples/s. Like the
 * page (and the CLI, and PyTorch's script) it evaluates the test set at each epoch's end, and it
 * runs watchWindow's frame counter meanwhile (a requestAnimationFrame loop makes the browser draw
 * 60 frames a second, which on a 2-core machine takes ≈ 10% from the trainer's threads), so
 * what the page does beyond that is what the two figures differ by. */
export async function bareRate(page, ms, batch) {
  await page.click("#pause");
  await page.waitForFunction(() => window.vaePage.state === "paused" && /^Paused|一時停止しました/.test(document.getElementById("message").textContent), null, { timeout: 120_000 });
  return page.evaluate(async ({ ms, batch }) => {
    const t = window.vaePage.trainer;
    await t.train(8); // warm after the pause
    await t.flush();
    let counting = true;
    const frame = () => {
      if (counting) requestAnimationFrame(frame);
    };
    requestAnimationFrame(frame);
    const step0 = t.globalStep;
    const t0 = performance.now();
    while (performance.now() - t0 < ms) {
      const s = await t.train(32);
      if (s.epochFinished) await t.evaluate();
    }
    await t.flush();
    counting = false;
    return (1000 * (t.globalStep - step0) * batch) / (performance.now() - t0);
  }, { ms, batch });
}
