import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { buildValidationDefinitions } from '../../../scripts/definitions/validation';
import type { OperationOutcomeIssue } from '../../../src/core/outcome';
import { loadBaseValidator, type ResourceValidator } from '../../../src/validation/validator';

let validator: ResourceValidator;

before(async () => {
  await buildValidationDefinitions();
  validator = loadBaseValidator();
});

/** The issues as `code expression` pairs, the part of an issue a client acts on. */
const summary = (issues: OperationOutcomeIssue[]): string[] => issues.map((i) => `${i.code} ${i.expression?.[0] ?? ''}`);

/** A narrative, so that valid resources also meet the best practice dom-6 (otherwise a warning). */
const text = { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml">Example</div>' };

const patient = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  resourceType: 'Patient',
  id: 'pat-1',
  text,
  active: true,
  name: [{ use: 'official', family: 'Chalmers', given: ['Peter', 'James'] }],
  gender: 'male',
  birthDate: '1974-12-25',
  ...extra,
});

const observation = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  resourceType: 'Observation',
  text,
  status: 'final',
  code: { coding: [{ system: 'http://loinc.org', code: '8867-4' }] },
  subject: { reference: 'Patient/pat-1' },
  effectiveDateTime: '2024-05-01T10:30:00+02:00',
  valueQuantity: { value: 72, unit: 'beats/minute', system: 'http://unitsofmeasure.org', code: '/min' },
  ...extra,
});

describe('resource types (https://hl7.org/fhir/R4/resourcelist.html)', () => {
  test('knows the 146 concrete R4 resource types and nothing else', () => {
    assert.equal(validator.resourceTypes.length, 146);
    assert.ok(validator.isResourceType('Patient'));
    assert.ok(validator.isResourceType('MedicinalProductPharmaceutical'));
    assert.ok(!validator.isResourceType('DomainResource'));
    assert.ok(!validator.isResourceType('HumanName'));
    assert.ok(!validator.isResourceType('patient'));
  });

  test('rejects a body that is not a resource', () => {
    assert.deepEqual(summary(validator.validate([])), ['structure ']);
    assert.deepEqual(summary(validator.validate({ id: 'x' })), ['required resourceType']);
    assert.deepEqual(summary(validator.validate({ resourceType: 'Patientt' })), ['structure resourceType']);
  });
});

describe('valid resources pass', () => {
  test('Patient', () => assert.deepEqual(validator.validate(patient()), []));
  test('Observation', () => assert.deepEqual(validator.validate(observation()), []));
  test('Bundle with entries of several types', () => {
    const bundle = {
      resourceType: 'Bundle',
      type: 'collection',
      entry: [{ fullUrl: 'urn:uuid:0b1c7e2a-5c3d-4f1e-9a7b-2f6e8d9c0a11', resource: patient() }, { resource: observation() }],
    };
    assert.deepEqual(validator.validate(bundle), []);
  });
});

describe('elements (https://hl7.org/fhir/R4/json.html)', () => {
  test('an unknown element is reported with its path', () => {
    const issues = validator.validate(patient({ foo: 1 }));
    assert.deepEqual(issues, [{ severity: 'error', code: 'structure', diagnostics: "Unknown element 'foo' in Patient", expression: ['Patient.foo'] }]);
  });

  test('an unknown element inside a datatype is reported at its position', () => {
    const issues = validator.validate(patient({ name: [{ family: 'A' }, { family: 'B', nickname: 'C' }] }));
    assert.deepEqual(summary(issues), ['structure Patient.name[1].nickname']);
  });

  test('a wrong JSON type for a primitive is a structure error', () => {
    assert.deepEqual(summary(validator.validate(patient({ active: 'yes' }))), ['structure Patient.active']);
    assert.deepEqual(summary(validator.validate(patient({ birthDate: 19741225 }))), ['structure Patient.birthDate']);
  });

  test('a complex datatype given as a string is a structure error', () => {
    assert.deepEqual(summary(validator.validate(observation({ code: 'heart rate' }))), ['structure Observation.code']);
  });
});

describe('primitive formats (https://hl7.org/fhir/R4/datatypes.html#primitive)', () => {
  const cases: Array<[string, Record<string, unknown>, string]> = [
    ['date with month 13', patient({ birthDate: '1974-13-01' }), 'Patient.birthDate'],
    ['date with a time', patient({ birthDate: '1974-12-25T10:00:00Z' }), 'Patient.birthDate'],
    ['dateTime with hours but no time zone', observation({ effectiveDateTime: '2024-05-01T10:30:00' }), 'Observation.effectiveDateTime'],
    ['instant without seconds', observation({ issued: '2024-05-01T10:30Z' }), 'Observation.issued'],
    ['id with a space', patient({ id: 'pat 1' }), 'Patient.id'],
    ['id with an underscore', patient({ id: 'pat_1' }), 'Patient.id'],
    ['id of 65 characters', patient({ id: 'a'.repeat(65) }), 'Patient.id'],
    ['empty string', patient({ name: [{ family: '' }] }), 'Patient.name[0].family'],
    ['code with a leading space', observation({ code: { coding: [{ code: ' 8867-4' }] } }), 'Observation.code.coding[0].code'],
    ['uri with a space', observation({ code: { coding: [{ system: 'http://loinc .org', code: 'x' }] } }), 'Observation.code.coding[0].system'],
  ];
  for (const [name, resource, expression] of cases) {
    test(`rejects ${name}`, () => assert.deepEqual(summary(validator.validate(resource)), [`value ${expression}`]));
  }

  test('a decimal must be a JSON number', () => {
    const issues = validator.validate(observation({ valueQuantity: { value: '72.0' } }));
    assert.deepEqual(summary(issues), ['structure Observation.valueQuantity.value']);
  });

  test('an integer must be whole and within 32 bits', () => {
    assert.deepEqual(summary(validator.validate(patient({ multipleBirthInteger: 1.5 }))), ['structure Patient.multipleBirthInteger']);
    assert.deepEqual(summary(validator.validate(patient({ multipleBirthInteger: 2147483648 }))), ['value Patient.multipleBirthInteger']);
  });

  test('a positiveInt must be at least 1', () => {
    const sampled = observation({ valueQuantity: undefined, valueSampledData: { origin: { value: 0 }, period: 10, dimensions: 0, data: 'E' } });
    assert.deepEqual(summary(validator.validate(sampled)), ['value Observation.valueSampledData.dimensions']);
  });

  test('accepts the partial dates and time zones the spec allows', () => {
    assert.deepEqual(validator.validate(patient({ birthDate: '1974' })), []);
    assert.deepEqual(validator.validate(patient({ birthDate: '1974-12' })), []);
    assert.deepEqual(validator.validate(observation({ effectiveDateTime: '2024-05-01T10:30:00.123-05:00', issued: '2024-05-01T10:30:00Z' })), []);
  });
});

describe('cardinality (https://hl7.org/fhir/R4/conformance-rules.html#cardinality)', () => {
  test('a missing required element is reported as required', () => {
    const { status: _status, ...withoutStatus } = observation();
    const issues = validator.validate(withoutStatus);
    assert.deepEqual(issues, [
      { severity: 'error', code: 'required', diagnostics: "Missing required element 'status' in Observation", expression: ['Observation.status'] },
    ]);
  });

  test('a required primitive carried only by its _element extension is present', () => {
    const { status: _status, ...withoutStatus } = observation();
    const absent = { extension: [{ url: 'http://hl7.org/fhir/StructureDefinition/data-absent-reason', valueCode: 'unknown' }] };
    assert.deepEqual(validator.validate({ ...withoutStatus, _status: absent }), []);
  });

  test('a non-repeating element given as an array is rejected', () => {
    const issues = validator.validate(patient({ birthDate: ['1974-12-25', '1975-01-01'] }));
    assert.deepEqual(summary(issues), ['structure Patient.birthDate']);
  });

  test('a repeating element given as a single value is rejected', () => {
    assert.deepEqual(summary(validator.validate(patient({ name: { family: 'Chalmers' } }))), ['structure Patient.name']);
  });

  test('an empty array is rejected', () => {
    assert.deepEqual(summary(validator.validate(patient({ identifier: [] }))), ['required Patient.identifier']);
  });
});

describe('choice types (https://hl7.org/fhir/R4/formats.html#choice)', () => {
  test('two variants of one choice element are one issue', () => {
    const issues = validator.validate(observation({ valueString: 'seventy-two' }));
    assert.deepEqual(summary(issues), ['structure Observation.value']);
    assert.match(issues[0].diagnostics ?? '', /valueQuantity, valueString/);
  });

  test('a choice variant is validated as its type, wherever it is', () => {
    const issues = validator.validate(patient({ extension: [{ url: 'http://example.org/x', valueDate: '2020-13' }] }));
    assert.deepEqual(issues, [
      {
        severity: 'error',
        code: 'value',
        diagnostics: "Patient.extension[0].valueDate: the string '2020-13' is not a valid date",
        expression: ['Patient.extension[0].valueDate'],
      },
    ]);
  });

  test('_value[x] exists only for primitive variants', () => {
    assert.deepEqual(summary(validator.validate(observation({ _valueQuantity: { id: 'q' } }))), ['structure Observation._valueQuantity']);
    const extension = [{ url: 'http://example.org/x', valueBoolean: true }];
    assert.deepEqual(validator.validate(observation({ valueQuantity: undefined, valueString: 'x', _valueString: { id: 's', extension } })), []);
  });

  test('an unknown type suffix names the allowed types', () => {
    const issues = validator.validate(observation({ valueQuantity: undefined, valueFoo: 'x' }));
    assert.deepEqual(summary(issues), ['structure Observation.valueFoo']);
    assert.match(issues[0].diagnostics ?? '', /value\[x\] allows only the types Quantity, CodeableConcept, String/);
  });

  test('a required choice element must have one variant', () => {
    // Extension.value[x] is 0..1 in the structure; ext-1 (the invariants' test file) requires a value or extensions.
    const issues = validator.validate(patient({ extension: [{ url: 'http://example.org/x' }] }));
    assert.deepEqual(summary(issues), ['invariant Patient.extension[0]']);
    const ingredient = { resourceType: 'Medication', ingredient: [{ strength: { numerator: { value: 1 } } }] };
    assert.deepEqual(summary(validator.validate(ingredient)), ['required Medication.ingredient[0].item']);
  });
});

describe('primitive extensions (https://hl7.org/fhir/R4/json.html#primitive)', () => {
  const ext = { extension: [{ url: 'http://example.org/precision', valueCode: 'day' }] };

  test('_birthDate with an extension is valid, with or without the value', () => {
    assert.deepEqual(validator.validate(patient({ _birthDate: ext })), []);
    assert.deepEqual(validator.validate(patient({ birthDate: undefined, _birthDate: ext })), []);
  });

  test('_birthDate may only hold id and extension', () => {
    assert.deepEqual(summary(validator.validate(patient({ _birthDate: { value: '1974' } }))), ['structure Patient._birthDate.value']);
  });

  test('aligned _given with null gaps is valid', () => {
    const name = { family: 'Chalmers', given: ['Peter', null, 'James'], _given: [null, { id: 'g2', ...ext }, null] };
    assert.deepEqual(validator.validate(patient({ name: [name] })), []);
  });

  test('misaligned _given is reported', () => {
    const name = { family: 'Chalmers', given: ['Peter', 'James'], _given: [null, null, ext] };
    assert.deepEqual(summary(validator.validate(patient({ name: [name] }))), ['structure Patient.name[0]._given']);
  });

  test('null in given without an extension at that position is reported', () => {
    assert.deepEqual(summary(validator.validate(patient({ name: [{ given: ['Peter', null] }] }))), ['structure Patient.name[0].given[1]']);
  });
});

describe('contained and nested resources (https://hl7.org/fhir/R4/references.html#contained)', () => {
  test('a contained resource is validated as its own type', () => {
    const issues = validator.validate(patient({ contained: [{ resourceType: 'Organization', id: 'org', nme: 'ACME' }] }));
    assert.deepEqual(summary(issues), ['structure Patient.contained[0].nme']);
  });

  test('a contained resource of an unknown type is reported', () => {
    const issues = validator.validate(patient({ contained: [{ resourceType: 'Organisation', id: 'org' }] }));
    assert.deepEqual(summary(issues), ['structure Patient.contained[0].resourceType']);
  });

  test('problems inside a nested resource quote the offending value', () => {
    const bundle = { resourceType: 'Bundle', type: 'collection', entry: [{ resource: patient({ active: 'yes' }) }] };
    assert.deepEqual(validator.validate(bundle), [
      {
        severity: 'error',
        code: 'structure',
        diagnostics: "Bundle.entry[0].resource.active: expected true or false, found the string 'yes'",
        expression: ['Bundle.entry[0].resource.active'],
      },
    ]);
  });

  test('a Bundle entry resource is validated as its own type', () => {
    const bundle = { resourceType: 'Bundle', type: 'collection', entry: [{ resource: patient() }, { resource: observation({ status: 'done' }) }] };
    assert.deepEqual(summary(validator.validate(bundle)), ['code-invalid Bundle.entry[1].resource.status']);
  });
});

describe('required bindings (https://hl7.org/fhir/R4/terminologies.html#required)', () => {
  test('Patient.gender outside administrative-gender', () => {
    assert.deepEqual(validator.validate(patient({ gender: 'mail' })), [
      {
        severity: 'error',
        code: 'code-invalid',
        diagnostics:
          "Patient.gender: 'mail' is not in the required value set http://hl7.org/fhir/ValueSet/administrative-gender (male | female | other | unknown)",
        expression: ['Patient.gender'],
      },
    ]);
  });

  test('Observation.status outside observation-status', () => {
    const issues = validator.validate(observation({ status: 'done' }));
    assert.deepEqual(summary(issues), ['code-invalid Observation.status']);
    assert.match(issues[0].diagnostics ?? '', /http:\/\/hl7.org\/fhir\/ValueSet\/observation-status/);
  });

  test('a code with a bad format is reported once, as a format problem', () => {
    assert.deepEqual(summary(validator.validate(patient({ gender: 'ma le ' }))), ['value Patient.gender']);
  });

  test('codes are case-sensitive', () => {
    assert.deepEqual(summary(validator.validate(patient({ gender: 'Male' }))), ['code-invalid Patient.gender']);
  });

  test('a binding inside a datatype is checked', () => {
    assert.deepEqual(summary(validator.validate(patient({ name: [{ use: 'nick' }] }))), ['code-invalid Patient.name[0].use']);
  });
});

describe('required bindings on CodeableConcept (https://hl7.org/fhir/R4/terminologies.html#required)', () => {
  const CLINICAL = 'http://terminology.hl7.org/CodeSystem/condition-clinical';
  const VERIFICATION = 'http://terminology.hl7.org/CodeSystem/condition-ver-status';
  const condition = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({
    resourceType: 'Condition',
    text,
    clinicalStatus: { coding: [{ system: CLINICAL, code: 'active' }] },
    verificationStatus: { coding: [{ system: VERIFICATION, code: 'confirmed' }] },
    code: { coding: [{ system: 'http://snomed.info/sct', code: '39065001' }], text: 'Burn of ear' },
    subject: { reference: 'Patient/pat-1' },
    ...extra,
  });
  const clinicalCodes =
    'http://terminology.hl7.org/CodeSystem/condition-clinical|active | http://terminology.hl7.org/CodeSystem/condition-clinical|inactive | ' +
    'http://terminology.hl7.org/CodeSystem/condition-clinical|recurrence | http://terminology.hl7.org/CodeSystem/condition-clinical|relapse | ' +
    'http://terminology.hl7.org/CodeSystem/condition-clinical|remission | http://terminology.hl7.org/CodeSystem/condition-clinical|resolved';

  test('codings from the bound value sets are valid, including codes nested in the code system hierarchy', () => {
    assert.deepEqual(validator.validate(condition()), []);
    const nested = condition({
      clinicalStatus: { coding: [{ system: CLINICAL, code: 'remission' }] },
      verificationStatus: { coding: [{ system: VERIFICATION, code: 'differential' }] },
    });
    assert.deepEqual(validator.validate(nested), []);
  });

  test('one coding from the value set is enough, next to translations and text', () => {
    const clinicalStatus = { coding: [{ system: 'http://snomed.info/sct', code: '55561003' }, { system: CLINICAL, code: 'active' }], text: 'Active' };
    assert.deepEqual(validator.validate(condition({ clinicalStatus })), []);
  });

  test('a code outside the value set is reported at the element, listing the allowed system|code values', () => {
    assert.deepEqual(validator.validate(condition({ clinicalStatus: { coding: [{ system: CLINICAL, code: 'activ' }] } })), [
      {
        severity: 'error',
        code: 'code-invalid',
        diagnostics: `Condition.clinicalStatus: none of the codings ('${CLINICAL}|activ') is in the required value set http://hl7.org/fhir/ValueSet/condition-clinical (${clinicalCodes})`,
        expression: ['Condition.clinicalStatus'],
      },
    ]);
  });

  test('the right code in the wrong system is outside the value set', () => {
    const clinicalStatus = { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical', code: 'active' }] };
    assert.deepEqual(summary(validator.validate(condition({ clinicalStatus }))), ['code-invalid Condition.clinicalStatus']);
  });

  test('a coding without a system is outside the value set', () => {
    assert.deepEqual(summary(validator.validate(condition({ clinicalStatus: { coding: [{ code: 'active' }] } }))), ['code-invalid Condition.clinicalStatus']);
  });

  test('a CodeableConcept with text only cannot satisfy a required binding', () => {
    assert.deepEqual(validator.validate(condition({ verificationStatus: { text: 'confirmed' } })), [
      {
        severity: 'error',
        code: 'code-invalid',
        diagnostics:
          'Condition.verificationStatus: has no coding, but a code from the required value set http://hl7.org/fhir/ValueSet/condition-ver-status (' +
          'http://terminology.hl7.org/CodeSystem/condition-ver-status|unconfirmed | http://terminology.hl7.org/CodeSystem/condition-ver-status|confirmed | ' +
          'http://terminology.hl7.org/CodeSystem/condition-ver-status|refuted | http://terminology.hl7.org/CodeSystem/condition-ver-status|entered-in-error | ' +
          'http://terminology.hl7.org/CodeSystem/condition-ver-status|provisional | http://terminology.hl7.org/CodeSystem/condition-ver-status|differential) is required',
        expression: ['Condition.verificationStatus'],
      },
    ]);
  });

  test('AllergyIntolerance.clinicalStatus and verificationStatus are bound too', () => {
    const allergy = {
      resourceType: 'AllergyIntolerance',
      text,
      clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical', code: 'active' }] },
      verificationStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-verification', code: 'confirmed' }] },
      patient: { reference: 'Patient/pat-1' },
    };
    assert.deepEqual(validator.validate(allergy), []);
    const wrong = {
      ...allergy,
      clinicalStatus: { coding: [{ system: CLINICAL, code: 'active' }] },
      verificationStatus: { coding: [{ system: VERIFICATION, code: 'confirmed' }] },
    };
    assert.deepEqual(summary(validator.validate(wrong)), ['code-invalid AllergyIntolerance.clinicalStatus', 'code-invalid AllergyIntolerance.verificationStatus']);
  });

  test('a binding inside a backbone element is checked at its position', () => {
    const plan = (code: string): Record<string, unknown> => ({
      resourceType: 'InsurancePlan',
      text,
      name: 'Basic plan',
      plan: [{ specificCost: [{ category: { text: 'medical' }, benefit: [{ type: { text: 'visit' }, cost: [{ type: { text: 'copay' }, applicability: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/applicability', code }] } }] }] }] }],
    });
    assert.deepEqual(validator.validate(plan('in-network')), []);
    assert.deepEqual(summary(validator.validate(plan('in-netwerk'))), ['code-invalid InsurancePlan.plan[0].specificCost[0].benefit[0].cost[0].applicability']);
  });

  test('a contained resource has its bindings checked', () => {
    const contained = condition({ id: 'c1', clinicalStatus: { coding: [{ system: CLINICAL, code: 'gone' }] } });
    assert.deepEqual(summary(validator.validate(patient({ contained: [contained] }))), ['code-invalid Patient.contained[0].clinicalStatus']);
  });

  test('a code with a bad format is reported once, as a format problem', () => {
    const issues = validator.validate(condition({ clinicalStatus: { coding: [{ system: CLINICAL, code: ' active' }] } }));
    assert.deepEqual(summary(issues), ['value Condition.clinicalStatus.coding[0].code']);
  });

  test('a binding to a value set the definitions cannot enumerate (UCUM units) is not checked', () => {
    const estimate = { resourceType: 'RiskEvidenceSynthesis', text, status: 'draft', population: { reference: 'EvidenceVariable/p' }, outcome: { reference: 'EvidenceVariable/o' }, riskEstimate: { unitOfMeasure: { coding: [{ system: 'http://unitsofmeasure.org', code: 'mg/dL' }] } } };
    assert.deepEqual(validator.validate(estimate), []);
  });
});

describe('calendar validity: Dates SHALL be valid dates (https://hl7.org/fhir/R4/datatypes.html#date)', () => {
  test('30 February is not a date', () => {
    assert.deepEqual(validator.validate(patient({ birthDate: '1974-02-30' })), [
      {
        severity: 'error',
        code: 'value',
        diagnostics: "Patient.birthDate: '1974-02-30' is not a valid date: that day does not exist in its month",
        expression: ['Patient.birthDate'],
      },
    ]);
  });

  test('29 February exists only in leap years', () => {
    assert.deepEqual(summary(validator.validate(patient({ birthDate: '2023-02-29' }))), ['value Patient.birthDate']);
    assert.deepEqual(summary(validator.validate(patient({ birthDate: '1900-02-29' }))), ['value Patient.birthDate']);
    assert.deepEqual(validator.validate(patient({ birthDate: '2024-02-29' })), []);
    assert.deepEqual(validator.validate(patient({ birthDate: '2000-02-29' })), []);
  });

  test('31 April is not a dateTime', () => {
    const issues = validator.validate(observation({ effectiveDateTime: '2024-04-31T10:30:00+02:00' }));
    assert.deepEqual(issues, [
      {
        severity: 'error',
        code: 'value',
        diagnostics: "Observation.effectiveDateTime: '2024-04-31T10:30:00+02:00' is not a valid dateTime: that day does not exist in its month",
        expression: ['Observation.effectiveDateTime'],
      },
    ]);
  });

  test('an instant on a day that does not exist is rejected', () => {
    assert.deepEqual(summary(validator.validate(observation({ issued: '2023-02-29T10:30:00Z' }))), ['value Observation.issued']);
  });

  test('month 13 and hour 25 are rejected once, as bad formats', () => {
    assert.deepEqual(summary(validator.validate(patient({ birthDate: '2024-13-01' }))), ['value Patient.birthDate']);
    assert.deepEqual(summary(validator.validate(observation({ effectiveDateTime: '2024-05-01T25:00:00Z' }))), ['value Observation.effectiveDateTime']);
    assert.deepEqual(summary(validator.validate(observation({ issued: '2024-05-01T24:00:00Z' }))), ['value Observation.issued']);
  });

  test('dates inside datatypes, choice variants and extensions are checked', () => {
    assert.deepEqual(summary(validator.validate(observation({ effectiveDateTime: undefined, effectivePeriod: { start: '2023-02-29' } }))), [
      'value Observation.effectivePeriod.start',
    ]);
    assert.deepEqual(summary(validator.validate(patient({ extension: [{ url: 'http://example.org/x', valueDate: '2023-06-31' }] }))), [
      'value Patient.extension[0].valueDate',
    ]);
  });

  test('a leap second, partial dates and the last day of each month are valid', () => {
    assert.deepEqual(validator.validate(observation({ issued: '2016-12-31T23:59:60Z' })), []);
    assert.deepEqual(validator.validate(patient({ birthDate: '2023-02' })), []);
    for (const day of ['01-31', '03-31', '04-30', '05-31', '06-30', '07-31', '08-31', '09-30', '10-31', '11-30', '12-31']) {
      assert.deepEqual(validator.validate(patient({ birthDate: `2023-${day}` })), [], day);
    }
  });
});

test('several problems are all reported with exact expressions', () => {
  const resource = patient({
    id: 'bad id',
    gender: 'mail',
    birthDate: '1974-02-30T00:00',
    name: [{ given: ['Peter', 7] }],
    telecom: [{ system: 'phone', value: '555', rank: 0 }],
    foo: true,
  });
  assert.deepEqual(summary(validator.validate(resource)).sort(), [
    'code-invalid Patient.gender',
    'structure Patient.foo',
    'structure Patient.name[0].given[1]',
    'value Patient.birthDate',
    'value Patient.id',
    'value Patient.telecom[0].rank',
  ]);
});

test('nesting deep enough to exhaust the stack is reported, not thrown', () => {
  let extension: Record<string, unknown> = { url: 'http://example.org/leaf', valueString: 'x' };
  for (let i = 0; i < 20_000; i++) extension = { url: 'http://example.org/n', extension: [extension] };
  const issues = validator.validate(patient({ extension: [extension] }));
  assert.equal(issues[0].code, 'too-costly');
});
