/**
 * Stored records parsed with their search index entries left as text until read (lazy-index-fields.ts): the
 * document is the one JSON.parse gives, in the same key order, deep-frozen, and every text that is not exactly
 * the record layout is parsed whole. Records of one layout share one hidden class, as JSON.parse's do.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { parseRecord } from '../../../src/storage/embedded/lazy-index-fields';

const record = {
  _id: 'Observation/o1',
  type: 'Observation',
  id: 'o1',
  versionId: 1,
  lastUpdated: '2025-01-01T00:00:00.000Z',
  deleted: false,
  resource: { resourceType: 'Observation', id: 'o1', note: [{ text: 'a "quoted" } brace ] and \\ backslash, "idx":{' }] },
  idx: { tok: [{ p: 'code', s: 'http://loinc.org', c: '8867-4', t: 'heart rate "}]' }], ref: [{ p: 'subject', r: 'Patient/p1' }], date: [] },
  compartments: ['Patient/p1'],
};

function assertSameDocument(json: string): void {
  const doc = parseRecord(json);
  assert.deepEqual(doc, JSON.parse(json));
  assert.equal(JSON.stringify(doc), json, 'same members in the same order');
  assert.ok(Object.isFrozen(doc));
  for (const value of Object.values(doc)) if (value && typeof value === 'object') assert.ok(Object.isFrozen(value));
}

describe('stored records with lazily parsed index entries', () => {
  it('gives the same deep-frozen document as JSON.parse, index entries included, in the same key order', () => {
    assertSameDocument(JSON.stringify(record));
    const { compartments: _none, ...withoutCompartments } = record;
    assertSameDocument(JSON.stringify(withoutCompartments));
  });

  it('parses whole any text that is not the record layout: idx not last, nested idx, no idx, strings with brackets', () => {
    assertSameDocument(JSON.stringify({ ...record, after: { x: [1] } }));
    const { idx, compartments, ...rest } = record;
    assertSameDocument(JSON.stringify({ ...rest, idx, other: [{ a: 1 }], compartments }));
    assertSameDocument(JSON.stringify({ ...rest, resource: { ...rest.resource, idx: { a: [1] } }, compartments }));
    assertSameDocument(JSON.stringify({ ...rest, compartments: ['Patient/]x'] , idx }));
    assertSameDocument(JSON.stringify({ ...rest, idx, compartments: ['a]', 'b'] }));
    assertSameDocument(JSON.stringify({ _id: 'x', history: true }));
  });

  it('keeps the index entries out of the parse until they are read', () => {
    const doc = parseRecord(JSON.stringify(record)) as Record<string, unknown>;
    const descriptor = Object.getOwnPropertyDescriptor(doc, 'idx');
    assert.equal(typeof descriptor?.get, 'function', 'idx is read on demand');
    assert.equal(doc.idx, doc.idx, 'parsed once');
    assert.throws(() => ((doc.idx as { tok: unknown[] }).tok as unknown[]).push(1), TypeError);
  });

  it('gives records of one layout one hidden class (no per-record class for a bulk read to promote)', () => {
    const a = parseRecord(JSON.stringify(record));
    const b = parseRecord(JSON.stringify({ ...record, _id: 'Observation/o2', id: 'o2', idx: { ...record.idx, date: [{ p: 'date' }] } }));
    assert.equal(Object.getOwnPropertyDescriptor(a, 'idx')?.get, Object.getOwnPropertyDescriptor(b, 'idx')?.get, 'one accessor for every record');
    setFlagsFromString('--allow-natives-syntax');
    const sameMap = new Function('a', 'b', 'return %HaveSameMap(a, b)') as (a: unknown, b: unknown) => boolean;
    assert.equal(sameMap(a, b), true);
    assert.equal(sameMap(JSON.parse(JSON.stringify(record)), JSON.parse(JSON.stringify(record))), true, 'the check itself tells equal classes');
    assert.equal(sameMap(a, JSON.parse(JSON.stringify(record))), false, 'and different ones');
  });
});
