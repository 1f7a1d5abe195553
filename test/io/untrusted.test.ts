// Bounded formatting of untrusted values: short, iterative, never throwing on depth or size.
import { describe, expect, it } from 'vitest';
import { clipText, describeValue, errorText, exceedsDepth, listNames } from '../../src/io/untrusted.js';

describe('untrusted-value helpers', () => {
  it('describeValue renders small values like JSON', () => {
    expect(describeValue([1, 2, 3])).toBe('[1, 2, 3]');
    expect(describeValue({ a: 'x', b: [true, null] })).toBe('{"a": "x", "b": [true, null]}');
    expect(describeValue('hi')).toBe('"hi"');
    expect(describeValue(Infinity)).toBe('Infinity');
    expect(describeValue(undefined)).toBe('undefined');
  });

  it('describeValue cuts long, wide and deep values to the limit without recursing', () => {
    expect(describeValue('x'.repeat(1e6), 20)).toBe(`"${'x'.repeat(18)}…`);
    expect(describeValue(Array(1e6).fill(7), 20)).toBe('[7, 7, 7, 7, 7, 7, …');
    let deep: unknown = 1;
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(describeValue(deep, 30)).toBe(`${'['.repeat(29)}…`);
    const wide: Record<string, number> = {};
    for (let i = 0; i < 1e5; i++) wide[`k${i}`] = i;
    expect(describeValue(wide, 25)).toBe('{"k0": 0, "k1": 1, "k2":…');
  });

  it('clipText, listNames, exceedsDepth and errorText', () => {
    expect(clipText('abcdef', 4)).toBe('abc…');
    expect(clipText('abc', 4)).toBe('abc');
    expect(listNames(['a', 'b'])).toBe('"a", "b"');
    expect(listNames(['a', 'b', 'c', 'd', 'e'])).toBe('"a", "b", "c" … and 2 more');
    expect(listNames(['n'.repeat(500)]).length).toBeLessThan(70);
    expect(exceedsDepth([[[1]]], 3)).toBe(false);
    expect(exceedsDepth([[[[1]]]], 3)).toBe(true);
    expect(exceedsDepth({ a: { b: 1 } }, 2)).toBe(false);
    expect(exceedsDepth(JSON.parse(`${'['.repeat(200_000)}${']'.repeat(200_000)}`))).toBe(true);
    expect(errorText(new Error('e'.repeat(1000))).length).toBe(300);
    expect(errorText({ weird: true })).toBe('{"weird": true}');
  });
});
