/**
 * Named attacks on patient-scoped access (SMART App Launch scopes, https://hl7.org/fhir/smart-app-launch/):
 * each asserts that nothing of the other patient leaks AND that the legitimate form of the request works.
 * Alice's app holds a patient/ token for Patient/alice; Bob's data must stay invisible to it on every path.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SignJWT, generateKeyPair } from 'jose';
import supertest from 'supertest';
import type { Bundle } from 'fhir/r4';
import { generateLocalKey } from '../../../src/access/local-key';
import { FHIR_JSON, startTestServer, type TestServer } from '../../fixtures/server';

const LAB = { system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'laboratory' };
const SECRET = { system: 'http://example.org/codes', code: 'bob-secret' };
const OWN = { system: 'http://example.org/codes', code: 'alice-code' };
const PSY = { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'PSY' };

const observation = (id: string, patient: string, code: { system: string; code: string }, extra: Record<string, unknown> = {}) => ({
  resourceType: 'Observation',
  id,
  status: 'final',
  category: [{ coding: [LAB] }],
  code: { coding: [code] },
  subject: { reference: `Patient/${patient}` },
  performer: [{ reference: 'Practitioner/dr' }],
  ...extra,
});

const ids = (bundle: Bundle): string[] =>
  (bundle.entry ?? []).filter((e) => e.resource?.resourceType !== 'OperationOutcome').map((e) => `${e.resource?.resourceType}/${e.resource?.id}`).sort();

describe('security: named attacks on patient-scoped access', () => {
  let server: TestServer;
  let alice: ReturnType<TestServer['as']>;

  const put = async (resource: Record<string, unknown>): Promise<void> => {
    const res = await server.http.put(`/fhir/${resource.resourceType}/${resource.id}`).set('Content-Type', FHIR_JSON).send(resource);
    assert.ok(res.status === 201 || res.status === 200, JSON.stringify(res.body));
  };

  before(async () => {
    server = await startTestServer({ env: { CORS_ORIGINS: 'https://app.example.org' } });
    const aliceToken = await server.token({ scope: 'patient/*.cruds', patient: 'alice', client_id: 'alice-app' });
    alice = server.as(aliceToken);
    await put({ resourceType: 'Patient', id: 'alice', name: [{ family: 'Alison' }] });
    await put({ resourceType: 'Patient', id: 'bob', name: [{ family: 'Bobson' }] });
    await put({ resourceType: 'Practitioner', id: 'dr', name: [{ family: 'Doctor' }] });
    await put(observation('a1', 'alice', OWN));
    await put(observation('b1', 'bob', SECRET));
    // Alice's observation derived from Bob's: a chain through it must not reveal what Bob's says.
    await put(observation('a-link', 'alice', OWN, { derivedFrom: [{ reference: 'Observation/b1' }] }));
    // A resource whose subject changed: version 1 was about Bob, version 2 is about Alice.
    await put(observation('moved', 'bob', SECRET));
    await put(observation('moved', 'alice', OWN));
    await put(observation('a-psy', 'alice', OWN, { meta: { security: [PSY] } }));
  });
  after(() => server.close());

  it('cross-patient read by id: 404 (never 403), own read 200', async () => {
    assert.equal((await alice.get('/fhir/Observation/b1')).status, 404);
    assert.equal((await alice.get('/fhir/Patient/bob')).status, 404);
    assert.equal((await alice.get('/fhir/Observation/b1/_history/1')).status, 404);
    assert.equal((await alice.get('/fhir/Observation/a1')).status, 200);
    assert.equal((await alice.get('/fhir/Patient/alice')).status, 200);
  });

  it('cross-patient search: only own resources and shared non-patient data', async () => {
    const res = await alice.get('/fhir/Observation');
    assert.equal(res.status, 200);
    assert.deepEqual(ids(res.body), ['Observation/a-link', 'Observation/a-psy', 'Observation/a1', 'Observation/moved']);
    assert.deepEqual(ids((await alice.get('/fhir/Patient')).body), ['Patient/alice']);
    assert.deepEqual(ids((await alice.get('/fhir/Practitioner')).body), ['Practitioner/dr']);
    assert.deepEqual(ids((await alice.get('/fhir/Patient/bob/Observation')).body), []);
    assert.deepEqual(ids((await alice.get(`/fhir/Observation?code=${SECRET.code}`)).body), []);
  });

  it('_include, _revinclude and :iterate bring in nothing of another patient', async () => {
    const included = await alice.get('/fhir/Observation?_include=Observation:subject&_include=Observation:derived-from');
    assert.ok(!ids(included.body).includes('Patient/bob') && !ids(included.body).includes('Observation/b1'), JSON.stringify(ids(included.body)));
    assert.ok(ids(included.body).includes('Patient/alice'));
    const rev = await alice.get('/fhir/Practitioner?_revinclude=Observation:performer&_include:iterate=Observation:subject');
    assert.deepEqual(ids(rev.body), ['Observation/a-link', 'Observation/a-psy', 'Observation/a1', 'Observation/moved', 'Patient/alice', 'Practitioner/dr']);
  });

  it('chain oracle: a chain into another patient\'s resource matches nothing; a chain within one\'s own works', async () => {
    assert.deepEqual(ids((await alice.get(`/fhir/Observation?derived-from:Observation.code=${SECRET.code}`)).body), []);
    assert.deepEqual(ids((await alice.get('/fhir/Observation?subject:Patient.name=Bobson')).body), []);
    assert.deepEqual(ids((await alice.get('/fhir/Observation?subject:Patient.name=Alison&code=alice-code&_id=a1')).body), ['Observation/a1']);
  });

  it('_has oracle: reverse chains see only what the token may see', async () => {
    assert.deepEqual(ids((await alice.get(`/fhir/Practitioner?_has:Observation:performer:code=${SECRET.code}`)).body), []);
    assert.deepEqual(ids((await alice.get(`/fhir/Practitioner?_has:Observation:performer:code=${OWN.code}`)).body), ['Practitioner/dr']);
  });

  it('_summary=count and _total oracles count only visible resources', async () => {
    assert.equal((await alice.get(`/fhir/Observation?code=${SECRET.code}&_summary=count`)).body.total, 0);
    assert.equal((await alice.get('/fhir/Observation?_total=accurate&_count=1')).body.total, 4);
    assert.equal((await server.http.get('/fhir/Observation?_total=accurate&_count=1')).body.total, 5);
  });

  it('history of a resource whose subject changed shows only the versions about the caller', async () => {
    const instance = await alice.get('/fhir/Observation/moved/_history');
    assert.equal(instance.status, 200);
    assert.deepEqual(instance.body.entry.map((e: { resource: { meta: { versionId: string } } }) => e.resource.meta.versionId), ['2']);
    assert.equal((await alice.get('/fhir/Observation/moved/_history/1')).status, 404);
    assert.equal((await alice.get('/fhir/Observation/moved/_history/2')).status, 200);
    const type = await alice.get('/fhir/Observation/_history');
    const subjects = type.body.entry.map((e: { resource: { subject: { reference: string } } }) => e.resource.subject.reference);
    assert.ok(subjects.length >= 4 && subjects.every((s: string) => s === 'Patient/alice'), JSON.stringify(subjects));
    const system = await alice.get('/fhir/_history?_count=2');
    assert.ok(system.body.entry.length > 0);
    assert.ok(!JSON.stringify(system.body).includes('bob'), 'system history leaked Bob');
  });

  it('conditional operations: criteria match only what the caller may see', async () => {
    const del = await alice.delete(`/fhir/Observation?code=${SECRET.code}`);
    assert.equal(del.status, 204);
    assert.equal((await server.http.get('/fhir/Observation/b1')).status, 200, "Bob's observation must survive Alice's conditional delete");
    const created = await alice.post('/fhir/Observation').set('Content-Type', FHIR_JSON).set('If-None-Exist', `code=${SECRET.code}`).send(observation('x', 'alice', SECRET));
    assert.equal(created.status, 201, 'If-None-Exist must not match (and so return) Bob\'s observation');
    assert.equal(created.body.subject.reference, 'Patient/alice');
    const patched = await alice.patch(`/fhir/Observation?code=${SECRET.code}&subject=Patient/bob`).set('Content-Type', 'application/json-patch+json').send([{ op: 'replace', path: '/status', value: 'amended' }]);
    assert.equal(patched.status, 404);
    const own = await alice.put(`/fhir/Observation?_id=a1`).set('Content-Type', FHIR_JSON).send(observation('a1', 'alice', OWN, { status: 'amended' }));
    assert.equal(own.status, 200);
  });

  it('transaction Bundles: conditional references and ifNoneExist match only what the caller may see', async () => {
    const bobOnly = `code=${SECRET.code}&subject=Patient/bob`;
    const transaction = (entry: Array<Record<string, unknown>>) => alice.post('/fhir').set('Content-Type', FHIR_JSON).send({ resourceType: 'Bundle', type: 'transaction', entry });
    const derived = (reference: string) => ({ resource: { ...observation('ignored', 'alice', OWN), id: undefined, derivedFrom: [{ reference }] }, request: { method: 'POST', url: 'Observation' } });
    // A system-level client resolves the same reference first (a Bob resource): what it may see is not shared.
    const primed = await server.http.post('/fhir').set('Content-Type', FHIR_JSON).send({
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [{ resource: { resourceType: 'DiagnosticReport', status: 'final', code: { coding: [SECRET] }, subject: { reference: 'Patient/bob' }, result: [{ reference: `Observation?${bobOnly}` }] }, request: { method: 'POST', url: 'DiagnosticReport' } }],
    });
    assert.equal(primed.status, 200, JSON.stringify(primed.body));
    const hidden = await transaction([derived(`Observation?${bobOnly}`)]);
    assert.equal(hidden.status, 422, "a reference matching only Bob's observation must match nothing (rewriting it would name Observation/b1)");
    assert.ok(!JSON.stringify(hidden.body).includes('b1'), JSON.stringify(hidden.body));
    const guarded = await transaction([{ resource: { ...observation('ignored', 'alice', OWN), id: undefined }, request: { method: 'POST', url: 'Observation', ifNoneExist: bobOnly } }]);
    assert.equal(guarded.status, 200, JSON.stringify(guarded.body));
    assert.equal(guarded.body.entry[0].response.status.split(' ')[0], '201', "ifNoneExist must not match (or collide with) Bob's observation");
    assert.ok(!String(guarded.body.entry[0].response.location).includes('/b1/'), guarded.body.entry[0].response.location);
    assert.equal((await server.http.get('/fhir/Observation/b1')).body.meta.versionId, '1');
    // The legitimate form: a reference to her own resource resolves.
    const own = await transaction([derived(`Observation?_id=a1`)]);
    assert.equal(own.status, 200, JSON.stringify(own.body));
    assert.equal(own.body.entry[0].response.status.split(' ')[0], '201');
  });

  it('writing into another patient\'s compartment, moving a resource out, removing labels: 403; own writes work', async () => {
    assert.equal((await alice.post('/fhir/Observation').set('Content-Type', FHIR_JSON).send(observation('n', 'bob', OWN))).status, 403);
    assert.equal((await alice.put('/fhir/Observation/a1').set('Content-Type', FHIR_JSON).send(observation('a1', 'bob', OWN))).status, 403);
    assert.equal((await alice.put('/fhir/Observation/b1').set('Content-Type', FHIR_JSON).send(observation('b1', 'alice', OWN))).status, 405);
    assert.equal((await alice.delete('/fhir/Observation/b1')).status, 404);
    assert.equal((await server.http.get('/fhir/Observation/b1')).status, 200);
    assert.equal((await alice.put('/fhir/Observation/a-psy').set('Content-Type', FHIR_JSON).send(observation('a-psy', 'alice', OWN))).status, 403);
    assert.equal((await alice.post('/fhir/Observation').set('Content-Type', FHIR_JSON).send(observation('n', 'alice', OWN))).status, 201);
  });

  it("update of another patient's resource by id answers as for an id that does not exist (405), and overwrites nothing", async () => {
    const takeover = observation('b1', 'alice', OWN);
    const hidden = await alice.put('/fhir/Observation/b1').set('Content-Type', FHIR_JSON).send(takeover);
    const unknown = await alice.put('/fhir/Observation/never-was').set('Content-Type', FHIR_JSON).send(observation('never-was', 'alice', OWN));
    assert.equal(hidden.status, 405);
    assert.equal(unknown.status, 405, 'a patient/ token may not choose ids: an unknown id answers the same');
    assert.equal(hidden.body.issue[0].diagnostics.replace('b1', 'ID'), unknown.body.issue[0].diagnostics.replace('never-was', 'ID'));
    const guarded = await alice.put('/fhir/Observation/b1').set('Content-Type', FHIR_JSON).set('If-Match', 'W/"1"').send(takeover);
    assert.equal(guarded.status, 405, 'If-Match must not be judged against an invisible version (412 would tell it exists)');
    const conditional = await alice.put('/fhir/Observation?code=nothing-matches').set('Content-Type', FHIR_JSON).send(takeover);
    assert.equal(conditional.status, 405, 'a conditional update without a match may not take the id in its body');
    const onlyBobs = await alice.put(`/fhir/Observation?code=${SECRET.code}&subject=Patient/bob`).set('Content-Type', FHIR_JSON).send({ ...takeover, id: undefined });
    assert.equal(onlyBobs.status, 201, "criteria that match only Bob's observation match nothing for Alice: a new resource of hers");
    assert.notEqual(onlyBobs.body.id, 'b1');
    const bob = await server.http.get('/fhir/Observation/b1');
    assert.equal(bob.body.subject.reference, 'Patient/bob');
    assert.equal(bob.body.meta.versionId, '1');
    assert.equal((await server.http.get('/fhir/Observation/never-was')).status, 404);
    // The legitimate forms: updating her own resource by id, and creating with a server-assigned id.
    assert.equal((await alice.put('/fhir/Observation/a1').set('Content-Type', FHIR_JSON).send(observation('a1', 'alice', OWN))).status, 200);
    assert.equal((await alice.put('/fhir/Observation?code=nothing-matches').set('Content-Type', FHIR_JSON).send({ ...takeover, id: undefined })).status, 201);
  });

  it("a patient's Consent is written only by that patient or a consent administrator", async () => {
    const consent = (patient: string) => ({
      resourceType: 'Consent',
      status: 'active',
      scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'patient-privacy' }] },
      category: [{ text: 'privacy' }],
      patient: { reference: `Patient/${patient}` },
      policyRule: { text: 'opt-in' },
      provision: { type: 'permit' },
    });
    assert.equal((await alice.post('/fhir/Consent').set('Content-Type', FHIR_JSON).send(consent('alice'))).status, 201);
    assert.equal((await alice.post('/fhir/Consent').set('Content-Type', FHIR_JSON).send(consent('bob'))).status, 403);
    const clinician = server.as(await server.token({ scope: 'user/*.cruds', fhirUser: 'Practitioner/dr' }));
    assert.equal((await clinician.post('/fhir/Consent').set('Content-Type', FHIR_JSON).send(consent('bob'))).status, 403);
    const admin = server.as(await server.token({ scope: 'user/Consent.cruds consent-admin', fhirUser: 'Practitioner/dr' }));
    const written = await admin.post('/fhir/Consent').set('Content-Type', FHIR_JSON).send(consent('bob'));
    assert.equal(written.status, 201, JSON.stringify(written.body));
  });

  it('no token: 401 with a Bearer challenge; metadata and smart-configuration stay public', async () => {
    const res = await supertest(server.app).get('/fhir/Patient/alice');
    assert.equal(res.status, 401);
    assert.equal(res.headers['www-authenticate'], 'Bearer realm="fhir"');
    assert.equal(res.body.resourceType, 'OperationOutcome');
    assert.equal((await supertest(server.app).get('/fhir/metadata')).status, 200);
    const smart = await supertest(server.app).get('/fhir/.well-known/smart-configuration');
    assert.equal(smart.status, 200);
    assert.ok(smart.body.capabilities.includes('permission-v2'));
    const security = (await supertest(server.app).get('/fhir/metadata')).body.rest[0].security;
    assert.equal(security.service[0].coding[0].code, 'SMART-on-FHIR');
    assert.equal(security.cors, true);
  });

  const rejected = async (token: string, message: RegExp): Promise<void> => {
    const res = await server.as(token).get('/fhir/Patient/alice');
    assert.equal(res.status, 401, JSON.stringify(res.body));
    assert.match(res.headers['www-authenticate'] ?? '', /^Bearer realm="fhir", error="invalid_token"/);
    assert.match(res.body.issue[0].diagnostics, message);
  };

  it('alg none and wrong-key tokens: 401 invalid_token', async () => {
    const header = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
    const claims = { scope: 'system/*.cruds', iss: server.config.auth.issuer, aud: server.config.auth.audience, exp: Math.floor(Date.now() / 1000) + 60 };
    await rejected(`${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.`, /signed with one of|malformed|cannot be verified/);
    await rejected(await server.token({ scope: 'system/*.cruds' }, { key: await generateLocalKey() }), /signature does not verify/);
    const hmac = await new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode('x'.repeat(32)));
    await rejected(hmac, /signed with one of/);
    const { privateKey } = await generateKeyPair('RS256');
    await rejected(await new SignJWT(claims).setProtectedHeader({ alg: 'RS256' }).sign(privateKey), /signature does not verify/);
  });

  it('expired tokens, wrong audience and wrong issuer: 401', async () => {
    await rejected(await server.token({ scope: 'system/*.cruds' }, { expiresInSeconds: -120 }), /expired/);
    await rejected(await server.token({ scope: 'system/*.cruds' }, { audience: 'https://other.example.org/fhir' }), /audience/);
    await rejected(await server.token({ scope: 'system/*.cruds' }, { issuer: 'https://evil.example.org' }), /issuer/);
  });

  it('missing-claim tokens are refused, never read as unrestricted', async () => {
    await rejected(await server.token({ scope: 'patient/*.rs' }), /no patient claim/);
    await rejected(await server.token({ scope: 'user/*.rs' }), /no fhirUser claim/);
  });

  it('scope letters out of order grant nothing (403), before any data is read', async () => {
    const outOfOrder = server.as(await server.token({ scope: 'patient/*.sr', patient: 'alice' }));
    assert.equal((await outOfOrder.get('/fhir/Patient/alice')).status, 403);
    const readOnly = server.as(await server.token({ scope: 'patient/Observation.rs', patient: 'alice' }));
    assert.equal((await readOnly.get('/fhir/Patient/alice')).status, 403);
    assert.equal((await readOnly.get('/fhir/Observation/does-not-exist')).status, 404);
    const noSearch = server.as(await server.token({ scope: 'patient/Observation.r', patient: 'alice' }));
    assert.equal((await noSearch.get('/fhir/Observation')).status, 403);
    assert.equal((await noSearch.get('/fhir/Observation/a1')).status, 200);
    const writeOnly = server.as(await server.token({ scope: 'patient/Observation.c', patient: 'alice' }));
    assert.equal((await writeOnly.get('/fhir/Observation/a1')).status, 403, 'write never implies read');
    assert.equal((await writeOnly.delete('/fhir/Observation?code=x')).status, 403, 'conditional delete needs d and s');
  });

  it('$reindex needs a system/ scope', async () => {
    assert.equal((await alice.post('/fhir/$reindex')).status, 403);
    const user = server.as(await server.token({ scope: 'user/*.cruds', fhirUser: 'Practitioner/dr' }));
    assert.equal((await user.post('/fhir/Observation/$reindex')).status, 403);
    assert.equal((await server.http.post('/fhir/Observation/$reindex')).status, 200);
  });

  it('CORS: a browser app from an allowed origin gets its preflight answered with Authorization allowed', async () => {
    const preflight = await supertest(server.app)
      .options('/fhir/Patient/alice')
      .set('Origin', 'https://app.example.org')
      .set('Access-Control-Request-Method', 'GET')
      .set('Access-Control-Request-Headers', 'authorization');
    assert.equal(preflight.status, 204);
    assert.equal(preflight.headers['access-control-allow-origin'], 'https://app.example.org');
    assert.match(preflight.headers['access-control-allow-headers'], /Authorization/);
    const other = await supertest(server.app).options('/fhir/Patient/alice').set('Origin', 'https://evil.example.org').set('Access-Control-Request-Method', 'GET');
    assert.equal(other.headers['access-control-allow-origin'], undefined);
    const read = await alice.get('/fhir/Patient/alice').set('Origin', 'https://app.example.org');
    assert.equal(read.headers['access-control-allow-origin'], 'https://app.example.org');
  });

  it('batch and transaction entries: each entry is judged with the bundle\'s token', async () => {
    const batch = {
      resourceType: 'Bundle',
      type: 'batch',
      entry: [
        { request: { method: 'GET', url: 'Observation/b1' } },
        { request: { method: 'GET', url: 'Observation?subject=Patient/bob' } },
        { request: { method: 'GET', url: 'Observation/a1' } },
        { request: { method: 'DELETE', url: 'Observation/b1' } },
        { request: { method: 'POST', url: 'Observation' }, resource: observation('x', 'bob', OWN) },
      ],
    };
    const res = await alice.post('/fhir').set('Content-Type', FHIR_JSON).send(batch);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const [read, search, own, del, write] = res.body.entry;
    assert.match(read.response.status, /^404/);
    assert.equal(search.resource.total ?? (search.resource.entry ?? []).length, 0);
    assert.match(own.response.status, /^200/);
    assert.match(del.response.status, /^404/);
    assert.match(write.response.status, /^403/);
    assert.ok(!JSON.stringify(res.body).includes('bob-secret'), 'nothing of Bob in the batch response');
    assert.equal((await server.http.get('/fhir/Observation/b1')).status, 200);
    const transaction = { resourceType: 'Bundle', type: 'transaction', entry: [{ request: { method: 'PUT', url: 'Observation/b1' }, resource: observation('b1', 'alice', OWN) }] };
    const tx = await alice.post('/fhir').set('Content-Type', FHIR_JSON).send(transaction);
    assert.equal(tx.status, 405, 'a transaction with a refused entry fails as a whole (the PUT of an id Alice cannot see answers as for an unknown id)');
    assert.equal((await server.http.get('/fhir/Observation/b1')).body.subject.reference, 'Patient/bob');
    const legit = { resourceType: 'Bundle', type: 'transaction', entry: [{ request: { method: 'POST', url: 'Observation' }, resource: observation('t', 'alice', OWN) }] };
    assert.equal((await alice.post('/fhir').set('Content-Type', FHIR_JSON).send(legit)).status, 200);
  });

  it("$everything: another patient's is 404; one's own holds nothing of another patient", async () => {
    assert.equal((await alice.get('/fhir/Patient/bob/$everything')).status, 404);
    const own = await alice.get('/fhir/Patient/alice/$everything');
    assert.equal(own.status, 200, JSON.stringify(own.body));
    const found = ids(own.body);
    assert.ok(found.includes('Observation/a1') && found.includes('Practitioner/dr'), JSON.stringify(found));
    assert.ok(!found.includes('Observation/b1') && !found.includes('Patient/bob'));
  });

  it('$export: a patient/ token exports only its own compartment; another token cannot poll or download the job', async () => {
    const kick = await alice.get('/fhir/Patient/$export').set('Prefer', 'respond-async');
    assert.equal(kick.status, 202, JSON.stringify(kick.body));
    const statusPath = new URL(kick.headers['content-location']).pathname;
    let status = await alice.get(statusPath);
    for (let i = 0; status.status === 202 && i < 500; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      status = await alice.get(statusPath);
    }
    assert.equal(status.status, 200, status.text);
    const manifest = JSON.parse(status.text) as { requiresAccessToken: boolean; output: Array<{ type: string; url: string }> };
    assert.equal(manifest.requiresAccessToken, true);
    let exported = '';
    for (const file of manifest.output) {
      const res = await alice.get(new URL(file.url).pathname).buffer(true).parse((r, done) => {
        let text = '';
        r.on('data', (c: Buffer) => (text += c.toString()));
        r.on('end', () => done(null, text));
      });
      assert.equal(res.status, 200);
      exported += String(res.body);
    }
    assert.ok(exported.includes('"a1"'), 'own data exported');
    assert.ok(!exported.includes('Patient/bob') && !exported.includes('"b1"'), 'nothing of Bob exported');
    const other = server.as(await server.token({ scope: 'patient/*.rs', patient: 'bob', client_id: 'bob-app' }));
    assert.equal((await other.get(statusPath)).status, 404, "another requester cannot see the job");
    assert.equal((await other.get(new URL(manifest.output[0]?.url ?? 'http://x/none').pathname)).status, 404);
  });
});
