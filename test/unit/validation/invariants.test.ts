/**
 * FHIRPath invariants of the R4 base definitions (https://hl7.org/fhir/R4/conformance-rules.html#constraints):
 * for each kind, a resource that breaks exactly that rule, and a near miss that must pass.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { buildValidationDefinitions } from '../../../scripts/definitions/validation';
import { buildInvariantDefinitions } from '../../../scripts/definitions/invariants';
import type { OperationOutcomeIssue } from '../../../src/core/outcome';
import { loadBaseValidator, rejectionCategory, type ResourceValidator } from '../../../src/validation/validator';
import { checkXhtml } from '../../../src/validation/native-invariants';
import * as fhirpath from 'fhirpath';
import * as r4Model from 'fhirpath/fhir-context/r4';

let validator: ResourceValidator;

before(async () => {
  await buildValidationDefinitions();
  await buildInvariantDefinitions();
  validator = loadBaseValidator();
});

/** `severity key location` of every invariant issue. */
const failed = (resource: Record<string, unknown>): string[] =>
  validator
    .validate(resource)
    .filter((i: OperationOutcomeIssue) => i.code === 'invariant')
    .map((i) => `${i.severity} ${i.details?.text ?? ''} ${i.expression?.[0] ?? ''}`);

const text = { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml">Example</div>' };
const patient = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({ resourceType: 'Patient', text, ...extra });
const observation = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  resourceType: 'Observation',
  text,
  status: 'final',
  code: { coding: [{ system: 'http://loinc.org', code: '8867-4' }] },
  ...extra,
});

describe('ele-1: all FHIR elements must have a @value or children (https://hl7.org/fhir/R4/element.html#invs)', () => {
  test('an empty complex element is rejected, at its position', () => {
    assert.deepEqual(failed(patient({ name: [{ family: 'Chalmers' }, {}] })), ['error ele-1 Patient.name[1]']);
  });
  test('an element holding only an id is rejected; an id next to content is fine', () => {
    assert.deepEqual(failed(patient({ name: [{ id: 'n1' }] })), ['error ele-1 Patient.name[0]']);
    assert.deepEqual(failed(patient({ name: [{ id: 'n1', text: 'Peter' }] })), []);
  });
  test('a primitive extension object with neither extension nor value is rejected', () => {
    assert.deepEqual(failed(patient({ birthDate: '1974-12-25', _birthDate: { id: 'b' } })), ['error ele-1 Patient._birthDate']);
    const extension = [{ url: 'http://hl7.org/fhir/StructureDefinition/patient-birthTime', valueDateTime: '1974-12-25T14:35:45-05:00' }];
    assert.deepEqual(failed(patient({ birthDate: '1974-12-25', _birthDate: { extension } })), []);
  });
  test('the issue {"resourceType":"Patient","name":[{}]} is no longer stored: 422 invariant', () => {
    const issues = validator.validate({ resourceType: 'Patient', name: [{}] });
    assert.equal(rejectionCategory(issues), 'unprocessable');
  });
});

describe('ext-1: must have either extensions or value[x], not both (https://hl7.org/fhir/R4/extensibility.html#invs)', () => {
  test('an extension with neither value nor nested extensions is rejected', () => {
    assert.deepEqual(failed(patient({ extension: [{ url: 'http://example.org/x' }] })), ['error ext-1 Patient.extension[0]']);
  });
  test('an extension with both is rejected, anywhere (modifierExtension inside a backbone element)', () => {
    const both = { url: 'http://example.org/x', valueBoolean: true, extension: [{ url: 'part', valueString: 'p' }] };
    assert.deepEqual(failed(patient({ contact: [{ name: { text: 'Ann' }, modifierExtension: [both] }] })), ['error ext-1 Patient.contact[0].modifierExtension[0]']);
  });
  test('a value, or nested extensions with values, pass', () => {
    assert.deepEqual(failed(patient({ extension: [{ url: 'http://example.org/x', valueCodeableConcept: { text: 'x' } }] })), []);
    assert.deepEqual(failed(patient({ extension: [{ url: 'http://example.org/x', extension: [{ url: 'a', valueString: 'b' }] }] })), []);
  });
  test('a value carried only by its _value element is a value too', () => {
    assert.deepEqual(failed(patient({ extension: [{ url: 'http://example.org/x', _valueString: { extension: [{ url: 'y', valueBoolean: true }] } }] })), []);
  });
});

describe('dom-2…dom-6 on every DomainResource (https://hl7.org/fhir/R4/domainresource.html#invs)', () => {
  const org = { resourceType: 'Organization', id: 'o1', name: 'Acme' };
  test('dom-2: a contained resource must not contain resources', () => {
    const nested = { ...org, contained: [{ resourceType: 'Organization', id: 'o2', name: 'Inner' }], partOf: { reference: '#o2' } };
    assert.ok(failed(patient({ contained: [nested], managingOrganization: { reference: '#o1' } })).includes('error dom-2 Patient'));
  });
  test('dom-3: a contained resource must be referenced; referenced ones pass, as does one pointing back with #', () => {
    assert.deepEqual(failed(patient({ contained: [org] })), ['error dom-3 Patient']);
    assert.deepEqual(failed(patient({ contained: [org], managingOrganization: { reference: '#o1' } })), []);
    const pointsBack = { resourceType: 'Provenance', id: 'p', target: [{ reference: '#' }], recorded: '2024-01-01T00:00:00Z', agent: [{ who: { display: 'x' } }] };
    assert.deepEqual(failed(patient({ contained: [pointsBack] })), []);
  });
  test('dom-4 and dom-5: a contained resource has no meta.versionId, lastUpdated or security', () => {
    const withMeta = { ...org, meta: { versionId: '1', security: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality', code: 'R' }] } };
    assert.deepEqual(failed(patient({ contained: [withMeta], managingOrganization: { reference: '#o1' } })), ['error dom-4 Patient', 'error dom-5 Patient']);
    assert.deepEqual(failed(patient({ contained: [{ ...org, meta: { profile: ['http://example.org/p'] } }], managingOrganization: { reference: '#o1' } })), []);
  });
  test('dom-6 is a best practice: a resource without narrative is kept, with a warning', () => {
    const issues = validator.validate({ resourceType: 'Patient', active: true });
    assert.deepEqual(issues.map((i) => `${i.severity} ${i.details?.text}`), ['warning dom-6']);
    assert.equal(issues.some((i) => i.severity === 'error'), false);
  });
});

describe('resource and datatype invariants', () => {
  test('obs-6: dataAbsentReason only when there is no value', () => {
    const reason = { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/data-absent-reason', code: 'unknown' }] };
    assert.deepEqual(failed(observation({ valueString: 'x', dataAbsentReason: reason })), ['error obs-6 Observation']);
    assert.deepEqual(failed(observation({ dataAbsentReason: reason })), []);
  });
  test('per-1: a Period does not end before it starts (compared at the same precision)', () => {
    assert.deepEqual(failed(patient({ name: [{ text: 'A', period: { start: '2024-05-02', end: '2024-05-01' } }] })), ['error per-1 Patient.name[0].period']);
    assert.deepEqual(failed(patient({ name: [{ text: 'A', period: { start: '2024-05-01', end: '2024-05-01' } }] })), []);
    assert.deepEqual(failed(patient({ name: [{ text: 'A', period: { start: '2024-05-01T10:00:00+02:00', end: '2024-05-01T09:30:00Z' } }] })), []);
    assert.deepEqual(failed(patient({ name: [{ text: 'A', period: { start: '2024-05-01T10:00:00+02:00', end: '2024-05-01T07:30:00Z' } }] })), ['error per-1 Patient.name[0].period']);
  });
  test('per-1 on UTC instants with fractions (compared natively) gives what fhirpath.js gives', () => {
    const expression = 'start.hasValue().not() or end.hasValue().not() or (start <= end)';
    const instants = ['2024-05-01T10:00:00Z', '2024-05-01T10:00:00.000Z', '2024-05-01T10:00:00.5Z', '2024-05-01T10:00:00.50Z', '2024-05-01T10:00:00.499Z',
      '2024-05-01T10:00:00.500Z', '2024-05-01T09:59:59.999Z', '2024-05-01T10:00:01.001Z', '2024-05-01T10:00:00.0001Z', '2024-05-01T10:00:00.0002Z', '2023-12-31T23:59:59.9Z'];
    for (const start of instants) {
      for (const end of instants) {
        const holds = fhirpath.evaluate({ start, end }, { base: 'Period', expression }, undefined, r4Model as never) as unknown[];
        const expected = holds.length === 1 && holds[0] === false ? ['error per-1 Patient.name[0].period'] : [];
        assert.deepEqual(failed(patient({ name: [{ text: 'A', period: { start, end } }] })), expected, `${start} .. ${end}`);
      }
    }
  });
  test('pat-1: a contact names a person or an organization (a backbone element constraint)', () => {
    assert.deepEqual(failed(patient({ contact: [{ gender: 'female' }] })), ['error pat-1 Patient.contact[0]']);
    assert.deepEqual(failed(patient({ contact: [{ gender: 'female', telecom: [{ system: 'phone', value: '1' }] }] })), []);
  });
  test('ref-1: a local reference must resolve to a contained resource', () => {
    assert.deepEqual(failed(patient({ managingOrganization: { reference: '#missing' } })), ['error ref-1 Patient.managingOrganization']);
    assert.deepEqual(failed(patient({ managingOrganization: { reference: 'Organization/1' } })), []);
  });
  test('cpt-2 and qty-3 on datatypes wherever they occur', () => {
    assert.deepEqual(failed(patient({ telecom: [{ value: '555' }] })), ['error cpt-2 Patient.telecom[0]']);
    assert.deepEqual(failed(observation({ valueQuantity: { value: 1, code: 'mg' } })), ['error qty-3 Observation.valueQuantity']);
    assert.deepEqual(failed(observation({ valueQuantity: { value: 1, code: 'mg', system: 'http://unitsofmeasure.org' } })), []);
  });
  test('org-3: an element-level constraint on a datatype (Organization.telecom never home)', () => {
    const organization = { resourceType: 'Organization', text, name: 'Acme', telecom: [{ system: 'phone', value: '1', use: 'home' }] };
    assert.deepEqual(failed(organization), ['error org-3 Organization.telecom[0]']);
    assert.deepEqual(failed({ ...organization, telecom: [{ system: 'phone', value: '1', use: 'work' }] }), []);
  });
  test('resources inside a Bundle have their own invariants, with their own %resource', () => {
    const bundle = { resourceType: 'Bundle', type: 'collection', entry: [{ resource: observation({ valueString: 'x', dataAbsentReason: { text: 'n/a' } }) }] };
    assert.deepEqual(failed(bundle), ['error obs-6 Bundle.entry[0].resource']);
    assert.deepEqual(failed({ ...bundle, entry: [{}] }), ['error bdl-5 Bundle.entry[0]', 'error ele-1 Bundle.entry[0]']);
  });
  test('que-7 as intended: an exists condition takes a boolean answer (R4 wrote Boolean, rewritten)', () => {
    const questionnaire = (answer: Record<string, unknown>) => ({
      resourceType: 'Questionnaire',
      text,
      status: 'draft',
      item: [
        { linkId: '1', type: 'boolean' },
        { linkId: '2', type: 'string', enableWhen: [{ question: '1', operator: 'exists', ...answer }] },
      ],
    });
    assert.deepEqual(failed(questionnaire({ answerBoolean: true })), []);
    assert.deepEqual(failed(questionnaire({ answerString: 'yes' })), ['error que-7 Questionnaire.item[1].enableWhen[0]']);
  });
  test('csd-1: concept codes are unique across the hierarchy of a CodeSystem', () => {
    const cs = (nested: string) => ({ resourceType: 'CodeSystem', text, name: 'Codes', status: 'draft', content: 'complete', concept: [{ code: 'a', concept: [{ code: nested }] }] });
    assert.deepEqual(failed(cs('a')), ['error csd-1 CodeSystem']);
    assert.deepEqual(failed(cs('b')), []);
  });
  test('eld-16/19/20: the R4 regexes (written for Java) evaluate; a warning-level constraint only warns', () => {
    const sd = {
      resourceType: 'StructureDefinition',
      text,
      url: 'http://example.org/StructureDefinition/p',
      name: 'P',
      status: 'draft',
      kind: 'resource',
      abstract: false,
      type: 'Patient',
      baseDefinition: 'http://hl7.org/fhir/StructureDefinition/Patient',
      derivation: 'constraint',
      differential: { element: [{ id: 'Patient', path: 'Patient' }, { id: 'Patient.name', path: 'Patient.name', min: 1 }] },
    };
    assert.deepEqual(failed(sd), []);
    assert.deepEqual(failed({ ...sd, name: 'p' }), ['warning sdf-0 StructureDefinition']);
  });
});

describe('txt-1 and txt-2: narrative XHTML (https://hl7.org/fhir/R4/narrative.html#invs)', () => {
  const div = (html: string) => `<div xmlns="http://www.w3.org/1999/xhtml">${html}</div>`;
  test('scripts, event handlers, unknown entities and foreign roots are not allowed', () => {
    assert.deepEqual(failed(patient({ text: { status: 'generated', div: div('<script>alert(1)</script>') } })), ['error txt-1 Patient.text.div']);
    assert.equal(checkXhtml(div('<p onclick="x()">a</p>')).allowed, false);
    assert.equal(checkXhtml(div('a&nbsp;b')).allowed, false);
    assert.equal(checkXhtml('<p xmlns="http://www.w3.org/1999/xhtml">a</p>').allowed, false);
    assert.equal(checkXhtml(div('<b>unclosed')).allowed, false);
  });
  test('basic formatting, tables, links, images and character references are allowed', () => {
    const html = div('<table class="grid"><tr><td colspan="2"><a href="#x">A</a> &amp; &#160;<img src="#i" alt="i"/></td></tr></table><!-- c -->');
    assert.deepEqual(checkXhtml(html), { allowed: true, hasContent: true });
  });
  test('a narrative of whitespace only breaks txt-2', () => {
    assert.deepEqual(failed(patient({ text: { status: 'generated', div: div('\n   ') } })), ['error txt-2 Patient.text.div']);
  });
});

describe('write-path category', () => {
  test('structure errors are 400, invariant-only errors 422', () => {
    assert.equal(rejectionCategory(validator.validate(patient({ active: 'yes' }))), 'incorrect');
    assert.equal(rejectionCategory(validator.validate(patient({ name: [{}] }))), 'unprocessable');
  });
});
