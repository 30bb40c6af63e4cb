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

const patient = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  resourceType: 'Patient',
  id: 'pat-1',
  active: true,
  name: [{ use: 'official', family: 'Chalmers', given: ['Peter', 'James'] }],
  gender: 'male',
  birthDate: '1974-12-25',
  ...extra,
});

const observation = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  resourceType: 'Observation',
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
    assert.deepEqual(validator.validate(observation({ valueQuantity: undefined, valueString: 'x', _valueString: { id: 's' } })), []);
  });

  test('an unknown type suffix names the allowed types', () => {
    const issues = validator.validate(observation({ valueQuantity: undefined, valueFoo: 'x' }));
    assert.deepEqual(summary(issues), ['structure Observation.valueFoo']);
    assert.match(issues[0].diagnostics ?? '', /value\[x\] allows only the types Quantity, CodeableConcept, String/);
  });

  test('a required choice element must have one variant', () => {
    const issues = validator.validate({ resourceType: 'Patient', extension: [{ url: 'http://example.org/x' }] });
    assert.deepEqual(issues, []);
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
