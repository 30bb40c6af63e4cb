/**
 * Key generation of compound multikey indexes (src/storage/embedded/index-keys.ts): paths under one array are
 * expanded per element, paths under different arrays are crossed, missing values index as null, a scalar where
 * the path goes on yields null below it, a sparse index drops tuples null at its sparse paths, and a prefix and a
 * suffix frame each key. Tuples are written out here with encodeKeyValue, so the expected keys are the definition.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KeyGenerator } from '../../../src/storage/embedded/index-keys';
import { encodeKeyValue } from '../../../src/storage/embedded/key-encoding';

const key = (...values: unknown[]): string => values.map((v) => encodeKeyValue(v)).join('');
const sorted = (keys: string[]): string[] => [...keys].sort();

describe('index key generation', () => {
  it('correlates paths under one array (one key per element) and crosses paths under different arrays', () => {
    const generator = new KeyGenerator(['type', 'tok.p', 'tok.c', 'date.p', 'date.hi']);
    const doc = { type: 'T', tok: [{ p: 'code', c: 'a' }, { p: 'code', c: 'b' }], date: [{ p: 'd1', hi: 1 }, { p: 'd2', hi: 2 }] };
    assert.deepEqual(sorted(generator.keys(doc)), sorted([
      key('T', 'code', 'a', 'd1', 1),
      key('T', 'code', 'a', 'd2', 2),
      key('T', 'code', 'b', 'd1', 1),
      key('T', 'code', 'b', 'd2', 2),
    ]));
    assert.equal(generator.shapes[1].multikey, true);
    assert.deepEqual([...generator.shapes[3].arrayPrefixes], ['date']);
    assert.equal(generator.shapes[0].multikey, false);
  });

  it('completes every crossed tuple with the scalars that follow the arrays', () => {
    const generator = new KeyGenerator(['a', 'b', 'c', 'd']);
    const keys = generator.keys({ a: [1, 2], b: ['x', 'y'], c: 'same', d: [true] }, 'ID', 'P:');
    assert.deepEqual(sorted(keys), sorted([
      `P:${key(1, 'x', 'same', true)}ID`,
      `P:${key(1, 'y', 'same', true)}ID`,
      `P:${key(2, 'x', 'same', true)}ID`,
      `P:${key(2, 'y', 'same', true)}ID`,
    ]));
  });

  it('indexes missing values, empty arrays and a scalar where the path continues as null', () => {
    const generator = new KeyGenerator(['type', 'x.y', 'x', 'z.w']);
    assert.deepEqual(generator.keys({ type: 'T' }), [key('T', null, null, null)]);
    assert.deepEqual(generator.keys({ type: 'T', x: 'flat', z: [] }), [key('T', null, 'flat', null)]);
    assert.deepEqual(generator.keys({ type: 'T', x: { y: 5 }, z: { w: 'w' } }), [key('T', 5, { y: 5 }, 'w')]);
    assert.equal(generator.shapes[2].unordered, true);
    assert.deepEqual([...generator.shapes[1].objectPrefixes], ['x']);
  });

  it('flattens nested arrays and keeps each distinct key once', () => {
    const generator = new KeyGenerator(['v']);
    assert.deepEqual(sorted(generator.keys({ v: [[1, 2], 2, [1]] })), sorted([key(1), key(2)]));
    assert.equal(generator.shapes[0].nestedArrays, true);
    assert.equal(generator.shapes[0].leafArray, true);
  });

  it('keeps each distinct key once however many an index has for one document, in document order', () => {
    const generator = new KeyGenerator(['type', 'tok.c']);
    const codes = Array.from({ length: 40 }, (_, i) => `c${i % 25}`);
    const keys = generator.keys({ type: 'T', tok: codes.map((c) => ({ c })) }, '#');
    assert.deepEqual(keys, Array.from({ length: 25 }, (_, i) => `${key('T', `c${i}`)}#`));
  });

  it('records an embedded document inside an array element under its full path', () => {
    const generator = new KeyGenerator(['type', 'a.b.c', 'a.d']);
    const keys = generator.keys({ type: 'T', a: [{ b: { c: 1 }, d: 'x' }, { b: [{ c: 2 }, { c: 3 }], d: 'y' }] });
    assert.deepEqual(sorted(keys), sorted([key('T', 1, 'x'), key('T', 2, 'y'), key('T', 3, 'y')]));
    assert.deepEqual([...generator.shapes[1].arrayPrefixes].sort(), ['a', 'a.b']);
    assert.deepEqual([...generator.shapes[1].objectPrefixes], ['a.b']);
  });

  it('leaves out the tuples a sparse index has no value for', () => {
    const generator = new KeyGenerator(['type', 'tok.p', 'tok.s'], ['tok.s']);
    const doc = { type: 'T', tok: [{ p: 'code', s: 'http://x' }, { p: 'code' }, { p: 'other', s: 'http://y' }] };
    assert.deepEqual(sorted(generator.keys(doc, '#')), sorted([`${key('T', 'code', 'http://x')}#`, `${key('T', 'other', 'http://y')}#`]));
    assert.deepEqual(generator.keys({ type: 'T' }), []);
  });
});
