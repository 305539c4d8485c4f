// Must NOT compile (tests/e2e/npm.test.mjs expects tsc to reject it): a config typo a user makes.
import { Trainer } from "vae-webgpu";

export const t = Trainer.create({ batchSize: 128, learningRate: 1e-3 });
