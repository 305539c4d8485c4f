// `trunk serve` on a fresh clone, as a developer meets it: www/data holds no MNIST (git-ignored
// files), and Trunk's pre-build hook prepares it; the page comes up Ready in Chromium; a change
// under www/ is rebuilt and served on reload. (data/mnist is copied in to spare a download, and
// the main tree's target/ is shared so the wasm is not compiled twice.)
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { appendFileSync, cpSync, existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { launch, openReady, closeBrowser } from "./serve.mjs";

const ROOT = resolve(".");

async function fetchText(url) {
  try {
    const r = await fetch(url);
    return r.ok ? await r.text() : null;
  } catch {
    return null;
  }
}

async function until(what, ms, fn) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

test("trunk serve on a fresh clone prepares MNIST, serves the page and rebuilds on a change", { timeout: 900_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), "vae-fresh-"));
  execFileSync("git", ["clone", "--quiet", ROOT, dir]);
  assert.ok(!existsSync(join(dir, "www", "data", "t10k-labels-idx1-ubyte.gz")), "a fresh clone has no MNIST in www/data");
  cpSync(join(ROOT, "data", "mnist"), join(dir, "data", "mnist"), { recursive: true });
  const port = 8600 + Math.floor(Math.random() * 300);
  const env = { ...process.env, CARGO_TARGET_DIR: join(ROOT, "target"), PATH: `${join(ROOT, "node_modules", ".bin")}:${process.env.PATH}` };
  const trunk = spawn("trunk", ["serve", "--release", "--port", String(port)], { cwd: dir, env, stdio: ["ignore", "pipe", "pipe"] });
  let log = "";
  trunk.stdout.on("data", (d) => { log += d; });
  trunk.stderr.on("data", (d) => { log += d; });
  const url = `http://127.0.0.1:${port}/`;
  const browser = await launch(true);
  try {
    await until("the page", 600_000, async () => {
      if (trunk.exitCode !== null) throw new Error(`trunk serve exited (${trunk.exitCode}): ${log.slice(-600)}`);
      return (await fetchText(url)) && (await fetchText(`${url}style.css`));
    });
    assert.ok(existsSync(join(dir, "www", "data", "t10k-labels-idx1-ubyte.gz")), "the hook prepared www/data");
    const { page, errors, consoleErrors } = await openReady(browser, `${url}?lang=en`);
    assert.match(await page.textContent("#data-status"), /MNIST/);
    // trunk serve sends COOP/COEP (Trunk.toml): the page is cross-origin isolated and the CPU
    // engine's threads build loaded (where the pinned nightly built it: scripts/setup.sh).
    assert.equal(await page.evaluate(() => self.crossOriginIsolated), true);
    const threadsBuilt = existsSync(join(dir, "dist", "vae-webgpu-threads.js"));
    // (Chromium validates relaxed SIMD: the relaxed-SIMD threads build.)
    assert.equal(await page.evaluate(() => window.vaePage.wasmBuild), threadsBuilt ? "threads-relaxed" : "relaxed-simd");
    // A change under www/ is rebuilt; a reload gets it.
    appendFileSync(join(dir, "www", "style.css"), "\n/* fresh-clone reload check */\n");
    await until("the rebuilt style.css", 300_000, async () => (await fetchText(`${url}style.css`) || "").includes("fresh-clone reload check"));
    await page.reload();
    await page.waitForFunction(() => /^Ready/.test(document.getElementById("message").textContent), null, { timeout: 180_000 });
    assert.deepEqual(consoleErrors, []);
    assert.deepEqual(errors, []);
  } finally {
    trunk.kill();
    await closeBrowser(browser);
    rmSync(dir, { recursive: true, force: true });
  }
});
