// The worker: trains (train.js), draws samples on the OffscreenCanvas the page transferred, and
// posts progress with the reconstructions as ImageData (its pixel buffer transferred).
import { train } from "./train.js";

self.onmessage = async ({ data: { steps, canvas } }) => {
  try {
    const done = await train(steps, canvas, (progress, recon) => {
      self.postMessage({ progress, recon }, [recon.data.buffer]);
    });
    self.postMessage({ done });
  } catch (e) {
    self.postMessage({ error: String(e.message || e) });
  }
};
