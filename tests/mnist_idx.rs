//! The IDX parser on every kind of malformed input, and on real-format good input, raw and gzip.

use std::io::Write;

use vae_webgpu::mnist::{encode_idx, parse_idx, Dataset, MAX_IDX_BYTES};
use vae_webgpu::{IdxError, VaeError};

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

fn images(n: u32) -> Vec<u8> {
    encode_idx(&[n, 2, 3], &(0..n * 6).map(|i| i as u8).collect::<Vec<_>>())
}

#[test]
fn parses_raw_and_gzip() {
    let raw = images(4);
    for bytes in [raw.clone(), gzip(&raw)] {
        let idx = parse_idx(&bytes, 3).unwrap();
        assert_eq!(idx.dims, vec![4, 2, 3]);
        assert_eq!(idx.data.len(), 24);
        assert_eq!(idx.data[23], 23);
    }
    let ds = Dataset::from_idx(&gzip(&raw), &encode_idx(&[4], &[0, 9, 3, 1]), ("i", "l")).unwrap();
    assert_eq!((ds.len(), ds.pixels(), ds.image(1)[0]), (4, 6, 6));
}

#[test]
fn empty_file() {
    assert_eq!(parse_idx(&[], 3), Err(IdxError::Empty));
    assert_eq!(parse_idx(&gzip(&[]), 3), Err(IdxError::Empty));
}

#[test]
fn too_short_for_magic() {
    assert_eq!(
        parse_idx(&[0, 0, 8], 3),
        Err(IdxError::TooShortForMagic { len: 3 })
    );
}

#[test]
fn wrong_magic() {
    let mut b = images(1);
    b[0] = 0x50; // e.g. a PNG or text file
    assert_eq!(parse_idx(&b, 3), Err(IdxError::WrongMagic { got: 0x5000 }));
}

#[test]
fn wrong_element_type() {
    let mut b = images(1);
    b[2] = 0x0D; // float
    assert_eq!(
        parse_idx(&b, 3),
        Err(IdxError::WrongElementType { got: 0x0D })
    );
}

#[test]
fn wrong_rank_means_images_and_labels_swapped() {
    let labels = encode_idx(&[3], &[1, 2, 3]);
    assert_eq!(
        parse_idx(&labels, 3),
        Err(IdxError::WrongRank {
            expected: 3,
            got: 1
        })
    );
    let err = Dataset::from_idx(&labels, &images(3), ("imgs", "labs")).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("imgs: wrong number of dimensions"),
        "{err}"
    );
}

#[test]
fn truncated_header() {
    let b = images(1)[..9].to_vec();
    assert_eq!(
        parse_idx(&b, 3),
        Err(IdxError::TruncatedHeader {
            rank: 3,
            needed: 12,
            got: 5
        })
    );
}

#[test]
fn truncated_data() {
    let b = images(4);
    let cut = &b[..b.len() - 5];
    assert_eq!(
        parse_idx(cut, 3),
        Err(IdxError::Truncated {
            dims: vec![4, 2, 3],
            expected: 24,
            got: 19
        })
    );
}

#[test]
fn dims_disagree_with_length() {
    let mut b = images(4);
    b.extend_from_slice(&[1, 2]);
    assert_eq!(
        parse_idx(&b, 3),
        Err(IdxError::LengthMismatch {
            dims: vec![4, 2, 3],
            expected: 24,
            got: 26
        })
    );
}

#[test]
fn zero_dimension() {
    assert_eq!(
        parse_idx(&encode_idx(&[0, 28, 28], &[]), 3),
        Err(IdxError::ZeroDimension {
            dims: vec![0, 28, 28]
        })
    );
}

#[test]
fn huge_claims_are_rejected_before_allocating() {
    // 2^32 − 1 images of 28×28 claimed by a 16-byte header.
    let b = encode_idx(&[u32::MAX, 28, 28], &[]);
    match parse_idx(&b, 3) {
        Err(IdxError::TooLarge { claimed, limit, .. }) => {
            assert_eq!(claimed, u64::from(u32::MAX) * 784);
            assert_eq!(limit, MAX_IDX_BYTES);
        }
        other => panic!("expected TooLarge, got {other:?}"),
    }
}

#[test]
fn corrupt_and_truncated_gzip() {
    let g = gzip(&images(50));
    match parse_idx(&g[..g.len() / 2], 3) {
        Err(IdxError::Gzip(_)) => {}
        other => panic!("expected a gzip error, got {other:?}"),
    }
    let mut bad = g.clone();
    for b in bad.iter_mut().skip(12).take(20) {
        *b ^= 0x5A;
    }
    assert!(matches!(parse_idx(&bad, 3), Err(IdxError::Gzip(_))));
}

#[test]
fn images_and_labels_count_mismatch() {
    let err = Dataset::from_idx(&images(4), &encode_idx(&[3], &[1, 2, 3]), ("a", "b")).unwrap_err();
    match err {
        VaeError::Idx {
            defect:
                IdxError::CountMismatch {
                    images: 4,
                    labels: 3,
                },
            ..
        } => {}
        other => panic!("{other:?}"),
    }
}

#[test]
fn label_out_of_range() {
    let err = Dataset::from_idx(
        &images(3),
        &encode_idx(&[3], &[1, 10, 3]),
        ("a", "labels.idx"),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "labels.idx: label 10 at index 1 is out of range (labels are 0..=9)"
    );
}
