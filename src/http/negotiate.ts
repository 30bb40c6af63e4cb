/**
 * Content negotiation: _format and Accept for responses, Content-Type for request bodies
 * (https://hl7.org/fhir/R4/http.html#mime-type). This server speaks JSON only; XML and Turtle get a clear 406/415.
 */
import { FhirError } from '../core/errors';

export const FHIR_JSON = 'application/fhir+json';
export const JSON_TYPE = 'application/json';
export const NDJSON = 'application/fhir+ndjson';
export type ResponseType = typeof FHIR_JSON | typeof JSON_TYPE;

const FORMAT_ALIASES: Record<string, ResponseType | 'xml' | 'ttl'> = {
  json: FHIR_JSON,
  'application/fhir+json': FHIR_JSON,
  'application/json+fhir': FHIR_JSON,
  'application/json': JSON_TYPE,
  xml: 'xml',
  'text/xml': 'xml',
  'application/xml': 'xml',
  'application/fhir+xml': 'xml',
  'application/xml+fhir': 'xml',
  ttl: 'ttl',
  'text/turtle': 'ttl',
  'application/fhir+turtle': 'ttl',
};

const notAcceptable = (what: string): FhirError =>
  new FhirError('not-acceptable', `${what} is not supported: this server returns application/fhir+json (use _format=json or Accept: application/fhir+json)`);

/** Picks the response media type from _format (which wins) or Accept. */
export function responseType(format: string | undefined, accept: string | undefined): ResponseType {
  if (format !== undefined) {
    const chosen = FORMAT_ALIASES[format.trim().toLowerCase()];
    if (chosen === FHIR_JSON || chosen === JSON_TYPE) return chosen;
    throw notAcceptable(`_format=${format.slice(0, 40)}`);
  }
  if (!accept || accept === '*/*' || accept === FHIR_JSON || !accept.trim()) return FHIR_JSON;
  const ranges = accept
    .split(',')
    .map((part) => {
      const [type = '', ...params] = part.split(';').map((s) => s.trim().toLowerCase());
      const q = params.find((p) => p.startsWith('q='));
      return { type, q: q ? Number(q.slice(2)) : 1 };
    })
    .filter((r) => r.q > 0)
    .sort((a, b) => b.q - a.q);
  for (const { type } of ranges) {
    if (type === FHIR_JSON || type === 'application/json+fhir' || type === 'application/*' || type === '*/*') return FHIR_JSON;
    if (type === JSON_TYPE) return JSON_TYPE;
    // Bulk Data output files are NDJSON (https://hl7.org/fhir/uv/bulkdata/export.html#file-request); they carry
    // their own Content-Type, and anything else asked for this way is answered in FHIR JSON.
    if (type === NDJSON || type === 'application/ndjson') return FHIR_JSON;
  }
  throw notAcceptable(`Accept: ${accept.slice(0, 80)}`);
}

/** Media type of a request body without parameters, lower-cased; undefined when absent. */
export function mediaType(contentType: string | undefined): string | undefined {
  if (!contentType) return undefined;
  return contentType.split(';')[0]?.trim().toLowerCase() || undefined;
}

export const JSON_BODY_TYPES: ReadonlySet<string> = new Set([FHIR_JSON, JSON_TYPE, 'application/json+fhir', 'application/json-patch+json']);
export const FORM_TYPE = 'application/x-www-form-urlencoded';

/** Refuses bodies we cannot read with 415 and a message naming what to send instead. */
export function assertReadableBody(type: string | undefined, allowForm: boolean): void {
  if (type === undefined) throw new FhirError('unsupported-media-type', 'The request body has no Content-Type: send application/fhir+json');
  if (JSON_BODY_TYPES.has(type) || (allowForm && type === FORM_TYPE)) return;
  const xml = type.includes('xml');
  throw new FhirError(
    'unsupported-media-type',
    xml ? `XML bodies (${type}) are not supported: send the resource as application/fhir+json` : `Content-Type ${type.slice(0, 80)} is not supported: send application/fhir+json`,
  );
}
