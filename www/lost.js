// When the GPU device is lost (driver reset, GPU process crash, device.destroy()), every call on
// the trainer fails: this panel offers the checkpoint kept in memory and a new device to go on.

import { t as tr } from "./i18n.js";
import { $ } from "./dom.js";


/** Saves `bytes` as a download named `name`. */
export function saveBytes(bytes, name) {
  const a = document.createElement("a");
  a.href = URL.createObjectURL(new Blob([bytes], { type: "application/octet-stream" }));
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
}

export class LostPanel {
  /** `onResume()` builds a trainer on a new device from the kept checkpoint. */
  constructor(view, onResume) {
    this.view = view;
    $("lost-download").addEventListener("click", () => saveBytes(view.kept.bytes, `vae-step-${view.kept.step}.safetensors`));
    $("lost-resume").addEventListener("click", onResume);
  }

  /** Shows why the device was lost and what is kept. */
  show(reason) {
    const kept = this.view.kept;
    $("lost-detail").textContent = tr("lost.detail", reason);
    $("lost-kept").textContent = kept
      ? tr("lost.kept", kept.step, (kept.bytes.length / 1e6).toFixed(1))
      : tr("lost.none");
    $("lost-download").disabled = !kept;
    $("lost-resume").disabled = !kept;
    $("lost").hidden = false;
  }

  hide() {
    $("lost").hidden = true;
  }
}
