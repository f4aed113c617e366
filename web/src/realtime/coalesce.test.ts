import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { coalesce } from './coalesce';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

/** A task whose runs finish only when the test says so. */
function gatedTask() {
  const runs: Array<() => void> = [];
  const task = () => new Promise<void>((res) => runs.push(res));
  return { task, runs };
}

describe('coalesce', () => {
  it('turns a burst of requests into one run after the delay', async () => {
    let n = 0;
    const c = coalesce(async () => void n++, 200);
    c.request();
    c.request();
    await vi.advanceTimersByTimeAsync(150);
    c.request();
    expect(n).toBe(0);
    await vi.advanceTimersByTimeAsync(60);
    expect(n).toBe(1);
    await vi.advanceTimersByTimeAsync(1000);
    expect(n).toBe(1);
  });

  it('never runs twice at once; a change during a run is followed by exactly one more run', async () => {
    const g = gatedTask();
    const c = coalesce(g.task, 100);
    c.request();
    await vi.advanceTimersByTimeAsync(100);
    expect(g.runs).toHaveLength(1);
    c.request();
    c.request();
    c.request();
    await vi.advanceTimersByTimeAsync(500);
    expect(g.runs).toHaveLength(1); // still running: no second run yet
    g.runs[0]();
    await vi.advanceTimersByTimeAsync(100);
    expect(g.runs).toHaveLength(2);
    g.runs[1]();
    await vi.advanceTimersByTimeAsync(1000);
    expect(g.runs).toHaveLength(2);
  });

  it('keeps going after a failed run', async () => {
    let n = 0;
    const c = coalesce(async () => {
      n++;
      throw new Error('offline');
    }, 50);
    c.request();
    await vi.advanceTimersByTimeAsync(50);
    c.request();
    await vi.advanceTimersByTimeAsync(50);
    expect(n).toBe(2);
  });

  it('stop cancels a scheduled run and any queued one', async () => {
    const g = gatedTask();
    const c = coalesce(g.task, 100);
    c.request();
    await vi.advanceTimersByTimeAsync(100);
    c.request();
    c.stop();
    g.runs[0]();
    await vi.advanceTimersByTimeAsync(1000);
    expect(g.runs).toHaveLength(1);
    c.request();
    await vi.advanceTimersByTimeAsync(1000);
    expect(g.runs).toHaveLength(1);
  });
});
