import { test } from 'node:test';
import assert from 'node:assert/strict';
import { splitPrefix } from '../../../../src/search/parse/prefix';

test('known prefixes are split off; no prefix means eq', () => {
  assert.deepEqual(splitPrefix('ge2013-01'), { prefix: 'ge', rest: '2013-01' });
  assert.deepEqual(splitPrefix('ap100'), { prefix: 'ap', rest: '100' });
  assert.deepEqual(splitPrefix('2013'), { prefix: 'eq', rest: '2013' });
  assert.deepEqual(splitPrefix('-5'), { prefix: 'eq', rest: '-5' });
});

test('two leading letters that are not a prefix are reported as unknown', () => {
  assert.deepEqual(splitPrefix('xx2013'), { prefix: 'eq', rest: 'xx2013', unknown: 'xx' });
});
