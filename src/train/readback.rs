//! The stats ring and its readback: every step writes a record (losses, rows, flags) into a ring
//! on the GPU; the host copies the records written since the last readback to a staging buffer
//! and maps it asynchronously. A readback covering training steps carries a snapshot of the
//! state (see [`super::snapshot`]), promoted to the last good state when its records are clean.

use std::collections::VecDeque;

use crate::error::{Result, VaeError};
use crate::gpu::{Buffer, PendingRead};
use crate::kernels::loss::{StatsRecord, FLAG_PARAMS_NON_FINITE, STATS_RECORD};
use crate::model::STATS_SLOTS;

use super::snapshot::Snapshot;
use super::Trainer;
use crate::run::{StepKind, StepRecord};

/// Evaluation schedules a readback once this many records wait.
pub const HALF_RING: u32 = STATS_SLOTS / 2;

/// What the host knows of a record it has asked the GPU to write.
#[derive(Debug, Clone, Copy)]
pub struct SlotMeta {
    pub kind: StepKind,
    pub epoch: u64,
    pub step: u32,
    pub global_step: u64,
    /// False for display passes, whose losses nobody reads.
    pub keep: bool,
}

/// The host side of the ring: which slots are written, which are on their way back.
#[derive(Default)]
pub(super) struct Ring {
    written: u64,
    scheduled: u64,
    meta: VecDeque<SlotMeta>,
    /// Readbacks in flight, each with the snapshot taken when it was submitted (if it covers
    /// training steps).
    pending: VecDeque<(PendingRead, Option<Snapshot>)>,
    pool: Vec<Buffer>,
    backlog: Vec<StepRecord>,
}

impl Ring {
    /// The next slot for a step described by `meta`.
    pub fn take_slot(&mut self, meta: SlotMeta) -> Result<u32> {
        if self.written - self.scheduled >= u64::from(STATS_SLOTS) {
            return Err(VaeError::Internal(
                "stats ring overflow: read back more often".into(),
            ));
        }
        let slot = (self.written % u64::from(STATS_SLOTS)) as u32;
        self.written += 1;
        self.meta.push_back(meta);
        Ok(slot)
    }

    /// Readbacks in flight that carry a snapshot.
    pub fn snapshots_in_flight(&self) -> usize {
        self.pending.iter().filter(|(_, s)| s.is_some()).count()
    }

    /// Records written and not yet scheduled for readback.
    pub fn unscheduled(&self) -> u64 {
        self.written - self.scheduled
    }

    /// True when no record is written or on its way back unread.
    pub fn idle(&self) -> bool {
        self.pending.is_empty() && self.meta.is_empty()
    }

    /// Keeps a record for the next `poll`/`flush`.
    pub fn keep(&mut self, r: StepRecord) {
        self.backlog.push(r);
    }

    /// Forgets every record in flight (records already read back stay); returns the buffers of
    /// their snapshots.
    pub fn discard(&mut self) -> Vec<Buffer> {
        self.meta.clear();
        self.scheduled = self.written;
        // Staging buffers still being mapped are dropped, not pooled: a pending map cannot be
        // the target of the next copy.
        self.pending
            .drain(..)
            .filter_map(|(_, s)| s.map(|s| s.buffer))
            .collect()
    }
}

impl Trainer {
    /// Copies the records written since the last readback to a staging buffer and starts
    /// mapping it; the results arrive through [`Trainer::poll`] or [`Trainer::flush`].
    pub fn schedule_readback(&mut self) -> Result<()> {
        let count = self.ring.unscheduled();
        if count == 0 {
            return Ok(());
        }
        let size = u64::from(STATS_SLOTS) * STATS_RECORD;
        let staging = self
            .ring
            .pool
            .pop()
            .unwrap_or_else(|| self.gpu.staging("stats readback", size));
        let first = self.ring.scheduled % u64::from(STATS_SLOTS);
        let head = count.min(u64::from(STATS_SLOTS) - first);
        let mut enc = self.encoder("stats readback");
        let snapshot = self.take_snapshot(&mut enc);
        let stats = &self.model.stats;
        enc.copy_buffer_to_buffer(
            stats,
            first * STATS_RECORD,
            &staging,
            0,
            head * STATS_RECORD,
        );
        if head < count {
            let rest = (count - head) * STATS_RECORD;
            enc.copy_buffer_to_buffer(stats, 0, &staging, head * STATS_RECORD, rest);
        }
        self.submit(enc.finish())?;
        self.ring.scheduled += count;
        self.ring
            .pending
            .push_back((PendingRead::start(staging, count * STATS_RECORD), snapshot));
        Ok(())
    }

    /// Takes in one readback's records; a clean one promotes its snapshot to the last good state,
    /// a flagged one rolls back (see [`super::snapshot`]) and its records, which describe steps
    /// after the restored state, are dropped.
    fn absorb(&mut self, bytes: &[u8], snapshot: Option<Snapshot>) -> Result<()> {
        let mut records = Vec::new();
        for rec in StatsRecord::parse(bytes) {
            let Some(m) = self.ring.meta.pop_front() else {
                return Err(VaeError::Internal("a stats record without a step".into()));
            };
            let (recon, kl) = (rec.recon, rec.kl);
            if rec.flags != 0 || !recon.is_finite() || !kl.is_finite() {
                let what = if rec.flags & FLAG_PARAMS_NON_FINITE != 0 && recon.is_finite() {
                    "parameters"
                } else {
                    "loss"
                };
                if let Some(s) = snapshot {
                    self.snapshot_pool.push(s.buffer);
                }
                return Err(self.roll_back(what, m.global_step, recon, kl));
            }
            if m.keep {
                records.push(StepRecord {
                    kind: m.kind,
                    epoch: m.epoch,
                    step: m.step,
                    global_step: m.global_step,
                    rows: rec.rows,
                    recon,
                    kl,
                });
            }
        }
        self.ring.backlog.extend(records);
        if let Some(s) = snapshot {
            self.promote(s);
        }
        Ok(())
    }

    /// Records whose readback has finished, without blocking.
    pub fn poll(&mut self) -> Result<Vec<StepRecord>> {
        self.gpu.poll();
        while let Some((front, _)) = self.ring.pending.front_mut() {
            match front.try_take() {
                None => break,
                Some(r) => {
                    let snapshot = self.ring.pending.pop_front().and_then(|(_, s)| s);
                    let (bytes, buffer) = r?;
                    self.ring.pool.push(buffer);
                    self.absorb(&bytes, snapshot)?;
                }
            }
        }
        self.gpu.check()?;
        Ok(std::mem::take(&mut self.ring.backlog))
    }

    /// Reads back every record submitted so far (waits for the GPU: call it between epochs).
    pub async fn flush(&mut self) -> Result<Vec<StepRecord>> {
        self.schedule_readback()?;
        while let Some((mut p, snapshot)) = self.ring.pending.pop_front() {
            let bytes = p.wait(&self.gpu).await?;
            self.ring.pool.push(p.buffer().clone());
            self.absorb(&bytes, snapshot)?;
        }
        #[cfg(not(target_arch = "wasm32"))]
        self.in_flight.clear();
        Ok(std::mem::take(&mut self.ring.backlog))
    }
}
