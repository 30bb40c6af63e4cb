import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { FhirResource as Resource, SearchParameter } from 'fhir/r4';
import { SearchRegistry } from '../../../../src/search/registry';
import { CriteriaCompiler } from '../../../../src/search/criteria';
import { RESOURCES, type ResourceRecord } from '../../../../src/storage/records';
import { BASE_URL, NOW, harness, parseQuery, type Harness } from './harness';

// Observation's combo-* parameters (https://hl7.org/fhir/R4/observation.html#search) search the Observation and
// its components at once. Their entries are the entries of code/component-code etc. (src/search/registry/shared-entries.ts):
// every modifier must answer as if they were stored twice.
const LOINC = 'http://loinc.org';
const UCUM = 'http://unitsofmeasure.org';

const panel: Resource = {
  resourceType: 'Observation',
  id: 'panel',
  status: 'final',
  code: { coding: [{ system: LOINC, code: '85354-9', display: 'Blood pressure panel' }] },
  component: [
    { code: { coding: [{ system: LOINC, code: '8480-6', display: 'Systolic' }] }, valueQuantity: { value: 150, unit: 'mmHg', system: UCUM, code: 'mm[Hg]' } },
    { code: { coding: [{ system: LOINC, code: '72166-2' }] }, valueCodeableConcept: { coding: [{ system: 'http://snomed.info/sct', code: '8517006' }] } },
  ],
};
const weight: Resource = {
  resourceType: 'Observation',
  id: 'weight',
  status: 'final',
  code: { coding: [{ system: LOINC, code: '29463-7', display: 'Body weight' }] },
  valueQuantity: { value: 72, unit: 'kg', system: UCUM, code: 'kg' },
};
const absent: Resource = {
  resourceType: 'Observation',
  id: 'absent',
  status: 'final',
  code: { coding: [{ system: LOINC, code: '8310-5' }] },
  dataAbsentReason: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/data-absent-reason', code: 'unknown' }] },
};

let h: Harness;
before(async () => {
  h = await harness([panel, weight, absent]);
  // A record as servers before this layout stored it: its combo-code entries of its own, and code's as well.
  const legacy: ResourceRecord = {
    _id: 'Observation/legacy',
    type: 'Observation',
    id: 'legacy',
    versionId: 1,
    lastUpdated: '2024-01-01T00:00:00.000Z',
    deleted: false,
    resource: { resourceType: 'Observation', id: 'legacy', status: 'final', code: { coding: [{ system: LOINC, code: '2339-0' }] } } as Resource,
    idx: {
      tok: [
        { p: 'code', s: LOINC, c: '2339-0' },
        { p: 'combo-code', s: LOINC, c: '2339-0' },
        { p: 'status', c: 'final' },
      ],
      has: ['code', 'combo-code', 'status'],
      so: { code: '2339-0', 'combo-code': '2339-0', status: 'final' },
    },
    compartments: [],
  };
  await h.store.transaction(async (tx) => {
    await tx.insert(RESOURCES, legacy);
  });
});
after(() => h.close());

describe('combo-code: the code of the Observation or of any component', () => {
  test('matches the Observation code and component codes', async () => {
    assert.deepEqual(await h.ids('Observation', `combo-code=${LOINC}|85354-9`), ['panel']);
    assert.deepEqual(await h.ids('Observation', `combo-code=${LOINC}|8480-6`), ['panel']);
    assert.deepEqual(await h.ids('Observation', 'combo-code=29463-7,72166-2'), ['panel', 'weight']);
    assert.deepEqual(await h.ids('Observation', `code=${LOINC}|8480-6`), [], 'code alone does not reach into components');
  });

  test('still matches records that stored combo-code entries of their own', async () => {
    assert.deepEqual(await h.ids('Observation', 'combo-code=2339-0'), ['legacy']);
  });

  test(':not, :text and :missing answer over both', async () => {
    assert.deepEqual(await h.ids('Observation', 'combo-code:not=8480-6'), ['absent', 'legacy', 'weight']);
    assert.deepEqual(await h.ids('Observation', 'combo-code:text=systol'), ['panel']);
    assert.deepEqual(await h.ids('Observation', 'combo-code:missing=false'), ['absent', 'legacy', 'panel', 'weight']);
    assert.deepEqual(await h.ids('Observation', 'combo-code:missing=true'), []);
  });

  test('_sort orders by the smallest code of the Observation and its components', async () => {
    const { filter } = await h.compiler.compile('Observation', parseQuery('combo-code:missing=false'), 'strict');
    const docs = (await h.store.find(RESOURCES, filter, { sort: [['idx.so.combo-code', 1], ['_id', 1]] })) as ResourceRecord[];
    assert.deepEqual(
      docs.map((d) => d.id),
      ['legacy', 'weight', 'panel', 'absent'],
      '2339-0 < 29463-7 < 72166-2 (a component of panel, whose own code is 85354-9) < 8310-5',
    );
  });
});

describe('combo quantity, concept and composite parameters', () => {
  test('combo-value-quantity matches the value and component values', async () => {
    assert.deepEqual(await h.ids('Observation', `combo-value-quantity=gt100|${UCUM}|mm[Hg]`), ['panel']);
    assert.deepEqual(await h.ids('Observation', `combo-value-quantity=72|${UCUM}|kg`), ['weight']);
    assert.deepEqual(await h.ids('Observation', 'combo-value-quantity:missing=true'), ['absent', 'legacy']);
  });

  test('combo-value-concept and combo-data-absent-reason', async () => {
    assert.deepEqual(await h.ids('Observation', 'combo-value-concept=http://snomed.info/sct|8517006'), ['panel']);
    assert.deepEqual(await h.ids('Observation', 'combo-data-absent-reason=unknown'), ['absent']);
  });

  test('combo-code-value-quantity pairs a code with the value of the same element', async () => {
    const q = (value: string) => h.ids('Observation', `combo-code-value-quantity=${encodeURIComponent(value)}`);
    assert.deepEqual(await q(`${LOINC}|8480-6$gt140`), ['panel']);
    assert.deepEqual(await q(`${LOINC}|29463-7$72|${UCUM}|kg`), ['weight']);
    assert.deepEqual(await q(`${LOINC}|85354-9$gt140`), [], 'the panel itself has no value');
    assert.deepEqual(await h.ids('Observation', `combo-code-value-concept=${encodeURIComponent(`${LOINC}|72166-2$8517006`)}`), ['panel']);
  });
});

test('a type whose parameter of the same code stores its own entries is searched by its own code alone', async () => {
  // A custom combo-code on Condition (a plain token on Condition.code): in a search over both types, only
  // Observation reads code's entries as combo-code's.
  const registry = SearchRegistry.loadBase();
  const custom: SearchParameter = {
    resourceType: 'SearchParameter',
    url: 'http://example.org/SearchParameter/condition-combo-code',
    name: 'combo-code',
    status: 'active',
    description: 'test',
    code: 'combo-code',
    base: ['Condition'],
    type: 'token',
    expression: 'Condition.code',
  };
  registry.add(custom);
  const compiler = new CriteriaCompiler({ store: h.store, registry, baseUrl: BASE_URL, clock: { now: () => NOW } });
  const { filter } = await compiler.compile(undefined, parseQuery('_type=Observation,Condition&combo-code=8480-6'), 'strict');
  const text = JSON.stringify(filter);
  assert.match(text, /"type":\{"\$in":\["Observation"\]\}/);
  assert.match(text, /"type":\{"\$in":\["Condition"\]\}/);
  const found = (await h.store.find(RESOURCES, filter, { projection: { _id: 1 } })).map((d) => d._id);
  assert.deepEqual(found, ['Observation/panel']);
});
