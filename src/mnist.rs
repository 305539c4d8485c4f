//! The IDX file format (MNIST's), raw or gzip-compressed, and the dataset it makes.
//!
//! Every malformed input gives an [`IdxError`]; nothing is allocated from a header's claims until
//! the claims are checked against [`MAX_IDX_BYTES`] and the bytes actually present.

use std::io::Read;

use crate::error::{IdxError, Result, VaeError};

/// Largest data section accepted: 128 MiB, the storage binding the trainer asks every device
/// for (`gpu::DEFAULT_STORAGE_BINDING`; the dataset is one binding), ~2.7× MNIST's train images.
/// A gzip file is inflated only as far as its header's claim, and that claim is checked first.
pub const MAX_IDX_BYTES: u64 = 128 << 20;
/// Largest IDX file read from disk: the data limit and the largest header.
pub const MAX_IDX_FILE_BYTES: u64 = MAX_IDX_BYTES + 4 + 4 * 255;
/// IDX element type of unsigned bytes.
const IDX_U8: u8 = 0x08;
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
/// Bytes read at a time while inflating.
const CHUNK: usize = 64 << 10;

/// A parsed IDX file: its dimension sizes and its data bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Idx {
    pub dims: Vec<u32>,
    pub data: Vec<u8>,
}

type IdxResult<T> = std::result::Result<T, IdxError>;

/// Reads into `buf` until it is full or the stream ends; returns the bytes read.
fn read_full(r: &mut impl Read, buf: &mut [u8]) -> IdxResult<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(IdxError::Gzip(e.to_string())),
        }
    }
    Ok(n)
}

/// Checks the 4-byte magic and returns the dimension sizes and the data bytes they claim,
/// reading only the header from `r`.
fn read_header(r: &mut impl Read, rank: u8) -> IdxResult<(Vec<u32>, u64)> {
    let mut magic = [0u8; 4];
    let n = read_full(r, &mut magic)?;
    if n == 0 {
        return Err(IdxError::Empty);
    }
    if n < 4 {
        return Err(IdxError::TooShortForMagic { len: n });
    }
    let m = u16::from_be_bytes([magic[0], magic[1]]);
    if m != 0 {
        return Err(IdxError::WrongMagic { got: m });
    }
    if magic[2] != IDX_U8 {
        return Err(IdxError::WrongElementType { got: magic[2] });
    }
    if magic[3] != rank {
        return Err(IdxError::WrongRank {
            expected: rank,
            got: magic[3],
        });
    }
    let mut header = vec![0u8; 4 * rank as usize];
    let got = read_full(r, &mut header)?;
    if got < header.len() {
        return Err(IdxError::TruncatedHeader {
            rank,
            needed: header.len(),
            got,
        });
    }
    let dims: Vec<u32> = header
        .chunks_exact(4)
        .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    if dims.contains(&0) {
        return Err(IdxError::ZeroDimension { dims });
    }
    let claimed = dims
        .iter()
        .try_fold(1u64, |acc, &d| acc.checked_mul(u64::from(d)))
        .unwrap_or(u64::MAX);
    if claimed > MAX_IDX_BYTES {
        return Err(IdxError::TooLarge {
            dims,
            claimed,
            limit: MAX_IDX_BYTES,
        });
    }
    Ok((dims, claimed))
}

/// Reads the `claimed` data bytes of an IDX file from `r`, then makes sure nothing follows.
/// Memory grows with the bytes that actually arrive (never past `claimed`), so a header that
/// claims much over a short stream allocates little; bytes past the claim are counted without
/// being kept (at most [`MAX_IDX_BYTES`] of them).
fn read_data(r: &mut impl Read, dims: Vec<u32>, claimed: u64) -> IdxResult<Vec<u8>> {
    let claimed_len = claimed as usize;
    let mut data: Vec<u8> = Vec::new();
    while data.len() < claimed_len {
        let want = (claimed_len - data.len()).min(data.len().max(CHUNK));
        data.reserve_exact(want);
        let at = data.len();
        data.resize(at + want, 0);
        let got = read_full(r, &mut data[at..])?;
        data.truncate(at + got);
        if got < want {
            return Err(IdxError::Truncated {
                dims,
                expected: claimed,
                got: data.len() as u64,
            });
        }
    }
    let mut extra = 0u64;
    let mut scratch = vec![0u8; CHUNK];
    loop {
        let got = read_full(r, &mut scratch)?;
        extra += got as u64;
        if got == 0 {
            break;
        }
        if extra > MAX_IDX_BYTES {
            return Err(IdxError::GzipTooLarge {
                limit: claimed + MAX_IDX_BYTES,
            });
        }
    }
    if extra > 0 {
        return Err(IdxError::LengthMismatch {
            dims,
            expected: claimed,
            got: claimed + extra,
        });
    }
    Ok(data)
}

/// Parses an IDX file of unsigned bytes with `rank` dimensions, gzip-compressed or not. Gzip is
/// inflated as a stream: the header first, then only the data it claims; a file with a second
/// gzip member is refused.
pub fn parse_idx(bytes: &[u8], rank: u8) -> IdxResult<Idx> {
    if bytes.is_empty() {
        return Err(IdxError::Empty);
    }
    if !bytes.starts_with(&GZIP_MAGIC) {
        let mut r = bytes;
        let (dims, claimed) = read_header(&mut r, rank)?;
        let got = r.len() as u64;
        if got < claimed {
            return Err(IdxError::Truncated {
                dims,
                expected: claimed,
                got,
            });
        }
        if got > claimed {
            return Err(IdxError::LengthMismatch {
                dims,
                expected: claimed,
                got,
            });
        }
        return Ok(Idx {
            dims,
            data: r.to_vec(),
        });
    }
    let mut dec = flate2::bufread::GzDecoder::new(bytes);
    let (dims, claimed) = read_header(&mut dec, rank)?;
    let data = read_data(&mut dec, dims.clone(), claimed)?;
    let rest = dec.into_inner();
    if !rest.is_empty() {
        return Err(IdxError::GzipTrailing { bytes: rest.len() });
    }
    Ok(Idx { dims, data })
}

/// Images (u8 pixels, row-major) and their labels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dataset {
    pub images: Vec<u8>,
    pub labels: Vec<u8>,
    pub rows: u32,
    pub cols: u32,
}

impl Dataset {
    /// Builds a dataset from an images IDX (rank 3) and a labels IDX (rank 1). `names` label the
    /// two files in error messages.
    pub fn from_idx(images: &[u8], labels: &[u8], names: (&str, &str)) -> Result<Self> {
        let img = parse_idx(images, 3).map_err(|e| VaeError::idx(names.0, e))?;
        let lab = parse_idx(labels, 1).map_err(|e| VaeError::idx(names.1, e))?;
        let (n_img, n_lab) = (img.dims[0] as usize, lab.dims[0] as usize);
        if n_img != n_lab {
            return Err(VaeError::idx(
                format!("{} / {}", names.0, names.1),
                IdxError::CountMismatch {
                    images: n_img,
                    labels: n_lab,
                },
            ));
        }
        if let Some((index, &label)) = lab.data.iter().enumerate().find(|(_, &l)| l > 9) {
            return Err(VaeError::idx(
                names.1,
                IdxError::LabelOutOfRange { index, label },
            ));
        }
        Ok(Dataset {
            images: img.data,
            labels: lab.data,
            rows: img.dims[1],
            cols: img.dims[2],
        })
    }

    pub fn len(&self) -> usize {
        self.labels.len()
    }

    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Pixels per image.
    pub fn pixels(&self) -> usize {
        (self.rows * self.cols) as usize
    }

    pub fn image(&self, i: usize) -> &[u8] {
        let p = self.pixels();
        &self.images[i * p..(i + 1) * p]
    }

    /// The first `n` images (all of them if `n` is larger).
    pub fn take(&self, n: usize) -> Dataset {
        let n = n.min(self.len());
        Dataset {
            images: self.images[..n * self.pixels()].to_vec(),
            labels: self.labels[..n].to_vec(),
            rows: self.rows,
            cols: self.cols,
        }
    }

    /// Rejects a set whose image size differs from `other`'s (train and test must agree).
    pub fn check_same_shape(&self, other: &Dataset, name: &str) -> Result<()> {
        if (self.rows, self.cols) != (other.rows, other.cols) {
            return Err(VaeError::idx(
                name,
                IdxError::ImageSizeMismatch {
                    want_rows: other.rows,
                    want_cols: other.cols,
                    got_rows: self.rows,
                    got_cols: self.cols,
                },
            ));
        }
        Ok(())
    }
}

/// File names of the four MNIST IDX files (each may also be present with a `.gz` suffix).
pub const TRAIN_IMAGES: &str = "train-images-idx3-ubyte";
pub const TRAIN_LABELS: &str = "train-labels-idx1-ubyte";
pub const TEST_IMAGES: &str = "t10k-images-idx3-ubyte";
pub const TEST_LABELS: &str = "t10k-labels-idx1-ubyte";
/// The four files of a data set, in the order every loader takes them (file names without
/// `.gz`; either form is read).
pub const FILE_NAMES: [&str; 4] = [TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES, TEST_LABELS];
/// What each of [`FILE_NAMES`] holds, as error messages name it.
pub const FILE_ROLES: [&str; 4] = [
    "training images",
    "training labels",
    "test images",
    "test labels",
];

#[cfg(not(target_arch = "wasm32"))]
fn read_idx_file(dir: &std::path::Path, name: &str) -> Result<(String, Vec<u8>)> {
    for candidate in [name.to_string(), format!("{name}.gz")] {
        let path = dir.join(&candidate);
        if path.is_file() {
            let io = |message: String| VaeError::Io {
                path: path.display().to_string(),
                message,
            };
            // Checked before reading: a 20 GB file is refused, not read whole.
            let len = std::fs::metadata(&path)
                .map_err(|e| io(e.to_string()))?
                .len();
            if len > MAX_IDX_FILE_BYTES {
                return Err(io(format!(
                    "{len} bytes, more than an IDX file of at most {MAX_IDX_BYTES} data bytes can be"
                )));
            }
            let bytes = std::fs::read(&path).map_err(|e| io(e.to_string()))?;
            return Ok((path.display().to_string(), bytes));
        }
    }
    Err(VaeError::Io {
        path: dir.join(name).display().to_string(),
        message: format!(
            "not found (nor {name}.gz); run scripts/fetch-mnist.sh to fetch MNIST into data/mnist"
        ),
    })
}

/// Loads MNIST's train and test sets from a directory holding the four IDX files.
#[cfg(not(target_arch = "wasm32"))]
pub fn load_mnist_dir(dir: &std::path::Path) -> Result<(Dataset, Dataset)> {
    let (ti_name, ti) = read_idx_file(dir, TRAIN_IMAGES)?;
    let (tl_name, tl) = read_idx_file(dir, TRAIN_LABELS)?;
    let (vi_name, vi) = read_idx_file(dir, TEST_IMAGES)?;
    let (vl_name, vl) = read_idx_file(dir, TEST_LABELS)?;
    let train = Dataset::from_idx(&ti, &tl, (&ti_name, &tl_name))?;
    let test = Dataset::from_idx(&vi, &vl, (&vi_name, &vl_name))?;
    test.check_same_shape(&train, &vi_name)?;
    Ok((train, test))
}

/// Encodes an IDX file of unsigned bytes (used by tests and tools that write small data sets).
pub fn encode_idx(dims: &[u32], data: &[u8]) -> Vec<u8> {
    let mut out = vec![0, 0, IDX_U8, dims.len() as u8];
    for d in dims {
        out.extend_from_slice(&d.to_be_bytes());
    }
    out.extend_from_slice(data);
    out
}
