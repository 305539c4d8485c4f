// The loss plot: per-step reconstruction and KL, per-epoch train and test loss, on a log-scaled
// y axis with labelled ticks. Pure drawing on a 2D canvas; no library.

import { t as tr } from "./i18n.js";
import { sizeCanvas } from "./dom.js";

// Lines and text at ≥ 3:1 and ≥ 4.5:1 against white (WCAG 1.4.11, 1.4.3).
const COLORS = { recon: "#1d4ed8", kl: "#b45309", train: "#111827", test: "#b91c1c", grid: "#e5e7eb", axis: "#4b5563" };
const LOG_TICKS = [0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000];

/** The steps of a TrainStats, decoded with the engine's record layout (settings().recordFields):
 * one object per step with those fields. */
export function stepRecords(stats, fields) {
  const out = [];
  const flat = stats.records;
  for (let i = 0; i + fields.length <= flat.length; i += fields.length) {
    const r = {};
    fields.forEach((f, j) => { r[f] = flat[i + j]; });
    out.push(r);
  }
  return out;
}

export class LossPlot {
  constructor(canvas) {
    this.canvas = canvas;
    this.steps = []; // [globalStep, reconstruction, kl]
    this.epochs = []; // [globalStep, trainMean, testLoss]
  }

  clear() {
    this.steps = [];
    this.epochs = [];
    this.draw();
  }

  /** Adds steps as `stepRecords` decodes them ({ globalStep, reconstruction, kl }). */
  addSteps(steps) {
    for (const r of steps) this.steps.push([r.globalStep, r.reconstruction, r.kl]);
  }

  /** Drops the points after `step` (training rolled back to it); returns the dropped steps. */
  truncate(step) {
    const keep = this.steps.filter((p) => p[0] <= step);
    const dropped = this.steps.slice(keep.length);
    this.steps = keep;
    this.epochs = this.epochs.filter((e) => e[0] <= step);
    return dropped;
  }

  addEpoch(step, trainMean, testLoss) {
    this.epochs.push([step, trainMean, testLoss]);
  }

  pointCount() {
    return this.steps.length + this.epochs.length;
  }

  draw() {
    const c = this.canvas;
    const [g, cssW, cssH] = sizeCanvas(c, c.clientHeight || 260, 600);
    g.font = "12px system-ui, sans-serif";
    const left = 48, right = 12, top = 10, bottom = 34;
    const w = cssW - left - right, h = cssH - top - bottom;

    // Range by plain loops (a spread of a million values throws RangeError), allocating
    // nothing per point: the plot is redrawn up to 4 times a second while training.
    let lo = Infinity, hi = -Infinity, maxStep = 1;
    const see = (v) => {
      if (v > 0 && Number.isFinite(v)) { if (v < lo) lo = v; if (v > hi) hi = v; }
    };
    for (const list of [this.steps, this.epochs]) {
      for (const p of list) {
        if (p[0] > maxStep) maxStep = p[0];
        see(p[1]);
        see(p[2]);
      }
    }
    if (lo === Infinity) { lo = 1; hi = 1000; }
    lo = Math.max(lo * 0.8, 0.05);
    hi = Math.max(hi * 1.2, lo * 10);
    const x = (s) => left + (s / maxStep) * w;
    const y = (v) => top + h - ((Math.log10(v) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))) * h;

    // grid and y ticks
    g.strokeStyle = COLORS.grid;
    g.fillStyle = COLORS.axis;
    g.textAlign = "right";
    g.textBaseline = "middle";
    for (const t of LOG_TICKS) {
      if (t < lo || t > hi) continue;
      g.beginPath(); g.moveTo(left, y(t)); g.lineTo(left + w, y(t)); g.stroke();
      g.fillText(String(t), left - 6, y(t));
    }
    // x ticks
    g.textAlign = "center";
    g.textBaseline = "top";
    const xStep = niceStep(maxStep / 6);
    for (let s = 0; s <= maxStep; s += xStep) {
      g.beginPath(); g.moveTo(x(s), top + h); g.lineTo(x(s), top + h + 4); g.strokeStyle = COLORS.axis; g.stroke();
      g.fillText(String(s), x(s), top + h + 6);
    }
    g.strokeStyle = COLORS.axis;
    g.beginPath(); g.moveTo(left, top); g.lineTo(left, top + h); g.lineTo(left + w, top + h); g.stroke();
    g.fillText(tr("plot.xlabel"), left + w / 2, top + h + 20);

    // Each line as a band: the lowest and highest value of every pixel column, filled and
    // outlined one pixel wide — the shape of a million steps in two points a column. (A
    // polyline zigzagging through each column's values, stroked 1.5 px wide, drew the same
    // pixels but took ≈ 5 ms to rasterise at every redraw on a CPU, where the band takes ≈ 1.)
    const line = (idx, color) => {
      const cols = [], lows = [], highs = [];
      for (const p of this.steps) {
        const v = p[idx];
        if (!(v > 0) || !Number.isFinite(v)) continue;
        const c = Math.round(x(p[0]));
        const n = cols.length;
        if (n && cols[n - 1] === c) {
          if (v < lows[n - 1]) lows[n - 1] = v;
          if (v > highs[n - 1]) highs[n - 1] = v;
        } else {
          cols.push(c);
          lows.push(v);
          highs.push(v);
        }
      }
      if (!cols.length) return;
      g.strokeStyle = color; g.fillStyle = color; g.lineWidth = 1; g.beginPath();
      g.moveTo(cols[0], y(highs[0]));
      for (let i = 1; i < cols.length; i++) g.lineTo(cols[i], y(highs[i]));
      for (let i = cols.length - 1; i >= 0; i--) g.lineTo(cols[i], y(lows[i]));
      g.closePath();
      g.fill(); g.stroke();
    };
    line(1, COLORS.recon);
    line(2, COLORS.kl);
    const dots = (idx, color) => {
      g.fillStyle = color;
      for (const e of this.epochs) {
        if (!(e[idx] > 0)) continue;
        g.beginPath(); g.arc(x(e[0]), y(e[idx]), 4, 0, 2 * Math.PI); g.fill();
      }
    };
    dots(1, COLORS.train);
    dots(2, COLORS.test);
    if (!this.steps.length && !this.epochs.length) {
      g.fillStyle = COLORS.axis; g.textAlign = "center"; g.textBaseline = "middle";
      g.fillText(tr("plot.empty"), left + w / 2, top + h / 2);
    }
  }
}

function niceStep(raw) {
  const p = Math.pow(10, Math.floor(Math.log10(Math.max(raw, 1))));
  for (const m of [1, 2, 5, 10]) if (m * p >= raw) return m * p;
  return 10 * p;
}
