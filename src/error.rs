//! The crate's one error type. Every message says what went wrong and, where it can, what to do.

use thiserror::Error;

/// A defect in an IDX file (the MNIST file format). `file` names the file in the message of the
/// [`VaeError::Idx`] that wraps it.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum IdxError {
    #[error("the file is empty")]
    Empty,
    #[error("the file is {len} bytes, shorter than the 4-byte IDX magic")]
    TooShortForMagic { len: usize },
    #[error("wrong magic: the first two bytes are {got:#06x}, an IDX file starts with 0x0000")]
    WrongMagic { got: u16 },
    #[error("wrong element type {got:#04x}: MNIST IDX files hold unsigned bytes (0x08)")]
    WrongElementType { got: u8 },
    #[error("wrong number of dimensions: {got} (expected {expected})")]
    WrongRank { expected: u8, got: u8 },
    #[error(
        "the header is truncated: {needed} bytes needed for {rank} dimension sizes, {got} present"
    )]
    TruncatedHeader { rank: u8, needed: usize, got: usize },
    #[error("a dimension is zero: dims {dims:?}")]
    ZeroDimension { dims: Vec<u32> },
    #[error("dims {dims:?} claim {claimed} data bytes, more than the {limit}-byte limit")]
    TooLarge {
        dims: Vec<u32>,
        claimed: u64,
        limit: u64,
    },
    #[error("truncated data: dims {dims:?} need {expected} data bytes, the file has {got}")]
    Truncated {
        dims: Vec<u32>,
        expected: u64,
        got: u64,
    },
    #[error(
        "dims {dims:?} need {expected} data bytes but the file has {got}: dims and length disagree"
    )]
    LengthMismatch {
        dims: Vec<u32>,
        expected: u64,
        got: u64,
    },
    #[error("gzip data is corrupt or truncated: {0}")]
    Gzip(String),
    #[error("gzip data expands past the {limit}-byte limit")]
    GzipTooLarge { limit: u64 },
    #[error("{bytes} bytes follow the first gzip member (a second member or junk); save the file as one gzip stream")]
    GzipTrailing { bytes: usize },
    #[error("{images} images but {labels} labels")]
    CountMismatch { images: usize, labels: usize },
    #[error("label {label} at index {index} is out of range (labels are 0..=9)")]
    LabelOutOfRange { index: usize, label: u8 },
    #[error("images are {got_rows}x{got_cols} but this set needs {want_rows}x{want_cols}")]
    ImageSizeMismatch {
        want_rows: u32,
        want_cols: u32,
        got_rows: u32,
        got_cols: u32,
    },
}

#[derive(Debug, Error)]
pub enum VaeError {
    #[error("no GPU adapter found ({0}); natively install a Vulkan driver (e.g. Debian's mesa-vulkan-drivers for the CPU driver lavapipe), in a browser use one with WebGPU enabled")]
    NoAdapter(String),
    #[error(
        "the GPU adapter '{adapter}' lacks limit {limit}: needed {needed}, available {available}"
    )]
    MissingLimit {
        adapter: String,
        limit: &'static str,
        needed: u64,
        available: u64,
    },
    #[error("could not create the GPU device: {0}")]
    DeviceRequest(String),
    #[error(
        "the GPU device was lost: {0}; the last parameters read back are kept and can be saved"
    )]
    DeviceLost(String),
    #[error("GPU error: {0}")]
    Gpu(String),
    /// A call that needs data before any was loaded.
    #[error("no dataset is loaded: {0}")]
    NoData(String),
    /// A run stopped by the user (Ctrl-C or SIGTERM in `vae-train`), after saving where it got.
    #[error("interrupted: {0}")]
    Interrupted(String),
    /// A broken invariant inside the crate (a bug, not the caller's fault).
    #[error("internal error (please report it): {0}")]
    Internal(String),
    #[error("{file}: {defect}")]
    Idx { file: String, defect: IdxError },
    #[error("invalid config: {field}: {message}")]
    Config {
        field: &'static str,
        message: String,
    },
    /// Values handed to encode/decode (pixels, z) of the wrong length or not finite.
    #[error("invalid {what}: {message}")]
    Input { what: &'static str, message: String },
    /// A request for more rows (images, latent vectors) than one call may ask for.
    #[error("invalid {what}: {asked} asked for; at most {limit} per call")]
    TooLarge {
        what: &'static str,
        asked: usize,
        limit: usize,
    },
    #[error("bad checkpoint: {0}")]
    Checkpoint(String),
    #[error("{path}: {message}")]
    Io { path: String, message: String },
    /// Parameters that are not finite where finite ones are needed (a checkpoint to write).
    #[error("the run diverged: {0}")]
    Diverged(String),
    #[error("the {what} became non-finite at step {step} (reconstruction {recon}, KL {kl}); the parameters of step {restored_step}, the last good ones, were restored; lower the learning rate before going on")]
    NonFinite {
        /// "loss" or "parameters".
        what: &'static str,
        step: u64,
        recon: f32,
        kl: f32,
        /// The training step whose parameters (and Adam state) are now in place.
        restored_step: u64,
    },
}

/// Every code [`VaeError::code`] gives, and the ones the JS API adds at its boundary
/// (`no-webgpu`: the browser offers no WebGPU; `freed`: a call on a freed trainer;
/// `no-worker`: the browser cannot start the trainer's module worker; `interrupted` is the
/// CLI's).
pub const ERROR_CODES: [&str; 16] = [
    "no-webgpu",
    "no-adapter",
    "device-lost",
    "gpu",
    "no-data",
    "internal",
    "bad-data",
    "bad-config",
    "bad-argument",
    "too-large",
    "bad-checkpoint",
    "io",
    "diverged",
    "freed",
    "no-worker",
    "interrupted",
];

impl VaeError {
    /// A stable code a program can tell errors apart by (the JS API's `error.code`): one of
    /// [`ERROR_CODES`].
    pub fn code(&self) -> &'static str {
        match self {
            VaeError::NoAdapter(_) | VaeError::MissingLimit { .. } | VaeError::DeviceRequest(_) => {
                "no-adapter"
            }
            VaeError::DeviceLost(_) => "device-lost",
            VaeError::Gpu(_) => "gpu",
            VaeError::NoData(_) => "no-data",
            VaeError::Internal(_) => "internal",
            VaeError::Idx { .. } => "bad-data",
            VaeError::Config { .. } => "bad-config",
            VaeError::Input { .. } => "bad-argument",
            VaeError::TooLarge { .. } => "too-large",
            VaeError::Checkpoint(_) => "bad-checkpoint",
            VaeError::Io { .. } => "io",
            VaeError::NonFinite { .. } | VaeError::Diverged(_) => "diverged",
            VaeError::Interrupted(_) => "interrupted",
        }
    }

    pub fn config(field: &'static str, message: impl Into<String>) -> Self {
        VaeError::Config {
            field,
            message: message.into(),
        }
    }

    pub fn idx(file: impl Into<String>, defect: IdxError) -> Self {
        VaeError::Idx {
            file: file.into(),
            defect,
        }
    }
}

pub type Result<T, E = VaeError> = std::result::Result<T, E>;
