// Numbers the panels compute from what the trainer returns (no DOM, no state).

/** Test images whose μ decide which latent dimensions are in use. */
export const ACTIVE_N = 1000;
/** A dimension is active when μ_j varies over the test images by more than this (variance). */
const ACTIVE_VAR = 0.01;

/** Which latent dimensions the model uses: Var over the images of μ_j > ACTIVE_VAR. */
export function activity(mu, L) {
  const n = Math.floor(mu.length / L);
  const active = [];
  for (let j = 0; j < L; j++) {
    let s = 0, s2 = 0;
    for (let i = 0; i < n; i++) {
      const v = mu[i * L + j];
      s += v;
      s2 += v * v;
    }
    const mean = s / Math.max(n, 1);
    active.push(s2 / Math.max(n, 1) - mean * mean > ACTIVE_VAR);
  }
  return { n, active, count: active.filter(Boolean).length };
}
