//! The native trainer: the PyTorch VAE example's behaviour, with every numeric step on the GPU
//! (or on the CPU engine: `--engine cpu`; `auto` picks the faster one here).
//!
//! `cargo run --release --bin vae-train -- --epochs 1 --data data/mnist --out out`

#[cfg(target_arch = "wasm32")]
fn main() {
    // The trainer CLI is native only; in a browser the page drives the same core.
}

#[cfg(not(target_arch = "wasm32"))]
fn main() -> std::process::ExitCode {
    cli::main()
}

#[cfg(not(target_arch = "wasm32"))]
mod cli {
    use std::path::{Path, PathBuf};
    use std::process::ExitCode;
    use std::time::Instant;

    use indicatif::{ProgressBar, ProgressStyle};
    use vae_webgpu::cli::io_err;
    use vae_webgpu::render::{grid, side_by_side};
    use vae_webgpu::run::StepKind;
    use vae_webgpu::session::{device_for, Device, EngineChoice, Session};
    use vae_webgpu::{mnist, VaeConfig, VaeError};

    #[derive(clap::Parser, Debug)]
    #[command(
        name = "vae-train",
        version,
        about = "Train the MNIST VAE (784-400-20) on the GPU through wgpu, or on the CPU"
    )]
    struct Args {
        /// Number of epochs to train.
        #[arg(long, default_value_t = VaeConfig::default().epochs)]
        epochs: usize,
        /// Stop after this many training steps in total (default: all epochs).
        #[arg(long)]
        steps: Option<u64>,
        /// Input batch size for training and testing.
        #[arg(long = "batch-size", default_value_t = VaeConfig::default().batch_size)]
        batch_size: usize,
        /// Adam learning rate.
        #[arg(long, default_value_t = VaeConfig::default().lr)]
        lr: f32,
        /// Hidden layer width.
        #[arg(long, default_value_t = VaeConfig::default().hidden)]
        hidden: usize,
        /// Latent dimensions.
        #[arg(long, default_value_t = VaeConfig::default().latent)]
        latent: usize,
        /// Random seed (init, shuffling, ε).
        #[arg(long, default_value_t = VaeConfig::default().seed)]
        seed: u64,
        /// β of the objective BCE + β·KL (1: the seed's VAE).
        #[arg(long = "kl-weight", default_value_t = VaeConfig::default().kl_weight)]
        kl_weight: f32,
        /// Train a plain autoencoder on the same layers (z = μ, no sampling, no KL term).
        #[arg(long, conflicts_with = "no_reparameterize")]
        autoencoder: bool,
        /// Switch the reparameterization trick off: z is sampled, but no gradient from the
        /// reconstruction reaches μ and σ (only KL trains them).
        #[arg(long = "no-reparameterize")]
        no_reparameterize: bool,
        /// Directory with the four MNIST IDX files (raw or .gz).
        #[arg(long, default_value = "data/mnist")]
        data: PathBuf,
        /// Directory for PNGs and checkpoints.
        #[arg(long, default_value = "results")]
        out: PathBuf,
        /// Print the seed script's line every this many steps (its log_step, 10).
        #[arg(long = "log-interval", default_value_t = 10)]
        log_interval: u32,
        /// Continue the run a checkpoint records (this CLI's or the page's): its weights, step,
        /// epoch and place in the epoch. Adam's state comes from the file beside it that an
        /// interrupted run writes (NAME.adam.safetensors: the run goes on exactly); without
        /// one, Adam restarts. Trains on to --epochs.
        #[arg(long)]
        resume: Option<PathBuf>,
        /// Engine: gpu (WGSL through wgpu), cpu (f32 on this CPU's cores), or auto (the GPU on
        /// a hardware adapter; the CPU without an adapter, or when a probe finds it faster than
        /// a software adapter).
        #[arg(long, default_value = "auto", value_parser = ["auto", "gpu", "webgpu", "cpu"])]
        engine: String,
    }

    fn write_png(path: &Path, images: &[f32], per_row: usize, side: usize) -> Result<(), VaeError> {
        let (w, h, px) = grid(images, side, side, per_row, 2)?;
        write_gray(path, w, h, &px)
    }

    fn write_gray(path: &Path, w: usize, h: usize, px: &[u8]) -> Result<(), VaeError> {
        let file = std::fs::File::create(path).map_err(|e| io_err(path, e))?;
        let mut enc = png::Encoder::new(std::io::BufWriter::new(file), w as u32, h as u32);
        enc.set_color(png::ColorType::Grayscale);
        enc.set_depth(png::BitDepth::Eight);
        let mut writer = enc.write_header().map_err(|e| io_err(path, e))?;
        writer.write_image_data(px).map_err(|e| io_err(path, e))?;
        Ok(())
    }

    fn now_ms() -> f64 {
        static START: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
        START.get_or_init(Instant::now).elapsed().as_secs_f64() * 1e3
    }

    fn run(args: Args) -> Result<(), VaeError> {
        let cfg = VaeConfig {
            hidden: args.hidden,
            latent: args.latent,
            batch_size: args.batch_size,
            lr: args.lr,
            epochs: args.epochs,
            seed: args.seed,
            kl_weight: args.kl_weight,
            variational: !args.autoencoder,
            reparameterize: !args.no_reparameterize,
            ..VaeConfig::default()
        };
        cfg.validate(None)?;
        if args.log_interval == 0 {
            return Err(VaeError::config("log-interval", "must be at least 1"));
        }
        let (train, test) = mnist::load_mnist_dir(&args.data)?;
        let cfg = VaeConfig {
            input: train.pixels(),
            ..cfg
        };
        let resume = match &args.resume {
            Some(path) => {
                // A checkpoint is the parameters and a small header: check the size first.
                let most =
                    vae_webgpu::layout::ParamLayout::from_config(&cfg).len as u64 * 4 + (1 << 20);
                let len = std::fs::metadata(path).map_err(|e| io_err(path, e))?.len();
                if len > most {
                    return Err(io_err(
                        path,
                        format!("{len} bytes, more than a checkpoint of this model ({most})"),
                    ));
                }
                Some(std::fs::read(path).map_err(|e| io_err(path, e))?)
            }
            None => None,
        };
        std::fs::create_dir_all(&args.out).map_err(|e| io_err(&args.out, e))?;
        let side = train.rows as usize;
        let mut session = open_session(&args, &cfg, (train, test))?;
        if let (Some(bytes), Some(path)) = (&resume, &args.resume) {
            let adam_path = adam_beside(path);
            let (pos, adam) = if adam_path.exists() {
                let adam = std::fs::read(&adam_path).map_err(|e| io_err(&adam_path, e))?;
                let pos = session
                    .resume_with_adam(bytes, &adam)
                    .map_err(|e| io_err(&adam_path, e))?;
                (pos, format!("Adam's state from {}", adam_path.display()))
            } else {
                (session.resume(bytes)?, "Adam restarts".to_string())
            };
            eprintln!(
                "resumed {}: step {} (epoch {}, step {} of {}); {adam}",
                path.display(),
                pos.global_step,
                pos.epoch,
                pos.step_in_epoch,
                session.steps_per_epoch()
            );
        }
        let stop = interrupt::install();
        let max_steps = args.steps.unwrap_or(u64::MAX);
        let style = ProgressStyle::with_template(
            "epoch {prefix} [{bar:30}] {pos}/{len} steps {per_sec} {msg}",
        )
        .map_err(|e| VaeError::Internal(e.to_string()))?
        .progress_chars("=> ");
        let first = {
            let at = session.position();
            if at.epoch == 0 || session.epoch_finished() {
                at.epoch + 1
            } else {
                at.epoch
            }
        };
        for epoch in first..=cfg.epochs as u64 {
            if session.position().global_step >= max_steps {
                break;
            }
            let steps_per_epoch = session.steps_per_epoch();
            let bar = ProgressBar::new(u64::from(steps_per_epoch))
                .with_style(style.clone())
                .with_prefix(epoch.to_string());
            let started = Instant::now();
            let mut train_sum = 0.0f64;
            let kl_share = if cfg.variational { 1.0 } else { 0.0 };
            let mut seen = 0u64;
            let mut report = |recs: Vec<vae_webgpu::run::StepRecord>, bar: &ProgressBar| {
                for r in recs.iter().filter(|r| r.kind == StepKind::Train) {
                    // A plain autoencoder's loss is its reconstruction alone (the KL of its
                    // unused log σ² head is printed on the step lines, but not its loss).
                    train_sum += f64::from(r.recon) + kl_share * f64::from(r.kl);
                    seen += u64::from(r.rows);
                    if r.step % args.log_interval == 0 {
                        // The seed script's line: batch sums, as it prints them.
                        bar.suspend(|| {
                            println!(
                                "Epoch[{}/{}], Step [{}/{}], Reconst Loss: {:.4}, KL Div: {:.4}",
                                r.epoch, cfg.epochs, r.step, steps_per_epoch, r.recon, r.kl
                            )
                        });
                    }
                    bar.set_position(u64::from(r.step));
                }
            };
            loop {
                let left = max_steps - session.position().global_step;
                if left == 0 || stop.asked() {
                    break;
                }
                let chunk = left.min(u64::from(args.log_interval.clamp(1, 64))) as u32;
                report(pollster::block_on(session.steps(chunk))?, &bar);
                if session.epoch_finished() {
                    break;
                }
            }
            report(pollster::block_on(session.flush_steps())?, &bar);
            if stop.asked() {
                bar.finish_and_clear();
                return Err(interrupted(&mut session, &args));
            }
            let secs = started.elapsed().as_secs_f64();
            bar.finish_and_clear();
            let eval = pollster::block_on(session.evaluate())?;
            println!(
                "====> Epoch: {epoch} Average loss: {:.4}  ({seen} samples, {:.0} samples/s)",
                train_sum / seen.max(1) as f64,
                seen as f64 / secs
            );
            println!(
                "====> Test set loss: {:.4}  (recon {:.4}, KL {:.4} per sample)",
                eval.reconstruction + kl_share * eval.kl,
                eval.reconstruction,
                eval.kl
            );
            // As the seed script saves them: a batch of decodes of z ~ N(0, I), and the epoch's
            // last batch beside its reconstructions (torch.cat([x, x_reconst], dim=3)), 8 a row.
            let n = cfg.batch_size.min(vae_webgpu::session::MAX_REQUEST_ROWS) as u32;
            let samples = pollster::block_on(session.sample(n, args.seed.wrapping_add(epoch)))?;
            write_png(
                &args.out.join(format!("sampled-{epoch}.png")),
                &samples,
                8,
                side,
            )?;
            let (x, recon) = pollster::block_on(session.last_batch())?;
            let pairs = side_by_side(&x, &recon, side, side);
            let (w, h, px) = grid(&pairs, side, 2 * side, 8, 2)?;
            write_gray(&args.out.join(format!("reconst-{epoch}.png")), w, h, &px)?;
            let bytes = pollster::block_on(session.export_checkpoint())?;
            let ck = args.out.join(format!("vae-epoch-{epoch}.safetensors"));
            std::fs::write(&ck, bytes).map_err(|e| io_err(&ck, e))?;
        }
        Ok(())
    }

    /// Where an interrupted run's Adam state lies beside its checkpoint `path`:
    /// `vae-step-9.safetensors` → `vae-step-9.adam.safetensors`.
    fn adam_beside(path: &Path) -> PathBuf {
        let stem = path.file_stem().unwrap_or_default().to_string_lossy();
        path.with_file_name(format!("{stem}.adam.safetensors"))
    }

    /// After a Ctrl-C (or SIGTERM) and the steps in flight: writes the run's checkpoint and
    /// Adam's state beside it, says how to resume, and returns the error to exit with.
    fn interrupted(session: &mut Session, args: &Args) -> VaeError {
        let pos = session.position();
        let ck = args
            .out
            .join(format!("vae-step-{}.safetensors", pos.global_step));
        let adam = adam_beside(&ck);
        let written = pollster::block_on(session.export_checkpoint())
            .and_then(|bytes| std::fs::write(&ck, bytes).map_err(|e| io_err(&ck, e)))
            .and_then(|()| pollster::block_on(session.export_adam()))
            .and_then(|bytes| std::fs::write(&adam, bytes).map_err(|e| io_err(&adam, e)));
        match written {
            Ok(()) => {
                eprintln!(
                    "vae-train: interrupted at step {} (epoch {}, step {} of {}); the run is in {} \
                     (and Adam's state in {}).\nResume with the same flags and --resume {}",
                    pos.global_step,
                    pos.epoch,
                    pos.step_in_epoch,
                    session.steps_per_epoch(),
                    ck.display(),
                    adam.display(),
                    ck.display()
                );
                VaeError::Interrupted(format!("stopped at step {}", pos.global_step))
            }
            Err(e) => VaeError::Interrupted(format!(
                "stopped at step {}, but its checkpoint was not written: {e}",
                pos.global_step
            )),
        }
    }

    /// Ctrl-C and SIGTERM: the first asks the run to stop after the steps in flight (and
    /// write where it got to); a second exits at once.
    mod interrupt {
        use std::sync::atomic::{AtomicBool, Ordering};
        use std::sync::Arc;

        pub struct Stop(Arc<AtomicBool>);

        impl Stop {
            pub fn asked(&self) -> bool {
                self.0.load(Ordering::Relaxed)
            }
        }

        /// Installs the handler (once per process; if it cannot be installed, Ctrl-C keeps
        /// its default and the run is not stopped gracefully).
        pub fn install() -> Stop {
            let flag = Arc::new(AtomicBool::new(false));
            let seen = flag.clone();
            let installed = ctrlc::set_handler(move || {
                if seen.swap(true, Ordering::SeqCst) {
                    eprintln!("\nvae-train: stopped at once (a second interrupt)");
                    std::process::exit(130);
                }
                eprintln!("\nvae-train: stopping after the steps in flight (interrupt again to stop at once)");
            });
            if let Err(e) = installed {
                eprintln!("vae-train: Ctrl-C will stop at once ({e})");
            }
            Stop(flag)
        }
    }

    /// A session on the engine `--engine` names (auto: a hardware adapter's WebGPU, else the
    /// CPU engine, or on a software adapter the faster), with the model and data.
    fn open_session(
        args: &Args,
        cfg: &VaeConfig,
        data: (mnist::Dataset, mnist::Dataset),
    ) -> Result<Session, VaeError> {
        let choice = EngineChoice::parse(&args.engine)?;
        let (device, why_not) = pollster::block_on(device_for(choice, Device::open))?;
        if let Some(why) = why_not {
            eprintln!("no usable GPU ({why})");
        }
        let opened = Session::open_with_data(choice, device.as_ref(), cfg, data, now_ms);
        let (mut session, why) = pollster::block_on(opened)?;
        match session.device() {
            Some(d) => eprintln!(
                "engine: webgpu ({why}) — adapter {}, GEMM form {}",
                d.describe(),
                d.gemm_form()
            ),
            None => eprintln!(
                "engine: cpu ({why}) — {} threads",
                std::thread::available_parallelism().map_or(1, |n| n.get())
            ),
        }
        session.set_readback_every(args.log_interval);
        Ok(session)
    }

    pub fn main() -> ExitCode {
        vae_webgpu::cli::main("vae-train", run)
    }
}
