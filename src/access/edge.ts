/**
 * What the HTTP edge needs from access control: the authentication of each request, and the descriptions of the
 * configured authorization for `/.well-known/smart-configuration`
 * (https://hl7.org/fhir/smart-app-launch/conformance.html) and the CapabilityStatement's `rest.security`
 * (https://hl7.org/fhir/R4/capabilitystatement-definitions.html#CapabilityStatement.rest.security).
 */
import type { CapabilityStatementRestSecurity } from 'fhir/r4';
import type { Config } from '../config/config';
import { createAuthenticator } from './authenticator';
import type { LocalKey } from './local-key';
import { TOKEN_ALGORITHMS, type AccessToken } from './tokens';

/** The token of a request's Authorization header; null when the operator turned access control off. */
export type Authenticate = (authorization: string | undefined) => Promise<AccessToken | null>;

interface StartupLogger {
  log(entry: { level: 'info' | 'warn' | 'error'; msg: string; [key: string]: unknown }): void;
}

export async function edgeAuthentication(config: Config, logger: StartupLogger, localKey?: LocalKey): Promise<Authenticate> {
  if (config.auth.mode === 'off') {
    logger.log({ level: 'warn', msg: 'access control is OFF (AUTH_MODE=off): anyone who can reach this server reads and writes every resource' });
    return async () => null;
  }
  const authenticator = await createAuthenticator({ ...config.auth, dataDir: config.dataDir, ...(localKey ? { localKey } : {}) });
  logger.log({ level: 'info', msg: 'access control on', keys: authenticator.keySource, issuer: config.auth.issuer, audience: config.auth.audience });
  return (authorization) => authenticator.authenticate(authorization);
}

const SMART_SERVICE = { system: 'http://terminology.hl7.org/CodeSystem/restful-security-service', code: 'SMART-on-FHIR', display: 'SMART-on-FHIR' };
const OAUTH_URIS = 'http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris';

export function securityDescription(config: Config): CapabilityStatementRestSecurity {
  const cors = config.corsOrigins.length > 0;
  if (config.auth.mode === 'off') return { cors, description: 'Access control is turned off on this server (AUTH_MODE=off).' };
  const uris = [
    ...(config.auth.authorizeUrl ? [{ url: 'authorize', valueUri: config.auth.authorizeUrl }] : []),
    ...(config.auth.tokenUrl ? [{ url: 'token', valueUri: config.auth.tokenUrl }] : []),
    ...(config.auth.introspectionUrl ? [{ url: 'introspect', valueUri: config.auth.introspectionUrl }] : []),
  ];
  return {
    ...(uris.length ? { extension: [{ url: OAUTH_URIS, extension: uris }] } : {}),
    cors,
    service: [{ coding: [SMART_SERVICE], text: 'OAuth2 bearer tokens with SMART scopes (v1 and v2)' }],
    description:
      `Requests need an OAuth 2.0 bearer token (${TOKEN_ALGORITHMS.join(', ')} JWT from ${config.auth.issuer}` +
      `${config.auth.introspectionUrl ? ', or an opaque token checked by introspection' : ''}) with SMART scopes; ` +
      'access is narrowed to the patient compartment of patient/ tokens and to what patient Consents permit. See /.well-known/smart-configuration.',
  };
}

/** The SMART configuration document (https://hl7.org/fhir/smart-app-launch/conformance.html#metadata). */
export function smartConfiguration(config: Config): Record<string, unknown> | null {
  if (config.auth.mode === 'off') return null;
  return {
    issuer: config.auth.issuer,
    ...(config.auth.jwks && /^https?:\/\//.test(config.auth.jwks) ? { jwks_uri: config.auth.jwks } : {}),
    ...(config.auth.authorizeUrl ? { authorization_endpoint: config.auth.authorizeUrl } : {}),
    ...(config.auth.tokenUrl ? { token_endpoint: config.auth.tokenUrl } : {}),
    ...(config.auth.introspectionUrl ? { introspection_endpoint: config.auth.introspectionUrl } : {}),
    grant_types_supported: ['authorization_code', 'client_credentials'],
    token_endpoint_auth_methods_supported: ['private_key_jwt', 'client_secret_basic'],
    response_types_supported: ['code'],
    code_challenge_methods_supported: ['S256'],
    scopes_supported: ['openid', 'fhirUser', 'launch/patient', 'offline_access', 'patient/*.rs', 'user/*.rs', 'user/*.cruds', 'system/*.rs', 'system/*.cruds', 'consent-admin'],
    capabilities: ['launch-standalone', 'client-public', 'client-confidential-asymmetric', 'context-standalone-patient', 'sso-openid-connect', 'permission-patient', 'permission-user', 'permission-v1', 'permission-v2'],
  };
}
