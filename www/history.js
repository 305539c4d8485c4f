// The per-epoch history, as the seed's script writes files: after each epoch, 128 decodes of
// z ~ N(0, I) (sampled-E.png, 8 per row) and the epoch's last batch beside its reconstructions
// (reconst-E.png, pairs 8 per row) — the CLI's layout, drawn by the same grid code. Each is kept
// as a PNG blob (outside the JS heap), shown in a strip and downloadable.
import { t as tr } from "./i18n.js";
import { $ } from "./dom.js";

const SAMPLES = 128;
const PER_ROW = 8;
const KEEP = 60; // epochs kept (the oldest go first)

function toBlob(canvas) {
  return new Promise((resolve, reject) => canvas.toBlob((b) => (b ? resolve(b) : reject(new Error("the canvas gave no PNG"))), "image/png"));
}

export class History {
  constructor(view, exclusive) {
    this.view = view;
    this.exclusive = exclusive;
    this.entries = []; // { epoch, label, sampled: { blob, url }, reconst: { blob, url } }
    this.scratch = document.createElement("canvas");
  }

  /** Forgets every entry (a new model). */
  clear() {
    for (const e of this.entries) for (const f of [e.sampled, e.reconst]) URL.revokeObjectURL(f.url);
    this.entries = [];
    this.render();
  }

  async png(draw) {
    draw(this.scratch);
    const blob = await toBlob(this.scratch);
    return { blob, url: URL.createObjectURL(blob), width: this.scratch.width, height: this.scratch.height };
  }

  /** Records the model in place after `epoch` (the seed's seed: samples change each epoch). */
  async record(epoch, shipped = false) {
    const taken = await this.take(epoch);
    if (taken) await this.add(epoch, taken, shipped);
  }

  /** What an entry for `epoch` is drawn from, read from the trainer: its 128 samples and its
   * last batch with the reconstructions (null when there is no trainer or no epoch). */
  async take(epoch) {
    const t = this.view.trainer;
    if (!t || !epoch) return null;
    const samples = await this.exclusive(() => t.sample(SAMPLES, epoch));
    const last = await this.exclusive(() => t.lastBatch(epoch));
    return { side: t.imageSide, samples, last };
  }

  /** Draws what `take` read as the epoch's two PNGs and shows the entry (this thread alone:
   * the trainer may go on meanwhile). */
  async add(epoch, { side, samples, last }, shipped = false) {
    const w = this.view.wasm;
    const sampled = await this.png((c) => w.drawGrid(c, samples, side, PER_ROW));
    const reconst = await this.png((c) => w.drawPairs(c, last.pixels, last.reconstruction, side, PER_ROW));
    const old = this.entries.findIndex((e) => e.epoch === epoch);
    if (old >= 0) this.entries.splice(old, 1);
    this.entries.push({ epoch, shipped, sampled, reconst });
    while (this.entries.length > KEEP) {
      const e = this.entries.shift();
      for (const f of [e.sampled, e.reconst]) URL.revokeObjectURL(f.url);
    }
    this.render();
  }

  render() {
    const root = $("history-strip");
    $("history").hidden = this.entries.length === 0;
    const items = this.entries.map((e) => {
      const fig = document.createElement("figure");
      fig.className = "epoch";
      fig.dataset.epoch = String(e.epoch);
      const cap = document.createElement("figcaption");
      cap.textContent = e.shipped ? tr("hist.shipped", e.epoch) : tr("hist.epoch", e.epoch);
      fig.append(cap);
      for (const [kind, f] of [["sampled", e.sampled], ["reconst", e.reconst]]) {
        const a = document.createElement("a");
        a.href = f.url;
        a.download = `${kind}-${e.epoch}.png`;
        a.title = tr(`hist.${kind}`, e.epoch);
        const img = document.createElement("img");
        img.src = f.url;
        img.alt = tr(`hist.${kind}`, e.epoch);
        img.className = kind;
        a.append(img);
        fig.append(a);
      }
      return fig;
    });
    root.replaceChildren(...items);
  }
}
