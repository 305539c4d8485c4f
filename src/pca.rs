//! Principal component analysis in f64 for the latent map: the two directions of largest
//! variance of a set of points (power iteration with deflation on the covariance), the points
//! projected on them, and the way back from the plane to the full space.

/// A 2-D projection of `dim`-dimensional points.
#[derive(Debug, Clone, PartialEq)]
pub struct Projection {
    pub dim: usize,
    /// Mean of the points (length `dim`).
    pub mean: Vec<f64>,
    /// Two orthonormal directions (each length `dim`), largest variance first.
    pub components: [Vec<f64>; 2],
    /// Fraction of the total variance along each component (0 when the points do not vary).
    pub explained: [f64; 2],
}

impl Projection {
    /// Coordinates of one point (length `dim`) in the plane.
    pub fn project(&self, p: &[f32]) -> [f64; 2] {
        let mut out = [0.0; 2];
        for (k, c) in self.components.iter().enumerate() {
            out[k] = p
                .iter()
                .zip(&self.mean)
                .zip(c)
                .map(|((&x, m), c)| (f64::from(x) - m) * c)
                .sum();
        }
        out
    }

    /// The point of the full space at plane coordinates (a, b): mean + a·c₀ + b·c₁.
    pub fn unproject(&self, a: f64, b: f64) -> Vec<f32> {
        (0..self.dim)
            .map(|j| (self.mean[j] + a * self.components[0][j] + b * self.components[1][j]) as f32)
            .collect()
    }
}

fn covariance(points: &[f32], n: usize, dim: usize, mean: &[f64]) -> Vec<f64> {
    let mut cov = vec![0.0; dim * dim];
    for p in points.chunks_exact(dim).take(n) {
        for i in 0..dim {
            let di = f64::from(p[i]) - mean[i];
            for j in i..dim {
                cov[i * dim + j] += di * (f64::from(p[j]) - mean[j]);
            }
        }
    }
    let denom = (n.max(2) - 1) as f64;
    for i in 0..dim {
        for j in i..dim {
            let v = cov[i * dim + j] / denom;
            cov[i * dim + j] = v;
            cov[j * dim + i] = v;
        }
    }
    cov
}

/// Multiply-adds one PCA may spend (covariance and power iterations each): about a tenth of a
/// second in wasm, so a map at latent 1024 cannot hold the page's main thread for seconds.
pub const PCA_BUDGET: usize = 100_000_000;

/// Most points [`pca2`] takes at `dim` (at least 2; the covariance costs n·dim²/2).
pub fn max_points(dim: usize) -> usize {
    (2 * PCA_BUDGET / dim.max(1).pow(2)).max(2)
}

/// Power iterations at `dim` (500, fewer past ~450 dimensions).
fn max_iterations(dim: usize) -> usize {
    (PCA_BUDGET / dim.max(1).pow(2)).clamp(20, 500)
}

/// Leading eigenvector of the symmetric matrix `m` (power iteration from a fixed start).
fn leading(m: &[f64], dim: usize) -> (Vec<f64>, f64) {
    let mut v: Vec<f64> = (0..dim)
        .map(|i| 1.0 + (i as f64 * 0.618_033_988_7).fract())
        .collect();
    let mut lambda = 0.0;
    for _ in 0..max_iterations(dim) {
        let mut w = vec![0.0; dim];
        for i in 0..dim {
            w[i] = (0..dim).map(|j| m[i * dim + j] * v[j]).sum();
        }
        let norm = w.iter().map(|x| x * x).sum::<f64>().sqrt();
        if norm == 0.0 {
            break;
        }
        let next: Vec<f64> = w.iter().map(|x| x / norm).collect();
        let change: f64 = next.iter().zip(&v).map(|(a, b)| (a - b).abs()).sum();
        v = next;
        lambda = norm;
        if change < 1e-13 {
            break;
        }
    }
    // A sign convention, so the same data always gives the same picture.
    if let Some(big) = v.iter().copied().max_by(|a, b| a.abs().total_cmp(&b.abs())) {
        if big < 0.0 {
            v.iter_mut().for_each(|x| *x = -*x);
        }
    }
    (v, lambda)
}

/// PCA of `n` points of `dim` values each (row-major): the first [`max_points`]`(dim)` of them.
/// With `dim` of 1 the second component is zero; with `dim` of 2 the components are the
/// principal axes of the plane.
pub fn pca2(points: &[f32], n: usize, dim: usize) -> Projection {
    let n = n.min(points.len() / dim.max(1)).min(max_points(dim));
    let mut mean = vec![0.0; dim];
    for p in points.chunks_exact(dim).take(n) {
        for (m, &x) in mean.iter_mut().zip(p) {
            *m += f64::from(x);
        }
    }
    mean.iter_mut().for_each(|m| *m /= n.max(1) as f64);
    let mut cov = covariance(points, n, dim, &mean);
    let total: f64 = (0..dim).map(|i| cov[i * dim + i]).sum();
    let (c0, l0) = leading(&cov, dim);
    for i in 0..dim {
        for j in 0..dim {
            cov[i * dim + j] -= l0 * c0[i] * c0[j];
        }
    }
    let (mut c1, mut l1) = if dim > 1 {
        leading(&cov, dim)
    } else {
        (vec![0.0; dim], 0.0)
    };
    // Keep c1 exactly orthogonal to c0 (deflation leaves rounding).
    let dot: f64 = c0.iter().zip(&c1).map(|(a, b)| a * b).sum();
    c1.iter_mut().zip(&c0).for_each(|(b, a)| *b -= dot * a);
    let norm = c1.iter().map(|x| x * x).sum::<f64>().sqrt();
    if norm > 1e-12 {
        c1.iter_mut().for_each(|x| *x /= norm);
    } else {
        c1 = vec![0.0; dim];
        l1 = 0.0;
    }
    let explained = if total > 0.0 {
        [l0 / total, l1.max(0.0) / total]
    } else {
        [0.0, 0.0]
    };
    Projection {
        dim,
        mean,
        components: [c0, c1],
        explained,
    }
}
