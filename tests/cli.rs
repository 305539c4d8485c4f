//! The `vae-train` binary: bad flags and bad data give a clear message and a non-zero exit (never
//! a panic); a short run on a small generated data set writes the PNGs and a loadable checkpoint.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output};

use vae_webgpu::layout::ParamLayout;
use vae_webgpu::mnist::{
    encode_idx, Dataset, TEST_IMAGES, TEST_LABELS, TRAIN_IMAGES, TRAIN_LABELS,
};

fn vae_train(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vae-train"))
        .args(args)
        .env("XDG_RUNTIME_DIR", "/tmp")
        .output()
        .unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn assert_fails_with(o: &Output, code: i32, needle: &str) {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(code), "stderr: {err}");
    assert!(err.contains(needle), "expected {needle:?} in stderr: {err}");
    assert!(!err.contains("panicked"), "panic: {err}");
}

fn write_set(dir: &Path, images: &str, labels: &str, d: &Dataset, gz: bool) {
    let img = encode_idx(&[d.len() as u32, d.rows, d.cols], &d.images);
    if gz {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(&img).unwrap();
        std::fs::write(dir.join(format!("{images}.gz")), enc.finish().unwrap()).unwrap();
    } else {
        std::fs::write(dir.join(images), img).unwrap();
    }
    std::fs::write(dir.join(labels), encode_idx(&[d.len() as u32], &d.labels)).unwrap();
}

fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("vae-cli-test-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn unknown_flag_is_a_usage_error() {
    assert_fails_with(&vae_train(&["--bogus"]), 2, "unexpected argument '--bogus'");
    assert_fails_with(&vae_train(&["--epochs", "many"]), 2, "invalid value 'many'");
}

#[test]
fn bad_hyperparameters_name_the_field() {
    assert_fails_with(&vae_train(&["--lr=-1"]), 1, "invalid config: lr");
    assert_fails_with(
        &vae_train(&["--batch-size", "0"]),
        1,
        "invalid config: batch_size",
    );
    assert_fails_with(
        &vae_train(&["--latent", "100000"]),
        1,
        "invalid config: latent",
    );
    assert_fails_with(&vae_train(&["--epochs", "0"]), 1, "invalid config: epochs");
    assert_fails_with(
        &vae_train(&["--kl-weight=-1"]),
        1,
        "invalid config: kl_weight",
    );
    assert_fails_with(
        &vae_train(&["--autoencoder", "--no-reparameterize"]),
        2,
        "cannot be used with",
    );
}

/// Flags of a small run on the CPU engine: `epochs` epochs of `data`, written to `out`.
fn small_cpu_run<'a>(data: &'a str, out: &'a str, epochs: &'a str) -> Vec<&'a str> {
    vec![
        "--engine",
        "cpu",
        "--epochs",
        epochs,
        "--batch-size",
        "50",
        "--hidden",
        "32",
        "--data",
        data,
        "--out",
        out,
    ]
}

/// `--autoencoder`, `--kl-weight` and `--no-reparameterize` train what they say, on the CPU
/// engine: the checkpoint records the objective, and a plain autoencoder's run does not resume
/// as a VAE's.
#[test]
fn objective_flags_train_what_they_say() {
    let dir = scratch("objectives");
    small_set(&dir);
    let d = dir.to_str().unwrap();
    for (flags, variational, kl) in [
        (&["--autoencoder"][..], "false", "1"),
        (&["--kl-weight", "4"][..], "true", "4"),
        (&["--no-reparameterize"][..], "true", "1"),
    ] {
        let out = dir.join(format!("out-{}", flags[0].trim_start_matches('-')));
        let o = out.to_str().unwrap();
        let mut args = small_cpu_run(d, o, "1");
        args.extend_from_slice(flags);
        let run = vae_train(&args);
        assert!(run.status.success(), "{flags:?}: {}", stderr(&run));
        let bytes = std::fs::read(out.join("vae-epoch-1.safetensors")).unwrap();
        let header_len = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
        let header = std::str::from_utf8(&bytes[8..8 + header_len]).unwrap();
        assert!(
            header.contains(&format!("\"variational\":\"{variational}\""))
                && header.contains(&format!("\"kl_weight\":\"{kl}\"")),
            "{flags:?}: {header}"
        );
    }
    // The autoencoder's run resumed without --autoencoder: refused, saying what it is.
    let ae = dir.join("out-autoencoder/vae-epoch-1.safetensors");
    let o = dir.join("out-again");
    let mut args = small_cpu_run(d, o.to_str().unwrap(), "2");
    args.extend(["--resume", ae.to_str().unwrap()]);
    let again = vae_train(&args);
    assert_fails_with(&again, 1, "autoencoder (variational: false)'s run");
}

#[test]
fn missing_data_says_how_to_get_it() {
    let dir = scratch("missing");
    assert_fails_with(
        &vae_train(&["--data", dir.to_str().unwrap()]),
        1,
        "scripts/fetch-mnist.sh",
    );
}

#[test]
fn malformed_data_names_the_file_and_defect() {
    let dir = scratch("malformed");
    let d = common::synthetic_digits(1, 20, 28);
    write_set(&dir, TRAIN_IMAGES, TRAIN_LABELS, &d, false);
    write_set(&dir, TEST_IMAGES, TEST_LABELS, &d, false);
    std::fs::write(dir.join(TRAIN_LABELS), encode_idx(&[20], &[12; 20])).unwrap();
    let o = vae_train(&["--data", dir.to_str().unwrap()]);
    assert_fails_with(
        &o,
        1,
        "train-labels-idx1-ubyte: label 12 at index 0 is out of range",
    );
}

#[test]
#[cfg(feature = "webgpu")]
fn short_run_writes_pngs_and_a_loadable_checkpoint() {
    if common::gpu().is_none() {
        return;
    }
    let dir = scratch("run");
    let out = dir.join("out");
    write_set(
        &dir,
        TRAIN_IMAGES,
        TRAIN_LABELS,
        &common::synthetic_digits(1, 300, 28),
        true,
    );
    write_set(
        &dir,
        TEST_IMAGES,
        TEST_LABELS,
        &common::synthetic_digits(2, 50, 28),
        false,
    );
    let o = vae_train(&[
        "--data",
        dir.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--epochs",
        "2",
        "--batch-size",
        "32",
        "--hidden",
        "64",
        "--log-interval",
        "5",
    ]);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "stdout: {stdout}\nstderr: {}",
        stderr(&o)
    );
    // The seed script's line every --log-interval steps: batch sums of BCE and KL.
    assert!(
        stdout.contains("Epoch[1/2], Step [5/10], Reconst Loss: "),
        "{stdout}"
    );
    assert!(
        stdout.contains("Epoch[2/2], Step [10/10], Reconst Loss: "),
        "{stdout}"
    );
    assert!(stdout.contains(", KL Div: "), "{stdout}");
    assert!(stdout.contains("====> Epoch: 2 Average loss:"), "{stdout}");
    assert!(stdout.contains("====> Test set loss:"), "{stdout}");
    // A batch (32) of samples, 8 a row; the epoch's last batch (300 − 9·32 = 12 training
    // images) beside its reconstructions, 28×56 each, 8 a row.
    for (name, w, h) in [("sampled-2.png", 242, 122), ("reconst-1.png", 466, 62)] {
        let file = std::fs::File::open(out.join(name)).unwrap();
        let reader = png::Decoder::new(std::io::BufReader::new(file))
            .read_info()
            .unwrap();
        assert_eq!(
            (reader.info().width, reader.info().height),
            (w, h),
            "{name}"
        );
    }
    let bytes = std::fs::read(out.join("vae-epoch-2.safetensors")).unwrap();
    let flat = vae_webgpu::checkpoint::load(&ParamLayout::new(784, 64, 20), &bytes).unwrap();
    assert!(flat.iter().all(|v| v.is_finite()));
}

/// The four IDX files of a small 28×28 set in `dir`, and the sets themselves.
fn small_set(dir: &Path) -> (Dataset, Dataset) {
    let (train, test) = (
        common::synthetic_digits(1, 300, 28),
        common::synthetic_digits(2, 50, 28),
    );
    write_set(dir, TRAIN_IMAGES, TRAIN_LABELS, &train, false);
    write_set(dir, TEST_IMAGES, TEST_LABELS, &test, false);
    (train, test)
}

#[test]
#[cfg(feature = "webgpu")]
fn cli_and_page_checkpoints_resume_in_each_other() {
    use vae_webgpu::run::Position;
    use vae_webgpu::session::Session;
    use vae_webgpu::train::Trainer;
    let Some(gpu) = common::gpu() else { return };
    let dir = scratch("resume");
    let out = dir.join("out");
    let (train, test) = small_set(&dir);
    let (d, o) = (dir.to_str().unwrap(), out.to_str().unwrap());
    let common_flags = [
        "--batch-size",
        "32",
        "--hidden",
        "64",
        "--data",
        d,
        "--out",
        o,
    ];
    // The CLI stops 4 steps into epoch 1 (of 10 steps) and writes its checkpoint.
    let run = vae_train(&[&common_flags[..], &["--epochs", "1", "--steps", "4"]].concat());
    assert!(run.status.success(), "{}", stderr(&run));
    let cli_ck = std::fs::read(out.join("vae-epoch-1.safetensors")).unwrap();

    // ...which a session (the page's core) resumes at that place.
    let cfg = vae_webgpu::VaeConfig {
        batch_size: 32,
        hidden: 64,
        ..Default::default()
    };
    let mut s = Session::new(Trainer::new(gpu, &cfg, &train, &test).unwrap(), || 0.0);
    let here = s.resume(&cli_ck).unwrap();
    assert_eq!(
        here,
        Position {
            global_step: 4,
            epoch: 1,
            step_in_epoch: 4
        }
    );
    // The page trains on to the end of epoch 1 and exports.
    let r = pollster::block_on(s.train(100)).unwrap();
    assert!(r.epoch_finished);
    assert_eq!(r.position.global_step, 10);
    let page_ck = dir.join("page.safetensors");
    std::fs::write(&page_ck, pollster::block_on(s.export_checkpoint()).unwrap()).unwrap();

    // The CLI resumes the page's checkpoint and trains epoch 2 only.
    let args = [
        &common_flags[..],
        &["--epochs", "2", "--resume", page_ck.to_str().unwrap()],
    ];
    let run = vae_train(&args.concat());
    let (stdout, err) = (String::from_utf8_lossy(&run.stdout), stderr(&run));
    assert!(run.status.success(), "{err}");
    assert!(err.contains("step 10 (epoch 1, step 10 of 10)"), "{err}");
    assert!(!stdout.contains("Epoch[1/2]"), "{stdout}");
    assert!(stdout.contains("Epoch[2/2], Step [10/10]"), "{stdout}");
    let ck = std::fs::read(out.join("vae-epoch-2.safetensors")).unwrap();
    let meta = vae_webgpu::checkpoint::metadata(&ck).unwrap();
    assert_eq!((meta["step"].as_str(), meta["epoch"].as_str()), ("20", "2"));
    assert_eq!(meta["step_in_epoch"], "10");

    // A checkpoint of another model is refused with a message, no panic.
    let ck = page_ck.to_str().unwrap();
    let bad = vae_train(&["--hidden", "65", "--data", d, "--out", o, "--resume", ck]);
    assert_fails_with(&bad, 1, "bad checkpoint: fc1.weight has shape [64, 784]");
    let missing =
        vae_train(&[&common_flags[..], &["--resume", "/nonexistent.safetensors"]].concat());
    assert_fails_with(&missing, 1, "/nonexistent.safetensors");
}

#[test]
fn oversized_files_are_refused_before_reading() {
    let dir = scratch("huge");
    small_set(&dir);
    // A sparse file past the IDX limit stands in for a 20 GB download.
    let f = std::fs::File::create(dir.join(TRAIN_IMAGES)).unwrap();
    f.set_len(vae_webgpu::mnist::MAX_IDX_FILE_BYTES + 1)
        .unwrap();
    let o = vae_train(&["--data", dir.to_str().unwrap()]);
    assert_fails_with(&o, 1, "more than an IDX file of at most");
    let ck = dir.join("huge.safetensors");
    std::fs::File::create(&ck)
        .unwrap()
        .set_len(1 << 32)
        .unwrap();
    small_set(&dir);
    let o = vae_train(&[
        "--data",
        dir.to_str().unwrap(),
        "--resume",
        ck.to_str().unwrap(),
    ]);
    assert_fails_with(&o, 1, "more than a checkpoint of this model");
}

/// The state_dict of the seed's model class (pytorch-tutorial's `VAE(image_size=784, h_dim=400,
/// z_dim=20)`: fc1 = Linear(784, 400), fc2 and fc3 = Linear(400, 20), fc4 = Linear(20, 400),
/// fc5 = Linear(400, 784); nn.Linear(in, out) holds weight (out, in) and bias (out)), written out
/// so that no torch is needed to compare with it.
const SEED_VAE_STATE_DICT: [(&str, &[usize]); 10] = [
    ("fc1.weight", &[400, 784]),
    ("fc1.bias", &[400]),
    ("fc2.weight", &[20, 400]),
    ("fc2.bias", &[20]),
    ("fc3.weight", &[20, 400]),
    ("fc3.bias", &[20]),
    ("fc4.weight", &[400, 20]),
    ("fc4.bias", &[400]),
    ("fc5.weight", &[784, 400]),
    ("fc5.bias", &[784]),
];

#[test]
fn checkpoints_hold_exactly_the_seed_vae_state_dict() {
    // The page's shipped checkpoint, written by vae-train: the same names and shapes, f32, and
    // nothing else, so `VAE().load_state_dict(safetensors.torch.load_file(path))` loads it.
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("www/pretrained/vae-mnist-784-400-20-seed1-15ep.safetensors");
    let bytes = std::fs::read(path).unwrap();
    let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let header = std::str::from_utf8(&bytes[8..8 + n]).unwrap();
    let st = safetensors_names_and_shapes(header);
    let want: Vec<(String, Vec<usize>)> = SEED_VAE_STATE_DICT
        .iter()
        .map(|(k, s)| (k.to_string(), s.to_vec()))
        .collect();
    assert_eq!(st, want);
    assert_eq!(header.matches("\"F32\"").count(), 10);
}

/// (name, shape) of every tensor in a safetensors header, sorted as the state_dict lists them.
fn safetensors_names_and_shapes(header: &str) -> Vec<(String, Vec<usize>)> {
    let mut out = Vec::new();
    for part in header.split("},") {
        let Some(name_at) = part.rfind("\"fc") else {
            continue;
        };
        let name: String = part[name_at + 1..].split('"').next().unwrap().to_string();
        let shape_at = part.find("\"shape\":[").unwrap() + 9;
        let shape: Vec<usize> = part[shape_at..]
            .split(']')
            .next()
            .unwrap()
            .split(',')
            .map(|v| v.trim().parse().unwrap())
            .collect();
        out.push((name, shape));
    }
    let order = |n: &str| SEED_VAE_STATE_DICT.iter().position(|(k, _)| *k == n);
    out.sort_by_key(|(n, _)| order(n));
    out
}

/// The first number after `key` on each line that has it.
fn numbers_after(text: &str, key: &str) -> Vec<f64> {
    text.lines()
        .filter_map(|l| l.split(key).nth(1))
        .filter_map(|rest| rest.split([',', ' ']).find(|w| !w.is_empty()))
        .filter_map(|w| w.parse().ok())
        .collect()
}

#[test]
fn the_engine_flag_picks_the_engine_and_both_give_the_same_run() {
    let dir = scratch("engines");
    write_set(
        &dir,
        TRAIN_IMAGES,
        TRAIN_LABELS,
        &common::synthetic_digits(1, 160, 28),
        true,
    );
    write_set(
        &dir,
        TEST_IMAGES,
        TEST_LABELS,
        &common::synthetic_digits(2, 40, 28),
        false,
    );
    let run = |engine: &str| {
        let out = dir.join(format!("out-{engine}"));
        let o = vae_train(&[
            "--data",
            dir.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--epochs",
            "1",
            "--batch-size",
            "32",
            "--hidden",
            "64",
            "--log-interval",
            "1",
            "--engine",
            engine,
        ]);
        assert!(o.status.success(), "{engine}: {}", stderr(&o));
        (String::from_utf8_lossy(&o.stdout).into_owned(), stderr(&o))
    };
    let (cpu, cpu_err) = run("cpu");
    assert!(cpu_err.contains("engine: cpu (asked for)"), "{cpu_err}");
    let recon = numbers_after(&cpu, "Reconst Loss: ");
    assert_eq!(recon.len(), 5, "a line per step: {cpu}");
    assert!(recon.iter().all(|v| v.is_finite() && *v > 0.0));
    // auto says what it chose and why.
    let (_, auto_err) = run("auto");
    assert!(auto_err.contains("engine: "), "{auto_err}");
    #[cfg(feature = "webgpu")]
    if common::gpu().is_some() {
        let (gpu, gpu_err) = run("gpu");
        assert!(gpu_err.contains("engine: webgpu (asked for)"), "{gpu_err}");
        // The same seed, the same run: every step's batch sums and the test loss agree.
        let (a, b) = (
            numbers_after(&gpu, "Reconst Loss: "),
            numbers_after(&gpu, "KL Div: "),
        );
        let (c, d) = (recon, numbers_after(&cpu, "KL Div: "));
        for (x, y) in a.iter().chain(&b).zip(c.iter().chain(&d)) {
            assert!((x - y).abs() <= 1e-3 * y.abs(), "GPU {x} CPU {y}");
        }
        let (tg, tc) = (
            numbers_after(&gpu, "Test set loss: "),
            numbers_after(&cpu, "Test set loss: "),
        );
        assert_eq!(tg.len(), 1);
        assert!(
            (tg[0] - tc[0]).abs() <= 1e-3 * tc[0],
            "test loss GPU {tg:?} CPU {tc:?}"
        );
    }
    assert_fails_with(&vae_train(&["--engine", "tpu"]), 2, "invalid value 'tpu'");
}

/// Lines of `text` that start with `prefix`.
fn lines_with<'a>(text: &'a str, prefix: &str) -> Vec<&'a str> {
    text.lines().filter(|l| l.starts_with(prefix)).collect()
}

#[test]
fn ctrl_c_mid_epoch_keeps_the_run_and_resume_goes_on_exactly() {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;
    let dir = scratch("interrupt");
    let (train, test) = (
        common::synthetic_digits(3, 12_000, 28),
        common::synthetic_digits(4, 64, 28),
    );
    write_set(&dir, TRAIN_IMAGES, TRAIN_LABELS, &train, false);
    write_set(&dir, TEST_IMAGES, TEST_LABELS, &test, false);
    let d = dir.to_str().unwrap();
    // The CPU engine: the same run bit for bit whatever the threads; a line per step.
    let flags = |out: &Path| -> Vec<String> {
        [
            "--engine",
            "cpu",
            "--batch-size",
            "8",
            "--hidden",
            "100",
            "--epochs",
            "1",
            "--log-interval",
            "1",
            "--data",
            d,
            "--out",
            out.to_str().unwrap(),
        ]
        .map(String::from)
        .to_vec()
    };
    let (full_out, cut_out) = (dir.join("full"), dir.join("cut"));
    let full = Command::new(env!("CARGO_BIN_EXE_vae-train"))
        .args(flags(&full_out))
        .output()
        .unwrap();
    assert!(full.status.success(), "{}", stderr(&full));
    let full_stdout = String::from_utf8_lossy(&full.stdout).into_owned();

    // The same run, interrupted (SIGINT, as Ctrl-C sends) once it printed step 20.
    let mut child = Command::new(env!("CARGO_BIN_EXE_vae-train"))
        .args(flags(&cut_out))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    while out.read_line(&mut line).unwrap() > 0 && !line.contains("Step [20/") {
        line.clear();
    }
    let pid = child.id().to_string();
    assert!(Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .unwrap()
        .success());
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut out, &mut rest).unwrap();
    let cut = child.wait_with_output().unwrap();
    let err = stderr(&cut);
    assert_eq!(cut.status.code(), Some(130), "stderr: {err}");
    assert!(err.contains("stopping after the steps in flight"), "{err}");
    assert!(
        !full_stdout.is_empty() && !rest.contains("Test set loss"),
        "{rest}"
    );
    // It says where it stopped and how to go on, and left both files there.
    let at = err
        .split("interrupted at step ")
        .nth(1)
        .and_then(|s| s.split(' ').next())
        .and_then(|s| s.parse::<u64>().ok())
        .unwrap_or_else(|| panic!("no step in: {err}"));
    assert!((20..1500).contains(&at), "stopped mid-epoch at {at}: {err}");
    let ck = cut_out.join(format!("vae-step-{at}.safetensors"));
    assert!(err.contains(&format!("--resume {}", ck.display())), "{err}");
    assert!(cut_out
        .join(format!("vae-step-{at}.adam.safetensors"))
        .exists());

    // Resumed with the same flags: the steps after the cut print what the uninterrupted run
    // printed, to the digit, and the epoch ends in the same test loss and the same checkpoint.
    let resumed = Command::new(env!("CARGO_BIN_EXE_vae-train"))
        .args(flags(&cut_out))
        .args(["--resume", ck.to_str().unwrap()])
        .output()
        .unwrap();
    let (stdout, err) = (String::from_utf8_lossy(&resumed.stdout), stderr(&resumed));
    assert!(resumed.status.success(), "{err}");
    assert!(err.contains("Adam's state from"), "{err}");
    let steps = lines_with(&stdout, "Epoch[1/1], Step [");
    assert!(
        steps[0].starts_with(&format!("Epoch[1/1], Step [{}/", at + 1)),
        "{}",
        steps[0]
    );
    let want = lines_with(&full_stdout, "Epoch[1/1], Step [");
    assert_eq!(steps, want[want.len() - steps.len()..]);
    assert_eq!(
        lines_with(&stdout, "====> Test set loss"),
        lines_with(&full_stdout, "====> Test set loss")
    );
    // (the same tensors bit for bit and the same metadata; the header's key order varies)
    let layout = ParamLayout::new(784, 100, 20);
    let [a, b] =
        [&cut_out, &full_out].map(|o| std::fs::read(o.join("vae-epoch-1.safetensors")).unwrap());
    let bits = |bytes: &[u8]| -> Vec<u32> {
        let flat = vae_webgpu::checkpoint::load(&layout, bytes).unwrap();
        flat.iter().map(|x| x.to_bits()).collect()
    };
    assert!(bits(&a) == bits(&b), "the epoch's checkpoints differ");
    assert_eq!(
        vae_webgpu::checkpoint::metadata(&a).unwrap(),
        vae_webgpu::checkpoint::metadata(&b).unwrap()
    );
}
