import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Patient, Resource } from 'fhir/r4';
import { elementNameOfKey, ResourceSubsetter, SUBSETTED_TAG } from '../../../../src/search/results/subsetting';

const subsetter = new ResourceSubsetter({
  Patient: {
    summary: ['id', 'meta', 'implicitRules', 'identifier', 'name', 'birthDate', 'deceased'],
    mandatory: [],
    choice: ['deceased', 'multipleBirth'],
  },
  Observation: { summary: ['id', 'meta', 'status', 'code', 'value'], mandatory: ['status', 'code'], choice: ['value', 'effective'] },
});

const patient: Patient = {
  resourceType: 'Patient',
  id: 'p1',
  meta: { versionId: '2', tag: [{ system: 'http://example.org/tags', code: 'vip' }] },
  text: { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml">Jane</div>' },
  identifier: [{ system: 'urn:mrn', value: '7' }],
  name: [{ family: 'Doe' }],
  birthDate: '1980-02-03',
  _birthDate: { extension: [{ url: 'http://example.org/x', valueString: 'approx' }] },
  deceasedBoolean: false,
  multipleBirthInteger: 2,
  maritalStatus: { text: 'M' },
} as Patient;

const keys = (r: Resource): string[] => Object.keys(r).sort();
const tagged = (r: Resource): boolean => (r.meta?.tag ?? []).some((t) => t.code === SUBSETTED_TAG.code && t.system === SUBSETTED_TAG.system);

test('JSON keys map to element names: primitive extensions and choice types', () => {
  assert.equal(elementNameOfKey('_birthDate', []), 'birthDate');
  assert.equal(elementNameOfKey('deceasedDateTime', ['deceased']), 'deceased');
  assert.equal(elementNameOfKey('deceased', ['deceased']), 'deceased');
  assert.equal(elementNameOfKey('valueset', ['value']), 'valueset');
});

test('_summary=true keeps only the summary elements and tags the resource SUBSETTED', () => {
  const out = subsetter.summary(patient, 'true') as Patient;
  assert.deepEqual(keys(out), ['_birthDate', 'birthDate', 'deceasedBoolean', 'id', 'identifier', 'meta', 'name', 'resourceType']);
  assert.ok(tagged(out));
  assert.equal(out.meta?.versionId, '2');
  assert.equal(out.meta?.tag?.length, 2, 'existing tags are kept');
});

test('subsetting never modifies the stored resource', () => {
  subsetter.summary(patient, 'true');
  assert.ok('maritalStatus' in patient);
  assert.equal(patient.meta?.tag?.length, 1);
});

test('_summary=text keeps text, id, meta and the mandatory top-level elements', () => {
  const obs = { resourceType: 'Observation', id: 'o', status: 'final', code: { text: 'x' }, valueQuantity: { value: 1 }, text: { status: 'generated', div: '<div/>' } } as Resource;
  assert.deepEqual(keys(subsetter.summary(obs, 'text')), ['code', 'id', 'meta', 'resourceType', 'status', 'text']);
});

test('_summary=data removes only the narrative', () => {
  const out = subsetter.summary(patient, 'data');
  assert.ok(!('text' in out));
  assert.ok('maritalStatus' in out && 'multipleBirthInteger' in out);
  assert.ok(tagged(out));
});

test('a resource with nothing to remove is returned unchanged and untagged', () => {
  const bare: Patient = { resourceType: 'Patient', id: 'x', name: [{ family: 'A' }] };
  assert.equal(subsetter.summary(bare, 'data'), bare);
  assert.equal(subsetter.elements(bare, ['name']), bare);
});

test('the SUBSETTED tag is not added twice', () => {
  const once = subsetter.summary(patient, 'true');
  const twice = subsetter.summary({ ...once, maritalStatus: { text: 'S' } } as Resource, 'true');
  assert.equal(twice.meta?.tag?.filter((t) => t.code === 'SUBSETTED').length, 1);
});

test('_elements keeps the named elements (with their choice and extension forms), id, meta and mandatory ones', () => {
  const out = subsetter.elements(patient, ['birthDate', 'deceased']);
  assert.deepEqual(keys(out), ['_birthDate', 'birthDate', 'deceasedBoolean', 'id', 'meta', 'resourceType']);
  assert.ok(tagged(out));
  const obs = { resourceType: 'Observation', id: 'o', status: 'final', code: { text: 'x' }, subject: { reference: 'Patient/1' }, note: [{ text: 'n' }] } as Resource;
  assert.deepEqual(keys(subsetter.elements(obs, ['subject'])), ['code', 'id', 'meta', 'resourceType', 'status', 'subject']);
});
