import { describe, expect, it } from 'vitest';
import { ServerClock, clockView, formatClock, urgency } from './clock';
import { baseState } from './fixtures.test-helpers';

describe('ServerClock', () => {
  it('is 0 with no information', () => {
    expect(new ServerClock().offsetMs()).toBe(0);
  });

  it('estimates the offset from a pong as server + rtt/2 − receive', () => {
    const c = new ServerClock();
    // sent at 1000, server stamped 6050, received at 1100: rtt 100, offset 6050 + 50 − 1100 = 5000
    c.addPong(1000, 6050, 1100);
    expect(c.offsetMs()).toBe(5000);
    expect(c.serverNow(2000)).toBe(7000);
  });

  it('prefers the sample with the least round trip', () => {
    const c = new ServerClock();
    c.addPong(0, 5400, 800); // rtt 800 → 5400 + 400 − 800 = 5000 (but noisy)
    c.addPong(1000, 6020, 1040); // rtt 40 → 6020 + 20 − 1040 = 5000
    c.addPong(2000, 7300, 2500); // rtt 500 → 7300 + 250 − 2500 = 5050
    expect(c.offsetMs()).toBe(5000);
    c.addPong(3000, 7990, 3010); // rtt 10 → 7990 + 5 − 3010 = 4985
    expect(c.offsetMs()).toBe(4985);
  });

  it('forgets old samples beyond its window', () => {
    const c = new ServerClock(2);
    c.addPong(0, 100, 0); // rtt 0, offset 100
    c.addPong(10, 220, 30); // rtt 20, offset 220 + 10 − 30 = 200
    c.addPong(40, 330, 60); // rtt 20, offset 330 + 10 − 60 = 280; first sample dropped
    expect(c.offsetMs()).toBe(200);
  });

  it('uses message stamps as a lower bound until a pong arrives', () => {
    const c = new ServerClock();
    c.addStamp(10_000, 9_000); // ≥ 1000
    c.addStamp(10_500, 9_700); // ≥ 800: keep the larger bound
    expect(c.offsetMs()).toBe(1000);
    c.addPong(9_800, 11_010, 9_820); // a pong wins: 11010 + 10 − 9820 = 1200
    expect(c.hasPong()).toBe(true);
    expect(c.offsetMs()).toBe(1200);
    c.reset();
    expect(c.offsetMs()).toBe(0);
  });

  it('handles a negative offset (client ahead of server)', () => {
    const c = new ServerClock();
    c.addPong(10_000, 7_010, 10_020);
    expect(c.offsetMs()).toBe(-3000);
  });
});

describe('clockView', () => {
  it('counts down to endsAt on the server clock', () => {
    const a = baseState(); // endsAt 1_020_000
    expect(clockView(a, 1_012_500)).toEqual({ phase: 'running', remainingMs: 7500 });
    expect(clockView(a, 1_030_000)).toEqual({ phase: 'running', remainingMs: 0 });
  });

  it('is frozen while paused at remainingMs, whatever the time', () => {
    const s = baseState();
    const a = { ...s, status: 'paused' as const, lot: { ...s.lot!, endsAtMs: null, remainingMs: 4321 } };
    expect(clockView(a, 0)).toEqual({ phase: 'paused', remainingMs: 4321 });
    expect(clockView(a, 9e12)).toEqual({ phase: 'paused', remainingMs: 4321 });
  });

  it('shows the intermission with its own end', () => {
    const s = baseState();
    const a = { ...s, lot: { ...s.lot!, state: 'intermission' as const, endsAtMs: 1_003_000 } };
    expect(clockView(a, 1_001_000)).toEqual({ phase: 'intermission', remainingMs: 2000 });
  });

  it('is idle while waiting, completed, or with no lot', () => {
    expect(clockView(baseState({ status: 'waiting' }), 0).phase).toBe('idle');
    expect(clockView(baseState({ status: 'completed' }), 0).phase).toBe('idle');
    expect(clockView(baseState({ lot: null }), 0).phase).toBe('idle');
  });

  it('marks the last seconds: amber ≤ 5 s, red ≤ 3 s', () => {
    expect(urgency({ phase: 'running', remainingMs: 5001 })).toBe('calm');
    expect(urgency({ phase: 'running', remainingMs: 5000 })).toBe('warn');
    expect(urgency({ phase: 'running', remainingMs: 3001 })).toBe('warn');
    expect(urgency({ phase: 'running', remainingMs: 3000 })).toBe('danger');
    expect(urgency({ phase: 'paused', remainingMs: 1000 })).toBe('calm');
    expect(urgency({ phase: 'intermission', remainingMs: 1000 })).toBe('calm');
  });

  it('formats the clock rounding up', () => {
    expect(formatClock(7000)).toBe('0:07');
    expect(formatClock(6001)).toBe('0:07');
    expect(formatClock(0)).toBe('0:00');
    expect(formatClock(-50)).toBe('0:00');
    expect(formatClock(90_000)).toBe('1:30');
    expect(formatClock(600_000)).toBe('10:00');
  });
});
