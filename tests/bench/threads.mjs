// Where the machine's time goes while the page trains: a Chromium trace (the DevTools
// protocol's tracing) of the page training for a window, then of the paused page's trainer
// called directly for as long, each summarised by thread — the share of the window each thread
// spent in tasks (overlapping tasks counted once), its task count and its longest gaps — and
// the page's own thread by what it did (self time by trace event). The trainer's worker busy
// less than when called directly is time it waited for the page; the page's thread busier is
// what the page's drawing takes from the cores the trainer's threads use; the two together, the
// page's cost as a share of the trainer's time, a figure by CPU time that this shared machine's
// drifting speed moves far less than samples/s (the CPU engine's: on WebGPU a call's time takes in
// GPU work queued before it: page.mjs compares samples/s there). Figures only.
// Usage: node tests/bench/threads.mjs [--seconds 5] [--rounds 2] [--engine cpu] [--dist DIR] [--keep DIR]
//   (--keep: write each trace's JSON there, to open in chrome://tracing or Perfetto)
import { mkdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { serve, launch, openReady, closeBrowser } from "../e2e/serve.mjs";
import { startTraining } from "../e2e/responsive.mjs";

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : dflt;
};
const SECONDS = Number(arg("seconds", 5));
const ROUNDS = Number(arg("rounds", 2));
const ENGINE = arg("engine", "cpu");
const KEEP = arg("keep", "");
const DIR = KEEP || join(tmpdir(), `vae-threads-${process.pid}`);
mkdirSync(DIR, { recursive: true });
const CATEGORIES = ["toplevel", "devtools.timeline", "disabled-by-default-devtools.timeline", "v8.execute", "__metadata"];

/** Per thread: busy ms (the union of its task intervals), tasks, longest gaps; and the page's
 * thread's self time by event name. */
function summarise(file) {
  const events = JSON.parse(readFileSync(file, "utf8")).traceEvents;
  const thread = {};
  const proc = {};
  for (const e of events) {
    if (e.ph === "M" && e.name === "thread_name") thread[`${e.pid}:${e.tid}`] = e.args.name;
    if (e.ph === "M" && e.name === "process_name") proc[e.pid] = e.args.name;
  }
  const spans = {};
  let first = Infinity;
  let last = 0;
  for (const e of events) {
    if (e.ph !== "X" || !e.dur || !/RunTask/.test(e.name)) continue;
    const key = `${proc[e.pid] ?? e.pid} / ${thread[`${e.pid}:${e.tid}`] ?? "?"} #${e.tid}`;
    (spans[key] ??= []).push([e.ts, e.ts + e.dur]);
    first = Math.min(first, e.ts);
    last = Math.max(last, e.ts + e.dur);
  }
  const window = (last - first) / 1000;
  const threads = Object.entries(spans).map(([key, list]) => {
    list.sort((a, b) => a[0] - b[0]);
    let busy = 0;
    let [s, end] = list[0];
    const gaps = [];
    for (const [a, b] of list.slice(1)) {
      if (a > end) {
        busy += end - s;
        gaps.push((a - end) / 1000);
        [s, end] = [a, b];
      } else end = Math.max(end, b);
    }
    busy += end - s;
    gaps.sort((a, b) => b - a);
    return { key, busy: busy / 1000, tasks: list.length, gaps: gaps.slice(0, 3) };
  });
  threads.sort((a, b) => b.busy - a.busy);
  // The page's thread: self time (an event's duration less its children's) by name.
  const main = events
    .filter((e) => e.ph === "X" && e.dur && thread[`${e.pid}:${e.tid}`] === "CrRendererMain")
    .sort((a, b) => a.ts - b.ts || b.dur - a.dur);
  const stack = [];
  const self = {};
  for (const e of main) {
    while (stack.length && stack.at(-1).ts + stack.at(-1).dur <= e.ts) stack.pop();
    if (stack.length) stack.at(-1).children = (stack.at(-1).children ?? 0) + e.dur;
    stack.push(e);
  }
  for (const e of main) {
    const name = e.name === "FunctionCall" && e.args?.data ? `FunctionCall ${e.args.data.functionName || "(anonymous)"} ${(e.args.data.url || "").split("/").pop()}:${e.args.data.lineNumber}` : e.name;
    self[name] = (self[name] ?? 0) + (e.dur - (e.children ?? 0)) / 1000;
  }
  return { window, threads, self: Object.entries(self).sort((a, b) => b[1] - a[1]) };
}

/** Calls that train (the steps, and the test set's evaluation at each epoch's end as the page,
 * the CLI and PyTorch's script do). */
const TRAINING = ["train", "evaluate", "evaluateSome", "flush"];

/** The share of the window between two `calls()` readings the worker spent in training calls,
 * and a line of where its time went. */
function runShare(a, b) {
  const wall = b.at - a.at;
  const spent = Object.entries(b.calls).map(([name, c]) => [name, (c.ms - (a.calls[name]?.ms ?? 0)) / wall]);
  const share = spent.filter(([name]) => TRAINING.includes(name)).reduce((x, [, f]) => x + f, 0);
  const busy = spent.reduce((x, [, f]) => x + f, 0);
  const top = spent.filter(([, f]) => f >= 0.001).sort((x, y) => y[1] - x[1]);
  return { share, text: `${top.map(([n, f]) => `${n} ${(100 * f).toFixed(1)}%`).join(", ")}, waiting ${(100 * (1 - busy)).toFixed(1)}%` };
}

/** The trainer's worker (the busiest dedicated worker: the pool's other threads run one task
 * that never ends and show no tasks) and the busy share of every other thread together. */
function split(threads, window) {
  const trainer = threads.find((t) => /DedicatedWorker/.test(t.key));
  const others = threads.filter((t) => t !== trainer).reduce((sum, t) => sum + t.busy, 0);
  return { trainer: trainer ? trainer.busy / window : NaN, others: others / window };
}

function report(label, samplesPerSec, file) {
  const { window, threads, self } = summarise(file);
  console.log(`${label}: ${samplesPerSec.toFixed(0)} samples/s over ${(window / 1000).toFixed(1)} s`);
  for (const t of threads.slice(0, 7)) {
    console.log(`  ${t.key.padEnd(52)} busy ${(100 * t.busy / window).toFixed(1).padStart(5)}%  ${String(t.tasks).padStart(5)} tasks, longest gaps ${t.gaps.map((g) => g.toFixed(1)).join(", ")} ms`);
  }
  console.log(`  the page's thread, self time: ${self.slice(0, 6).map(([n, ms]) => `${n} ${ms.toFixed(0)} ms`).join("; ")}`);
  return split(threads, window);
}

const server = await serve(arg("dist", "dist"), "/", { isolate: true });
const browser = await launch(true);
try {
  const { page } = await openReady(browser, `${server.url}?lang=en&engine=${ENGINE}`);
  await page.fill("#batch", "128");
  await page.fill("#epochs", "500");
  await startTraining(page);
  await page.waitForTimeout(5000); // past the first chunks' sizing
  const step = () => page.evaluate(() => window.vaePage.trainer.globalStep);
  const cores = await page.evaluate(() => navigator.hardwareConcurrency);
  // The worker's calls so far (host.info().calls) and when, by the page's clock.
  const calls = () => page.evaluate(async () => ({ calls: (await window.vaePage.host.info()).calls, at: performance.now() }));
  const costs = [];
  for (let r = 1; r <= ROUNDS; r++) {
    const inPage = join(DIR, `page-${r}.json`);
    const direct = join(DIR, `direct-${r}.json`);
    await browser.startTracing(page, { path: inPage, categories: CATEGORIES });
    const s0 = await step();
    const t0 = Date.now();
    const c0 = await calls();
    await page.waitForTimeout(SECONDS * 1000);
    const pageRun = runShare(c0, await calls());
    const pageRate = ((await step()) - s0) * 128 * 1000 / (Date.now() - t0);
    await browser.stopTracing();
    const p = report(`round ${r}, the page training`, pageRate, inPage);
    await page.click("#pause");
    await page.waitForFunction(() => window.vaePage.state === "paused", null, { timeout: 120_000 });
    await browser.startTracing(page, { path: direct, categories: CATEGORIES });
    const { directRate, c1, c2 } = await page.evaluate(async (ms) => {
      const t = window.vaePage.trainer;
      const calls = async () => ({ calls: (await window.vaePage.host.info()).calls, at: performance.now() });
      const c1 = await calls();
      const g = t.globalStep;
      const start = performance.now();
      while (performance.now() - start < ms) await t.train(32);
      const c2 = await calls();
      return { directRate: ((t.globalStep - g) * 128 * 1000) / (performance.now() - start), c1, c2 };
    }, SECONDS * 1000);
    await browser.stopTracing();
    const directRun = runShare(c1, c2);
    const d = report(`round ${r}, the paused page's trainer called directly`, directRate, direct);
    // What the page costs the trainer: the share of the worker's time that went to other calls
    // (the redraws' decodes) or to waiting, against the trainer called directly (info().calls:
    // time in train and evaluation calls), and the other threads' extra busy time, taken from
    // the cores the trainer's threads run on (a share of all of them). Both are CPU time, which
    // this shared machine's drifting speed moves far less than samples/s.
    const extra = p.others - d.others;
    const cost = 1 - pageRun.share / directRun.share + extra / cores;
    console.log(`  the worker's time: ${pageRun.text}, against ${(100 * directRun.share).toFixed(1)}% training called directly`);
    if (ENGINE !== "cpu") {
      // The WebGPU engine's calls return before the GPU's work is done, and a later call (a
      // read-back, a checkpoint) waits for it: the calls' times say nothing of the trainer's.
      console.log(`  the page's cost by CPU time is the CPU engine's figure (on ${ENGINE} a call's time includes GPU work queued before it): for the page against the trainer there, page.mjs --engine ${ENGINE}`);
    } else {
      costs.push(cost);
    }
    if (ENGINE === "cpu") console.log(`  the page's cost: the worker's training time ${(100 * (1 - pageRun.share / directRun.share)).toFixed(1)}% less, other threads +${(100 * extra).toFixed(1)}% of a core (${(100 * extra / cores).toFixed(1)}% of the ${cores} cores): ≈ ${(100 * cost).toFixed(1)}% of the trainer's time`);
    await page.click("#resume");
    await page.waitForFunction(() => window.vaePage.state === "training", null, { timeout: 120_000 });
    await page.waitForTimeout(2000);
  }
  const sorted = costs.slice().sort((a, b) => a - b);
  if (sorted.length) console.log(`\nthe page's cost over ${ROUNDS} rounds: median ≈ ${(100 * sorted[Math.floor(sorted.length / 2)]).toFixed(1)}% of the trainer's time [${sorted.map((c) => (100 * c).toFixed(1)).join(", ")}]`);
} finally {
  await closeBrowser(browser);
  await server.close();
  if (!KEEP) rmSync(DIR, { recursive: true, force: true });
}
