/**
 * The server's own signing key, for deployments without an authorization server of their own: created once in
 * DATA_DIR (owner-only permissions), it verifies tokens that `npm run token` signs. Secure by default: a fresh
 * server still requires tokens, just ones it can check itself.
 */
import { randomUUID } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { SignJWT, createLocalJWKSet, exportJWK, generateKeyPair, importJWK, type JWK, type JWTVerifyGetKey, type KeyLike } from 'jose';

const ALGORITHM = 'ES256';
export const LOCAL_KEY_FILE = path.join('auth', 'local-signing-key.json');

export interface LocalKey {
  kid: string;
  privateKey: KeyLike | Uint8Array;
  publicJwk: JWK;
}

/** Loads the key from `dataDir`, creating it on first use. */
export async function loadOrCreateLocalKey(dataDir: string): Promise<LocalKey> {
  const file = path.join(dataDir, LOCAL_KEY_FILE);
  if (!existsSync(file)) {
    const { privateKey } = await generateKeyPair(ALGORITHM, { extractable: true });
    const jwk = { ...(await exportJWK(privateKey)), kid: randomUUID(), alg: ALGORITHM, use: 'sig' };
    mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    const temporary = `${file}.${process.pid}.tmp`;
    writeFileSync(temporary, JSON.stringify(jwk), { mode: 0o600 });
    renameSync(temporary, file);
  }
  chmodSync(file, 0o600);
  const jwk = JSON.parse(readFileSync(file, 'utf8')) as JWK;
  if (typeof jwk.kid !== 'string' || jwk.d === undefined) throw new Error(`${file} does not hold a private signing key; delete it to have a new one made`);
  const { d: _private, ...publicJwk } = jwk;
  return { kid: jwk.kid, privateKey: await importJWK(jwk, ALGORITHM), publicJwk };
}

/** A fresh key held in memory only (tests and tools that inject the key into the server). */
export async function generateLocalKey(): Promise<LocalKey> {
  const { privateKey } = await generateKeyPair(ALGORITHM, { extractable: true });
  const kid = randomUUID();
  const { d: _private, ...publicJwk } = { ...(await exportJWK(privateKey)), kid, alg: ALGORITHM, use: 'sig' };
  return { kid, privateKey, publicJwk };
}

/**
 * A system/*.cruds token for the server whose DATA_DIR is `dataDir` and whose issuer and audience are `baseUrl`
 * (the defaults): what tests and benchmarks that start the real server send.
 */
export async function systemTokenFor(dataDir: string, baseUrl: string, expiresInSeconds = 24 * 3600): Promise<string> {
  const key = await loadOrCreateLocalKey(dataDir);
  return signLocalToken(key, { scope: 'system/*.cruds', client_id: 'test-suite', sub: 'test-suite' }, { issuer: baseUrl, audience: baseUrl, expiresInSeconds });
}

/** The key set that verifies tokens of this key. */
export function localKeySet(key: LocalKey): JWTVerifyGetKey {
  return createLocalJWKSet({ keys: [key.publicJwk] });
}

export interface TokenClaims {
  scope: string;
  patient?: string;
  fhirUser?: string;
  purpose_of_use?: string | string[];
  client_id?: string;
  sub?: string;
  [claim: string]: unknown;
}

/** Signs an access token with the local key. */
export async function signLocalToken(
  key: LocalKey,
  claims: TokenClaims,
  options: { issuer: string; audience: string; expiresInSeconds: number },
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT(claims)
    .setProtectedHeader({ alg: ALGORITHM, kid: key.kid, typ: 'JWT' })
    .setIssuer(options.issuer)
    .setAudience(options.audience)
    .setIssuedAt(now)
    .setExpirationTime(now + options.expiresInSeconds)
    .setJti(randomUUID())
    .sign(key.privateKey);
}
