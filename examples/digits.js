// Generated digit-like images as the four IDX files' bytes (MNIST's format), for the examples:
// `digits(n, seed)` → [images, labels].
export function digits(n, seed) {
  const idx = (dims, data) => {
    const out = new Uint8Array(4 + 4 * dims.length + data.length);
    const view = new DataView(out.buffer);
    out[2] = 8;
    out[3] = dims.length;
    dims.forEach((d, i) => view.setUint32(4 + 4 * i, d));
    out.set(data, 4 + 4 * dims.length);
    return out;
  };
  const img = new Uint8Array(n * 784), lab = new Uint8Array(n);
  let s = seed;
  const rnd = () => (s = (s * 1103515245 + 12345) >>> 0) / 4294967296;
  for (let k = 0; k < n; k++) {
    const c = Math.floor(rnd() * 10);
    lab[k] = c;
    for (let y = 0; y < 28; y++) for (let x = 0; x < 28; x++) {
      const r = Math.hypot(x - 14, y - 14);
      const on = Math.abs(r - 5 - c / 2) < 1.5 || (Math.abs(x - 14 - (c - 5)) < 1.5 && r < 9);
      img[k * 784 + y * 28 + x] = on ? 200 : 0;
    }
  }
  return [idx([n, 28, 28], img), idx([n], lab)];
}
