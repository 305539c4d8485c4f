// One training run for the worker example, the same in a worker and on the page: `steps` steps
// of a 784-400-20 VAE at batch 128 on generated digits; `report(stats, samples, recon)` after
// each chunk of 8 steps (pixels as ImageData or drawn on `samplesCanvas`).
import init, { Trainer, drawGrid, gridImage } from "vae-webgpu";
import { digits } from "../digits.js";

export async function train(steps, samplesCanvas, report) {
  await init();
  const trainer = await Trainer.create({ batchSize: 128 });
  await trainer.loadDataset(...digits(2048, 1), ...digits(128, 2));
  const t0 = performance.now();
  while (trainer.globalStep < steps) {
    await trainer.train(Math.min(8, steps - trainer.globalStep));
    const stats = await trainer.flush();
    drawGrid(samplesCanvas, await trainer.sample(16, 1), trainer.imageSide, 8);
    const recon = gridImage(await trainer.reconstruct(8), trainer.imageSide, 8);
    report({ step: trainer.globalStep, loss: stats.reconstruction + stats.kl }, recon);
  }
  const ms = performance.now() - t0;
  trainer.free();
  return { steps, ms, samplesPerSec: (steps * 128 * 1000) / ms };
}
