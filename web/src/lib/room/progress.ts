// "Lot N of T" for the lot card and the big screen.
import type { AuctionState } from './types';

/**
 * N is the lot's own number: every lot opened gets the next one (re-offers and a lot opened again
 * after an undo included), so two lots never show the same N. T is N plus the assets still
 * queued in the current pass: the lots this pass will have in all. It grows when an undo queues
 * an asset again or a re-offer pass starts, and it is never below N. Null when no lot is shown.
 */
export function lotOf(a: AuctionState): { n: number; total: number } | null {
  if (!a.lot) return null;
  const n = a.lot.number;
  return { n, total: n + Math.max(0, a.progress.queued) };
}
