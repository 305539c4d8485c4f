// The npm package as users meet it: pack pkg/ (scripts/build-npm.sh) once, then
//  - its published shape: publint and arethetypeswrong (ESM profile) with no error or warning;
//  - its types: tests/types/consumer.ts (the whole API) compiles with tsc against the tarball,
//    its @ts-expect-error lines (wrong calls) are rejected, and tests/types/wrong.ts fails;
//  - the example apps of examples/, each installing the tarball by name: Vite 8 (dev server and
//    `vite build`), webpack 5 (a page and a worker), plain ESM with an import map — each trains
//    and draws in headless Chromium (WebGPU on SwiftShader);
//  - the worker example trains in a Web Worker, draws on an OffscreenCanvas and from ImageData,
//    and reports the page thread's long tasks against training on the page (figures printed).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { serve, launch, closeBrowser } from "./serve.mjs";

const ROOT = resolve(".");
const BIN = join(ROOT, "node_modules", ".bin");
const scratch = mkdtempSync(join(tmpdir(), "vae-npm-"));
let tgz, browser;

function run(cmd, args, cwd, opts = {}) {
  return execFileSync(cmd, args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], ...opts });
}

/** Runs `cmd` expecting failure; returns its output. */
function fails(cmd, args, cwd) {
  try {
    run(cmd, args, cwd);
  } catch (e) {
    return `${e.stdout}${e.stderr}`;
  }
  throw new Error(`${cmd} ${args.join(" ")} succeeded`);
}

/** Installs the tarball (and the example's own devDependencies, pinned in its package.json). */
function install(dir) {
  run("npm", ["install", "--no-audit", "--no-fund", "--loglevel=error", tgz], dir);
}

/** Opens `url` and waits for the example's window.exampleResult. */
async function result(url) {
  const page = await browser.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
  try {
    await page.goto(url);
    await page.waitForFunction(() => window.exampleResult, null, { timeout: 240_000, polling: 200 });
    const r = await page.evaluate(() => window.exampleResult);
    const drawn = await page.evaluate(() => Array.from(document.querySelectorAll("canvas"), (c) => c.width));
    return { ...r, drawn, errors, status: await page.textContent("#status") };
  } finally {
    await page.close();
  }
}

/** examples/demo.js's report: spawnTrainer trained 50 steps in a worker (two unawaited calls
 * in order, then fit), results plain, fit aborted early, a freed trainer's call coded "freed",
 * the in-thread Trainer queued and coded too. */
function checkTrained(r, what, isolated = false) {
  assert.equal(r.error, undefined, `${what}: ${r.error}`);
  // The worker loads a threads build where the page is cross-origin isolated, else a one-thread
  // build; Chromium runs relaxed SIMD, so the relaxed builds, unless simd: "plain" asks for
  // SIMD128.
  assert.equal(r.isolated, isolated, `${what}: crossOriginIsolated`);
  const threads = isolated ? Math.min(r.cores, 8) : 1;
  assert.equal(r.build, threads > 1 ? "threads-relaxed" : "relaxed-simd", `${what}: the worker's build`);
  assert.equal(r.cpuThreads, threads, `${what}: cpuThreads`);
  assert.equal(r.plainBuild, threads > 1 ? "threads" : "simd128", `${what}: the build with simd: "plain"`);
  assert.ok(Number.isFinite(r.plainLoss), `${what}: the SIMD128 build trains (loss ${r.plainLoss})`);
  assert.equal(r.steps, 50, `${what}: ${r.status}`);
  assert.ok(Number.isFinite(r.loss), `${what}: loss ${r.loss}`);
  assert.ok(r.drawn[0] > 0, `${what}: nothing drawn`);
  assert.equal(r.ordered, true, `${what}: two unawaited calls ran in order`);
  assert.equal(r.onSteps, 34, `${what}: fit's onStep once per step`);
  assert.equal(r.plain, true, `${what}: results survive structuredClone and JSON`);
  assert.equal(r.aborted.aborted, true, `${what}: fit saw the abort`);
  assert.ok(r.aborted.globalStep > r.steps && r.aborted.globalStep < r.aborted.asked, `${what}: fit stopped early at ${r.aborted.globalStep}`);
  assert.equal(r.freedCode, "freed", `${what}: a freed trainer's call`);
  assert.equal(r.badCode, "bad-argument", `${what}: a bad argument's code`);
  assert.equal(r.badOption, "bad-argument", `${what}: spawnTrainer's threads: 0`);
  assert.equal(r.badSimd, "bad-argument", `${what}: spawnTrainer's simd: "relaxed"`);
  assert.equal(r.localSteps, 4, `${what}: the in-thread Trainer waited for loadDataset`);
  assert.deepEqual(r.errors, [], what);
}

before(async () => {
  tgz = join(scratch, run("npm", ["pack", join(ROOT, "pkg"), "--pack-destination", scratch, "--silent"], ROOT).trim().split("\n").pop());
  cpSync(join(ROOT, "examples"), join(scratch, "examples"), { recursive: true, filter: (p) => !/node_modules|dist/.test(p) });
  browser = await launch(true);
});
after(async () => { await closeBrowser(browser); });

test("publint and arethetypeswrong find nothing; the package lists what it ships", { timeout: 120_000 }, () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, "pkg", "package.json"), "utf8"));
  assert.equal(pkg.name, "vae-webgpu");
  assert.equal(pkg.version, readFileSync(join(ROOT, "Cargo.toml"), "utf8").match(/^version = "(.*)"/m)[1]);
  assert.equal(pkg.scripts, undefined, "no install scripts");
  assert.equal(pkg.repository, undefined, "no placeholder repository");
  for (const f of ["README.md", "LICENSE-MIT", "LICENSE-APACHE"]) assert.ok(pkg.files.includes(f), f);
  assert.deepEqual(pkg.exports["."], { types: "./index.d.ts", default: "./index.js" });
  const listed = run("tar", ["-tzf", tgz], scratch);
  for (const f of ["package/LICENSE-MIT", "package/LICENSE-APACHE", "package/README.md", "package/vae_webgpu_bg.wasm", "package/worker.js", "package/host.js", "package/spawn.js", "package/trainer.js", "package/threads.js", "package/cpu-worker.js", "package/cpu-worker-relaxed.js", "package/cpu-thread.js", "package/vae-webgpu-relaxed.js", "package/vae-webgpu-relaxed_bg.wasm", "package/vae-webgpu-threads.js", "package/vae-webgpu-threads_bg.wasm", "package/vae-webgpu-threads-relaxed.js", "package/vae-webgpu-threads-relaxed_bg.wasm"]) assert.ok(listed.includes(f), `${f} in the tarball`);
  const publint = run(join(BIN, "publint"), ["--strict", join(ROOT, "pkg")], ROOT);
  assert.match(publint, /All good!/, publint);
  const attw = run(join(BIN, "attw"), [tgz, "--profile", "esm-only", "--format", "ascii"], ROOT);
  assert.doesNotMatch(attw, /💀|❌|🥴|🐛|❗️|No types/, attw);
  console.log("publint: All good; attw (esm-only): no problems");
});

test("TypeScript: the whole API compiles against the tarball, and wrong calls do not", { timeout: 120_000 }, () => {
  const dir = join(scratch, "types");
  cpSync(join(ROOT, "tests", "types"), dir, { recursive: true });
  run("npm", ["init", "-y"], dir);
  install(dir);
  run(join(BIN, "tsc"), ["-p", "tsconfig.json"], dir);
  const wrong = fails(join(BIN, "tsc"), ["--noEmit", "--strict", "--module", "esnext", "--moduleResolution", "bundler", "--target", "es2022", "--lib", "es2022,dom", "wrong.ts"], dir);
  assert.match(wrong, /'learningRate' does not exist in type 'TrainerConfig'/, wrong);
});

test("Vite 8: `vite build` and the dev server train and draw with the package imported by name", { timeout: 600_000 }, async () => {
  const dir = join(scratch, "examples", "vite");
  install(dir);
  run(join(dir, "node_modules", ".bin", "vite"), ["build"], dir);
  const server = await serve(join(dir, "dist"), "/", { isolate: true });
  try {
    checkTrained(await result(server.url), "vite build (cross-origin isolated)", true);
  } finally {
    await server.close();
  }
  // The dev server (dependency pre-bundling included), on a free port.
  const port = 5800 + Math.floor(Math.random() * 200);
  const dev = spawn(join(dir, "node_modules", ".bin", "vite"), ["--port", String(port), "--strictPort", "--host", "127.0.0.1"], { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
  let log = "";
  dev.stdout.on("data", (d) => { log += d; });
  dev.stderr.on("data", (d) => { log += d; });
  try {
    for (let i = 0; i < 100 && !log.includes("ready in"); i++) await new Promise((r) => setTimeout(r, 200));
    checkTrained(await result(`http://127.0.0.1:${port}/`), `vite dev server (${log.slice(-400)})`);
  } finally {
    dev.kill();
  }
});

test("webpack 5 and plain ESM with an import map train and draw; a worker trains off the page's thread", { timeout: 600_000 }, async () => {
  const dir = join(scratch, "examples", "webpack");
  install(dir);
  run(join(dir, "node_modules", ".bin", "webpack"), [], dir);
  const server = await serve(join(dir, "dist"), "/", { isolate: true });
  try {
    checkTrained(await result(server.url), "webpack (cross-origin isolated)", true);
    // The worker example: trains in a worker (default) and on the page (?mode=main).
    const runs = {};
    for (const mode of ["worker", "main", "worker", "main"]) {
      const r = await result(`${server.url}worker.html?mode=${mode}`);
      assert.equal(r.error, undefined, `${mode}: ${r.error}`);
      assert.equal(r.mode, mode);
      assert.equal(r.steps, 48);
      assert.ok(r.drawn.every((w) => w > 0), `${mode}: both canvases drawn (${r.drawn})`);
      assert.deepEqual(r.errors, [], mode);
      (runs[mode] ??= []).push(r);
    }
    for (const [mode, rs] of Object.entries(runs)) {
      console.log(`worker example, training ${mode === "worker" ? "in a worker" : "on the page"}: ${rs.map((r) => `${r.samplesPerSec.toFixed(0)} samples/s, page thread ${r.longTasks} long tasks (longest ${r.longestMs.toFixed(0)} ms, ${r.blockingMs.toFixed(0)} ms blocking)`).join("; ")}`);
    }
  } finally {
    await server.close();
  }
  // Plain ESM: the folder served as it is, the import map pointing into node_modules.
  const esm = join(scratch, "examples", "esm");
  install(esm);
  const files = await serve(join(scratch, "examples"));
  try {
    checkTrained(await result(`${files.url}esm/`), "plain ESM");
  } finally {
    await files.close();
  }
});
