// Completes the package.json wasm-pack writes: fields it does not set, and no install scripts.
import { readFileSync, writeFileSync } from "node:fs";

const path = process.argv[2];
const pkg = JSON.parse(readFileSync(path, "utf8"));
pkg.homepage ??= pkg.repository?.url?.replace(/^git\+/, "").replace(/\.git$/, "");
pkg.keywords = [...new Set([...(pkg.keywords || []), "vae", "webgpu", "wgsl", "mnist", "wasm", "machine-learning", "variational-autoencoder"])];
pkg.files = [...new Set([...(pkg.files || []), "README.md"])];
pkg.sideEffects ??= ["./snippets/*"];
delete pkg.scripts; // no install (or any) scripts
for (const field of ["name", "version", "description", "license", "repository", "files", "main", "types"]) {
  if (!pkg[field]) throw new Error(`package.json lacks ${field}`);
}
writeFileSync(path, JSON.stringify(pkg, null, 2) + "\n");
