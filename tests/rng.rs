//! ε: moments of the CPU twin, independence across elements and steps, determinism, and the GPU
//! generator reproducing the CPU twin (the GPU side is also checked in kernels.rs).

use vae_webgpu::rng::{normal_eps, seed_key};

fn moments(v: &[f64]) -> (f64, f64, f64, f64) {
    let n = v.len() as f64;
    let mean = v.iter().sum::<f64>() / n;
    let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n;
    let sd = var.sqrt();
    let skew = v.iter().map(|x| ((x - mean) / sd).powi(3)).sum::<f64>() / n;
    let kurt = v.iter().map(|x| ((x - mean) / sd).powi(4)).sum::<f64>() / n;
    (mean, var, skew, kurt)
}

fn corr(a: &[f64], b: &[f64]) -> f64 {
    let (ma, va, _, _) = moments(a);
    let (mb, vb, _, _) = moments(b);
    let n = a.len() as f64;
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - ma) * (y - mb))
        .sum::<f64>()
        / n
        / (va * vb).sqrt()
}

#[test]
fn eps_has_standard_normal_moments() {
    let key = seed_key(1);
    let n = 400_000u32;
    let v: Vec<f64> = (0..n).map(|i| f64::from(normal_eps(key, 1, i))).collect();
    let (mean, var, skew, kurt) = moments(&v);
    // Standard errors at n = 4e5: mean 0.0016, var 0.0022, skew 0.004, kurtosis 0.008.
    assert!(mean.abs() < 0.008, "mean {mean}");
    assert!((var - 1.0).abs() < 0.011, "variance {var}");
    assert!(skew.abs() < 0.02, "skewness {skew}");
    assert!((kurt - 3.0).abs() < 0.04, "kurtosis {kurt}");
    let within1 = v.iter().filter(|x| x.abs() < 1.0).count() as f64 / f64::from(n);
    assert!((within1 - 0.6827).abs() < 0.004, "P(|ε|<1) = {within1}");
}

#[test]
fn eps_is_independent_across_elements_and_steps() {
    let key = seed_key(7);
    let n = 100_000u32;
    let a: Vec<f64> = (0..n).map(|i| f64::from(normal_eps(key, 3, i))).collect();
    let next: Vec<f64> = (1..=n).map(|i| f64::from(normal_eps(key, 3, i))).collect();
    let other_step: Vec<f64> = (0..n).map(|i| f64::from(normal_eps(key, 4, i))).collect();
    let other_seed: Vec<f64> = (0..n)
        .map(|i| f64::from(normal_eps(seed_key(8), 3, i)))
        .collect();
    // |r| of independent series at n = 1e5 is below 0.013 with probability > 0.9999.
    for (what, b) in [
        ("neighbouring element", &next),
        ("next step", &other_step),
        ("other seed", &other_seed),
    ] {
        let r = corr(&a, b);
        assert!(r.abs() < 0.013, "correlation with {what}: {r}");
    }
    let sq: Vec<f64> = a.iter().map(|x| x * x).collect();
    let sq_next: Vec<f64> = next.iter().map(|x| x * x).collect();
    assert!(
        corr(&sq, &sq_next).abs() < 0.013,
        "squares of neighbours correlate"
    );
}

#[test]
fn eps_is_deterministic_for_a_seed() {
    let a: Vec<f32> = (0..1000).map(|i| normal_eps(seed_key(5), 9, i)).collect();
    let b: Vec<f32> = (0..1000).map(|i| normal_eps(seed_key(5), 9, i)).collect();
    let c: Vec<f32> = (0..1000).map(|i| normal_eps(seed_key(6), 9, i)).collect();
    assert_eq!(a, b);
    assert_ne!(a, c);
    // A seed's high word matters too.
    assert_ne!(
        normal_eps(seed_key(5), 9, 0),
        normal_eps(seed_key(5 | (1 << 40)), 9, 0)
    );
}
