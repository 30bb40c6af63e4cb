/** Criteria matching for conditional create/update/delete (https://hl7.org/fhir/R4/http.html#cond-update). */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHarness, type Harness } from './harness';

let h: Harness;
before(async () => {
  h = await createHarness();
  const mrn = (id: string, value: string) => ({ resourceType: 'Patient' as const, id, identifier: [{ system: 'urn:mrn', value }] });
  await h.put(mrn('a', '1'));
  await h.put(mrn('b', '2'));
  await h.put(mrn('c', '2'));
  await h.put(mrn('d', '3'));
  await h.remove('Patient', 'd');
});
after(() => h.close());

test('matching records of the type are returned, at most the limit, deleted ones never', async () => {
  assert.deepEqual((await h.service.matchCriteria('Patient', [['identifier', 'urn:mrn|1']], 2)).map((r) => r._id), ['Patient/a']);
  assert.deepEqual((await h.service.matchCriteria('Patient', [['identifier', 'urn:mrn|2']], 2)).map((r) => r._id), ['Patient/b', 'Patient/c']);
  assert.equal((await h.service.matchCriteria('Patient', [['identifier', 'urn:mrn|2']], 1)).length, 1);
  assert.deepEqual(await h.service.matchCriteria('Patient', [['identifier', 'urn:mrn|3']], 2), []);
});

test('result parameters do not change what conditional criteria match', async () => {
  assert.deepEqual((await h.service.matchCriteria('Patient', [['identifier', 'urn:mrn|2'], ['_count', '1'], ['_sort', '-_id']], 5)).map((r) => r._id), ['Patient/b', 'Patient/c']);
});

test('unknown criteria are rejected rather than ignored', async () => {
  await assert.rejects(h.service.matchCriteria('Patient', [['shoe-size', '42']], 2), { category: 'incorrect' });
});

test('the access scope narrows conditional matches too', async () => {
  assert.deepEqual((await h.service.matchCriteria('Patient', [['identifier', 'urn:mrn|2']], 2, { scope: { id: { $ne: 'b' } } })).map((r) => r._id), ['Patient/c']);
});
