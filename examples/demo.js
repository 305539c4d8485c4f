// What every example does with the package it imported by name: a trainer in a worker
// (spawnTrainer) trains a small model on generated digits — two calls made without awaiting,
// then `fit` — draws samples on the page, stops a second `fit` with an AbortController, and is
// freed; the in-thread Trainer trains too. It reports on the page and to the test, as
// window.exampleResult.
import { digits } from "./digits.js";

const CONFIG = { batchSize: 32, hidden: 64, latent: 4 };
const STEPS = 50;

export async function demo({ default: init, spawnTrainer, Trainer, drawGrid }) {
  const status = document.getElementById("status");
  try {
    await init(); // drawGrid runs on this thread
    const data = [...digits(256, 1), ...digits(64, 2)];
    const trainer = await spawnTrainer(CONFIG);
    await trainer.loadDataset(...data);
    // Two calls made without awaiting: both run, in the order made.
    const [first, second] = await Promise.all([trainer.train(8), trainer.train(8)]);
    const ordered = first.globalStep === 8 && second.globalStep === 16;
    let onSteps = 0;
    await trainer.fit({ steps: STEPS - 16, onStep: () => { onSteps += 1; } });
    const stats = await trainer.flush();
    const test = await trainer.evaluate();
    // Results are plain: they survive structuredClone and JSON.
    const cloned = structuredClone({ stats, test, map: await trainer.latentMap(16) });
    const json = JSON.parse(JSON.stringify(test));
    const plain = cloned.stats.records instanceof Float64Array && cloned.map.points.length === 32 && json.count === test.count;
    drawGrid(document.getElementById("samples"), await trainer.sample(16, 1), trainer.imageSide, 8);
    const steps = trainer.globalStep;
    // Which build the worker loaded: a threads build where this page is cross-origin isolated,
    // relaxed SIMD where the browser runs it.
    const { build, cpuThreads } = await trainer.info();
    const loss = stats.reconstruction + stats.kl;
    // fit stops after the call in flight once its signal aborts.
    const stop = new AbortController();
    const stopped = await trainer.fit({ steps: 1000, signal: stop.signal, onStep: () => stop.abort() });
    trainer.free();
    let freedCode = null;
    try {
      await trainer.train(1);
    } catch (e) {
      freedCode = e.code;
    }
    // The in-thread Trainer (for code already in a worker): queued and plain the same way.
    const local = await Trainer.create(CONFIG);
    local.loadDataset(...data); // not awaited: the next call waits for it
    const localStats = await local.train(4);
    let badCode = null;
    try {
      await local.sample(-1, 0);
    } catch (e) {
      badCode = e.code;
    }
    local.free();
    local.free(); // a second free does nothing
    let badOption = null;
    try {
      await spawnTrainer(CONFIG, { threads: 0 });
    } catch (e) {
      badOption = e.code;
    }
    let badSimd = null;
    try {
      await spawnTrainer(CONFIG, { simd: "relaxed" });
    } catch (e) {
      badSimd = e.code;
    }
    // The SIMD128 builds, asked for: the same run bit for bit in every browser.
    const plainTrainer = await spawnTrainer(CONFIG, { simd: "plain" });
    await plainTrainer.loadDataset(...data);
    await plainTrainer.train(4);
    const plainStats = await plainTrainer.flush();
    const plainBuild = (await plainTrainer.info()).build;
    plainTrainer.free();
    status.textContent = `trained ${steps} steps in a worker on ${trainer.adapter}; loss ${loss.toFixed(2)} per sample`;
    window.exampleResult = {
      steps, loss, ordered, onSteps, plain, freedCode, badCode, engine: trainer.engine,
      aborted: { aborted: stopped.aborted, globalStep: stopped.globalStep, asked: steps + 1000 },
      localSteps: localStats.globalStep, build, cpuThreads, isolated: globalThis.crossOriginIsolated === true,
      cores: navigator.hardwareConcurrency, badOption, badSimd, plainBuild,
      plainLoss: plainStats.reconstruction + plainStats.kl,
    };
  } catch (e) {
    status.textContent = `error: ${e.message || e}`;
    window.exampleResult = { error: `${e.code || "?"}: ${e.message || e}` };
  }
}
