/** Compartment search (https://hl7.org/fhir/R4/compartmentdefinition.html) and system search with _type (https://hl7.org/fhir/R4/search.html#type). */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHarness, keys, linkOf, type Harness } from './harness';

let h: Harness;
before(async () => {
  h = await createHarness();
  await h.put({ resourceType: 'Organization', id: 'o1', name: 'Clinic' });
  await h.put({ resourceType: 'Patient', id: 'pa1', managingOrganization: { reference: 'Organization/o1' } });
  await h.put({ resourceType: 'Patient', id: 'pa2', link: [{ other: { reference: 'Patient/pa1' }, type: 'seealso' }] });
  const obs = (id: string, patient: string) => ({ resourceType: 'Observation' as const, id, status: 'final' as const, code: { text: 'x' }, subject: { reference: `Patient/${patient}` } });
  await h.put(obs('ob1', 'pa1'));
  await h.put(obs('ob2', 'pa1'));
  await h.put(obs('ob3', 'pa2'));
  await h.put(obs('ob4', 'pa1'));
  await h.remove('Observation', 'ob4');
});
after(() => h.close());

const inPa1 = (resourceType?: string) => ({ ...(resourceType ? { resourceType } : {}), compartment: { type: 'Patient', id: 'pa1' } });

test('Patient/[id]/Observation returns the live Observations in that patient compartment', async () => {
  const bundle = await h.search(inPa1('Observation'), '');
  assert.deepEqual(keys(bundle), ['Observation/ob1', 'Observation/ob2']);
  assert.equal(linkOf(bundle, 'self'), 'http://example.org/fhir/Patient/pa1/Observation');
});

test('compartment search combines with criteria and result parameters', async () => {
  assert.deepEqual(keys(await h.search(inPa1('Observation'), '_id=ob2,ob3')), ['Observation/ob2']);
  assert.deepEqual(keys(await h.search(inPa1('Observation'), '_sort=-_id')), ['Observation/ob2', 'Observation/ob1']);
});

test('Patient/[id]/* returns every resource type in the compartment: the patient, linked patients, their observations', async () => {
  const bundle = await h.search(inPa1(), '');
  assert.deepEqual(keys(bundle), ['Observation/ob1', 'Observation/ob2', 'Patient/pa1', 'Patient/pa2']);
  assert.equal(linkOf(bundle, 'self'), 'http://example.org/fhir/Patient/pa1/*');
});

test('a type outside the compartment definition finds nothing', async () => {
  assert.deepEqual(keys(await h.search(inPa1('Organization'), '')), []);
});

test('compartments the server does not index, and non-compartments, are refused', async () => {
  await assert.rejects(h.search({ resourceType: 'Observation', compartment: { type: 'Encounter', id: 'e1' } }, ''), { category: 'unprocessable' });
  await assert.rejects(h.search({ resourceType: 'Observation', compartment: { type: 'Organization', id: 'o1' } }, ''), { category: 'not-found' });
});

test('system search with _type searches across the listed types', async () => {
  assert.deepEqual(keys(await h.search({}, '_type=Patient,Organization')), ['Organization/o1', 'Patient/pa1', 'Patient/pa2']);
  const bundle = await h.search({}, '_type=Observation,Organization&_sort=-_lastUpdated');
  assert.deepEqual(keys(bundle), ['Observation/ob3', 'Observation/ob2', 'Observation/ob1', 'Organization/o1']);
  assert.equal(linkOf(bundle, 'self'), 'http://example.org/fhir?_type=Observation,Organization&_sort=-_lastUpdated');
});

test('system search without _type covers every type, deleted resources excluded', async () => {
  const bundle = await h.search({}, '_total=accurate&_count=2');
  assert.equal(bundle.total, 6);
  assert.deepEqual(keys(bundle), ['Observation/ob1', 'Observation/ob2']);
});
