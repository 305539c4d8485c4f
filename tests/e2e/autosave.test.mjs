// Autosave: the run is kept in the browser's storage (IndexedDB) while it trains, so a closed
// tab loses at most the last save. The page is closed mid-training and opened again in the same
// browser context: "continue" restores the saved step and the weights byte for byte (SHA-256 of
// the checkpoint stored and of the one exported once restored), the data it trained on and the
// loss plot, and training goes on; Pause saves at once; "Start fresh" deletes the run. An entry
// with one flipped byte is discarded with a message;
// storage that refuses (full, or absent as in some private windows) turns saving off with a
// notice and nothing else changes.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { serve, launch, openReady, loadDigits, closeBrowser } from "./serve.mjs";

const SHOTS = "target/e2e";
mkdirSync(SHOTS, { recursive: true });

let server, browser;
before(async () => {
  server = await serve("dist");
  browser = await launch(true);
});
after(async () => {
  await closeBrowser(browser);
  await server.close();
});

const URL_CPU = () => `${server.url}?lang=en&engine=cpu`;

/** The run entry as stored: its position, the SHA-256 of its checkpoint and Adam state, and the
 * number of loss-plot steps (read straight from IndexedDB, not through the page's code). */
function readEntry(page) {
  return page.evaluate(async () => {
    const db = await new Promise((res, rej) => {
      const r = indexedDB.open("vae-webgpu");
      r.onsuccess = () => res(r.result);
      r.onerror = () => rej(r.error);
    });
    const e = await new Promise((res, rej) => {
      const r = db.transaction("autosave").objectStore("autosave").get("run");
      r.onsuccess = () => res(r.result);
      r.onerror = () => rej(r.error);
    });
    db.close();
    if (!e) return null;
    const hex = async (b) => [...new Uint8Array(await crypto.subtle.digest("SHA-256", b))].map((x) => x.toString(16).padStart(2, "0")).join("");
    const n = Number(new DataView(e.checkpoint.buffer, e.checkpoint.byteOffset).getBigUint64(0, true));
    const meta = JSON.parse(new TextDecoder().decode(e.checkpoint.subarray(8, 8 + n))).__metadata__;
    return { position: e.position, meta, checkpoint: await hex(e.checkpoint), adam: await hex(e.adam), plotSteps: e.plotSteps.length / 3, data: e.data.kind };
  });
}

test("a run saved while training continues after the tab is closed: same step, same weights", { timeout: 600_000 }, async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  try {
    const a = await openReady(context, URL_CPU());
    assert.equal(await a.page.evaluate(() => window.vaePage.autosave.on), true, "autosave is on");
    assert.equal(await a.page.isVisible("#saved"), false, "nothing saved yet, nothing offered");
    // Uploaded digits (so the data is kept beside the run), 16 steps an epoch, many epochs.
    await loadDigits(a.page, 2048, 256);
    await a.page.fill("#epochs", "500");
    await a.page.click("#train");
    await a.page.waitForFunction(() => window.vaePage.state === "training" && !window.vaePage.pretrained);
    await a.page.waitForTimeout(20_000);
    const stats = await a.page.evaluate(() => window.vaePage.autosave.stats);
    console.log(`autosave over 20 s of training: ${stats.saves} saves of ${(stats.bytes / 1e6).toFixed(2)} MB, ${(stats.totalMs / stats.saves).toFixed(0)} ms each to commit, the longest copy on the page's thread ${stats.putMs.toFixed(1)} ms`);
    assert.ok(stats.saves >= 1, "the run was saved while it trained");
    assert.match(await a.page.textContent("#autosave-note"), /^Saved in this browser at step \d+/);
    assert.deepEqual(a.errors, []);
    const stepBeforeClose = await a.page.evaluate(() => window.vaePage.trainer.globalStep);
    await a.page.close(); // mid-training: no pause, no goodbye

    // Opened again: the saved run is offered.
    const b = await openReady(context, URL_CPU());
    await b.page.waitForSelector("#saved:not([hidden])");
    const entry = await readEntry(b.page);
    assert.ok(entry && entry.position.globalStep > 0 && entry.position.globalStep <= stepBeforeClose, `a saved step (${entry && entry.position.globalStep}) at most the one reached (${stepBeforeClose})`);
    assert.equal(entry.data, "files");
    const { epoch, globalStep } = entry.position;
    assert.equal(await b.page.textContent("#saved-continue"), `Continue the run from epoch ${epoch}, step ${globalStep}`);
    await b.page.screenshot({ path: `${SHOTS}/autosave-offer-1280x800.png` });
    await b.page.click("#saved-continue");
    await b.page.waitForFunction(() => window.vaePage.restored !== null);
    const restored = await b.page.evaluate(async () => {
      const r = window.vaePage.restored;
      const hex = [...new Uint8Array(await crypto.subtle.digest("SHA-256", r.bytes))].map((x) => x.toString(16).padStart(2, "0")).join("");
      const n = Number(new DataView(r.bytes.buffer, r.bytes.byteOffset).getBigUint64(0, true));
      const meta = JSON.parse(new TextDecoder().decode(r.bytes.subarray(8, 8 + n))).__metadata__;
      return { step: r.step, meta, checkpoint: hex };
    });
    assert.equal(restored.step, globalStep, "the saved step");
    assert.deepEqual(restored.meta, entry.meta, "the run's metadata");
    assert.equal(restored.checkpoint, entry.checkpoint, "the weights (and run metadata) byte for byte");
    assert.match(await b.page.textContent("#data-status"), /kept with the saved run/);
    assert.ok(await b.page.evaluate(() => window.vaePage.plot.steps.length) >= entry.plotSteps, "the loss plot's history is back");
    assert.equal(await b.page.isVisible("#saved"), false, "the offer is gone");
    // Training goes on from there.
    await b.page.waitForFunction((s) => window.vaePage.state === "training" && window.vaePage.trainer.globalStep > s + 16, globalStep, { timeout: 120_000 });
    assert.match(await b.page.textContent("#message"), /Continuing the saved run|Epoch \d+/);
    // Pause saves at once: the next visit offers exactly the paused step.
    await b.page.click("#pause");
    await b.page.waitForFunction(() => window.vaePage.state === "paused" && /^Paused/.test(document.getElementById("message").textContent));
    const paused = await b.page.evaluate(() => window.vaePage.trainer.globalStep);
    assert.equal(await b.page.getAttribute("#autosave-note", "data-step"), String(paused));
    assert.deepEqual(b.errors, []);
    await b.page.close();

    const c = await openReady(context, URL_CPU());
    await c.page.waitForSelector("#saved:not([hidden])");
    assert.match(await c.page.textContent("#saved-continue"), new RegExp(`, step ${paused}$`));
    // Kept aside in the page, to be written back damaged below.
    await c.page.evaluate(async () => {
      const db = await new Promise((res) => { const r = indexedDB.open("vae-webgpu"); r.onsuccess = () => res(r.result); });
      window.stash = await new Promise((res) => { const r = db.transaction("autosave").objectStore("autosave").get("run"); r.onsuccess = () => res(r.result); });
      db.close();
    });
    // "Start fresh" deletes the saved run.
    await c.page.click("#saved-fresh");
    await c.page.waitForFunction(() => /^The saved run was deleted/.test(document.getElementById("message").textContent));
    assert.equal(await c.page.isVisible("#saved"), false);
    assert.equal(await readEntry(c.page), null, "nothing is kept after Start fresh");
    // The entry written back with one flipped byte in its checkpoint: discarded with a message,
    // never loaded.
    await c.page.evaluate(async () => {
      const db = await new Promise((res) => { const r = indexedDB.open("vae-webgpu"); r.onsuccess = () => res(r.result); });
      const tx = db.transaction("autosave", "readwrite");
      const e = window.stash;
      e.checkpoint[e.checkpoint.length >> 1] ^= 0x01;
      tx.objectStore("autosave").put(e, "run");
      await new Promise((res) => { tx.oncomplete = res; });
      db.close();
    });
    await c.page.reload();
    await c.page.waitForSelector("#saved[data-kind='discarded']:not([hidden])", { timeout: 120_000 });
    assert.match(await c.page.textContent("#saved-text"), /could not be used and was deleted: its contents do not match its checksum \(damaged\)/);
    assert.equal(await c.page.isVisible("#saved-continue"), false);
    assert.equal(await readEntry(c.page), null, "the damaged entry is gone");
    await c.page.screenshot({ path: `${SHOTS}/autosave-discarded-1280x800.png` });
    await c.page.close();
  } finally {
    await context.close();
  }
});

test("storage that refuses turns autosave off with a notice; training goes on", { timeout: 300_000 }, async () => {
  // Full: every write fails as a full disk does.
  const full = await openReady(browser, URL_CPU(), {}, () => {
    IDBObjectStore.prototype.put = function () {
      throw new DOMException("the quota has been exceeded", "QuotaExceededError");
    };
  });
  await loadDigits(full.page, 1024, 256);
  await full.page.fill("#epochs", "500");
  await full.page.click("#train");
  await full.page.waitForFunction(() => window.vaePage.autosave.off !== null, null, { timeout: 60_000 });
  assert.match(await full.page.textContent("#autosave-note"), /^Autosave is off in this window \(storage is full/);
  const step = await full.page.evaluate(() => window.vaePage.trainer.globalStep);
  await full.page.waitForFunction((s) => window.vaePage.trainer.globalStep > s + 16, step);
  assert.equal(await full.page.evaluate(() => window.vaePage.state), "training");
  assert.deepEqual(full.errors, []);
  await full.page.close();
  // Absent (some private windows refuse IndexedDB): said at once.
  const none = await openReady(browser, URL_CPU(), {}, () => {
    Object.defineProperty(globalThis, "indexedDB", { value: undefined });
  });
  assert.match(await none.page.textContent("#autosave-note"), /^Autosave is off in this window \(this browser has no IndexedDB\)/);
  assert.equal(await none.page.isVisible("#autosave-note"), true);
  assert.deepEqual(none.errors, []);
  await none.page.close();
});
