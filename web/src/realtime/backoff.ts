// Reconnect delays and token expiry: small pure helpers of the socket (unit-tested).

/** Exponential backoff with jitter: attempt 0 → 250–500 ms, doubling up to a 10 s cap. */
export function backoffMs(attempt: number, rnd: () => number, baseMs = 500, capMs = 10_000): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.min(attempt, 20));
  return Math.round(ceiling / 2 + (ceiling / 2) * rnd());
}

/** The `exp` of a JWT in epoch ms, or null when it cannot be read. */
export function tokenExpiryMs(token: string): number | null {
  const part = token.split('.')[1];
  if (!part) return null;
  try {
    const b64 = part.replace(/-/g, '+').replace(/_/g, '/');
    const json = JSON.parse(atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4)));
    return typeof json.exp === 'number' ? json.exp * 1000 : null;
  } catch {
    return null;
  }
}
