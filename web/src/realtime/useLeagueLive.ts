// Keeps a league page current: subscribes to the league room and reloads the page's data
// (coalesced) on its events and on every (re)join; polls slowly only while the socket is down.
import { useEffect, useRef, useState } from 'preact/hooks';
import { getAccessToken } from '../api/client';
import { coalesce, type Coalescer } from './coalesce';
import { LeagueSocket, type LeagueConn, type LeagueEvent } from './leagueSocket';

export interface LeagueLiveOptions {
  /** Reloads the page's data. Never runs twice at once; a burst of events makes one call. */
  reload(): Promise<unknown>;
  /** Whether an event calls for a reload (default: every event of the league). */
  relevant?(ev: LeagueEvent): boolean;
  /** Any other reaction to an event (e.g. league_deleted). */
  onEvent?(ev: LeagueEvent): void;
  /** The server refused the join: the caller is not (or no longer) a member. */
  onRefused?(): void;
  /** The poll's period while the socket is down. */
  pollMs: number;
}

/** Gathers a burst of events (a CSV import, several results entered in a row) into one reload. */
const BURST_MS = 250;

export interface LeagueLive {
  status: LeagueConn;
  /** Reload soon (merged with any reload the room's events cause): after the page's own change. */
  refresh(): void;
}

export function useLeagueLive(leagueId: string, opts: LeagueLiveOptions): LeagueLive {
  const ref = useRef(opts);
  ref.current = opts;
  const [sock, setSock] = useState<LeagueSocket | null>(null);
  const coal = useRef<Coalescer | null>(null);

  useEffect(() => {
    const c = coalesce(() => ref.current.reload(), BURST_MS);
    const s = new LeagueSocket({
      leagueId,
      getToken: getAccessToken,
      onEvent: (ev) => {
        ref.current.onEvent?.(ev);
        if (ref.current.relevant?.(ev) ?? true) c.request();
      },
      onJoined: () => c.request(),
      onRefused: () => ref.current.onRefused?.(),
    });
    coal.current = c;
    setSock(s);
    s.start();
    return () => {
      s.stop();
      c.stop();
      coal.current = null;
    };
  }, [leagueId]);

  const status: LeagueConn = sock?.status.value ?? 'connecting';
  useEffect(() => {
    if (status === 'live' || status === 'refused') return;
    const t = setInterval(() => {
      if (document.visibilityState === 'visible') coal.current?.request();
    }, ref.current.pollMs);
    return () => clearInterval(t);
  }, [status]);
  const [refresh] = useState(() => () => coal.current?.request());
  return { status, refresh };
}
