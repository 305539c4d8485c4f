//! Writes the f16 display copy of a checkpoint: every tensor at half precision, half the bytes,
//! the same metadata plus `precision` = "f16" (what the page downloads to show its shipped
//! models; a checkpoint to resume a run stays f32).
//!
//! `cargo run --release --bin vae-f16 -- IN.safetensors OUT.safetensors`

#[cfg(target_arch = "wasm32")]
fn main() {
    // Native only.
}

#[cfg(not(target_arch = "wasm32"))]
fn main() -> std::process::ExitCode {
    cli::main()
}

#[cfg(not(target_arch = "wasm32"))]
mod cli {
    use std::path::PathBuf;
    use std::process::ExitCode;

    use vae_webgpu::cli::io_err;
    use vae_webgpu::{checkpoint, VaeError};

    #[derive(clap::Parser, Debug)]
    #[command(
        name = "vae-f16",
        version,
        about = "Write the f16 display copy of a checkpoint (half the bytes)"
    )]
    struct Args {
        /// The f32 checkpoint (this crate's, the page's or PyTorch's safetensors).
        input: PathBuf,
        /// Where to write the f16 copy.
        output: PathBuf,
    }

    fn run(args: Args) -> Result<(), VaeError> {
        let bytes = std::fs::read(&args.input).map_err(|e| io_err(&args.input, e))?;
        let half = checkpoint::to_f16(&bytes)?;
        std::fs::write(&args.output, &half).map_err(|e| io_err(&args.output, e))?;
        println!(
            "{}: {} bytes → {}: {} bytes (f16)",
            args.input.display(),
            bytes.len(),
            args.output.display(),
            half.len()
        );
        Ok(())
    }

    pub fn main() -> ExitCode {
        vae_webgpu::cli::main("vae-f16", run)
    }
}
