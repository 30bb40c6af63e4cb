import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { FhirResource as Resource } from 'fhir/r4';
import { harness, type Harness } from './harness';

// https://hl7.org/fhir/R4/search.html#number and #quantity
const UCUM = 'http://unitsofmeasure.org';
const risk = (id: string, probability: number): Resource => ({
  resourceType: 'RiskAssessment',
  id,
  status: 'final',
  subject: { reference: 'Patient/p' },
  prediction: [{ probabilityDecimal: probability }],
});
const qty = (id: string, value: number, unit: string, system: string | null = UCUM): Resource => ({
  resourceType: 'Observation',
  id,
  status: 'final',
  code: { text: 'x' },
  valueQuantity: { value, unit, ...(system ? { system, code: unit } : {}) },
});

let h: Harness;
before(async () => {
  h = await harness([
    risk('r100', 100),
    risk('r99', 99.4),
    risk('r1005', 100.4),
    risk('r120', 120),
    qty('mg5', 5.4, 'mg'),
    qty('g', 0.0054, 'g'),
    qty('mg10', 10, 'mg'),
    qty('free', 5.4, 'mg', null),
    qty('kg', 5.4, 'kg'),
  ]);
});
after(() => h.close());

test('number without prefix uses the implicit precision of the search value', async () => {
  assert.deepEqual(await h.ids('RiskAssessment', 'probability=100'), ['r100', 'r1005']);
  assert.deepEqual(await h.ids('RiskAssessment', 'probability=100.0'), ['r100']);
  assert.deepEqual(await h.ids('RiskAssessment', 'probability=1e2'), ['r100', 'r1005', 'r120', 'r99']);
});

test('number prefixes compare with the exact value', async () => {
  assert.deepEqual(await h.ids('RiskAssessment', 'probability=gt100'), ['r1005', 'r120']);
  assert.deepEqual(await h.ids('RiskAssessment', 'probability=ge100'), ['r100', 'r1005', 'r120']);
  assert.deepEqual(await h.ids('RiskAssessment', 'probability=lt100'), ['r99']);
  assert.deepEqual(await h.ids('RiskAssessment', 'probability=le100'), ['r100', 'r99']);
  assert.deepEqual(await h.ids('RiskAssessment', 'probability=ne100'), ['r120', 'r99']);
  // ap: within 10% of the value (110 -> [99, 121])
  assert.deepEqual(await h.ids('RiskAssessment', 'probability=ap110'), ['r100', 'r1005', 'r120', 'r99']);
  assert.deepEqual(await h.ids('RiskAssessment', 'probability=ap120'), ['r120']);
});

test('quantity with system|code matches that unit, and UCUM-commensurable units via canonical form', async () => {
  assert.deepEqual(await h.ids('Observation', `value-quantity=${encodeURIComponent(`5.4|${UCUM}|mg`)}`), ['g', 'mg5']);
  assert.deepEqual(await h.ids('Observation', `value-quantity=${encodeURIComponent(`0.0054|${UCUM}|g`)}`), ['g', 'mg5']);
  assert.deepEqual(await h.ids('Observation', `value-quantity=${encodeURIComponent(`gt6|${UCUM}|mg`)}`), ['kg', 'mg10']);
});

test('quantity ||code matches code or unit in any system; a bare number ignores units', async () => {
  assert.deepEqual(await h.ids('Observation', `value-quantity=${encodeURIComponent('5.4||mg')}`), ['free', 'mg5']);
  assert.deepEqual(await h.ids('Observation', 'value-quantity=5.4'), ['free', 'kg', 'mg5']);
  assert.deepEqual(await h.ids('Observation', 'value-quantity=lt1'), ['g']);
});
