import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ErrorObject } from 'ajv';
import { checkCodingBinding } from '../../../src/validation/coding-binding';
import { issuesFromErrors } from '../../../src/validation/issues';

const CLINICAL = 'http://terminology.hl7.org/CodeSystem/condition-clinical';
const allowed = new Set([`${CLINICAL}|active`, `${CLINICAL}|inactive`, `${CLINICAL}|resolved`]);

describe('required bindings on Coding (https://hl7.org/fhir/R4/terminologies.html#required)', () => {
  test("a Coding whose system|code is in the value set conforms", () => {
    assert.equal(checkCodingBinding('Coding', { system: CLINICAL, code: 'active', display: 'Active' }, allowed), undefined);
  });

  test('a Coding with a code from another system does not conform: codes are system|code pairs', () => {
    assert.deepEqual(checkCodingBinding('Coding', { system: 'http://example.org/status', code: 'active' }, allowed), {
      codings: [{ system: 'http://example.org/status', code: 'active' }],
    });
  });

  test('a Coding without a system does not conform', () => {
    assert.deepEqual(checkCodingBinding('Coding', { code: 'active' }, allowed), { codings: [{ system: undefined, code: 'active' }] });
  });

  test('codes are case-sensitive', () => {
    assert.deepEqual(checkCodingBinding('Coding', { system: CLINICAL, code: 'Active' }, allowed), { codings: [{ system: CLINICAL, code: 'Active' }] });
  });
});

describe('required bindings on CodeableConcept (https://hl7.org/fhir/R4/terminologies.html#required)', () => {
  test('one coding from the value set is enough; the others are translations', () => {
    const concept = { coding: [{ system: 'http://snomed.info/sct', code: '55561003' }, { system: CLINICAL, code: 'active' }], text: 'Active' };
    assert.equal(checkCodingBinding('CodeableConcept', concept, allowed), undefined);
  });

  test('no coding from the value set does not conform, and every coding found is reported', () => {
    const concept = { coding: [{ system: 'http://snomed.info/sct', code: '55561003' }, { system: CLINICAL, code: 'activ' }] };
    assert.deepEqual(checkCodingBinding('CodeableConcept', concept, allowed), {
      codings: [
        { system: 'http://snomed.info/sct', code: '55561003' },
        { system: CLINICAL, code: 'activ' },
      ],
    });
  });

  test('text alone does not conform to a required binding', () => {
    assert.deepEqual(checkCodingBinding('CodeableConcept', { text: 'active' }, allowed), { codings: [] });
  });
});

describe('coding binding issues (https://hl7.org/fhir/R4/operationoutcome.html)', () => {
  const bindingError = (type: 'Coding' | 'CodeableConcept', codings: Array<{ system?: string; code?: string }>, instancePath: string): ErrorObject =>
    ({
      keyword: 'fhirCodingBinding',
      instancePath,
      schemaPath: '',
      params: { problem: 'coding-binding', type, valueSet: 'http://example.org/ValueSet/status', codings, concepts: [`${CLINICAL}|active`, `${CLINICAL}|inactive`] },
    }) as ErrorObject;

  test('a Coding outside the value set names its system|code and the allowed ones', () => {
    assert.deepEqual(issuesFromErrors('Basic', [bindingError('Coding', [{ code: 'active' }], '/extension/0/valueCoding')]), [
      {
        severity: 'error',
        code: 'code-invalid',
        diagnostics: `Basic.extension[0].valueCoding: '(no system)|active' is not in the required value set http://example.org/ValueSet/status (${CLINICAL}|active | ${CLINICAL}|inactive)`,
        expression: ['Basic.extension[0].valueCoding'],
      },
    ]);
  });

  test('a binding problem is dropped when a code inside has a bad format', () => {
    const pattern = { keyword: 'pattern', instancePath: '/code/coding/0/code', schemaPath: '', params: {}, data: ' x' } as unknown as ErrorObject;
    const issues = issuesFromErrors('Basic', [pattern, bindingError('CodeableConcept', [{ system: CLINICAL, code: ' x' }], '/code')]);
    assert.deepEqual(issues.map((i) => `${i.code} ${i.expression?.[0]}`), ['value Basic.code.coding[0].code']);
  });
});
