import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Resource } from 'fhir/r4';
import { IndexExtractor } from '../../../../src/search/extract';
import type { IndexFields } from '../../../../src/search/index-fields';
import { SearchRegistry } from '../../../../src/search/registry';
import { nicknameSearchParameter } from '../../../fixtures/search-parameters';

const BASE = 'http://localhost:8080/fhir';
const UCUM = 'http://unitsofmeasure.org';
const LOINC = 'http://loinc.org';

let extractor: IndexExtractor;
let registry: SearchRegistry;
before(() => {
  registry = SearchRegistry.loadBase();
  extractor = new IndexExtractor(registry, { baseUrl: `${BASE}/` });
});

const idxOf = (resource: object): IndexFields => extractor.extract(resource as Resource).idx;
const only = <T extends { p: string }>(entries: T[] | undefined, p: string): T[] => (entries ?? []).filter((e) => e.p === p);

describe('string entries (search.html#string)', () => {
  it('indexes every HumanName part folded, with the exact original', () => {
    const idx = idxOf({ resourceType: 'Patient', id: 'p1', name: [{ family: 'Müller', given: ['ÉLODIE  Smith'], prefix: ['Dr'] }] });
    assert.deepEqual(only(idx.str, 'family'), [{ p: 'family', v: 'muller', x: 'Müller' }]);
    assert.deepEqual(only(idx.str, 'name'), [
      { p: 'name', v: 'muller', x: 'Müller' },
      { p: 'name', v: 'elodie smith', x: 'ÉLODIE  Smith' },
      { p: 'name', v: 'dr', x: 'Dr' },
    ]);
  });

  it('indexes Address parts', () => {
    const idx = idxOf({ resourceType: 'Patient', id: 'p1', address: [{ line: ['1 Rue de Lyon'], city: 'Orléans', postalCode: '45000', country: 'FR' }] });
    assert.deepEqual(only(idx.str, 'address').map((e) => e.v), ['1 rue de lyon', 'orleans', '45000', 'fr']);
    assert.deepEqual(only(idx.str, 'address-city'), [{ p: 'address-city', v: 'orleans', x: 'Orléans' }]);
  });
});

describe('token entries (search.html#token)', () => {
  it('indexes each coding of a CodeableConcept and its text', () => {
    const idx = idxOf({
      resourceType: 'Condition',
      id: 'c1',
      subject: { reference: 'Patient/1' },
      code: {
        coding: [
          { system: 'http://snomed.info/sct', code: '39065001', display: 'Burn of ear' },
          { system: 'http://hl7.org/fhir/sid/icd-10', code: 'T20.0' },
        ],
        text: 'Brûlure',
      },
    });
    assert.deepEqual(only(idx.tok, 'code'), [
      { p: 'code', s: 'http://snomed.info/sct', c: '39065001', t: 'burn of ear' },
      { p: 'code', s: 'http://hl7.org/fhir/sid/icd-10', c: 'T20.0' },
      { p: 'code', t: 'brulure' },
    ]);
  });

  it('keeps no separate text entry for a CodeableConcept whose text a coding display already says', () => {
    const idx = idxOf({
      resourceType: 'Condition',
      id: 'c2',
      subject: { reference: 'Patient/1' },
      code: { coding: [{ system: 'http://snomed.info/sct', code: '39065001', display: 'Burn of ear' }], text: 'Burn of Ear' },
    });
    assert.deepEqual(only(idx.tok, 'code'), [{ p: 'code', s: 'http://snomed.info/sct', c: '39065001', t: 'burn of ear' }]);
  });

  it('evaluates only the Condition branch of the shared code parameter', () => {
    assert.equal(registry.get('Condition', 'code')?.expression, 'Condition.code');
  });

  it('indexes an Identifier with its type for :of-type', () => {
    const idx = idxOf({
      resourceType: 'Patient',
      id: 'p1',
      identifier: [
        {
          system: 'urn:oid:1.2.36.146.595.217.0.1',
          value: '12345',
          type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'MR' }], text: 'Medical Record' },
        },
      ],
    });
    assert.deepEqual(only(idx.tok, 'identifier'), [
      {
        p: 'identifier',
        s: 'urn:oid:1.2.36.146.595.217.0.1',
        c: '12345',
        t: 'medical record',
        ts: 'http://terminology.hl7.org/CodeSystem/v2-0203',
        tc: 'MR',
      },
    ]);
  });

  it('indexes booleans and codes as plain codes, keeping case', () => {
    const idx = idxOf({ resourceType: 'Patient', id: 'p1', active: true, gender: 'female' });
    assert.deepEqual(only(idx.tok, 'active'), [{ p: 'active', c: 'true' }]);
    assert.deepEqual(only(idx.tok, 'gender'), [{ p: 'gender', c: 'female' }]);
  });

  it('indexes ContactPoint values, filtered by the phone/email parameters', () => {
    const idx = idxOf({
      resourceType: 'Patient',
      id: 'p1',
      telecom: [
        { system: 'phone', value: '+33 1 23', use: 'home' },
        { system: 'email', value: 'a@b.org' },
      ],
    });
    assert.deepEqual(only(idx.tok, 'phone'), [{ p: 'phone', c: '+33 1 23' }]);
    assert.deepEqual(only(idx.tok, 'email'), [{ p: 'email', c: 'a@b.org' }]);
    assert.equal(only(idx.tok, 'telecom').length, 2);
  });
});

describe('reference entries (search.html#reference)', () => {
  const observation = {
    resourceType: 'Observation',
    id: 'o1',
    status: 'final',
    code: { text: 'x' },
    subject: { reference: 'Patient/1' },
    performer: [
      { reference: 'Practitioner/1' },
      { reference: `${BASE}/Organization/2` },
      { reference: 'http://other.org/fhir/Practitioner/3' },
      { reference: '#c1' },
      { identifier: { system: 'http://npi.org', value: '999' }, type: 'Practitioner' },
    ],
  };

  it('normalises relative, absolute local, absolute remote, contained and identifier-only references', () => {
    assert.deepEqual(only(idxOf(observation).ref, 'performer'), [
      { p: 'performer', r: 'Practitioner/1', ty: 'Practitioner' },
      { p: 'performer', r: 'Organization/2', ty: 'Organization' },
      { p: 'performer', u: 'http://other.org/fhir/Practitioner/3', ty: 'Practitioner' },
      { p: 'performer', ty: 'Practitioner', is: 'http://npi.org', iv: '999' },
    ]);
  });

  it('indexes canonicals with their version', () => {
    const idx = idxOf({
      resourceType: 'CarePlan',
      id: 'cp1',
      status: 'active',
      intent: 'plan',
      subject: { reference: 'Patient/1' },
      instantiatesCanonical: ['http://example.org/fhir/PlanDefinition/diabetes|2.0'],
    });
    assert.deepEqual(only(idx.ref, 'instantiates-canonical'), [
      { p: 'instantiates-canonical', u: 'http://example.org/fhir/PlanDefinition/diabetes', uv: '2.0', ty: 'PlanDefinition' },
    ]);
  });

  it('keeps a Patient subject for the patient parameter (where(resolve() is Patient))', () => {
    assert.deepEqual(only(idxOf(observation).ref, 'patient'), [{ p: 'patient', r: 'Patient/1', ty: 'Patient' }]);
  });

  it('drops a Group subject from the patient parameter but keeps it for subject', () => {
    const idx = idxOf({ ...observation, subject: { reference: 'Group/1' } });
    assert.deepEqual(only(idx.ref, 'patient'), []);
    assert.deepEqual(only(idx.ref, 'subject'), [{ p: 'subject', r: 'Group/1', ty: 'Group' }]);
    assert.ok(!idx.has?.includes('patient'));
  });
});

describe('date entries (search.html#date)', () => {
  it('indexes a Period with an open end', () => {
    const idx = idxOf({ resourceType: 'Encounter', id: 'e1', status: 'finished', class: { code: 'AMB' }, period: { start: '2020-01-01' } });
    assert.deepEqual(only(idx.date, 'date'), [{ p: 'date', lo: '2020-01-01T00:00:00.000Z', hi: '9999-12-31T23:59:59.999Z' }]);
  });

  it('indexes a Period with an open start', () => {
    const idx = idxOf({ resourceType: 'Encounter', id: 'e1', status: 'finished', class: { code: 'AMB' }, period: { end: '2020-01' } });
    assert.deepEqual(only(idx.date, 'date'), [{ p: 'date', lo: '0001-01-01T00:00:00.000Z', hi: '2020-01-31T23:59:59.999Z' }]);
  });

  it('indexes Timing events and bounds', () => {
    const idx = idxOf({
      resourceType: 'ServiceRequest',
      id: 's1',
      status: 'active',
      intent: 'order',
      subject: { reference: 'Patient/1' },
      occurrenceTiming: { event: ['2020-05-01T08:00:00Z'], repeat: { boundsPeriod: { start: '2020-05-01', end: '2020-05-10' } } },
    });
    assert.deepEqual(only(idx.date, 'occurrence'), [
      { p: 'occurrence', lo: '2020-05-01T08:00:00.000Z', hi: '2020-05-01T08:00:00.999Z' },
      { p: 'occurrence', lo: '2020-05-01T00:00:00.000Z', hi: '2020-05-10T23:59:59.999Z' },
    ]);
  });
});

describe('number and quantity entries (search.html#number, #quantity)', () => {
  it('indexes a decimal with its precision range', () => {
    const idx = idxOf({
      resourceType: 'RiskAssessment',
      id: 'r1',
      status: 'final',
      subject: { reference: 'Patient/1' },
      prediction: [{ probabilityDecimal: 0.25 }],
    });
    assert.deepEqual(only(idx.num, 'probability'), [{ p: 'probability', v: 0.25, lo: 0.245, hi: 0.255 }]);
  });

  it('gives 5 mg and 0.005 g the same canonical entry', () => {
    const obs = (valueQuantity: object) => ({ resourceType: 'Observation', id: 'o', status: 'final', code: { text: 'x' }, valueQuantity });
    const mg = only(idxOf(obs({ value: 5, unit: 'mg', system: UCUM, code: 'mg' })).qty, 'value-quantity');
    const g = only(idxOf(obs({ value: 0.005, unit: 'g', system: UCUM, code: 'g' })).qty, 'value-quantity');
    assert.deepEqual(mg, [
      { p: 'value-quantity', v: 5, lo: 4.5, hi: 5.5, s: UCUM, c: 'mg', u: 'mg' },
      { p: 'value-quantity', v: 0.005, lo: 0.0045, hi: 0.0055, s: UCUM, c: 'g', cn: true },
    ]);
    assert.deepEqual(g[1], { p: 'value-quantity', v: 0.005, lo: 0.0045, hi: 0.0055, s: UCUM, c: 'g', cn: true });
  });

  it('one quantity indexed by several parameters gives each its own entries, and a changed quantity is indexed afresh', () => {
    const valueQuantity = { value: 5, unit: 'mg', system: UCUM, code: 'mg' };
    const observation = { resourceType: 'Observation', id: 'o', status: 'final', code: { coding: [{ system: LOINC, code: '2339-0' }] }, valueQuantity };
    const idx = idxOf(observation);
    assert.equal(only(idx.qty, 'value-quantity').length, 2, 'as written and in UCUM canonical form');
    assert.deepEqual(only(idx.comp, 'code-value-quantity')[0], { p: 'code-value-quantity', k: [`${LOINC}|2339-0`, `${UCUM}|mg`], lo: [null, 4.5], hi: [null, 5.5] });
    valueQuantity.value = 7;
    const again = idxOf(observation);
    assert.deepEqual(only(again.qty, 'value-quantity')[0], { p: 'value-quantity', v: 7, lo: 6.5, hi: 7.5, s: UCUM, c: 'mg', u: 'mg' });
    assert.deepEqual(only(again.comp, 'code-value-quantity')[0]?.lo, [null, 6.5]);
  });

  it('indexes Money with its currency', () => {
    const idx = idxOf({ resourceType: 'Invoice', id: 'i1', status: 'issued', totalGross: { value: 12.5, currency: 'EUR' } });
    assert.deepEqual(only(idx.qty, 'totalgross'), [{ p: 'totalgross', v: 12.5, lo: 12.45, hi: 12.55, s: 'urn:iso:std:iso:4217', c: 'EUR' }]);
  });
});

describe('composite entries (search.html#composite)', () => {
  const bp = {
    resourceType: 'Observation',
    id: 'bp',
    status: 'final',
    code: { coding: [{ system: LOINC, code: '85354-9' }] },
    subject: { reference: 'Patient/1' },
    component: [
      { code: { coding: [{ system: LOINC, code: '8480-6' }] }, valueQuantity: { value: 120, unit: 'mmHg', system: UCUM, code: 'mm[Hg]' } },
      { code: { coding: [{ system: LOINC, code: '72166-2' }] }, valueCodeableConcept: { coding: [{ system: 'http://snomed.info/sct', code: '8517006' }] } },
    ],
  };

  it('pairs each component code with its own value only (component-code-value-concept)', () => {
    assert.deepEqual(only(idxOf(bp).comp, 'component-code-value-concept'), [
      { p: 'component-code-value-concept', k: [`${LOINC}|72166-2`, 'http://snomed.info/sct|8517006'] },
      { p: 'component-code-value-concept', k: [`${LOINC}|72166-2`, '8517006'] },
      { p: 'component-code-value-concept', k: ['72166-2', 'http://snomed.info/sct|8517006'] },
      { p: 'component-code-value-concept', k: ['72166-2', '8517006'] },
    ]);
  });

  it('stores quantity components with their range, including the UCUM canonical form', () => {
    const entries = only(idxOf(bp).comp, 'component-code-value-quantity');
    assert.equal(entries.length, 6);
    assert.deepEqual(entries[0], { p: 'component-code-value-quantity', k: [`${LOINC}|8480-6`, `${UCUM}|mm[Hg]`], lo: [null, 119.5], hi: [null, 120.5] });
    assert.deepEqual(entries[1], { p: 'component-code-value-quantity', k: [`${LOINC}|8480-6`, 'mm[Hg]'], lo: [null, 119.5], hi: [null, 120.5] });
    // 1 mm[Hg] = 133322 g.m-1.s-2 (133.322 Pa): 119.5 and 120.5 mmHg
    assert.deepEqual(entries[2], {
      p: 'component-code-value-quantity',
      k: [`${LOINC}|8480-6`, `${UCUM}|g.m-1.s-2`],
      lo: [null, 15931979],
      hi: [null, 16065301],
    });
  });

  it('combo parameters store no copy of the entries of the resource and component parameters they unite', () => {
    const idx = idxOf(bp);
    for (const combo of ['combo-code-value-concept', 'combo-code-value-quantity']) assert.deepEqual(only(idx.comp, combo), [], combo);
    assert.deepEqual(only(idx.tok, 'combo-code'), []);
    assert.equal(only(idx.comp, 'component-code-value-quantity').length, 6);
    assert.deepEqual(only(idx.comp, 'code-value-quantity'), [], 'the panel itself has no value');
    // Present (for :missing) and sorted by the entries they borrow.
    for (const combo of ['combo-code', 'combo-code-value-concept', 'combo-code-value-quantity', 'combo-value-quantity', 'combo-value-concept']) {
      assert.ok(idx.has?.includes(combo), combo);
    }
    assert.ok(!idx.has?.includes('combo-data-absent-reason'));
    assert.equal(idx.so?.['combo-code'], '72166-2', 'the smallest of the panel code 85354-9 and its component codes');
    assert.equal(idx.so?.['combo-value-quantity'], 120);
  });

  it('code-value-date, code-value-string and code-value-quantity on the Observation itself', () => {
    const base = { resourceType: 'Observation', id: 'o', status: 'final', code: { coding: [{ system: LOINC, code: '1-8' }] } };
    assert.deepEqual(only(idxOf({ ...base, valueDateTime: '2020-01-02' }).comp, 'code-value-date')[0], {
      p: 'code-value-date',
      k: [`${LOINC}|1-8`, ''],
      lo: [null, '2020-01-02T00:00:00.000Z'],
      hi: [null, '2020-01-02T23:59:59.999Z'],
    });
    assert.deepEqual(only(idxOf({ ...base, valueString: 'Très Bien' }).comp, 'code-value-string'), [
      { p: 'code-value-string', k: [`${LOINC}|1-8`, 'tres bien'] },
      { p: 'code-value-string', k: ['1-8', 'tres bien'] },
    ]);
    assert.equal(only(idxOf({ ...base, valueQuantity: { value: 7, system: UCUM, code: 'kg' } }).comp, 'code-value-quantity').length, 6);
  });
});

describe('Resource-level parameters (search.html#all)', () => {
  it('indexes meta tags, security labels, profiles and source, not _id/_lastUpdated', () => {
    const idx = idxOf({
      resourceType: 'Patient',
      id: 'p1',
      meta: {
        lastUpdated: '2020-01-01T00:00:00Z',
        tag: [{ system: 'http://example.org/tags', code: 'Test' }],
        security: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality', code: 'R' }],
        profile: ['http://hl7.org/fhir/us/core/StructureDefinition/us-core-patient|3.1.1'],
        source: 'http://example.org/source#abc',
      },
    });
    assert.deepEqual(only(idx.tok, '_tag'), [{ p: '_tag', s: 'http://example.org/tags', c: 'Test' }]);
    assert.deepEqual(only(idx.tok, '_security'), [{ p: '_security', s: 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality', c: 'R' }]);
    assert.deepEqual(only(idx.ref, '_profile'), [
      { p: '_profile', u: 'http://hl7.org/fhir/us/core/StructureDefinition/us-core-patient', uv: '3.1.1', ty: 'StructureDefinition' },
    ]);
    assert.deepEqual(only(idx.uri, '_source'), [{ p: '_source', v: 'http://example.org/source#abc' }]);
    assert.deepEqual(only(idx.tok, '_id'), []);
    assert.deepEqual(only(idx.date, '_lastUpdated'), []);
  });
});

describe('has and sort keys', () => {
  it('lists parameters with values and their smallest key', () => {
    const idx = idxOf({ resourceType: 'Patient', id: 'p1', gender: 'male', name: [{ family: 'Zed' }, { family: 'Abel' }], birthDate: '1974-12-25' });
    assert.ok(idx.has?.includes('family') && idx.has.includes('gender') && idx.has.includes('birthdate'));
    assert.ok(!idx.has?.includes('address'));
    assert.equal(idx.so?.family, 'abel');
    assert.equal(idx.so?.birthdate, '1974-12-25T00:00:00.000Z');
    assert.equal(idx.so?.gender, 'male');
  });
});

describe('patient compartment (compartmentdefinition-patient.html)', () => {
  it('places an Observation in the compartments of its subject and performer Patients', () => {
    const { compartments } = extractor.extract({
      resourceType: 'Observation',
      id: 'o1',
      status: 'final',
      code: { text: 'x' },
      subject: { reference: 'Patient/1' },
      performer: [{ reference: `${BASE}/Patient/2` }, { reference: 'http://other.org/fhir/Patient/3' }, { reference: 'Practitioner/4' }],
    } as Resource);
    assert.deepEqual(compartments.sort(), ['Patient/1', 'Patient/2']);
  });

  it('does not place an Observation about a Group in any patient compartment', () => {
    const { compartments } = extractor.extract({ resourceType: 'Observation', id: 'o1', status: 'final', code: { text: 'x' }, subject: { reference: 'Group/1' } } as Resource);
    assert.deepEqual(compartments, []);
  });

  it('places a Patient in its own compartment and in those of linked patients', () => {
    const { compartments } = extractor.extract({ resourceType: 'Patient', id: 'p1', link: [{ other: { reference: 'Patient/p0' }, type: 'replaces' }] } as Resource);
    assert.deepEqual(compartments.sort(), ['Patient/p0', 'Patient/p1']);
  });

  it('ignores resources with no compartment parameters', () => {
    assert.deepEqual(extractor.extract({ resourceType: 'Organization', id: 'org1', name: 'Acme' } as Resource).compartments, []);
  });

  it('compartmentsOf gives the compartments extract gives, for every R4 example', () => {
    const dir = dirname(require.resolve('hl7.fhir.r4.examples/package.json'));
    let checked = 0;
    let inSome = 0;
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.json') && !f.startsWith('Bundle-') && f !== 'package.json')) {
      const resource = JSON.parse(readFileSync(join(dir, file), 'utf8')) as Resource;
      if (typeof resource.resourceType !== 'string' || resource.resourceType === 'Bundle' || registry.forType(resource.resourceType).length === 0) continue;
      const expected = extractor.extract(resource).compartments.sort();
      assert.deepEqual(extractor.compartmentsOf(resource).sort(), expected, file);
      checked++;
      if (expected.length) inSome++;
    }
    assert.ok(checked > 400 && inSome > 100, `${checked} examples checked, ${inSome} in some compartment`);
  });
});

describe('custom SearchParameters (searchparameter.html)', () => {
  it('are indexed as soon as they are added to the registry', () => {
    const local = SearchRegistry.loadBase();
    const localExtractor = new IndexExtractor(local, { baseUrl: BASE });
    const patient = { resourceType: 'Patient', id: 'p1', name: [{ use: 'nickname', given: ['Bobby'] }, { given: ['Robert'] }] } as Resource;
    assert.equal(localExtractor.extract(patient).idx.str?.some((e) => e.p === 'nickname'), false);
    local.add(nicknameSearchParameter);
    assert.deepEqual(only(localExtractor.extract(patient).idx.str, 'nickname'), [{ p: 'nickname', v: 'bobby', x: 'Bobby' }]);
  });
});
