// The in-browser training benchmark: the same VAE (784-400-20, ReLU, sigmoid output, BCE(sum) +
// KL, Adam 1e-3 with PyTorch's betas and eps, batch 128, nn.Linear's init) trained on the same
// MNIST images by vae-webgpu (its WebGPU and its CPU engine), by TensorFlow.js on each of its
// backends and by jax-js (wasm and webgpu), in this browser. Each contender: warm-up steps; then
// RUNS rounds, each timing one run of STEPS steps (after one untimed step; device-resident data,
// one sync at the end of a run) of every contender in turn; then the loss per sample of
// LOSS_STEPS steps from a fresh model.
// Query: ?runs=5&steps=20&lossSteps=30&only=vae,vae-cpu,wasm,webgl,webgpu,jax-wasm,jax-webgpu.
// Results: window.bench.
import { loadModule } from "./boot.js";

const q = new URLSearchParams(location.search);
const RUNS = Number(q.get("runs") || 5);
const STEPS = Number(q.get("steps") || 20);
const LOSS_STEPS = Number(q.get("lossSteps") || 30);
const ONLY = (q.get("only") || "vae,vae-cpu,wasm,webgl,webgpu,jax-wasm,jax-webgpu").split(",");
const BATCH = 128;
const N = 128 * 100; // training images used (100 batches)
const logEl = document.getElementById("log");
const log = (s) => { logEl.textContent += `\n${s}`; console.log(s); };

async function gunzip(url) {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  const stream = res.body.pipeThrough(new DecompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

async function mnist() {
  const names = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"];
  const raw = await Promise.all(names.map((n) => gunzip(`data/${n}.gz`)));
  // The first N training images (IDX header: 16 bytes for images, 8 for labels) for both sides.
  const head = (b, off, count, size) => {
    const out = b.slice(0, off + count * size);
    new DataView(out.buffer).setUint32(4, count);
    return out;
  };
  const idx = [head(raw[0], 16, N, 784), head(raw[1], 8, N, 1), head(raw[2], 16, 1000, 784), head(raw[3], 8, 1000, 1)];
  const pixels = new Float32Array(N * 784);
  for (let i = 0; i < pixels.length; i++) pixels[i] = raw[0][16 + i] / 255;
  return { idx, pixels };
}

let Trainer = null; // vae-webgpu's Trainer class, from the build boot.js loads
let vae = null; // that build: { bindings, memory, build }

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
const summary = (xs) => ({ median: median(xs), min: Math.min(...xs), max: Math.max(...xs), runs: xs });

/** vae-webgpu on `engine` ("webgpu" or "cpu"). */
async function benchVae(data, engine, threads = null) {
  // threads: the CPU engine on that many of the page's threads (vae-cpu-1: one), restored to
  // all of them after each of its rounds; null: all.
  const all = vae.bindings.cpuThreads();
  const limited = async (f) => {
    if (threads) vae.bindings.setCpuThreads(Math.min(threads, all));
    try {
      return await f();
    } finally {
      vae.bindings.setCpuThreads(all);
    }
  };
  const t = await limited(() => Trainer.create({ batchSize: BATCH, seed: 1, epochs: 1000, engine }));
  t.loadDataset(...data.idx);
  const steps = async (n) => {
    const records = [];
    const s0 = t.globalStep;
    while (t.globalStep - s0 < n) records.push(...(await t.train(Math.min(8, n - (t.globalStep - s0)))).records);
    records.push(...(await t.flush()).records);
    return records;
  };
  await steps(4);
  const round = () => limited(async () => {
    await steps(1);
    const t0 = performance.now();
    await steps(STEPS);
    return (STEPS * BATCH) / ((performance.now() - t0) / 1000);
  });
  const finish = () => limited(async () => {
    // Each stage of a step on its own, and the multiply-add peak (a model of its own).
    const p = await t.profileStep();
    const profile = { batch: p.batch, peakGflops: p.peakGflops, stepMs: p.stepMs, stepGflops: p.stepGflops, stages: p.stages.map((s) => ({ name: s.name, ms: s.ms, gflops: s.gflops })) };
    p.free();
    t.free();
    const fresh = await Trainer.create({ batchSize: BATCH, seed: 2, epochs: 1000, engine });
    fresh.loadDataset(...data.idx);
    const records = [];
    while (fresh.globalStep < LOSS_STEPS) records.push(...(await fresh.train(8)).records);
    records.push(...(await fresh.flush()).records);
    const losses = [];
    for (let i = 0; i + 3 < records.length; i += 4) if (records[i] <= LOSS_STEPS) losses.push(records[i + 2] + records[i + 3]);
    fresh.free();
    return { losses, profile };
  });
  const backend = engine === "cpu" ? `CPU engine (${t.adapter}, ${window.wasmBuild} build)` : `WebGPU (${t.adapter}, ${t.gemmForm} GEMM)`;
  return { name: "vae-webgpu", backend, round, finish };
}

// jax-js, written as its README does: a loss function of a parameter tree, valueAndGrad and jit
// (one compiled training step: forward, backward and Adam — by hand, as the registry has no
// optax for it); arrays are reference-counted (`.ref` for every use but the last).
async function benchJax(device, data) {
  const jax = await import("./jax/index.js");
  const { numpy: np, nn, random, tree, jit, valueAndGrad } = jax;
  const devices = await jax.init();
  if (!devices.includes(device)) throw new Error(`jax-js device ${device} is not available here (${devices.join(", ")})`);
  jax.defaultDevice(device);
  const uniform = (n, bound) => { const a = new Float32Array(n); for (let i = 0; i < n; i++) a[i] = (Math.random() * 2 - 1) * bound; return a; };
  const linear = (i, o) => { const b = 1 / Math.sqrt(i); return { w: np.array(uniform(i * o, b)).reshape([i, o]), b: np.array(uniform(o, b)) }; };
  const model = () => ({ fc1: linear(784, 400), fc21: linear(400, 20), fc22: linear(400, 20), fc3: linear(20, 400), fc4: linear(400, 784) });
  const fwd = (l, x) => np.matmul(x, l.w).add(l.b);
  const lossOf = (p, x, eps) => {
    const h = nn.relu(fwd(p.fc1, x.ref));
    const mu = fwd(p.fc21, h.ref), logVar = fwd(p.fc22, h);
    const z = mu.ref.add(eps.mul(np.exp(logVar.ref.mul(0.5))));
    const logits = fwd(p.fc4, nn.relu(fwd(p.fc3, z)));
    // BCE(sum) with logits: max(l, 0) − l·x + log(1 + e^−|l|); KL = −½ Σ(1 + log σ² − μ² − σ²).
    const bce = np.maximum(logits.ref, 0).sub(logits.ref.mul(x)).add(np.log1p(np.exp(np.abs(logits).neg()))).sum();
    const kl = logVar.ref.add(1).sub(mu.ref.mul(mu)).sub(np.exp(logVar)).sum().mul(-0.5);
    return bce.add(kl);
  };
  const [b1, b2, eps8] = [0.9, 0.999, 1e-8];
  // One step: loss and gradients, then torch.optim.Adam on every leaf.
  const step = jit((p, m, v, x, eps, stepSize, bc2Sqrt) => {
    const [loss, g] = valueAndGrad(lossOf)(tree.ref(p), x, eps);
    const m2 = tree.map((mi, gi) => mi.mul(b1).add(gi.mul(1 - b1)), m, tree.ref(g));
    const v2 = tree.map((vi, gi) => vi.mul(b2).add(gi.ref.mul(gi).mul(1 - b2)), v, g);
    const p2 = tree.map((pi, mi, vi) => pi.sub(mi.mul(stepSize.ref).div(np.sqrt(vi).div(bc2Sqrt.ref).add(eps8))), p, tree.ref(m2), tree.ref(v2));
    stepSize.dispose();
    bc2Sqrt.dispose();
    return [loss, p2, m2, v2];
  });
  const batches = [];
  for (let k = 0; k < N / BATCH; k++) batches.push(np.array(data.pixels.subarray(k * BATCH * 784, (k + 1) * BATCH * 784)).reshape([BATCH, 784]));
  let key = random.key(1);
  const train = (state, from, n) => {
    const losses = [];
    for (let s = 0; s < n; s++) {
      const t = state.t + 1;
      const [next, sub] = random.split(key, 2);
      key = next;
      const eps = random.normal(sub, [BATCH, 20]);
      const x = batches[(from + s) % batches.length].ref;
      const [loss, p, m, v] = step(state.p, state.m, state.v, x, eps, np.array([1e-3 / (1 - b1 ** t)]), np.array([Math.sqrt(1 - b2 ** t)]));
      Object.assign(state, { p, m, v, t });
      losses.push(loss);
    }
    return losses;
  };
  const fresh = () => { const p = model(); return { p, m: tree.map((a) => np.zerosLike(a), tree.ref(p)), v: tree.map((a) => np.zerosLike(a), tree.ref(p)), t: 0 }; };
  // data() takes the array (it is freed after); the other losses are dropped unread.
  const sync = async (losses) => { const last = await losses.at(-1).data(); for (const l of losses.slice(0, -1)) l.dispose(); return last; };
  let state = fresh();
  await sync(train(state, 0, 3));
  let at = 3;
  const round = async () => {
    jax.defaultDevice(device);
    await sync(train(state, at++, 1));
    const t0 = performance.now();
    await sync(train(state, at, STEPS));
    at += STEPS;
    return (STEPS * BATCH) / ((performance.now() - t0) / 1000);
  };
  const finish = async () => {
    jax.defaultDevice(device);
    tree.dispose([state.p, state.m, state.v]);
    state = fresh();
    const losses = [];
    for (const l of train(state, 0, LOSS_STEPS)) losses.push((await l.data())[0] / BATCH);
    tree.dispose([state.p, state.m, state.v]);
    for (const b of batches) b.dispose();
    return { losses };
  };
  return { name: "jax-js", backend: `${device} (jax-js ${JAX_VERSION}, ${self.crossOriginIsolated ? "cross-origin isolated: threads" : "one thread"})`, round, finish };
}

// TensorFlow.js, written as its guides do: variables, tf.train.adam, optimizer.minimize.
async function benchTf(backend, data) {
  if (!(await tf.setBackend(backend))) throw new Error(`TF.js backend ${backend} is not available`);
  await tf.ready();
  const linear = (i, o) => {
    const b = 1 / Math.sqrt(i); // nn.Linear's default init: U(-1/√in, 1/√in) for weight and bias
    return { w: tf.variable(tf.randomUniform([i, o], -b, b)), b: tf.variable(tf.randomUniform([o], -b, b)) };
  };
  const fwd = (l, x) => tf.add(tf.matMul(x, l.w), l.b);
  const X = tf.tensor2d(data.pixels, [N, 784]);
  const model = () => ({ fc1: linear(784, 400), fc21: linear(400, 20), fc22: linear(400, 20), fc3: linear(20, 400), fc4: linear(400, 784) });
  const lossOf = (m, x) => {
    const h = tf.relu(fwd(m.fc1, x));
    const mu = fwd(m.fc21, h), logVar = fwd(m.fc22, h);
    const z = tf.add(mu, tf.mul(tf.randomNormal(mu.shape), tf.exp(tf.mul(logVar, 0.5))));
    const logits = fwd(m.fc4, tf.relu(fwd(m.fc3, z)));
    const bce = tf.losses.sigmoidCrossEntropy(x, logits, undefined, 0, tf.Reduction.SUM);
    const kl = tf.mul(-0.5, tf.sum(tf.sub(tf.sub(tf.add(1, logVar), tf.square(mu)), tf.exp(logVar))));
    return tf.add(bce, kl);
  };
  const run = (m, opt, from, n) => {
    const costs = [];
    for (let s = 0; s < n; s++) {
      const k = ((from + s) % (N / BATCH)) * BATCH;
      const cost = tf.tidy(() => opt.minimize(() => lossOf(m, X.slice([k, 0], [BATCH, 784])), true));
      costs.push(cost);
    }
    return costs;
  };
  const dispose = (m, opt) => { for (const l of Object.values(m)) { l.w.dispose(); l.b.dispose(); } opt.dispose(); };
  let m = model(), opt = tf.train.adam(1e-3, 0.9, 0.999, 1e-8);
  const steps = async (n) => {
    const costs = run(m, opt, at, n);
    at += n;
    await costs.at(-1).data(); // one sync: every step before it is done
    tf.dispose(costs);
  };
  let at = 0;
  await steps(2);
  // TF.js has one backend at a time: each round switches to this one (moving the model's
  // tensors if another round moved them), then takes an untimed step before the timed ones.
  const round = async () => {
    await tf.setBackend(backend);
    await steps(1);
    const t0 = performance.now();
    await steps(STEPS);
    return (STEPS * BATCH) / ((performance.now() - t0) / 1000);
  };
  const finish = async () => {
    await tf.setBackend(backend);
    dispose(m, opt);
    m = model();
    opt = tf.train.adam(1e-3, 0.9, 0.999, 1e-8);
    const costs = run(m, opt, 0, LOSS_STEPS);
    const losses = [];
    for (const c of costs) losses.push((await c.data())[0] / BATCH);
    tf.dispose(costs);
    dispose(m, opt);
    X.dispose();
    return { losses };
  };
  return { name: "TF.js", backend: `${backend} (TF.js ${tf.version.tfjs})`, round, finish };
}

const JAX_VERSION = q.get("jax") || "?";
window.bench = { done: false, isolated: self.crossOriginIsolated, results: [], errors: [], config: { runs: RUNS, steps: STEPS, lossSteps: LOSS_STEPS, batch: BATCH } };
try {
  tf.wasm.setWasmPaths(new URL("tf/", location.href).href);
  // vae-webgpu's module as the page loads it (the relaxed-SIMD build where the browser has it;
  // ?simd=plain for the SIMD128 one).
  vae = await loadModule();
  Trainer = vae.bindings.Trainer;
  window.wasmBuild = vae.build;
  const data = await mnist();
  // Every contender is set up (and warmed up) first; then RUNS rounds, each timing one run of
  // every contender in turn, so a slow spell of a shared machine falls on all of them alike.
  const contenders = [];
  for (const who of ONLY) {
    try {
      log(`${who}: setting up…`);
      const c = who === "vae" ? await benchVae(data, "webgpu")
        : who === "vae-cpu" ? await benchVae(data, "cpu")
        : who === "vae-cpu-1" ? await benchVae(data, "cpu", 1)
        : who.startsWith("jax-") ? await benchJax(who.slice(4), data)
        : await benchTf(who, data);
      contenders.push({ who, ...c, rates: [] });
    } catch (e) {
      window.bench.errors.push(`${who}: ${e && e.message ? e.message : e}`);
      log(`${who}: ${e}`);
    }
  }
  for (let r = 0; r < RUNS; r++) {
    for (const c of contenders) {
      try {
        if (!c.failed) c.rates.push(await c.round());
      } catch (e) {
        c.failed = true;
        window.bench.errors.push(`${c.who}: ${e && e.message ? e.message : e}`);
      }
    }
    log(`round ${r + 1}: ${contenders.map((c) => `${c.who} ${(c.rates[r] || 0).toFixed(0)}`).join(", ")}`);
  }
  for (const c of contenders.filter((c) => !c.failed)) {
    const { losses, profile } = await c.finish();
    const result = { name: c.name, backend: c.backend, samplesPerSec: summary(c.rates), losses, profile };
    window.bench.results.push(result);
    log(`${c.name} ${c.backend}: ${result.samplesPerSec.median.toFixed(0)} samples/s [${result.samplesPerSec.min.toFixed(0)}–${result.samplesPerSec.max.toFixed(0)}]`);
  }
} catch (e) {
  window.bench.errors.push(String(e));
}
window.bench.done = true;
