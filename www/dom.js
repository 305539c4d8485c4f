// What every panel shares, with no state of its own: an element by id, a canvas sized to its
// CSS box at the screen's pixel ratio, and the ten digit classes' colours.

/** The element with id `id`. */
export const $ = (id) => document.getElementById(id);

/** One colour per digit class 0–9 (the latent map, the comparison's maps, the legend). */
export const DIGIT_COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];

/**
 * Sizes canvas `c` to its CSS width (`fallbackW` while it has none) × `cssH` CSS pixels (its CSS
 * height, else square, when not given) in device pixels, and returns `[context, w, h]`: the
 * context cleared, drawing in CSS pixels, with the panels' 11px font.
 */
export function sizeCanvas(c, cssH, fallbackW = 240) {
  const dpr = window.devicePixelRatio || 1;
  const w = c.clientWidth || fallbackW;
  const h = cssH ?? (c.clientHeight || w);
  if (c.width !== Math.round(w * dpr) || c.height !== Math.round(h * dpr)) {
    c.width = Math.round(w * dpr);
    c.height = Math.round(h * dpr);
  }
  const g = c.getContext("2d");
  g.setTransform(dpr, 0, 0, dpr, 0, 0);
  g.clearRect(0, 0, w, h);
  g.font = "11px system-ui, sans-serif";
  return [g, w, h];
}
