import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { FhirResource as Resource } from 'fhir/r4';
import { harness, type Harness } from './harness';

// https://hl7.org/fhir/R4/search.html#uri, #composite, #missing
const LOINC = 'http://loinc.org';
const UCUM = 'http://unitsofmeasure.org';
const bp = (id: string, systolic: number, diastolic: number): Resource => ({
  resourceType: 'Observation',
  id,
  status: 'final',
  code: { coding: [{ system: LOINC, code: '85354-9' }] },
  component: [
    { code: { coding: [{ system: LOINC, code: '8480-6' }] }, valueQuantity: { value: systolic, unit: 'mmHg', system: UCUM, code: 'mm[Hg]' } },
    { code: { coding: [{ system: LOINC, code: '8462-4' }] }, valueQuantity: { value: diastolic, unit: 'mmHg', system: UCUM, code: 'mm[Hg]' } },
  ],
});

let h: Harness;
before(async () => {
  h = await harness([
    { resourceType: 'ValueSet', id: 'a', status: 'active', url: 'http://acme.org/fhir/ValueSet/a' },
    { resourceType: 'ValueSet', id: 'b', status: 'active', url: 'http://acme.org/fhir/ValueSet/b/v2' },
    { resourceType: 'ValueSet', id: 'c', status: 'active', url: 'http://acme.org/other' },
    { resourceType: 'ValueSet', id: 'nourl', status: 'active' },
    bp('high', 150, 95),
    bp('normal', 118, 76),
    // systolic 150 in one component and diastolic 76 in the other must not pair up across components
    {
      resourceType: 'Observation',
      id: 'weight',
      status: 'final',
      code: { coding: [{ system: LOINC, code: '29463-7' }] },
      valueQuantity: { value: 72, unit: 'kg', system: UCUM, code: 'kg' },
    },
    { resourceType: 'Patient', id: 'born', birthDate: '1980-01-01' },
    { resourceType: 'Patient', id: 'unborn' },
  ]);
});
after(() => h.close());

test('uri: exact match by default', async () => {
  assert.deepEqual(await h.ids('ValueSet', `url=${encodeURIComponent('http://acme.org/fhir/ValueSet/a')}`), ['a']);
  assert.deepEqual(await h.ids('ValueSet', `url=${encodeURIComponent('http://acme.org/fhir/ValueSet')}`), []);
});

test('uri :below matches URIs starting with the value; :above matches its parents', async () => {
  assert.deepEqual(await h.ids('ValueSet', `url:below=${encodeURIComponent('http://acme.org/fhir/')}`), ['a', 'b']);
  assert.deepEqual(await h.ids('ValueSet', `url:above=${encodeURIComponent('http://acme.org/fhir/ValueSet/a/child')}`), ['a']);
});

test('composite: code and value must come from the same component', async () => {
  const q = (value: string) => h.ids('Observation', `component-code-value-quantity=${encodeURIComponent(value)}`);
  assert.deepEqual(await q(`${LOINC}|8480-6$gt140`), ['high']);
  assert.deepEqual(await q(`${LOINC}|8480-6$lt120`), ['normal']);
  assert.deepEqual(await q(`${LOINC}|8462-4$gt140`), []);
  assert.deepEqual(await q(`8462-4$76|${UCUM}|mm[Hg]`), ['normal']);
  assert.deepEqual(await q(`${LOINC}|8480-6$gt140,${LOINC}|8462-4$lt80`), ['high', 'normal']);
});

test('composite on the resource code and value: code-value-quantity with UCUM conversion', async () => {
  const q = (value: string) => h.ids('Observation', `code-value-quantity=${encodeURIComponent(value)}`);
  assert.deepEqual(await q(`${LOINC}|29463-7$gt70`), ['weight']);
  assert.deepEqual(await q(`${LOINC}|29463-7$72000|${UCUM}|g`), ['weight']);
  assert.deepEqual(await q(`${LOINC}|29463-7$lt70`), []);
});

test(':missing=true finds resources without a value, :missing=false those with one', async () => {
  assert.deepEqual(await h.ids('Patient', 'birthdate:missing=true'), ['unborn']);
  assert.deepEqual(await h.ids('Patient', 'birthdate:missing=false'), ['born']);
  assert.deepEqual(await h.ids('ValueSet', 'url:missing=true'), ['nourl']);
  assert.deepEqual(await h.ids('Observation', 'component-code-value-quantity:missing=false'), ['high', 'normal']);
});
