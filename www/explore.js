// The Explore view: draw or pick an input, see its μ and σ, sample z = μ + σ·ε, find it on the
// latent map (hover to decode any point), and interpolate to a test digit. The computation runs
// on the trainer, queued between training chunks; while the WebGPU engine trains, the visitor's
// own gestures (hover, drawing, the slider) are answered by a CPU copy of the model (quick.js).

import { t as tr } from "./i18n.js";
import { $, sizeCanvas, DIGIT_COLORS as COLORS } from "./dom.js";

/** One colour per digit 0…9, for the latent maps. */
const DRAW_SIZE = 280;
const SAMPLE_COUNT = 12;
const MAP_POINTS = 2000;
const MAX_BARS = 32;
const HOVER_HOLD_MS = 300; // training pauses this long after the last pointer move on the map

function gaussian() {
  const u = 1 - Math.random(), v = Math.random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

export class Explore {
  /** `exclusive(fn)` queues a trainer call; `report(text, kind)` shows a message on the page. */
  constructor(view, exclusive, report) {
    this.view = view;
    this.exclusive = exclusive;
    this.report = report;
    this.input = null; // pixels of the current input
    this.enc = null; // { mu, logVar } of the input
    this.map = null;
    this.b = { id: 1, pixels: null, mu: null };
    this.nextTest = 0;
    this.hoverLatencies = [];
    this.drawLatencies = []; // ms from a finished stroke to its encoding drawn (the benchmarks read it)
    this.drawDue = null; // when the drawing's next encoding is due (training holds back till then)
    this.hoverBusy = false;
    this.hoverPending = null;
    this.sliderBusy = false;
    this.lastHover = -Infinity;
    this.lastSlide = -Infinity;
    this.updateTimer = 0;
    this.drawing = false;
    this.setupDrawing();
    $("clear").addEventListener("click", () => this.clearDrawing());
    $("pick").addEventListener("click", () => this.guard(() => this.pickTestDigit()));
    $("redraw").addEventListener("click", () => this.guard(() => this.drawSamples()));
    $("next-b").addEventListener("click", () => this.guard(() => this.nextB()));
    $("interp").addEventListener("input", () => this.guard(async () => {
      this.sliderBusy = true;
      this.lastSlide = performance.now();
      try {
        await this.drawInterpolation();
      } finally {
        this.sliderBusy = false;
      }
    }));
    const map = $("map");
    const hover = (e) => this.hover(e);
    map.addEventListener("pointermove", hover);
    map.addEventListener("pointerdown", hover);
    // The keyboard alternative to hovering: arrow keys move the decoded point (Shift: farther).
    map.addEventListener("keydown", (e) => this.keyMove(e));
    addEventListener("resize", () => { this.drawChart(); this.drawMap(); });
  }

  get t() { return this.view.trainer; }

  /** Whether the visitor's gestures are answered by the CPU copy now (quick.js), not queued
   * behind training on the trainer. */
  get quick() { return Boolean(this.view.quick && this.view.quick.active); }

  /** `call(model)` for one of the visitor's gestures: on the CPU copy while it answers for the
   * training model, else on the trainer through its queue. */
  gesture(call) {
    return this.quick ? call(this.view.quick) : this.exclusive(() => call(this.t));
  }

  /** True if the user hovered the map or moved the slider within the last `ms`. */
  recentlyUsed(ms) {
    return performance.now() - Math.max(this.lastHover, this.lastSlide) < ms;
  }

  /** Re-writes the texts this view draws (after a language switch). */
  relabel() {
    const m = this.map;
    if (m) {
      $("map-caption").textContent = m.pca
        ? tr("map.pca", (100 * m.explained[0]).toFixed(0), (100 * m.explained[1]).toFixed(0))
        : tr("map.direct");
    }
    if (this.b.pixels) $("interp-caption").textContent = tr("interp.caption", this.b.id);
  }

  /** Takes test digit `id` as the input (the page calls this when one is clicked above). */
  pick(id) {
    return this.guard(() => this.pickTestDigit(id));
  }

  /** Waits while an interactive decode is pending (display refreshes yield to it). */
  async yield() {
    while (this.interactive()) await new Promise((r) => setTimeout(r, 5));
  }

  /** True while a hover or slider decode is waiting or running (training yields to it). */
  interactive() {
    // The CPU copy answers the gestures without the trainer: nothing needs to hold back.
    if (this.quick) return false;
    // While the pointer moves over the map, training holds back so each decode finds the GPU
    // idle (on a CPU-emulated adapter a queued training chunk costs more than the decode).
    const hovering = performance.now() - this.lastHover < HOVER_HOLD_MS;
    return hovering || this.hoverBusy || this.hoverPending !== null || this.sliderBusy || this.drawDue !== null;
  }

  async guard(fn) {
    try {
      await fn();
    } catch (e) {
      this.report(`${tr("fail.explore")}: ${e && e.message ? e.message : e}`, "error");
    }
  }

  // ---- input -----------------------------------------------------------------------------
  setupDrawing() {
    const c = $("draw");
    const g = c.getContext("2d");
    this.clearCanvas();
    const pos = (e) => {
      const r = c.getBoundingClientRect();
      return [((e.clientX - r.left) / r.width) * DRAW_SIZE, ((e.clientY - r.top) / r.height) * DRAW_SIZE];
    };
    c.addEventListener("pointerdown", (e) => {
      c.setPointerCapture(e.pointerId);
      this.drawing = true;
      const [x, y] = pos(e);
      g.beginPath();
      g.moveTo(x, y);
      g.lineTo(x + 0.1, y + 0.1);
      g.stroke();
      this.scheduleUpdate(150);
    });
    c.addEventListener("pointermove", (e) => {
      if (!this.drawing) return;
      const [x, y] = pos(e);
      g.lineTo(x, y);
      g.stroke();
      this.scheduleUpdate(150);
    });
    const end = () => {
      if (!this.drawing) return;
      this.drawing = false;
      this.scheduleUpdate(0);
    };
    c.addEventListener("pointerup", end);
    c.addEventListener("pointercancel", end);
  }

  clearCanvas() {
    const g = $("draw").getContext("2d");
    g.fillStyle = "#000";
    g.fillRect(0, 0, DRAW_SIZE, DRAW_SIZE);
    g.strokeStyle = "#fff";
    g.lineWidth = 22; // at 280 px this is MNIST's stroke width after scaling to 20 px
    g.lineCap = "round";
    g.lineJoin = "round";
  }

  clearDrawing() {
    this.clearCanvas();
    this.input = null;
  }

  /** Encodes the drawing in `ms` (strokes in progress: debounced). Until it is drawn, training
   * holds back (interactive()), so the encoding waits behind at most the chunks already queued. */
  scheduleUpdate(ms) {
    clearTimeout(this.updateTimer);
    this.drawDue = performance.now() + ms;
    this.updateTimer = setTimeout(() => this.guard(() => this.fromDrawing()), ms);
  }

  async fromDrawing() {
    const due = this.drawDue;
    let encoded = null;
    try {
      if (!this.t) return;
      const d = $("draw").getContext("2d").getImageData(0, 0, DRAW_SIZE, DRAW_SIZE).data;
      const ink = new Float32Array(DRAW_SIZE * DRAW_SIZE);
      for (let i = 0; i < ink.length; i++) ink[i] = d[4 * i] / 255;
      const side = this.t.imageSide;
      const pixels = this.view.wasm.drawingToInput(ink, DRAW_SIZE, side);
      if (!pixels.some((v) => v > 0)) return;
      this.input = pixels;
      // The encoding first, drawn at once; the rest of the panel follows (refresh).
      this.enc = encoded = await this.gesture((m) => m.encode(pixels));
      this.drawChart();
      if (due !== null) this.drawLatencies.push(performance.now() - due);
    } finally {
      if (this.drawDue === due) this.drawDue = null; // no newer stroke is waiting
    }
    await this.refresh(encoded);
  }

  async pickTestDigit(chosen) {
    if (!this.t || !this.t.testCount) return;
    const id = chosen ?? this.nextTest % this.t.testCount;
    if (chosen === undefined) this.nextTest += 1;
    const pixels = await this.exclusive(() => this.t.testDigits([id]));
    this.input = pixels;
    // Show it in the drawing canvas, so what is encoded is what is seen.
    const side = this.t.imageSide;
    const tmp = document.createElement("canvas");
    this.view.wasm.drawGrid(tmp, pixels, side, 1);
    const g = $("draw").getContext("2d");
    this.clearCanvas();
    g.imageSmoothingEnabled = false;
    g.drawImage(tmp, 2, 2, side, side, 0, 0, DRAW_SIZE, DRAW_SIZE);
    await this.refresh();
  }

  // ---- encoder output ----------------------------------------------------------------------
  /** Re-encodes the input with the current model (or takes `encoded`, its encoding just made)
   * and redraws everything that depends on it. */
  async refresh(encoded = null) {
    if (!this.t) return;
    if (!this.input) await this.pickTestDigit();
    if (!this.input) return;
    if (!encoded) {
      await this.yield();
      this.enc = await this.exclusive(() => this.t.encode(this.input));
      this.drawChart();
    }
    await this.yield();
    await this.drawSamples();
    this.drawMap();
    await this.yield();
    if (!this.b.pixels) await this.nextB(false);
    else this.b.mu = (await this.exclusive(() => this.t.encode(this.b.pixels))).mu;
    await this.drawInterpolation();
  }

  drawChart() {
    const c = $("musigma");
    if (!this.enc) return;
    const [g, w, h] = sizeCanvas(c, 220);
    g.clearRect(0, 0, w, h);
    const { mu, logVar } = this.enc;
    const L = Math.min(mu.length, MAX_BARS);
    const left = 30, right = 8, top = 6, bottom = 18;
    const span = 4;
    const x = (v) => left + ((Math.max(-span, Math.min(span, v)) + span) / (2 * span)) * (w - left - right);
    const row = (h - top - bottom) / L;
    g.fillStyle = "#eef2f7";
    g.fillRect(x(-1), top, x(1) - x(-1), h - top - bottom);
    g.strokeStyle = "#cbd5e1";
    g.beginPath(); g.moveTo(x(0), top); g.lineTo(x(0), h - bottom); g.stroke();
    g.font = "11px system-ui, sans-serif";
    g.fillStyle = "#6b7280";
    g.textAlign = "center";
    g.textBaseline = "top";
    for (const t of [-4, -2, 0, 2, 4]) g.fillText(String(t), x(t), h - bottom + 3);
    g.textAlign = "right";
    g.textBaseline = "middle";
    const bar = Math.max(2, Math.min(8, row * 0.5));
    for (let j = 0; j < L; j++) {
      const y = top + (j + 0.5) * row;
      const s = Math.exp(0.5 * logVar[j]);
      if (L <= 20 || j % 2 === 0) { g.fillStyle = "#6b7280"; g.fillText(`z${j + 1}`, left - 4, y); }
      g.fillStyle = "rgba(37, 99, 235, 0.35)";
      g.fillRect(x(mu[j] - s), y - bar / 2, Math.max(1, x(mu[j] + s) - x(mu[j] - s)), bar);
      g.fillStyle = "#1d4ed8";
      g.beginPath(); g.arc(x(mu[j]), y, Math.min(4, bar * 0.7), 0, 2 * Math.PI); g.fill();
    }
    let kl = 0;
    for (let j = 0; j < mu.length; j++) kl += -0.5 * (1 + logVar[j] - mu[j] * mu[j] - Math.exp(logVar[j]));
    $("x-kl").textContent = kl.toFixed(2);
  }

  async drawSamples() {
    if (!this.enc) return;
    const { mu, logVar } = this.enc;
    const L = mu.length;
    const z = new Float32Array(SAMPLE_COUNT * L);
    for (let k = 0; k < SAMPLE_COUNT; k++) {
      for (let j = 0; j < L; j++) z[k * L + j] = k === 0 ? mu[j] : mu[j] + Math.exp(0.5 * logVar[j]) * gaussian();
    }
    const px = await this.exclusive(() => this.t.decode(z));
    const side = this.t.imageSide;
    const c = $("draws");
    this.view.wasm.drawGrid(c, px, side, 4);
    const g = c.getContext("2d");
    g.strokeStyle = "#f59e0b";
    g.lineWidth = 2;
    g.strokeRect(1, 1, side + 2, side + 2);
    // Reconstruction loss of the input from the decode of μ, per sample as in the plot.
    let bce = 0;
    for (let i = 0; i < side * side; i++) {
      const p = Math.min(1 - 1e-7, Math.max(1e-7, px[i]));
      const t = this.input[i];
      bce -= t * Math.log(p) + (1 - t) * Math.log(1 - p);
    }
    $("x-recon").textContent = bce.toFixed(1);
  }

  // ---- latent map --------------------------------------------------------------------------
  async refreshMap() {
    if (!this.t || !this.t.testCount) return;
    this.map = await this.exclusive(() => this.t.latentMap(MAP_POINTS));
    const m = this.map;
    this.relabel();
    // Built node by node: the page's CSP forbids inline style attributes (CSSOM is fine).
    $("map-legend").replaceChildren(
      ...COLORS.map((c, d) => {
        const swatch = document.createElement("i");
        swatch.style.background = c;
        const item = document.createElement("span");
        item.append(swatch, String(d));
        return item;
      }),
    );
    this.drawMap();
  }

  mapFrame() {
    const p = this.map.points;
    let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
    for (let i = 0; i < p.length; i += 2) {
      x0 = Math.min(x0, p[i]); x1 = Math.max(x1, p[i]);
      y0 = Math.min(y0, p[i + 1]); y1 = Math.max(y1, p[i + 1]);
    }
    const pad = 0.08 * Math.max(x1 - x0, y1 - y0, 1e-3);
    return { x0: x0 - pad, x1: x1 + pad, y0: y0 - pad, y1: y1 + pad };
  }

  /** The input's μ and 2×2 covariance in map coordinates. */
  projectInput() {
    const m = this.map, { mu, logVar } = this.enc;
    const L = mu.length;
    if (!m.pca) return { c: [mu[0], mu[1]], cov: [Math.exp(logVar[0]), 0, Math.exp(logVar[1])] };
    const comp = (k, j) => m.components[k * L + j];
    let a = 0, b = 0, caa = 0, cab = 0, cbb = 0;
    for (let j = 0; j < L; j++) {
      const d = mu[j] - m.mean[j], v = Math.exp(logVar[j]);
      a += d * comp(0, j); b += d * comp(1, j);
      caa += v * comp(0, j) ** 2; cab += v * comp(0, j) * comp(1, j); cbb += v * comp(1, j) ** 2;
    }
    return { c: [a, b], cov: [caa, cab, cbb] };
  }

  drawMap() {
    if (!this.map) return;
    const c = $("map");
    const [g, w, h] = sizeCanvas(c);
    const f = this.mapFrame();
    this.frame = { ...f, w, h };
    const X = (v) => ((v - f.x0) / (f.x1 - f.x0)) * w;
    const Y = (v) => h - ((v - f.y0) / (f.y1 - f.y0)) * h;
    g.clearRect(0, 0, w, h);
    const p = this.map.points, lab = this.map.labels;
    for (let i = 0; i < lab.length; i++) {
      g.fillStyle = COLORS[lab[i] % 10];
      g.globalAlpha = 0.7;
      g.beginPath(); g.arc(X(p[2 * i]), Y(p[2 * i + 1]), 1.7, 0, 2 * Math.PI); g.fill();
    }
    g.globalAlpha = 1;
    if (this.enc) {
      const { c: [a, b], cov: [caa, cab, cbb] } = this.projectInput();
      // Axes of the 2×2 covariance ellipse (1 σ).
      const tr = caa + cbb, det = caa * cbb - cab * cab;
      const l1 = tr / 2 + Math.sqrt(Math.max(0, tr * tr / 4 - det)), l2 = Math.max(0, tr - l1);
      const ang = Math.abs(cab) < 1e-12 ? (caa >= cbb ? 0 : Math.PI / 2) : Math.atan2(l1 - caa, cab);
      const sx = w / (f.x1 - f.x0), sy = h / (f.y1 - f.y0);
      g.save();
      g.translate(X(a), Y(b));
      g.scale(sx, -sy);
      g.rotate(ang);
      g.beginPath(); g.ellipse(0, 0, Math.sqrt(l1), Math.sqrt(l2), 0, 0, 2 * Math.PI);
      g.restore();
      g.fillStyle = "rgba(17, 24, 39, 0.12)"; g.fill();
      g.strokeStyle = "#111827"; g.lineWidth = 1.5; g.stroke();
      g.fillStyle = "#111827";
      g.beginPath(); g.arc(X(a), Y(b), 3.5, 0, 2 * Math.PI); g.fill();
    }
    g.fillStyle = "#6b7280";
    g.font = "11px system-ui, sans-serif";
    g.fillText(this.map.pca ? "PC1 →" : "z1 →", w - 40, h - 6);
    g.save(); g.translate(10, 44); g.rotate(-Math.PI / 2); g.fillText(this.map.pca ? "PC2 →" : "z2 →", 0, 0); g.restore();
  }

  hover(e) {
    if (!this.map || !this.frame || !this.t) return;
    const r = e.target.getBoundingClientRect();
    const f = this.frame;
    const a = f.x0 + ((e.clientX - r.left) / r.width) * (f.x1 - f.x0);
    const b = f.y1 - ((e.clientY - r.top) / r.height) * (f.y1 - f.y0);
    this.lastHover = performance.now();
    this.hoverPending = { a, b, t0: this.lastHover };
    if (!this.hoverBusy) this.guard(() => this.runHover());
  }

  keyMove(e) {
    const dirs = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, 1], ArrowDown: [0, -1] };
    if (!(e.key in dirs) || !this.map || !this.frame || !this.t) return;
    e.preventDefault();
    const f = this.frame;
    const step = (e.shiftKey ? 0.1 : 0.03) * Math.max(f.x1 - f.x0, f.y1 - f.y0);
    const at = this.keyPoint || { a: (f.x0 + f.x1) / 2, b: (f.y0 + f.y1) / 2 };
    const [dx, dy] = dirs[e.key];
    this.keyPoint = {
      a: Math.min(f.x1, Math.max(f.x0, at.a + dx * step)),
      b: Math.min(f.y1, Math.max(f.y0, at.b + dy * step)),
    };
    this.lastHover = performance.now();
    this.hoverPending = { ...this.keyPoint, t0: this.lastHover };
    if (!this.hoverBusy) this.guard(() => this.runHover());
  }

  async runHover() {
    this.hoverBusy = true;
    try {
      while (this.hoverPending) {
        const { a, b, t0 } = this.hoverPending;
        this.hoverPending = null;
        const m = this.map;
        const L = m.mean.length;
        const z = new Float32Array(L);
        if (m.pca) for (let j = 0; j < L; j++) z[j] = m.mean[j] + a * m.components[j] + b * m.components[L + j];
        else { z[0] = a; z[1] = b; }
        const px = await this.gesture((m) => m.decode(z));
        this.view.wasm.drawGrid($("map-decode"), px, this.t.imageSide, 1);
        this.hoverLatencies.push(performance.now() - t0);
      }
    } finally {
      this.hoverBusy = false;
    }
  }

  // ---- interpolation -----------------------------------------------------------------------
  async nextB(advance = true) {
    if (!this.t || !this.t.testCount) return;
    if (advance) this.b.id = (this.b.id + 7) % this.t.testCount;
    this.b.pixels = await this.exclusive(() => this.t.testDigits([this.b.id]));
    this.b.mu = (await this.exclusive(() => this.t.encode(this.b.pixels))).mu;
    $("interp-caption").textContent = tr("interp.caption", this.b.id);
    await this.drawInterpolation();
  }

  async drawInterpolation() {
    if (!this.enc || !this.b.mu) return;
    const side = this.t.imageSide;
    const s = Number($("interp").value);
    const a = this.enc.mu, b = this.b.mu;
    const z = new Float32Array(a.length);
    for (let j = 0; j < a.length; j++) z[j] = (1 - s) * a[j] + s * b[j];
    const px = await this.gesture((m) => m.decode(z));
    this.lastInterp = { s, z: Array.from(z) };
    this.view.wasm.drawGrid($("interp-mid"), px, side, 1);
    this.view.wasm.drawGrid($("interp-a"), this.input, side, 1);
    this.view.wasm.drawGrid($("interp-b"), this.b.pixels, side, 1);
  }
}
