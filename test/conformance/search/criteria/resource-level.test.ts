import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { FhirError } from '../../../../src/core/errors';
import { BASE_URL, harness, parseQuery, type Harness } from './harness';

// https://hl7.org/fhir/R4/search.html#all, #list, and injection safety of the query compiler
let h: Harness;
before(async () => {
  h = await harness([
    { resourceType: 'Patient', id: 'a', meta: { tag: [{ system: 'http://acme.org/tags', code: 'vip' }], profile: ['http://acme.org/StructureDefinition/p|2.0'], source: 'http://acme.org/feed' }, name: [{ family: 'Alpha' }] },
    { resourceType: 'Patient', id: 'b', meta: { security: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality', code: 'R' }] }, name: [{ family: 'Beta' }] },
    { resourceType: 'Patient', id: 'c', name: [{ family: '$where' }] },
    { resourceType: 'Practitioner', id: 'a', name: [{ family: 'Alpha' }] },
    { resourceType: 'List', id: 'l1', status: 'current', mode: 'working', entry: [{ item: { reference: 'Patient/a' } }, { item: { reference: `${BASE_URL}/Patient/c` } }, { item: { reference: 'Practitioner/a' } }] },
  ]);
});
after(() => h.close());

test('_id matches the logical id; comma is OR', async () => {
  assert.deepEqual(await h.ids('Patient', '_id=a'), ['a']);
  assert.deepEqual(await h.ids('Patient', '_id=a,c,zz'), ['a', 'c']);
});

test('_tag, _security, _profile and _source', async () => {
  assert.deepEqual(await h.ids('Patient', `_tag=${encodeURIComponent('http://acme.org/tags|vip')}`), ['a']);
  assert.deepEqual(await h.ids('Patient', '_security=R'), ['b']);
  assert.deepEqual(await h.ids('Patient', `_profile=${encodeURIComponent('http://acme.org/StructureDefinition/p')}`), ['a']);
  assert.deepEqual(await h.ids('Patient', `_source=${encodeURIComponent('http://acme.org/feed')}`), ['a']);
});

test('_list selects the items of a stored List of the searched type', async () => {
  assert.deepEqual(await h.ids('Patient', '_list=l1'), ['a', 'c']);
  assert.deepEqual(await h.ids('Practitioner', '_list=l1'), ['a']);
  assert.deepEqual(await h.ids('Patient', '_list=missing'), []);
});

test('system-level search: _type selects the types, common parameters apply to all', async () => {
  assert.deepEqual(await h.ids(undefined, '_type=Patient,Practitioner&name=alpha'), ['Patient/a', 'Practitioner/a']);
  assert.deepEqual(await h.ids(undefined, '_id=a'), ['Patient/a', 'Practitioner/a']);
  assert.deepEqual(await h.ids(undefined, '_type=Practitioner&_id=a'), ['Practitioner/a']);
});

test('lenient handling ignores unknown parameters with a not-supported warning', async () => {
  const { warnings } = await h.compiler.compile('Patient', parseQuery('foo=1&family=alpha'), 'lenient');
  assert.equal(warnings.length, 1);
  assert.equal(warnings[0]!.code, 'not-supported');
  assert.deepEqual(await h.ids('Patient', 'foo=1&family=alpha', 'lenient'), ['a']);
  await assert.rejects(h.ids('Patient', 'foo=1', 'strict'), (err: unknown) => err instanceof FhirError && err.category === 'incorrect');
});

test('injection: operator syntax in parameter names never reaches the query', async () => {
  assert.deepEqual(await h.ids('Patient', 'name[$ne]=x', 'lenient'), ['a', 'b', 'c']);
  assert.deepEqual(await h.ids('Patient', '_id[$gt]=', 'lenient'), ['a', 'b', 'c']);
  assert.deepEqual(await h.ids('Patient', 'family[$regex]=.*', 'lenient'), ['a', 'b', 'c']);
  await assert.rejects(h.ids('Patient', 'name[$ne]=x', 'strict'), (err: unknown) => err instanceof FhirError);
});

test('injection: operator and regex syntax in values is matched literally', async () => {
  assert.deepEqual(await h.ids('Patient', 'name=.*'), []);
  assert.deepEqual(await h.ids('Patient', 'name=^a'), []);
  assert.deepEqual(await h.ids('Patient', 'family=%24where'), ['c']);
  assert.deepEqual(await h.ids('Patient', `_id=${encodeURIComponent('{"$ne":null}')}`), []);
  assert.deepEqual(await h.ids('Patient', 'family:contains=%7B%7D'), []);
  assert.deepEqual(await h.ids('Patient', 'family:contains=.'), []);
});
