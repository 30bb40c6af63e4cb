/**
 * What access control tells the audit trail (`FhirRequest.access`, src/access/request-access.ts), and the
 * operator's explicit AUTH_MODE=off.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import supertest from 'supertest';
import type { RequestAccess } from '../../../src/access/request-access';
import { accessTokenFromClaims } from '../../../src/access/tokens';
import type { FhirRequest } from '../../../src/fhir/types';
import type { LogRecord } from '../../../src/http/logger';
import { FHIR_JSON, startTestServer, type TestServer } from '../../fixtures/server';

const consent = {
  resourceType: 'Consent',
  id: 'c-bob',
  status: 'active',
  scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'patient-privacy' }] },
  category: [{ text: 'privacy' }],
  patient: { reference: 'Patient/bob' },
  policyRule: { text: 'opt-out' },
  provision: { type: 'deny' },
};

describe('RequestAccess: what decided, for the audit trail', () => {
  let server: TestServer;
  const request = (path: string[], access: RequestAccess, query: Array<[string, string]> = []): FhirRequest => ({ method: 'GET', path, query, prefer: {}, access });
  const accessOf = (claims: Record<string, unknown>): RequestAccess => ({ token: accessTokenFromClaims(claims), clientAddress: '127.0.0.1', decidedBy: new Set() });

  before(async () => {
    server = await startTestServer();
    for (const r of [{ resourceType: 'Patient', id: 'alice' }, { resourceType: 'Patient', id: 'bob' }, consent]) {
      assert.ok((await server.http.put(`/fhir/${r.resourceType}/${r.id}`).set('Content-Type', FHIR_JSON).send(r)).status < 300);
    }
  });
  after(() => server.close());

  it('a clinician read under the implicit policy is decided by implicit:permit; a consent denial names the Consent', async () => {
    const access = accessOf({ scope: 'user/*.rs', fhirUser: 'Practitioner/dr' });
    assert.equal((await server.router.route(request(['Patient', 'alice'], access))).status, 200);
    assert.deepEqual([...access.decidedBy], ['implicit:permit']);
    const search = accessOf({ scope: 'user/*.rs', fhirUser: 'Practitioner/dr' });
    await server.router.route(request(['Patient'], search));
    assert.ok(search.decidedBy.has('implicit:permit'));
    assert.equal(search.breakTheGlass, undefined);
  });

  it('break-the-glass is marked with its justification', async () => {
    const access = accessOf({ scope: 'user/*.rs', fhirUser: 'Practitioner/dr', purpose_of_use: 'ETREAT', btg_justification: 'cardiac arrest' });
    assert.equal((await server.router.route(request(['Patient', 'bob'], access))).status, 200);
    assert.deepEqual(access.breakTheGlass, { justification: 'cardiac arrest' });
    assert.ok(access.decidedBy.has('break-the-glass'));
  });

  it('a patient/ token is decided by its scope', async () => {
    const access = accessOf({ scope: 'patient/*.rs', patient: 'alice' });
    await server.router.route(request(['Patient', 'alice'], access));
    assert.deepEqual([...access.decidedBy], ['scope']);
  });

  it('a request without access context is refused while access control is on (fail closed)', async () => {
    await assert.rejects(server.router.route({ method: 'GET', path: ['Patient', 'alice'], query: [], prefer: {} }), /without access context/);
  });
});

describe('AUTH_MODE=off', () => {
  it('serves without tokens and warns at start-up', async () => {
    const logged: LogRecord[] = [];
    const server = await startTestServer({ env: { AUTH_MODE: 'off' }, logger: { log: (r) => logged.push(r) } });
    try {
      assert.ok(logged.some((r) => r.level === 'warn' && /access control is OFF/.test(r.msg)));
      assert.equal((await supertest(server.app).post('/fhir/Patient').set('Content-Type', FHIR_JSON).send({ resourceType: 'Patient' })).status, 201);
      const metadata = await supertest(server.app).get('/fhir/metadata');
      assert.match(metadata.body.rest[0].security.description, /turned off/);
      assert.equal((await supertest(server.app).get('/fhir/.well-known/smart-configuration')).status, 404);
    } finally {
      await server.close();
    }
  });

  it('is on by default: a fresh server requires tokens', async () => {
    const server = await startTestServer();
    try {
      assert.equal((await supertest(server.app).get('/fhir/Patient')).status, 401);
    } finally {
      await server.close();
    }
  });
});
