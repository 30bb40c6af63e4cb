/** The nesting scan run on JSON text before JSON.parse (src/http/json-depth.ts). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { nestsDeeperThan } from '../../../src/http/json-depth';

describe('JSON nesting measured on the raw text', () => {
  it('counts arrays and objects alike; the root container is depth 1', () => {
    assert.equal(nestsDeeperThan('{}', 1), false);
    assert.equal(nestsDeeperThan('{"a":[{}]}', 3), false);
    assert.equal(nestsDeeperThan('{"a":[{}]}', 2), true);
    assert.equal(nestsDeeperThan('1', 0), false);
  });

  it('depth is the deepest point, not the number of containers', () => {
    const wide = `[${Array.from({ length: 1000 }, () => '[[]]').join(',')}]`;
    assert.equal(nestsDeeperThan(wide, 3), false);
    assert.equal(nestsDeeperThan(wide, 2), true);
  });

  it('brackets inside strings do not count, escaped quotes do not end a string', () => {
    assert.equal(nestsDeeperThan(`{"text":"${'['.repeat(500)}"}`, 1), false);
    assert.equal(nestsDeeperThan(`{"text":"a\\"${'{'.repeat(50)}"}`, 1), false);
    assert.equal(nestsDeeperThan(`{"text":"a\\\\"${',[[['}]]]}`, 3), true, 'an escaped backslash before a quote ends the string');
  });

  it('stops at the first point past the limit, so a 4.8 MB nested array costs almost nothing', () => {
    const deep = '['.repeat(2_400_000) + ']'.repeat(2_400_000);
    const started = process.hrtime.bigint();
    assert.equal(nestsDeeperThan(deep, 64), true);
    assert.ok(Number(process.hrtime.bigint() - started) / 1e6 < 50);
  });

  it('unterminated strings are left for JSON.parse to report', () => {
    assert.equal(nestsDeeperThan('{"a":"[[[[', 1), false);
  });
});
