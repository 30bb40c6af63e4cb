/** _summary and _elements (https://hl7.org/fhir/R4/search.html#summary, #elements). */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Bundle, Resource } from 'fhir/r4';
import { createHarness, keys, type Harness } from './harness';

let h: Harness;
before(async () => {
  h = await createHarness();
  await h.put({ resourceType: 'Organization', id: 'o1', name: 'Clinic', text: { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml">Clinic</div>' }, alias: ['C'] });
  await h.put({
    resourceType: 'Patient',
    id: 'p1',
    text: { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml">Jane Doe</div>' },
    identifier: [{ system: 'urn:mrn', value: '1' }],
    name: [{ family: 'Doe', given: ['Jane'] }],
    gender: 'female',
    birthDate: '1970-01-01',
    deceasedBoolean: false,
    maritalStatus: { text: 'married' },
    communication: [{ language: { text: 'en' } }],
    managingOrganization: { reference: 'Organization/o1' },
  });
  await h.put({
    resourceType: 'Observation',
    id: 'ob1',
    status: 'final',
    code: { text: 'weight' },
    subject: { reference: 'Patient/p1' },
    valueQuantity: { value: 70, unit: 'kg' },
    note: [{ text: 'after lunch' }],
    text: { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml">70 kg</div>' },
  });
});
after(() => h.close());

const only = (bundle: Bundle, mode: 'match' | 'include' = 'match'): Resource => bundle.entry!.find((e) => e.search?.mode === mode)!.resource!;
const elementNames = (r: Resource): string[] => Object.keys(r).sort();
const isSubsetted = (r: Resource): boolean =>
  (r.meta?.tag ?? []).some((t) => t.system === 'http://terminology.hl7.org/CodeSystem/v3-ObservationValue' && t.code === 'SUBSETTED');

test('_summary=true returns the elements marked summary in the R4 definition, tagged SUBSETTED', async () => {
  const p = only(await h.search({ resourceType: 'Patient' }, '_summary=true'));
  // Patient summary elements: id, meta, implicitRules, identifier, active, name, telecom, gender, birthDate, deceased[x], address, managingOrganization, link
  assert.deepEqual(elementNames(p), ['birthDate', 'deceasedBoolean', 'gender', 'id', 'identifier', 'managingOrganization', 'meta', 'name', 'resourceType']);
  assert.ok(isSubsetted(p));
  assert.equal(p.meta?.versionId, '1');
});

test('_summary=text returns text, id, meta and the mandatory top-level elements', async () => {
  // Observation.status and Observation.code are 1..1
  assert.deepEqual(elementNames(only(await h.search({ resourceType: 'Observation' }, '_summary=text'))), ['code', 'id', 'meta', 'resourceType', 'status', 'text']);
});

test('_summary=data removes the narrative only', async () => {
  const p = only(await h.search({ resourceType: 'Patient' }, '_summary=data'));
  assert.ok(!('text' in p));
  assert.ok('maritalStatus' in p && 'communication' in p);
  assert.ok(isSubsetted(p));
});

test('_summary=false returns whole resources, untagged', async () => {
  const p = only(await h.search({ resourceType: 'Patient' }, '_summary=false'));
  assert.ok('text' in p && 'maritalStatus' in p);
  assert.ok(!isSubsetted(p));
});

test('_summary=count returns only the count', async () => {
  const bundle = await h.search({ resourceType: 'Patient' }, '_summary=count');
  assert.equal(bundle.total, 1);
  assert.equal(bundle.entry, undefined);
});

test('_summary applies to included resources too', async () => {
  const bundle = await h.search({ resourceType: 'Patient' }, '_summary=true&_include=Patient:organization');
  const org = only(bundle, 'include');
  // Organization summary elements include identifier, active, type, name, alias is not summary
  assert.ok(!('alias' in org) && !('text' in org));
  assert.equal((org as { name?: string }).name, 'Clinic');
  assert.ok(isSubsetted(org));
});

test('_elements keeps the named elements plus id, meta and mandatory ones, for the matches', async () => {
  const bundle = await h.search({ resourceType: 'Observation' }, '_elements=subject,value&_include=Observation:subject');
  const obs = only(bundle);
  assert.deepEqual(elementNames(obs), ['code', 'id', 'meta', 'resourceType', 'status', 'subject', 'valueQuantity']);
  assert.ok(isSubsetted(obs));
  const patient = only(bundle, 'include');
  assert.ok('maritalStatus' in patient, 'included resources are not cut down by _elements');
  assert.deepEqual(keys(bundle, 'include'), ['Patient/p1']);
});

test('stored resources are untouched by subsetting', async () => {
  await h.search({ resourceType: 'Patient' }, '_summary=true');
  const p = only(await h.search({ resourceType: 'Patient' }, ''));
  assert.ok('maritalStatus' in p && 'text' in p);
  assert.ok(!isSubsetted(p));
});
