// The page's call queue and the periodic redraw's timing (www/scheduler.js), in node: training
// chunks on a trainer in a worker are posted at once behind a chunk already posted (the worker
// then holds the next chunk when one ends), every other call still waits for what is queued
// before it, and raises the waiting flag the chunks end early on until it begins; the periodic
// redraw gives way to an epoch's end that is about to redraw; and the
// plot is redrawn less often where the CPU engine's threads take every core.
import { test } from "node:test";
import assert from "node:assert/strict";

globalThis.window = { devicePixelRatio: 1 };
globalThis.crossOriginIsolated = true; // as the page is served: memory shared with the worker
const { Scheduler, exclusive, exclusiveChunk, resetQueue, plotInterval, waitingFlag } = await import("../../www/scheduler.js");

/** A stand-in for the worker: each call is "posted" when its function runs, answered later. */
function fakeWorker() {
  const log = [];
  const open = new Map();
  const call = (name) => () => {
    log.push(`post ${name}`);
    return new Promise((resolve) => open.set(name, resolve));
  };
  const answer = (name) => {
    log.push(`answer ${name}`);
    open.get(name)(name);
    open.delete(name);
  };
  return { log, call, answer, posted: () => [...open.keys()] };
}

const settle = () => new Promise((r) => setTimeout(r, 0));

test("chunks behind a posted chunk are posted at once; other calls wait for them", async () => {
  resetQueue();
  const w = fakeWorker();
  const a = exclusiveChunk(w.call("chunk 1"));
  const b = exclusiveChunk(w.call("chunk 2"));
  const c = exclusiveChunk(w.call("chunk 3"));
  await settle();
  // All three are with the worker before the first has answered.
  assert.deepEqual(w.posted(), ["chunk 1", "chunk 2", "chunk 3"]);
  const d = exclusive(w.call("decode"));
  await settle();
  assert.deepEqual(w.posted(), ["chunk 1", "chunk 2", "chunk 3"], "the decode waits for the chunks");
  // A chunk queued behind the decode waits for it too (the queue's order holds).
  const e = exclusiveChunk(w.call("chunk 4"));
  await settle();
  assert.ok(!w.posted().includes("chunk 4"));
  for (const name of ["chunk 1", "chunk 2", "chunk 3"]) w.answer(name);
  assert.deepEqual(await Promise.all([a, b, c]), ["chunk 1", "chunk 2", "chunk 3"]);
  await settle();
  assert.deepEqual(w.posted(), ["decode"]);
  w.answer("decode");
  assert.equal(await d, "decode");
  await settle();
  assert.deepEqual(w.posted(), ["chunk 4"]);
  w.answer("chunk 4");
  assert.equal(await e, "chunk 4");
  assert.deepEqual(w.log.slice(0, 3), ["post chunk 1", "post chunk 2", "post chunk 3"]);
});

test("a chunk behind another call is posted when that call has answered (exclusive's order)", async () => {
  resetQueue();
  const w = fakeWorker();
  const d = exclusive(w.call("flush"));
  const a = exclusiveChunk(w.call("chunk"));
  await settle();
  assert.deepEqual(w.posted(), ["flush"]);
  w.answer("flush");
  await d;
  await settle();
  assert.deepEqual(w.posted(), ["chunk"]);
  w.answer("chunk");
  assert.equal(await a, "chunk");
});

test("a failed chunk does not stop the calls queued behind it", async () => {
  resetQueue();
  const failing = exclusiveChunk(() => Promise.reject(new Error("diverged")));
  const next = exclusiveChunk(() => Promise.resolve("next"));
  const after = exclusive(() => Promise.resolve("flush"));
  await assert.rejects(failing, /diverged/);
  assert.equal(await next, "next");
  assert.equal(await after, "flush");
});

test("the periodic redraw waits for its time and gives way to an epoch's end close by", () => {
  const now = performance.now();
  const s = { tickAt: now - 3000, refreshMs: 2500, perStep: 10 };
  const due = (stepInEpoch) => Scheduler.prototype.tickDue.call(s, { stepsPerEpoch: 469, stepInEpoch });
  assert.equal(due(100), true, "3.69 s of the epoch left: redraw");
  assert.equal(due(369), false, "1 s left (under half of 2.5 s): the epoch's end redraws");
  assert.equal(due(469), false, "the epoch's end itself redraws");
  s.perStep = Infinity; // no chunk timed yet
  assert.equal(due(400), true);
  s.tickAt = performance.now();
  s.perStep = 10;
  assert.equal(due(100), false, "redrawn just now");
});

test("the plot is redrawn less often where the CPU engine's threads take every core", async () => {
  assert.equal(plotInterval("cpu", 2, 2), 625, "2 threads on 2 cores");
  assert.equal(plotInterval("cpu", 4, 4), 313);
  assert.equal(plotInterval("cpu", 8, 16), 250, "a core to spare");
  assert.equal(plotInterval("cpu", 1, 2), 250, "one thread on 2 cores");
  assert.equal(plotInterval("cpu", 8, 8), 250, "8 cores: 1250 ÷ 8 is under the floor");
  assert.equal(plotInterval("webgpu", 1, 1), 250, "the WebGPU engine");
  assert.equal(plotInterval("cpu", 2, undefined), 250, "cores unknown");
  // plotSoon spaces the redraws by plotMs.
  const draws = [];
  const s = Object.assign(Object.create(Scheduler.prototype), {
    plotMs: 80,
    plotAt: 0,
    plotTimer: null,
    progress: null,
    panels: { plot: { draw: () => draws.push(performance.now()) } },
  });
  for (const t0 = performance.now(); performance.now() - t0 < 400; ) {
    s.plotSoon();
    await new Promise((r) => setTimeout(r, 5));
  }
  clearTimeout(s.plotTimer);
  assert.ok(draws.length >= 3 && draws.length <= 6, `${draws.length} redraws in 400 ms, at most every 80 ms`);
  for (let i = 1; i < draws.length; i++) assert.ok(draws[i] - draws[i - 1] >= 70, `redraws ${(draws[i] - draws[i - 1]).toFixed(0)} ms apart`);
});

test("a call queued behind chunks raises the flag they end early on until it begins; Pause raises it too", async () => {
  resetQueue();
  const flag = waitingFlag();
  assert.ok(flag instanceof Int32Array && flag.buffer instanceof SharedArrayBuffer, "shared with the worker");
  const w = fakeWorker();
  const a = exclusiveChunk(w.call("chunk 1"));
  const b = exclusiveChunk(w.call("chunk 2"));
  await settle();
  assert.equal(Atomics.load(flag, 0), 0, "chunks alone never raise it");
  const d = exclusive(w.call("decode"));
  const e = exclusive(w.call("sample"));
  assert.equal(Atomics.load(flag, 0), 2, "two calls wait behind the chunks");
  w.answer("chunk 1");
  w.answer("chunk 2");
  await Promise.all([a, b]);
  await settle();
  assert.deepEqual(w.posted(), ["decode"]);
  assert.equal(Atomics.load(flag, 0), 1, "the decode began; the sample still waits");
  w.answer("decode");
  await d;
  await settle();
  assert.equal(Atomics.load(flag, 0), 0);
  w.answer("sample");
  await e;
  // A call that fails still lowers it once it begins.
  await assert.rejects(exclusive(() => Promise.reject(new Error("lost"))), /lost/);
  assert.equal(Atomics.load(flag, 0), 0);
  // A call that will never begin (the trainer's device was lost): resetQueue starts a fresh
  // flag, so later chunks are not held short by it.
  exclusiveChunk(() => new Promise(() => {}));
  exclusive(w.call("never"));
  assert.equal(Atomics.load(flag, 0), 1);
  resetQueue();
  assert.notEqual(waitingFlag(), flag);
  assert.equal(Atomics.load(waitingFlag(), 0), 0);
  // Pause: raised once however often it is pressed, lowered when the run lets go.
  const s = Object.assign(Object.create(Scheduler.prototype), { held: null });
  s.stopSoon();
  s.stopSoon();
  assert.equal(Atomics.load(waitingFlag(), 0), 1);
  s.release();
  s.release();
  assert.equal(Atomics.load(waitingFlag(), 0), 0);
});
