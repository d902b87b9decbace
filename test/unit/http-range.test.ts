import { describe, expect, it } from 'vitest';
import { resolveRange } from '../../src/core/range.js';
import { etagMatches, ifRangeHolds, notModifiedSince, parseRangeHeader } from '../../src/http/range.js';

describe('Range header parsing', () => {
  it.each([
    ['bytes=0-9', { start: 0, end: 9 }],
    ['bytes=5-', { start: 5 }],
    ['bytes=-3', { suffix: 3 }],
    ['bytes = 1 - 2', { start: 1, end: 2 }],
    ['bytes=0-1,3-4', undefined],
    ['bytes=-', undefined],
    ['bytes=abc', undefined],
    ['lines=1-2', undefined],
    [undefined, undefined],
  ])('%s', (header, expected) => {
    expect(parseRangeHeader(header)).toEqual(expected);
  });

  it('resolves against the size and refuses what cannot be served', () => {
    expect(resolveRange({ start: 0, end: 99 }, 10)).toEqual({ start: 0, end: 9 });
    expect(resolveRange({ suffix: 20 }, 10)).toEqual({ start: 0, end: 9 });
    expect(() => resolveRange({ start: 10 }, 10)).toThrow(/not satisfiable/);
    expect(() => resolveRange({ start: 5, end: 4 }, 10)).toThrow(/not satisfiable/);
    expect(() => resolveRange({ suffix: 0 }, 10)).toThrow(/not satisfiable/);
    expect(() => resolveRange({ start: 0 }, 0)).toThrow(/not satisfiable/);
  });
});

describe('conditional headers', () => {
  const date = new Date('2026-01-02T03:04:05.678Z');
  it('matches entity tags weakly and lists', () => {
    expect(etagMatches('"a"', '"a"')).toBe(true);
    expect(etagMatches('W/"a"', '"a"')).toBe(true);
    expect(etagMatches('"b", "a"', '"a"')).toBe(true);
    expect(etagMatches('*', '"a"')).toBe(true);
    expect(etagMatches('"b"', '"a"')).toBe(false);
  });
  it('compares dates at one-second precision', () => {
    expect(notModifiedSince(date.toUTCString(), date)).toBe(true);
    expect(notModifiedSince(new Date(date.getTime() - 1000).toUTCString(), date)).toBe(false);
    expect(notModifiedSince('garbage', date)).toBe(false);
  });
  it('holds If-Range only for a strong matching ETag, never for a date (a rewrite within the same second keeps it)', () => {
    expect(ifRangeHolds(undefined, '"a"')).toBe(true);
    expect(ifRangeHolds('"a"', '"a"')).toBe(true);
    expect(ifRangeHolds(' "a" ', '"a"')).toBe(true);
    expect(ifRangeHolds('W/"a"', '"a"')).toBe(false);
    expect(ifRangeHolds('"b"', '"a"')).toBe(false);
    expect(ifRangeHolds(date.toUTCString(), '"a"')).toBe(false);
    expect(ifRangeHolds('Mon, 01 Jan 2001 00:00:00 GMT', '"a"')).toBe(false);
  });
});
