/**
 * Bearer access tokens (https://hl7.org/fhir/smart-app-launch/app-launch.html#step-6-app-accesses-clinical-data-via-fhir-api):
 * a JWT signed with RS256, RS384, ES256 or ES384 by a key of the configured key set, for this issuer and audience,
 * within exp/nbf (a small skew allowed). Anything else (alg none, HMAC, another key, expired) is 401.
 *
 * The claims become an AccessToken. A `patient/` scope needs a `patient` claim and a `user/` scope a `fhirUser`
 * claim: without them the token is refused, never read as unrestricted.
 */
import { errors as joseErrors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { FhirError } from '../core/errors';
import { isValidId } from '../core/ids';
import { parseScopes, type ParsedScopes } from './scopes';

export const TOKEN_ALGORITHMS = ['RS256', 'RS384', 'ES256', 'ES384'];

export interface AccessToken {
  /** `sub`: who the token was issued to. */
  subject?: string;
  /** `client_id` (or `azp`): the app. */
  clientId?: string;
  scopes: ParsedScopes;
  /** Launch context `patient`: the id of the patient a `patient/` scope is about. */
  patient?: string;
  /** `fhirUser`: the user as a FHIR reference, e.g. `Practitioner/123`. */
  fhirUser?: string;
  /** v3 ActReason codes (TREAT, ETREAT, BTG, HPAYMT, HOPERAT, HRESCH, PUBHLTH...), from `purpose_of_use`. */
  purposeOfUse: string[];
  /** Seconds since the epoch. */
  expiresAt?: number;
  /** `btg_justification`: why a clinician breaks the glass (only honoured with purpose ETREAT or BTG; docs/access.md). */
  breakTheGlass?: string;
}

export interface TokenVerifierOptions {
  keys: JWTVerifyGetKey;
  issuer: string;
  audience: string;
  /** Allowed clock skew for exp/nbf/iat, in seconds (default 30). */
  clockToleranceSeconds?: number;
}

const FHIR_USER = /^(?:https?:\/\/[^\s]+\/)?(Practitioner|PractitionerRole|Patient|RelatedPerson|Person)\/[A-Za-z0-9\-.]{1,64}$/;

/** A 401 whose message the client can act on; the HTTP edge adds `WWW-Authenticate`. */
export const unauthorized = (message: string): FhirError =>
  new FhirError('unauthorized', [{ severity: 'error', code: 'login', diagnostics: message }]);

export class TokenVerifier {
  constructor(private readonly options: TokenVerifierOptions) {}

  /** Verifies the Authorization header value (`Bearer <jwt>`). */
  async verify(authorization: string | undefined): Promise<AccessToken> {
    if (authorization === undefined || authorization.trim() === '') {
      throw unauthorized('This server requires an access token: send Authorization: Bearer <token>');
    }
    const match = /^Bearer +([A-Za-z0-9\-_]+\.[A-Za-z0-9\-_]+\.[A-Za-z0-9\-_]*)\s*$/i.exec(authorization);
    if (!match) throw unauthorized('The Authorization header must be "Bearer " followed by a JWT');
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(match[1] as string, this.options.keys, {
        issuer: this.options.issuer,
        audience: this.options.audience,
        algorithms: TOKEN_ALGORITHMS,
        clockTolerance: this.options.clockToleranceSeconds ?? 30,
        requiredClaims: ['exp'],
      }));
    } catch (error) {
      throw unauthorized(rejection(error));
    }
    return accessTokenFromClaims(payload);
  }
}

/** Why jose refused a token, in words that help a client without revealing key material. */
function rejection(error: unknown): string {
  if (error instanceof joseErrors.JWTExpired) return 'The access token has expired';
  if (error instanceof joseErrors.JWTClaimValidationFailed) {
    if (error.claim === 'iss') return 'The access token was issued by another issuer than this server trusts';
    if (error.claim === 'aud') return 'The access token is not meant for this server (audience)';
    if (error.claim === 'nbf') return 'The access token is not valid yet';
    return `The access token's ${error.claim} claim is missing or invalid`;
  }
  if (error instanceof joseErrors.JOSEAlgNotAllowed) return `The access token must be signed with one of ${TOKEN_ALGORITHMS.join(', ')}`;
  if (error instanceof joseErrors.JWKSNoMatchingKey || error instanceof joseErrors.JWSSignatureVerificationFailed) {
    return 'The access token signature does not verify against the keys this server trusts';
  }
  return 'The access token is malformed or cannot be verified';
}

/** Reads the SMART claims of a verified payload, refusing contradictory ones. */
export function accessTokenFromClaims(payload: JWTPayload): AccessToken {
  const claim = (name: string): unknown => (payload as Record<string, unknown>)[name];
  const scopeClaim = claim('scope');
  const scopeText = typeof scopeClaim === 'string' ? scopeClaim : Array.isArray(claim('scp')) ? (claim('scp') as unknown[]).filter((s) => typeof s === 'string').join(' ') : '';
  const scopes = parseScopes(scopeText);
  const patient = optionalString(claim('patient'), 'patient');
  const fhirUser = optionalString(claim('fhirUser'), 'fhirUser');
  const clientId = optionalString(claim('client_id'), 'client_id') ?? optionalString(claim('azp'), 'azp');
  if (patient !== undefined && !isValidId(patient)) throw unauthorized("The access token's patient claim is not a valid resource id");
  if (fhirUser !== undefined && !FHIR_USER.test(fhirUser)) {
    throw unauthorized("The access token's fhirUser claim must reference a Practitioner, PractitionerRole, Patient, RelatedPerson or Person");
  }
  if (patient === undefined && scopes.resources.some((s) => s.context === 'patient')) {
    throw unauthorized('The access token has patient/ scopes but no patient claim naming the patient they are about');
  }
  if (fhirUser === undefined && scopes.resources.some((s) => s.context === 'user')) {
    throw unauthorized('The access token has user/ scopes but no fhirUser claim naming the user');
  }
  const justification = optionalString(claim('btg_justification'), 'btg_justification');
  return {
    ...(justification !== undefined ? { breakTheGlass: justification.slice(0, 500) } : {}),
    ...(typeof payload.sub === 'string' ? { subject: payload.sub } : {}),
    ...(clientId !== undefined ? { clientId } : {}),
    scopes,
    ...(patient !== undefined ? { patient } : {}),
    ...(fhirUser !== undefined ? { fhirUser: relativeReference(fhirUser) } : {}),
    purposeOfUse: purposes(claim('purpose_of_use')),
    ...(typeof payload.exp === 'number' ? { expiresAt: payload.exp } : {}),
  };
}

function optionalString(value: unknown, name: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' || value === '') throw unauthorized(`The access token's ${name} claim must be a non-empty string`);
  return value;
}

/** `https://ehr/fhir/Practitioner/1` -> `Practitioner/1` (the last two segments). */
function relativeReference(reference: string): string {
  return reference.split('/').slice(-2).join('/');
}

/** `purpose_of_use`: a code, a list of codes, or Codings ({ code }); codes are kept upper-case. */
function purposes(value: unknown): string[] {
  const list = value === undefined || value === null ? [] : Array.isArray(value) ? value : [value];
  const codes: string[] = [];
  for (const item of list) {
    const code = typeof item === 'string' ? item : typeof item === 'object' && item !== null ? (item as { code?: unknown }).code : undefined;
    if (typeof code !== 'string' || !/^[A-Za-z]{2,32}$/.test(code)) throw unauthorized("The access token's purpose_of_use claim must hold v3 ActReason codes such as TREAT");
    codes.push(code.toUpperCase());
  }
  return codes;
}

/** An AccessToken as plain JSON, for work that outlives the request (a Bulk Data export job runs later). */
export interface StoredToken {
  scope: string;
  patient?: string;
  fhirUser?: string;
  clientId?: string;
  subject?: string;
  purposeOfUse: string[];
  breakTheGlass?: string;
}

export function storedToken(token: AccessToken): StoredToken {
  return {
    scope: [...token.scopes.resources.map((s) => s.text), ...token.scopes.other].join(' '),
    ...(token.patient !== undefined ? { patient: token.patient } : {}),
    ...(token.fhirUser !== undefined ? { fhirUser: token.fhirUser } : {}),
    ...(token.clientId !== undefined ? { clientId: token.clientId } : {}),
    ...(token.subject !== undefined ? { subject: token.subject } : {}),
    purposeOfUse: token.purposeOfUse,
    ...(token.breakTheGlass !== undefined ? { breakTheGlass: token.breakTheGlass } : {}),
  };
}

export function tokenFromStored(stored: StoredToken): AccessToken {
  const { scope, ...rest } = stored;
  return { ...rest, scopes: parseScopes(scope) };
}

/** Whether two tokens stand for the same requester (client, subject, patient and user), e.g. an export's owner. */
export function sameRequester(a: AccessToken | StoredToken, b: AccessToken | StoredToken): boolean {
  return a.clientId === b.clientId && a.subject === b.subject && a.patient === b.patient && a.fhirUser === b.fhirUser;
}
