/**
 * Extensions whose definition the server does not hold (https://hl7.org/fhir/R4/extensibility.html#exchange), per
 * UNKNOWN_EXTENSIONS: `warn` (default) reports a warning, `error` refuses, `ignore` says nothing. R4 core extensions
 * and those defined in profiles/ are known; held ones are validated against their definition instead.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { StructureDefinition } from 'fhir/r4';
import { ProfileRegistry } from '../../../src/validation/profiles';
import { loadBaseValidator } from '../../../src/validation/validator';
import type { UnknownExtensions } from '../../../src/validation/extensions';

const LOCAL = 'http://example.org/StructureDefinition/colour';
const CORE = 'http://hl7.org/fhir/StructureDefinition/patient-birthPlace';
const UNKNOWN = 'http://example.org/StructureDefinition/unknown';

const colour: StructureDefinition = {
  resourceType: 'StructureDefinition', url: LOCAL, name: 'Colour', status: 'active', kind: 'complex-type', abstract: false, type: 'Extension',
  baseDefinition: 'http://hl7.org/fhir/StructureDefinition/Extension', derivation: 'constraint', context: [{ type: 'element', expression: 'Patient' }],
  differential: { element: [{ id: 'Extension', path: 'Extension' }, { id: 'Extension.url', path: 'Extension.url', fixedUri: LOCAL }, { id: 'Extension.value[x]', path: 'Extension.value[x]', type: [{ code: 'code' }] }] },
} as StructureDefinition;

const registry = (unknownExtensions?: UnknownExtensions): ProfileRegistry => {
  const r = new ProfileRegistry({ unknownProfile: 'warning', requiredProfiles: {}, ...(unknownExtensions ? { unknownExtensions } : {}) });
  r.add(colour);
  return r;
};
const summary = (r: ProfileRegistry, resource: Record<string, unknown>): string[] => r.validate(resource).map((i) => `${i.severity} ${i.code} ${i.expression?.[0]}`);

const withUnknown = {
  resourceType: 'Patient',
  extension: [{ url: CORE, valueAddress: { city: 'Oslo' } }, { url: LOCAL, valueCode: 'red' }, { url: UNKNOWN, valueString: 'x' }],
  _birthDate: { extension: [{ url: UNKNOWN, valueString: 'y' }] },
  birthDate: '2000-01-01',
  contained: [{ resourceType: 'Organization', modifierExtension: [{ url: UNKNOWN, valueBoolean: true }] }],
};
const known = {
  resourceType: 'Patient',
  extension: [{ url: CORE, valueAddress: { city: 'Oslo' } }, { url: LOCAL, valueCode: 'red' }],
  // Nested extensions of a complex extension carry relative urls: they belong to their parent's definition.
  modifierExtension: undefined,
  address: [{ extension: [{ url: 'http://hl7.org/fhir/StructureDefinition/geolocation', extension: [{ url: 'latitude', valueDecimal: 1 }, { url: 'longitude', valueDecimal: 2 }] }] }],
};

describe('UNKNOWN_EXTENSIONS', () => {
  test('warn (the default): a warning at each unknown extension, wherever it is', () => {
    assert.deepEqual(summary(registry(), withUnknown), [
      'warning extension Patient.extension[2]',
      'warning extension Patient.birthDate.extension[0]',
      'warning extension Patient.contained[0].modifierExtension[0]',
    ]);
    assert.match(registry().validate(withUnknown)[2].diagnostics ?? '', /modifier extension http:\/\/example.org\/StructureDefinition\/unknown is unknown to this server/);
  });
  test('error: the same extensions are errors (a write is refused with 422)', () => {
    assert.deepEqual(summary(registry('error'), withUnknown), [
      'error extension Patient.extension[2]',
      'error extension Patient.birthDate.extension[0]',
      'error extension Patient.contained[0].modifierExtension[0]',
    ]);
  });
  test('ignore: nothing is said about unknown extensions, held ones are still validated', () => {
    assert.deepEqual(summary(registry('ignore'), withUnknown), []);
    const wrongValue = { resourceType: 'Patient', extension: [{ url: LOCAL, valueString: 'red' }] };
    assert.deepEqual(summary(registry('ignore'), wrongValue), ['error structure Patient.extension[0].valueString']);
  });
  test('near misses: core extensions, local definitions and nested relative urls are known under every setting', () => {
    for (const policy of ['warn', 'error', 'ignore'] as const) assert.deepEqual(summary(registry(policy), known), [], policy);
  });
});

describe('UNKNOWN_EXTENSIONS on the server (extensions found by the base invariants\' walk)', () => {
  // Extensions everywhere they can be: on the resource, a datatype, a repeated primitive (_given), a backbone
  // element (modifier), inside an extension's value and a complex extension, in a contained resource, in a Bundle entry.
  const patient = {
    resourceType: 'Patient',
    extension: [{ url: LOCAL, valueCode: 'red' }, { url: UNKNOWN, valueCodeableConcept: { extension: [{ url: UNKNOWN, valueString: 'v' }], text: 't' } }],
    name: [{ extension: [{ url: LOCAL, valueCode: 'blue' }], given: ['A', 'B'], _given: [null, { extension: [{ url: UNKNOWN, valueString: 'g' }] }] }],
    contact: [{ modifierExtension: [{ url: UNKNOWN, valueBoolean: true }], name: { text: 'C' } }],
    address: [{ extension: [{ url: 'http://hl7.org/fhir/StructureDefinition/geolocation', extension: [{ url: 'latitude', valueDecimal: 1 }, { url: UNKNOWN, valueDecimal: 2 }] }] }],
    contained: [{ resourceType: 'Organization', id: 'o', extension: [{ url: LOCAL, valueCode: 'green' }], name: 'O' }],
    managingOrganization: { reference: '#o' },
  };
  const bundle = { resourceType: 'Bundle', type: 'collection', entry: [{ fullUrl: 'urn:uuid:1', resource: patient }] };

  for (const policy of ['warn', 'error', 'ignore'] as const) {
    test(`${policy}: the same issues, locations and contexts as the registry's own walk`, () => {
      const base = loadBaseValidator();
      const server = loadBaseValidator({ profiles: registry(policy) });
      for (const resource of [patient, bundle, withUnknown, known]) {
        const expected = [...base.validate(resource), ...registry(policy).validate(resource)];
        assert.deepEqual(server.validate(resource), expected, `${policy} ${resource.resourceType}`);
      }
      // The contexts are judged where each extension is (Patient.name, the contained Organization): errors.
      const contexts = server.validate(bundle).filter((i) => /is not allowed on/.test(i.diagnostics ?? '')).map((i) => i.expression?.[0]);
      assert.deepEqual(contexts, ['Bundle.entry[0].resource.name[0].extension[0]', 'Bundle.entry[0].resource.contained[0].extension[0]']);
    });
  }
});
