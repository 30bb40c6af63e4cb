/**
 * Local profiles over HTTP: REQUIRED_PROFILES on writes (422 with every problem), meta.profile claims, profiles
 * created through the API taking effect without a restart, and $validate's profile parameter.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FHIR_JSON, startTestServer, type TestServer } from '../../fixtures/server';

const ROOT = path.resolve(__dirname, '../../..');
const REGIONAL = 'https://fhir.example.org/regional/StructureDefinition/regional-patient';
const example = (name: string) => JSON.parse(fs.readFileSync(path.join(ROOT, 'profiles', 'examples', name), 'utf8')) as Record<string, unknown>;
const withoutProfile = (r: Record<string, unknown>) => ({ ...r, meta: undefined });

describe('REQUIRED_PROFILES (every Patient must conform to the regional patient profile)', () => {
  let s: TestServer;
  before(async () => {
    s = await startTestServer({ env: { REQUIRED_PROFILES: `Patient=${REGIONAL}` } });
  });
  after(() => s.close());

  it('accepts a conforming Patient even when it does not claim the profile', async () => {
    const res = await s.http.put('/fhir/Patient/regional-ok').set('Content-Type', FHIR_JSON).send(withoutProfile(example('Patient-regional-ok.json')));
    assert.equal(res.status, 201);
  });

  it('refuses a non-conforming one with 422 and the full list of problems', async () => {
    const patient = { ...withoutProfile(example('Patient-regional-no-national-id.json')), managingOrganization: undefined };
    const res = await s.http.post('/fhir/Patient').set('Content-Type', FHIR_JSON).send(patient);
    assert.equal(res.status, 422);
    const problems = res.body.issue.filter((i: { severity: string }) => i.severity === 'error').map((i: { expression: string[] }) => i.expression[0]);
    assert.deepEqual(problems.sort(), ['Patient.identifier', 'Patient.managingOrganization']);
  });

  it('other types are not affected', async () => {
    const res = await s.http.post('/fhir/Organization').set('Content-Type', FHIR_JSON).send({ resourceType: 'Organization', name: 'Acme' });
    assert.equal(res.status, 201);
  });
});

describe('profiles through the API and $validate', () => {
  let s: TestServer;
  before(async () => {
    s = await startTestServer();
  });
  after(() => s.close());

  it('a claimed profile from profiles/ is enforced on write', async () => {
    assert.equal((await s.http.post('/fhir/Observation').set('Content-Type', FHIR_JSON).send(example('Observation-regional-ok.json'))).status, 201);
    assert.equal((await s.http.post('/fhir/Observation').set('Content-Type', FHIR_JSON).send(example('Observation-regional-code-outside.json'))).status, 422);
  });

  it('claiming an unknown profile is a warning: the resource is stored', async () => {
    const res = await s.http.post('/fhir/Organization').set('Content-Type', FHIR_JSON).send({ resourceType: 'Organization', name: 'A', meta: { profile: ['http://example.org/StructureDefinition/nobody'] } });
    assert.equal(res.status, 201);
  });

  it('a profile created through the API takes effect without a restart', async () => {
    const url = 'http://example.org/StructureDefinition/org-with-alias';
    const sd = {
      resourceType: 'StructureDefinition', url, name: 'OrgWithAlias', status: 'active', kind: 'resource', abstract: false, type: 'Organization',
      baseDefinition: 'http://hl7.org/fhir/StructureDefinition/Organization', derivation: 'constraint',
      differential: { element: [{ id: 'Organization', path: 'Organization' }, { id: 'Organization.alias', path: 'Organization.alias', min: 1 }] },
    };
    const org = { resourceType: 'Organization', name: 'A', meta: { profile: [url] } };
    assert.equal((await s.http.post('/fhir/Organization/$validate').set('Content-Type', FHIR_JSON).send(org)).body.issue[0].severity, 'warning');
    assert.equal((await s.http.put('/fhir/StructureDefinition/org-with-alias').set('Content-Type', FHIR_JSON).send({ ...sd, id: 'org-with-alias' })).status, 201);
    const res = await s.http.post('/fhir/Organization').set('Content-Type', FHIR_JSON).send(org);
    assert.equal(res.status, 422);
    assert.deepEqual(res.body.issue.filter((i: { severity: string }) => i.severity === 'error').map((i: { expression: string[] }) => i.expression[0]), ['Organization.alias']);
  });

  it('a profile that cannot be compiled is refused with 422, naming the element', async () => {
    const broken = {
      resourceType: 'StructureDefinition', url: 'http://example.org/StructureDefinition/broken', name: 'Broken', status: 'active', kind: 'resource', abstract: false,
      type: 'Organization', baseDefinition: 'http://hl7.org/fhir/StructureDefinition/Organization', derivation: 'constraint',
      differential: { element: [{ id: 'Organization', path: 'Organization' }, { id: 'Patient.name', path: 'Organization.name', min: 1 }] },
    };
    const res = await s.http.post('/fhir/StructureDefinition').set('Content-Type', FHIR_JSON).send(broken);
    assert.equal(res.status, 422);
    assert.ok(res.body.issue.some((i: { diagnostics: string }) => /'Patient\.name'.*does not belong to type Organization/.test(i.diagnostics)), JSON.stringify(res.body));
  });

  it('$validate with the profile parameter checks a resource that does not claim it', async () => {
    const patient = withoutProfile(example('Patient-regional-no-organization.json'));
    const res = await s.http.post(`/fhir/Patient/$validate?profile=${encodeURIComponent(REGIONAL)}`).set('Content-Type', FHIR_JSON).send(patient);
    assert.equal(res.status, 200);
    assert.deepEqual(res.body.issue.filter((i: { severity: string }) => i.severity === 'error').map((i: { expression: string[] }) => i.expression[0]), ['Patient.managingOrganization']);
  });
});

describe('UNKNOWN_EXTENSIONS over HTTP', () => {
  const unknown = { resourceType: 'Patient', extension: [{ url: 'http://example.org/StructureDefinition/not-loaded', valueString: 'x' }] };
  let strict: TestServer;
  let lenient: TestServer;
  before(async () => {
    strict = await startTestServer({ env: { UNKNOWN_EXTENSIONS: 'error' } });
    lenient = await startTestServer();
  });
  after(async () => {
    await strict.close();
    await lenient.close();
  });

  it('error: a write with an extension the server does not know is refused with 422, naming it', async () => {
    const res = await strict.http.post('/fhir/Patient').set('Content-Type', FHIR_JSON).send(unknown);
    assert.equal(res.status, 422);
    const errors = res.body.issue.filter((i: { severity: string }) => i.severity === 'error');
    assert.deepEqual(errors.map((i: { code: string; expression: string[] }) => `${i.code} ${i.expression[0]}`), ['extension Patient.extension[0]']);
    const core = { resourceType: 'Patient', extension: [{ url: 'http://hl7.org/fhir/StructureDefinition/patient-birthPlace', valueAddress: { city: 'Oslo' } }] };
    assert.equal((await strict.http.post('/fhir/Patient').set('Content-Type', FHIR_JSON).send(core)).status, 201, 'R4 core extensions are known');
  });

  it('warn (default): the write is accepted; $validate reports the warning', async () => {
    assert.equal((await lenient.http.post('/fhir/Patient').set('Content-Type', FHIR_JSON).send(unknown)).status, 201);
    const res = await lenient.http.post('/fhir/Patient/$validate').set('Content-Type', FHIR_JSON).send(unknown);
    assert.equal(res.status, 200);
    assert.ok(res.body.issue.some((i: { severity: string; code: string }) => i.severity === 'warning' && i.code === 'extension'), JSON.stringify(res.body));
  });
});
