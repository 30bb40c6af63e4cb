import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { FhirError } from '../../../../src/core/errors';
import { BASE_URL, harness, parseQuery, type Harness } from './harness';

// https://hl7.org/fhir/R4/search.html#reference, #chaining, #has
let h: Harness;
before(async () => {
  h = await harness([
    { resourceType: 'Organization', id: 'acme', name: 'Acme Health' },
    { resourceType: 'Organization', id: 'other', name: 'Other Care' },
    { resourceType: 'Patient', id: 'p1', name: [{ family: 'Chalmers' }], managingOrganization: { reference: 'Organization/acme' } },
    { resourceType: 'Patient', id: 'p2', name: [{ family: 'Levin' }], managingOrganization: { reference: `${BASE_URL}/Organization/other` } },
    { resourceType: 'Patient', id: 'p3', name: [{ family: 'Chalmers' }] },
    { resourceType: 'Group', id: 'p1', type: 'person', actual: true },
    { resourceType: 'Observation', id: 'o1', status: 'final', code: { coding: [{ system: 'http://loinc.org', code: '8480-6' }] }, subject: { reference: 'Patient/p1' } },
    { resourceType: 'Observation', id: 'o2', status: 'final', code: { coding: [{ system: 'http://loinc.org', code: '8462-4' }] }, subject: { reference: `${BASE_URL}/Patient/p2/_history/1` } },
    { resourceType: 'Observation', id: 'o3', status: 'final', code: { text: 'x' }, subject: { reference: 'http://elsewhere.org/fhir/Patient/p1' } },
    { resourceType: 'Observation', id: 'o4', status: 'final', code: { text: 'x' }, subject: { identifier: { system: 'http://acme.org/mrn', value: '42' } } },
    { resourceType: 'Observation', id: 'o5', status: 'final', code: { text: 'x' }, subject: { reference: 'Group/p1' } },
    { resourceType: 'AuditEvent', id: 'a1', type: { code: 'rest' }, recorded: '2024-01-01T00:00:00Z', agent: [{ requestor: true, who: { reference: 'Practitioner/dr' } }], source: { observer: { reference: 'Device/d' } }, entity: [{ what: { reference: 'Observation/o1' } }] },
  ]);
});
after(() => h.close());

test('Type/id, absolute URL under our base, and version-specific references all match the local key', async () => {
  assert.deepEqual(await h.ids('Observation', 'subject=Patient/p1'), ['o1']);
  assert.deepEqual(await h.ids('Observation', `subject=${encodeURIComponent(`${BASE_URL}/Patient/p2`)}`), ['o2']);
  assert.deepEqual(await h.ids('Observation', 'subject=Patient/p2'), ['o2']);
});

test('a bare id matches every allowed target type; :Type narrows to one', async () => {
  assert.deepEqual(await h.ids('Observation', 'subject=p1'), ['o1', 'o5']);
  assert.deepEqual(await h.ids('Observation', 'subject:Patient=p1'), ['o1']);
  assert.deepEqual(await h.ids('Observation', 'subject:Group=p1'), ['o5']);
});

test('a foreign absolute URL matches only that URL', async () => {
  assert.deepEqual(await h.ids('Observation', `subject=${encodeURIComponent('http://elsewhere.org/fhir/Patient/p1')}`), ['o3']);
});

test(':identifier matches the logical identifier of the reference', async () => {
  assert.deepEqual(await h.ids('Observation', `subject:identifier=${encodeURIComponent('http://acme.org/mrn|42')}`), ['o4']);
  assert.deepEqual(await h.ids('Observation', 'subject:identifier=42'), ['o4']);
  assert.deepEqual(await h.ids('Observation', 'subject:identifier=43'), []);
});

test('chaining one level: subject:Patient.name', async () => {
  assert.deepEqual(await h.ids('Observation', 'subject:Patient.name=chalmers'), ['o1']);
  assert.deepEqual(await h.ids('Observation', 'patient.name=levin'), ['o2']);
});

test('chaining two levels: subject:Patient.organization.name', async () => {
  assert.deepEqual(await h.ids('Observation', 'subject:Patient.organization.name=acme'), ['o1']);
  assert.deepEqual(await h.ids('Observation', 'subject:Patient.organization.name=other'), ['o2']);
  assert.deepEqual(await h.ids('Observation', 'subject:Patient.organization.name=nobody'), []);
});

test('a chain without :Type searches every target type that defines the parameter (Patient and Location names)', async () => {
  const withLocation = await harness([
    { resourceType: 'Patient', id: 'p1', name: [{ family: 'Harbour' }] },
    { resourceType: 'Location', id: 'l1', name: 'Harbour Clinic' },
    { resourceType: 'Location', id: 'l2', name: 'Hill Clinic' },
    { resourceType: 'Observation', id: 'o1', status: 'final', code: { text: 'x' }, subject: { reference: 'Patient/p1' } },
    { resourceType: 'Observation', id: 'o2', status: 'final', code: { text: 'x' }, subject: { reference: 'Location/l1' } },
    { resourceType: 'Observation', id: 'o3', status: 'final', code: { text: 'x' }, subject: { reference: 'Location/l2' } },
  ]);
  try {
    assert.deepEqual(await withLocation.ids('Observation', 'subject.name=harbour'), ['o1', 'o2']);
    assert.deepEqual(await withLocation.ids('Observation', 'subject:Location.name=harbour'), ['o2']);
  } finally {
    await withLocation.close();
  }
});

test('a chained parameter no target defines is an unknown parameter (400 under strict handling)', async () => {
  await assert.rejects(h.compiler.compile('Observation', parseQuery('subject.nonsense=x'), 'strict'), (err: unknown) => {
    assert.ok(err instanceof FhirError && err.category === 'incorrect');
    assert.match(err.message, /no target of 'subject'/);
    return true;
  });
});

test('chains matching more than maxChainResults resources are refused', async () => {
  const small = await harness(
    [
      { resourceType: 'Patient', id: 'a', name: [{ family: 'Same' }] },
      { resourceType: 'Patient', id: 'b', name: [{ family: 'Same' }] },
    ],
    { maxChainResults: 1 },
  );
  try {
    await assert.rejects(small.ids('Observation', 'patient.name=same'), (err: unknown) => err instanceof FhirError && err.category === 'unprocessable');
  } finally {
    await small.close();
  }
});

test('_has: patients with an observation of a code', async () => {
  assert.deepEqual(await h.ids('Patient', `_has:Observation:patient:code=${encodeURIComponent('http://loinc.org|8480-6')}`), ['p1']);
  assert.deepEqual(await h.ids('Patient', '_has:Observation:patient:code=8462-4'), ['p2']);
  assert.deepEqual(await h.ids('Patient', '_has:Observation:patient:code=nope'), []);
});

test('nested _has: patients with an observation that an audit event is about', async () => {
  assert.deepEqual(await h.ids('Patient', '_has:Observation:patient:_has:AuditEvent:entity:agent=Practitioner/dr'), ['p1']);
  assert.deepEqual(await h.ids('Patient', '_has:Observation:patient:_has:AuditEvent:entity:agent=Practitioner/x'), []);
});

test('_has combined with other criteria is AND', async () => {
  assert.deepEqual(await h.ids('Patient', '_has:Observation:subject:status=final&family=chalmers'), ['p1']);
});
