//! The pieces the "Explore" view stands on: encoding pixels and decoding z on the GPU against the
//! CPU reference, μ of test images, PCA against a direct f64 computation on known data, and the
//! drawing downsampler on fixed strokes.
// The WGSL engine is under test: not built without the `webgpu` feature.
#![cfg(feature = "webgpu")]

mod common;

use vae_webgpu::draw::to_mnist;
use vae_webgpu::pca::pca2;
use vae_webgpu::rng::SplitMix64;

#[cfg(not(target_arch = "wasm32"))]
mod gpu {
    use super::common::{assert_close, gpu, synthetic_digits, to_f64, uniform};
    use vae_webgpu::reference::{sigmoid, vae_decode, vae_encode, RefParams};
    use vae_webgpu::run::RunState;
    use vae_webgpu::train::Trainer;
    use vae_webgpu::VaeConfig;

    fn trainer() -> Option<Trainer> {
        let gpu = gpu()?;
        let cfg = VaeConfig {
            batch_size: 32,
            ..VaeConfig::default()
        };
        let mut t = Trainer::new(
            gpu,
            &cfg,
            &synthetic_digits(1, 256, 28),
            &synthetic_digits(2, 100, 28),
        )
        .unwrap();
        t.submit_train(10).unwrap();
        pollster::block_on(t.flush()).unwrap();
        Some(t)
    }

    #[test]
    fn encode_and_decode_match_the_reference() {
        let Some(mut t) = trainer() else { return };
        let p = RefParams::from_flat(t.layout(), &pollster::block_on(t.read_params()).unwrap());
        let (rows, i, l) = (5, 784, 20);
        let x = uniform(7, rows * i, 0.0, 1.0);
        let (mu, log_var) = pollster::block_on(t.encode(&x, rows)).unwrap();
        let (_, want_mu, want_lv) = vae_encode(&p, &to_f64(&x), rows);
        assert_close("encode μ", &mu, &want_mu, 1e-4, 1e-4);
        assert_close("encode log σ²", &log_var, &want_lv, 1e-4, 1e-4);

        let z = uniform(8, 3 * l, -2.0, 2.0);
        let pixels = pollster::block_on(t.decode(&z, 3)).unwrap();
        let (_, logits) = vae_decode(&p, &to_f64(&z), 3);
        let want: Vec<f64> = logits.iter().map(|&v| sigmoid(v)).collect();
        assert_close("decode", &pixels, &want, 1e-5, 1e-4);
    }

    #[test]
    fn test_images_encode_like_their_pixels_and_bad_input_is_refused() {
        let Some(mut t) = trainer() else { return };
        let test = synthetic_digits(2, 100, 28);
        let (mu_ids, lv_ids) = pollster::block_on(t.encode_test(&[3, 7])).unwrap();
        let pixels: Vec<f32> = [3usize, 7]
            .iter()
            .flat_map(|&k| test.image(k).iter().map(|&b| f32::from(b) / 255.0))
            .collect();
        let (mu_px, lv_px) = pollster::block_on(t.encode(&pixels, 2)).unwrap();
        assert_close("μ by id vs by pixels", &mu_ids, &to_f64(&mu_px), 1e-5, 1e-4);
        assert_close(
            "log σ² by id vs by pixels",
            &lv_ids,
            &to_f64(&lv_px),
            1e-5,
            1e-4,
        );

        let err = pollster::block_on(t.encode(&pixels[..100], 2))
            .unwrap_err()
            .to_string();
        assert!(err.contains("expected rows × 784 values"), "{err}");
        let mut nan = pixels.clone();
        nan[5] = f32::NAN;
        let err = pollster::block_on(t.encode(&nan, 2))
            .unwrap_err()
            .to_string();
        assert!(err.contains("value 5 is not a finite number"), "{err}");
        assert!(err.starts_with("invalid pixels: "), "{err}");
        assert!(pollster::block_on(t.decode(&[0.0; 19], 1)).is_err());
        let err = pollster::block_on(t.decode(&[f32::INFINITY; 20], 1))
            .unwrap_err()
            .to_string();
        assert_eq!(err, "invalid z: value 0 is not a finite number");

        let mut session = vae_webgpu::session::Session::new(t, || 0.0);
        let (means, labels) = pollster::block_on(session.latent_means(70)).unwrap();
        assert_eq!((means.len(), labels.len()), (70 * 20, 70));
        assert_eq!(labels, test.labels[..70].to_vec());
        assert_close(
            "latent_means row 7",
            &means[7 * 20..8 * 20],
            &to_f64(&mu_ids[20..]),
            1e-5,
            1e-4,
        );
    }
}

#[test]
fn pca_recovers_known_axes_and_variances() {
    // Points in 5-D: a·u + b·v + small noise, var(a) = 9, var(b) = 1, u ⟂ v.
    let s = 0.5f64.sqrt();
    let u = [s, s, 0.0, 0.0, 0.0];
    let v = [0.0, 0.0, 0.6, 0.8, 0.0];
    let mut g = SplitMix64::new(9, 77, 0);
    let n = 20_000;
    let mut pts = Vec::with_capacity(n * 5);
    for _ in 0..n {
        let (a, b) = (3.0 * g.next_normal(), g.next_normal());
        for j in 0..5 {
            pts.push((1.0 + a * u[j] + b * v[j] + 0.01 * g.next_normal()) as f32);
        }
    }
    let p = pca2(&pts, n, 5);
    let dot = |x: &[f64], y: &[f64]| x.iter().zip(y).map(|(a, b)| a * b).sum::<f64>();
    assert!(
        dot(&p.components[0], &u).abs() > 0.9999,
        "first axis {:?}",
        p.components[0]
    );
    assert!(
        dot(&p.components[1], &v).abs() > 0.9999,
        "second axis {:?}",
        p.components[1]
    );
    assert!(dot(&p.components[0], &p.components[1]).abs() < 1e-9);
    // Explained variance against the direct computation: 9 and 1 of 10 + 5·1e-4.
    assert!((p.explained[0] - 0.9).abs() < 0.01, "{:?}", p.explained);
    assert!((p.explained[1] - 0.1).abs() < 0.01, "{:?}", p.explained);
    for m in &p.mean {
        assert!((m - 1.0).abs() < 0.05);
    }
    // Round trip through the plane for a point on it.
    let q: Vec<f32> = (0..5)
        .map(|j| (1.0 + 2.0 * u[j] - 1.0 * v[j]) as f32)
        .collect();
    let [a, b] = p.project(&q);
    let back = p.unproject(a, b);
    for (x, y) in back.iter().zip(&q) {
        assert!((x - y).abs() < 0.02, "{back:?} vs {q:?}");
    }
}

#[test]
fn pca_of_two_dimensional_points_and_degenerate_sets() {
    let pts: Vec<f32> = (0..100).flat_map(|i| [i as f32, 0.0]).collect();
    let p = pca2(&pts, 100, 2);
    assert!((p.components[0][0].abs() - 1.0).abs() < 1e-9);
    assert!((p.explained[0] - 1.0).abs() < 1e-9);
    let same = vec![0.5f32; 30];
    let p = pca2(&same, 10, 3);
    assert_eq!(p.explained, [0.0, 0.0]);
    assert!(p
        .unproject(0.0, 0.0)
        .iter()
        .all(|&x| (x - 0.5).abs() < 1e-6));
}

fn stroke(size: usize, x: std::ops::Range<usize>, y: std::ops::Range<usize>) -> Vec<f32> {
    let mut ink = vec![0.0; size * size];
    for yy in y {
        for xx in x.clone() {
            ink[yy * size + xx] = 1.0;
        }
    }
    ink
}

#[test]
fn drawing_becomes_a_centred_20_pixel_digit() {
    // A vertical bar in the top-left corner of a 280×280 drawing.
    let out = to_mnist(&stroke(280, 20..40, 10..210), 280, 28).unwrap();
    let rows: Vec<usize> = (0..28)
        .filter(|&y| (0..28).any(|x| out[y * 28 + x] > 0.0))
        .collect();
    let cols: Vec<usize> = (0..28)
        .filter(|&x| (0..28).any(|y| out[y * 28 + x] > 0.0))
        .collect();
    assert_eq!(rows.len(), 20, "height scaled to 20 pixels: {rows:?}");
    assert_eq!(cols.len(), 2, "width keeps the aspect ratio: {cols:?}");
    let (mut mx, mut my, mut m) = (0.0, 0.0, 0.0);
    for y in 0..28 {
        for x in 0..28 {
            let v = f64::from(out[y * 28 + x]);
            mx += v * (x as f64 + 0.5);
            my += v * (y as f64 + 0.5);
            m += v;
        }
    }
    assert!(
        (mx / m - 14.0).abs() <= 1.0 && (my / m - 14.0).abs() <= 1.0,
        "centre of mass ({}, {})",
        mx / m,
        my / m
    );
    assert!(out.iter().all(|&v| (0.0..=1.0).contains(&v)));
}

#[test]
fn drawing_edge_cases() {
    assert!(
        to_mnist(&vec![0.0; 100 * 100], 100, 28)
            .unwrap()
            .iter()
            .all(|&v| v == 0.0),
        "empty drawing"
    );
    let dot = to_mnist(&stroke(100, 50..51, 50..51), 100, 28).unwrap();
    assert_eq!(
        dot.iter().filter(|&&v| v > 0.0).count(),
        400,
        "a dot fills the 20×20 box"
    );
    // Hostile sizes (the page's drawingToInput): each refused with the argument named.
    for (ink, size, side, what) in [
        (
            vec![1.0; 3],
            10,
            28,
            "invalid ink: expected size² = 100 values, got 3",
        ),
        (vec![], 0, 46_341, "invalid side: 46341 is outside 4..=128"),
        (
            vec![0.0; 1],
            65_536,
            28,
            "invalid size: 65536 is outside 1..=4096",
        ),
        (vec![], 0, 28, "invalid size: 0 is outside 1..=4096"),
        (vec![0.0; 1], 1, 0, "invalid side: 0 is outside 4..=128"),
    ] {
        assert_eq!(to_mnist(&ink, size, side).unwrap_err().to_string(), what);
    }
}

#[test]
fn pca_cost_is_bounded_at_any_latent_size() {
    use vae_webgpu::pca::{max_points, PCA_BUDGET};
    assert!(
        max_points(20) >= 10_000,
        "the page's whole test set at latent 20"
    );
    assert_eq!(max_points(1024), 2 * PCA_BUDGET / (1024 * 1024));
    // latentMap(10000) at latent 1024: only max_points(1024) points are used; it takes well
    // under a second natively (seconds before the bound).
    let dim = 1024;
    let pts: Vec<f32> = (0..10_000 * dim)
        .map(|i| ((i * 7919) % 101) as f32 / 101.0)
        .collect();
    let t0 = std::time::Instant::now();
    let p = pca2(&pts, 10_000, dim);
    let secs = t0.elapsed().as_secs_f64();
    eprintln!(
        "PCA of 10,000 × 1024 (bounded to {}): {secs:.2} s",
        max_points(dim)
    );
    assert!(p.explained[0].is_finite());
}
