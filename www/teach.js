// Teach: the questions the seed article asks, answered live by the model in training. (1) The
// batch: one normal distribution per input, as heat maps of μ and log σ² and a row's normals
// against the prior. (2) Why log σ²: the batch's log σ² and σ = exp(½ log σ²) side by side.
// (3) The reparameterization trick: z = μ + σ·ε with live values and the gradient paths.
import { t as tr } from "./i18n.js";
import { $, sizeCanvas } from "./dom.js";
import { activity, ACTIVE_N } from "./stats.js";

const BINS = 30;
const GRID = 10; // the manifold's decodes per side

/** Φ⁻¹(p), the standard normal quantile (Acklam's rational approximation, |error| < 1.2e-9). */
function normalQuantile(p) {
  const a = [-39.6968302866538, 220.946098424521, -275.928510446969, 138.357751867269, -30.6647980661472, 2.50662827745924];
  const b = [-54.4760987982241, 161.585836858041, -155.698979859887, 66.8013118877197, -13.2806815528857];
  const c = [-0.00778489400243029, -0.322396458041136, -2.40075827716184, -2.54973253934373, 4.37466414146497, 2.93816398269878];
  const d = [0.00778469570904146, 0.32246712907004, 2.445134137143, 3.75440866190742];
  const lo = 0.02425;
  if (p < lo) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  if (p > 1 - lo) return -normalQuantile(1 - p);
  const q = p - 0.5, r = q * q;
  return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}

/** The `lo` and `hi` quantiles of `values`. */
function spread(values, lo, hi) {
  const s = Array.from(values).sort((x, y) => x - y);
  const at = (p) => s[Math.min(s.length - 1, Math.max(0, Math.round(p * (s.length - 1))))];
  return [at(lo), at(hi)];
}

/** Blue (negative) – white – red (positive), |v| / scale clamped to 1. */
function diverging(v, scale) {
  const s = Math.max(-1, Math.min(1, v / scale));
  const a = Math.round(255 * (1 - Math.abs(s)));
  return s < 0 ? `rgb(${a},${a},255)` : `rgb(255,${a},${a})`;
}

function gaussian() {
  const u = 1 - Math.random(), v = Math.random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

export class Teach {
  constructor(view, exclusive, report) {
    this.view = view;
    this.exclusive = exclusive;
    this.report = report;
    this.batch = null; // { pixels, mu, logVar, rows }
    this.row = 0;
    this.dim = 0;
    this.eps = gaussian();
    this.batches = 0;
    this.grad = null; // { key, g, dmu, dlv, kmu, klv }: Q3's live gradient for `key`
    $("batch-row").addEventListener("input", (e) => { this.row = Number(e.target.value); this.draw(); });
    $("reparam-eps").addEventListener("click", () => { this.eps = gaussian(); this.drawReparam(); });
    const pick = (e) => {
      if (!this.batch) return;
      const r = e.target.getBoundingClientRect();
      this.row = Math.min(this.batch.rows - 1, Math.floor(((e.clientY - r.top) / r.height) * this.batch.rows));
      this.dim = Math.min(this.latent() - 1, Math.floor(((e.clientX - r.left) / r.width) * this.latent()));
      $("batch-row").value = String(this.row);
      this.draw();
    };
    $("heat-mu").addEventListener("click", pick);
    $("heat-lv").addEventListener("click", pick);
    addEventListener("resize", () => this.draw());
  }

  latent() {
    return this.batch ? this.batch.mu.length / this.batch.rows : 0;
  }

  /** Reads the newest training batch's μ and log σ², and which latent dimensions the model uses
   * (the variance of μ_j over ACTIVE_N test images), and redraws. */
  async refresh() {
    const t = this.view.trainer;
    if (!t || !t.testCount) return;
    try {
      this.batch = await this.exclusive(() => t.currentBatch());
      this.batch.stamp = `${t.globalStep}:${++this.batches}`; // a new batch, or new parameters
      // Once an epoch while training (it encodes ACTIVE_N test images), at every refresh otherwise.
      const stale = !this.activity || this.activity.trainer !== t || this.activity.epoch !== t.epoch || !this.view.training;
      if (stale) {
        const { mu } = await this.exclusive(() => t.latentMeans(Math.min(ACTIVE_N, t.testCount)));
        this.activity = { ...activity(mu, t.latent), trainer: t, epoch: t.epoch };
      }
    } catch (e) {
      this.report(`${tr("fail.explore")}: ${e && e.message ? e.message : e}`, "error");
      return;
    }
    $("batch-row").max = String(this.batch.rows - 1);
    this.row = Math.min(this.row, this.batch.rows - 1);
    this.dim = Math.min(this.dim, this.latent() - 1);
    $("teach").hidden = false;
    this.draw();
    await this.drawManifold();
  }

  /** A GRID×GRID grid of decodes: over the prior's quantiles in a 2-D latent space, else over
   * the latent map's two principal axes (the span the test digits' μ cover). */
  async drawManifold() {
    // While the shipped model is shown, the shipped 2-D VAE draws Kingma & Welling's grid.
    const shipped = this.view.shipped2d;
    const t = shipped || this.view.trainer, map = shipped ? { mean: new Float32Array(2), pca: null } : this.view.map;
    if (!t || !map) return;
    const L = map.mean.length;
    const z = new Float32Array(GRID * GRID * L);
    let axes;
    if (!map.pca) {
      const q = Array.from({ length: GRID }, (_, i) => normalQuantile(0.05 + (0.9 * i) / (GRID - 1)));
      for (let r = 0; r < GRID; r++) for (let c = 0; c < GRID; c++) {
        z[(r * GRID + c) * L] = q[c];
        z[(r * GRID + c) * L + 1] = q[GRID - 1 - r];
      }
      axes = shipped ? () => tr("t4.axesShipped") : () => tr("t4.axes2");
    } else {
      const xs = map.points.filter((_, i) => i % 2 === 0), ys = map.points.filter((_, i) => i % 2 === 1);
      const [x0, x1] = spread(xs, 0.02, 0.98), [y0, y1] = spread(ys, 0.02, 0.98);
      for (let r = 0; r < GRID; r++) for (let c = 0; c < GRID; c++) {
        const a = x0 + ((x1 - x0) * c) / (GRID - 1), b = y1 - ((y1 - y0) * r) / (GRID - 1);
        for (let j = 0; j < L; j++) z[(r * GRID + c) * L + j] = map.mean[j] + a * map.components[j] + b * map.components[L + j];
      }
      const [e0, e1] = [(100 * map.explained[0]).toFixed(0), (100 * map.explained[1]).toFixed(0)];
      axes = () => tr("t4.axesPca", e0, e1);
    }
    let px;
    try {
      px = await this.exclusive(() => t.decode(z));
    } catch (e) {
      this.report(`${tr("fail.explore")}: ${e && e.message ? e.message : e}`, "error");
      return;
    }
    this.view.wasm.drawGrid($("manifold"), px, t.imageSide, GRID);
    this.manifoldAxes = axes;
    this.manifold = { n: px.length / (t.imageSide * t.imageSide), pca: map.pca, shipped: !!shipped };
    $("manifold-axes").textContent = axes();
  }

  draw() {
    if (this.manifoldAxes) $("manifold-axes").textContent = this.manifoldAxes();
    if (!this.batch) return;
    this.drawHeat("heat-mu", this.batch.mu, 3);
    this.drawHeat("heat-lv", this.batch.logVar, 4);
    this.drawRow();
    this.drawHistograms();
    this.drawReparam();
  }

  drawHeat(id, values, scale) {
    const c = $(id);
    const [g, w, h] = sizeCanvas(c, 160);
    const { rows } = this.batch, L = this.latent();
    const cw = w / L, ch = h / rows;
    for (let r = 0; r < rows; r++) {
      for (let j = 0; j < L; j++) {
        g.fillStyle = diverging(values[r * L + j], scale);
        g.fillRect(j * cw, r * ch, Math.ceil(cw), Math.ceil(ch));
      }
    }
    // Unused dimensions (μ ≈ 0 and σ ≈ 1 for every input: flat columns) greyed and crossed.
    const act = this.activity && this.activity.active.length === L ? this.activity.active : null;
    for (let j = 0; act && j < L; j++) {
      if (act[j]) continue;
      g.fillStyle = "rgba(75, 85, 99, 0.45)";
      g.fillRect(j * cw, 0, Math.ceil(cw), h);
      g.strokeStyle = "#374151";
      g.lineWidth = 1;
      g.beginPath(); g.moveTo(j * cw + 1, 1); g.lineTo((j + 1) * cw - 1, 7); g.moveTo((j + 1) * cw - 1, 1); g.lineTo(j * cw + 1, 7); g.stroke();
    }
    g.strokeStyle = "#111827";
    g.lineWidth = 1.5;
    g.strokeRect(0.5, this.row * ch, w - 1, Math.max(ch, 2));
  }

  /** The chosen input and its L normals N(μ_j, σ_j²) against the prior N(0, 1). */
  drawRow() {
    const { mu, logVar, pixels, rows } = this.batch;
    const L = this.latent(), r = this.row;
    const side = this.view.trainer.imageSide;
    this.view.wasm.drawGrid($("batch-input"), pixels.subarray(r * side * side, (r + 1) * side * side), side, 1);
    const [g, w, h] = sizeCanvas($("row-normals"), 150);
    const x = (v) => ((v + 4) / 8) * w;
    const pdf = (v, m, s) => Math.exp(-0.5 * ((v - m) / s) ** 2) / (s * Math.sqrt(2 * Math.PI));
    let top = pdf(0, 0, 1);
    for (let j = 0; j < L; j++) top = Math.max(top, Math.min(4, pdf(mu[r * L + j], mu[r * L + j], Math.exp(0.5 * logVar[r * L + j]))));
    const y = (p) => h - 14 - (Math.min(p, top) / top) * (h - 20);
    g.fillStyle = "#e5e7eb";
    g.beginPath(); g.moveTo(x(-4), y(0));
    for (let v = -4; v <= 4; v += 0.05) g.lineTo(x(v), y(pdf(v, 0, 1)));
    g.lineTo(x(4), y(0)); g.fill();
    for (let j = 0; j < L; j++) {
      const m = mu[r * L + j], s = Math.exp(0.5 * logVar[r * L + j]);
      g.strokeStyle = j === this.dim ? "#b91c1c" : "#1d4ed8";
      g.lineWidth = j === this.dim ? 2 : 1;
      g.beginPath();
      for (let v = -4; v <= 4; v += 0.02) { const p = y(pdf(v, m, s)); if (v === -4) g.moveTo(x(v), p); else g.lineTo(x(v), p); }
      g.stroke();
    }
    // "The average": the batch's mixture (1/B)·Σ_k N(μ_kj, σ_kj²) in the chosen dimension j.
    const j = this.dim;
    const mix = (v) => {
      let p = 0;
      for (let k = 0; k < rows; k++) p += pdf(v, mu[k * L + j], Math.exp(0.5 * logVar[k * L + j]));
      return p / rows;
    };
    g.strokeStyle = "#111827";
    g.lineWidth = 2.5;
    g.setLineDash([6, 4]);
    g.beginPath();
    for (let v = -4; v <= 4; v += 0.04) { const p = y(mix(v)); if (v === -4) g.moveTo(x(v), p); else g.lineTo(x(v), p); }
    g.stroke();
    g.setLineDash([]);
    let m1 = 0, m2 = 0;
    for (let k = 0; k < rows; k++) {
      const m = mu[k * L + j];
      m1 += m;
      m2 += m * m + Math.exp(logVar[k * L + j]);
    }
    m1 /= rows;
    const mixVar = m2 / rows - m1 * m1;
    const mixEl = $("batch-mixture");
    mixEl.dataset.mean = String(m1);
    mixEl.dataset.variance = String(mixVar);
    mixEl.textContent = tr("t1.mixture", rows, `z${j + 1}`, m1.toFixed(2), mixVar.toFixed(2));
    g.fillStyle = "#4b5563"; g.textAlign = "center";
    for (const v of [-4, -2, 0, 2, 4]) g.fillText(String(v), x(v), h - 12 + 10);
    // KL of this input (summed over its L dimensions) and the batch's mean per sample.
    const klOf = (k) => {
      let s = 0;
      for (let j = 0; j < L; j++) s += -0.5 * (1 + logVar[k * L + j] - mu[k * L + j] ** 2 - Math.exp(logVar[k * L + j]));
      return s;
    };
    let total = 0;
    for (let k = 0; k < rows; k++) total += klOf(k);
    $("batch-kl").textContent = tr("t1.kl", r, klOf(r).toFixed(2), (total / rows).toFixed(2));
    $("t1-caption").textContent = tr("t1.caption", rows, L);
    const a = this.activity;
    $("batch-active").textContent = a && a.active.length === L
      ? tr("t1.active", a.count, L, a.n, a.active.map((on, j) => (on ? null : `z${j + 1}`)).filter(Boolean).join(", "))
      : "";
  }

  drawHistograms() {
    const lv = this.batch.logVar;
    const sigma = lv.map((v) => Math.exp(0.5 * v));
    this.histogram("hist-lv", lv, "#b45309");
    this.histogram("hist-sigma", sigma, "#1d4ed8");
    // The same outputs read as σ itself: the share that is no standard deviation at all.
    const n = lv.length;
    let bad = 0, lo = Infinity, hi = 0;
    for (let i = 0; i < n; i++) {
      if (lv[i] <= 0) bad += 1;
      lo = Math.min(lo, sigma[i]);
      hi = Math.max(hi, sigma[i]);
    }
    const el = $("q2-numbers");
    el.dataset.negShare = String(bad / Math.max(n, 1));
    const fmt = (v) => (v >= 0.01 ? v.toFixed(3) : v.toExponential(1));
    el.textContent = tr("t2.numbers", n, ((100 * bad) / Math.max(n, 1)).toFixed(1), fmt(lo), fmt(hi), (hi / lo).toFixed(hi / lo < 10 ? 1 : 0));
  }

  histogram(id, values, color) {
    const [g, w, h] = sizeCanvas($(id), 110);
    let lo = Infinity, hi = -Infinity;
    for (const v of values) { if (v < lo) lo = v; if (v > hi) hi = v; }
    if (!(hi > lo)) { hi = lo + 1; }
    const lo0 = Math.min(lo, 0), hi0 = Math.max(hi, 0);
    const counts = new Array(BINS).fill(0);
    for (const v of values) counts[Math.min(BINS - 1, Math.floor(((v - lo0) / (hi0 - lo0)) * BINS))] += 1;
    const max = Math.max(1, ...counts);
    const bw = w / BINS;
    g.fillStyle = color;
    counts.forEach((c, i) => g.fillRect(i * bw + 0.5, h - 14 - (c / max) * (h - 20), bw - 1, (c / max) * (h - 20)));
    const zero = ((0 - lo0) / (hi0 - lo0)) * w;
    g.strokeStyle = "#111827"; g.beginPath(); g.moveTo(zero, 4); g.lineTo(zero, h - 14); g.stroke();
    g.fillStyle = "#4b5563"; g.textAlign = "left"; g.fillText(lo0.toFixed(2), 0, h - 2);
    g.textAlign = "right"; g.fillText(hi0.toFixed(2), w, h - 2);
    g.textAlign = "center"; g.fillText("0", zero, h - 2);
  }

  /** z = μ + σ·ε for the chosen input and dimension, with the gradient paths. */
  drawReparam() {
    if (!this.batch) return;
    const L = this.latent(), k = this.row * L + this.dim;
    const mu = this.batch.mu[k], sigma = Math.exp(0.5 * this.batch.logVar[k]), eps = this.eps;
    const z = mu + sigma * eps;
    this.values = { mu, sigma, eps, z };
    $("reparam-which").textContent = tr("t3.which", this.row, this.dim + 1);
    const [g, w, h] = sizeCanvas($("reparam"), 170);
    const box = (x, y, label, value, fill) => {
      g.fillStyle = fill; g.strokeStyle = "#111827"; g.lineWidth = 1;
      g.beginPath(); g.roundRect(x - 42, y - 18, 84, 36, 6); g.fill(); g.stroke();
      g.fillStyle = "#111827"; g.textAlign = "center"; g.font = "12px system-ui, sans-serif";
      g.fillText(`${label} = ${value.toFixed(3)}`, x, y + 4);
    };
    const arrow = (x0, y0, x1, y1, color, text) => {
      g.strokeStyle = color; g.fillStyle = color; g.lineWidth = 1.5;
      g.beginPath(); g.moveTo(x0, y0); g.lineTo(x1, y1); g.stroke();
      const a = Math.atan2(y1 - y0, x1 - x0);
      g.beginPath(); g.moveTo(x1, y1); g.lineTo(x1 - 8 * Math.cos(a - 0.4), y1 - 8 * Math.sin(a - 0.4)); g.lineTo(x1 - 8 * Math.cos(a + 0.4), y1 - 8 * Math.sin(a + 0.4)); g.fill();
      if (text) { g.font = "11px system-ui, sans-serif"; g.textAlign = "center"; g.fillText(text, (x0 + x1) / 2, (y0 + y1) / 2 - 6); }
    };
    const zx = w - 56, zy = h / 2;
    box(52, 30, "μ", mu, "#dbeafe");
    box(52, h / 2, "σ", sigma, "#dbeafe");
    box(52, h - 30, "ε", eps, "#fef3c7");
    box(zx, zy, "z", z, "#dcfce7");
    arrow(96, 30, zx - 44, zy - 8, "#1d4ed8", "∂z/∂μ = 1");
    arrow(96, h / 2, zx - 44, zy, "#1d4ed8", `∂z/∂σ = ε = ${eps.toFixed(2)}`);
    arrow(96, h - 30, zx - 44, zy + 8, "#b45309", "");
    const key = [this.batch.stamp, this.row, this.dim, eps].join();
    if (this.grad && this.grad.key === key) this.showGradient();
    else this.refreshGradient(key);
  }

  /** Asks the model for ∂BCE/∂z of the chosen input at its z (its μ, with z_j = μ_j + σ_j·ε in
   * the chosen dimension): what the trick passes on to μ_j and log σ²_j. */
  async refreshGradient(key) {
    const t = this.view.trainer, b = this.batch;
    if (!t || !b) return;
    this.gradKey = key;
    const L = this.latent(), input = b.pixels.length / b.rows;
    const pixels = b.pixels.slice(this.row * input, (this.row + 1) * input);
    const z = Float32Array.from(b.mu.subarray(this.row * L, (this.row + 1) * L));
    z[this.dim] = this.values.z;
    const { mu, sigma, eps } = this.values;
    try {
      const { gradient } = await this.exclusive(() => t.reconstructionGradient(pixels, z));
      if (this.gradKey !== key) return; // another input, dimension or ε was chosen since
      const g = gradient[this.dim], beta = t.klWeight;
      this.grad = { key, g, dmu: g, dlv: g * 0.5 * sigma * eps, kmu: beta * mu, klv: beta * 0.5 * (sigma * sigma - 1) };
    } catch (e) {
      this.grad = null;
      $("q3-grad").textContent = "";
      return;
    }
    this.showGradient();
  }

  showGradient() {
    const f = (v) => (Math.abs(v) >= 0.01 || v === 0 ? v.toFixed(3) : v.toExponential(2));
    const { g, dmu, dlv, kmu, klv } = this.grad;
    const el = $("q3-grad");
    el.textContent = tr("t3.grad", f(g), f(dmu), f(dlv), f(kmu), f(klv));
    Object.assign(el.dataset, { g: String(g), dmu: String(dmu), dlv: String(dlv) });
  }
}
