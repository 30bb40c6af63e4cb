/** _sort (https://hl7.org/fhir/R4/search.html#sort) over the embedded store. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Patient } from 'fhir/r4';
import { createHarness, keys, linkOf, type Harness } from './harness';

let h: Harness;
const patient = (id: string, family: string, birthDate?: string): Patient => ({
  resourceType: 'Patient',
  id,
  name: [{ family }],
  ...(birthDate ? { birthDate } : {}),
});

before(async () => {
  h = await createHarness();
  await h.put(patient('p1', 'Adams', '1980-05-01'));
  await h.put(patient('p2', 'Baker', '1975-01-01'));
  await h.put(patient('p3', 'Adams', '1990-03-03'));
  await h.put(patient('p4', 'Clark'));
  await h.put(patient('p5', 'Baker', '1975-01-01'));
});
after(() => h.close());

test('without _sort, results come in a stable order (by resource key)', async () => {
  assert.deepEqual(keys(await h.search({ resourceType: 'Patient' }, '')), ['Patient/p1', 'Patient/p2', 'Patient/p3', 'Patient/p4', 'Patient/p5']);
});

test('_sort with several keys: family ascending, then birthdate descending, ties broken by id', async () => {
  const bundle = await h.search({ resourceType: 'Patient' }, '_sort=family,-birthdate');
  assert.deepEqual(keys(bundle), ['Patient/p3', 'Patient/p1', 'Patient/p2', 'Patient/p5', 'Patient/p4']);
  assert.equal(linkOf(bundle, 'self'), 'http://example.org/fhir/Patient?_sort=family,-birthdate');
});

test('_sort descending on the first key, ascending on the second', async () => {
  assert.deepEqual(keys(await h.search({ resourceType: 'Patient' }, '_sort=-family,birthdate')), [
    'Patient/p4',
    'Patient/p2',
    'Patient/p5',
    'Patient/p1',
    'Patient/p3',
  ]);
});

test('resources without a value for the sort parameter come first ascending and last descending', async () => {
  assert.deepEqual(keys(await h.search({ resourceType: 'Patient' }, '_sort=birthdate')), ['Patient/p4', 'Patient/p2', 'Patient/p5', 'Patient/p1', 'Patient/p3']);
  assert.deepEqual(keys(await h.search({ resourceType: 'Patient' }, '_sort=-birthdate')), ['Patient/p3', 'Patient/p1', 'Patient/p2', 'Patient/p5', 'Patient/p4']);
});

test('_sort by _lastUpdated and by _id', async () => {
  assert.deepEqual(keys(await h.search({ resourceType: 'Patient' }, '_sort=-_lastUpdated')), ['Patient/p5', 'Patient/p4', 'Patient/p3', 'Patient/p2', 'Patient/p1']);
  assert.deepEqual(keys(await h.search({ resourceType: 'Patient' }, '_sort=-_id')), ['Patient/p5', 'Patient/p4', 'Patient/p3', 'Patient/p2', 'Patient/p1']);
});

test('sorting combines with criteria', async () => {
  assert.deepEqual(keys(await h.search({ resourceType: 'Patient' }, 'birthdate=1975-01-01&_sort=-_id')), ['Patient/p5', 'Patient/p2']);
});

test('an unknown _sort parameter is ignored with a warning, or rejected under handling=strict', async () => {
  const bundle = await h.search({ resourceType: 'Patient' }, '_sort=shoe-size,-_id');
  assert.deepEqual(keys(bundle), ['Patient/p5', 'Patient/p4', 'Patient/p3', 'Patient/p2', 'Patient/p1']);
  assert.equal(keys(bundle, 'outcome').length, 1);
  assert.equal(linkOf(bundle, 'self'), 'http://example.org/fhir/Patient?_sort=-_id');
  await assert.rejects(h.search({ resourceType: 'Patient' }, '_sort=shoe-size', 'strict'), { category: 'incorrect' });
});
