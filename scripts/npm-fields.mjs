// Completes the package.json wasm-pack writes: fields it does not set, and no install scripts;
// and makes its types stand on their own (see below).
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";

const path = process.argv[2];
const pkg = JSON.parse(readFileSync(path, "utf8"));
pkg.keywords = [...new Set([...(pkg.keywords || []), "vae", "webgpu", "wgsl", "mnist", "wasm", "machine-learning", "variational-autoencoder"])];
pkg.files = [...new Set([...(pkg.files || []), "README.md", "LICENSE-MIT", "LICENSE-APACHE"])];
pkg.type = "module";
// One entry point, its types first (TypeScript's "bundler" and "node16" resolution read them),
// and package.json for tools. The module finds its .wasm itself (`new URL(…, import.meta.url)`,
// which bundlers and browsers resolve beside it), so no subpath is exported for it.
pkg.exports = {
  ".": { types: `./${pkg.types}`, default: `./${pkg.module || pkg.main}` },
  "./package.json": "./package.json",
};
pkg.sideEffects ??= ["./snippets/*"];
delete pkg.scripts; // no install (or any) scripts
for (const field of ["name", "version", "description", "license", "files", "main", "types"]) {
  if (!pkg[field]) throw new Error(`package.json lacks ${field}`);
}
writeFileSync(path, JSON.stringify(pkg, null, 2) + "\n");

// wasm-bindgen's classes declare `[Symbol.dispose]()` (so `using t = await Trainer.create(…)`
// frees the trainer); TypeScript knows that symbol from its esnext.disposable library (TS ≥
// 5.2). Reference that library from the declarations, so a project whose `lib` stops at ES2022
// compiles them as they are.
const dts = join(dirname(path), pkg.types);
const REF = '/// <reference lib="esnext.disposable" />\n';
const text = readFileSync(dts, "utf8");
if (!text.startsWith(REF)) writeFileSync(dts, REF + text);
