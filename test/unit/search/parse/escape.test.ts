import { test } from 'node:test';
import assert from 'node:assert/strict';
import { splitEscaped, unescapeValue } from '../../../../src/search/parse/escape';

test('comma separates alternatives; an escaped comma does not', () => {
  assert.deepEqual(splitEscaped('a,b\\,c,d', ','), ['a', 'b\\,c', 'd']);
  assert.deepEqual(splitEscaped('a,b\\,c,d', ',').map(unescapeValue), ['a', 'b,c', 'd']);
});

test('pipe and dollar split only when unescaped, and escapes survive the first split', () => {
  assert.deepEqual(splitEscaped('http://x|a\\|b', '|'), ['http://x', 'a\\|b']);
  assert.deepEqual(splitEscaped('loinc|8480-6$lt60\\$', '$'), ['loinc|8480-6', 'lt60\\$']);
});

test('an escaped backslash is a literal backslash and does not escape the next separator', () => {
  assert.deepEqual(splitEscaped('a\\\\,b', ','), ['a\\\\', 'b']);
  assert.equal(unescapeValue('a\\\\'), 'a\\');
});

test('empty parts are kept (|code and system| token forms)', () => {
  assert.deepEqual(splitEscaped('|code', '|'), ['', 'code']);
  assert.deepEqual(splitEscaped('system|', '|'), ['system', '']);
});

test('values without escapes split and unescape the same as those with them would (the fast path)', () => {
  for (const value of ['', ',', 'a,,b,', '|code', 'system|', 'http://x|a|b', 'a$b$c']) {
    for (const separator of [',', '|', '$'] as const) {
      assert.deepEqual(splitEscaped(value, separator), splitEscaped(`${value}\\q`, separator).map((p, i, all) => (i === all.length - 1 ? p.slice(0, -2) : p)));
    }
    assert.equal(unescapeValue(value), value);
  }
});
