// Data for the trainer: MNIST fetched with progress, or four IDX files the user drops or picks,
// told apart by their names. File names come from the engine (settings().idxFiles).
import { t as tr } from "./i18n.js";

/** Largest file accepted from the user (MNIST's largest is 47 MB raw). */
export const MAX_FILE_BYTES = 128 << 20;

async function fetchWithProgress(url, onBytes) {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  const reader = res.body.getReader();
  const chunks = [];
  let n = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    n += value.length;
    onBytes(value.length);
  }
  const out = new Uint8Array(n);
  let at = 0;
  for (const c of chunks) { out.set(c, at); at += c.length; }
  return out;
}

/** MNIST's four gzip files from data/, the test set first, with `progress(fraction)` as bytes
 * arrive, the training set once `after` resolves (the page's first picture: on a slow link it
 * would share the bandwidth with what that picture needs): `{ test, all }`, two promises.
 * `test` (1.6 MB) is enough to show a model: its files
 * stand in for the training set too (`partial`: nothing may train on it); `all` is the whole
 * of MNIST once the training set (9.7 MB) is in. */
export function loadMnist(settings, progress, after = Promise.resolve()) {
  const total = 11.4e6; // approximate gzip sizes of the four files together
  let got = 0;
  const get = (f) => fetchWithProgress(`data/${f}.gz`, (b) => {
    got += b;
    progress(Math.min(1, got / total));
  });
  const [trainImages, trainLabels, testImages, testLabels] = settings.idxFiles;
  const test = (async () => [await get(testImages), await get(testLabels)])();
  const all = Promise.all([test, after]).then(async ([[ti, tl]]) => {
    const files = [await get(trainImages), await get(trainLabels), ti, tl];
    progress(1);
    return { kind: "mnist", files, label: () => tr("data.mnist") };
  });
  return {
    test: test.then(([ti, tl]) => ({ kind: "mnist", partial: true, files: [ti, tl, ti, tl], label: () => tr("data.mnistTest") })),
    all,
  };
}

/** Which of the four files (0 train images … 3 test labels) `name` is, or -1. */
function classify(name) {
  const n = name.toLowerCase();
  const images = n.includes("images") || n.includes("idx3");
  const labels = n.includes("labels") || n.includes("idx1");
  const test = n.includes("t10k") || n.includes("test");
  if (images === labels) return -1;
  return (test ? 2 : 0) + (labels ? 1 : 0);
}

/** The bytes of four user files in the trainer's order; throws a readable error otherwise. */
export async function readIdxFiles(files) {
  if (files.length !== 4) throw new Error(tr("err.fourFiles", files.length));
  const slots = [null, null, null, null];
  for (const f of files) {
    const k = classify(f.name);
    if (k < 0 || slots[k]) throw new Error(tr("err.whichFile", f.name));
    if (f.size > MAX_FILE_BYTES) throw new Error(tr("err.tooBig", f.name, (f.size / 1e6).toFixed(0), MAX_FILE_BYTES >> 20));
    slots[k] = new Uint8Array(await f.arrayBuffer());
  }
  return { kind: "files", files: slots, label: () => tr("data.yours", files.length) };
}
