// The loss plot holds a million steps: its range needs no spread of every value (which throws
// RangeError past ~125k), and its lines are drawn as bands of one span per pixel column. Runs in node with a
// recording stand-in for the canvas.
import { test } from "node:test";
import assert from "node:assert/strict";

globalThis.window = { devicePixelRatio: 1 };
const { LossPlot, stepRecords } = await import("../../www/plot.js");

function fakeCanvas() {
  const calls = { lineTo: 0, moveTo: 0 };
  const ctx = new Proxy({}, {
    get(_, k) {
      if (k in calls) return () => { calls[k] += 1; };
      return () => {};
    },
    set() { return true; },
  });
  return { calls, canvas: { clientWidth: 600, clientHeight: 260, width: 0, height: 0, getContext: () => ctx } };
}

test("a million steps draw without RangeError, in a path bounded by the width", () => {
  const { calls, canvas } = fakeCanvas();
  const plot = new LossPlot(canvas);
  const steps = [];
  for (let s = 1; s <= 1_000_000; s++) steps.push({ globalStep: s, reconstruction: 100 + 50 / s + (s % 7), kl: 20 + (s % 3) });
  plot.addSteps(steps);
  plot.addEpoch(1_000_000, 110, 105);
  plot.draw();
  assert.equal(plot.steps.length, 1_000_000);
  // Two bands of two points per pixel column of a 540-pixel-wide plot.
  assert.ok(calls.lineTo + calls.moveTo <= 2 * 2 * 600, `${calls.lineTo} lineTo calls`);
});

test("records decode by the engine's field list", () => {
  const fields = ["globalStep", "epoch", "reconstruction", "kl"];
  const r = stepRecords({ records: [1, 1, 150, 20, 2, 1, 140, 21] }, fields);
  assert.deepEqual(r, [
    { globalStep: 1, epoch: 1, reconstruction: 150, kl: 20 },
    { globalStep: 2, epoch: 1, reconstruction: 140, kl: 21 },
  ]);
});
