//! The JS config's one table (`src/fields.rs`) against everything that spells it: the key
//! check, the setters the config reader uses, and the TypeScript `TrainerConfig` and `Settings`
//! in `src/web.rs` — a field added, renamed or retyped in one place and not the others fails here.

use vae_webgpu::config::{VaeConfig, MAX_EPOCHS, MAX_HIDDEN};
use vae_webgpu::fields::{check_key, fields, set_flag, set_number, Default, Kind};

#[test]
fn unknown_js_keys_are_named_with_a_suggestion() {
    for f in fields() {
        assert!(check_key(f.name).is_ok(), "{}", f.name);
    }
    for (key, want) in [
        ("batch_size", "unknown key batch_size — did you mean batchSize?"),
        ("BatchSize", "did you mean batchSize?"),
        ("learningRate", "did you mean lr?"),
        ("Latent", "did you mean latent?"),
        (
            "bogus",
            "known keys: epochs, batchSize, lr, hidden, latent, input, seed, klWeight, variational, reparameterize, engine",
        ),
        ("beta", "did you mean klWeight?"),
    ] {
        let e = check_key(key).unwrap_err().to_string();
        assert!(e.contains(want), "{key}: {e}");
        assert!(e.starts_with("invalid config: config: unknown key"), "{e}");
    }
}

#[test]
fn the_fields_come_from_the_defaults_and_limits() {
    let f = fields();
    let get = |k: &str| *f.iter().find(|x| x.name == k).unwrap();
    assert_eq!(get("lr").default, Default::Number(0.001));
    assert_eq!(
        get("lr").kind,
        Kind::Real {
            min: 1e-6,
            max: 10.0
        }
    );
    assert_eq!(
        get("epochs").kind,
        Kind::Whole {
            min: 1.0,
            max: MAX_EPOCHS as f64
        }
    );
    assert_eq!(get("epochs").default, Default::Number(15.0));
    assert!(matches!(get("hidden").kind, Kind::Whole { max, .. } if max == MAX_HIDDEN as f64));
    assert_eq!(get("batchSize").default, Default::Number(128.0));
    assert_eq!(
        get("klWeight").kind,
        Kind::Real {
            min: 0.0,
            max: 1000.0
        }
    );
    assert_eq!(get("variational").default, Default::Flag(true));
    assert_eq!(get("engine").default, Default::Name("auto"));
    let form: Vec<&str> = f.iter().filter(|x| x.in_form).map(|x| x.name).collect();
    assert_eq!(
        form,
        ["epochs", "batchSize", "lr", "hidden", "latent", "seed"]
    );
}

#[test]
fn every_numeric_and_flag_field_has_a_setter() {
    for f in fields() {
        let mut cfg = VaeConfig::default();
        let before = cfg.clone();
        let set = match f.kind {
            Kind::Whole { max, .. } | Kind::Real { max, .. } => set_number(&mut cfg, f.name, max),
            Kind::Flag => set_flag(&mut cfg, f.name, false),
            Kind::Choice(_) => continue,
        };
        assert!(set, "{}: no setter", f.name);
        assert_ne!(cfg, before, "{}: the setter changed nothing", f.name);
    }
    assert!(!set_number(&mut VaeConfig::default(), "bogus", 1.0));
}

/// The entries `name?: type;` of TypeScript interface `name` in `text`.
fn interface(text: &str, name: &str) -> Vec<(String, String)> {
    let start = text
        .find(&format!("export interface {name} {{"))
        .unwrap_or_else(|| panic!("no interface {name}"));
    let body = &text[start..];
    let body = &body[body.find('{').unwrap() + 1..body.find("\n}").unwrap()];
    body.lines()
        .map(str::trim)
        .filter(|l| !l.starts_with("/**") && !l.starts_with('*') && l.contains(':'))
        .map(|l| {
            let (k, t) = l.split_once(':').unwrap();
            (
                k.trim_end_matches('?').to_string(),
                t.trim().trim_end_matches(';').to_string(),
            )
        })
        .collect()
}

#[test]
fn the_typescript_config_and_settings_say_what_the_table_says() {
    let web = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/src/web.rs")).unwrap();
    let config = interface(&web, "TrainerConfig");
    let want: Vec<(String, String)> = fields()
        .iter()
        .map(|f| {
            let ty = match f.kind {
                Kind::Whole { .. } | Kind::Real { .. } => "number".to_string(),
                Kind::Flag => "boolean".to_string(),
                Kind::Choice(names) => names
                    .iter()
                    .map(|n| format!("\"{n}\""))
                    .collect::<Vec<_>>()
                    .join(" | "),
            };
            (f.name.to_string(), ty)
        })
        .collect();
    assert_eq!(config, want, "TrainerConfig in src/web.rs");
    // Settings: `defaults` and `limits` name every field.
    let settings = interface(&web, "Settings");
    for part in ["defaults", "limits"] {
        let (_, ty) = settings.iter().find(|(k, _)| k == part).unwrap();
        for f in fields() {
            assert!(
                ty.contains(&format!("{}:", f.name)),
                "Settings.{part} lacks {}: {ty}",
                f.name
            );
        }
    }
}
