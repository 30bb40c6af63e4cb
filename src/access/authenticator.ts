/**
 * Who is asking: the Authorization header turned into an AccessToken. JWTs are verified against the configured
 * key set (AUTH_JWKS, a URL or a file) or, by default, the server's own key in DATA_DIR; opaque tokens go to
 * RFC 7662 introspection when AUTH_INTROSPECTION_URL is set. Turning this off takes AUTH_MODE=off.
 */
import { readFileSync } from 'node:fs';
import { createLocalJWKSet, createRemoteJWKSet, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose';
import type { AuthConfig } from '../config/config';
import { TokenIntrospector } from './introspection';
import { loadOrCreateLocalKey, localKeySet, type LocalKey } from './local-key';
import { TokenVerifier, unauthorized, type AccessToken } from './tokens';
import { setBounded } from '../core/bounded-map';

/** The key source, issuer, audience and introspection of the configuration (src/config/config.ts), and DATA_DIR. */
export type AuthSettings = Pick<AuthConfig, 'jwks' | 'issuer' | 'audience' | 'introspectionUrl' | 'introspectionClientId' | 'introspectionClientSecret'> & {
  dataDir: string;
  /** A local key given by the caller (tests), instead of the one in `dataDir`. */
  localKey?: LocalKey;
};

export interface Authenticator {
  authenticate(authorization: string | undefined): Promise<AccessToken>;
  /** Where the keys come from, for the start-up line and smart-configuration. */
  readonly keySource: string;
}

/** Verified tokens kept at most (oldest dropped first). */
const MAX_VERIFIED = 10_000;
const JWT_SHAPE = /^[A-Za-z0-9\-_]+\.[A-Za-z0-9\-_]+\.[A-Za-z0-9\-_]*$/;

export async function createAuthenticator(settings: AuthSettings): Promise<Authenticator> {
  const { keys, keySource } = await keySet(settings);
  const verifier = new TokenVerifier({ keys, issuer: settings.issuer, audience: settings.audience });
  const introspector = settings.introspectionUrl
    ? new TokenIntrospector({
        url: settings.introspectionUrl,
        audience: settings.audience,
        ...(settings.introspectionClientId !== undefined ? { clientId: settings.introspectionClientId } : {}),
        ...(settings.introspectionClientSecret !== undefined ? { clientSecret: settings.introspectionClientSecret } : {}),
      })
    : null;
  // Verified JWTs by their text, until they expire: an app sends the same token with every request, and
  // checking its signature again each time costs more than the rest of a read. Opaque tokens are not kept, so
  // a revocation at the authorization server takes effect on the next request.
  const verified = new Map<string, AccessToken>();
  return {
    keySource,
    authenticate: async (authorization) => {
      const bearer = /^Bearer +(\S+)\s*$/i.exec(authorization ?? '')?.[1];
      const known = bearer !== undefined ? verified.get(bearer) : undefined;
      if (known && (known.expiresAt ?? 0) * 1000 > Date.now()) return known;
      if (bearer !== undefined && !JWT_SHAPE.test(bearer)) {
        if (!introspector) throw unauthorized('The access token is not a JWT and this server has no introspection endpoint configured');
        return introspector.introspect(bearer);
      }
      const token = await verifier.verify(authorization);
      if (bearer !== undefined && token.expiresAt !== undefined) {
        setBounded(verified, bearer, token, MAX_VERIFIED);
      }
      return token;
    },
  };
}

async function keySet(settings: AuthSettings): Promise<{ keys: JWTVerifyGetKey; keySource: string }> {
  if (settings.jwks === undefined) {
    return { keys: localKeySet(settings.localKey ?? (await loadOrCreateLocalKey(settings.dataDir))), keySource: 'local key in DATA_DIR' };
  }
  if (/^https?:\/\//.test(settings.jwks)) return { keys: createRemoteJWKSet(new URL(settings.jwks)), keySource: settings.jwks };
  const set = JSON.parse(readFileSync(settings.jwks, 'utf8')) as JSONWebKeySet;
  if (!Array.isArray(set.keys)) throw new Error(`AUTH_JWKS file ${settings.jwks} does not hold a JWKS ({"keys": [...]})`);
  return { keys: createLocalJWKSet(set), keySource: settings.jwks };
}
