// The room's state machine: a server snapshot plus the auction events applied in `seq` order.
// Pure: no timers, no I/O. Duplicates are ignored, gaps are reported so the caller resyncs.

import type {
  AuctionEvent,
  AuctionState,
  BidRow,
  LastResult,
  Lot,
  Manager,
  PresenceEvent,
} from './types';

export interface RoomModel {
  auction: AuctionState;
  /** Accepted bids of the lot on the block, in seq order, no duplicates. */
  history: BidRow[];
  /** Outcome of the most recently closed lot, shown during the intermission. */
  lastResult: LastResult | null;
  /** The last bid event applied (for outbid detection and the anti-snipe mark). */
  lastBid: { seq: number; lot: number; extended: boolean; leaderId: string; previousLeaderId: string | null } | null;
  deleted: boolean;
}

export type ApplyOutcome = 'applied' | 'duplicate' | 'gap';

export interface ApplyResult {
  model: RoomModel;
  outcome: ApplyOutcome;
}

/** PRODUCT.md rule 6: maxBid = budgetRemaining − minBid × (emptySlots − 1); nothing when full. */
export function computeMaxBid(budgetRemaining: number, emptySlots: number, minBid: number): number {
  if (emptySlots <= 0) return 0;
  return Math.max(0, budgetRemaining - minBid * (emptySlots - 1));
}

function lastResultFromSnapshot(a: AuctionState): LastResult | null {
  const lot = a.lot;
  if (!lot || lot.state === 'running') return null;
  for (const m of a.managers) {
    const item = m.roster.find((r) => r.lot === lot.number);
    if (item)
      return {
        lot: lot.number,
        assetId: lot.asset.id,
        assetName: lot.asset.name,
        result: 'sold',
        winnerId: m.userId,
        winnerName: m.name,
        price: item.price,
      };
  }
  return {
    lot: lot.number,
    assetId: lot.asset.id,
    assetName: lot.asset.name,
    result: 'unsold',
    winnerId: null,
    winnerName: null,
    price: null,
  };
}

/** A model from a snapshot (WebSocket `snapshot` or REST AuctionState). */
export function fromSnapshot(auction: AuctionState, history: BidRow[] = []): RoomModel {
  const model: RoomModel = {
    auction,
    history: [],
    lastResult: lastResultFromSnapshot(auction),
    lastBid: null,
    deleted: false,
  };
  return mergeHistory(model, history);
}

/** Adds bid rows (e.g. GET /bids?lot=) for the lot on the block; keyed by seq, never twice. */
export function mergeHistory(model: RoomModel, rows: BidRow[]): RoomModel {
  const lot = model.auction.lot;
  if (!lot) return model.history.length ? { ...model, history: [] } : model;
  const bySeq = new Map<number, BidRow>();
  for (const r of model.history) if (r.lot === lot.number) bySeq.set(r.seq, r);
  for (const r of rows) if (r.lot === lot.number && r.seq <= model.auction.seq) bySeq.set(r.seq, r);
  const history = [...bySeq.values()].sort((x, y) => x.seq - y.seq);
  return { ...model, history };
}

function withManagers(a: AuctionState, f: (m: Manager) => Manager): AuctionState {
  return { ...a, managers: a.managers.map(f) };
}

function recompute(m: Manager, minBid: number): Manager {
  return { ...m, maxBid: computeMaxBid(m.budgetRemaining, m.emptySlots, minBid) };
}

/** Presence is ephemeral (no seq): it only changes who is online. */
export function applyPresence(model: RoomModel, ev: PresenceEvent): RoomModel {
  const online = new Set(ev.online);
  const a = withManagers(model.auction, (m) =>
    m.online === online.has(m.userId) ? m : { ...m, online: online.has(m.userId) },
  );
  return { ...model, auction: { ...a, spectatorsOnline: ev.spectatorsOnline } };
}

/**
 * Applies one logged event. seq ≤ current → 'duplicate' (model unchanged); seq > current + 1 →
 * 'gap' (model unchanged: the caller rejoins with sinceSeq or takes a snapshot).
 */
export function applyEvent(model: RoomModel, ev: AuctionEvent): ApplyResult {
  const cur = model.auction.seq;
  if (ev.seq <= cur) return { model, outcome: 'duplicate' };
  if (ev.seq > cur + 1) return { model, outcome: 'gap' };
  const next = reduce(model, ev);
  return {
    model: { ...next, auction: { ...next.auction, seq: ev.seq, serverTimeMs: ev.serverTimeMs } },
    outcome: 'applied',
  };
}

/** Applies a batch in order; stops at the first gap. */
export function applyEvents(model: RoomModel, evs: AuctionEvent[]): ApplyResult {
  let m = model;
  for (const ev of evs) {
    const r = applyEvent(m, ev);
    if (r.outcome === 'gap') return { model: m, outcome: 'gap' };
    m = r.model;
  }
  return { model: m, outcome: 'applied' };
}

function reduce(model: RoomModel, ev: AuctionEvent): RoomModel {
  const a = model.auction;
  const minBid = a.settings.minBid;
  switch (ev.type) {
    case 'auction_created':
      return { ...model, auction: { ...a, status: 'waiting' } };

    case 'lot_opened': {
      const lot: Lot = {
        number: ev.lot.number,
        asset: ev.lot.asset,
        state: 'running',
        retry: !!ev.lot.retry,
        currentBid: null,
        leaderId: null,
        leaderName: null,
        endsAtMs: ev.lot.endsAtMs,
        remainingMs: null,
      };
      const p = a.progress;
      // A re-offer with nothing queued starts a new pass: its queue is every asset still unsold
      // (as the server counts them), less the one just opened.
      const newPass = lot.retry && p.queued === 0;
      return {
        ...model,
        auction: {
          ...a,
          status: a.status === 'waiting' ? 'running' : a.status,
          lot,
          progress: { ...p, queued: Math.max(0, (newPass ? p.unsold : p.queued) - 1) },
        },
        history: [],
        lastBid: null,
      };
    }

    case 'bid': {
      if (!a.lot || a.lot.number !== ev.lot) return model;
      const previousLeaderId = a.lot.leaderId;
      const lot: Lot = {
        ...a.lot,
        currentBid: ev.amount,
        leaderId: ev.leaderId,
        leaderName: ev.leaderName,
        endsAtMs: ev.endsAtMs,
        remainingMs: null,
      };
      const row: BidRow = {
        seq: ev.seq,
        lot: ev.lot,
        userId: ev.leaderId,
        name: ev.leaderName,
        amount: ev.amount,
        atMs: ev.serverTimeMs,
      };
      return {
        ...model,
        auction: { ...a, lot },
        history: model.history.some((r) => r.seq === ev.seq) ? model.history : [...model.history, row],
        lastBid: { seq: ev.seq, lot: ev.lot, extended: !!ev.extended, leaderId: ev.leaderId, previousLeaderId },
      };
    }

    case 'lot_closed': {
      const sold = ev.result === 'sold' && ev.winnerId != null;
      const assetName = a.lot && a.lot.number === ev.lot ? a.lot.asset.name : ev.assetId;
      const winner = sold ? a.managers.find((m) => m.userId === ev.winnerId) : undefined;
      const price = sold ? (ev.price ?? null) : null;
      let auction = a;
      if (sold) {
        auction = withManagers(a, (m) => {
          if (m.userId !== ev.winnerId) return m;
          const budgetRemaining = ev.winnerBudgetRemaining ?? m.budgetRemaining - (price ?? 0);
          const roster = [...m.roster, { assetId: ev.assetId, name: assetName, price: price ?? 0, lot: ev.lot }];
          return recompute({ ...m, budgetRemaining, roster, emptySlots: Math.max(0, m.emptySlots - 1) }, minBid);
        });
      }
      const p = a.progress;
      // In a re-offer pass the server counts as unsold every asset not owned: a re-offer that
      // goes unsold again changes nothing, one that sells leaves the unsold count.
      const retry = !!a.lot && a.lot.number === ev.lot && a.lot.retry;
      const unsold = retry ? p.unsold - (sold ? 1 : 0) : p.unsold + (sold ? 0 : 1);
      // As in the server's state, a closed lot has no leader or price left (lastResult keeps them).
      const lot =
        a.lot && a.lot.number === ev.lot
          ? { ...a.lot, state: ev.result, currentBid: null, leaderId: null, leaderName: null, endsAtMs: null, remainingMs: null }
          : a.lot;
      return {
        ...model,
        auction: {
          ...auction,
          lot,
          progress: {
            ...p,
            lotsClosed: p.lotsClosed + 1,
            sold: p.sold + (sold ? 1 : 0),
            unsold: Math.max(0, unsold),
          },
        },
        lastResult: {
          lot: ev.lot,
          assetId: ev.assetId,
          assetName,
          result: sold ? 'sold' : 'unsold',
          winnerId: sold ? ev.winnerId ?? null : null,
          winnerName: winner ? winner.name : null,
          price,
        },
      };
    }

    case 'intermission': {
      if (!a.lot) return model;
      const lot: Lot = {
        ...a.lot,
        state: 'intermission',
        currentBid: null,
        leaderId: null,
        leaderName: null,
        endsAtMs: ev.endsAtMs,
        remainingMs: null,
      };
      return { ...model, auction: { ...a, lot } };
    }

    case 'paused': {
      const lot = a.lot ? { ...a.lot, endsAtMs: null, remainingMs: ev.remainingMs } : null;
      return { ...model, auction: { ...a, status: 'paused', lot } };
    }

    case 'resumed': {
      const lot = a.lot ? { ...a.lot, endsAtMs: ev.endsAtMs, remainingMs: null } : null;
      return { ...model, auction: { ...a, status: 'running', lot } };
    }

    case 'lot_undone': {
      const refunded = ev.refundedUserId ?? null;
      const auction = refunded
        ? withManagers(a, (m) => {
            if (m.userId !== refunded) return m;
            const had = m.roster.some((r) => r.lot === ev.lot);
            if (!had) return m;
            return recompute(
              {
                ...m,
                budgetRemaining: m.budgetRemaining + (ev.amount ?? 0),
                roster: m.roster.filter((r) => r.lot !== ev.lot),
                emptySlots: m.emptySlots + 1,
              },
              minBid,
            );
          })
        : a;
      const p = a.progress;
      // A later lot open without bids goes back to the queue; so does the lot between lots.
      const keepLot = a.lot && a.lot.number !== ev.lot && a.lot.state === 'running' && a.lot.currentBid != null;
      const returned = a.lot && !keepLot && a.lot.number !== ev.lot && a.lot.state === 'running' ? 1 : 0;
      return {
        ...model,
        auction: {
          ...auction,
          status: 'paused',
          lot: keepLot ? a.lot : null,
          completedReason: null,
          progress: {
            ...p,
            sold: p.sold - (refunded ? 1 : 0),
            unsold: p.unsold - (refunded ? 0 : 1),
            queued: p.queued + 1 + returned,
          },
        },
        history: keepLot ? model.history : [],
        lastResult: null,
        lastBid: keepLot ? model.lastBid : null,
      };
    }

    case 'auction_completed': {
      return {
        ...model,
        auction: {
          ...a,
          status: 'completed',
          completedReason: ev.reason,
          // Completion follows the last lot_closed: the lot on the block is closed for good.
          lot: a.lot
            ? {
                ...a.lot,
                state: model.lastResult && model.lastResult.lot === a.lot.number ? model.lastResult.result : a.lot.state,
                endsAtMs: null,
                remainingMs: null,
              }
            : null,
          // The event's `unsold` counts assets never offered too; the state keeps those in `queued`.
          progress: { ...a.progress, sold: ev.sold },
        },
      };
    }

    case 'auction_reset': {
      const s = a.settings;
      return {
        ...model,
        auction: {
          ...withManagers(a, (m) =>
            recompute({ ...m, budgetRemaining: s.budget, roster: [], emptySlots: s.rosterSize }, minBid),
          ),
          status: 'waiting',
          lot: null,
          completedReason: null,
          progress: { lotsTotal: a.progress.lotsTotal, lotsClosed: 0, sold: 0, unsold: 0, queued: a.progress.lotsTotal },
        },
        history: [],
        lastResult: null,
        lastBid: null,
      };
    }

    case 'auction_deleted':
      return { ...model, deleted: true };

    default:
      return model;
  }
}

/** The next legal bid on the lot on the block (minBid, or current + minIncrement). */
export function nextMinimum(a: AuctionState): number {
  const cur = a.lot?.currentBid;
  return cur == null ? a.settings.minBid : cur + a.settings.minIncrement;
}
