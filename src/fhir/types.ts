/**
 * The HTTP-independent request/response of one FHIR interaction. Express adapts to these (src/http),
 * and batch/transaction entries are replayed through the same router in process.
 */
import type { Resource } from 'fhir/r4';
import type { RequestAccess } from '../access/request-access';

export type FhirMethod = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** Prefer header values (https://hl7.org/fhir/R4/http.html#ops, https://hl7.org/fhir/R4/search.html#errors). */
export interface Preferences {
  return?: 'minimal' | 'representation' | 'OperationOutcome';
  handling?: 'strict' | 'lenient';
  /** `Prefer: respond-async`, required by Bulk Data kick-off (https://hl7.org/fhir/R4/async.html). */
  respondAsync?: boolean;
}

export interface FhirRequest {
  method: FhirMethod;
  /** Path segments below the FHIR base, decoded: ['Patient', '123', '_history', '2']. */
  path: string[];
  /** Query parameters in their original order, names and values decoded (repeats kept). */
  query: Array<[string, string]>;
  /** Parsed JSON body (a Resource, or a JSON Patch array), when there is one. */
  body?: unknown;
  /** The body's media type without parameters, e.g. 'application/fhir+json'. */
  contentType?: string;
  ifMatch?: string;
  ifNoneMatch?: string;
  ifModifiedSince?: string;
  ifNoneExist?: string;
  prefer: Preferences;
  /** Who is asking and what decided their access (src/access); absent only for internal requests. */
  access?: RequestAccess;
}

export interface FhirResponse {
  status: number;
  /** The resource or Bundle/OperationOutcome to return, if any. */
  resource?: Resource;
  /** Version-specific metadata for headers: ETag W/"versionId", Last-Modified, Location. */
  versionId?: string;
  lastUpdated?: string;
  /** Absolute URL of the created/updated version (Location on create/update). */
  location?: string;
  /** A body sent line by line instead of `resource` (NDJSON, e.g. GET AuditEvent/$archive). */
  stream?: { contentType: string; lines: AsyncIterable<string> };
  /** Further headers, e.g. Content-Location, X-Progress, Retry-After and Expires of async requests (https://hl7.org/fhir/R4/async.html). */
  headers?: Record<string, string>;
  /** A body that is not a FHIR resource: a JSON document (the Bulk Data manifest), or a file sent as it is. */
  content?: { json: unknown } | { file: string; contentType: string };
  /**
   * The version a write stored or matched, whatever Prefer asked to send back (never sent itself): the audit
   * trail names it and the patients whose compartments it is in.
   */
  written?: { type: string; id: string; compartments: readonly string[] };
}
