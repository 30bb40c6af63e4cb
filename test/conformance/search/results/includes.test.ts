/** _include and _revinclude (https://hl7.org/fhir/R4/search.html#include). */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { OperationOutcome } from 'fhir/r4';
import { createHarness, keys, type Harness } from './harness';

let h: Harness;
before(async () => {
  h = await createHarness();
  await h.put({ resourceType: 'Organization', id: 'o1', name: 'Holding' });
  await h.put({ resourceType: 'Organization', id: 'o2', name: 'Clinic', partOf: { reference: 'Organization/o1' } });
  await h.put({ resourceType: 'Practitioner', id: 'dr1', name: [{ family: 'House' }] });
  await h.put({ resourceType: 'Patient', id: 'pa1', managingOrganization: { reference: 'Organization/o2' }, generalPractitioner: [{ reference: 'Practitioner/dr1' }] });
  await h.put({ resourceType: 'Patient', id: 'pa2', managingOrganization: { reference: 'Organization/o2' }, link: [{ other: { reference: 'Patient/pa1' }, type: 'seealso' }] });
  const obs = (id: string, patient: string, performer?: string) => ({
    resourceType: 'Observation' as const,
    id,
    status: 'final' as const,
    code: { text: 'x' },
    subject: { reference: `Patient/${patient}` },
    ...(performer ? { performer: [{ reference: `Practitioner/${performer}` }] } : {}),
  });
  await h.put(obs('ob1', 'pa1', 'dr1'));
  await h.put(obs('ob2', 'pa1'));
  await h.put(obs('ob3', 'pa2'));
  await h.put(obs('ob4', 'pa1'));
  await h.remove('Observation', 'ob4');
});
after(() => h.close());

const Observation = { resourceType: 'Observation' };
const Patient = { resourceType: 'Patient' };

test('_include adds each referenced resource once, with search mode include', async () => {
  const bundle = await h.search(Observation, '_include=Observation:subject');
  assert.deepEqual(keys(bundle), ['Observation/ob1', 'Observation/ob2', 'Observation/ob3']);
  assert.deepEqual(keys(bundle, 'include'), ['Patient/pa1', 'Patient/pa2']);
  const included = bundle.entry!.find((e) => e.search?.mode === 'include')!;
  assert.equal(included.fullUrl, 'http://example.org/fhir/Patient/pa1');
});

test('_include with a target type only follows references to that type', async () => {
  assert.deepEqual(keys(await h.search(Observation, '_include=Observation:performer:Practitioner'), 'include'), ['Practitioner/dr1']);
  assert.deepEqual(keys(await h.search(Observation, '_include=Observation:performer:Patient'), 'include'), []);
});

test('_include=* and Type:* follow every reference parameter', async () => {
  assert.deepEqual(keys(await h.search(Observation, '_id=ob1&_include=*'), 'include'), ['Patient/pa1', 'Practitioner/dr1']);
  assert.deepEqual(keys(await h.search(Patient, '_id=pa1&_include=Patient:*'), 'include'), ['Organization/o2', 'Practitioner/dr1']);
});

test('_revinclude adds the resources that refer to the matches, not deleted ones', async () => {
  const bundle = await h.search(Patient, '_revinclude=Observation:subject');
  assert.deepEqual(keys(bundle), ['Patient/pa1', 'Patient/pa2']);
  assert.deepEqual(keys(bundle, 'include'), ['Observation/ob1', 'Observation/ob2', 'Observation/ob3']);
});

test('_revinclude with a target type restricts which matches are referred to', async () => {
  const bundle = await h.search({}, '_type=Patient,Practitioner&_revinclude=Observation:performer:Practitioner');
  assert.deepEqual(keys(bundle, 'include'), ['Observation/ob1']);
});

test('matches are never repeated as included resources', async () => {
  const bundle = await h.search(Patient, '_include=Patient:link');
  assert.deepEqual(keys(bundle), ['Patient/pa1', 'Patient/pa2']);
  assert.deepEqual(keys(bundle, 'include'), []);
});

test(':iterate follows includes from included resources', async () => {
  assert.deepEqual(keys(await h.search(Patient, '_id=pa1&_include=Patient:organization&_include=Organization:partof'), 'include'), ['Organization/o2']);
  assert.deepEqual(keys(await h.search(Patient, '_id=pa1&_include=Patient:organization&_include:iterate=Organization:partof'), 'include'), [
    'Organization/o2',
    'Organization/o1',
  ]);
  const mixed = await h.search(Observation, '_id=ob3&_include=Observation:subject&_revinclude:iterate=Observation:subject');
  assert.deepEqual(keys(mixed, 'include'), ['Patient/pa2']);
});

test(':iterate stops after the configured number of rounds', async () => {
  const shallow = await createHarness({ limits: { maxIncludeIterations: 0 } });
  try {
    await shallow.put({ resourceType: 'Organization', id: 'a' });
    await shallow.put({ resourceType: 'Organization', id: 'b', partOf: { reference: 'Organization/a' } });
    await shallow.put({ resourceType: 'Organization', id: 'c', partOf: { reference: 'Organization/b' } });
    assert.deepEqual(keys(await shallow.search({ resourceType: 'Organization' }, '_id=c&_include:iterate=Organization:partof'), 'include'), ['Organization/b']);
  } finally {
    await shallow.close();
  }
});

test('included resources are capped, with a warning in the outcome entry', async () => {
  const capped = await createHarness({ limits: { maxIncluded: 1 } });
  try {
    await capped.put({ resourceType: 'Patient', id: 'a' });
    await capped.put({ resourceType: 'Patient', id: 'b' });
    await capped.put({ resourceType: 'Observation', id: 'x', status: 'final', code: { text: 'x' }, subject: { reference: 'Patient/a' } });
    await capped.put({ resourceType: 'Observation', id: 'y', status: 'final', code: { text: 'x' }, subject: { reference: 'Patient/b' } });
    const bundle = await capped.search(Observation, '_include=Observation:subject');
    assert.equal(keys(bundle, 'include').length, 1);
    const outcome = bundle.entry!.find((e) => e.search?.mode === 'outcome')!.resource as OperationOutcome;
    assert.equal(outcome.issue[0].code, 'incomplete');
  } finally {
    await capped.close();
  }
});

test('the access scope applies to included resources as it does to matches', async () => {
  const scope = { _id: { $ne: 'Practitioner/dr1' } };
  const bundle = await h.service.search(Observation, [['_id', 'ob1'], ['_include', '*']], 'strict', { scope });
  assert.deepEqual(keys(bundle, 'include'), ['Patient/pa1']);
  const revinclude = await h.service.search(Patient, [['_revinclude', 'Observation:subject']], 'strict', { scope: { _id: { $ne: 'Observation/ob2' } } });
  assert.deepEqual(keys(revinclude, 'include'), ['Observation/ob1', 'Observation/ob3']);
});

test('an include on a parameter that is not a reference is ignored with a warning, or rejected when strict', async () => {
  const bundle = await h.search(Observation, '_include=Observation:code');
  assert.equal(keys(bundle, 'outcome').length, 1);
  assert.deepEqual(keys(bundle, 'include'), []);
  await assert.rejects(h.search(Observation, '_include=Observation:code', 'strict'), { category: 'incorrect' });
});
