//! The last good state and roll-back.
//!
//! Every step's record carries flags set on the GPU when its loss or a parameter became
//! non-finite. Each readback that covers training steps is submitted together with a GPU-side
//! copy of the parameters and Adam's state (a snapshot, at most one per [`SNAPSHOT_EVERY`]
//! steps); when the readback arrives clean, that snapshot becomes the last good state. A change
//! of learning rate with nothing in flight also marks the state in place as good, so a rate that
//! diverges within a few steps rolls back to exactly where it was set. A flagged record stops
//! training: the work in flight is discarded, the last good state (and its step, epoch and place
//! in the epoch) is put back (on the GPU, queued behind everything submitted) and
//! [`VaeError::NonFinite`] names both steps.

use crate::error::{Result, VaeError};
use crate::gpu::{Buffer, Gpu};
use crate::model::VaeModel;

use super::Trainer;
use crate::run::{Position, SNAPSHOT_EVERY};

/// Most snapshots waiting on their readback at once: however many steps one call submits, the
/// GPU holds at most this many copies of the state besides the last good one and the pool.
pub const MAX_SNAPSHOTS_IN_FLIGHT: usize = 2;

/// Parameters, Adam's m and v (one buffer, in that order) as they were after a training step.
pub(super) struct Snapshot {
    pub buffer: Buffer,
    pub adam_t: u64,
    pub pos: Position,
}

impl Snapshot {
    /// An empty snapshot buffer sized for `model`'s state (three times the parameters; the
    /// model checked that size against the device's `max_buffer_size` when it was made).
    pub fn new(gpu: &Gpu, model: &VaeModel) -> Result<Self> {
        let size = 3 * model.params.size();
        Ok(Snapshot {
            buffer: gpu.storage("last good state", size),
            adam_t: 0,
            pos: Position::default(),
        })
    }
}

impl Trainer {
    /// Copies params, m and v into `buffer` (or back, with `restore`), in `enc`.
    fn copy_state(&self, enc: &mut wgpu::CommandEncoder, buffer: &Buffer, restore: bool) {
        let m = &self.model;
        let size = m.params.size();
        // params at 0, then m|v (one buffer of twice the size).
        for (at, b) in [(0, &m.params), (size, &m.adam_mv)] {
            let size = b.size();
            if restore {
                enc.copy_buffer_to_buffer(buffer, at, b, 0, size);
            } else {
                enc.copy_buffer_to_buffer(b, 0, buffer, at, size);
            }
        }
    }

    /// Takes the current state as the last good one (after a load or reset, whose parameters are
    /// known finite).
    pub(super) fn mark_good(&mut self) -> Result<()> {
        let mut enc = self.encoder("snapshot");
        self.copy_state(&mut enc, &self.good.buffer, false);
        self.submit(enc.finish())?;
        self.good.adam_t = self.adam_t;
        self.good.pos = self.pos;
        self.snapshot_step = self.pos.global_step;
        Ok(())
    }

    /// GPU copies of the state this trainer holds: the last good one, those in flight and the
    /// pooled ones (bounded whatever a call submits).
    pub fn state_copies(&self) -> usize {
        1 + self.ring.snapshots_in_flight() + self.snapshot_pool.len()
    }

    /// The training step whose parameters are the last known good ones.
    pub fn last_good_step(&self) -> u64 {
        self.good.pos.global_step
    }

    /// A snapshot of the state, recorded in `enc`, when [`SNAPSHOT_EVERY`] steps have passed
    /// since the last one.
    pub(super) fn take_snapshot(&mut self, enc: &mut wgpu::CommandEncoder) -> Option<Snapshot> {
        if self.pos.global_step < self.snapshot_step + SNAPSHOT_EVERY
            || self.ring.snapshots_in_flight() >= MAX_SNAPSHOTS_IN_FLIGHT
        {
            return None;
        }
        let size = self.good.buffer.size();
        let buffer = self
            .snapshot_pool
            .pop()
            .unwrap_or_else(|| self.gpu.storage("state snapshot", size));
        self.copy_state(enc, &buffer, false);
        self.snapshot_step = self.pos.global_step;
        Some(Snapshot {
            buffer,
            adam_t: self.adam_t,
            pos: self.pos,
        })
    }

    /// A snapshot whose steps all read back clean becomes the last good state.
    pub(super) fn promote(&mut self, s: Snapshot) {
        let old = std::mem::replace(&mut self.good, s);
        self.snapshot_pool.push(old.buffer);
    }

    /// Forgets the work in flight (its records and snapshots).
    pub(super) fn discard_in_flight(&mut self) {
        let freed = self.ring.discard();
        self.snapshot_pool.extend(freed);
    }

    /// Discards the work in flight and puts the last good state back; returns the error to report.
    pub(super) fn roll_back(
        &mut self,
        what: &'static str,
        step: u64,
        recon: f32,
        kl: f32,
    ) -> VaeError {
        self.discard_in_flight();
        let mut enc = self.encoder("restore last good state");
        self.copy_state(&mut enc, &self.good.buffer, true);
        if let Err(e) = self.submit(enc.finish()) {
            return e;
        }
        self.adam_t = self.good.adam_t;
        if let Err(e) = self.set_position(self.good.pos) {
            return e;
        }
        VaeError::NonFinite {
            what,
            step,
            recon,
            kl,
            restored_step: self.good.pos.global_step,
        }
    }
}
