import { describe, expect, it } from 'vitest';
import { backoffMs, tokenExpiryMs } from './backoff';

describe('backoffMs', () => {
  it('doubles from 500 ms to a 10 s cap, jittered within [ceiling/2, ceiling]', () => {
    expect(backoffMs(0, () => 0)).toBe(250);
    expect(backoffMs(0, () => 1)).toBe(500);
    expect(backoffMs(1, () => 1)).toBe(1000);
    expect(backoffMs(3, () => 1)).toBe(4000);
    expect(backoffMs(5, () => 1)).toBe(10_000);
    expect(backoffMs(50, () => 0)).toBe(5_000);
    expect(backoffMs(2, () => 0.5)).toBe(1500);
  });
});

describe('tokenExpiryMs', () => {
  it('reads exp from a JWT payload', () => {
    const payload = Buffer.from(JSON.stringify({ sub: 'u', exp: 1796198945 })).toString('base64url');
    expect(tokenExpiryMs(`h.${payload}.s`)).toBe(1796198945000);
  });
  it('is null for anything else', () => {
    expect(tokenExpiryMs('nope')).toBeNull();
    expect(tokenExpiryMs('a.###.c')).toBeNull();
    expect(tokenExpiryMs(`a.${Buffer.from('{"x":1}').toString('base64url')}.c`)).toBeNull();
  });
});
