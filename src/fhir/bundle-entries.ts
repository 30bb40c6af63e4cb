/**
 * The entries of a batch or transaction Bundle (https://hl7.org/fhir/R4/http.html#transaction) as the FhirRequests
 * they stand for, so they replay through the same in-process router as single requests. A PATCH entry carries
 * its JSON Patch as a Binary resource (https://hl7.org/fhir/R4/http.html#patch).
 */
import type { Binary, Bundle, BundleEntry } from 'fhir/r4';
import { FhirError, invalid } from '../core/errors';
import { checkJsonSafety } from '../validation/guards';
import type { FhirContext } from './context';
import { JSON_PATCH } from './patch';
import type { FhirMethod, FhirRequest, FhirResponse } from './types';

export type BundleKind = 'batch' | 'transaction';

/** Runs one entry's request through the router with the given context (src/fhir/router.ts dispatch). */
export type Dispatch = (ctx: FhirContext, req: FhirRequest) => Promise<FhirResponse>;

export interface EntryRequest {
  /** Position in the request Bundle; the response entry goes to the same position. */
  index: number;
  /** request.url as sent, for messages. */
  url: string;
  fullUrl?: string;
  req: FhirRequest;
}

const METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE']);

/** The body of `POST [base]`: a batch or transaction Bundle within the entry limit. */
export function expectBundle(ctx: FhirContext, body: unknown): { kind: BundleKind; entries: BundleEntry[] } {
  if (typeof body !== 'object' || body === null || Array.isArray(body) || (body as { resourceType?: unknown }).resourceType !== 'Bundle') {
    throw invalid('POST to the FHIR base takes a Bundle of type batch or transaction (https://hl7.org/fhir/R4/http.html#transaction)');
  }
  const bundle = body as Bundle;
  if (bundle.type !== 'batch' && bundle.type !== 'transaction') {
    throw invalid(`POST to the FHIR base takes a Bundle of type batch or transaction, not '${String(bundle.type).slice(0, 40)}'; store other Bundles with POST Bundle`, 'Bundle.type');
  }
  if (bundle.entry !== undefined && !Array.isArray(bundle.entry)) throw invalid('Bundle.entry must be an array', 'Bundle.entry');
  const entries = bundle.entry ?? [];
  if (entries.length > ctx.maxBundleEntries) {
    throw new FhirError('too-large', [
      {
        severity: 'error',
        code: 'too-costly',
        diagnostics: `The Bundle has ${entries.length} entries; this server accepts at most ${ctx.maxBundleEntries} per batch or transaction (MAX_BUNDLE_ENTRIES): split it`,
        expression: ['Bundle.entry'],
      },
    ]);
  }
  const safety = checkJsonSafety(body);
  if (safety.length) throw new FhirError('incorrect', safety);
  return { kind: bundle.type, entries };
}

/** The request entry `index` makes; `outer` (the Bundle's own request) gives its preferences and requester. */
export function entryRequest(ctx: FhirContext, entry: BundleEntry, index: number, outer: FhirRequest): EntryRequest {
  const at = `Bundle.entry[${index}]`;
  if (typeof entry !== 'object' || entry === null) throw invalid(`${at} must be an object`, at);
  const request = entry.request;
  if (typeof request !== 'object' || request === null) throw invalid(`${at} has no request: each entry needs request.method and request.url`, `${at}.request`);
  if (typeof request.method !== 'string' || !METHODS.has(request.method)) {
    throw invalid(`${at}.request.method must be one of GET, HEAD, POST, PUT, PATCH, DELETE`, `${at}.request.method`);
  }
  if (typeof request.url !== 'string' || request.url === '') throw invalid(`${at}.request.url is missing`, `${at}.request.url`);
  const method = request.method as FhirMethod;
  const { path, query } = splitUrl(ctx, request.url, `${at}.request.url`);
  if (path.length === 0 && method !== 'GET' && method !== 'HEAD') throw invalid(`${at}: a Bundle entry cannot be another batch or transaction`, `${at}.request.url`);
  const req: FhirRequest = {
    ...requestScoped(outer),
    method,
    path,
    query,
    ...optional('ifMatch', request.ifMatch),
    ...optional('ifNoneMatch', request.ifNoneMatch),
    ...optional('ifModifiedSince', request.ifModifiedSince),
    ...optional('ifNoneExist', request.ifNoneExist),
    ...entryBody(method, entry, at),
  };
  return { index, url: request.url, ...(typeof entry.fullUrl === 'string' ? { fullUrl: entry.fullUrl } : {}), req };
}

/**
 * What an entry inherits from the Bundle's own request: everything that is not about one interaction (preferences,
 * and who is asking, so access control and audit apply to each entry as to a single request).
 */
function requestScoped(outer: FhirRequest): Omit<FhirRequest, 'method' | 'path' | 'query'> {
  const { method: _method, path: _path, query: _query, body: _body, contentType: _type, ifMatch: _a, ifNoneMatch: _b, ifModifiedSince: _c, ifNoneExist: _d, ...scoped } = outer;
  return scoped;
}

/** `Patient/1?x=y`, `/Patient/1` or `<this server's base>/Patient/1` as path segments and query pairs. */
function splitUrl(ctx: FhirContext, url: string, at: string): { path: string[]; query: Array<[string, string]> } {
  let relative = url;
  if (url.startsWith(`${ctx.baseUrl}/`) || url === ctx.baseUrl) relative = url.slice(ctx.baseUrl.length);
  else if (/^[a-z][a-z0-9+.-]*:/i.test(url)) throw invalid(`${at} '${url.slice(0, 80)}' is not on this server: give a URL relative to the FHIR base`, at);
  const q = relative.indexOf('?');
  const pathPart = q < 0 ? relative : relative.slice(0, q);
  let path: string[];
  try {
    path = pathPart.split('/').filter((s) => s !== '').map((s) => decodeURIComponent(s));
  } catch {
    throw invalid(`${at} is not valid percent-encoding`, at);
  }
  const query = q < 0 ? [] : [...new URLSearchParams(relative.slice(q + 1))].filter(([name]) => name !== '');
  return { path, query };
}

function entryBody(method: FhirMethod, entry: BundleEntry, at: string): Pick<FhirRequest, 'body' | 'contentType'> {
  if (method === 'POST' || method === 'PUT') {
    if (entry.resource === undefined) throw invalid(`${at} (${method}) has no resource`, `${at}.resource`);
    return { body: entry.resource, contentType: 'application/fhir+json' };
  }
  if (method !== 'PATCH') return {};
  const binary = entry.resource as Binary | undefined;
  if (binary?.resourceType !== 'Binary' || binary.contentType !== JSON_PATCH || typeof binary.data !== 'string') {
    throw new FhirError('unsupported-media-type', [
      {
        severity: 'error',
        code: 'not-supported',
        diagnostics: `${at} (PATCH) must carry a Binary with contentType ${JSON_PATCH} and the patch in data (base64); FHIRPath Patch is not supported`,
        expression: [`${at}.resource`],
      },
    ]);
  }
  try {
    return { body: JSON.parse(Buffer.from(binary.data, 'base64').toString('utf8')) as unknown, contentType: JSON_PATCH };
  } catch {
    throw invalid(`${at}: the Binary's data is not a base64-encoded JSON Patch document`, `${at}.resource.data`);
  }
}

const optional = <K extends string>(key: K, value: unknown): Partial<Record<K, string>> =>
  typeof value === 'string' ? ({ [key]: value } as Record<K, string>) : {};
