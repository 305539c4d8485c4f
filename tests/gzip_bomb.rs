//! Gzip bombs and junk headers: the IDX reader inflates a stream only as far as its header's
//! (checked) claim, so peak memory follows the claim, not the file's expansion. Its own test
//! binary with one test, so the counting allocator sees nothing else.

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};

use vae_webgpu::mnist::{parse_idx, MAX_IDX_BYTES};
use vae_webgpu::IdxError;

struct Counting;

static NOW: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        let now = NOW.fetch_add(l.size(), Ordering::Relaxed) + l.size();
        PEAK.fetch_max(now, Ordering::Relaxed);
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        NOW.fetch_sub(l.size(), Ordering::Relaxed);
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        let now = NOW.fetch_add(new, Ordering::Relaxed) + new;
        PEAK.fetch_max(now, Ordering::Relaxed);
        NOW.fetch_sub(l.size(), Ordering::Relaxed);
        unsafe { System.realloc(p, l, new) }
    }
}

#[global_allocator]
static A: Counting = Counting;

/// Peak bytes allocated while `f` runs, above what was allocated before.
fn peak_during<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let base = NOW.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    let r = f();
    (r, PEAK.load(Ordering::Relaxed) - base)
}

/// A gzip file: an IDX header (type byte `ty`, dims) followed by `zeros` zero bytes.
fn bomb(ty: u8, dims: &[u32], zeros: usize) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let mut head = vec![0, 0, ty, dims.len() as u8];
    for d in dims {
        head.extend_from_slice(&d.to_be_bytes());
    }
    enc.write_all(&head).unwrap();
    let block = vec![0u8; 1 << 20];
    for _ in 0..zeros >> 20 {
        enc.write_all(&block).unwrap();
    }
    enc.finish().unwrap()
}

#[test]
fn gzip_bombs_and_junk_headers_allocate_only_what_the_header_claims() {
    const MIB: usize = 1 << 20;
    // The recipe: 684,784 images of 28×28 (just under 512 MiB) and 512 MiB of zeros,
    // a few MB file: refused from the header, before inflating the data.
    let file = bomb(0x08, &[684_784, 28, 28], 512 * MIB);
    assert!(file.len() < 4 * MIB, "{}", file.len());
    let (r, peak) = peak_during(|| parse_idx(&file, 3));
    assert!(matches!(r, Err(IdxError::TooLarge { .. })), "{r:?}");
    assert!(peak < 2 * MIB, "peak {peak} bytes for a refused header");
    // A junk header: wrong element type, found at once.
    let junk = bomb(0x0d, &[684_784, 28, 28], 512 * MIB);
    let (r, peak) = peak_during(|| parse_idx(&junk, 3));
    assert_eq!(r, Err(IdxError::WrongElementType { got: 0x0d }));
    assert!(peak < 2 * MIB, "peak {peak} bytes for a junk header");
    // A claim under the limit (1,000 images) over 300 MiB of zeros: the claim is read, the rest
    // counted without being kept, then refused.
    let long = bomb(0x08, &[1000, 28, 28], 300 * MIB);
    let (r, peak) = peak_during(|| parse_idx(&long, 3));
    match r {
        Err(IdxError::GzipTooLarge { limit }) => assert!(limit > MAX_IDX_BYTES),
        Err(IdxError::LengthMismatch { expected, got, .. }) => {
            assert_eq!(expected, 784_000);
            assert!(got > expected);
        }
        other => panic!("expected the trailing data refused, got {other:?}"),
    }
    assert!(peak < 4 * MIB, "peak {peak} bytes for 784,000 claimed");
    // A header claiming the limit over a short stream: memory follows the bytes that arrive.
    let short = bomb(0x08, &[170_000, 28, 28], 2 * MIB);
    let (r, peak) = peak_during(|| parse_idx(&short, 3));
    assert!(matches!(r, Err(IdxError::Truncated { .. })), "{r:?}");
    assert!(peak < 8 * MIB, "peak {peak} bytes for a 2 MiB stream");
    // Two gzip members: the second is refused explicitly, not ignored.
    let one = bomb(0x08, &[1, 2, 2], 0);
    let mut two = one.clone();
    two.extend_from_slice(&one);
    let r = parse_idx(&two, 3);
    // (the first member's data is 4 bytes short; make it whole)
    assert!(r.is_err());
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(&[0, 0, 8, 1, 0, 0, 0, 2, 5, 6]).unwrap();
    let member = enc.finish().unwrap();
    assert_eq!(parse_idx(&member, 1).unwrap().data, vec![5, 6]);
    let doubled = [member.clone(), member].concat();
    let e = parse_idx(&doubled, 1).unwrap_err();
    assert!(matches!(e, IdxError::GzipTrailing { .. }), "{e:?}");
    assert!(
        e.to_string().contains("follow the first gzip member"),
        "{e}"
    );
}
