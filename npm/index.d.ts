/// <reference lib="esnext.disposable" />
// The package's types: the wasm module's functions and config types as wasm-bindgen writes
// them (vae_webgpu.d.ts), and the API of trainer.js / spawn.js: queued calls, plain results,
// coded errors.
export {
  default, initSync, settings, checkGpu, cpuThreads, setCpuThreads, drawGrid, drawPairs, gridImage,
  drawingToInput, liveGpuBuffers, errorCodes, type TrainerConfig, type Settings, type Range,
  type InitInput, type InitOutput, type SyncInitInput,
} from "./vae_webgpu.js";
import type { TrainerConfig } from "./vae_webgpu.js";

/** What `error.code` of a rejection can be. */
export type ErrorCode =
  | "no-webgpu" | "no-adapter" | "device-lost" | "gpu" | "no-data" | "internal" | "bad-data"
  | "bad-config" | "bad-argument" | "too-large" | "bad-checkpoint" | "io" | "diverged" | "freed"
  | "no-worker" | "interrupted";
/** Every `ErrorCode`, in a list. */
export declare const ERROR_CODES: readonly ErrorCode[];

/** What every call rejects with: an `Error` with a stable `code` beside its message. */
export interface VaeError extends Error {
  code: ErrorCode;
}

/** Losses and progress after `train` or `flush`; `records` holds `settings().recordFields`
 * per step, flat (losses per sample). */
export interface TrainStats {
  epoch: number;
  stepInEpoch: number;
  stepsPerEpoch: number;
  globalStep: number;
  epochFinished: boolean;
  reconstruction: number;
  kl: number;
  samplesPerSec: number;
  records: Float64Array;
}
/** Test-set loss per sample. */
export interface EvalStats { reconstruction: number; kl: number; loss: number; count: number; }
/** `evaluateSome`'s answer: test batches done of all; the losses are NaN until `done`. */
export interface EvalProgress extends EvalStats { done: boolean; batchesDone: number; batches: number; }
/** μ and log σ² of a batch of inputs, each rows × latent. */
export interface Encoding { mu: Float32Array; logVar: Float32Array; }
/** ∂BCE/∂z (latent values) and the BCE (sum over the pixels) of one input decoded from one z. */
export interface ReconstructionGradient { gradient: Float32Array; bce: number; }
/** Test digits placed in two dimensions by their μ. */
export interface LatentMap {
  points: Float32Array; labels: Uint8Array; pca: boolean; explained: Float64Array;
  mean: Float32Array; components: Float32Array;
}
/** The first n test digits' μ (n × latent) and labels. */
export interface LatentMeans { mu: Float32Array; labels: Uint8Array; }
/** The newest training step's batch under the parameters in place. */
export interface BatchEncoding { pixels: Float32Array; mu: Float32Array; logVar: Float32Array; rows: number; }
/** An epoch's last batch and its reconstructions. */
export interface BatchImages { pixels: Float32Array; reconstruction: Float32Array; rows: number; }
/** One stage of a training step. */
export interface StageTiming { name: string; ms: number; gflops: number; kernels: string[]; }
/** A training step stage by stage, against the adapter's multiply-add peak. */
export interface StepTimings { batch: number; peakGflops: number; stepMs: number; stepGflops: number; stages: StageTiming[]; }
/** One training step as `fit`'s `onStep` sees it (losses per sample). */
export interface StepRecord { globalStep: number; epoch: number; reconstruction: number; kl: number; }
/** The end of an epoch as `fit`'s `onEpochEnd` sees it. */
export interface EpochEnd { epoch: number; globalStep: number; trainLoss: number; test: EvalStats; }
/** `train`'s options. */
export interface TrainOptions {
  /** Ends the call early, after the step during which it says so (one step runs at least):
   * a function that returns true (a trainer on this thread), or an Int32Array whose element 0
   * is non-zero (read with `Atomics.load`). A trainer in a worker takes only the Int32Array,
   * over a SharedArrayBuffer (the page cross-origin isolated), set from this thread while the
   * call runs. The CPU engine asks after each step but the last; the WebGPU engine submits
   * every step at once and never asks. */
  until?: (() => boolean) | Int32Array;
}
export interface FitOptions {
  /** Epochs to train from here (the one in progress counts when it ends). */
  epochs?: number;
  /** Steps to train at most. Neither given: until the run's planned `epochs` are done. */
  steps?: number;
  /** Stops after the call in flight — on a spawned trainer in a cross-origin isolated page,
   * within the step in flight (the CPU engine) — and `fit` resolves with `aborted: true`. */
  signal?: AbortSignal;
  onStep?: (step: StepRecord) => void;
  onEpochEnd?: (end: EpochEnd) => void;
}
export interface FitResult {
  epoch: number; stepInEpoch: number; globalStep: number;
  /** Steps trained by this call. */
  steps: number;
  aborted: boolean;
  reconstruction: number; kl: number;
}
/** `GPUDevice.lost`'s answer. */
export interface DeviceLostInfo { reason: "lost"; message: string; }

/** The calls and getters both trainers have. Every call is async and queued: calls run in the
 * order made, one at a time. Getters answer at once (the state after the last call). */
export interface TrainerApi extends Disposable {
  /** "webgpu" or "cpu". */
  readonly engine: "webgpu" | "cpu";
  readonly engineReason: string;
  /** What runs the model: the WebGPU adapter's description, or "CPU engine (…)". */
  readonly adapter: string;
  /** The WebGPU adapter's name alone ("" when the browser withholds it, or on the CPU). */
  readonly adapterName: string;
  /** "Direct", "DirectSubgroup", "Tiled" (WebGPU) or "CPU". */
  readonly gemmForm: string;
  readonly epochs: number;
  readonly input: number;
  readonly hidden: number;
  readonly latent: number;
  readonly imageSide: number;
  readonly stepsPerEpoch: number;
  readonly globalStep: number;
  readonly stepInEpoch: number;
  readonly epoch: number;
  readonly testCount: number;
  /** Why the WebGPU device was lost, or undefined. */
  readonly deviceLost: string | undefined;
  readonly lastGoodStep: number;
  /** Adam's learning rate (the config's `lr`). */
  readonly lr: number;
  /** @deprecated use `lr` */
  readonly learningRate: number;
  readonly klWeight: number;
  readonly variational: boolean;
  /** False while the reparameterization trick is switched off (`setReparameterize(false)`). */
  readonly reparameterize: boolean;
  /** Threads the CPU engine runs on where this trainer lives. */
  readonly cpuThreads: number;
  /** True once `free()` was called. */
  readonly freed: boolean;
  /** Resolves once the WebGPU device is lost (never on the CPU engine). */
  readonly lost: Promise<DeviceLostInfo>;

  /** Up to `steps` steps (one at least), ending at an epoch's end or where `until` says. */
  train(steps: number, options?: TrainOptions): Promise<TrainStats>;
  fit(options?: FitOptions): Promise<FitResult>;
  flush(): Promise<TrainStats>;
  evaluate(): Promise<EvalStats>;
  /** The test-set loss in parts of at most `maxBatches` batches a call, so other calls run
   * between them; once `done`, the same figures as `evaluate()`. A training step in between
   * starts it over. */
  evaluateSome(maxBatches: number): Promise<EvalProgress>;
  reconstruct(n: number): Promise<Float32Array>;
  sample(n: number, seed: number): Promise<Float32Array>;
  latentWalk(a: number, b: number, steps: number): Promise<Float32Array>;
  exportCheckpoint(): Promise<Uint8Array>;
  importCheckpoint(bytes: Uint8Array): Promise<void>;
  /** Adam's moments and step count (safetensors), for `resume(checkpoint, adam)` with the
   * checkpoint exported at the same step. */
  exportAdam(): Promise<Uint8Array>;
  /** Continues a checkpoint's run (step, epoch, place in the epoch); with `adam` (exportAdam of
   * the same step) Adam goes on instead of restarting: exactly as if the run never stopped. */
  resume(bytes: Uint8Array, adam?: Uint8Array): Promise<void>;
  loadDataset(trainImages: Uint8Array, trainLabels: Uint8Array, testImages: Uint8Array, testLabels: Uint8Array): Promise<void>;
  testDigits(ids: Uint32Array | number[]): Promise<Float32Array>;
  currentBatch(): Promise<BatchEncoding>;
  encode(pixels: Float32Array): Promise<Encoding>;
  decode(z: Float32Array): Promise<Float32Array>;
  /** ∂(reconstruction)/∂z for one input decoded from one z: what reaches μ (×1) and log σ²
   * (×½·σ·ε) through z = μ + σ·ε with the reparameterization trick. */
  reconstructionGradient(pixels: Float32Array, z: Float32Array): Promise<ReconstructionGradient>;
  latentMeans(n: number): Promise<LatentMeans>;
  latentMap(n: number): Promise<LatentMap>;
  lastBatch(epoch?: number): Promise<BatchImages>;
  reset(): Promise<void>;
  profileStep(): Promise<StepTimings>;
  stageKernels(): Promise<StageTiming[]>;
  setKlWeight(klWeight: number): Promise<void>;
  /** Switches the reparameterization trick on or off from the next step (a VAE only). */
  setReparameterize(on: boolean): Promise<void>;
  setLr(lr: number): Promise<void>;
  /** @deprecated use `setLr` */
  setLearningRate(lr: number): Promise<void>;
  /** Frees the trainer after its running call; waiting and later calls reject with code
   * "freed". Safe to call twice. */
  free(): void;
}

/** A trainer on this thread (for code that already runs in a worker). */
export declare class Trainer implements TrainerApi {
  private constructor();
  /** Builds the model (loads the wasm module first if needed). */
  static create(config?: TrainerConfig): Promise<Trainer>;
  /** A second trainer on the same WebGPU device as `other` (after `other`'s queued calls). */
  static createBeside(other: Trainer, config?: TrainerConfig): Promise<Trainer>;
  sharesDeviceWith(other: Trainer): Promise<boolean>;
  /** The calls this trainer ran, by name: how many, and the milliseconds from each one's turn
   * in the queue to its settling (a copy). */
  callTimes(): Record<string, CallTime>;
  [Symbol.dispose](): void;
}
export interface Trainer extends TrainerApi {}

/** The worker's wasm module, as `info()` reports it. */
export interface WorkerInfo {
  /** Which build of the module loaded: "threads-relaxed", "threads", "relaxed-simd" or "simd128". */
  build: "threads-relaxed" | "threads" | "relaxed-simd" | "simd128"; cpuThreads: number; wasmBytes: number;
  liveGpuBuffers: { count: number; bytes: number } | null; trainers: number;
  /** The calls the worker's trainers (those not freed) ran, by name: how many, and the
   * milliseconds from each one's turn to its answer (`Trainer.callTimes`, summed). */
  calls: Record<string, CallTime>;
}

/** How many calls of one name a trainer ran, and the milliseconds they took in all. */
export interface CallTime { count: number; ms: number }

/** A trainer in a module Worker (`spawnTrainer`): the calling thread never blocks. */
export declare class RemoteTrainer implements TrainerApi {
  private constructor();
  /** A second trainer in the same worker, on the same WebGPU device. */
  createBeside(config?: TrainerConfig): Promise<RemoteTrainer>;
  sharesDeviceWith(other: RemoteTrainer): Promise<boolean>;
  /** Ends the worker (and every trainer in it). */
  terminate(): void;
  info(): Promise<WorkerInfo>;
  [Symbol.dispose](): void;
}
export interface RemoteTrainer extends TrainerApi {}

/** How `spawnTrainer` loads the module in its worker. */
export interface SpawnOptions {
  /** The CPU engine's threads (1 … 16) where the page is cross-origin isolated (served with
   * `Cross-Origin-Opener-Policy: same-origin` and `Cross-Origin-Embedder-Policy: require-corp`):
   * a threads build loads and splits the work over that many workers. Default: one a core, at
   * most 8. Elsewhere, and with 1, a one-thread build runs. */
  threads?: number;
  /** "auto" (the default): the builds with relaxed SIMD (fused multiply-adds in the CPU engine's
   * matrix products) where the browser runs it (Chromium), SIMD128 elsewhere. "plain": the
   * SIMD128 builds everywhere (the same run bit for bit in every browser). `info()`'s `build`
   * says which loaded. */
  simd?: "auto" | "plain";
}
/** Starts a trainer in a new module Worker (the recommended way on a page): same calls as
 * `Trainer`, all async; `free()`, `terminate()` or `using` end the worker. */
export declare function spawnTrainer(config?: TrainerConfig, options?: SpawnOptions): Promise<RemoteTrainer>;
