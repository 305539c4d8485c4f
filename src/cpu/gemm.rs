//! The CPU engine's own matrix product, the one its wasm builds run: C = A·B + β·C on strided
//! views, A and B packed into panels, a 4 × 8 register tile of C computed by a micro-kernel of
//! 4-lane vectors (wasm SIMD128: one broadcast load of A and two vector loads of B per 8
//! multiply-adds, `f32x4.relaxed_madd` in the relaxed-SIMD build; elsewhere the same arithmetic
//! on `[f32; 4]`, which is what the native tests check), and the tiles spread over the
//! [`pool`]'s threads.
//!
//! Natively the engine keeps `matrixmultiply` (its AVX2/FMA kernels reach the cores' peak); in
//! wasm that crate's SIMD128 kernel spends a lane shuffle on every multiply-add and measured a
//! third of the peak (`docs/engines.md`).
//!
//! Every element of C is summed in the same order whatever the split: k in [`k_blocks`]
//! blocks from 0 up, each block's products in k order into the register tile, then added to C. A
//! product split over any number of parts is the same bit for bit.

use std::cell::RefCell;

use super::pool::{self, Blocks, Disjoint};

/// Rows of C in a register tile (A's panels are this many rows, k-major).
pub const MR: usize = 4;
/// Columns of C in a register tile (B's panels are this many columns, k-major): two vectors.
pub const NR: usize = 8;
/// k is taken in blocks of at most this many ([`k_blocks`], of nearly equal length): a B
/// panel of a block (at most 16 KiB) stays in the L1 cache while every A panel passes it.
pub const KC: usize = 512;

/// A strided matrix view: element (i, j) at `i·row + j·col`.
#[derive(Clone, Copy, Debug)]
pub struct Strides {
    pub row: usize,
    pub col: usize,
}

impl Strides {
    /// Row-major with `cols` columns.
    pub fn dense(cols: usize) -> Self {
        Strides { row: cols, col: 1 }
    }

    /// The transpose of a row-major matrix with `cols` columns.
    pub fn transposed(cols: usize) -> Self {
        Strides { row: 1, col: cols }
    }

    /// The index one past the last element of a `rows` × `cols` matrix.
    pub fn extent(self, rows: usize, cols: usize) -> usize {
        if rows == 0 || cols == 0 {
            0
        } else {
            (rows - 1) * self.row + (cols - 1) * self.col + 1
        }
    }
}

/// Panics unless the views of A (m × k), B (k × n) and C (m × n) lie inside slices of these
/// lengths.
pub fn check_views(
    (m, k, n): (usize, usize, usize),
    (a, sa): (usize, Strides),
    (b, sb): (usize, Strides),
    (c, sc): (usize, Strides),
) {
    assert!(
        sa.extent(m, k) <= a && sb.extent(k, n) <= b && sc.extent(m, n) <= c,
        "a matrix view runs past its buffer"
    );
}

/// What is done to C beside the product while a tile is in registers: a bias added to every
/// row at the first k block (in place of β·C), and ReLU or ReLU's derivative applied at the
/// last. The same arithmetic as the separate passes it replaces (a bias copied into C with
/// β = 1; `if x > 0 { x } else { 0 }`; zero where the activation is ≤ 0), so the same bits.
#[derive(Clone, Copy, Debug, Default)]
pub struct Epilogue<'a> {
    /// n values, one a column of C (β is then unused).
    pub bias: Option<&'a [f32]>,
    pub last: Last<'a>,
}

/// What the last k block does to C.
#[derive(Clone, Copy, Debug, Default)]
pub enum Last<'a> {
    /// C as summed.
    #[default]
    Keep,
    /// max(C, 0) (0 for NaN): ReLU.
    Relu,
    /// C where the activation is > 0, else 0: the gradient through a ReLU whose outputs these
    /// are, laid out as C's view.
    ReluGrad(&'a [f32]),
}

impl Epilogue<'_> {
    /// C as summed: no bias, nothing at the end.
    pub const NONE: Epilogue<'static> = Epilogue {
        bias: None,
        last: Last::Keep,
    };

    /// Panics unless the bias has n values and the activations cover C's view.
    fn check(&self, n: usize, c_extent: usize) {
        if let Some(bias) = self.bias {
            assert!(bias.len() >= n, "the bias is shorter than C's row");
        }
        if let Last::ReluGrad(act) = self.last {
            assert!(act.len() >= c_extent, "the activations do not cover C");
        }
    }
}

/// ReLU as the epilogue applies it: `x` if `x > 0`, else 0 (NaN included).
#[inline(always)]
pub fn relu(x: f32) -> f32 {
    if x > 0.0 {
        x
    } else {
        0.0
    }
}

/// The gradient `d` through a ReLU whose output was `act`: 0 where `act` ≤ 0.
#[inline(always)]
pub fn relu_grad(d: f32, act: f32) -> f32 {
    if act <= 0.0 {
        0.0
    } else {
        d
    }
}

thread_local! {
    /// The packed panels of A and of B, kept between products (the calling thread's).
    static PACKS: RefCell<(Vec<f32>, Vec<f32>)> = const { RefCell::new((Vec::new(), Vec::new())) };
}

/// C (m × n) = A (m × k) · B (k × n) + β·C (β = 0: C is only written), then the epilogue `ep`,
/// in up to `parts` parts over the [`pool`]'s threads. Panics when a view runs past its slice.
#[allow(clippy::too_many_arguments)]
pub fn gemm(
    parts: usize,
    (m, k, n): (usize, usize, usize),
    (a, sa): (&[f32], Strides),
    (b, sb): (&[f32], Strides),
    beta: f32,
    (c, sc): (&mut [f32], Strides),
    ep: Epilogue<'_>,
) {
    check_views((m, k, n), (a.len(), sa), (b.len(), sb), (c.len(), sc));
    ep.check(n, sc.extent(m, n));
    if m == 0 || n == 0 {
        return;
    }
    let (mp, np) = (m.div_ceil(MR), n.div_ceil(NR));
    PACKS.with(|packs| {
        let mut packs = packs.borrow_mut();
        let (ap, bp) = &mut *packs;
        grow(ap, mp * MR * k);
        grow(bp, np * NR * k);
        // Packing: A's panels and B's panels, in blocks of panels over the threads (none
        // when k = 0: C is then β·C or the bias, through the epilogue).
        let (pa, pb) = (Blocks::new(mp, parts, 1), Blocks::new(np, parts, 1));
        if k > 0 {
            let (apd, bpd) = (Disjoint::new(ap), Disjoint::new(bp));
            pool::run(pa.count().max(pb.count()), &|part| {
                if part < pa.count() {
                    let r = pa.get(part);
                    // SAFETY: the parts' panel blocks are disjoint.
                    let out = unsafe { apd.range(r.start * MR * k..r.end * MR * k) };
                    pack_a(out, a, sa, m, k, r.start);
                }
                if part < pb.count() {
                    let r = pb.get(part);
                    // SAFETY: as above.
                    let out = unsafe { bpd.range(r.start * NR * k..r.end * NR * k) };
                    pack_b(out, b, sb, n, k, r.start);
                }
            });
        }
        // The tiles, by blocks of C's panel rows (when there are more of them) or columns.
        let by_rows = mp >= np;
        let blocks = Blocks::new(if by_rows { mp } else { np }, parts, 1);
        let (ap, bp) = (&ap[..], &bp[..]);
        let cd = Disjoint::new(c);
        pool::run(blocks.count(), &|part| {
            let r = blocks.get(part);
            let (rows, cols) = if by_rows { (r, 0..np) } else { (0..mp, r) };
            // k in blocks from 0 up; one empty block when k = 0.
            let kb = k_blocks(k);
            for blk in 0..kb {
                let k0 = blk * k / kb;
                let kc = (blk + 1) * k / kb - k0;
                for j in cols.clone() {
                    let bpan = &bp[(j * k + k0) * NR..(j * k + k0 + kc) * NR];
                    for i in rows.clone() {
                        let apan = &ap[(i * k + k0) * MR..(i * k + k0 + kc) * MR];
                        let tile = kernel(kc, apan, bpan);
                        let at = Block {
                            first: k0 == 0,
                            last: k0 + kc == k,
                        };
                        // SAFETY: the view lies inside C (checked above), the bias and the
                        // activations cover it (checked); this part alone writes tile (i, j)
                        // (its block of panel rows or columns).
                        unsafe { store(&cd, sc, (i * MR, j * NR), (m, n), &tile, at, beta, &ep) };
                    }
                }
            }
        });
    });
}

/// How many blocks k is taken in: ⌈k ÷ KC⌉ of nearly equal length (784 = 392 + 392, not
/// 256 + 256 + 256 + 16, whose short block's tiles are mostly their store), one when k = 0.
pub fn k_blocks(k: usize) -> usize {
    k.div_ceil(KC).max(1)
}

/// Makes `v` at least `len` long (new elements 0; the packers write every one they use).
fn grow(v: &mut Vec<f32>, len: usize) {
    if v.len() < len {
        v.resize(len, 0.0);
    }
}

/// A's rows in panels of [`MR`] from panel `first`: `out[p][kk][i]` = A[(first + p)·MR + i][kk],
/// 0 past row m. (Iterators, not indices: no bounds check per element.)
fn pack_a(out: &mut [f32], a: &[f32], sa: Strides, m: usize, k: usize, first: usize) {
    for (p, panel) in out.chunks_exact_mut(MR * k).enumerate() {
        let r0 = (first + p) * MR;
        if sa.row == 1 && r0 + MR <= m {
            // A stored transposed (dYᵀ): each kk's MR rows lie side by side.
            for (kk, dst) in panel.chunks_exact_mut(MR).enumerate() {
                let at = r0 + kk * sa.col;
                dst.copy_from_slice(&a[at..at + MR]);
            }
            continue;
        }
        for i in 0..MR {
            let dst = panel[i..].iter_mut().step_by(MR);
            if r0 + i < m {
                let at = (r0 + i) * sa.row;
                let src = a[at..at + (k - 1) * sa.col + 1].iter().step_by(sa.col);
                dst.zip(src).for_each(|(d, &v)| *d = v);
            } else {
                dst.for_each(|d| *d = 0.0);
            }
        }
    }
}

/// B's columns in panels of [`NR`] from panel `first`: `out[p][kk][j]` =
/// B[kk][(first + p)·NR + j], 0 past column n.
fn pack_b(out: &mut [f32], b: &[f32], sb: Strides, n: usize, k: usize, first: usize) {
    for (p, panel) in out.chunks_exact_mut(NR * k).enumerate() {
        let c0 = (first + p) * NR;
        if sb.col == 1 && c0 + NR <= n {
            // B row-major: each kk's NR columns lie side by side.
            for (kk, dst) in panel.chunks_exact_mut(NR).enumerate() {
                let at = kk * sb.row + c0;
                dst.copy_from_slice(&b[at..at + NR]);
            }
            continue;
        }
        for j in 0..NR {
            let dst = panel[j..].iter_mut().step_by(NR);
            if c0 + j < n {
                let at = (c0 + j) * sb.col;
                let src = b[at..at + (k - 1) * sb.row + 1].iter().step_by(sb.row);
                dst.zip(src).for_each(|(d, &v)| *d = v);
            } else {
                dst.for_each(|d| *d = 0.0);
            }
        }
    }
}

/// A register tile: rows of C, two vectors each.
type Tile = [[v4::V4; 2]; MR];

/// The MR × NR tile Σ_kk A[i][kk]·B[kk][j] over a block of `kc` (packed panels).
#[inline(always)]
fn kernel(kc: usize, ap: &[f32], bp: &[f32]) -> Tile {
    use v4::{madd, V4};
    assert!(ap.len() >= kc * MR && bp.len() >= kc * NR);
    let z = V4::zero();
    let (mut c00, mut c01, mut c10, mut c11) = (z, z, z, z);
    let (mut c20, mut c21, mut c30, mut c31) = (z, z, z, z);
    let (mut a, mut b) = (ap.as_ptr(), bp.as_ptr());
    for _ in 0..kc {
        // SAFETY: kc steps of MR (A) and NR (B) floats lie inside the panels (asserted).
        unsafe {
            let (b0, b1) = (V4::load(b), V4::load(b.add(4)));
            let a0 = V4::splat(a);
            c00 = madd(c00, a0, b0);
            c01 = madd(c01, a0, b1);
            let a1 = V4::splat(a.add(1));
            c10 = madd(c10, a1, b0);
            c11 = madd(c11, a1, b1);
            let a2 = V4::splat(a.add(2));
            c20 = madd(c20, a2, b0);
            c21 = madd(c21, a2, b1);
            let a3 = V4::splat(a.add(3));
            c30 = madd(c30, a3, b0);
            c31 = madd(c31, a3, b1);
            a = a.add(MR);
            b = b.add(NR);
        }
    }
    [[c00, c01], [c10, c11], [c20, c21], [c30, c31]]
}

/// Where a k block stands: the first sets C (from β·C or the bias), the last applies the
/// epilogue's [`Last`].
#[derive(Clone, Copy)]
struct Block {
    first: bool,
    last: bool,
}

/// Adds the tile at (`r0`, `c0`) into C (the part inside m × n): the first k block sets
/// C = tile + β·C (C unread when β = 0) or tile + bias, the later ones add to it, and the last
/// applies `ep.last`.
///
/// # Safety
/// C's view must lie inside `c`, the epilogue's bias and activations must cover it
/// ([`Epilogue::check`]), and no other thread may touch these elements meanwhile.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
unsafe fn store(
    c: &Disjoint<'_, f32>,
    sc: Strides,
    (r0, c0): (usize, usize),
    (m, n): (usize, usize),
    tile: &Tile,
    at: Block,
    beta: f32,
    ep: &Epilogue<'_>,
) {
    use v4::V4;
    let base = c.as_ptr();
    if sc.col == 1 && r0 + MR <= m && c0 + NR <= n {
        // A whole tile on rows of C: vectors.
        for (i, row) in tile.iter().enumerate() {
            for (h, &v) in row.iter().enumerate() {
                let at_c = (r0 + i) * sc.row + c0 + 4 * h;
                // SAFETY: the tile is inside the m × n view, which lies inside C; the row's
                // 8 elements are contiguous (column stride 1); the bias has n values and the
                // activations cover C's view (the caller's promise).
                unsafe {
                    let p = base.add(at_c);
                    let mut out = if !at.first {
                        V4::load(p).add(v)
                    } else if let Some(bias) = ep.bias {
                        v.add(V4::load(bias.as_ptr().add(c0 + 4 * h)))
                    } else if beta == 0.0 {
                        v
                    } else {
                        v.add(V4::load(p).scale(beta))
                    };
                    if at.last {
                        out = match ep.last {
                            Last::Keep => out,
                            Last::Relu => out.relu(),
                            Last::ReluGrad(act) => out.relu_grad(V4::load(act.as_ptr().add(at_c))),
                        };
                    }
                    out.store(p);
                }
            }
        }
        return;
    }
    let rows = MR.min(m - r0);
    let cols = NR.min(n - c0);
    for (i, row) in tile.iter().enumerate().take(rows) {
        let lanes = [row[0].lanes(), row[1].lanes()];
        for j in 0..cols {
            let v = lanes[j / 4][j % 4];
            let at_c = (r0 + i) * sc.row + (c0 + j) * sc.col;
            // SAFETY: (r0 + i, c0 + j) is inside the m × n view, which lies inside C (and
            // inside the activations); exclusive to this part.
            unsafe {
                let p = base.add(at_c);
                let mut out = if !at.first {
                    *p + v
                } else if let Some(bias) = ep.bias {
                    v + bias[c0 + j]
                } else if beta == 0.0 {
                    v
                } else {
                    v + *p * beta
                };
                if at.last {
                    out = match ep.last {
                        Last::Keep => out,
                        Last::Relu => relu(out),
                        Last::ReluGrad(act) => relu_grad(out, act[at_c]),
                    };
                }
                *p = out;
            }
        }
    }
}

/// 4-lane vectors: wasm SIMD128 where the build has it, otherwise `[f32; 4]` with the same
/// arithmetic (a multiply, then an add, each rounded: what SIMD128's `f32x4.mul`/`f32x4.add`
/// do; the relaxed-SIMD build fuses them where the CPU can).
mod v4 {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    mod imp {
        use core::arch::wasm32::*;

        #[derive(Clone, Copy)]
        pub struct V4(v128);

        impl V4 {
            #[inline(always)]
            pub fn zero() -> Self {
                V4(f32x4_splat(0.0))
            }

            /// # Safety
            /// `p..p + 4` must be readable.
            #[inline(always)]
            pub unsafe fn load(p: *const f32) -> Self {
                // SAFETY: the caller's promise; wasm loads need no alignment.
                V4(unsafe { v128_load(p as *const v128) })
            }

            /// # Safety
            /// `p` must be readable.
            #[inline(always)]
            pub unsafe fn splat(p: *const f32) -> Self {
                // SAFETY: the caller's promise.
                V4(unsafe { v128_load32_splat(p as *const u32) })
            }

            /// # Safety
            /// `p..p + 4` must be writable.
            #[inline(always)]
            pub unsafe fn store(self, p: *mut f32) {
                // SAFETY: the caller's promise.
                unsafe { v128_store(p as *mut v128, self.0) }
            }

            #[inline(always)]
            pub fn add(self, o: Self) -> Self {
                V4(f32x4_add(self.0, o.0))
            }

            #[inline(always)]
            pub fn scale(self, s: f32) -> Self {
                V4(f32x4_mul(self.0, f32x4_splat(s)))
            }

            /// `x` where `x > 0`, else 0 (pmax(0, x) = 0 < x ? x : 0).
            #[inline(always)]
            pub fn relu(self) -> Self {
                V4(f32x4_pmax(f32x4_splat(0.0), self.0))
            }

            /// 0 where `act` ≤ 0, else self.
            #[inline(always)]
            pub fn relu_grad(self, act: Self) -> Self {
                V4(v128_andnot(self.0, f32x4_le(act.0, f32x4_splat(0.0))))
            }

            #[inline(always)]
            pub fn lanes(self) -> [f32; 4] {
                [
                    f32x4_extract_lane::<0>(self.0),
                    f32x4_extract_lane::<1>(self.0),
                    f32x4_extract_lane::<2>(self.0),
                    f32x4_extract_lane::<3>(self.0),
                ]
            }
        }

        /// acc + a·b.
        #[inline(always)]
        pub fn madd(acc: V4, a: V4, b: V4) -> V4 {
            #[cfg(target_feature = "relaxed-simd")]
            {
                V4(f32x4_relaxed_madd(a.0, b.0, acc.0))
            }
            #[cfg(not(target_feature = "relaxed-simd"))]
            {
                V4(f32x4_add(acc.0, f32x4_mul(a.0, b.0)))
            }
        }
    }

    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    mod imp {
        #[derive(Clone, Copy)]
        pub struct V4([f32; 4]);

        impl V4 {
            #[inline(always)]
            pub fn zero() -> Self {
                V4([0.0; 4])
            }

            /// # Safety
            /// `p..p + 4` must be readable.
            #[inline(always)]
            pub unsafe fn load(p: *const f32) -> Self {
                // SAFETY: the caller's promise.
                V4(unsafe { std::ptr::read_unaligned(p as *const [f32; 4]) })
            }

            /// # Safety
            /// `p` must be readable.
            #[inline(always)]
            pub unsafe fn splat(p: *const f32) -> Self {
                // SAFETY: the caller's promise.
                V4([unsafe { *p }; 4])
            }

            /// # Safety
            /// `p..p + 4` must be writable.
            #[inline(always)]
            pub unsafe fn store(self, p: *mut f32) {
                // SAFETY: the caller's promise.
                unsafe { std::ptr::write_unaligned(p as *mut [f32; 4], self.0) }
            }

            #[inline(always)]
            pub fn add(self, o: Self) -> Self {
                V4(std::array::from_fn(|i| self.0[i] + o.0[i]))
            }

            #[inline(always)]
            pub fn scale(self, s: f32) -> Self {
                V4(self.0.map(|v| v * s))
            }

            #[inline(always)]
            pub fn relu(self) -> Self {
                V4(self.0.map(super::super::relu))
            }

            #[inline(always)]
            pub fn relu_grad(self, act: Self) -> Self {
                V4(std::array::from_fn(|i| {
                    super::super::relu_grad(self.0[i], act.0[i])
                }))
            }

            #[inline(always)]
            pub fn lanes(self) -> [f32; 4] {
                self.0
            }
        }

        /// acc + a·b, rounded after the product and after the sum.
        #[inline(always)]
        pub fn madd(acc: V4, a: V4, b: V4) -> V4 {
            V4(std::array::from_fn(|i| acc.0[i] + a.0[i] * b.0[i]))
        }
    }

    pub use imp::{madd, V4};
}
