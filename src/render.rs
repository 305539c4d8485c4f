//! Pixels for display: images in [0, 1] laid out as a grid, as pure functions (tested natively,
//! used by the CLI's PNGs and by the page's canvases).

use crate::error::{Result, VaeError};

/// Largest grid drawn (pixels): 64 Mi, a 8192×8192 canvas.
pub const MAX_GRID_PIXELS: usize = 1 << 26;

/// A grayscale grid: `images` holds `n` images of `h`×`w` values in [0, 1] (row-major, one after
/// another); they are placed `per_row` to a row with `pad` pixels of border (value 0) between and
/// around them, as torchvision's `save_image` does (with its default padding of 2).
/// Returns (width, height, bytes); `per_row` 0 counts as 1. Image sizes of 0, values that are
/// not whole images, and grids past [`MAX_GRID_PIXELS`] are [`VaeError::Input`] errors.
pub fn grid(
    images: &[f32],
    h: usize,
    w: usize,
    per_row: usize,
    pad: usize,
) -> Result<(usize, usize, Vec<u8>)> {
    let bad = |message: String| VaeError::Input {
        what: "images",
        message,
    };
    let per_image = h.checked_mul(w).filter(|&p| p > 0);
    let per_image = per_image.ok_or_else(|| bad(format!("{h}×{w} images hold no pixels")))?;
    if !images.len().is_multiple_of(per_image) {
        return Err(bad(format!(
            "{} values are not whole {h}×{w} images",
            images.len()
        )));
    }
    let n = images.len() / per_image;
    let per_row = per_row.max(1);
    let rows = n.div_ceil(per_row).max(1);
    let cols = per_row.min(n.max(1));
    let size = |k: usize, side: usize| k.checked_mul(side.checked_add(pad)?)?.checked_add(pad);
    let (width, height) = match (size(cols, w), size(rows, h)) {
        (Some(a), Some(b)) if a.checked_mul(b).is_some_and(|p| p <= MAX_GRID_PIXELS) => (a, b),
        _ => {
            return Err(bad(format!(
                "a grid of {n} {h}×{w} images, {per_row} a row, is larger than {MAX_GRID_PIXELS} pixels"
            )))
        }
    };
    let mut out = vec![0u8; width * height];
    for k in 0..n {
        let (gy, gx) = (k / per_row, k % per_row);
        let (oy, ox) = (pad + gy * (h + pad), pad + gx * (w + pad));
        for y in 0..h {
            for x in 0..w {
                let v = images[k * h * w + y * w + x];
                let v = if v.is_finite() {
                    v.clamp(0.0, 1.0)
                } else {
                    0.0
                };
                out[(oy + y) * width + ox + x] = (v * 255.0 + 0.5) as u8;
            }
        }
    }
    Ok((width, height, out))
}

/// Pairs of `h`×`w` images side by side as `h`×2`w` images (`a`'s left of `b`'s), as
/// `torch.cat([x, x_reconst], dim=3)` lays them out.
pub fn side_by_side(a: &[f32], b: &[f32], h: usize, w: usize) -> Vec<f32> {
    let mut out = Vec::with_capacity(a.len() + b.len());
    for (ia, ib) in a.chunks_exact(h * w).zip(b.chunks_exact(h * w)) {
        for y in 0..h {
            out.extend_from_slice(&ia[y * w..(y + 1) * w]);
            out.extend_from_slice(&ib[y * w..(y + 1) * w]);
        }
    }
    out
}

/// Gray to RGBA (for canvas `ImageData`).
pub fn gray_to_rgba(gray: &[u8]) -> Vec<u8> {
    gray.iter().flat_map(|&g| [g, g, g, 255]).collect()
}

/// The logistic function, for turning logits into pixels: without overflow for large |l| (as
/// loss.wgsl's), and the same function on both engines, so their pixels agree bit for bit.
pub fn sigmoid(l: f32) -> f32 {
    sigmoid_of(l, (-l.abs()).exp())
}

/// σ(l) given e = e^−|l| (a loss that has e already saves an exp).
pub fn sigmoid_of(l: f32, e: f32) -> f32 {
    if l >= 0.0 {
        1.0 / (1.0 + e)
    } else {
        e / (1.0 + e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grid_places_images_with_padding() {
        // Two 2×2 images, one per row, padding 1.
        let imgs = [1.0, 0.0, 0.0, 1.0, 0.5, 0.5, 0.5, 0.5];
        let (w, h, px) = grid(&imgs, 2, 2, 1, 1).unwrap();
        assert_eq!((w, h), (4, 7));
        assert_eq!(&px[4..8], &[0, 255, 0, 0]);
        assert_eq!(&px[8..12], &[0, 0, 255, 0]);
        assert_eq!(&px[16..20], &[0, 128, 128, 0]);
        assert_eq!(px.iter().filter(|&&v| v != 0).count(), 6);
        assert_eq!(gray_to_rgba(&[7]), vec![7, 7, 7, 255]);
    }

    #[test]
    fn grid_clamps_and_handles_empty() {
        let (w, h, px) = grid(&[2.0, f32::NAN, -1.0, 0.25], 2, 2, 8, 0).unwrap();
        assert_eq!((w, h), (2, 2));
        assert_eq!(px, vec![255, 0, 0, 64]);
        let (w, h, px) = grid(&[], 28, 28, 8, 2).unwrap();
        assert_eq!((w, h, px.len()), (32, 32, 32 * 32));
    }

    #[test]
    fn hostile_sizes_are_errors_not_panics() {
        // drawGrid(canvas, new Float32Array(0), 30000, 1): a 30,004² grid.
        let e = grid(&[], 30_000, 30_000, 1, 2).unwrap_err().to_string();
        assert!(e.contains("larger than 67108864 pixels"), "{e}");
        assert!(grid(&[], 0, 28, 1, 2).is_err());
        assert!(grid(&[0.0; 5], 2, 2, 1, 2).is_err());
        assert!(grid(&[], usize::MAX, 2, 1, 2).is_err());
        assert!(grid(&[0.0; 4], 2, 2, usize::MAX, usize::MAX).is_err());
        assert_eq!(grid(&[0.0; 8], 2, 2, 0, 1).unwrap().0, 4);
    }
}
