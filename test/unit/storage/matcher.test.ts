/**
 * The compiled matcher's MongoDB query semantics operator by operator
 * (https://www.mongodb.com/docs/manual/reference/operator/query/), including the shapes where mingo departs
 * from MongoDB, and the filters it leaves to mingo.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CompiledFilter } from '../../../src/storage/embedded/compiled-filter';
import { compileMatcher } from '../../../src/storage/embedded/matcher';

function matches(filter: object, doc: object): boolean {
  const predicate = compileMatcher(filter);
  assert.ok(predicate, `not compiled: ${JSON.stringify(filter)}`);
  return predicate(doc);
}

describe('compiled matcher', () => {
  it('equality on a path holding an array matches any element, but not inside nested arrays', () => {
    assert.equal(matches({ has: 'b' }, { has: ['a', 'b'] }), true);
    assert.equal(matches({ has: 'c' }, { has: ['a', 'b'] }), false);
    assert.equal(matches({ has: 'b' }, { has: [['b']] }), false);
    assert.equal(matches({ has: 'b' }, { has: [] }), false);
    assert.equal(matches({ has: { $eq: 1 } }, { has: '1' }), false);
    assert.equal(matches({ deleted: false }, {}), false);
  });

  it('ranges compare within the bound type: a string bound never matches numbers, nor a number bound strings', () => {
    assert.equal(matches({ v: { $gt: 'a' } }, { v: 5 }), false);
    assert.equal(matches({ v: { $lt: 5 } }, { v: 'a' }), false);
    assert.equal(matches({ v: { $lt: 5 } }, { v: null }), false);
    assert.equal(matches({ v: { $gte: 1 } }, { v: [0, 'z', 2] }), true);
    assert.equal(matches({ v: { $gte: 'b', $lt: 'c' } }, { v: 'bz' }), true);
    assert.equal(matches({ v: { $gte: 'b', $lt: 'c' } }, { v: 'c' }), false);
    assert.equal(matches({ v: { $lte: 'c' } }, { v: 'c' }), true);
    assert.equal(matches({ v: { $gt: 'B' } }, { v: 'a' }), true, 'code unit order: "a" (0x61) after "B" (0x42)');
  });

  it('without $elemMatch each operator may hold for a different element', () => {
    assert.equal(matches({ v: { $gt: 5, $lt: 3 } }, { v: [1, 9] }), true);
    assert.equal(matches({ 'tok.p': 'code', 'tok.c': '1' }, { tok: [{ p: 'code', c: '2' }, { p: 'x', c: '1' }] }), true);
  });

  it('$elemMatch requires one element to satisfy every condition and skips scalar elements', () => {
    const tok = [{ p: 'code', c: '2' }, { p: 'x', c: '1' }];
    assert.equal(matches({ tok: { $elemMatch: { p: 'code', c: '1' } } }, { tok }), false);
    assert.equal(matches({ tok: { $elemMatch: { p: 'code', c: { $in: ['1', '2'] } } } }, { tok }), true);
    assert.equal(matches({ tok: { $elemMatch: { p: 'x', $or: [{ c: '0' }, { c: '1' }] } } }, { tok }), true);
    assert.equal(matches({ tok: { $elemMatch: { c: { $exists: false } } } }, { tok: ['a', 1] }), false);
    assert.equal(matches({ tok: { $elemMatch: { c: { $exists: false } } } }, { tok: [['a']] }), true, 'an array element is a document of numeric keys');
    assert.equal(matches({ tok: { $elemMatch: { p: 'code' } } }, { tok: { p: 'code' } }), false);
    assert.equal(matches({ 'idx.tok': { $elemMatch: { p: 'code' } } }, { idx: {} }), false);
  });

  it('$ne, $nin and $not match documents where the path is missing; $ne fails when any element is equal', () => {
    assert.equal(matches({ has: { $ne: 'x' } }, {}), true);
    assert.equal(matches({ has: { $ne: 'x' } }, { has: ['x', 'y'] }), false);
    assert.equal(matches({ has: { $ne: 'x' } }, { has: [] }), true);
    assert.equal(matches({ has: { $nin: ['x', 'z'] } }, { has: ['y'] }), true);
    assert.equal(matches({ has: { $nin: [] } }, { has: 'y' }), true);
    assert.equal(matches({ has: { $in: [] } }, { has: 'y' }), false);
    assert.equal(matches({ k: { $not: { $regex: '^x' } } }, {}), true);
    assert.equal(matches({ k: { $not: { $gt: 1 } } }, { k: 'a' }), true);
  });

  it('$exists counts null values and follows arrays of documents', () => {
    assert.equal(matches({ s: { $exists: true } }, { s: null }), true);
    assert.equal(matches({ 'a.s': { $exists: true } }, { a: [] }), false);
    assert.equal(matches({ 'a.s': { $exists: true } }, { a: [{}, { s: 1 }] }), true);
    assert.equal(matches({ 'a.s': { $exists: false } }, { a: [{}, { s: 1 }] }), false);
    assert.equal(matches({ a: { $exists: true } }, { a: [] }), true);
  });

  it('ranges and $in reach array leaves through an array of documents (where mingo does not)', () => {
    assert.equal(matches({ 'c.b': { $lt: 'h' } }, { c: [{ b: ['B'] }, { b: 3 }] }), true);
    assert.equal(matches({ 'c.b': { $in: ['B'] } }, { c: [{ b: ['B'] }, {}] }), true);
    assert.equal(matches({ 'c.b': 0 }, { c: [[0]] }), false);
  });

  it('$regex with an escaped pattern matches literally, on strings only', () => {
    const reference = { r: { $regex: '^[A-Za-z]+/a\\.b$' } };
    assert.equal(matches(reference, { r: 'Patient/a.b' }), true);
    assert.equal(matches(reference, { r: 'Patient/aXb' }), false);
    assert.equal(matches({ r: { $regex: '1' } }, { r: 1 }), false);
    assert.equal(matches({ r: { $regex: 'b' } }, { r: ['a', 'abc'] }), true);
  });

  it('$regex of escaped literal text is compared as text, however long (the regex engine refuses ~33,000 characters)', () => {
    const text = 'a.b*(c)[d]|e?'.repeat(5000);
    const escaped = text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    assert.equal(matches({ v: { $regex: escaped } }, { v: `x ${text} y` }), true);
    assert.equal(matches({ v: { $regex: escaped } }, { v: text.slice(1) }), false);
    assert.equal(matches({ v: { $regex: `^${escaped}` } }, { v: `${text}!` }), true);
    assert.equal(matches({ v: { $regex: `^${escaped}` } }, { v: `!${text}` }), false);
    assert.equal(matches({ v: { $regex: `${escaped}$` } }, { v: `!${text}` }), true);
    assert.equal(matches({ v: { $regex: `^${escaped}$` } }, { v: text }), true);
    assert.equal(matches({ v: { $regex: `^${escaped}$` } }, { v: `${text} ` }), false);
    assert.equal(matches({ v: { $regex: 'a\\/b\\-c' } }, { v: 'xa/b-cx' }), true);
    assert.equal(matches({ v: { $regex: 'a.c' } }, { v: 'abc' }), true, 'an unescaped metacharacter is still a pattern');
  });

  it('$and, $or and $nor combine document conditions; an empty filter matches everything', () => {
    assert.equal(matches({}, { a: 1 }), true);
    assert.equal(matches({ $or: [{ a: 1 }, { b: 2 }] }, { b: 2 }), true);
    assert.equal(matches({ $and: [{ a: 1 }, { b: 2 }] }, { b: 2 }), false);
    assert.equal(matches({ $nor: [{ a: 1 }, { b: 2 }] }, { c: 3 }), true);
    assert.equal(matches({ $nor: [{ a: 1 }, { b: 2 }] }, { a: [1] }), false);
  });

  it('leaves other operators, null and document operands, numeric path steps and regex options to mingo', () => {
    for (const filter of [
      { a: null },
      { a: { $ne: null } },
      { a: { b: 1 } },
      { a: [1] },
      { a: { $type: 'string' } },
      { a: { $size: 0 } },
      { 'k.0': 'x' },
      { a: { $regex: 'x', $options: 'i' } },
      { a: { $regex: /x/ } },
      { a: { $elemMatch: { $gt: 1 } } },
      { a: { $in: [null] } },
      { a: {} },
      { $or: [] },
      { $expr: { $eq: ['$a', 1] } },
      { constructor: 'x' },
    ]) {
      assert.equal(compileMatcher(filter), null, JSON.stringify(filter));
      assert.equal(new CompiledFilter(filter).compiled, false, JSON.stringify(filter));
    }
    const fallback = new CompiledFilter({ a: null, b: { $type: 'string' } });
    assert.equal(fallback.test({ _id: 'x', b: 's' }), true);
    assert.equal(fallback.test({ _id: 'x', a: 1, b: 's' }), false);
  });

  it('compiles the search engine filter for Observation?code=system|code&date=ge', () => {
    const filter = {
      $and: [
        { type: 'Observation', deleted: false },
        { 'idx.tok': { $elemMatch: { p: 'code', s: 'http://loinc.org', c: '8867-4' } } },
        { 'idx.date': { $elemMatch: { p: 'date', hi: { $gte: '2025-12-10T00:00:00.000Z' } } } },
      ],
    };
    const compiled = new CompiledFilter(filter);
    assert.equal(compiled.compiled, true);
    const idx = {
      tok: [{ p: 'code', s: 'http://loinc.org', c: '8867-4' }],
      date: [{ p: 'date', lo: '2025-12-11T08:00:00.000Z', hi: '2025-12-11T08:00:00.999Z' }],
    };
    assert.equal(compiled.test({ _id: 'Observation/1', type: 'Observation', deleted: false, idx }), true);
    assert.equal(compiled.test({ _id: 'Observation/2', type: 'Observation', deleted: true, idx }), false);
    const older = { ...idx, date: [{ p: 'date', lo: '2025-12-09T08:00:00.000Z', hi: '2025-12-09T08:00:00.999Z' }] };
    assert.equal(compiled.test({ _id: 'Observation/3', type: 'Observation', deleted: false, idx: older }), false);
  });
});
