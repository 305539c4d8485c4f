//! What the command-line tools share: parse the arguments, run, and turn the outcome into an
//! exit code (2 for a usage error, as clap does; 130 for a run the user interrupted; 1 with a
//! one-line message for any other error).

use std::process::ExitCode;

use crate::error::VaeError;

/// An I/O error on `path`, as the tools report it.
pub fn io_err(path: &std::path::Path, e: impl std::fmt::Display) -> VaeError {
    VaeError::Io {
        path: path.display().to_string(),
        message: e.to_string(),
    }
}

/// Parses `A` from the command line and calls `run`; prints `name: error: …` on failure.
pub fn main<A: clap::Parser>(name: &str, run: impl FnOnce(A) -> Result<(), VaeError>) -> ExitCode {
    let args = match A::try_parse() {
        Ok(a) => a,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    match run(args) {
        Ok(()) => ExitCode::SUCCESS,
        // Stopped by Ctrl-C or SIGTERM, as shells report a SIGINT's end (128 + 2).
        Err(e @ VaeError::Interrupted(_)) => {
            eprintln!("{name}: {e}");
            ExitCode::from(130)
        }
        Err(e) => {
            eprintln!("{name}: error: {e}");
            ExitCode::FAILURE
        }
    }
}
