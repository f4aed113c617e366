// Every bid rejection code of API.md as a sentence that says what happened and what to do.

export interface MessageContext {
  /** Formats money in the league's currency ("£12.5m"). */
  fmt: (units: number) => string;
  /** Who leads now (after the rejection), if anyone else. */
  leaderName?: string | null;
  /** Auction status as the client knows it. */
  status?: string;
  minBid?: number;
  /** My empty slots (for the over_max_bid explanation). */
  emptySlots?: number;
}

export function num(details: Record<string, unknown> | undefined, key: string): number | null {
  const v = details?.[key];
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

/** The sentence for a refused bid (codes of API.md plus the client's `network` / `timeout`). */
export function bidErrorMessage(
  code: string,
  details: Record<string, unknown> | undefined,
  ctx: MessageContext,
): string {
  switch (code) {
    case 'bid_too_low': {
      const min = num(details, 'minimum');
      const who = ctx.leaderName ? `${ctx.leaderName} bid` : 'Someone bid';
      if (min == null) return `${who} first — try a higher amount.`;
      const cur = ctx.minBid != null && min === ctx.minBid ? null : min;
      return cur == null ? `Bid must be at least ${ctx.fmt(min)}.` : `${who} first — bid ${ctx.fmt(min)}?`;
    }
    case 'over_max_bid': {
      const max = num(details, 'maxBid');
      if (max == null) return 'That is more than you can bid.';
      if (max <= 0) return 'You cannot bid any more: your budget is spent.';
      const others = (ctx.emptySlots ?? 1) - 1;
      if (others > 0 && ctx.minBid != null)
        return `You can bid at most ${ctx.fmt(max)}: keep ${ctx.fmt(ctx.minBid)} for each of your ${others} other empty slot${others === 1 ? '' : 's'}.`;
      return `You can bid at most ${ctx.fmt(max)}.`;
    }
    case 'roster_full':
      return 'Your roster is full — you cannot bid any more.';
    case 'already_leading':
      return 'You already lead this lot.';
    case 'lot_closed':
      return 'The lot has closed — wait for the next one.';
    case 'stale_lot':
      return 'That lot is no longer on the block.';
    case 'auction_not_running':
      return ctx.status === 'paused' ? 'The auction is paused — wait for the commissioner.' : 'The auction is not running.';
    case 'not_a_manager':
      return 'Only managers can bid — you are watching.';
    case 'rate_limited':
      return 'Too fast — wait a moment and try again.';
    case 'network':
      return 'No connection — your bid was not sent. It will be sent when you are back online.';
    case 'timeout':
      return 'No answer from the server yet — checking…';
    case 'unauthorized':
    case 'token_expired':
      return 'Your session expired — sign in again.';
    case 'forbidden':
      return 'You are not a member of this league.';
    case 'unavailable':
      return 'The server is busy — try again.';
    default:
      return 'Your bid was not accepted — try again.';
  }
}

/** Commissioner action errors (409 invalid_state and friends). */
export function controlErrorMessage(code: string, action: string): string {
  if (code === 'invalid_state') return `Cannot ${action} now: the auction is not in a state that allows it.`;
  if (code === 'forbidden') return 'Only the commissioner can do that.';
  if (code === 'network') return 'No connection — try again.';
  return `Could not ${action} — try again.`;
}
