// The browser soak: one page trains 24 epochs of a small uploaded set (the page's whole
// per-epoch workload: training with live readbacks, test loss, images, checkpoints kept in
// memory) while the test samples, at every epoch's end, the JS heap after a forced garbage
// collection, the wasm memory and the crate's count of live GPU buffers. After a warm-up of
// WARM epochs they must stay flat: the same buffer count within BUFFER_SLACK (readbacks in
// flight at the sampling moment), wasm memory not growing, and the heap within HEAP_SLACK —
// with the page's autosave on (the run written to IndexedDB as it trains; a Pause at epoch
// PAUSE_AT saves at once, then training goes on, so a save comes mid-run however fast the
// machine trains: the epochs' ends save at most every 15 s, and a fast one trains all 24 in less).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { appendFileSync, mkdirSync, writeFileSync } from "node:fs";
import { serve, launch, openReady, loadDigits, closeBrowser } from "./serve.mjs";

const EPOCHS = 24;
const WARM = 4;
const PAUSE_AT = 12;
const BUFFER_SLACK = 4;
const HEAP_SLACK = 2 << 20;
const LOG = "target/e2e/soak.log"; // the per-epoch samples, written as they come
mkdirSync("target/e2e", { recursive: true });

let server;
before(async () => { server = await serve("dist"); });
after(async () => { await server.close(); });

test(`${EPOCHS} epochs in one page keep the JS heap, wasm memory and GPU buffers flat`, { timeout: 900_000 }, async () => {
  const browser = await launch(true);
  const { page, errors } = await openReady(browser, server.url);
  const cdp = await page.context().newCDPSession(page);
  await loadDigits(page, 384, 128);
  await page.fill("#epochs", String(EPOCHS));
  await page.fill("#batch", "128");
  await page.click("#train");
  // The shipped model (and its epoch history in the plot) is replaced by the new one first.
  await page.waitForFunction(() => !window.vaePage.pretrained && window.vaePage.state === "training", null, { timeout: 120_000 });
  const rows = [];
  writeFileSync(LOG, "");
  for (let epoch = 1; epoch <= EPOCHS; epoch++) {
    await page.waitForFunction((k) => window.vaePage.plot.epochs.length >= k, epoch, { timeout: 300_000 });
    await cdp.send("HeapProfiler.collectGarbage");
    const { usedSize } = await cdp.send("Runtime.getHeapUsage");
    // The trainer's module (in its worker): its memory and the GPU buffers alive.
    const { count, bytes, wasm } = await page.evaluate(async () => {
      const info = await window.vaePage.host.info();
      return { count: info.liveGpuBuffers.count, bytes: info.liveGpuBuffers.bytes, wasm: info.wasmBytes };
    });
    rows.push({ epoch, heap: usedSize, wasm, count, bytes });
    const line = `soak epoch ${String(epoch).padStart(2)}: JS heap ${(usedSize / 1048576).toFixed(2)} MiB, wasm memory ${(wasm / 1048576).toFixed(1)} MiB, ${count} live GPU buffers (${(bytes / 1048576).toFixed(2)} MiB)`;
    console.log(line);
    appendFileSync(LOG, line + "\n");
    if (epoch === PAUSE_AT) {
      const before = await page.evaluate(() => window.vaePage.autosave.stats.saves);
      await page.click("#pause");
      await page.waitForFunction((n) => window.vaePage.state === "paused" && window.vaePage.autosave.stats.saves > n, before, { timeout: 120_000 });
      await page.click("#train");
      await page.waitForFunction(() => window.vaePage.state === "training", null, { timeout: 120_000 });
    }
  }
  await page.waitForFunction(() => window.vaePage.state === "done", null, { timeout: 300_000 });
  // Autosave was on the whole time (every epoch's end at most once every 15 s, the Pause, the
  // finished run).
  const saved = await page.evaluate(() => ({ off: window.vaePage.autosave.off, ...window.vaePage.autosave.stats }));
  console.log(`autosave during the soak: ${saved.saves} saves of ${(saved.bytes / 1e6).toFixed(2)} MB, ${(saved.totalMs / saved.saves).toFixed(0)} ms each to commit, the longest copy on the page's thread ${saved.putMs.toFixed(1)} ms`);
  assert.equal(saved.off, null, "autosave stayed on");
  assert.ok(saved.saves >= 2, `the run was saved while it trained, at the Pause and at its end (${saved.saves} saves)`);
  const flat = rows.slice(WARM);
  const span = (key) => Math.max(...flat.map((r) => r[key])) - Math.min(...flat.map((r) => r[key]));
  console.log(`after epoch ${WARM}: buffers span ${span("count")}, heap span ${(span("heap") / 1024).toFixed(0)} KiB, wasm span ${span("wasm")} B`);
  assert.ok(span("count") <= BUFFER_SLACK, `live GPU buffers moved by ${span("count")}: ${flat.map((r) => r.count)}`);
  assert.ok(flat.at(-1).count <= flat[0].count + BUFFER_SLACK, "no upward drift of buffers");
  assert.equal(span("wasm"), 0, `wasm memory grew: ${flat.map((r) => r.wasm)}`);
  assert.ok(span("heap") <= HEAP_SLACK, `JS heap moved by ${span("heap")} bytes: ${flat.map((r) => r.heap)}`);
  assert.deepEqual(errors, []);
  await closeBrowser(browser);
});
