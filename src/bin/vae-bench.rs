//! Benchmarks on the adapter in use (figures, never assertions): training samples/s at batch 128,
//! each GEMM shape of a step in every form the adapter runs, dispatches per step, and CPU time
//! per step.
//!
//! `cargo run --release --bin vae-bench -- [--runs 5] [--steps 100] [--data data/mnist]`

#[cfg(target_arch = "wasm32")]
fn main() {}

#[cfg(not(target_arch = "wasm32"))]
fn main() -> std::process::ExitCode {
    bench::main()
}

#[cfg(not(target_arch = "wasm32"))]
mod bench {
    use std::process::ExitCode;
    use std::time::Instant;

    use vae_webgpu::bench::{per_rep_ms, Spread};
    use vae_webgpu::gpu::{GemmForm, Gpu};
    use vae_webgpu::kernels::linear::{LinearBindings, LinearParams};
    use vae_webgpu::kernels::Kernels;
    use vae_webgpu::layout::ld;
    use vae_webgpu::mnist::{load_mnist_dir, Dataset};
    use vae_webgpu::model::{StepForm, StepSpec, VaeModel};
    use vae_webgpu::rng::{SplitMix64, STREAM_DATA};
    use vae_webgpu::run::{flop_per_sample, StepKind};
    use vae_webgpu::train::Trainer;
    use vae_webgpu::{VaeConfig, VaeError};

    #[derive(clap::Parser, Debug, Clone)]
    #[command(
        name = "vae-bench",
        about = "Benchmark the VAE's training step and kernels on this adapter"
    )]
    struct Args {
        /// Timed runs per figure (the median is reported with min and max).
        #[arg(long, default_value_t = 5)]
        runs: usize,
        /// Training steps per timed run.
        #[arg(long, default_value_t = 100)]
        steps: u32,
        /// Most kernel launches per timed GEMM run (bench::per_rep_ms adds launches up to this
        /// until a run lasts 80 ms).
        #[arg(long, default_value_t = 20)]
        reps: u32,
        /// Only the engines' table (the WGSL engine against the CPU engine), e.g. to alternate
        /// with another trainer's benchmark.
        #[arg(long = "engines-only")]
        engines_only: bool,
        /// Only the step forms' table: with the tiled GEMMs (the real-GPU form), the fused step
        /// (8 dispatches) against the separate kernels (17), in alternating rounds.
        #[arg(long = "step-forms")]
        step_forms: bool,
        /// MNIST directory (generated data of the same size is used if it is missing).
        #[arg(long, default_value = "data/mnist")]
        data: std::path::PathBuf,
    }

    fn data(args: &Args) -> (Dataset, Dataset, &'static str) {
        if let Ok((train, test)) = load_mnist_dir(&args.data) {
            return (train, test, "MNIST");
        }
        let mut g = SplitMix64::new(1, STREAM_DATA, 0);
        let mut make = |n: usize| Dataset {
            images: (0..n * 784)
                .map(|_| {
                    if g.next_f64() < 0.8 {
                        0
                    } else {
                        g.below(256) as u8
                    }
                })
                .collect(),
            labels: vec![0; n],
            rows: 28,
            cols: 28,
        };
        (make(60_000), make(10_000), "generated (MNIST not found)")
    }

    fn train_throughput(
        gpu: Gpu,
        args: &Args,
        train: &Dataset,
        test: &Dataset,
    ) -> Result<(Spread, Gpu), VaeError> {
        let cfg = VaeConfig::default();
        let mut t = Trainer::new(gpu, &cfg, train, test)?;
        t.set_readback_every(100);
        t.submit_train(20)?;
        pollster::block_on(t.flush())?;
        let mut rates = Vec::new();
        for _ in 0..args.runs {
            let start = Instant::now();
            let mut left = args.steps;
            while left > 0 {
                left -= t.submit_train(left)?;
                t.poll()?;
            }
            pollster::block_on(t.flush())?;
            rates.push(f64::from(args.steps) * 128.0 / start.elapsed().as_secs_f64());
        }
        Ok((Spread::of(rates), t.into_gpu()))
    }

    /// The two engines on the same data and steps, in alternating rounds: samples/s of the WGSL
    /// engine on this adapter and of the CPU engine (src/cpu.rs), and their ratio per round.
    fn engines(
        gpu: Gpu,
        args: &Args,
        train: &Dataset,
        test: &Dataset,
    ) -> Result<(Spread, Spread, Spread, Gpu), VaeError> {
        let cfg = VaeConfig::default();
        let mut g = Trainer::new(gpu, &cfg, train, test)?;
        g.set_readback_every(100);
        let mut c = vae_webgpu::cpu::CpuTrainer::new(&cfg, train, test)?;
        g.submit_train(5)?;
        pollster::block_on(g.flush())?;
        c.train(5)?;
        let (mut gr, mut cr, mut ratio) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..args.runs {
            let start = Instant::now();
            let mut left = args.steps;
            while left > 0 {
                left -= g.submit_train(left)?;
                g.poll()?;
            }
            pollster::block_on(g.flush())?;
            let gpu_rate = f64::from(args.steps) * 128.0 / start.elapsed().as_secs_f64();
            let start = Instant::now();
            let mut left = args.steps;
            while left > 0 {
                left -= c.train(left)?.len() as u32;
            }
            let cpu_rate = f64::from(args.steps) * 128.0 / start.elapsed().as_secs_f64();
            gr.push(gpu_rate);
            cr.push(cpu_rate);
            ratio.push(cpu_rate / gpu_rate);
        }
        Ok((
            Spread::of(gr),
            Spread::of(cr),
            Spread::of(ratio),
            g.into_gpu(),
        ))
    }

    /// Host time to record one training step (encode only, no submit), in microseconds.
    fn cpu_per_step(gpu: &Gpu, train: &Dataset, test: &Dataset) -> Result<Spread, VaeError> {
        let mut model = VaeModel::new(gpu, &VaeConfig::default())?;
        model.attach_data(gpu, train, test)?;
        let specs: Vec<StepSpec> = (0..64)
            .map(|i| StepSpec {
                kind: StepKind::Train,
                rows: 128,
                index_offset: i * 128,
                rng_step: i,
                slot: i,
                t: 1,
            })
            .collect();
        let mut us = Vec::new();
        for _ in 0..7 {
            let start = Instant::now();
            let cmd = model.encode_steps(gpu, &specs)?;
            us.push(start.elapsed().as_secs_f64() * 1e6 / 64.0);
            drop(cmd);
        }
        Ok(Spread::of(us))
    }

    struct Shape {
        name: &'static str,
        rows: u32,
        inp: u32,
        out: u32,
    }

    /// GFLOP/s of each product of a linear layer at batch 128.
    fn gemm(gpu: &Gpu, form: GemmForm, s: &Shape, args: &Args) -> Result<[Spread; 3], VaeError> {
        let k = Kernels::new(gpu, form);
        let (m, i, o) = (s.rows as usize, s.inp as usize, s.out as usize);
        let wn = o * ld(i) + ld(o);
        let fill = |n: usize| -> Vec<f32> {
            (0..n)
                .map(|j| ((j * 7919) % 97) as f32 / 97.0 - 0.5)
                .collect()
        };
        let params = gpu.storage_with("params", bytemuck::cast_slice(&fill(wn)));
        let x = gpu.storage_with("x", bytemuck::cast_slice(&fill(m * ld(i))));
        let dy = gpu.storage_with("dy", bytemuck::cast_slice(&fill(m * ld(o))));
        let y = gpu.storage("y", (m * ld(o) * 4) as u64);
        let dx = gpu.storage("dx", (m * ld(i) * 4) as u64);
        let grads = gpu.storage("grads", (wn * 4) as u64);
        let p = LinearParams {
            rows: s.rows,
            out_features: s.out,
            in_features: s.inp,
            weight_offset: 0,
            bias_offset: (o * ld(i)) as u32,
            flags: 3,
            partials_at: 0,
            _pad1: 0,
        };
        let pu = gpu.uniform("p", 32);
        gpu.queue.write_buffer(&pu, 0, bytemuck::bytes_of(&p));
        let lin = |a, b, aux, c| LinearBindings {
            params: &pu,
            a,
            b,
            aux,
            c,
        };
        let bg_f = k
            .linear
            .bind_group(gpu, "f", &lin(&x, &params, &params, &y));
        let bg_i = k.linear.bind_group(gpu, "i", &lin(&dy, &params, &x, &dx));
        let bg_p = k.linear.bind_group(gpu, "p", &lin(&dy, &x, &x, &grads));
        let flop = 2.0 * m as f64 * i as f64 * o as f64;
        let fence = gpu.storage("bench fence", 16);
        let clock = Instant::now();
        let now = move || clock.elapsed().as_secs_f64() * 1e3;
        let mut out = Vec::new();
        for which in 0..3 {
            let mut record = |reps: u32| -> Result<wgpu::CommandBuffer, VaeError> {
                let mut enc = gpu.device.create_command_encoder(&Default::default());
                {
                    let mut pass = enc.begin_compute_pass(&Default::default());
                    for _ in 0..reps {
                        match which {
                            0 => k.linear.forward(gpu, &mut pass, &bg_f, &p)?,
                            1 => k.linear.backward_input(gpu, &mut pass, &bg_i, &p)?,
                            _ => k.linear.backward_params(gpu, &mut pass, &bg_p, &p)?,
                        }
                    }
                }
                Ok(enc.finish())
            };
            let mut rates = Vec::new();
            for _ in 0..args.runs {
                let ms = pollster::block_on(per_rep_ms(gpu, &fence, &now, args.reps, &mut record))?;
                rates.push(flop / ms / 1e6);
            }
            out.push(Spread::of(rates));
        }
        let mut it = out.into_iter();
        match (it.next(), it.next(), it.next()) {
            (Some(a), Some(b), Some(c)) => Ok([a, b, c]),
            _ => Err(VaeError::Internal("benchmark produced no figures".into())),
        }
    }

    fn run(args: Args) -> Result<(), VaeError> {
        if args.runs == 0 || args.steps == 0 || args.reps == 0 {
            return Err(VaeError::config("runs/steps/reps", "must be at least 1"));
        }
        let gpu = pollster::block_on(Gpu::new())?;
        let (train, test, source) = data(&args);
        println!("adapter: {}", gpu.describe());
        println!("data: {source}; runs: {} (median [min–max])", args.runs);
        println!();
        if args.engines_only {
            return engines_table(gpu, &args, &train, &test);
        }
        if args.step_forms {
            return step_forms_table(gpu, &args, &train, &test);
        }
        let cpu = cpu_per_step(&gpu, &train, &test)?;
        let (tp, gpu) = train_throughput(gpu, &args, &train, &test)?;
        let clock = Instant::now();
        let now = move || clock.elapsed().as_secs_f64() * 1e3;
        let profile = pollster::block_on(vae_webgpu::bench::profile_step(
            &gpu,
            &VaeConfig::default(),
            (gpu.gemm, gpu.step_form()),
            &now,
        ))?;
        let peak = profile.peak_gflops;
        let gflops = tp.map(|rate| rate * flop_per_sample(&VaeConfig::default()) / 1e9);
        let pct = |gflops: f64| 100.0 * gflops / peak;
        println!("| figure | median | min | max |");
        println!("|---|---|---|---|");
        println!(
            "| training samples/s (batch 128, {} steps a run) | {:.0} | {:.0} | {:.0} |",
            args.steps, tp.median, tp.min, tp.max
        );
        println!(
            "| useful GFLOP/s ({:.2} MFLOP a sample) | {:.2} | {:.2} | {:.2} |",
            flop_per_sample(&VaeConfig::default()) / 1e6,
            gflops.median,
            gflops.min,
            gflops.max
        );
        println!(
            "| useful GFLOP/s as % of the FMA peak ({peak:.1} GFLOP/s) | {:.1}% | {:.1}% | {:.1}% |",
            pct(gflops.median),
            pct(gflops.min),
            pct(gflops.max)
        );
        println!(
            "| ms per training step | {:.2} | {:.2} | {:.2} |",
            128e3 / tp.median,
            128e3 / tp.max,
            128e3 / tp.min
        );
        println!(
            "| CPU µs to record a step | {:.1} | {:.1} | {:.1} |",
            cpu.median, cpu.min, cpu.max
        );
        println!(
            "| dispatches per training step ({:?} step form) | {} | | |",
            gpu.step_form(),
            VaeModel::dispatches_per_train_step(gpu.step_form())
        );
        println!(
            "| steps per submit (max) | {} | | |",
            vae_webgpu::kernels::MAX_STEPS_PER_SUBMIT
        );
        println!();
        println!(
            "Each stage of a step on its own ({:?} GEMM form, batch {}; median of 3 timed runs, \
             each repeated to ≥ 80 ms):",
            gpu.gemm, profile.batch
        );
        println!();
        println!("| stage | ms per step | share | GFLOP/s | % of FMA peak |");
        println!("|---|---|---|---|---|");
        let total: f64 = profile.stages.iter().map(|s| s.ms).sum();
        for st in &profile.stages {
            let (g, p) = if st.flop > 0.0 {
                (
                    format!("{:.2}", st.gflops()),
                    format!("{:.1}%", pct(st.gflops())),
                )
            } else {
                ("–".into(), "–".into())
            };
            println!(
                "| {} | {:.2} | {:.1}% | {g} | {p} |",
                st.name,
                st.ms,
                100.0 * st.ms / total,
            );
        }
        let whole = profile.step_flop / profile.step_ms / 1e6;
        println!(
            "| sum of stages | {total:.2} | 100% | {:.2} | {:.1}% |",
            profile.step_flop / total / 1e6,
            pct(profile.step_flop / total / 1e6)
        );
        println!(
            "| whole step (consecutive steps in one submit) | {:.2} | | {whole:.2} | {:.1}% |",
            profile.step_ms,
            pct(whole)
        );
        println!();
        let shapes = [
            Shape {
                name: "fc1 784→400",
                rows: 128,
                inp: 784,
                out: 400,
            },
            Shape {
                name: "fc2|fc3 400→40",
                rows: 128,
                inp: 400,
                out: 40,
            },
            Shape {
                name: "fc4 20→400",
                rows: 128,
                inp: 20,
                out: 400,
            },
            Shape {
                name: "fc5 400→784",
                rows: 128,
                inp: 400,
                out: 784,
            },
        ];
        println!(
            "GEMM GFLOP/s at batch 128, median [min–max] of {} runs of up to {} launches \
             (the median as % of the FMA peak, {peak:.1} GFLOP/s):",
            args.runs, args.reps
        );
        println!();
        println!("| layer | form | X·Wᵀ+b | dY·W | dYᵀ·X (+ bias) | ms per layer step |");
        println!("|---|---|---|---|---|---|");
        for s in &shapes {
            for form in GemmForm::available(&gpu) {
                let [f, i, w] = gemm(&gpu, form, s, &args)?;
                let flop = 2.0 * 128.0 * f64::from(s.inp) * f64::from(s.out);
                let ms = flop / 1e6 * (1.0 / f.median + 1.0 / i.median + 1.0 / w.median);
                let cell = |x: &Spread| {
                    format!(
                        "{:.2} [{:.2}–{:.2}] {:.0}%",
                        x.median,
                        x.min,
                        x.max,
                        pct(x.median)
                    )
                };
                println!(
                    "| {} | {form:?} | {} | {} | {} | {ms:.2} |",
                    s.name,
                    cell(&f),
                    cell(&i),
                    cell(&w)
                );
            }
        }
        engines_table(gpu, &args, &train, &test)
    }

    /// With the tiled GEMMs: the separate step form against the fused one on this adapter, in
    /// alternating rounds (a fresh trainer each, MNIST uploaded again), and their ratio per round.
    fn step_forms_table(
        mut gpu: Gpu,
        args: &Args,
        train: &Dataset,
        test: &Dataset,
    ) -> Result<(), VaeError> {
        gpu.gemm = GemmForm::Tiled;
        let one = Args {
            runs: 1,
            ..args.clone()
        };
        let forms = [StepForm::Separate, StepForm::Fused];
        let (mut rates, mut ratios) = ([Vec::new(), Vec::new()], Vec::new());
        for _ in 0..args.runs {
            let mut round = [0.0; 2];
            for (i, step) in forms.into_iter().enumerate() {
                gpu.step = Some(step);
                let (tp, g) = train_throughput(gpu, &one, train, test)?;
                gpu = g;
                round[i] = tp.median;
                rates[i].push(tp.median);
            }
            ratios.push(round[1] / round[0]);
        }
        let ratio = Spread::of(ratios);
        println!(
            "The step forms with the tiled GEMMs, {} alternating rounds of {} steps (batch 128):",
            args.runs, args.steps
        );
        println!();
        println!("| step form | dispatches a step | samples/s median | min | max | ÷ separate (per round) |");
        println!("|---|---|---|---|---|---|");
        for (i, step) in forms.into_iter().enumerate() {
            let r = Spread::of(rates[i].clone());
            let vs = match step {
                StepForm::Separate => "1".to_string(),
                StepForm::Fused => {
                    format!("{:.2} [{:.2}–{:.2}]", ratio.median, ratio.min, ratio.max)
                }
            };
            println!(
                "| {step:?} | {} | {:.0} | {:.0} | {:.0} | {vs} |",
                VaeModel::dispatches_per_train_step(step),
                r.median,
                r.min,
                r.max
            );
        }
        Ok(())
    }

    fn engines_table(
        gpu: Gpu,
        args: &Args,
        train: &Dataset,
        test: &Dataset,
    ) -> Result<(), VaeError> {
        let (gr, cr, ratio, gpu) = engines(gpu, args, train, test)?;
        let threads = std::env::var("MATMUL_NUM_THREADS").unwrap_or_else(|_| "default".into());
        let f = flop_per_sample(&VaeConfig::default()) / 1e9;
        println!();
        println!(
            "The engines, {} alternating rounds of {} steps (batch 128; the CPU engine's matrix \
             products on matrixmultiply, MATMUL_NUM_THREADS {threads}):",
            args.runs, args.steps
        );
        println!();
        println!("| engine | samples/s median | min | max | useful GFLOP/s | ÷ WGSL engine (per round) |");
        println!("|---|---|---|---|---|---|");
        println!(
            "| WGSL on {} | {:.0} | {:.0} | {:.0} | {:.2} | 1 |",
            gpu.describe(),
            gr.median,
            gr.min,
            gr.max,
            gr.median * f
        );
        println!(
            "| CPU (src/cpu/, {}) | {:.0} | {:.0} | {:.0} | {:.2} | {:.2} [{:.2}–{:.2}] |",
            vae_webgpu::cpu::peak::features(),
            cr.median,
            cr.min,
            cr.max,
            cr.median * f,
            ratio.median,
            ratio.min,
            ratio.max
        );
        println!();
        // The CPU engine's step by stage against this CPU's multiply-add peak.
        let clock = Instant::now();
        let now = move || clock.elapsed().as_secs_f64() * 1e3;
        let p = vae_webgpu::cpu::profile_step(&VaeConfig::default(), &now)?;
        println!(
            "The CPU engine's step by stage (batch {}), against a multiply-add peak of {:.1} \
             GFLOP/s ({} on {} threads):",
            p.batch,
            p.peak_gflops,
            vae_webgpu::cpu::peak::features(),
            vae_webgpu::cpu::peak::engine_threads()
        );
        println!();
        println!("| stage | ms per step | GFLOP/s | % of peak |");
        println!("|---|---|---|---|");
        for st in &p.stages {
            let g = st.gflops();
            let (gf, pc) = if st.flop > 0.0 {
                (
                    format!("{g:.1}"),
                    format!("{:.1}%", 100.0 * g / p.peak_gflops),
                )
            } else {
                ("–".into(), "–".into())
            };
            println!("| {} | {:.3} | {gf} | {pc} |", st.name, st.ms);
        }
        let g = p.step_flop / p.step_ms / 1e6;
        println!(
            "| whole step | {:.3} | {g:.1} | {:.1}% |",
            p.step_ms,
            100.0 * g / p.peak_gflops
        );
        println!();
        Ok(())
    }

    pub fn main() -> ExitCode {
        vae_webgpu::cli::main("vae-bench", run)
    }
}
