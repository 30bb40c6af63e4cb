/** Adapts an Express request to the HTTP-independent FhirRequest (src/fhir/types.ts). */
import type { Request } from 'express';
import { FhirError, invalid } from '../core/errors';
import type { FhirMethod, FhirRequest, Preferences } from '../fhir/types';
import { tooManyParameters } from '../search/limits/input';
import { encodedBody } from './body-guard';
import { pairsExceed } from './form-pairs';
import { nestsDeeperThan, tooDeep } from './json-depth';
import { assertReadableBody, FORM_TYPE, mediaType } from './negotiate';

/** Bounds checked while a request is read, before its parameters or body are parsed. */
export interface RequestBounds {
  /** Query and form parameters together. */
  maxParameters: number;
  /** Nesting of objects and arrays in a JSON body. */
  maxJsonDepth: number;
}

const METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * Query pairs in order; `+` is a space as in HTML forms, so clients send a literal plus as %2B. More than
 * `maxPairs` named pairs is a 400, decided by counting separators before anything is decoded.
 */
export function queryPairs(rawUrl: string, maxPairs: number): Array<[string, string]> {
  const q = rawUrl.indexOf('?');
  if (q < 0) return [];
  return formPairs(rawUrl.slice(q + 1), maxPairs, maxPairs);
}

/** `room`: the pairs still allowed; `limit`: the request's whole allowance, named in the error. */
function formPairs(text: string | Buffer, room: number, limit: number): Array<[string, string]> {
  if (pairsExceed(text, room)) throw tooManyParameters(limit);
  return [...new URLSearchParams(typeof text === 'string' ? text : text.toString('utf8'))].filter(([name]) => name !== '');
}

export function pathSegments(path: string): string[] {
  const parts = path.split('/').filter((s) => s !== '');
  try {
    return parts.map((s) => decodeURIComponent(s));
  } catch {
    throw invalid('The URL path is not valid percent-encoding');
  }
}

/** Prefer: return=..., handling=... (https://hl7.org/fhir/R4/http.html#ops, https://hl7.org/fhir/R4/search.html#errors). */
export function parsePrefer(header: string | undefined): Preferences {
  const prefer: Preferences = {};
  if (!header) return prefer;
  for (const token of header.split(/[,;]/)) {
    const [name, value] = token.split('=').map((s) => s.trim().replace(/^"|"$/g, ''));
    if (name === 'return' && (value === 'minimal' || value === 'representation' || value === 'OperationOutcome')) prefer.return = value;
    if (name === 'handling' && (value === 'strict' || value === 'lenient')) prefer.handling = value;
    if (name === 'respond-async' && value === undefined) prefer.respondAsync = true;
  }
  return prefer;
}

/**
 * Parses the raw body by media type; form bodies (POST _search) are merged into the query, and count with it
 * towards the parameter bound. JSON nesting is checked before JSON.parse: while the body arrived
 * (src/http/body-guard.ts), or here once decoded when it came with a Content-Encoding.
 */
function parseBody(
  raw: Buffer,
  type: string | undefined,
  allowForm: boolean,
  bounds: RequestBounds & { encoded: boolean },
  queryLength: number,
): { body?: unknown; form?: Array<[string, string]> } {
  if (raw.length === 0) return {};
  if (allowForm && type !== FORM_TYPE) {
    // https://hl7.org/fhir/R4/http.html#search: POST _search carries its parameters as a form.
    throw new FhirError('unsupported-media-type', `POST _search takes its parameters as ${FORM_TYPE}, not ${type?.slice(0, 80) ?? 'a body without Content-Type'}`);
  }
  assertReadableBody(type, allowForm);
  if (type === FORM_TYPE) return { form: formPairs(raw, Math.max(0, bounds.maxParameters - queryLength), bounds.maxParameters) };
  if (bounds.encoded && nestsDeeperThan(raw, bounds.maxJsonDepth)) throw tooDeep(bounds.maxJsonDepth);
  const text = raw.toString('utf8');
  try {
    return { body: JSON.parse(text) };
  } catch (err) {
    const detail = err instanceof SyntaxError ? `: ${err.message.replace(/\s+/g, ' ').slice(0, 160)}` : '';
    throw new FhirError('incorrect', [{ severity: 'error', code: 'structure', diagnostics: `The body is not valid JSON${detail}` }]);
  }
}

/** `query` is the request's query pairs (queryPairs of the original URL), parsed once by the caller. */
export function toFhirRequest(req: Request, relativePath: string, query: Array<[string, string]>, bounds: RequestBounds): FhirRequest {
  if (!METHODS.has(req.method)) throw new FhirError('not-allowed', `HTTP method ${req.method} is not part of the FHIR REST API`);
  const method = req.method as FhirMethod;
  const path = pathSegments(relativePath);
  const contentType = mediaType(req.headers['content-type']);
  assertUtf8(req.headers['content-type']);
  const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
  const isSearchPost = method === 'POST' && path[path.length - 1] === '_search';
  const { body, form } = method === 'GET' || method === 'HEAD' || method === 'DELETE' ? {} : parseBody(raw, contentType, isSearchPost, { ...bounds, encoded: encodedBody(req) }, query.length);
  const header = (name: string): string | undefined => {
    const value = req.headers[name];
    return Array.isArray(value) ? value.join(', ') : value;
  };
  return {
    method,
    path,
    query: form ? [...query, ...form] : query,
    ...(body !== undefined ? { body } : {}),
    ...(contentType ? { contentType } : {}),
    ...optional('ifMatch', header('if-match')),
    ...optional('ifNoneMatch', header('if-none-match')),
    ...optional('ifModifiedSince', header('if-modified-since')),
    ...optional('ifNoneExist', header('if-none-exist')),
    prefer: parsePrefer(header('prefer')),
  };
}

/** Bodies are read as UTF-8, the only encoding FHIR JSON allows (https://hl7.org/fhir/R4/json.html). */
function assertUtf8(contentType: string | undefined): void {
  const charset = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(contentType ?? '')?.[1]?.toLowerCase();
  if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') {
    throw new FhirError('unsupported-media-type', `Charset ${charset.slice(0, 40)} is not supported: send the body as UTF-8`);
  }
}

const optional = <K extends string>(key: K, value: string | undefined): Partial<Record<K, string>> =>
  value === undefined ? {} : ({ [key]: value } as Record<K, string>);
