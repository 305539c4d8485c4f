// The settings form, built from the engine's defaults and limits (settings()): one source for
// what the form offers, what the trainer accepts and what the CLI defaults to.

import { t as tr } from "./i18n.js";
import { $ } from "./dom.js";

// Form input id → config field.
const FIELDS = { epochs: "epochs", batch: "batchSize", lr: "lr", hidden: "hidden", latent: "latent", seed: "seed" };

/** Sets every input's default, min and max from `settings`; wires the latent presets. */
export function buildForm(settings) {
  for (const [id, key] of Object.entries(FIELDS)) {
    const el = $(id);
    const { min, max } = settings.limits[key];
    el.min = String(min);
    el.max = String(max);
    el.value = String(settings.defaults[key]);
  }
  $("preset-2").addEventListener("click", () => { $("latent").value = "2"; });
  $("preset-20").addEventListener("click", () => { $("latent").value = String(settings.defaults.latent); });
}

/** The config the form describes; throws a readable error for an empty or out-of-range field
 * (the model in hand is kept). */
export function readConfig(settings) {
  const config = {};
  for (const [id, key] of Object.entries(FIELDS)) {
    const el = $(id);
    const label = tr(`field.${key}`);
    const v = Number(el.value);
    const { min, max } = settings.limits[key];
    if (el.value.trim() === "" || !Number.isFinite(v)) throw new Error(tr("err.number", label));
    if (v < min || v > max) throw new Error(tr("err.range", label, v, min, max));
    if (key !== "lr" && !Number.isInteger(v)) throw new Error(tr("err.whole", label, v));
    config[key] = v;
  }
  return config;
}

/** Puts a config's fields into the form (a saved run's settings). */
export function writeConfig(config) {
  for (const [id, key] of Object.entries(FIELDS)) if (key in config) $(id).value = String(config[key]);
}

/** Enables or disables the form and the presets. */
export function setFormDisabled(disabled) {
  for (const el of $("config").elements) el.disabled = disabled;
  $("preset-2").disabled = $("preset-20").disabled = disabled;
}
