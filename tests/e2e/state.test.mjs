// The page's state has one owner (www/state.js): written only through its setters, read by
// the panels through the views app.js hands them. Runs in Node (state.js touches no DOM), and
// reads the page's modules as text for the ownership rules.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { PageState, PHASES } from "../../www/state.js";

const WWW = fileURLToPath(new URL("../../www/", import.meta.url));

test("the state is written only through its setters, which check what they are given", () => {
  const page = new PageState();
  assert.equal(page.phase, "starting");
  assert.throws(() => { page.phase = "training"; }, TypeError, "a field is not assignable");
  assert.throws(() => { page.trainer = {}; }, TypeError);
  assert.throws(() => page.setPhase("trainnig"), RangeError);
  assert.equal(page.phase, "starting", "a refused phase changes nothing");
  const heard = [];
  const stop = page.onChange((f) => heard.push(f));
  for (const p of PHASES) page.setPhase(p);
  assert.equal(page.phase, "lost");
  assert.ok(page.busy);
  page.setPhase("paused");
  assert.ok(!page.busy);
  stop();
  page.setPhase("ready");
  assert.equal(heard.length, PHASES.length + 1, "listeners hear each change until stopped");

  page.setPretrained({ epochs: 10 });
  const trainer = { name: "t" };
  page.setTrainer(trainer, { batchSize: 64, lr: 0.001 });
  assert.equal(page.trainer, trainer);
  assert.equal(page.pretrained, null, "a new trainer is not the shipped model");
  const config = page.config;
  config.batchSize = 1;
  assert.equal(page.config.batchSize, 64, "config hands out a copy");
  page.setLr(0.01);
  assert.deepEqual(page.config, { batchSize: 64, lr: 0.01 });
  assert.throws(() => page.setTrainer(null, {}), TypeError);
  assert.throws(() => new PageState().setLr(0.1), /no trainer/);

  assert.throws(() => page.setData({ files: [] }), TypeError);
  const data = { kind: "mnist", files: [1, 2, 3, 4].map((n) => new Uint8Array(n)), label: () => "MNIST" };
  page.setData(data);
  assert.equal(page.data, data);

  page.keep(new Uint8Array([1, 2]), 7);
  assert.equal(page.kept.step, 7);
  assert.ok(Object.isFrozen(page.kept));
  page.markRestored();
  assert.deepEqual({ ...page.restored }, { step: 7, bytes: page.kept.bytes });

  assert.deepEqual([...page.walkPair], [0, 1]);
  page.advanceWalkPair(3);
  assert.deepEqual([...page.walkPair], [2, 0], "the walk pair wraps around the test set");
  assert.throws(() => { page.walkPair[0] = 5; }, TypeError);
});

test("no page module assigns to the page's state; the panels never see all of it", () => {
  const files = readdirSync(WWW).filter((f) => f.endsWith(".js") && f !== "state.js");
  for (const f of files) {
    const src = readFileSync(join(WWW, f), "utf8");
    const writes = src.match(/\bpage\.[a-zA-Z]+\s*(=(?!=)|\+=|-=)/g);
    assert.equal(writes, null, `${f} assigns to the page's state: ${writes}`);
  }
  for (const f of ["explore.js", "teach.js", "compare.js", "structure.js", "history.js", "lost.js", "scheduler.js"]) {
    const src = readFileSync(join(WWW, f), "utf8");
    assert.doesNotMatch(src, /from "\.\/(app|state)\.js"/, `${f} imports the page's state`);
    if (f !== "scheduler.js") assert.doesNotMatch(src, /\bpage\.[a-zA-Z]/, `${f} reads the whole state`);
  }
});
