// A second model trained beside the VAE on the same device, same data and seed, and shown next
// to it — where each puts the test digits' means against the prior N(0, I), their
// reconstructions, what each decodes from z ~ N(0, I), their interpolations and their loss
// curves — plus the KL weight β of the running VAE. The second model is one of TWINS: a plain
// autoencoder (z = μ, no sampling, no KL: Q5) or the same VAE with the reparameterization trick
// switched off (z sampled, no gradient from the reconstruction to μ and σ: Q3).
import { t as tr } from "./i18n.js";
import { stepRecords } from "./plot.js";
import { $, sizeCanvas, DIGIT_COLORS as COLORS } from "./dom.js";
import { activity } from "./stats.js";

const MAP_DIGITS = 500; // test digits placed on each map
const SAMPLES = 24; // decodes of z ~ N(0, I), 8 per row
const SAMPLE_SEED = 11; // the same z for both models
const WALK = 8; // interpolation images
const LINES = { vae: "#1d4ed8", kl: "#b45309", ae: "#111827" };
const RECON = 8; // test digits reconstructed by each model

/** The second model's kinds: its config beside the VAE's, and the suffix of its texts' keys. */
export const TWINS = {
  ae: { config: { variational: false }, texts: "" },
  notrick: { config: { reparameterize: false }, texts: "NoTrick" },
};
/** Elements whose text names the second model (their data-i18n key gets the kind's suffix). */
const TWIN_TEXTS = { "compare-title": "cmp.title", "compare-caption": "cmp.caption", "cmp-twin-title": "cmp.ae", "cmp-legend-twin": "cmp.legendAe", "compare-read": "cmp.readCaption" };

/** The two latent dimensions along which `mu` (rows × L) varies most, and the mean of μ² over
 * every row and dimension (0 … 1-ish under the prior, far above it once the means drift). */
export function latentSummary(mu, L) {
  const n = mu.length / L;
  const mean = new Float64Array(L), sq = new Float64Array(L);
  for (let i = 0; i < n; i++) for (let j = 0; j < L; j++) { const v = mu[i * L + j]; mean[j] += v; sq[j] += v * v; }
  const variance = Array.from(mean, (m, j) => sq[j] / n - (m / n) ** 2);
  const order = variance.map((v, j) => [v, j]).sort((a, b) => b[0] - a[0]).map(([, j]) => j);
  const dims = L >= 2 ? [Math.min(order[0], order[1]), Math.max(order[0], order[1])] : [0, 0];
  const mu2 = sq.reduce((a, b) => a + b, 0) / (n * L);
  return { dims, mu2 };
}

export class Compare {
  /** `exclusive(fn)` queues a trainer call; `report(text, kind)` shows a message. */
  constructor(view, exclusive, report) {
    this.view = view;
    this.exclusive = exclusive;
    this.report = report;
    this.twin = null; // the second model's Trainer
    this.kind = "ae"; // which of TWINS it is
    this.beta = 1;
    this.curves = { vae: [], kl: [], ae: [] }; // [globalStep, per-sample value]
    this.views = null; // { vae, ae }: { mu, labels, dims, mu2 }
    this.test = { vae: NaN, vaeKl: NaN, ae: NaN, aeKl: NaN }; // test reconstruction (and KL) per sample
    this.refreshes = 0;
    $("beta").addEventListener("input", (e) => this.setBeta(Number(e.target.value)));
    // Presets: no pull toward the prior, the seed's loss, and a strong pull.
    // reduction='mean' (β = 784) is past the slider's end: the slider rests there, the number says 784.
    for (const b of document.querySelectorAll("#beta-presets button")) {
      b.addEventListener("click", () => {
        const beta = Number(b.dataset.beta);
        $("beta").value = String(beta);
        if (beta > Number($("beta").max)) this.setBeta(beta);
        else $("beta").dispatchEvent(new Event("input"));
      });
    }
    addEventListener("resize", () => this.draw());
    // Hovering a map decodes the point under the pointer with that map's model (the other
    // dimensions at the test digits' mean): the VAE's map decodes to digits all over the
    // prior's disc, the autoencoder's to smudges in the holes between its clusters.
    this.geometry = {}; // per model: { X⁻¹, Y⁻¹ } of its map as last drawn
    this.hover = { busy: false, next: null };
    for (const name of ["vae", "ae"]) {
      $(`cmp-map-${name}`).addEventListener("mousemove", (e) => this.hoverAt(name, e));
    }
  }

  /** Decodes the map point under the pointer (one decode in flight; the newest waits). */
  async hoverAt(name, e) {
    const g = this.geometry[name], v = this.views && this.views[name];
    const t = name === "vae" ? this.view.trainer : this.twin;
    if (!g || !v || !t) return;
    const r = e.target.getBoundingClientRect();
    const z = Float32Array.from(v.mean);
    z[v.dims[0]] = g.x(e.clientX - r.left);
    z[v.dims[1]] = g.y(e.clientY - r.top);
    this.hover.next = { name, t, z, side: v.side };
    if (this.hover.busy) return;
    this.hover.busy = true;
    try {
      while (this.hover.next) {
        const job = this.hover.next;
        this.hover.next = null;
        const px = await this.exclusive(() => job.t.decode(job.z));
        this.view.wasm.drawGrid($(`cmp-hover-${job.name}`), px, job.side, 1);
        const at = $(`cmp-hover-${job.name}`);
        at.dataset.z = `${job.z[v.dims[0]].toFixed(2)},${job.z[v.dims[1]].toFixed(2)}`;
        at.hidden = false;
      }
    } catch {
      // a model replaced meanwhile: the next hover decodes with the new one
    } finally {
      this.hover.busy = false;
    }
  }

  /** β for the running VAE (from its next step on) and for every VAE built after. */
  async setBeta(beta) {
    this.beta = beta;
    $("beta-value").textContent = beta >= 100 ? String(beta) : beta.toFixed(1);
    const t = this.view.trainer;
    if (!t) return;
    try {
      await this.exclusive(() => t.setKlWeight(beta));
    } catch (e) {
      this.report(`${tr("fail.beta")}: ${e && e.message ? e.message : e}`, "error");
    }
  }

  /** A new VAE `t` was built (inside a queued call): it gets the slider's β; an autoencoder of
   * the old one is dropped. */
  onNewTrainer(t) {
    this.stop();
    if (this.beta !== 1) t.setKlWeight(this.beta).catch((e) => this.report(`${tr("fail.beta")}: ${e.message}`, "error"));
  }

  /** The autoencoder's share of a training chunk: as many steps as the VAE just took. */
  async trainTwin(steps) {
    const twin = this.twin;
    if (!twin) return;
    this.addTwinSteps(await this.exclusive(() => twin.train(steps)));
  }

  /** Reads back the autoencoder's steps in flight. */
  async flushTwin() {
    const twin = this.twin;
    if (twin) this.addTwinSteps(await this.exclusive(() => twin.flush()));
  }

  /** End of an epoch: both test losses (the VAE's `EvalStats` given), then fresh views. The
   * autoencoder's objective is its reconstruction alone: the KL its unused log σ² head would
   * pay is not its loss. */
  async endOfEpoch(vaeEval) {
    const twin = this.twin;
    if (!twin) return;
    await this.flushTwin();
    const ev = await this.exclusive(() => twin.evaluate());
    this.test = { vae: vaeEval.reconstruction, vaeKl: vaeEval.kl, ae: ev.reconstruction, aeKl: ev.kl };
    await this.refresh();
  }

  /** Builds the second model (`kind`, one of TWINS) beside the (fresh) VAE: same settings, β
   * and seed, same device. */
  async attach(config, kind = "ae") {
    if (!TWINS[kind]) throw new Error(`unknown comparison "${kind}"`);
    const vae = this.view.trainer;
    const twin = await this.exclusive(() => this.view.host.createBeside(vae, { ...config, klWeight: this.beta, ...TWINS[kind].config }));
    try {
      await this.exclusive(() => twin.loadDataset(...this.view.dataFiles));
    } catch (e) {
      twin.free();
      throw e;
    }
    this.twin = twin;
    this.setKind(kind);
    this.curves = { vae: [], kl: [], ae: [] };
    this.test = { vae: NaN, vaeKl: NaN, ae: NaN, aeKl: NaN };
    this.views = null;
    $("compare-stop").hidden = false;
    $("compare-body").hidden = false;
    await this.refresh();
  }

  /** Shows a trained second model `twin` (the autoencoder shipped with the page, `info` its
   * record) beside the shipped VAE: the maps, reconstructions, samples and interpolations at
   * once, with both recorded test losses; nothing trains until the visitor starts a run. */
  async showShipped(twin, kind, info, vaeInfo) {
    this.stop();
    this.twin = twin;
    this.setKind(kind);
    this.shipped = info;
    this.curves = { vae: [], kl: [], ae: [] };
    this.test = { vae: vaeInfo.testReconstruction, vaeKl: vaeInfo.testKl, ae: info.testReconstruction, aeKl: info.testKl ?? NaN };
    this.views = null;
    $("compare-body").hidden = false;
    $("compare-shipped").hidden = false;
    await this.refresh();
  }

  /** Names the second model in the section's texts (title, captions, column, legend). */
  setKind(kind) {
    this.kind = kind;
    $("compare-title").dataset.kind = kind;
    for (const [id, key] of Object.entries(TWIN_TEXTS)) {
      $(id).dataset.i18n = key + TWINS[kind].texts;
      $(id).textContent = tr($(id).dataset.i18n);
    }
  }

  /** Drops the second model (the VAE trains on alone). */
  stop() {
    const t = this.twin;
    this.twin = null;
    this.shipped = null;
    $("compare-shipped").hidden = true;
    $("compare-stop").hidden = true;
    $("compare-body").hidden = true;
    if (t) t.free(); // after its running call; a lost device's call leaves it to the collector
  }

  /** The VAE's steps as the scheduler decoded them. */
  addVaeSteps(steps) {
    if (!this.twin) return;
    for (const r of steps) {
      this.curves.vae.push([r.globalStep, r.reconstruction]);
      this.curves.kl.push([r.globalStep, r.kl]);
    }
  }

  addTwinSteps(stats) {
    for (const r of stepRecords(stats, this.view.recordFields)) this.curves.ae.push([r.globalStep, r.reconstruction]);
  }

  /** Reads both models (map, samples, interpolation) and redraws. */
  async refresh() {
    const vae = this.view.trainer, ae = this.twin;
    if (!vae || !ae || !vae.testCount) return;
    const views = {};
    try {
      for (const [name, t] of [["vae", vae], ["ae", ae]]) {
        const { mu, labels } = await this.exclusive(() => t.latentMeans(MAP_DIGITS));
        const side = t.imageSide;
        const samples = await this.exclusive(() => t.sample(SAMPLES, SAMPLE_SEED));
        const n = Math.min(RECON, t.testCount);
        const recon = await this.exclusive(() => t.reconstruct(n));
        const [a, b] = this.view.walkPair;
        const walk = t.testCount > Math.max(a, b) ? await this.exclusive(() => t.latentWalk(a, b, WALK)) : null;
        const mean = new Float32Array(t.latent);
        for (let i = 0; i < labels.length; i++) for (let j = 0; j < t.latent; j++) mean[j] += mu[i * t.latent + j] / labels.length;
        views[name] = { mu, labels, L: t.latent, side, samples, walk, recon, n, mean, active: activity(mu, t.latent).count, ...latentSummary(mu, t.latent) };
      }
    } catch (e) {
      this.report(`${tr("fail.explore")}: ${e && e.message ? e.message : e}`, "error");
      return;
    }
    this.views = views;
    this.refreshes += 1;
    this.draw();
  }

  draw() {
    this.drawCurves();
    if (!this.views) return;
    // One scale for both maps: the autoencoder's drift shows as digits far outside the circles.
    let extent = 3;
    for (const v of Object.values(this.views)) {
      for (let i = 0; i < v.labels.length; i++) {
        extent = Math.max(extent, Math.abs(v.mu[i * v.L + v.dims[0]]), Math.abs(v.mu[i * v.L + v.dims[1]]));
      }
    }
    extent = Math.min(extent * 1.05, 1e6);
    for (const name of ["vae", "ae"]) {
      const v = this.views[name];
      this.geometry[name] = this.drawMap(`cmp-map-${name}`, v, extent);
      this.view.wasm.drawGrid($(`cmp-samples-${name}`), v.samples, v.side, 8);
      if (v.n) this.view.wasm.drawGrid($(`cmp-recon-${name}`), v.recon, v.side, v.n);
      if (v.walk) this.view.wasm.drawGrid($(`cmp-walk-${name}`), v.walk, v.side, WALK);
      $(`cmp-mu2-${name}`).textContent = tr("cmp.mu2", v.mu2.toFixed(2), `z${v.dims[0] + 1}`, `z${v.dims[1] + 1}`) + tr("cmp.active", v.active, v.L);
      const test = this.test[name];
      // The autoencoder's objective is its reconstruction alone; a VAE's (with or without the
      // trick) has a KL term too.
      const twinKl = this.kind === "ae" ? NaN : this.test.aeKl;
      const klValue = name === "vae" ? this.test.vaeKl : twinKl;
      const kl = Number.isFinite(klValue) ? tr("cmp.testKl", klValue.toFixed(2)) : "";
      $(`cmp-test-${name}`).textContent = Number.isFinite(test) ? tr("cmp.test", test.toFixed(2)) + kl : "";
    }
  }

  drawMap(id, v, extent) {
    const [g, w, h] = sizeCanvas($(id), 200);
    const s = Math.min(w, h) / (2 * extent);
    const X = (x) => w / 2 + x * s, Y = (y) => h / 2 - y * s;
    g.strokeStyle = "#9ca3af"; g.lineWidth = 1;
    g.beginPath(); g.moveTo(0, Y(0)); g.lineTo(w, Y(0)); g.moveTo(X(0), 0); g.lineTo(X(0), h); g.stroke();
    g.globalAlpha = 0.7;
    const [a, b] = v.dims;
    for (let i = 0; i < v.labels.length; i++) {
      g.fillStyle = COLORS[v.labels[i] % 10];
      g.beginPath(); g.arc(X(v.mu[i * v.L + a]), Y(v.mu[i * v.L + b]), 1.7, 0, 2 * Math.PI); g.fill();
    }
    g.globalAlpha = 1;
    // The prior N(0, I): its 1σ and 2σ circles, over the points.
    g.strokeStyle = "#111827"; g.lineWidth = 1.5;
    for (const r of [1, 2]) { g.beginPath(); g.arc(X(0), Y(0), r * s, 0, 2 * Math.PI); g.stroke(); }
    g.fillStyle = "#4b5563";
    g.textAlign = "right"; g.fillText(`z${a + 1} →  ±${extent.toFixed(1)}`, w - 4, h - 4);
    g.textAlign = "left"; g.fillText(`z${b + 1} ↑`, 4, 12);
    // Canvas (CSS pixels) back to latent coordinates, for hovering.
    return { x: (px) => (px - w / 2) / s, y: (py) => (h / 2 - py) / s };
  }

  /** Reconstruction per sample of both models and the VAE's KL, per step, log y. */
  drawCurves() {
    const [g, w, h] = sizeCanvas($("cmp-curves"), 170);
    const series = Object.entries(this.curves).filter(([, s]) => s.length);
    if (!series.length) return;
    let x1 = 1, y0 = Infinity, y1 = -Infinity;
    for (const [, s] of series) for (const [x, y] of s) {
      x1 = Math.max(x1, x);
      if (y > 0 && Number.isFinite(y)) { y0 = Math.min(y0, y); y1 = Math.max(y1, y); }
    }
    if (!(y1 > y0)) { y0 = 1; y1 = 1000; }
    const [l0, l1] = [Math.log10(y0) - 0.05, Math.log10(y1) + 0.05];
    const left = 34, bottom = 16;
    const X = (x) => left + (x / x1) * (w - left - 6), Y = (y) => (h - bottom) - ((Math.log10(y) - l0) / (l1 - l0)) * (h - bottom - 6);
    g.strokeStyle = "#e5e7eb"; g.fillStyle = "#4b5563"; g.textAlign = "right";
    for (const v of [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000]) {
      if (Math.log10(v) < l0 || Math.log10(v) > l1) continue;
      g.beginPath(); g.moveTo(left, Y(v)); g.lineTo(w, Y(v)); g.stroke();
      g.fillText(String(v), left - 4, Y(v) + 4);
    }
    g.textAlign = "center"; g.fillText(tr("cmp.steps", x1), w / 2, h - 3);
    for (const [name, s] of series) {
      g.strokeStyle = LINES[name]; g.lineWidth = 1.5;
      g.beginPath();
      const every = Math.max(1, Math.floor(s.length / 600));
      let started = false;
      for (let i = 0; i < s.length; i += every) {
        const [x, y] = s[i];
        if (!(y > 0)) continue;
        if (started) g.lineTo(X(x), Y(y)); else { g.moveTo(X(x), Y(y)); started = true; }
      }
      g.stroke();
    }
  }
}
