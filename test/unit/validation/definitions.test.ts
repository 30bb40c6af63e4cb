import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { buildValidationDefinitions } from '../../../scripts/definitions/validation';
import type { ValidationDefinitions } from '../../../src/validation/definitions-format';

const FILE = join(__dirname, '..', '..', '..', 'generated', 'validation', 'definitions.json');
let definitions: ValidationDefinitions;

before(async () => {
  await buildValidationDefinitions();
  definitions = JSON.parse(readFileSync(FILE, 'utf8')) as ValidationDefinitions;
});

test('an up-to-date build is a no-op that leaves the artifact untouched', async () => {
  const before = statSync(FILE).mtimeMs;
  const started = performance.now();
  await buildValidationDefinitions();
  assert.ok(performance.now() - started < 500);
  assert.equal(statSync(FILE).mtimeMs, before);
});

test('required value sets are expanded from their code systems', () => {
  assert.deepEqual(definitions.valueSets['http://hl7.org/fhir/ValueSet/administrative-gender'], ['male', 'female', 'other', 'unknown']);
  // 'corrected' is nested under 'amended' in the code system's hierarchy.
  assert.deepEqual([...definitions.valueSets['http://hl7.org/fhir/ValueSet/observation-status']].sort(), [
    'amended',
    'cancelled',
    'corrected',
    'entered-in-error',
    'final',
    'preliminary',
    'registered',
    'unknown',
  ]);
});

test('value sets bound to Coding and CodeableConcept elements keep each code with its system', () => {
  assert.deepEqual(Object.keys(definitions.codingValueSets).sort(), [
    'http://hl7.org/fhir/ValueSet/adverse-event-outcome',
    'http://hl7.org/fhir/ValueSet/adverse-event-severity',
    'http://hl7.org/fhir/ValueSet/allergyintolerance-clinical',
    'http://hl7.org/fhir/ValueSet/allergyintolerance-verification',
    'http://hl7.org/fhir/ValueSet/condition-clinical',
    'http://hl7.org/fhir/ValueSet/condition-ver-status',
    'http://hl7.org/fhir/ValueSet/insuranceplan-applicability',
    'http://hl7.org/fhir/ValueSet/measure-improvement-notation',
    'http://hl7.org/fhir/ValueSet/supplydelivery-type',
  ]);
  assert.deepEqual([...definitions.codingValueSets['http://hl7.org/fhir/ValueSet/allergyintolerance-clinical']].sort(), [
    'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical|active',
    'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical|inactive',
    'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical|resolved',
  ]);
});

test('required bindings to value sets the bundles cannot enumerate are listed as unchecked', () => {
  assert.deepEqual(definitions.uncheckedRequiredBindings, [
    'http://hl7.org/fhir/ValueSet/currencies',
    'http://hl7.org/fhir/ValueSet/mimetypes',
    'http://hl7.org/fhir/ValueSet/ucum-units',
    'http://loinc.org/vs/LL379-9',
  ]);
});

test('primitive regexes are anchored and use the R4 patterns', () => {
  const birthDate = (definitions.schemas.Patient.properties as Record<string, { pattern: string }>).birthDate;
  assert.equal(
    birthDate.pattern,
    '^(?:([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)(-(0[1-9]|1[0-2])(-(0[1-9]|[1-2][0-9]|3[0-1]))?)?)$',
  );
});
