import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { FhirResource as Resource } from 'fhir/r4';
import { harness, type Harness } from './harness';

// https://hl7.org/fhir/R4/search.html#token
const LOINC = 'http://loinc.org';
const V2_0203 = 'http://terminology.hl7.org/CodeSystem/v2-0203';
const ACT_CODE = 'http://terminology.hl7.org/CodeSystem/v3-ActCode';

const obs = (id: string, codings: Array<{ system?: string; code: string; display?: string }>, text?: string): Resource => ({
  resourceType: 'Observation',
  id,
  status: 'final',
  code: { coding: codings, ...(text ? { text } : {}) },
});

let h: Harness;
before(async () => {
  h = await harness([
    obs('sys', [{ system: LOINC, code: '8480-6', display: 'Systolic blood pressure' }]),
    obs('dia', [{ system: LOINC, code: '8462-4' }], 'Diastolic Blóod Pressure'),
    obs('nosys', [{ code: '8480-6' }]),
    obs('other', [{ system: 'http://acme.org/codes', code: '8480-6' }]),
    { resourceType: 'Patient', id: 'm', gender: 'male', active: true, identifier: [{ system: 'http://acme.org/mrn', value: 'A1', type: { coding: [{ system: V2_0203, code: 'MR' }] } }] },
    { resourceType: 'Patient', id: 'f', gender: 'female', active: false, identifier: [{ system: 'http://acme.org/ssn', value: 'A1', type: { coding: [{ system: V2_0203, code: 'SS' }] } }] },
    { resourceType: 'Patient', id: 'x', gender: 'other' },
    { resourceType: 'Patient', id: 'none' },
    { resourceType: 'Encounter', id: 'amb', status: 'finished', class: { system: ACT_CODE, code: 'AMB' } },
    { resourceType: 'Encounter', id: 'emer', status: 'finished', class: { system: ACT_CODE, code: 'EMER' } },
  ]);
});
after(() => h.close());

test('code alone matches any system', async () => {
  assert.deepEqual(await h.ids('Observation', 'code=8480-6'), ['nosys', 'other', 'sys']);
});

test('system|code, |code (no system) and system| (any code of the system)', async () => {
  assert.deepEqual(await h.ids('Observation', `code=${encodeURIComponent(`${LOINC}|8480-6`)}`), ['sys']);
  assert.deepEqual(await h.ids('Observation', 'code=%7C8480-6'), ['nosys']);
  assert.deepEqual(await h.ids('Observation', `code=${encodeURIComponent(`${LOINC}|`)}`), ['dia', 'sys']);
});

test('codes are case-sensitive', async () => {
  assert.deepEqual(await h.ids('Patient', 'gender=MALE'), []);
  assert.deepEqual(await h.ids('Patient', 'gender=male'), ['m']);
});

test('boolean tokens', async () => {
  assert.deepEqual(await h.ids('Patient', 'active=true'), ['m']);
  assert.deepEqual(await h.ids('Patient', 'active=false'), ['f']);
});

test(':not returns resources with no matching token, including those without a value', async () => {
  assert.deepEqual(await h.ids('Patient', 'gender:not=male'), ['f', 'none', 'x']);
  assert.deepEqual(await h.ids('Patient', 'gender:not=male,female'), ['none', 'x']);
});

test(':text searches display and text, folded, as starts-with', async () => {
  assert.deepEqual(await h.ids('Observation', 'code:text=systolic'), ['sys']);
  assert.deepEqual(await h.ids('Observation', 'code:text=diastolic%20blood'), ['dia']);
  assert.deepEqual(await h.ids('Observation', 'code:text=blood'), []);
});

test(':of-type matches identifier type and value together', async () => {
  assert.deepEqual(await h.ids('Patient', `identifier:of-type=${encodeURIComponent(`${V2_0203}|MR|A1`)}`), ['m']);
  assert.deepEqual(await h.ids('Patient', `identifier:of-type=${encodeURIComponent(`${V2_0203}|SS|A1`)}`), ['f']);
  assert.deepEqual(await h.ids('Patient', 'identifier=A1'), ['f', 'm']);
});

test(':in and :not-in use a base ValueSet (administrative-gender) and stored ones', async () => {
  const gender = encodeURIComponent('http://hl7.org/fhir/ValueSet/administrative-gender');
  // gender is a plain code, indexed without a system: membership of the code decides
  assert.deepEqual(await h.ids('Patient', `gender:in=${gender}`), ['f', 'm', 'x']);
  assert.deepEqual(await h.ids('Patient', `gender:not-in=${gender}`), ['none']);
  const act = encodeURIComponent('http://terminology.hl7.org/ValueSet/v3-ActEncounterCode');
  assert.deepEqual(await h.ids('Encounter', `class:in=${act}`), ['amb', 'emer']);
  assert.deepEqual(await h.ids('Encounter', `class:not-in=${act}`), []);
});

test(':in with a ValueSet stored on the server', async () => {
  await h.store.transaction(async (tx) => {
    await tx.insert('resources', {
      _id: 'ValueSet/bp',
      type: 'ValueSet',
      id: 'bp',
      versionId: 1,
      lastUpdated: '2024-01-01T00:00:00.000Z',
      deleted: false,
      resource: { resourceType: 'ValueSet', status: 'active', url: 'http://acme.org/ValueSet/bp', compose: { include: [{ system: LOINC, concept: [{ code: '8480-6' }] }] } },
      idx: { uri: [{ p: 'url', v: 'http://acme.org/ValueSet/bp' }] },
      compartments: [],
    });
  });
  // 'nosys' has the member code without a system, which counts as a member (see docs/search-criteria.md)
  assert.deepEqual(await h.ids('Observation', `code:in=${encodeURIComponent('http://acme.org/ValueSet/bp')}`), ['nosys', 'sys']);
  assert.deepEqual(await h.ids('Observation', `code:not-in=${encodeURIComponent('http://acme.org/ValueSet/bp')}`), ['dia', 'other']);
});

test(':below and :above follow the local code system hierarchy', async () => {
  assert.deepEqual(await h.ids('Encounter', `class:below=${encodeURIComponent(`${ACT_CODE}|AMB`)}`), ['amb']);
  assert.deepEqual(await h.ids('Encounter', `class:below=${encodeURIComponent(`${ACT_CODE}|_ActEncounterCode`)}`), ['amb', 'emer']);
  assert.deepEqual(await h.ids('Encounter', `class:above=${encodeURIComponent(`${ACT_CODE}|AMB`)}`), ['amb']);
});
