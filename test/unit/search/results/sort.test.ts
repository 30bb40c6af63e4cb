import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Query } from 'mingo';
import {
  afterPosition,
  comparePositions,
  compareValues,
  positionOf,
  reversed,
  sortField,
  totalOrder,
  type SortKey,
} from '../../../../src/search/results/sort';

const docs = [
  { _id: 'Patient/a', id: 'a', idx: { so: { family: 'baker', birthdate: '1980-01-01' } } },
  { _id: 'Patient/b', id: 'b', idx: { so: { family: 'adams', birthdate: '1990-01-01' } } },
  { _id: 'Patient/c', id: 'c', idx: { so: { family: 'baker' } } },
  { _id: 'Patient/d', id: 'd', idx: {} },
  { _id: 'Patient/e', id: 'e', idx: { so: { family: 'clark', birthdate: '1990-01-01' } } },
];

const after = (keys: SortKey[], position: Array<string | number | null>): string[] => {
  const q = new Query(afterPosition(keys, position));
  return docs.filter((d) => q.test(d)).map((d) => d._id).sort();
};

test('_sort codes map onto record fields: _id, _lastUpdated and per-parameter sort keys', () => {
  assert.equal(sortField('_id'), 'id');
  assert.equal(sortField('_lastUpdated'), 'lastUpdated');
  assert.equal(sortField('address-city'), 'idx.so.address-city');
});

test('every order ends with the record key, so it is total', () => {
  const keys = totalOrder([{ code: 'family', field: 'idx.so.family', direction: -1 }]);
  assert.deepEqual(
    keys.map((k) => [k.field, k.direction]),
    [
      ['idx.so.family', -1],
      ['_id', 1],
    ],
  );
  assert.deepEqual(
    reversed(keys).map((k) => k.direction),
    [1, -1],
  );
});

test('values order like MongoDB: missing first, then numbers, then strings', () => {
  assert.ok(compareValues(null, 0) < 0);
  assert.ok(compareValues(5, 'a') < 0);
  assert.ok(compareValues('a', 'b') < 0);
  assert.equal(compareValues('x', 'x'), 0);
});

test('string order follows the store: code points for MongoDB, UTF-16 units for the embedded engine', () => {
  assert.ok(compareValues('\uffff', '\u{1F600}', 'code-point') < 0);
  assert.ok(compareValues('\uffff', '\u{1F600}', 'utf-16') > 0);
});

test('a position lists each key value and the record key; non-scalar or missing values are null', () => {
  const keys = totalOrder([
    { code: 'family', field: 'idx.so.family', direction: 1 },
    { code: 'birthdate', field: 'idx.so.birthdate', direction: 1 },
  ]);
  assert.deepEqual(positionOf(docs[2], keys), ['baker', null, 'Patient/c']);
  assert.deepEqual(positionOf({ _id: 'X/1', idx: { so: { family: ['a'] } } }, keys), [null, null, 'X/1']);
});

test('ascending seek: records after (baker, Patient/a) are the later bakers and later families', () => {
  const keys = totalOrder([{ code: 'family', field: 'idx.so.family', direction: 1 }]);
  assert.deepEqual(after(keys, ['baker', 'Patient/a']), ['Patient/c', 'Patient/e']);
});

test('ascending seek from a missing value continues with the other missing ones, then every value', () => {
  const keys = totalOrder([{ code: 'birthdate', field: 'idx.so.birthdate', direction: 1 }]);
  assert.deepEqual(after(keys, [null, 'Patient/c']), ['Patient/a', 'Patient/b', 'Patient/d', 'Patient/e']);
});

test('descending seek: missing values come last', () => {
  const keys = totalOrder([{ code: 'birthdate', field: 'idx.so.birthdate', direction: -1 }]);
  // order: 1990 b, 1990 e, 1980 a, null c, null d
  assert.deepEqual(after(keys, ['1990-01-01', 'Patient/b']), ['Patient/a', 'Patient/c', 'Patient/d', 'Patient/e']);
  assert.deepEqual(after(keys, ['1980-01-01', 'Patient/a']), ['Patient/c', 'Patient/d']);
  assert.deepEqual(after(keys, [null, 'Patient/c']), ['Patient/d']);
  assert.deepEqual(after(keys, [null, 'Patient/d']), []);
});

test('multi-key seek agrees with the in-process comparison', () => {
  const keys = totalOrder([
    { code: 'birthdate', field: 'idx.so.birthdate', direction: -1 },
    { code: 'family', field: 'idx.so.family', direction: 1 },
  ]);
  const sorted = [...docs].sort((a, b) => comparePositions(positionOf(a, keys), positionOf(b, keys), keys));
  assert.deepEqual(
    sorted.map((d) => d._id),
    // birthdate desc (missing last), then family asc (missing first): d has no family, c is baker
    ['Patient/b', 'Patient/e', 'Patient/a', 'Patient/d', 'Patient/c'],
  );
  for (let i = 0; i < sorted.length; i++) {
    const expected = sorted.slice(i + 1).map((d) => d._id).sort();
    assert.deepEqual(after(keys, positionOf(sorted[i], keys)), expected);
  }
});
