//! Turning a drawing into an MNIST-like input, as a pure function: MNIST digits were scaled to
//! fit a 20×20 box (keeping their aspect ratio) and then placed in the 28×28 image so that their
//! centre of mass is at the centre. `to_mnist` does the same to a square grayscale drawing.

use crate::error::{Result, VaeError};

/// Largest drawing side accepted (pixels).
pub const MAX_DRAWING: usize = 4096;
/// Output sides accepted: 4 ..= 128 (128² is `config::MAX_INPUT`).
pub const SIDES: std::ops::RangeInclusive<usize> = 4..=128;

/// `ink` is a `size`×`size` drawing (0 = background, 1 = full ink). Returns `side`×`side`
/// values in [0, 1] (side 28 for MNIST), all zero for an empty drawing. A size or side out of
/// range, or `ink` not of `size`² values, is an [`VaeError::Input`] naming the argument.
pub fn to_mnist(ink: &[f32], size: usize, side: usize) -> Result<Vec<f32>> {
    let bad = |what, message: String| Err(VaeError::Input { what, message });
    if !SIDES.contains(&side) {
        return bad(
            "side",
            format!("{side} is outside {}..={}", SIDES.start(), SIDES.end()),
        );
    }
    if !(1..=MAX_DRAWING).contains(&size) {
        return bad("size", format!("{size} is outside 1..={MAX_DRAWING}"));
    }
    if ink.len() != size * size {
        return bad(
            "ink",
            format!("expected size² = {} values, got {}", size * size, ink.len()),
        );
    }
    Ok(draw(ink, size, side))
}

fn draw(ink: &[f32], size: usize, side: usize) -> Vec<f32> {
    let mut out = vec![0.0f32; side * side];
    // Bounding box of the ink.
    let (mut x0, mut y0, mut x1, mut y1) = (size, size, 0, 0);
    for y in 0..size {
        for x in 0..size {
            if ink[y * size + x] > 0.0 {
                x0 = x0.min(x);
                y0 = y0.min(y);
                x1 = x1.max(x);
                y1 = y1.max(y);
            }
        }
    }
    if x0 > x1 {
        return out;
    }
    let (w, h) = ((x1 - x0 + 1) as f64, (y1 - y0 + 1) as f64);
    let fit = (side as f64 * 20.0 / 28.0) / w.max(h);
    // Resample the box into a grid scaled by `fit`: each cell averages the source pixels it
    // covers (box filter, so thin strokes stay grey), or takes the nearest one when enlarging.
    let (gw, gh) = (
        ((w * fit).round() as usize).max(1),
        ((h * fit).round() as usize).max(1),
    );
    let mut small = vec![0.0f64; gw * gh];
    let span = |g: usize, n: usize, len: f64| {
        let a = (g as f64 * len / n as f64).floor() as usize;
        let b = (((g + 1) as f64 * len / n as f64).ceil() as usize).max(a + 1);
        (a, b.min(len as usize))
    };
    for gy in 0..gh {
        let (ya, yb) = span(gy, gh, h);
        for gx in 0..gw {
            let (xa, xb) = span(gx, gw, w);
            let mut sum = 0.0;
            for y in ya..yb {
                for x in xa..xb {
                    sum += f64::from(ink[(y0 + y) * size + x0 + x].clamp(0.0, 1.0));
                }
            }
            small[gy * gw + gx] = sum / ((yb - ya) * (xb - xa)).max(1) as f64;
        }
    }
    // Centre of mass of the small image, moved to the centre of the output.
    let mass: f64 = small.iter().sum();
    let (mut cx, mut cy) = (0.0, 0.0);
    for gy in 0..gh {
        for gx in 0..gw {
            cx += small[gy * gw + gx] * (gx as f64 + 0.5);
            cy += small[gy * gw + gx] * (gy as f64 + 0.5);
        }
    }
    let (cx, cy) = (cx / mass, cy / mass);
    let ox = (side as f64 / 2.0 - cx).round() as isize;
    let oy = (side as f64 / 2.0 - cy).round() as isize;
    for gy in 0..gh {
        for gx in 0..gw {
            let (x, y) = (gx as isize + ox, gy as isize + oy);
            if (0..side as isize).contains(&x) && (0..side as isize).contains(&y) {
                out[y as usize * side + x as usize] = small[gy * gw + gx].min(1.0) as f32;
            }
        }
    }
    out
}
