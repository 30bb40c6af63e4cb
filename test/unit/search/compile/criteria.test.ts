import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FhirError } from '../../../../src/core/errors';
import { CriteriaCompiler, RESULT_PARAMETERS } from '../../../../src/search/criteria';
import { SearchRegistry } from '../../../../src/search/registry';
import { RecordingStore, fixedClock } from './fakes';

const registry = SearchRegistry.loadBase();
const BASE = 'http://example.org/fhir';

function compiler(store = new RecordingStore(), maxChainResults?: number) {
  return new CriteriaCompiler({ store, registry, baseUrl: BASE, clock: fixedClock, ...(maxChainResults ? { maxChainResults } : {}) });
}

async function clauses(type: string | undefined, params: Array<[string, string]>, handling: 'strict' | 'lenient' = 'strict') {
  const { filter } = await compiler().compile(type, params, handling);
  return filter['$and'];
}

async function rejects(type: string, params: Array<[string, string]>, category: string, message: RegExp) {
  await assert.rejects(compiler().compile(type, params, 'lenient'), (err: unknown) => {
    assert.ok(err instanceof FhirError);
    assert.equal(err.category, category);
    assert.match(err.message, message);
    return true;
  });
}

test('every search filters live records of the searched type', async () => {
  const { filter, warnings } = await compiler().compile('Patient', [], 'strict');
  assert.deepEqual(filter, { type: 'Patient', deleted: false });
  assert.deepEqual(warnings, []);
});

test('result parameters (with or without modifiers) are left to the caller', async () => {
  assert.ok(RESULT_PARAMETERS.has('_sort') && RESULT_PARAMETERS.has('_include'));
  const { filter } = await compiler().compile('Patient', [['_count', '10'], ['_include:iterate', 'Patient:organization'], ['_sort', 'name']], 'strict');
  assert.deepEqual(filter, { type: 'Patient', deleted: false });
});

test('string: folded starts-with range, :exact on the original, :contains as an escaped regex', async () => {
  assert.deepEqual(await clauses('Patient', [['family', 'Müller']]), [
    { 'idx.str': { $elemMatch: { p: 'family', v: { $gte: 'muller', $lt: 'muller\uffff' } } } },
  ]);
  assert.deepEqual(await clauses('Patient', [['family:exact', 'Müller']]), [{ 'idx.str': { $elemMatch: { p: 'family', x: 'Müller' } } }]);
  assert.deepEqual(await clauses('Patient', [['family:contains', 'a.b*(']]), [
    { 'idx.str': { $elemMatch: { p: 'family', v: { $regex: 'a\\.b\\*\\(' } } } },
  ]);
});

test('comma is OR inside one entry match; repeating a parameter is AND', async () => {
  assert.deepEqual(await clauses('Patient', [['given', 'ann,bob'], ['given', 'carl']]), [
    { 'idx.str': { $elemMatch: { p: 'given', $or: [{ v: { $gte: 'ann', $lt: 'ann\uffff' } }, { v: { $gte: 'bob', $lt: 'bob\uffff' } }] } } },
    { 'idx.str': { $elemMatch: { p: 'given', v: { $gte: 'carl', $lt: 'carl\uffff' } } } },
  ]);
});

test('token: code, system|code, |code, system|', async () => {
  const tok = (value: string) => clauses('Observation', [['code', value]]);
  assert.deepEqual(await tok('8480-6'), [{ 'idx.tok': { $elemMatch: { p: 'code', c: '8480-6' } } }]);
  assert.deepEqual(await tok('http://loinc.org|8480-6'), [{ 'idx.tok': { $elemMatch: { p: 'code', s: 'http://loinc.org', c: '8480-6' } } }]);
  assert.deepEqual(await tok('|8480-6'), [{ 'idx.tok': { $elemMatch: { p: 'code', s: { $exists: false }, c: '8480-6' } } }]);
  assert.deepEqual(await tok('http://loinc.org|'), [{ 'idx.tok': { $elemMatch: { p: 'code', s: 'http://loinc.org' } } }]);
  assert.deepEqual(await tok('a\\|b'), [{ 'idx.tok': { $elemMatch: { p: 'code', c: 'a|b' } } }]);
});

test('token :not matches resources with no matching entry; :text folds; :of-type uses the identifier type', async () => {
  assert.deepEqual(await clauses('Patient', [['gender:not', 'male']]), [{ $nor: [{ 'idx.tok': { $elemMatch: { p: 'gender', c: 'male' } } }] }]);
  assert.deepEqual(await clauses('Observation', [['code:text', 'Blood  Préssure']]), [
    { 'idx.tok': { $elemMatch: { p: 'code', t: { $gte: 'blood pressure', $lt: 'blood pressure\uffff' } } } },
  ]);
  assert.deepEqual(await clauses('Patient', [['identifier:of-type', 'http://terminology.hl7.org/CodeSystem/v2-0203|MR|446053']]), [
    { 'idx.tok': { $elemMatch: { p: 'identifier', ts: 'http://terminology.hl7.org/CodeSystem/v2-0203', tc: 'MR', c: '446053' } } },
  ]);
});

test('token :in expands a base ValueSet into system and code lists; :not-in negates it', async () => {
  const codes = { $in: ['male', 'female', 'other', 'unknown'] };
  const expected = { p: 'gender', $or: [{ s: 'http://hl7.org/fhir/administrative-gender', c: codes }, { s: { $exists: false }, c: codes }] };
  assert.deepEqual(await clauses('Patient', [['gender:in', 'http://hl7.org/fhir/ValueSet/administrative-gender']]), [{ 'idx.tok': { $elemMatch: expected } }]);
  assert.deepEqual(await clauses('Patient', [['gender:not-in', 'http://hl7.org/fhir/ValueSet/administrative-gender']]), [
    { $nor: [{ 'idx.tok': { $elemMatch: expected } }] },
  ]);
});

test('token :in with an unknown ValueSet is an error naming it', async () => {
  await rejects('Patient', [['gender:in', 'http://example.org/ValueSet/nope']], 'incorrect', /ValueSet 'http:\/\/example.org\/ValueSet\/nope'/);
});

test('reference: Type/id, bare id over the target types, our absolute URL, foreign URL, canonical with version', async () => {
  const ref = (name: string, value: string) => clauses('Observation', [[name, value]]);
  assert.deepEqual(await ref('subject', 'Patient/1'), [{ 'idx.ref': { $elemMatch: { p: 'subject', r: 'Patient/1' } } }]);
  assert.deepEqual(await ref('specimen', '1'), [{ 'idx.ref': { $elemMatch: { p: 'specimen', r: 'Specimen/1' } } }]);
  assert.deepEqual(await ref('subject', '1'), [
    { 'idx.ref': { $elemMatch: { p: 'subject', r: { $in: ['Group/1', 'Device/1', 'Patient/1', 'Location/1'] } } } },
  ]);
  assert.deepEqual(await ref('subject', `${BASE}/Patient/1/_history/3`), [{ 'idx.ref': { $elemMatch: { p: 'subject', r: 'Patient/1' } } }]);
  assert.deepEqual(await ref('subject', 'http://other.org/fhir/Patient/1'), [
    { 'idx.ref': { $elemMatch: { p: 'subject', u: 'http://other.org/fhir/Patient/1' } } },
  ]);
  assert.deepEqual(await clauses('Patient', [['_profile', 'http://hl7.org/fhir/StructureDefinition/x|1.0']]), [
    { 'idx.ref': { $elemMatch: { p: '_profile', u: 'http://hl7.org/fhir/StructureDefinition/x', uv: '1.0' } } },
  ]);
});

test('reference :Type and :identifier', async () => {
  assert.deepEqual(await clauses('Observation', [['subject:Patient', '1']]), [{ 'idx.ref': { $elemMatch: { p: 'subject', r: 'Patient/1' } } }]);
  assert.deepEqual(await clauses('Observation', [['subject:identifier', 'http://acme.org/mrn|123']]), [
    { 'idx.ref': { $elemMatch: { p: 'subject', is: 'http://acme.org/mrn', iv: '123' } } },
  ]);
  await rejects('Observation', [['subject:Medication', '1']], 'incorrect', /not a target of search parameter 'subject'/);
});

test('date: eq, ge, sa and ap compare the value range with the entry range', async () => {
  const date = (value: string) => clauses('Patient', [['birthdate', value]]);
  assert.deepEqual(await date('1970'), [
    { 'idx.date': { $elemMatch: { p: 'birthdate', lo: { $gte: '1970-01-01T00:00:00.000Z' }, hi: { $lte: '1970-12-31T23:59:59.999Z' } } } },
  ]);
  assert.deepEqual(await date('ge2013-01'), [{ 'idx.date': { $elemMatch: { p: 'birthdate', hi: { $gte: '2013-01-01T00:00:00.000Z' } } } }]);
  assert.deepEqual(await date('sa2013-01-14'), [{ 'idx.date': { $elemMatch: { p: 'birthdate', lo: { $gt: '2013-01-14T23:59:59.999Z' } } } }]);
  assert.deepEqual(await date('ap2024-05-31'), [
    { 'idx.date': { $elemMatch: { p: 'birthdate', lo: { $lte: '2024-06-01T23:59:59.999Z' }, hi: { $gte: '2024-05-30T00:00:00.000Z' } } } },
  ]);
});

test('_lastUpdated compares the record instant', async () => {
  assert.deepEqual(await clauses('Patient', [['_lastUpdated', 'gt2024-01-01']]), [{ lastUpdated: { $gt: '2024-01-01T23:59:59.999Z' } }]);
  assert.deepEqual(await clauses('Patient', [['_lastUpdated', '2024-01']]), [
    { lastUpdated: { $gte: '2024-01-01T00:00:00.000Z', $lte: '2024-01-31T23:59:59.999Z' } },
  ]);
});

test('malformed dates, numbers and prefixes are errors naming the parameter', async () => {
  await rejects('Patient', [['birthdate', 'x']], 'incorrect', /Invalid date 'x' in search parameter 'birthdate'/);
  await rejects('Patient', [['birthdate', '2013-02-30']], 'incorrect', /Invalid date '2013-02-30'/);
  await rejects('Patient', [['birthdate', 'xx2013']], 'incorrect', /Invalid prefix 'xx' in search parameter 'birthdate'/);
  await rejects('RiskAssessment', [['probability', 'gtabc']], 'incorrect', /Invalid number 'gtabc' in search parameter 'probability'/);
  await rejects('Observation', [['value-quantity', '5|a']], 'incorrect', /Invalid quantity '5\|a' in search parameter 'value-quantity'/);
});

test('number: eq uses the implicit precision range, gt the exact value', async () => {
  assert.deepEqual(await clauses('RiskAssessment', [['probability', '100']]), [
    { 'idx.num': { $elemMatch: { p: 'probability', v: { $gte: 99.5, $lt: 100.5 } } } },
  ]);
  assert.deepEqual(await clauses('RiskAssessment', [['probability', 'gt0.8']]), [{ 'idx.num': { $elemMatch: { p: 'probability', v: { $gt: 0.8 } } } }]);
});

test('quantity with UCUM units also matches the canonical entries', async () => {
  assert.deepEqual(await clauses('Observation', [['value-quantity', '5.4|http://unitsofmeasure.org|mg']]), [
    {
      'idx.qty': {
        $elemMatch: {
          p: 'value-quantity',
          $or: [
            { cn: true, c: 'g', v: { $gte: 0.00535, $lt: 0.00545 } },
            { cn: { $ne: true }, v: { $gte: 5.35, $lt: 5.45 }, s: 'http://unitsofmeasure.org', c: 'mg' },
          ],
        },
      },
    },
  ]);
  assert.deepEqual(await clauses('Observation', [['value-quantity', 'lt5||mg']]), [
    { 'idx.qty': { $elemMatch: { p: 'value-quantity', cn: { $ne: true }, v: { $lt: 5 }, $and: [{ $or: [{ c: 'mg' }, { u: 'mg' }] }] } } },
  ]);
});

test('uri: exact, :below as prefix range, :above as the parent paths', async () => {
  assert.deepEqual(await clauses('ValueSet', [['url:below', 'http://acme.org/fhir']]), [
    { 'idx.uri': { $elemMatch: { p: 'url', v: { $gte: 'http://acme.org/fhir', $lt: 'http://acme.org/fhir\uffff' } } } },
  ]);
  assert.deepEqual(await clauses('ValueSet', [['url:above', 'http://acme.org/fhir/ValueSet/x']]), [
    { 'idx.uri': { $elemMatch: { p: 'url', v: { $in: ['http://acme.org/fhir/ValueSet/x', 'http://acme.org/fhir/ValueSet', 'http://acme.org/fhir', 'http://acme.org'] } } } },
  ]);
});

test('composite: components by position in one entry', async () => {
  assert.deepEqual(await clauses('Observation', [['code-value-quantity', 'http://loinc.org|8480-6$lt60']]), [
    { 'idx.comp': { $elemMatch: { p: 'code-value-quantity', $and: [{ 'k.0': 'http://loinc.org|8480-6' }, { 'k.1': { $not: { $regex: '^http://unitsofmeasure\\.org\\|' } }, 'lo.1': { $lt: 59.5 } }] } } },
  ]);
  await rejects('Observation', [['code-value-quantity', 'http://loinc.org|8480-6']], 'incorrect', /expected 2 components/);
});

test(':missing reads idx.has', async () => {
  assert.deepEqual(await clauses('Patient', [['birthdate:missing', 'true']]), [{ 'idx.has': { $ne: 'birthdate' } }]);
  assert.deepEqual(await clauses('Patient', [['birthdate:missing', 'false']]), [{ 'idx.has': 'birthdate' }]);
  await rejects('Patient', [['birthdate:missing', 'maybe']], 'incorrect', /birthdate:missing/);
});

test('_id is a lookup of the record key Type/id; comma is OR', async () => {
  assert.deepEqual(await clauses('Patient', [['_id', 'a,b']]), [{ _id: { $in: ['Patient/a', 'Patient/b'] } }]);
  assert.deepEqual(await clauses('Patient', [['_id', 'a']]), [{ _id: 'Patient/a' }]);
});

test('a modifier not defined for the type is an error', async () => {
  await rejects('Patient', [['birthdate:exact', '1970']], 'incorrect', /Modifier ':exact' is not allowed on date search parameter 'birthdate'/);
});

test('unknown parameters: a warning under lenient handling, an error under strict', async () => {
  const lenient = await compiler().compile('Patient', [['foo', 'x'], ['family', 'a']], 'lenient');
  assert.equal(lenient.warnings.length, 1);
  assert.equal(lenient.warnings[0]!.code, 'not-supported');
  assert.deepEqual(lenient.warnings[0]!.expression, ['foo']);
  assert.match(lenient.warnings[0]!.diagnostics!, /'foo'/);
  assert.equal((lenient.filter['$and'] as unknown[]).length, 1);
  await assert.rejects(compiler().compile('Patient', [['foo', 'x']], 'strict'), (err: unknown) => err instanceof FhirError && err.category === 'incorrect');
});

test('injection: operator syntax in names is an unknown parameter, operator text in values stays a plain value', async () => {
  for (const name of ['name[$ne]', '_id[$gt]', '$where', 'family.$ne']) {
    const { filter, warnings } = await compiler().compile('Patient', [[name, 'x']], 'lenient');
    assert.deepEqual(filter, { type: 'Patient', deleted: false }, name);
    assert.equal(warnings.length, 1, name);
  }
  assert.deepEqual(await clauses('Patient', [['family', '.*']]), [{ 'idx.str': { $elemMatch: { p: 'family', v: { $gte: '.*', $lt: '.*\uffff' } } } }]);
  assert.deepEqual(await clauses('Patient', [['family:contains', '^a$']]), [{ 'idx.str': { $elemMatch: { p: 'family', v: { $regex: '\\^a\\$' } } } }]);
  assert.deepEqual(await clauses('Patient', [['_id', '{"$where":"1"}']]), [{ _id: 'Patient/{"$where":"1"}' }]);
  assert.deepEqual(await clauses('Patient', [['gender', '{}']]), [{ 'idx.tok': { $elemMatch: { p: 'gender', c: '{}' } } }]);
});

test('system-level search: _type narrows and parameters must be defined on every listed type', async () => {
  const { filter } = await compiler().compile(undefined, [['_type', 'Patient,Practitioner'], ['name', 'x']], 'strict');
  assert.deepEqual(filter, {
    type: { $in: ['Patient', 'Practitioner'] },
    deleted: false,
    $and: [{ 'idx.str': { $elemMatch: { p: 'name', v: { $gte: 'x', $lt: 'x\uffff' } } } }],
  });
  const common = await compiler().compile(undefined, [['_tag', 'a|b']], 'strict');
  assert.deepEqual(common.filter, { deleted: false, $and: [{ 'idx.tok': { $elemMatch: { p: '_tag', s: 'a', c: 'b' } } }] });
  await rejects('Patient', [['_type', 'Nope']], 'incorrect', /Unknown resource type 'Nope'/);
});

test('chain: the inner criteria are resolved to keys and the outer parameter matches them', async () => {
  const store = new RecordingStore([[{ _id: 'Patient/1' }, { _id: 'Patient/2' }]]);
  const { filter } = await compiler(store).compile('Observation', [['subject:Patient.name', 'peter']], 'strict');
  assert.deepEqual(store.finds[0]!.filter, {
    type: 'Patient',
    deleted: false,
    $and: [{ 'idx.str': { $elemMatch: { p: 'name', v: { $gte: 'peter', $lt: 'peter\uffff' } } } }],
  });
  assert.deepEqual(filter['$and'], [{ 'idx.ref': { $elemMatch: { p: 'subject', r: { $in: ['Patient/1', 'Patient/2'] } } } }]);
});

test('chain without :Type on a many-target reference searches every target defining the chained parameter', async () => {
  const store = new RecordingStore([[{ _id: 'Patient/1' }]]);
  await compiler(store).compile('Observation', [['subject.birthdate', '1970']], 'strict');
  assert.equal(store.finds[0]!.filter['type'], 'Patient');
  const both = new RecordingStore([[{ _id: 'Patient/1' }, { _id: 'Location/2' }]]);
  const { filter } = await compiler(both).compile('Observation', [['subject.name', 'x']], 'strict');
  const inner = both.finds[0]!.filter['$or'] as Array<Record<string, unknown>>;
  assert.deepEqual(inner.map((f) => f['type']).sort(), ['Location', 'Patient']);
  assert.deepEqual(filter['$and'], [{ 'idx.ref': { $elemMatch: { p: 'subject', r: { $in: ['Patient/1', 'Location/2'] } } } }]);
});

test('chain without :Type whose parameter has different types on the targets is rejected as ambiguous', async () => {
  const local = SearchRegistry.loadBase();
  local.add({ resourceType: 'SearchParameter', url: 'http://example.org/SearchParameter/group-name', name: 'GroupName', status: 'active', description: 'x', code: 'name', base: ['Group'], type: 'token', expression: 'Group.name' });
  const withConflict = new CriteriaCompiler({ store: new RecordingStore(), registry: local, baseUrl: BASE, clock: fixedClock });
  await assert.rejects(withConflict.compile('Observation', [['subject.name', 'x']], 'strict'), /ambiguous.*Group/);
});

test('chains beyond maxChainResults are refused as too costly', async () => {
  const store = new RecordingStore([[{ _id: 'Patient/1' }, { _id: 'Patient/2' }, { _id: 'Patient/3' }]]);
  await assert.rejects(compiler(store, 2).compile('Observation', [['patient.name', 'x']], 'strict'), (err: unknown) => {
    assert.ok(err instanceof FhirError);
    assert.equal(err.category, 'unprocessable');
    assert.equal(err.issues[0]!.code, 'too-costly');
    return true;
  });
});

test('_has: referring resources are resolved to the referenced keys of the searched type', async () => {
  const store = new RecordingStore([
    [
      { _id: 'Observation/o1', idx: { ref: [{ p: 'patient', r: 'Patient/1' }, { p: 'performer', r: 'Practitioner/9' }] } },
      { _id: 'Observation/o2', idx: { ref: [{ p: 'patient', r: 'Patient/2' }] } },
    ],
  ]);
  const { filter } = await compiler(store).compile('Patient', [['_has:Observation:patient:code', '8480-6']], 'strict');
  assert.deepEqual(store.finds[0]!.filter, { type: 'Observation', deleted: false, $and: [{ 'idx.tok': { $elemMatch: { p: 'code', c: '8480-6' } } }] });
  assert.deepEqual(filter['$and'], [{ _id: { $in: ['Patient/1', 'Patient/2'] } }]);
});

test('unknown inner parameters of a chain make the whole chained parameter unknown', async () => {
  const { filter, warnings } = await compiler().compile('Observation', [['subject:Patient.foo', 'x']], 'lenient');
  assert.deepEqual(filter, { type: 'Observation', deleted: false });
  assert.deepEqual(warnings[0]!.expression, ['subject:Patient.foo']);
});

test('supports() excludes special and expression-less parameters', () => {
  const c = compiler();
  assert.equal(c.supports('Patient', registry.get('Patient', 'family')!), true);
  assert.equal(c.supports('Patient', registry.get('Patient', '_id')!), true);
  assert.equal(c.supports('Location', registry.get('Location', 'near')!), false);
  assert.equal(c.supports('Patient', registry.get('Patient', '_content')!), false);
});
