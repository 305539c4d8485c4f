// Autosave: the run in this origin's private storage (IndexedDB), so that closing or reloading
// the tab loses at most the last SAVE_MS of training. One run is kept: each save replaces it
// (and the uploaded data it trained on, kept once under its digest). Every entry carries a
// SHA-256 of its contents; a corrupt or foreign entry is discarded with the reason, never
// loaded. Where storage is unavailable (some private windows) or full, saving is off and the
// page says so; nothing else changes.

const DB = "vae-webgpu";
const STORE = "autosave";
const RUN = "run"; // the one run kept
const FORMAT = "vae-webgpu autosave 1";
/** The most data (uploaded IDX files, bytes) kept beside a run; over it the run is not saved. */
export const MAX_DATA_BYTES = 160 << 20;

/** Why an entry cannot be loaded (it is discarded). */
export class BadEntry extends Error {}

function request(r) {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error || new Error("IndexedDB request failed"));
  });
}

function done(tx) {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error || new Error("IndexedDB transaction failed"));
    tx.onabort = () => reject(tx.error || new Error("IndexedDB transaction aborted"));
  });
}

/** The digest of four data files (cached per files array: each is hashed once). */
const dataDigests = new WeakMap();
function dataDigest(files) {
  let d = dataDigests.get(files);
  if (!d) {
    d = Promise.all(files.map(sha256)).then((each) => sha256(new TextEncoder().encode(each.join(","))));
    dataDigests.set(files, d);
  }
  return d;
}

const hex = (buf) => [...new Uint8Array(buf)].map((b) => b.toString(16).padStart(2, "0")).join("");

/** SHA-256 of `bytes` in hex (computed off this thread by the browser). */
async function sha256(bytes) {
  return hex(await crypto.subtle.digest("SHA-256", bytes));
}

/** The digest of an entry: of its fields (JSON, the byte arrays by their own digests). */
async function entryDigest(e) {
  const parts = {};
  for (const k of ["checkpoint", "adam", "plotSteps", "plotEpochs"]) {
    if (!ArrayBuffer.isView(e[k])) throw new BadEntry(`its ${k} is missing`);
    parts[k] = await sha256(e[k]);
  }
  const fields = { format: e.format, savedAt: e.savedAt, config: e.config, engine: e.engine, data: e.data, position: e.position };
  return sha256(new TextEncoder().encode(JSON.stringify([fields, parts])));
}

const isWhole = (n) => Number.isInteger(n) && n >= 0;

/** Checks what the page relies on before anything is loaded; throws BadEntry saying what. */
function checkShape(e) {
  if (!e || typeof e !== "object") throw new BadEntry("it is not an object");
  if (e.format !== FORMAT) throw new BadEntry(`it is of another format (${String(e.format).slice(0, 40)})`);
  const p = e.position;
  if (!p || !["epoch", "stepInEpoch", "globalStep"].every((k) => isWhole(p[k]))) throw new BadEntry("its position is not whole numbers");
  if (!e.config || typeof e.config !== "object") throw new BadEntry("it has no settings");
  if (!["auto", "webgpu", "cpu"].includes(e.engine)) throw new BadEntry(`its engine "${e.engine}" is unknown`);
  const d = e.data;
  if (!d || !(d.kind === "mnist" || (d.kind === "files" && typeof d.digest === "string"))) throw new BadEntry("it does not say which data it trained on");
  if (!(e.plotSteps instanceof Float64Array) || e.plotSteps.length % 3) throw new BadEntry("its loss history is malformed");
  if (!(e.plotEpochs instanceof Float64Array) || e.plotEpochs.length % 3) throw new BadEntry("its loss history is malformed");
}

export class Autosave {
  constructor() {
    this.db = null;
    /** Why saving is off (a string), or null while it works. */
    this.off = null;
    /** What saving costs: `{ saves, lastMs, totalMs, bytes, putMs }` — the last save's time from
     * start to committed (mostly off this thread: hashing, the disk) and the longest copy
     * into the store on this thread. */
    this.stats = { saves: 0, lastMs: 0, totalMs: 0, bytes: 0, putMs: 0 };
    this.putMs = 0;
  }

  /** Opens the store; on failure saving is off (`off` says why) and everything else goes on. */
  async open() {
    try {
      if (typeof indexedDB === "undefined") throw new Error("this browser has no IndexedDB");
      if (!globalThis.crypto || !crypto.subtle) throw new Error("this page is not a secure context (no SHA-256 to check saved runs)");
      const r = indexedDB.open(DB, 1);
      r.onupgradeneeded = () => r.result.createObjectStore(STORE);
      this.db = await request(r);
      this.db.onversionchange = () => this.db.close();
    } catch (e) {
      this.off = e && e.message ? e.message : String(e);
    }
    return this;
  }

  async #get(key) {
    const tx = this.db.transaction(STORE, "readonly");
    return request(tx.objectStore(STORE).get(key));
  }

  /** Writes `puts` ([key, value]) and deletes `deletes` in one transaction. */
  async #write(puts, deletes = []) {
    const tx = this.db.transaction(STORE, "readwrite");
    const store = tx.objectStore(STORE);
    for (const k of deletes) store.delete(k);
    // put() copies the value on this thread (a structured clone): the one synchronous part.
    const began = performance.now();
    for (const [k, v] of puts) store.put(v, k);
    this.putMs = performance.now() - began;
    await done(tx);
  }

  /**
   * Saves the run: `{ config, engine, data: { kind: "mnist" } | { kind: "files", files },
   * position: { epoch, stepInEpoch, globalStep }, checkpoint, adam, plotSteps, plotEpochs }`
   * (the plot's points flattened: [step, reconstruction, kl]… and [step, train, test]…). Returns true, or false with `off` set when storage refused (full, or gone):
   * saving stays off for this page.
   */
  async save(run) {
    if (!this.db || this.off) return false;
    const began = performance.now();
    try {
      const { files, ...data } = run.data;
      const puts = [];
      let deletes = [];
      if (data.kind === "files") {
        const size = files.reduce((n, f) => n + f.length, 0);
        if (size > MAX_DATA_BYTES) throw new Error(`the data (${(size / 1e6).toFixed(0)} MB) is over the ${MAX_DATA_BYTES >> 20} MiB kept beside a run`);
        data.digest = await dataDigest(files);
        const key = `data:${data.digest}`;
        // Written once per dataset; other datasets go (one run, one dataset).
        const keys = await request(this.db.transaction(STORE, "readonly").objectStore(STORE).getAllKeys());
        deletes = keys.filter((k) => typeof k === "string" && k.startsWith("data:") && k !== key);
        if (!keys.includes(key)) puts.push([key, { files, digest: data.digest }]);
      } else {
        const keys = await request(this.db.transaction(STORE, "readonly").objectStore(STORE).getAllKeys());
        deletes = keys.filter((k) => typeof k === "string" && k.startsWith("data:"));
      }
      const entry = { ...run, data, format: FORMAT, savedAt: Date.now() };
      entry.digest = await entryDigest(entry);
      puts.push([RUN, entry]);
      await this.#write(puts, deletes);
      const ms = performance.now() - began;
      this.stats = { saves: this.stats.saves + 1, lastMs: ms, totalMs: this.stats.totalMs + ms, bytes: entry.checkpoint.length + entry.adam.length + entry.plotSteps.byteLength + entry.plotEpochs.byteLength, putMs: Math.max(this.stats.putMs, this.putMs) };
      return true;
    } catch (e) {
      this.off = e && e.name === "QuotaExceededError" ? `storage is full (${e.message})` : e && e.message ? e.message : String(e);
      return false;
    }
  }

  /**
   * The run kept, checked: `{ entry }` (with `entry.data.files` for uploaded data), `{
   * discarded: reason }` (it was corrupt or foreign and is deleted now), or null (none).
   */
  async load() {
    if (!this.db) return null;
    let entry;
    try {
      entry = await this.#get(RUN);
      if (entry === undefined) return null;
      checkShape(entry);
      if ((await entryDigest(entry)) !== entry.digest) throw new BadEntry("its contents do not match its checksum (damaged)");
      if (entry.data.kind === "files") {
        const d = await this.#get(`data:${entry.data.digest}`);
        if (!d || !Array.isArray(d.files) || d.files.length !== 4 || !d.files.every((f) => f instanceof Uint8Array)) throw new BadEntry("the data it trained on is missing");
        if ((await dataDigest(d.files)) !== entry.data.digest) throw new BadEntry("the data it trained on is damaged");
        entry.data = { ...entry.data, files: d.files };
      }
      return { entry };
    } catch (e) {
      const reason = e instanceof BadEntry ? e.message : `it could not be read (${e && e.message ? e.message : e})`;
      await this.clear();
      return { discarded: reason };
    }
  }

  /** Deletes the run kept (and its data). */
  async clear() {
    if (!this.db) return;
    try {
      const keys = await request(this.db.transaction(STORE, "readonly").objectStore(STORE).getAllKeys());
      await this.#write([], keys);
    } catch {
      // nothing kept is loaded without its checksum anyway
    }
  }

  /** Whether saves can happen (the store opened and nothing refused a save). */
  get on() {
    return !!this.db && !this.off;
  }
}
