/**
 * The CapabilityStatement is self-consistent (https://hl7.org/fhir/R4/capabilitystatement.html): it passes the
 * server's own R4 validation, every OperationDefinition it names is served, and every claim it makes for a
 * resource type (interactions, conditional support, search parameters, includes, formats, patch formats,
 * operations) is exercised here against the running server. A claim without an exercise fails the test.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { CapabilityStatement, CapabilityStatementRestResource, CapabilityStatementRestResourceSearchParam } from 'fhir/r4';
import { BASE_URL, FHIR_JSON, patient, startTestServer, type TestServer } from '../../fixtures/server';

type Rest = NonNullable<CapabilityStatement['rest']>[number];
type Searched = { status: number; body: { resourceType: string; entry?: Array<{ search?: { mode?: string }; resource?: { issue?: unknown } }> } };

/** A value of the parameter's type that the parser accepts (https://hl7.org/fhir/R4/search.html#ptypes). */
function sampleValue(type: string): string {
  switch (type) {
    case 'number':
      return '1';
    case 'date':
      return 'ge2020-01-01';
    case 'quantity':
      return '5.4|http://unitsofmeasure.org|mg';
    case 'uri':
      return 'http://example.org/x';
    case 'reference':
      return 'x';
    case 'token':
      return 'http://example.org|x';
    default:
      return 'x';
  }
}

/** Composite and special parameters need values of their own shape: exercised in a test of their own. */
function searchValue(param: CapabilityStatementRestResourceSearchParam): string | undefined {
  if (param.type === 'composite' || param.type === 'special') return undefined;
  return sampleValue(param.type as string);
}

describe('CapabilityStatement claims', () => {
  let s: TestServer;
  let statement: CapabilityStatement;
  let rest: Rest;
  const resourceOf = (type: string): CapabilityStatementRestResource => rest.resource!.find((r) => r.type === type)!;
  const json = (req: ReturnType<TestServer['http']['post']>) => req.set('Content-Type', FHIR_JSON);
  const noWarnings = (res: Searched, what: string): void => {
    assert.equal(res.status, 200, `${what}: ${JSON.stringify(res.body).slice(0, 300)}`);
    assert.equal(res.body.resourceType, 'Bundle', what);
    const outcome = res.body.entry?.find((e) => e.search?.mode === 'outcome');
    assert.equal(outcome, undefined, `${what}: ${JSON.stringify(outcome?.resource)}`);
  };

  before(async () => {
    s = await startTestServer();
    statement = (await s.http.get('/fhir/metadata')).body as CapabilityStatement;
    rest = statement.rest![0]!;
  });
  after(() => s.close());

  it('validates against R4 with the server own validator: it can be stored as a CapabilityStatement', async () => {
    const { id: _id, meta: _meta, ...body } = statement as CapabilityStatement & { id?: string };
    const res = await json(s.http.post('/fhir/CapabilityStatement')).send(body);
    assert.equal(res.status, 201, JSON.stringify(res.body.issue?.slice(0, 3)));
  });

  it('every OperationDefinition it names is served at /fhir/OperationDefinition/{id} and is valid R4', async () => {
    const named = new Set<string>();
    for (const op of [...(rest.operation ?? []), ...rest.resource!.flatMap((r) => r.operation ?? [])]) named.add(op.definition);
    assert.ok(named.size > 0);
    for (const url of named) {
      // Operations HL7 defines ($validate, $everything, Bulk Data $export) are named by their published canonical URL.
      if (/^http:\/\/hl7\.org\/fhir\/(uv\/bulkdata\/)?OperationDefinition\//.test(url)) continue;
      assert.ok(url.startsWith(`${BASE_URL}/OperationDefinition/`), url);
      const res = await s.http.get(url.slice(BASE_URL.length - '/fhir'.length));
      assert.equal(res.status, 200, url);
      assert.equal(res.body.resourceType, 'OperationDefinition');
      assert.equal(res.body.url, url);
      const { id: _id, ...copy } = res.body;
      assert.equal((await json(s.http.post('/fhir/OperationDefinition')).send(copy)).status, 201, `${url} is valid R4`);
    }
  });

  it('every interaction, conditional and versioning claim for Patient works as claimed', async () => {
    const claims = resourceOf('Patient');
    const exercised = new Set<string>();
    const created = await json(s.http.post('/fhir/Patient')).send(patient());
    const id = created.body.id as string;
    const exercises: Record<string, () => Promise<void>> = {
      create: async () => assert.equal(created.status, 201),
      read: async () => assert.equal((await s.http.get(`/fhir/Patient/${id}`)).status, 200),
      vread: async () => assert.equal((await s.http.get(`/fhir/Patient/${id}/_history/1`)).status, 200),
      update: async () => assert.equal((await json(s.http.put(`/fhir/Patient/${id}`)).send(patient({ id, gender: 'female' }))).status, 200),
      patch: async () => {
        const res = await s.http.patch(`/fhir/Patient/${id}`).set('Content-Type', claimsPatchFormat()).send([{ op: 'replace', path: '/gender', value: 'other' }]);
        assert.equal(res.status, 200);
      },
      'history-instance': async () => assert.equal((await s.http.get(`/fhir/Patient/${id}/_history`)).body.type, 'history'),
      'history-type': async () => assert.equal((await s.http.get('/fhir/Patient/_history')).body.type, 'history'),
      'search-type': async () => assert.equal((await s.http.get(`/fhir/Patient?_id=${id}`)).body.total, 1),
      delete: async () => {
        const doomed = await json(s.http.post('/fhir/Patient')).send(patient());
        assert.equal((await s.http.delete(`/fhir/Patient/${doomed.body.id}`)).status < 300, true);
        assert.equal((await s.http.get(`/fhir/Patient/${doomed.body.id}`)).status, 410);
      },
    };
    const claimsPatchFormat = () => statement.patchFormat![0]!;
    for (const { code } of claims.interaction ?? []) {
      assert.ok(exercises[code], `no exercise for the claimed interaction ${code}`);
      await exercises[code]!();
      exercised.add(code);
    }
    assert.deepEqual([...exercised].sort(), Object.keys(exercises).sort(), 'every exercised interaction is claimed');

    assert.equal(claims.versioning, 'versioned-update');
    const stale = await json(s.http.put(`/fhir/Patient/${id}`)).set('If-Match', 'W/"1"').send(patient({ id }));
    assert.equal(stale.status, 412, 'versioned-update: If-Match with an old version is refused');
    assert.equal(claims.readHistory, true);
    assert.equal((await s.http.get(`/fhir/Patient/${id}/_history/1`)).body.gender, 'male', 'readHistory: old versions read back');
    assert.equal(claims.updateCreate, true);
    assert.equal((await json(s.http.put('/fhir/Patient/made-by-put')).send(patient({ id: 'made-by-put' }))).status, 201);
    assert.equal(claims.conditionalCreate, true);
    const cc = () => json(s.http.post('/fhir/Patient')).set('If-None-Exist', 'identifier=http://example.org/cc|1').send(patient({ identifier: [{ system: 'http://example.org/cc', value: '1' }] }));
    assert.equal((await cc()).status, 201);
    assert.equal((await cc()).status, 200);
    assert.equal(claims.conditionalRead, 'full-support');
    const current = await s.http.get(`/fhir/Patient/${id}`);
    assert.equal((await s.http.get(`/fhir/Patient/${id}`).set('If-None-Match', current.headers.etag)).status, 304);
    assert.equal((await s.http.get(`/fhir/Patient/${id}`).set('If-Modified-Since', current.headers['last-modified'])).status, 304);
    assert.equal(claims.conditionalUpdate, true);
    const cu = await json(s.http.put('/fhir/Patient?identifier=http://example.org/cu|1')).send(patient({ identifier: [{ system: 'http://example.org/cu', value: '1' }] }));
    assert.equal(cu.status, 201);
    assert.equal(claims.conditionalDelete, 'single');
    assert.equal((await s.http.delete('/fhir/Patient?identifier=http://example.org/cu|1')).status < 300, true);
    assert.equal((await s.http.get('/fhir/Patient?identifier=http://example.org/cu|1')).body.total, 0);
    assert.ok(claims.referencePolicy?.includes('literal'));
  });

  it('the system interactions work as claimed', async () => {
    const exercises: Record<string, () => Promise<void>> = {
      'history-system': async () => assert.equal((await s.http.get('/fhir/_history')).body.type, 'history'),
      'search-system': async () => assert.equal((await s.http.get('/fhir?_type=Patient')).body.type, 'searchset'),
      transaction: async () => {
        const bundle = { resourceType: 'Bundle', type: 'transaction', entry: [{ fullUrl: 'urn:uuid:4f0c2b3e-0000-4000-8000-000000000001', resource: patient(), request: { method: 'POST', url: 'Patient' } }] };
        const res = await json(s.http.post('/fhir')).send(bundle);
        assert.equal(res.body.type, 'transaction-response');
        assert.match(res.body.entry[0].response.status, /^201/);
      },
      batch: async () => {
        const bundle = { resourceType: 'Bundle', type: 'batch', entry: [{ request: { method: 'GET', url: 'Patient?_count=1' } }] };
        const res = await json(s.http.post('/fhir')).send(bundle);
        assert.equal(res.body.type, 'batch-response');
        assert.match(res.body.entry[0].response.status, /^200/);
      },
    };
    for (const { code } of rest.interaction ?? []) {
      assert.ok(exercises[code], `no exercise for the claimed system interaction ${code}`);
      await exercises[code]!();
    }
  });

  it('every search parameter claimed for Patient, Observation and Encounter is accepted without a warning', async () => {
    for (const type of ['Patient', 'Observation', 'Encounter']) {
      const params = resourceOf(type).searchParam ?? [];
      assert.ok(params.length > 10, type);
      for (const param of params) {
        const value = searchValue(param);
        if (value === undefined) continue;
        const res = (await s.http.get(`/fhir/${type}?${encodeURIComponent(param.name)}=${encodeURIComponent(value)}`)) as Searched;
        noWarnings(res, `${type}?${param.name}=${value}`);
      }
    }
  });

  it('the composite and special parameters claimed for Observation and Location are accepted', async () => {
    noWarnings((await s.http.get('/fhir/Observation?code-value-quantity=http://loinc.org|8480-6$gt100')) as Searched, 'code-value-quantity');
    noWarnings((await s.http.get('/fhir/Observation?component-code-value-quantity=http://loinc.org|8480-6$lt60')) as Searched, 'component-code-value-quantity');
    const location = resourceOf('Location').searchParam ?? [];
    if (location.some((p) => p.name === 'near')) noWarnings((await s.http.get('/fhir/Location?near=42.25|-83.69|10|km')) as Searched, 'near');
  });

  it('every _include and _revinclude claimed for Patient is accepted without a warning', async () => {
    const claims = resourceOf('Patient');
    for (const include of claims.searchInclude ?? []) noWarnings((await s.http.get(`/fhir/Patient?_include=${encodeURIComponent(include)}`)) as Searched, `_include=${include}`);
    for (const include of claims.searchRevInclude ?? []) noWarnings((await s.http.get(`/fhir/Patient?_revinclude=${encodeURIComponent(include)}`)) as Searched, `_revinclude=${include}`);
  });

  it('every claimed format is served and every claimed patch format is accepted', async () => {
    for (const format of statement.format) {
      const res = await s.http.get(`/fhir/metadata?_format=${encodeURIComponent(format)}`);
      assert.equal(res.status, 200, format);
      assert.match(res.headers['content-type'], /json/);
    }
    const created = await json(s.http.post('/fhir/Patient')).send(patient());
    for (const format of statement.patchFormat ?? []) {
      const res = await s.http.patch(`/fhir/Patient/${created.body.id}`).set('Content-Type', format).send([{ op: 'add', path: '/active', value: true }]);
      assert.equal(res.status, 200, format);
    }
  });

  it('every claimed operation runs at system and type level', async () => {
    const created = await json(s.http.post('/fhir/Patient')).send(patient());
    const system: Record<string, () => Promise<number>> = {
      reindex: async () => (await s.http.post('/fhir/$reindex')).status,
      export: async () => (await s.http.get('/fhir/$export').set('Prefer', 'respond-async')).status,
    };
    const patientLevel: Record<string, () => Promise<number>> = {
      reindex: async () => (await s.http.post('/fhir/Patient/$reindex')).status,
      export: async () => (await s.http.get('/fhir/Patient/$export').set('Prefer', 'respond-async')).status,
      everything: async () => (await s.http.get(`/fhir/Patient/${created.body.id}/$everything`)).status,
      validate: async () => (await json(s.http.post('/fhir/Patient/$validate')).send(patient())).status,
    };
    const expected: Record<string, number> = { export: 202 };
    for (const op of rest.operation ?? []) {
      assert.ok(system[op.name], `no exercise for the claimed system operation ${op.name}`);
      assert.equal(await system[op.name]!(), expected[op.name] ?? 200, op.name);
    }
    for (const op of resourceOf('Patient').operation ?? []) {
      assert.ok(patientLevel[op.name], `no exercise for the claimed Patient operation ${op.name}`);
      assert.equal(await patientLevel[op.name]!(), expected[op.name] ?? 200, op.name);
    }
  });
});
