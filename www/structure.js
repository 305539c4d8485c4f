// The model's structure, drawn from the live trainer (follows hidden/latent changes): the seed's
// blocks fc1 … fc5 grouped as encode, reparameterize and decode, each with the WGSL entry points
// that run it on this adapter and, once measured (profileStep), its milliseconds per step.
import { t as tr } from "./i18n.js";
import { $ } from "./dom.js";


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
  constructor(ui, exclusive, report) {
    this.ui = ui;
    this.exclusive = exclusive;
    this.report = report;
    this.timings = null; // { step_ms, byName: Map(name → ms), key }
    this.key = "";
    $("profile").addEventListener("click", () => this.profile());
  }

  /** The trainer's sizes and GEMM form: a profile is valid for that key only. */
  trainerKey() {
    const t = this.ui.trainer;
    return t ? `${t.input}-${t.hidden}-${t.latent}-${t.gemmForm}` : "";
  }

  /** Measures every stage's milliseconds per step (on a model of its own; training waits). */
  async profile() {
    const t = this.ui.trainer;
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

  draw() {
    const t = this.ui.trainer;
    const root = $("structure-blocks");
    if (!t) return;
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
