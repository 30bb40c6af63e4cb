/** The nesting scan run on JSON bytes before JSON.parse, whole or chunk by chunk (src/http/json-depth.ts). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NestingScanner, nestsDeeperThan } from '../../../src/http/json-depth';

const deeper = (text: string, max: number): boolean => nestsDeeperThan(Buffer.from(text), max);

/** The text fed in every split into two and into single bytes gives the same answer as whole. */
function sameInChunks(text: string, max: number): void {
  const bytes = Buffer.from(text);
  const whole = nestsDeeperThan(bytes, max);
  for (let cut = 0; cut <= bytes.length; cut++) {
    const scanner = new NestingScanner(max);
    assert.equal(scanner.exceeded(bytes.subarray(0, cut)) || scanner.exceeded(bytes.subarray(cut)), whole, `split at ${cut} of ${text}`);
  }
  const single = new NestingScanner(max);
  let exceeded = false;
  for (let i = 0; i < bytes.length && !exceeded; i++) exceeded = single.exceeded(bytes.subarray(i, i + 1));
  assert.equal(exceeded, whole, `byte by byte: ${text}`);
}

describe('JSON nesting measured on the raw bytes', () => {
  it('counts arrays and objects alike; the root container is depth 1', () => {
    assert.equal(deeper('{}', 1), false);
    assert.equal(deeper('{"a":[{}]}', 3), false);
    assert.equal(deeper('{"a":[{}]}', 2), true);
    assert.equal(deeper('1', 0), false);
  });

  it('depth is the deepest point, not the number of containers', () => {
    const wide = `[${Array.from({ length: 1000 }, () => '[[]]').join(',')}]`;
    assert.equal(deeper(wide, 3), false);
    assert.equal(deeper(wide, 2), true);
  });

  it('brackets inside strings do not count, escaped quotes do not end a string', () => {
    assert.equal(deeper(`{"text":"${'['.repeat(500)}"}`, 1), false);
    assert.equal(deeper(`{"text":"a\\"${'{'.repeat(50)}"}`, 1), false);
    assert.equal(deeper(`{"text":"a\\\\"${',[[['}]]]}`, 3), true, 'an escaped backslash before a quote ends the string');
    assert.equal(deeper(`{"é[":"ü{\\u005b"}`, 1), false, 'multi-byte characters and \\u escapes');
  });

  it('gives the same answer whatever the chunk boundaries, escapes and quotes included', () => {
    const texts = [
      '{"a":"x\\\\\\"[[","b":[[1]]}',
      '["\\\\\\\\",[[["\\"]"]]]]',
      '{"k\\\\":{"\\\\\\\\\\"":[{"x":"]"}]}}',
      '[["é",["ü\\"",["\\\\"]]]]',
    ];
    for (const text of texts) {
      const depth = (function depthOf(v: unknown): number {
        if (typeof v !== 'object' || v === null) return 0;
        return 1 + Math.max(0, ...Object.values(v).map(depthOf));
      })(JSON.parse(text));
      assert.equal(deeper(text, depth), false, text);
      assert.equal(deeper(text, depth - 1), true, text);
      sameInChunks(text, depth);
      sameInChunks(text, depth - 1);
    }
  });

  it('stops at the first point past the limit, so a 4.8 MB nested array costs almost nothing', () => {
    const deep = Buffer.from('['.repeat(2_400_000) + ']'.repeat(2_400_000));
    const scanner = new NestingScanner(64);
    assert.equal(scanner.exceeded(deep.subarray(0, 65_536)), true, 'decided by the first 64 KB chunk');
  });

  it('unterminated strings are left for JSON.parse to report', () => {
    assert.equal(deeper('{"a":"[[[[', 1), false);
  });
});
