// Coalesced refreshes: a burst of "something changed" signals becomes one reload, never two
// reloads at once, and a change seen during a reload is followed by exactly one more.

export interface Coalescer {
  /** Something changed: reload soon (once for a whole burst). */
  request(): void;
  /** No more runs; a run in progress finishes but is not followed by another. */
  stop(): void;
}

export interface CoalesceTimers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const realTimers: CoalesceTimers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

/**
 * Runs `task` `delayMs` after the first request of a burst (requests in that window share the
 * run). A request while the task runs queues one more run after it; failures are the task's
 * business (a rejected run does not stop later ones).
 */
export function coalesce(task: () => Promise<unknown>, delayMs = 250, timers: CoalesceTimers = realTimers): Coalescer {
  let timer: unknown = null;
  let running = false;
  let again = false;
  let stopped = false;

  const schedule = () => {
    if (timer !== null || stopped) return;
    timer = timers.setTimeout(fire, delayMs);
  };
  async function fire(): Promise<void> {
    timer = null;
    if (stopped) return;
    running = true;
    try {
      await task();
    } catch {
      /* the next change retries */
    } finally {
      running = false;
      if (again && !stopped) {
        again = false;
        schedule();
      }
    }
  }
  return {
    request() {
      if (stopped) return;
      if (running) again = true;
      else schedule();
    },
    stop() {
      stopped = true;
      if (timer !== null) timers.clearTimeout(timer);
      timer = null;
    },
  };
}
