import { describe, expect, it } from 'vitest';
import { buildBody, defaultValues } from './settings';

const base = () => ({ ...defaultValues(), name: 'Friday league', sport: 'football', competition: 'EPL-2025' });

describe('league settings form', () => {
  it('defaults are PRODUCT.md defaults', () => {
    const { body, errors } = buildBody(base());
    expect(errors).toEqual({});
    expect(body).toMatchObject({
      budget: 500_000_000,
      rosterSize: 3,
      minManagers: 2,
      maxManagers: 8,
      lotSeconds: 30,
      antiSnipeSeconds: 10,
      minBid: 1_000_000,
      minIncrement: 1_000_000,
      intermissionSeconds: 3,
      lotOrder: 'random',
      reofferUnsold: 1,
      currency: 'GBP',
    });
  });
  it('reads money in short form', () => {
    const { body } = buildBody({ ...base(), budget: '£1.5bn', minBid: '500k' });
    expect(body).toMatchObject({ budget: 1_500_000_000, minBid: 500_000 });
  });
  it('names each bad field', () => {
    const { body, errors } = buildBody({ ...base(), name: ' ', lotSeconds: '2', budget: 'lots', rosterSize: '3.5' });
    expect(body).toBeNull();
    expect(Object.keys(errors).sort()).toEqual(['budget', 'lotSeconds', 'name', 'rosterSize']);
  });
  it('checks the rules that join two settings', () => {
    expect(buildBody({ ...base(), minManagers: '9' }).errors.minManagers).toBeTruthy();
    expect(buildBody({ ...base(), antiSnipeSeconds: '30' }).errors.antiSnipeSeconds).toBeTruthy();
    expect(buildBody({ ...base(), budget: '2m', rosterSize: '3' }).errors.budget).toMatch(/£3m/);
  });
});

describe('editing', () => {
  it('round-trips an existing league exactly', async () => {
    const { valuesFrom } = await import('./settings');
    const settings = { budget: 123_456_789, currency: 'EUR', rosterSize: 5, minManagers: 3, maxManagers: 10, lotSeconds: 20, antiSnipeSeconds: 5, minBid: 500_000, minIncrement: 250_000, intermissionSeconds: 0, lotOrder: 'fixed', reofferUnsold: 0 };
    const { body, errors } = buildBody(valuesFrom({ name: 'X', sport: 'football', competition: 'EPL-2025', settings }));
    expect(errors).toEqual({});
    expect(body).toMatchObject(settings);
  });
});
