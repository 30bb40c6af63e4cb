/**
 * Authentication comes before the body (https://hl7.org/fhir/smart-app-launch/app-launch.html#step-6-app-accesses-clinical-data-via-fhir-api,
 * RFC 6750 section 3): a request without a valid token is answered 401 before its body is read, so an
 * anonymous client can make the server neither buffer nor parse anything.
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { FHIR_JSON, patient, startTestServer, type TestServer } from '../../fixtures/server';

describe('security: authentication before the request body', () => {
  let server: TestServer;
  let port: number;
  let listening: ReturnType<TestServer['app']['listen']>;

  before(async () => {
    server = await startTestServer();
    listening = server.app.listen(0, '127.0.0.1');
    await new Promise((resolve) => listening.once('listening', resolve));
    port = (listening.address() as AddressInfo).port;
  });
  after(async () => {
    listening.close();
    await server.close();
  });

  it('a POST without a token is refused (401) while its body is still being sent', async () => {
    const answer = await new Promise<{ status: number; challenge: string | undefined }>((resolve, reject) => {
      // Announces 50 MB (past any body limit) and sends only the first bytes: a server that read the body first
      // would wait for the rest, or answer 413.
      const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/fhir/Patient', headers: { 'Content-Type': FHIR_JSON, 'Content-Length': String(50 * 1024 * 1024) } });
      req.on('response', (res) => {
        resolve({ status: res.statusCode ?? 0, challenge: res.headers['www-authenticate'] });
        res.resume();
        req.destroy();
      });
      req.on('error', (err) => (err.message.includes('socket hang up') || (err as NodeJS.ErrnoException).code === 'ECONNRESET' ? undefined : reject(err)));
      req.write('{"resourceType":"Patient",');
    });
    assert.equal(answer.status, 401);
    assert.match(answer.challenge ?? '', /^Bearer realm="fhir"$/);
  });

  it('a bad token is refused (401) before a malformed body is parsed (not 400)', async () => {
    const res = await server.as('not-a-valid-token').post('/fhir/Patient').set('Content-Type', FHIR_JSON).send('{"resourceType": ');
    assert.equal(res.status, 401);
    assert.match(res.headers['www-authenticate'] ?? '', /invalid_token/);
  });

  it('the legitimate request: with a valid token the body is read and the resource created; metadata stays public', async () => {
    const created = await server.http.post('/fhir/Patient').set('Content-Type', FHIR_JSON).send(patient());
    assert.equal(created.status, 201);
    const bad = await server.http.post('/fhir/Patient').set('Content-Type', FHIR_JSON).send('{"resourceType": ');
    assert.equal(bad.status, 400, 'with a valid token, a malformed body is the client error it is');
    assert.equal((await server.as('not-a-valid-token').get('/fhir/metadata')).status, 200);
  });
});
