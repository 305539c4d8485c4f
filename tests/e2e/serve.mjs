// A minimal static file server for the browser tests (loopback only).
import { createServer } from "node:http";
import { readFile, stat } from "node:fs/promises";
import { extname, join, normalize } from "node:path";
import { after } from "node:test";

// Browsers still open when a test file ends (a test failed before closing its own) are closed,
// so a failure ends the run instead of keeping node alive.
const browsers = new Set();
if (process.env.NODE_TEST_CONTEXT) {
  after(async () => {
    for (const b of browsers) await closeBrowser(b);
  });
}

/** Rejects with a message naming `what` when `promise` has not settled within `ms`. */
export function within(ms, what, promise) {
  let timer;
  const late = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

/** Closes `browser`, waiting at most 20 s (a browser whose GPU process hangs must not hang the run). */
export async function closeBrowser(browser) {
  await within(20_000, "closing the browser", browser.close()).catch(() => {});
}

const TYPES = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".wasm": "application/wasm",
  ".json": "application/json",
  ".png": "image/png",
  ".gz": "application/gzip",
};

/** Serves `root` on 127.0.0.1 at a free port, under `prefix` (e.g. "/some/path/"; nothing is
 * served outside it); resolves to { url, close } with url ending in the prefix. `isolate`:
 * cross-origin isolation headers (COOP/COEP), so the page may use SharedArrayBuffer. */
export async function serve(root, prefix = "/", { isolate = false } = {}) {
  const isolation = isolate ? { "cross-origin-opener-policy": "same-origin", "cross-origin-embedder-policy": "require-corp" } : {};
  const server = createServer(async (req, res) => {
    try {
      const full = decodeURIComponent(new URL(req.url, "http://x").pathname);
      if (!full.startsWith(prefix)) throw new Error("outside the prefix");
      const path = `/${full.slice(prefix.length)}`;
      let file = normalize(join(root, path));
      if (!file.startsWith(normalize(root))) throw new Error("outside root");
      if ((await stat(file)).isDirectory()) file = join(file, "index.html");
      const body = await readFile(file);
      res.writeHead(200, { "content-type": TYPES[extname(file)] || "application/octet-stream", "content-length": body.length, ...isolation });
      res.end(body);
    } catch {
      res.writeHead(404, { "content-type": "text/plain" });
      res.end("not found");
    }
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address();
  return { url: `http://127.0.0.1:${port}${prefix}`, close: () => new Promise((r) => server.close(r)) };
}

/** Chromium (Debian's) with or without WebGPU, with `extra` flags; never a downloaded browser. */
export async function launch(webgpu = true, extra = []) {
  const { chromium } = await import("playwright-core");
  const args = ["--no-sandbox", "--disable-dev-shm-usage", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-quic", ...extra];
  if (webgpu) args.push("--enable-unsafe-webgpu");
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || "/usr/bin/chromium", headless: true, args });
  browsers.add(browser);
  browser.on("disconnected", () => browsers.delete(browser));
  return browser;
}

/**
 * Opens the page at `url` (in a new context of `browser`, or in the context given) and waits
 * until it says "Ready" (in either language). Page errors, Content-Security-Policy
 * violations and requests to any other origin are collected in `errors` (every test expects it
 * empty); `consoleErrors` every console error. `init` (optional) runs in the page before its
 * own scripts. The page trains on WebGPU unless the url names an engine (?engine=auto|cpu): its
 * own default, auto, may pick the CPU engine on SwiftShader, and most tests are about the GPU.
 */
export async function openReady(browser, url, options = {}, init = null) {
  // `streaming: true`: return as soon as the page is Ready, while MNIST's training set may still
  // stream in (by default, once it is in and drawn).
  const { streaming: whileStreaming = false, ...pageOptions } = options;
  // A browser gives each page a context of its own; a context (`browser.newContext()`) shares
  // its storage between the pages opened in it (a tab closed and the page opened again).
  const page = typeof browser.newContext === "function" ? await browser.newPage({ viewport: { width: 1280, height: 800 }, ...pageOptions }) : await browser.newPage();
  page.setDefaultTimeout(60_000);
  // Conditions are polled on a timer, not on animation frames: while SwiftShader runs a long
  // WebGPU queue, the GPU process draws few frames, and frame-driven polling would stall with it.
  const waitForFunction = page.waitForFunction.bind(page);
  page.waitForFunction = (fn, arg, opts = {}) => waitForFunction(fn, arg, { polling: 100, ...opts });
  const errors = [];
  const origin = new URL(url).origin;
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("request", (r) => {
    const u = new URL(r.url());
    if (!["data:", "blob:"].includes(u.protocol) && u.origin !== origin) errors.push(`third-party request: ${r.url()}`);
  });
  // Every console error (a 404, an uncaught rejection…), for the tests that require a clean
  // console; CSP violations are errors for every test.
  const consoleErrors = [];
  page.on("console", (m) => {
    if (m.text().startsWith("CSP violation")) errors.push(m.text());
    if (m.type() === "error") consoleErrors.push(m.text());
  });
  await page.addInitScript(() => {
    document.addEventListener("securitypolicyviolation", (e) =>
      console.error(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI || "inline"} (${e.sourceFile}:${e.lineNumber})`));
  });
  if (init) await page.addInitScript(init);
  const u = new URL(url);
  if (!u.searchParams.has("engine")) u.searchParams.set("engine", "webgpu");
  await page.goto(u.href);
  // "Ready" in English, "準備完了" in Japanese.
  await page.waitForFunction(() => /^(Ready|準備完了)/.test(document.getElementById("message").textContent), null, { timeout: 180_000 });
  // The page shows the shipped model from MNIST's test set and streams the training set in
  // after: tests start from the whole page (page.test.mjs meets the streaming itself).
  if (!whileStreaming) await page.waitForFunction(() => window.vaePage && !window.vaePage.streaming, null, { timeout: 180_000 });
  return { page, errors, consoleErrors };
}

/** An IDX file (unsigned bytes) of shape `dims`. */
export function idx(dims, data) {
  const head = Buffer.alloc(4 + 4 * dims.length);
  head[2] = 8;
  head[3] = dims.length;
  dims.forEach((d, i) => head.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([head, Buffer.from(data)]);
}

/** `n` 28×28 digit-like images (a stroke per class) and labels, as IDX files; seeded. */
export function digits(n, seed) {
  const img = new Uint8Array(n * 784), lab = new Uint8Array(n);
  let s = seed;
  const rnd = () => (s = (s * 1103515245 + 12345) >>> 0) / 4294967296;
  for (let k = 0; k < n; k++) {
    const c = Math.floor(rnd() * 10);
    lab[k] = c;
    for (let y = 0; y < 28; y++) for (let x = 0; x < 28; x++) {
      const r = Math.hypot(x - 14, y - 14);
      const on = Math.abs(r - 5 - c / 2) < 1.5 || (Math.abs(x - 14 - (c - 5)) < 1.5 && r < 9);
      img[k * 784 + y * 28 + x] = on ? 180 + Math.floor(rnd() * 75) : Math.floor(rnd() * 10);
    }
  }
  return [idx([n, 28, 28], img), idx([n], lab)];
}

/** Loads `train` + `test` generated digits through the page's file input (training images gzipped). */
export async function loadDigits(page, train, test) {
  const { gzipSync } = await import("node:zlib");
  const [ti, tl] = digits(train, 1);
  const [vi, vl] = digits(test, 2);
  await page.setInputFiles("#idx-files", [
    { name: "train-images-idx3-ubyte.gz", mimeType: "application/gzip", buffer: gzipSync(ti) },
    { name: "train-labels-idx1-ubyte", mimeType: "application/octet-stream", buffer: tl },
    { name: "t10k-images-idx3-ubyte", mimeType: "application/octet-stream", buffer: vi },
    { name: "t10k-labels-idx1-ubyte", mimeType: "application/octet-stream", buffer: vl },
  ]);
  await page.waitForFunction(() => document.getElementById("message").textContent.startsWith("Loaded your IDX files"));
}
