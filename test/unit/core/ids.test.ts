import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isValidId, timeOrderedIdGenerator } from '../../../src/core/ids';

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

test('server-assigned ids are valid FHIR ids in the UUID version 7 form (RFC 9562 §5.7)', () => {
  const ids = timeOrderedIdGenerator();
  for (let i = 0; i < 100; i++) {
    const id = ids.next();
    assert.match(id, UUID_V7);
    assert.ok(isValidId(id));
  }
});

test('ids created one after another sort one after another, within a millisecond too', () => {
  let clock = 1_700_000_000_000;
  const ids = timeOrderedIdGenerator(() => clock);
  const made: string[] = [];
  for (let i = 0; i < 3000; i++) {
    if (i % 1000 === 999) clock++;
    made.push(ids.next());
  }
  assert.deepEqual([...made].sort(), made);
  assert.equal(new Set(made).size, made.length);
});

test('ids carry the creation millisecond in their first 48 bits', () => {
  const ms = Date.UTC(2026, 11, 1, 12, 0, 0);
  const id = timeOrderedIdGenerator(() => ms).next();
  assert.equal(parseInt(id.replaceAll('-', '').slice(0, 12), 16), ms);
});
