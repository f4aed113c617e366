import { describe, expect, it } from 'vitest';
import type { League } from '../api/types';
import { roleLabel, statusView } from './leagueStatus';

const l = { id: 'lg_1', status: 'auction' } as League;

describe('statusView', () => {
  it('sends a live auction straight into the room', () => {
    const v = statusView(l, { id: 'auc_1', status: 'running' });
    expect(v).toMatchObject({ label: 'Live now', href: '/auctions/auc_1', rank: 0 });
  });
  it('offers the lobby while waiting and results when completed', () => {
    expect(statusView(l, { id: 'a', status: 'waiting' }).action).toBe('Enter the lobby');
    expect(statusView(l, { id: 'a', status: 'completed' }).href).toBe('/auctions/a/results');
    expect(statusView(l, { id: 'a', status: 'paused' }).tone).toBe('warn');
  });
  it('opens the league page when there is no auction', () => {
    expect(statusView(l, null).href).toBe('/leagues/lg_1');
  });
  it('orders live first and finished last', () => {
    const ranks = (['running', 'paused', 'waiting', 'completed'] as const).map((s) => statusView(l, { id: 'a', status: s }).rank);
    expect(ranks).toEqual([...ranks].sort());
    expect(statusView(l, null).rank).toBeLessThan(statusView(l, { id: 'a', status: 'completed' }).rank);
  });
  it('names roles', () => {
    expect(roleLabel('commissioner')).toBe('Commissioner');
    expect(roleLabel('spectator')).toBe('Spectator');
    expect(roleLabel('manager')).toBe('Manager');
  });
});
