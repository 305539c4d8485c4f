// A TypeScript consumer of the whole package API, compiled with `tsc --noEmit` against the
// packed tarball by tests/e2e/npm.test.mjs. Each `@ts-expect-error` line is a wrong call the
// types must reject (tsc fails if one is accepted).
import init, {
  Trainer, RemoteTrainer, spawnTrainer, checkGpu, drawGrid, drawPairs, drawingToInput, gridImage,
  liveGpuBuffers, settings, ERROR_CODES,
  type TrainerConfig, type Settings, type TrainStats, type EvalStats, type EvalProgress, type Encoding, type LatentMap,
  type LatentMeans, type BatchEncoding, type BatchImages, type StepTimings, type StageTiming,
  type FitResult, type StepRecord, type EpochEnd, type ErrorCode, type VaeError, type TrainerApi,
  type CallTime, type TrainOptions,
} from "vae-webgpu";

export async function everything(canvas: HTMLCanvasElement, offscreen: OffscreenCanvas, files: Uint8Array[]): Promise<number> {
  await init();
  const s: Settings = settings();
  const defaults: number = s.defaults.batchSize + s.limits.latent.max + s.maxRequestRows;
  const fields: string[] = [...s.recordFields, ...s.idxFiles, ...s.checkpointKeys];
  const adapter: string = await checkGpu();
  const config: TrainerConfig = { epochs: 2, batchSize: 64, lr: 1e-3, hidden: 64, latent: 2, input: 784, seed: 1, klWeight: 0.5, variational: true, engine: "auto" };
  const onCpu: Trainer = await Trainer.create({ engine: "cpu" });
  const engine: "webgpu" | "cpu" = onCpu.engine;
  const engines: string = `${engine} ${onCpu.engineReason}`;
  onCpu.free();
  const t: Trainer = await Trainer.create(config);
  const ae: Trainer = await Trainer.createBeside(t, { ...config, variational: false });
  const shared: boolean = await t.sharesDeviceWith(ae);
  const [ti, tl, xi, xl] = files;
  await t.loadDataset(ti, tl, xi, xl);
  const stats: TrainStats = await t.train(8);
  const flushed: TrainStats = await t.flush();
  const records: Float64Array = flushed.records;
  const ev: EvalStats = await t.evaluate();
  let part: EvalProgress = await t.evaluateSome(4);
  while (!part.done) part = await t.evaluateSome(4);
  await t.setKlWeight(2);
  await t.setLr(5e-4);
  const side: number = t.imageSide;
  drawGrid(canvas, await t.sample(16, 1), side, 8);
  drawGrid(offscreen, await t.reconstruct(8), side, 8);
  const image: ImageData = gridImage(await t.latentWalk(0, 1, 10), side, 10);
  const enc: Encoding = await t.encode(drawingToInput(new Float32Array(280 * 280), 280, side));
  const decoded: Float32Array = await t.decode(enc.mu);
  const map: LatentMap = await t.latentMap(500);
  const means: LatentMeans = await t.latentMeans(100);
  const batch: BatchEncoding = await t.currentBatch();
  const last: BatchImages = await t.lastBatch(1);
  drawPairs(canvas, last.pixels, last.reconstruction, side, 8);
  const digits: Float32Array = await t.testDigits([0, 1, 2]);
  const profile: StepTimings = await t.profileStep();
  const kernels: StageTiming[] = await t.stageKernels();
  const bytes: Uint8Array = await t.exportCheckpoint();
  await t.importCheckpoint(bytes);
  await t.resume(bytes);
  const adam: Uint8Array = await t.exportAdam();
  await t.resume(bytes, adam);
  await t.reset();
  const lost: string | undefined = t.deviceLost;
  void t.lost.then(({ reason, message }) => `${reason}: ${message}`);
  const live = liveGpuBuffers();
  const stop = new AbortController();
  const fitted: FitResult = await t.fit({
    epochs: 1, steps: 20, signal: stop.signal,
    onStep: (r: StepRecord) => { if (r.kl > 1e9) stop.abort(); },
    onEpochEnd: (e: EpochEnd) => console.log(e.epoch, e.trainLoss, e.test.loss),
  });
  const copy: TrainStats = structuredClone(stats);
  // The same calls in a worker.
  const remote: RemoteTrainer = await spawnTrainer({ batchSize: 32, engine: "cpu" });
  const twin: RemoteTrainer = await remote.createBeside({ variational: false });
  const both: TrainerApi[] = [t, remote, twin];
  await remote.loadDataset(ti, tl, xi, xl);
  const remoteStats: TrainStats = await remote.train(4);
  // A call that ends after the step during which the flag is set (shared memory for a worker).
  const hurry = new Int32Array(new SharedArrayBuffer(4));
  const cut: TrainStats = await remote.train(64, { until: hurry });
  const deadline = performance.now() + 50;
  const timed: TrainStats = await t.train(64, { until: () => performance.now() > deadline });
  const options: TrainOptions = { until: hurry };
  const info = await remote.info();
  const build: "threads-relaxed" | "threads" | "relaxed-simd" | "simd128" = info.build;
  const trained: CallTime | undefined = info.calls.train;
  const ownCalls: Record<string, CallTime> = t.callTimes();
  // @ts-expect-error: callTimes is the in-thread Trainer's (a worker's: info().calls)
  remote.callTimes();
  const threaded: RemoteTrainer = await spawnTrainer({ engine: "cpu" }, { threads: 2, simd: "plain" });
  threaded.terminate();
  // @ts-expect-error: the options are { threads, simd }
  await spawnTrainer({}, { thread: 2 });
  // @ts-expect-error: simd is "auto" or "plain"
  await spawnTrainer({}, { simd: "relaxed" });
  let code: ErrorCode | null = null;
  try {
    await remote.sample(-1, 0);
  } catch (e) {
    code = (e as VaeError).code;
  }
  remote.terminate();
  const numbers: number[] = [
    stats.epoch, stats.stepInEpoch, stats.globalStep, stats.reconstruction, stats.kl, stats.samplesPerSec, records.length,
    ev.loss, ev.count, image.width, decoded.length, map.points.length, means.labels.length, batch.rows, batch.logVar.length,
    digits.length, profile.stepMs, kernels[0].kernels.length, t.klWeight, t.lr, t.epoch, t.epochs, t.globalStep,
    t.stepsPerEpoch, t.testCount, t.lastGoodStep, t.input, t.hidden, t.latent, t.cpuThreads, live.count, defaults, fields.length,
    fitted.globalStep, fitted.steps, copy.kl, remoteStats.globalStep, cut.globalStep, timed.globalStep, options.until ? 1 : 0, info.cpuThreads, both.length, ERROR_CODES.length,
  ];
  const text: string = `${build} ${adapter} ${t.adapter} ${t.adapterName} ${t.gemmForm} ${t.variational} ${shared} ${lost} ${engines} ${code} ${fitted.aborted}`;
  ae.free();
  t.free();
  return numbers.length + text.length;
}

export async function wrongCalls(t: Trainer, canvas: HTMLCanvasElement): Promise<void> {
  // @ts-expect-error: a misspelt config key (batch_size) is not a TrainerConfig field
  await Trainer.create({ batch_size: 128 });
  // @ts-expect-error: klWeight is a number
  await Trainer.create({ klWeight: "1" });
  // @ts-expect-error: variational is a boolean
  await Trainer.create({ variational: 1 });
  // @ts-expect-error: there is no "tpu" engine
  await Trainer.create({ engine: "tpu" });
  // @ts-expect-error: train takes a step count
  await t.train("8");
  // @ts-expect-error: until is a function or an Int32Array
  await t.train(8, { until: true });
  // @ts-expect-error: drawGrid needs a canvas
  drawGrid("#samples", new Float32Array(784), 28, 1);
  // @ts-expect-error: a TrainStats has no loss field (reconstruction + kl)
  (await t.flush()).loss;
  // @ts-expect-error: fit's options have no callback named onBatch
  await t.fit({ onBatch: () => {} });
  // @ts-expect-error: the engine is "webgpu" or "cpu", never "auto" once built
  const e: "auto" = t.engine;
  // @ts-expect-error: there is no such error code
  const c: ErrorCode = "busy";
  drawGrid(canvas, new Float32Array(784), 28, 1);
  void e;
  void c;
}
