// The model's structure, drawn from the live trainer (follows the batch size, hidden and latent):
// a figure (SVG) of the seed's VAE — x → fc1 → h → fc2/fc3 → μ, log σ² → z = μ + σ·ε (ε from
// N(0, I)) → fc4 → h → fc5 → x̂, with batch shapes, the seed's code line at each block, and the
// loss's two terms (BCE from x and x̂, KL from μ and log σ²) — and under it, in a collapsible
// detail, the blocks fc1 … fc5 with the WGSL entry points that run each on this adapter and,
// once measured (profileStep), its milliseconds per step.
import { t as tr } from "./i18n.js";
import { $ } from "./dom.js";


const SVG = "http://www.w3.org/2000/svg";

/** An SVG element `name` with `attrs` (and `text`), appended to `parent`. */
function svgEl(parent, name, attrs = {}, text = null) {
  const e = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== null) e.textContent = text;
  parent.append(e);
  return e;
}

/**
 * Draws the seed's VAE into `svg` top to bottom for a trainer of `t`'s sizes at batch size `B`:
 * one node per tensor or layer with its shape, the seed's code line beside each layer, ε entering
 * the reparameterization from the side, and the loss's two terms as dashed lines (BCE from x and
 * x̂, KL from μ and log σ²) into their sum.
 */
function drawFigure(svg, t, B) {
  const [I, H, L] = [t.input, t.hidden, t.latent];
  const vae = t.variational;
  const rowH = 50, h = 36, top = 10, cx = 250, w = 190, codeX = 400;
  const y = (r) => top + r * rowH;
  const W = 775, Ht = y(13) + 22;
  svg.replaceChildren();
  svg.setAttribute("viewBox", `0 0 ${W} ${Ht}`);
  const defs = svgEl(svg, "defs");
  const marker = svgEl(defs, "marker", { id: "st-arrow", viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse" });
  svgEl(marker, "path", { d: "M 0 0 L 10 5 L 0 10 z", fill: "#374151" });
  const node = (cls, x, r, width, name, shape, key) => {
    const g = svgEl(svg, "g", { class: `node ${cls}`, "data-node": key });
    svgEl(g, "rect", { x: x - width / 2, y: y(r), width, height: h, rx: 6 });
    svgEl(g, "text", { x, y: y(r) + 15, "text-anchor": "middle", class: "name" }, name);
    svgEl(g, "text", { x, y: y(r) + 30, "text-anchor": "middle", class: "shape" }, shape);
    return g;
  };
  const code = (r, text, x = codeX, dy = 22) => svgEl(svg, "text", { x, y: y(r) + dy, class: "code" }, text);
  const line = (points, cls = "flow", arrow = true) => svgEl(svg, "polyline", {
    points: points.map((p) => p.join(",")).join(" "), class: cls, ...(arrow ? { "marker-end": "url(#st-arrow)" } : {}),
  });
  const down = (r, x = cx, x2 = x) => line([[x, y(r) + h], [x2, y(r + 1)]]);
  const shape = (n) => `[${B}, ${n}]`;

  node("data", cx, 0, w, "x", shape(I), "x");
  code(0, "x = x.view(-1, image_size)");
  down(0);
  node("enc", cx, 1, w, "fc1 + ReLU", `${I} → ${H}`, "fc1");
  code(1, "h = F.relu(self.fc1(x))");
  down(1);
  node("data", cx, 2, w, "h", shape(H), "h1");
  const [mx, lx, bw] = [190, 310, 112];
  down(2, cx, mx);
  down(2, cx, lx);
  node("enc", mx, 3, bw, "fc2", `${H} → ${L}`, "fc2");
  node("enc", lx, 3, bw, "fc3", `${H} → ${L}`, "fc3");
  code(3, "return self.fc2(h), self.fc3(h)");
  down(3, mx);
  down(3, lx);
  node("enc", mx, 4, bw, "μ (mu)", shape(L), "mu");
  node("enc", lx, 4, bw, "log σ²", shape(L), "logvar");
  line([[mx, y(4) + h], [cx - 30, y(5)]]);
  line([[lx, y(4) + h], [cx + 30, y(5)]]);
  if (vae) {
    node("rep", cx, 5, w, "z = μ + σ·ε", "σ = exp(½·log σ²)", "reparam");
    code(5, "z = mu + torch.exp(log_var/2) * eps");
    node("noise", 78, 5, 116, "ε ~ N(0, I)", shape(L), "eps");
    line([[136, y(5) + h / 2], [cx - w / 2, y(5) + h / 2]]);
  } else {
    node("rep", cx, 5, w, "z = μ", tr("st.fig.ae"), "reparam");
    code(5, "z = mu");
  }
  down(5);
  node("data", cx, 6, w, "z", shape(L), "z");
  down(6);
  node("dec", cx, 7, w, "fc4 + ReLU", `${L} → ${H}`, "fc4");
  code(7, "h = F.relu(self.fc4(z))");
  down(7);
  node("data", cx, 8, w, "h", shape(H), "h4");
  down(8);
  node("dec", cx, 9, w, "fc5 + sigmoid", `${H} → ${I}`, "fc5");
  code(9, "x_reconst = F.sigmoid(self.fc5(h))");
  down(9);
  node("data", cx, 10, w, "x̂ (x_reconst)", shape(I), "xhat");
  // The loss: BCE from x and x̂ …
  node("loss", cx, 11, w, "BCE", tr("st.fig.bce"), "bce");
  line([[cx, y(10) + h], [cx, y(11)]], "lossline");
  line([[cx - w / 2, y(0) + h / 2], [8, y(0) + h / 2], [8, y(11) + h / 2], [cx - w / 2, y(11) + h / 2]], "lossline");
  // … KL from μ and log σ² (none for an autoencoder) …
  const kx = 680;
  if (vae) {
    node("loss", kx, 4, 170, "KL", tr("st.fig.kl"), "kl");
    line([[mx, y(4)], [mx, y(4) - 6], [lx + bw / 2 + 14, y(4) - 6], [lx + bw / 2 + 14, y(4) + h / 2], [kx - 85, y(4) + h / 2]], "lossline");
    line([[lx + bw / 2, y(4) + h / 2], [lx + bw / 2 + 14, y(4) + h / 2]], "lossline", false);
    line([[kx, y(4) + h], [kx, y(11)]], "lossline");
  }
  // … and their sum, the loss the optimizer minimises.
  node("loss", kx, 11, 170, vae ? "BCE + β·KL" : "BCE", tr("st.fig.total"), "total");
  line([[cx + w / 2, y(11) + h / 2], [kx - 85, y(11) + h / 2]], "lossline");
  code(12, "reconst_loss = F.binary_cross_entropy(x_reconst, x, reduction='sum')", 20, 16);
  if (vae) code(12, "kl_div = -0.5 * torch.sum(1 + log_var - mu.pow(2) - log_var.exp())", 20, 34);
  code(13, "loss = reconst_loss + kl_div  # β = 1 in the seed", 20, 14);
}

/** The stages (model.rs Stage::name) that run fc2|fc3 → z → fc4 and back. */
const LATENT = ["fc2|fc3 · z · fc4 forward", "fc2|fc3 · z · fc4 backward"];

/** The blocks of the seed's VAE for a trainer's sizes: [key, group, stage names]. */
function blocks(t) {
  const [I, H, L] = [t.input, t.hidden, t.latent];
  return [
    { key: "x", group: "data", shape: `${I}`, stages: ["gather"] },
    { key: "fc1", group: "encode", shape: `${I} → ${H}`, stages: ["fc1 forward", "fc1 backward"] },
    // fc2|fc3, z and fc4 run as one stage each way (latent.wgsl on the GPU): one time for all three.
    { key: "fc23", group: "encode", shape: `${H} → ${L} + ${L}`, stages: LATENT, fused: true },
    { key: "reparam", group: "reparameterize", shape: `${L}`, stages: LATENT, fused: true },
    { key: "fc4", group: "decode", shape: `${L} → ${H}`, stages: LATENT, fused: true },
    { key: "fc5", group: "decode", shape: `${H} → ${I}`, stages: ["fc5 forward", "fc5 backward"] },
    { key: "loss", group: "loss", shape: "", stages: ["loss"] },
    { key: "adam", group: "adam", shape: "", stages: ["adam"] },
  ];
}

export class Structure {
  constructor(view, exclusive, report) {
    this.view = view;
    this.exclusive = exclusive;
    this.report = report;
    this.timings = null; // { step_ms, byName: Map(name → ms), key }
    this.key = "";
    $("profile").addEventListener("click", () => this.profile());
  }

  /** The trainer's sizes and GEMM form: a profile is valid for that key only. */
  trainerKey() {
    const t = this.view.trainer;
    return t ? `${t.input}-${t.hidden}-${t.latent}-${t.gemmForm}` : "";
  }

  /** Measures every stage's milliseconds per step (on a model of its own; training waits). */
  async profile() {
    const t = this.view.trainer;
    if (!t) return;
    $("profile").disabled = true;
    $("profile-status").textContent = tr("st.measuring");
    try {
      const p = await this.exclusive(() => t.profileStep());
      const byName = new Map(p.stages.map((s) => [s.name, s.ms]));
      this.timings = { stepMs: p.stepMs, batch: p.batch, byName, key: this.trainerKey() };
      $("profile-status").textContent = "";
    } catch (e) {
      $("profile-status").textContent = "";
      this.report(`${tr("fail.profile")}: ${e && e.message ? e.message : e}`, "error");
    } finally {
      $("profile").disabled = false;
    }
    this.draw();
  }

  /** The batch size of the trainer in hand (its config; the page's form before any). */
  batchSize() {
    const config = this.view.config;
    return config ? config.batchSize : 128;
  }

  draw() {
    const t = this.view.trainer;
    const root = $("structure-blocks");
    if (!t) return;
    drawFigure($("structure-svg"), t, this.batchSize());
    const key = this.trainerKey();
    const timed = this.timings && this.timings.key === key ? this.timings : null;
    // The stages' kernels come from the trainer (in its worker): asked once per trainer, then
    // drawn again.
    if (!this.kernels || this.kernels.trainer !== t) {
      const asked = { trainer: t, byName: new Map() };
      this.kernels = asked;
      t.stageKernels().then((list) => {
        asked.byName = new Map(list.map((s) => [s.name, s.kernels]));
        if (this.kernels === asked) this.draw();
      }, () => {});
    }
    const kernels = this.kernels.byName;
    const items = [];
    for (const b of blocks(t)) {
      const el = document.createElement("div");
      el.className = `block ${b.group}`;
      el.dataset.block = b.key;
      const head = document.createElement("div");
      head.className = "block-head";
      head.innerHTML = `<b></b> <span class="muted"></span>`;
      head.children[0].textContent = tr(`st.${b.key}`);
      head.children[1].textContent = b.shape;
      const code = document.createElement("code");
      code.className = "block-code";
      code.textContent = tr(`st.${b.key}.code`, b.key === "adam" ? Number(t.learningRate.toPrecision(6)) : t.variational);
      const ks = document.createElement("ul");
      ks.className = "kernels";
      const names = new Set();
      for (const st of b.stages) for (const k of kernels.get(st) || []) names.add(k);
      for (const k of names) {
        const li = document.createElement("li");
        li.textContent = k;
        ks.append(li);
      }
      const ms = document.createElement("div");
      ms.className = "block-ms";
      if (names.size === 0) {
        // The fused step form computes the loss in fc5's forward kernel: its time is fc5's.
        ms.textContent = tr("st.inFc5");
      } else if (timed) {
        const v = b.stages.map((s) => timed.byName.get(s) || 0).reduce((a, c) => a + c, 0);
        ms.textContent = tr(b.fused ? "st.msFused" : "st.ms", v.toFixed(3));
        ms.dataset.ms = String(v);
      } else {
        ms.textContent = tr("st.notTimed");
      }
      el.append(head, code, ks, ms);
      items.push(el);
    }
    root.replaceChildren(...items);
    $("structure-total").textContent = timed ? tr("st.total", timed.stepMs.toFixed(2), timed.batch) : "";
    $("structure-groups").textContent = tr("st.groups", t.input, t.hidden, t.latent, t.gemmForm);
  }
}
