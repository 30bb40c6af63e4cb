import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import { createAuthenticator } from '../../../src/access/authenticator';
import { FhirError } from '../../../src/core/errors';

const BASE = 'http://127.0.0.1:8080/fhir';

async function refused(promise: Promise<unknown>, category: string, message: RegExp): Promise<void> {
  await assert.rejects(promise, (error: unknown) => error instanceof FhirError && error.category === category && message.test(error.message));
}

describe('authenticator: local key, JWKS file, RFC 7662 introspection', () => {
  let dir: string;
  let introspection: Server;
  let introspectionUrl: string;
  const seen: string[] = [];

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'auth-'));
    introspection = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        seen.push(req.headers.authorization ?? '');
        const token = new URLSearchParams(body).get('token');
        const exp = Math.floor(Date.now() / 1000) + 60;
        const answer =
          token === 'opaque-good'
            ? { active: true, scope: 'patient/Observation.rs', patient: 'p9', client_id: 'app', exp, aud: BASE }
            : token === 'opaque-elsewhere'
              ? { active: true, scope: 'system/*.rs', exp, aud: 'https://other/fhir' }
              : { active: false };
        res.setHeader('Content-Type', 'application/json');
        res.end(JSON.stringify(answer));
      });
    });
    await new Promise<void>((resolve) => introspection.listen(0, '127.0.0.1', resolve));
    introspectionUrl = `http://127.0.0.1:${(introspection.address() as AddressInfo).port}/introspect`;
  });
  after(() => {
    introspection.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('npm run token signs with the local key, which the server then accepts', async () => {
    const output = execFileSync(process.execPath, ['--import', 'tsx', 'scripts/token.ts', '--scope', 'patient/*.rs', '--patient', 'p1', '--purpose', 'TREAT'], {
      env: { ...process.env, DATA_DIR: dir, BASE_URL: BASE },
      encoding: 'utf8',
    });
    const auth = await createAuthenticator({ issuer: BASE, audience: BASE, dataDir: dir });
    const token = await auth.authenticate(`Bearer ${output.trim()}`);
    assert.equal(token.patient, 'p1');
    assert.deepEqual(token.purposeOfUse, ['TREAT']);
  });

  it('keys from an AUTH_JWKS file verify tokens of their private key', async () => {
    const { privateKey, publicKey } = await generateKeyPair('RS256');
    const jwksFile = path.join(dir, 'jwks.json');
    writeFileSync(jwksFile, JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256' }] }));
    const auth = await createAuthenticator({ jwks: jwksFile, issuer: 'https://as.example', audience: BASE, dataDir: dir });
    const jwt = await new SignJWT({ scope: 'system/*.rs' }).setProtectedHeader({ alg: 'RS256', kid: 'k1' }).setIssuer('https://as.example').setAudience(BASE).setExpirationTime('5m').sign(privateKey);
    assert.equal((await auth.authenticate(`Bearer ${jwt}`)).scopes.resources[0]?.text, 'system/*.rs');
  });

  it('opaque tokens are introspected with the server credentials; inactive and foreign ones are refused', async () => {
    const auth = await createAuthenticator({ issuer: BASE, audience: BASE, dataDir: dir, introspectionUrl, introspectionClientId: 'fhir', introspectionClientSecret: 's3cret' });
    const token = await auth.authenticate('Bearer opaque-good');
    assert.equal(token.patient, 'p9');
    assert.equal(seen.at(-1), `Basic ${Buffer.from('fhir:s3cret').toString('base64')}`);
    await refused(auth.authenticate('Bearer opaque-revoked'), 'unauthorized', /not active/);
    await refused(auth.authenticate('Bearer opaque-elsewhere'), 'unauthorized', /audience/);
  });

  it('an opaque token without introspection, or an unreachable introspection endpoint, never passes', async () => {
    const plain = await createAuthenticator({ issuer: BASE, audience: BASE, dataDir: dir });
    await refused(plain.authenticate('Bearer opaque-good'), 'unauthorized', /not a JWT/);
    const down = await createAuthenticator({ issuer: BASE, audience: BASE, dataDir: dir, introspectionUrl: 'http://127.0.0.1:1/introspect' });
    await refused(down.authenticate('Bearer opaque-good'), 'busy', /could not be checked/);
  });
});
