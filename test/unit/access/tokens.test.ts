import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SignJWT, UnsecuredJWT, generateKeyPair } from 'jose';
import { FhirError } from '../../../src/core/errors';
import { LOCAL_KEY_FILE, loadOrCreateLocalKey, localKeySet, signLocalToken, type LocalKey } from '../../../src/access/local-key';
import { TokenVerifier } from '../../../src/access/tokens';

const ISSUER = 'http://127.0.0.1:8080/fhir';
const AUDIENCE = 'http://127.0.0.1:8080/fhir';

describe('bearer tokens (SMART App Launch, RFC 7519)', () => {
  let dir: string;
  let key: LocalKey;
  let verifier: TokenVerifier;
  const sign = (claims: Record<string, unknown>, expiresInSeconds = 300): Promise<string> =>
    signLocalToken(key, { scope: 'system/*.cruds', ...claims }, { issuer: ISSUER, audience: AUDIENCE, expiresInSeconds });
  const refusal = async (header: string | undefined): Promise<string> => {
    try {
      await verifier.verify(header);
    } catch (error) {
      assert.ok(error instanceof FhirError);
      assert.equal(error.category, 'unauthorized');
      return error.message;
    }
    assert.fail('the token was accepted');
  };

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'tokens-'));
    key = await loadOrCreateLocalKey(dir);
    verifier = new TokenVerifier({ keys: localKeySet(key), issuer: ISSUER, audience: AUDIENCE });
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('the local key is created once, owner-only, and reloaded with the same id', async () => {
    assert.equal(statSync(path.join(dir, LOCAL_KEY_FILE)).mode & 0o777, 0o600);
    assert.equal((await loadOrCreateLocalKey(dir)).kid, key.kid);
  });

  it('a valid token yields its scopes, patient, fhirUser, client and purposes', async () => {
    const token = await sign({ scope: 'patient/Observation.rs openid', patient: 'p1', client_id: 'app', purpose_of_use: ['treat'], sub: 'u1' });
    const access = await verifier.verify(`Bearer ${token}`);
    assert.equal(access.patient, 'p1');
    assert.equal(access.clientId, 'app');
    assert.equal(access.subject, 'u1');
    assert.deepEqual(access.purposeOfUse, ['TREAT']);
    assert.deepEqual(access.scopes.resources.map((s) => s.text), ['patient/Observation.rs']);
  });

  it('an absolute fhirUser becomes a relative reference', async () => {
    const access = await verifier.verify(`Bearer ${await sign({ scope: 'user/*.rs', fhirUser: 'https://ehr.example.org/fhir/Practitioner/7' })}`);
    assert.equal(access.fhirUser, 'Practitioner/7');
  });

  it('a missing or non-Bearer Authorization header is refused', async () => {
    assert.match(await refusal(undefined), /requires an access token/);
    assert.match(await refusal('Basic dXNlcjpwYXNz'), /Bearer/);
  });

  it('alg none is refused', async () => {
    const token = new UnsecuredJWT({ scope: 'system/*.cruds' }).setIssuer(ISSUER).setAudience(AUDIENCE).setExpirationTime('5m').encode();
    assert.match(await refusal(`Bearer ${token}`), /malformed|signed with/);
  });

  it('a token signed by another key is refused', async () => {
    const { privateKey } = await generateKeyPair('ES256');
    const token = await new SignJWT({ scope: 'system/*.cruds' }).setProtectedHeader({ alg: 'ES256', kid: key.kid }).setIssuer(ISSUER).setAudience(AUDIENCE).setExpirationTime('5m').sign(privateKey);
    assert.match(await refusal(`Bearer ${token}`), /signature does not verify/);
  });

  it('an HMAC token is refused, whatever its secret', async () => {
    const token = await new SignJWT({ scope: 'system/*.cruds' }).setProtectedHeader({ alg: 'HS256' }).setIssuer(ISSUER).setAudience(AUDIENCE).setExpirationTime('5m').sign(new TextEncoder().encode('x'.repeat(32)));
    assert.match(await refusal(`Bearer ${token}`), /signed with one of|cannot be verified/);
  });

  it('an expired token is refused (beyond the allowed skew)', async () => {
    assert.match(await refusal(`Bearer ${await sign({}, -120)}`), /expired/);
  });

  it('a token for another audience or from another issuer is refused', async () => {
    const other = await signLocalToken(key, { scope: 'system/*.cruds' }, { issuer: ISSUER, audience: 'https://elsewhere/fhir', expiresInSeconds: 60 });
    assert.match(await refusal(`Bearer ${other}`), /audience/);
    const foreign = await signLocalToken(key, { scope: 'system/*.cruds' }, { issuer: 'https://other-issuer', audience: AUDIENCE, expiresInSeconds: 60 });
    assert.match(await refusal(`Bearer ${foreign}`), /another issuer/);
  });

  it('patient/ scopes without a patient claim, or user/ scopes without fhirUser, are refused', async () => {
    assert.match(await refusal(`Bearer ${await sign({ scope: 'patient/*.rs' })}`), /no patient claim/);
    assert.match(await refusal(`Bearer ${await sign({ scope: 'user/*.rs' })}`), /no fhirUser claim/);
  });

  it('malformed claims are refused rather than ignored', async () => {
    assert.match(await refusal(`Bearer ${await sign({ scope: 'patient/*.rs', patient: 'a b' })}`), /patient claim/);
    assert.match(await refusal(`Bearer ${await sign({ fhirUser: 'Organization/1', scope: 'user/*.rs' })}`), /fhirUser claim/);
    assert.match(await refusal(`Bearer ${await sign({ purpose_of_use: [42] })}`), /purpose_of_use/);
  });
});
