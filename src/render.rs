//! Pixels for display: images in [0, 1] laid out as a grid, as pure functions (tested natively,
//! used by the CLI's PNGs and by the page's canvases).

/// A grayscale grid: `images` holds `n` images of `h`×`w` values in [0, 1] (row-major, one after
/// another); they are placed `per_row` to a row with `pad` pixels of border (value 0) between and
/// around them, as torchvision's `save_image` does (with its default padding of 2).
/// Returns (width, height, bytes).
pub fn grid(
    images: &[f32],
    h: usize,
    w: usize,
    per_row: usize,
    pad: usize,
) -> (usize, usize, Vec<u8>) {
    let n = images.len().checked_div(h * w).unwrap_or(0);
    let per_row = per_row.max(1);
    let rows = n.div_ceil(per_row).max(1);
    let cols = per_row.min(n.max(1));
    let width = cols * (w + pad) + pad;
    let height = rows * (h + pad) + pad;
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
    (width, height, out)
}

/// Gray to RGBA (for canvas `ImageData`).
pub fn gray_to_rgba(gray: &[u8]) -> Vec<u8> {
    gray.iter().flat_map(|&g| [g, g, g, 255]).collect()
}

/// Logistic sigmoid, for turning logits into pixels.
pub fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grid_places_images_with_padding() {
        // Two 2×2 images, one per row, padding 1.
        let imgs = [1.0, 0.0, 0.0, 1.0, 0.5, 0.5, 0.5, 0.5];
        let (w, h, px) = grid(&imgs, 2, 2, 1, 1);
        assert_eq!((w, h), (4, 7));
        assert_eq!(&px[4..8], &[0, 255, 0, 0]);
        assert_eq!(&px[8..12], &[0, 0, 255, 0]);
        assert_eq!(&px[16..20], &[0, 128, 128, 0]);
        assert_eq!(px.iter().filter(|&&v| v != 0).count(), 6);
        assert_eq!(gray_to_rgba(&[7]), vec![7, 7, 7, 255]);
    }

    #[test]
    fn grid_clamps_and_handles_empty() {
        let (w, h, px) = grid(&[2.0, f32::NAN, -1.0, 0.25], 2, 2, 8, 0);
        assert_eq!((w, h), (2, 2));
        assert_eq!(px, vec![255, 0, 0, 64]);
        let (w, h, px) = grid(&[], 28, 28, 8, 2);
        assert_eq!((w, h, px.len()), (32, 32, 32 * 32));
    }
}
