// The npm package: pack pkg/ (from scripts/build-npm.sh), install the tarball into a scratch page,
// and train a few steps there in headless Chromium (WebGPU on SwiftShader).
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { serve, launch, closeBrowser } from "./serve.mjs";

const PAGE = `<!doctype html><meta charset="utf-8"><title>scratch</title>
<script type="module">
import init, { Trainer } from "./node_modules/vae-webgpu/vae_webgpu.js";
function idx(dims, data) {
  const head = new Uint8Array(4 + 4 * dims.length);
  const v = new DataView(head.buffer);
  v.setUint8(2, 8); v.setUint8(3, dims.length);
  dims.forEach((d, i) => v.setUint32(4 + 4 * i, d));
  const out = new Uint8Array(head.length + data.length);
  out.set(head); out.set(data, head.length);
  return out;
}
function digits(n, seed) {
  const img = new Uint8Array(n * 196), lab = new Uint8Array(n);
  let s = seed;
  const rnd = () => (s = (s * 1103515245 + 12345) >>> 0) / 4294967296;
  for (let k = 0; k < n; k++) {
    const c = Math.floor(rnd() * 10); lab[k] = c;
    for (let y = 0; y < 14; y++) for (let x = 0; x < 14; x++) {
      const on = (x + c) % 7 < 3 || (y * c) % 5 === 0;
      img[k * 196 + y * 14 + x] = on ? 200 + Math.floor(rnd() * 55) : Math.floor(rnd() * 20);
    }
  }
  return [idx([n, 14, 14], img), idx([n], lab)];
}
try {
  await init();
  const t = await Trainer.create({ input: 196, hidden: 32, latent: 4, batchSize: 16, seed: 3 });
  const [ti, tl] = digits(320, 1), [vi, vl] = digits(48, 2);
  t.loadDataset(ti, tl, vi, vl);
  const losses = [];
  while (t.globalStep < 40) {
    const s = await t.train(8);
    for (let i = 0; i < s.records.length; i += 4) losses.push(s.records[i + 2] + s.records[i + 3]);
  }
  const s = await t.flush();
  for (let i = 0; i < s.records.length; i += 4) losses.push(s.records[i + 2] + s.records[i + 3]);
  const ev = await t.evaluate();
  window.result = { ok: true, losses, test: ev.loss, adapter: t.adapter };
} catch (e) {
  window.result = { ok: false, error: String(e && e.message || e) };
}
</script>`;

test("the packed npm package trains in a scratch page", { timeout: 300_000 }, async () => {
  const root = resolve(".");
  const scratch = mkdtempSync(join(tmpdir(), "vae-npm-"));
  const tgz = execFileSync("npm", ["pack", join(root, "pkg"), "--pack-destination", scratch, "--silent"], { encoding: "utf8" }).trim().split("\n").pop();
  const pkg = JSON.parse(readFileSync(join(root, "pkg", "package.json"), "utf8"));
  assert.equal(pkg.name, "vae-webgpu");
  for (const f of ["description", "license", "repository", "keywords", "files"]) assert.ok(pkg[f], `package.json has ${f}`);
  assert.equal(pkg.scripts, undefined, "no install scripts");
  writeFileSync(join(scratch, "package.json"), JSON.stringify({ name: "scratch", private: true }));
  execFileSync("npm", ["install", "--no-audit", "--no-fund", "--ignore-scripts", "--loglevel=error", join(scratch, tgz)], { cwd: scratch, stdio: "inherit" });
  writeFileSync(join(scratch, "index.html"), PAGE);
  const server = await serve(scratch);
  const browser = await launch(true);
  try {
    const page = await browser.newPage();
    await page.goto(server.url);
    await page.waitForFunction(() => window.result, null, { timeout: 240_000 });
    const r = await page.evaluate(() => window.result);
    assert.ok(r.ok, r.error);
    console.log(`npm package on ${r.adapter}: ${r.losses.length} steps, loss ${r.losses[0].toFixed(1)} → ${r.losses.at(-1).toFixed(1)}, test ${r.test.toFixed(1)}`);
    assert.equal(r.losses.length, 40);
    assert.ok(r.losses.every(Number.isFinite));
    assert.ok(r.losses.at(-1) < r.losses[0], "loss fell");
    assert.ok(Number.isFinite(r.test));
  } finally {
    await closeBrowser(browser);
    await server.close();
  }
});
