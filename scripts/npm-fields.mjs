// Completes the package.json wasm-pack writes: fields it does not set, and no install scripts;
// and makes its types stand on their own (see below).
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";

const path = process.argv[2];
const pkg = JSON.parse(readFileSync(path, "utf8"));
pkg.keywords = [...new Set([...(pkg.keywords || []), "vae", "webgpu", "wgsl", "mnist", "wasm", "machine-learning", "variational-autoencoder"])];
// The JS API beside the wasm module (npm/: index.js is the entry; build-npm.sh copies them).
const API = ["index.js", "index.d.ts", "trainer.js", "spawn.js", "host.js", "worker.js", "threads.js", "cpu-worker.js",
  "cpu-worker-relaxed.js", "cpu-thread.js", "vae-webgpu-relaxed.js", "vae-webgpu-relaxed_bg.wasm", "vae-webgpu-threads.js",
  "vae-webgpu-threads_bg.wasm", "vae-webgpu-threads-relaxed.js", "vae-webgpu-threads-relaxed_bg.wasm"];
pkg.files = [...new Set([...(pkg.files || []), ...API, "README.md", "LICENSE-MIT", "LICENSE-APACHE"])];
pkg.type = "module";
// One entry point (index.js: the queued Trainer, spawnTrainer and the module's functions), its
// types first (TypeScript's "bundler" and "node16" resolution read them), and package.json for
// tools. The module finds its .wasm and spawnTrainer its worker itself (`new URL(…,
// import.meta.url)`, which bundlers and browsers resolve beside them), so no subpath is
// exported for them.
pkg.main = "index.js";
pkg.module = "index.js";
pkg.types = "index.d.ts";
pkg.exports = {
  ".": { types: "./index.d.ts", default: "./index.js" },
  "./package.json": "./package.json",
};
// worker.js serves trainers and cpu-worker.js runs a CPU thread when they load: never drop
// them as unused.
pkg.sideEffects = ["./snippets/*", "./worker.js", "./cpu-worker.js"];
delete pkg.scripts; // no install (or any) scripts
for (const field of ["name", "version", "description", "license", "files", "main", "types"]) {
  if (!pkg[field]) throw new Error(`package.json lacks ${field}`);
}
writeFileSync(path, JSON.stringify(pkg, null, 2) + "\n");

// wasm-bindgen's classes declare `[Symbol.dispose]()` (so `using t = await Trainer.create(…)`
// frees the trainer); TypeScript knows that symbol from its esnext.disposable library (TS ≥
// 5.2). Reference that library from the declarations, so a project whose `lib` stops at ES2022
// compiles them as they are.
const dts = join(dirname(path), "vae_webgpu.d.ts");
const REF = '/// <reference lib="esnext.disposable" />\n';
const text = readFileSync(dts, "utf8");
if (!text.startsWith(REF)) writeFileSync(dts, REF + text);
