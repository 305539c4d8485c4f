//! The CPU reference's backward checked by central finite differences in f64 on a tiny VAE
//! (12-7-3, batch 5): every gradient of every tensor.

use vae_webgpu::layout::ParamLayout;
use vae_webgpu::reference::{vae_forward_backward, RefParams};
use vae_webgpu::rng::SplitMix64;

fn loss(p: &RefParams, x: &[f64], eps: &[f64], rows: usize) -> f64 {
    let (bce, kl, _) = vae_forward_backward(p, x, eps, rows);
    bce + kl
}

/// The central difference of `f` in element `i` of tensor `name`, with step 1e-6.
fn central_difference(p: &RefParams, name: &str, i: usize, f: impl Fn(&RefParams) -> f64) -> f64 {
    let h = 1e-6;
    let mut plus = p.clone();
    plus.get_mut(name)[i] += h;
    let mut minus = p.clone();
    minus.get_mut(name)[i] -= h;
    (f(&plus) - f(&minus)) / (2.0 * h)
}

#[test]
fn reference_gradients_match_finite_differences() {
    let (inp, hidden, latent, rows) = (12, 7, 3, 5);
    let layout = ParamLayout::new(inp, hidden, latent);
    let p = RefParams::from_flat(&layout, &layout.init(11));
    let mut g = SplitMix64::new(3, 99, 0);
    let x: Vec<f64> = (0..rows * inp).map(|_| g.next_f64()).collect();
    let eps: Vec<f64> = (0..rows * latent).map(|_| g.next_normal()).collect();
    let (_, _, grads) = vae_forward_backward(&p, &x, &eps, rows);
    let mut checked = 0;
    for (name, values) in &p.tensors {
        for i in 0..values.len() {
            let numeric = central_difference(&p, name, i, |q| loss(q, &x, &eps, rows));
            let analytic = grads.get(name)[i];
            let err = (numeric - analytic).abs();
            assert!(
                err <= 1e-6 + 1e-5 * analytic.abs(),
                "{name}[{i}]: analytic {analytic}, finite difference {numeric}, error {err:e}"
            );
            checked += 1;
        }
    }
    assert_eq!(
        checked,
        12 * 7 + 7 + 2 * (7 * 3 + 3) + 3 * 7 + 7 + 7 * 12 + 12
    );
}

#[test]
fn reference_loss_matches_hand_computation_on_one_sample() {
    // 1-1-1 VAE, every weight and bias fixed: compare with a by-hand forward pass.
    let layout = ParamLayout::new(1, 1, 1);
    let mut p = RefParams::from_flat(&layout, &layout.init(1));
    for (name, v) in [
        ("fc1.weight", 0.5),
        ("fc1.bias", 0.1),
        ("fc2.weight", 2.0),
        ("fc2.bias", -0.2),
        ("fc3.weight", -1.0),
        ("fc3.bias", 0.3),
        ("fc4.weight", 1.5),
        ("fc4.bias", 0.05),
        ("fc5.weight", -0.7),
        ("fc5.bias", 0.2),
    ] {
        p.get_mut(name)[0] = v;
    }
    let (x, e) = (0.8f64, 0.4f64);
    let h1 = (0.5 * x + 0.1f64).max(0.0);
    let mu = 2.0 * h1 - 0.2;
    let lv = -h1 + 0.3;
    let z = mu + (0.5 * lv).exp() * e;
    let h4 = (1.5 * z + 0.05f64).max(0.0);
    let logit = -0.7 * h4 + 0.2;
    let y = 1.0 / (1.0 + (-logit).exp());
    let bce = -(x * y.ln() + (1.0 - x) * (1.0 - y).ln());
    let kl = -0.5 * (1.0 + lv - mu * mu - lv.exp());
    let (got_bce, got_kl, _) = vae_forward_backward(&p, &[x], &[e], 1);
    assert!((got_bce - bce).abs() < 1e-12, "{got_bce} vs {bce}");
    assert!((got_kl - kl).abs() < 1e-12, "{got_kl} vs {kl}");
}

#[test]
fn weighted_and_autoencoder_objectives_match_finite_differences() {
    use vae_webgpu::reference::{vae_forward_backward_with, Objective};
    let (inp, hidden, latent, rows) = (12, 7, 3, 5);
    let layout = ParamLayout::new(inp, hidden, latent);
    let p = RefParams::from_flat(&layout, &layout.init(13));
    let mut g = SplitMix64::new(4, 99, 0);
    let x: Vec<f64> = (0..rows * inp).map(|_| g.next_f64()).collect();
    let normal: Vec<f64> = (0..rows * latent).map(|_| g.next_normal()).collect();
    // β = 0, 0.5, 4 with sampled ε; the plain autoencoder: β = 0 and ε = 0 (z = μ).
    for (beta, eps) in [
        (0.0, normal.clone()),
        (0.5, normal.clone()),
        (4.0, normal.clone()),
        (0.0, vec![0.0; rows * latent]),
    ] {
        let obj = Objective::weighted(beta);
        let f = |q: &RefParams| {
            let (bce, kl, _) = vae_forward_backward_with(q, &x, &eps, rows, obj);
            bce + beta * kl
        };
        let (_, _, grads) = vae_forward_backward_with(&p, &x, &eps, rows, obj);
        for (name, values) in &p.tensors {
            for i in (0..values.len()).step_by(3) {
                let numeric = central_difference(&p, name, i, f);
                let analytic = grads.get(name)[i];
                let err = (numeric - analytic).abs();
                assert!(
                    err <= 1e-6 + 1e-5 * analytic.abs(),
                    "β={beta} {name}[{i}]: analytic {analytic}, finite difference {numeric}"
                );
            }
        }
        if eps.iter().all(|&e| e == 0.0) {
            // The autoencoder's log σ² head gets no gradient at all.
            assert!(grads.get("fc3.weight").iter().all(|&v| v == 0.0));
            assert!(grads.get("fc3.bias").iter().all(|&v| v == 0.0));
        }
    }
}

/// The trick switched off (`through_z: false`, config `reparameterize: false`): z is a sampled
/// constant, so the encoder's tensors get the gradient of β·KL alone (finite differences of
/// β·KL), while the decoder's get the whole objective's (perturbing the decoder leaves z as it
/// is). With the trick on, the encoder's gradient differs from KL's alone.
#[test]
fn without_the_trick_the_encoder_gets_the_kl_gradient_alone() {
    use vae_webgpu::reference::{vae_forward_backward_with, Objective};
    let (inp, hidden, latent, rows) = (12, 7, 3, 5);
    let layout = ParamLayout::new(inp, hidden, latent);
    let p = RefParams::from_flat(&layout, &layout.init(17));
    let mut g = SplitMix64::new(5, 99, 0);
    let x: Vec<f64> = (0..rows * inp).map(|_| g.next_f64()).collect();
    let eps: Vec<f64> = (0..rows * latent).map(|_| g.next_normal()).collect();
    for beta in [1.0, 0.5] {
        let obj = Objective {
            kl_weight: beta,
            through_z: false,
        };
        let (_, _, grads) = vae_forward_backward_with(&p, &x, &eps, rows, obj);
        let (_, _, with_trick) =
            vae_forward_backward_with(&p, &x, &eps, rows, Objective::weighted(beta));
        for (name, values) in &p.tensors {
            let encoder = ["fc1", "fc2", "fc3"].iter().any(|e| name.starts_with(e));
            let f = |q: &RefParams| {
                let (bce, kl, _) = vae_forward_backward_with(q, &x, &eps, rows, obj);
                if encoder {
                    beta * kl
                } else {
                    bce + beta * kl
                }
            };
            for i in (0..values.len()).step_by(3) {
                let numeric = central_difference(&p, name, i, f);
                let analytic = grads.get(name)[i];
                assert!(
                    (numeric - analytic).abs() <= 1e-6 + 1e-5 * analytic.abs(),
                    "β={beta} {name}[{i}]: analytic {analytic}, finite difference {numeric}"
                );
            }
            let differs = grads
                .get(name)
                .iter()
                .zip(with_trick.get(name))
                .any(|(a, b)| (a - b).abs() > 1e-9);
            assert_eq!(
                differs, encoder,
                "β={beta} {name}: only the encoder's gradient changes without the trick"
            );
        }
    }
}

/// ∂BCE(x, decoder(z))/∂z, which the page shows reaching μ and log σ² in Q3, against central
/// finite differences of the decoder's BCE in f64.
#[test]
fn the_reconstruction_gradient_wrt_z_matches_finite_differences() {
    use vae_webgpu::reference::{bce_with_logits, reconstruction_grad_z, vae_decode};
    let (inp, hidden, latent) = (12, 7, 3);
    let layout = ParamLayout::new(inp, hidden, latent);
    let p = RefParams::from_flat(&layout, &layout.init(23));
    let mut g = SplitMix64::new(6, 99, 0);
    let x: Vec<f64> = (0..inp).map(|_| g.next_f64()).collect();
    let z: Vec<f64> = (0..latent).map(|_| g.next_normal()).collect();
    let bce = |z: &[f64]| {
        let (_, logits) = vae_decode(&p, z, 1);
        logits
            .iter()
            .zip(&x)
            .map(|(&l, &t)| bce_with_logits(l, t))
            .sum::<f64>()
    };
    let (dz, at) = reconstruction_grad_z(&p, &x, &z);
    assert!((at - bce(&z)).abs() < 1e-12);
    let h = 1e-6;
    for j in 0..latent {
        let (mut plus, mut minus) = (z.clone(), z.clone());
        plus[j] += h;
        minus[j] -= h;
        let numeric = (bce(&plus) - bce(&minus)) / (2.0 * h);
        assert!(
            (numeric - dz[j]).abs() <= 1e-6 + 1e-5 * dz[j].abs(),
            "∂BCE/∂z{j}: analytic {}, finite difference {numeric}",
            dz[j]
        );
    }
    assert!(
        dz.iter().any(|&d| d.abs() > 1e-3),
        "a gradient of all zeros proves nothing"
    );
}
