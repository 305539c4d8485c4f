//! `VaeConfig::validate` names the field at fault.

use vae_webgpu::VaeConfig;

fn field_of(cfg: VaeConfig, train_len: Option<usize>) -> String {
    match cfg.validate(train_len) {
        Err(vae_webgpu::VaeError::Config { field, .. }) => field.to_string(),
        other => panic!("expected a config error, got {other:?}"),
    }
}

#[test]
fn defaults_are_the_reference_settings_and_valid() {
    let c = VaeConfig::default();
    assert_eq!(
        (c.input, c.hidden, c.latent, c.batch_size, c.epochs),
        (784, 400, 20, 128, 15)
    );
    assert_eq!((c.lr, c.beta1, c.beta2, c.eps), (1e-3, 0.9, 0.999, 1e-8));
    c.validate(Some(60_000)).unwrap();
}

#[test]
fn rejects_zero_and_absurd_sizes() {
    let d = VaeConfig::default;
    assert_eq!(field_of(VaeConfig { hidden: 0, ..d() }, None), "hidden");
    assert_eq!(field_of(VaeConfig { latent: 0, ..d() }, None), "latent");
    assert_eq!(field_of(VaeConfig { input: 0, ..d() }, None), "input");
    assert_eq!(
        field_of(
            VaeConfig {
                batch_size: 0,
                ..d()
            },
            None
        ),
        "batch_size"
    );
    assert_eq!(field_of(VaeConfig { epochs: 0, ..d() }, None), "epochs");
    assert_eq!(
        field_of(
            VaeConfig {
                hidden: 1 << 20,
                ..d()
            },
            None
        ),
        "hidden"
    );
    assert_eq!(
        field_of(
            VaeConfig {
                latent: 5000,
                ..d()
            },
            None
        ),
        "latent"
    );
    assert_eq!(
        field_of(
            VaeConfig {
                batch_size: 1 << 20,
                ..d()
            },
            None
        ),
        "batch_size"
    );
}

#[test]
fn rejects_bad_learning_rates_and_betas() {
    let d = VaeConfig::default;
    for lr in [0.0, -1e-3, f32::NAN, f32::INFINITY, 1e6] {
        assert_eq!(field_of(VaeConfig { lr, ..d() }, None), "lr", "lr = {lr}");
    }
    assert_eq!(field_of(VaeConfig { beta1: 1.0, ..d() }, None), "beta1");
    assert_eq!(field_of(VaeConfig { beta2: -0.1, ..d() }, None), "beta2");
    assert_eq!(field_of(VaeConfig { eps: 0.0, ..d() }, None), "eps");
}

#[test]
fn rejects_batch_larger_than_the_data() {
    let err = VaeConfig {
        batch_size: 256,
        ..VaeConfig::default()
    }
    .validate(Some(100))
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid config: batch_size: 256 is larger than the 100 training images"
    );
}
