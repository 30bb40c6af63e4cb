import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { checkJsonSafety } from '../../../src/validation/guards';

const codes = (value: unknown, limits?: Parameters<typeof checkJsonSafety>[1]): string[] =>
  checkJsonSafety(value, limits).map((i) => `${i.code} ${i.expression?.[0] ?? ''}`);

describe('JSON safety guards', () => {
  test('an ordinary resource is safe', () => {
    const patient = { resourceType: 'Patient', name: [{ given: ['Peter', null], _given: [null, { extension: [{ url: 'u', valueString: 'x' }] }] }] };
    assert.deepEqual(checkJsonSafety(patient), []);
  });

  test('prototype-polluting keys are rejected wherever they are', () => {
    const body = JSON.parse('{"resourceType":"Patient","name":[{"__proto__":{"admin":true}}],"constructor":1,"meta":{"prototype":2}}');
    assert.deepEqual(codes(body).sort(), ['security Patient.constructor', 'security Patient.meta.prototype', 'security Patient.name[0].__proto__']);
  });

  test('nesting deeper than the limit is rejected once, at the first level too deep', () => {
    let value: unknown = 'leaf';
    for (let i = 0; i < 100_000; i++) value = [value];
    assert.deepEqual(codes(value, { maxDepth: 64 }), [`too-costly ${'[0]'.repeat(64)}`]);
  });

  test('nesting exactly at the limit is allowed', () => {
    let value: unknown = { a: 1 };
    for (let i = 1; i < 5; i++) value = { a: value };
    assert.deepEqual(checkJsonSafety(value, { maxDepth: 5 }), []);
    assert.deepEqual(codes(value, { maxDepth: 4 }), ['too-costly a.a.a.a']);
  });

  test('arrays longer than the limit are rejected', () => {
    assert.deepEqual(codes({ resourceType: 'Bundle', entry: new Array(11).fill({}) }, { maxArrayLength: 10 }), ['too-costly Bundle.entry']);
    assert.deepEqual(checkJsonSafety({ entry: new Array(10).fill({}) }, { maxArrayLength: 10 }), []);
  });

  test('the default array limit is 50,000 items (the largest R4 example array has 28,517)', () => {
    assert.deepEqual(checkJsonSafety(new Array(50_000).fill(0)), []);
    assert.deepEqual(codes(new Array(50_001).fill(0)), ['too-costly ']);
  });

  test('objects with more keys than the limit are rejected', () => {
    const wide = Object.fromEntries(Array.from({ length: 6 }, (_, i) => [`k${i}`, i]));
    assert.deepEqual(codes({ wide }, { maxKeys: 5 }), ['too-costly wide']);
  });

  test('reports several problems at once, at most 20', () => {
    const many = Array.from({ length: 50 }, () => JSON.parse('{"__proto__":1}'));
    assert.equal(checkJsonSafety(many).length, 20);
  });
});
