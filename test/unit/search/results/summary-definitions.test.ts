import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { StructureDefinition } from 'fhir/r4';
import { elementSetsOf } from '../../../../scripts/definitions/summary';
import { loadSummaryElementSets } from '../../../../src/search/results/summary-definitions';

test('the build extracts top-level summary, mandatory and choice elements of a StructureDefinition', () => {
  const definition = {
    resourceType: 'StructureDefinition',
    snapshot: {
      element: [
        { path: 'Thing', min: 0 },
        { path: 'Thing.id', isSummary: true, min: 0 },
        { path: 'Thing.status', isSummary: true, min: 1 },
        { path: 'Thing.value[x]', isSummary: true, min: 0 },
        { path: 'Thing.note', min: 0 },
        { path: 'Thing.part.code', isSummary: true, min: 1 },
      ],
    },
  } as unknown as StructureDefinition;
  assert.deepEqual(elementSetsOf(definition), { summary: ['id', 'status', 'value'], mandatory: ['status'], choice: ['value'] });
});

test('the built R4 element sets hold the summary elements of Patient and the mandatory ones of Observation', () => {
  const sets = loadSummaryElementSets();
  assert.deepEqual(sets.Patient.summary, [
    'id',
    'meta',
    'implicitRules',
    'identifier',
    'active',
    'name',
    'telecom',
    'gender',
    'birthDate',
    'deceased',
    'address',
    'managingOrganization',
    'link',
  ]);
  assert.deepEqual(sets.Observation.mandatory, ['status', 'code']);
  assert.deepEqual(sets.Patient.choice, ['deceased', 'multipleBirth']);
});
