import { describe, expect, it } from 'vitest';
import { formatMoney, formatMoneyInput, formatMoneyLong, parseMoney } from './format';

describe('formatMoney', () => {
  it.each([
    [12_500_000, 'GBP', '£12.5m'],
    [500_000_000, 'GBP', '£500m'],
    [750_000, 'GBP', '£750k'],
    [1_200_000_000, 'GBP', '£1.2bn'],
    [3_000_000, 'USD', '$3m'],
    [25_000_000, 'EUR', '€25m'],
    [20_000_000, 'INR', '₹20m'],
    [950, 'GBP', '£950'],
    [0, 'GBP', '£0'],
    [1_000, 'GBP', '£1k'],
    [12_250_000, 'GBP', '£12.25m'],
    [12_345_678, 'GBP', '£12.346m'],
    [1_000_000_000_000, 'GBP', '£1000bn'],
    [-5_000_000, 'GBP', '-£5m'],
    [1_500, 'CHF', 'CHF\u20091.5k'],
  ])('%d %s → %s', (units, cur, out) => {
    expect(formatMoney(units, cur)).toBe(out);
  });
  it('accepts lower-case codes and defaults to GBP', () => {
    expect(formatMoney(2_000_000, 'gbp')).toBe('£2m');
    expect(formatMoney(2_000_000, '')).toBe('£2m');
  });
  it('never shows NaN', () => {
    expect(formatMoney(Number.NaN, 'GBP')).toBe('—');
  });
  it('long form groups thousands', () => {
    expect(formatMoneyLong(12_500_000, 'GBP')).toBe('£12,500,000');
    expect(formatMoneyLong(999, 'USD')).toBe('$999');
  });
});

describe('parseMoney', () => {
  it.each([
    ['12.5m', 12_500_000],
    ['12,500,000', 12_500_000],
    ['750k', 750_000],
    ['1.2bn', 1_200_000_000],
    ['£13m', 13_000_000],
    ['13M', 13_000_000],
    [' 13 m ', 13_000_000],
    ['$3m', 3_000_000],
    ['€2.25m', 2_250_000],
    ['₹500k', 500_000],
    ['GBP 4m', 4_000_000],
    ['1b', 1_000_000_000],
    ['2mn', 2_000_000],
    ['.5m', 500_000],
    ['1000', 1_000],
    ['0', 0],
    ['1.234567m', 1_234_567],
  ])('%s → %d', (text, units) => {
    expect(parseMoney(text)).toBe(units);
  });
  it.each(['', 'abc', '12.5', '1,5m', '12,50,000', '-5m', '5x', '1.2345k', 'm', '£', '1e6', '99999999999999bn', '1..2m'])(
    'rejects %j',
    (text) => {
      expect(parseMoney(text)).toBeNull();
    },
  );
  it('round-trips what formatMoney prints', () => {
    for (const v of [1, 999, 1_000, 12_500_000, 750_000, 1_200_000_000, 123_456_789_000]) {
      const short = formatMoney(v, 'GBP');
      if (!short.includes('.') || short.split('.')[1].replace(/\D/g, '').length < 3) {
        expect(parseMoney(short)).toBe(v);
      }
    }
  });
});

describe('formatMoneyInput', () => {
  it.each([
    [500_000_000, '500m'],
    [12_345_678, '12.345678m'],
    [750_000, '750k'],
    [1_500_000_000, '1.5bn'],
    [999, '999'],
    [1_001, '1.001k'],
  ])('%d → %s and back exactly', (units, text) => {
    expect(formatMoneyInput(units)).toBe(text);
    expect(parseMoney(text)).toBe(units);
  });
});
