import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { branchRoot, rewriteForIndexing, specialiseExpression, splitTopLevelUnion } from '../../../../src/search/registry/specialise';

describe('search parameter expression specialisation (searchparameter-registry.html)', () => {
  it('splits a union only at top-level bars', () => {
    assert.deepEqual(splitTopLevelUnion("A.b | (C.d as E) | F.g.where(h = 'x|y') | (I.j | I.k).l"), [
      'A.b',
      '(C.d as E)',
      "F.g.where(h = 'x|y')",
      '(I.j | I.k).l',
    ]);
  });

  it('finds the resource type a branch starts from, through wrapping parentheses', () => {
    assert.equal(branchRoot('(DeviceRequest.code as CodeableConcept)'), 'DeviceRequest');
    assert.equal(branchRoot('Observation'), 'Observation');
    assert.equal(branchRoot('Patient.deceased.exists() and Patient.deceased != false'), 'Patient');
    assert.equal(branchRoot('(I.j | I.k).l'), undefined);
    assert.equal(branchRoot('%resource.x'), undefined);
  });

  it('keeps only the branch of the asked type', () => {
    const clinicalCode = 'AllergyIntolerance.code | AllergyIntolerance.reaction.substance | Condition.code | (MedicationRequest.medication as CodeableConcept)';
    assert.equal(specialiseExpression(clinicalCode, 'Condition'), 'Condition.code');
    assert.equal(specialiseExpression(clinicalCode, 'AllergyIntolerance'), 'AllergyIntolerance.code | AllergyIntolerance.reaction.substance');
    assert.equal(specialiseExpression(clinicalCode, 'MedicationRequest'), 'MedicationRequest.medication.ofType(CodeableConcept)');
  });

  it('keeps both branches of a composite over the resource and its components', () => {
    assert.equal(specialiseExpression('Observation | Observation.component', 'Observation'), 'Observation | Observation.component');
  });

  it('falls back to the whole expression when a branch has no plain root', () => {
    assert.equal(specialiseExpression('(A.b | C.d).e | F.g', 'F'), '(A.b | C.d).e | F.g');
  });

  it('rewrites where(resolve() is T) into a test on the reference itself', () => {
    assert.equal(
      rewriteForIndexing('Observation.subject.where(resolve() is Patient)'),
      "Observation.subject.where(reference.startsWith('Patient/') or reference.contains('/Patient/') or type = 'Patient')",
    );
  });

  it('turns type casts on collections into type filters', () => {
    assert.equal(rewriteForIndexing('(Observation.component.value as Quantity)'), 'Observation.component.value.ofType(Quantity)');
    assert.equal(rewriteForIndexing('value.as(DateTime) | value.as(Period)'), 'value.ofType(dateTime) | value.ofType(Period)');
    assert.equal(rewriteForIndexing('(Observation.value as CodeableConcept).text'), 'Observation.value.ofType(CodeableConcept).text');
  });
});
