//! Pixels for the page: drawings to inputs, image grids on a canvas, and the GPU buffer count.

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use super::ApiError;
use crate::render::{gray_to_rgba, grid, side_by_side};

/// A square drawing (`size`², 0 = background, 1 = ink) as an MNIST-like `side`² input: scaled
/// into a 20×20 box and centred by mass, as MNIST's digits were.
#[wasm_bindgen(js_name = drawingToInput)]
pub fn drawing_to_input(ink: &[f32], size: u32, side: u32) -> Result<Vec<f32>, ApiError> {
    crate::draw::to_mnist(ink, size as usize, side as usize).map_err(super::js)
}

/// GPU buffers alive now and their bytes; flat over a long run means no leak.
#[wasm_bindgen(getter_with_clone)]
pub struct LiveBuffers {
    pub count: u32,
    pub bytes: f64,
}

#[wasm_bindgen(js_name = liveGpuBuffers)]
pub fn live_gpu_buffers() -> LiveBuffers {
    let (count, bytes) = crate::session::live_gpu_buffers();
    LiveBuffers {
        count: count as u32,
        bytes: bytes as f64,
    }
}

/// Draws `pixels` (side×side images in [0, 1], one after another) on `canvas` (a page's
/// `<canvas>` or an `OffscreenCanvas`, e.g. in a worker) as a grid of `per_row` images with
/// 2-pixel borders; the canvas is resized to the grid.
#[wasm_bindgen(js_name = drawGrid)]
pub fn draw_grid(
    #[wasm_bindgen(unchecked_param_type = "HTMLCanvasElement | OffscreenCanvas")] canvas: &JsValue,
    pixels: &[f32],
    side: u32,
    per_row: u32,
) -> Result<(), ApiError> {
    put_grid(canvas, pixels, side as usize, side as usize, per_row)
}

/// Draws inputs and their reconstructions as pairs side by side (`inputs`' left of
/// `reconstructions`'), `per_row` pairs a row: the layout of the CLI's `reconst-E.png` and the
/// seed's `torch.cat([x, x_reconst], dim=3)`.
#[wasm_bindgen(js_name = drawPairs)]
pub fn draw_pairs(
    #[wasm_bindgen(unchecked_param_type = "HTMLCanvasElement | OffscreenCanvas")] canvas: &JsValue,
    inputs: &[f32],
    reconstructions: &[f32],
    side: u32,
    per_row: u32,
) -> Result<(), ApiError> {
    if inputs.len() != reconstructions.len() {
        return Err(ApiError::bad_argument(&format!(
            "inputs ({}) and reconstructions ({}) differ in length",
            inputs.len(),
            reconstructions.len()
        )));
    }
    let side = side as usize;
    let image = side.checked_mul(side).filter(|&n| n > 0 && n <= 1 << 24);
    if image.is_none_or(|n| !inputs.len().is_multiple_of(n)) {
        return Err(ApiError::bad_argument(&format!(
            "drawPairs: side {side} does not divide {} pixels into whole side×side images",
            inputs.len()
        )));
    }
    let pairs = side_by_side(inputs, reconstructions, side, side);
    put_grid(canvas, &pairs, side, 2 * side, per_row)
}

/// `pixels` as a grid (like `drawGrid`) in an `ImageData`, for a canvas the caller owns: an
/// `OffscreenCanvas` in a worker, or `postMessage` to the page (its buffer transfers).
#[wasm_bindgen(js_name = gridImage)]
pub fn grid_image(pixels: &[f32], side: u32, per_row: u32) -> Result<web_sys::ImageData, ApiError> {
    let side = side as usize;
    let (w, h, gray) = grid(pixels, side, side, per_row as usize, 2).map_err(super::js)?;
    image_data(&gray, w, h)
}

/// An `ImageData` that owns its pixels: a JS copy, not a view of wasm memory (a view would
/// change when the memory is reused, break when it grows, and could not be transferred).
fn image_data(gray: &[u8], w: usize, h: usize) -> Result<web_sys::ImageData, ApiError> {
    let rgba = gray_to_rgba(gray);
    let pixels = js_sys::Uint8ClampedArray::new_with_length(rgba.len() as u32);
    pixels.copy_from(&rgba);
    web_sys::ImageData::new_with_js_u8_clamped_array_and_sh(&pixels, w as u32, h as u32)
        .map_err(|_| ApiError::bad_argument("could not create ImageData"))
}

fn put_grid(
    canvas: &JsValue,
    pixels: &[f32],
    h: usize,
    w: usize,
    per_row: u32,
) -> Result<(), ApiError> {
    let (w, h, gray) = grid(pixels, h, w, per_row as usize, 2).map_err(super::js)?;
    let image = image_data(&gray, w, h)?;
    let no_2d = || ApiError::bad_argument("the canvas has no 2d context");
    let drawn = if let Some(c) = canvas.dyn_ref::<web_sys::HtmlCanvasElement>() {
        c.set_width(w as u32);
        c.set_height(h as u32);
        c.get_context("2d")
            .map_err(|_| no_2d())?
            .ok_or_else(no_2d)?
            .dyn_into::<web_sys::CanvasRenderingContext2d>()
            .map_err(|_| no_2d())?
            .put_image_data(&image, 0.0, 0.0)
    } else if let Some(c) = canvas.dyn_ref::<web_sys::OffscreenCanvas>() {
        c.set_width(w as u32);
        c.set_height(h as u32);
        c.get_context("2d")
            .map_err(|_| no_2d())?
            .ok_or_else(no_2d)?
            .dyn_into::<web_sys::OffscreenCanvasRenderingContext2d>()
            .map_err(|_| no_2d())?
            .put_image_data(&image, 0.0, 0.0)
    } else {
        return Err(ApiError::bad_argument(
            "canvas: expected an HTMLCanvasElement or an OffscreenCanvas",
        ));
    };
    drawn.map_err(|_| ApiError::bad_argument("could not draw on the canvas"))
}
