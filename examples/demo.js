// What every example does with the package it imported by name: train a small model on
// generated digits, draw samples, and report on the page (and to the test, as window.exampleResult).
import { digits } from "./digits.js";

export async function demo({ default: init, Trainer, drawGrid }) {
  const status = document.getElementById("status");
  try {
    await init();
    const trainer = await Trainer.create({ batchSize: 32, hidden: 64, latent: 4 });
    trainer.loadDataset(...digits(256, 1), ...digits(64, 2));
    for (let i = 0; i < 4; i++) await trainer.train(4);
    const stats = await trainer.flush();
    drawGrid(document.getElementById("samples"), await trainer.sample(16, 1), trainer.imageSide, 8);
    const loss = stats.reconstruction + stats.kl;
    status.textContent = `trained ${trainer.globalStep} steps on ${trainer.adapter}; loss ${loss.toFixed(2)} per sample`;
    window.exampleResult = { steps: trainer.globalStep, loss };
  } catch (e) {
    status.textContent = `error: ${e.message || e}`;
    window.exampleResult = { error: String(e.message || e) };
  }
}
