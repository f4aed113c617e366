import { describe, expect, it } from 'vitest';
import { match } from './router';

describe('match', () => {
  it('matches static and param segments', () => {
    expect(match('/', '/')).toEqual({});
    expect(match('/leagues/:id', '/leagues/lg_1')).toEqual({ id: 'lg_1' });
    expect(match('/auctions/:auctionId/tv', '/auctions/a1/tv')).toEqual({ auctionId: 'a1' });
    expect(match('/leagues/:id', '/leagues/lg_1/')).toEqual({ id: 'lg_1' });
  });
  it('refuses other shapes', () => {
    expect(match('/leagues/:id', '/leagues')).toBeNull();
    expect(match('/leagues/:id', '/leagues/a/b')).toBeNull();
    expect(match('/help', '/helpme')).toBeNull();
    expect(match('/invite/:code', '/invite/%E0%A4%A')).toBeNull();
  });
  it('decodes params', () => {
    expect(match('/invite/:code', '/invite/AB%20C')).toEqual({ code: 'AB C' });
  });
});
