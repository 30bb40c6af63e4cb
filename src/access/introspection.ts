/**
 * Opaque tokens checked by OAuth 2.0 Token Introspection (RFC 7662, https://www.rfc-editor.org/rfc/rfc7662;
 * SMART's profile: https://hl7.org/fhir/smart-app-launch/token-introspection.html). An inactive token is 401;
 * an introspection endpoint that cannot be reached is 503, never a pass.
 */
import type { JWTPayload } from 'jose';
import { FhirError } from '../core/errors';
import { accessTokenFromClaims, unauthorized, type AccessToken } from './tokens';

export interface IntrospectionOptions {
  url: string;
  /** Client credentials of this server at the authorization server (HTTP Basic), if it asks for them. */
  clientId?: string;
  clientSecret?: string;
  /** Expected audience: a token introspected as meant for another resource server is refused. */
  audience: string;
  timeoutMs?: number;
}

export class TokenIntrospector {
  constructor(private readonly options: IntrospectionOptions) {}

  async introspect(token: string): Promise<AccessToken> {
    const headers: Record<string, string> = { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' };
    if (this.options.clientId !== undefined) {
      headers.Authorization = `Basic ${Buffer.from(`${this.options.clientId}:${this.options.clientSecret ?? ''}`).toString('base64')}`;
    }
    let answer: Record<string, unknown>;
    try {
      const response = await fetch(this.options.url, {
        method: 'POST',
        headers,
        body: new URLSearchParams({ token, token_type_hint: 'access_token' }).toString(),
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 5000),
      });
      if (!response.ok) throw new Error(`status ${response.status}`);
      answer = (await response.json()) as Record<string, unknown>;
    } catch (error) {
      throw new FhirError('busy', `The token could not be checked with the authorization server (${(error as Error).message}); try again later`);
    }
    if (answer.active !== true) throw unauthorized('The access token is not active (expired, revoked or unknown)');
    if (typeof answer.exp === 'number' && answer.exp * 1000 < Date.now()) throw unauthorized('The access token has expired');
    const audience = answer.aud;
    if (audience !== undefined && !(Array.isArray(audience) ? audience : [audience]).includes(this.options.audience)) {
      throw unauthorized('The access token is not meant for this server (audience)');
    }
    return accessTokenFromClaims(answer as JWTPayload);
  }
}
