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

test('the random bits differ from id to id, across refills of the random pool too', () => {
  const ids = timeOrderedIdGenerator(() => 1_700_000_000_000);
  const randomParts = new Set<string>();
  for (let i = 0; i < 2000; i++) {
    const id = ids.next();
    assert.match(id, UUID_V7);
    randomParts.add(id.replaceAll('-', '').slice(17));
  }
  assert.equal(randomParts.size, 2000, 'the 62 random bits of 2,000 ids (about 4 pool refills) are all distinct');
});
