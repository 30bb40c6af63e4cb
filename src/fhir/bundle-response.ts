/**
 * Response entries of batch-response and transaction-response Bundles (https://hl7.org/fhir/R4/bundle.html#transaction-response):
 * status, location, etag, lastModified, and the resource or outcome the interaction returned.
 */
import { STATUS_CODES } from 'node:http';
import type { BundleEntry, BundleEntryResponse, FhirResource } from 'fhir/r4';
import { FhirError, HTTP_STATUS } from '../core/errors';
import { outcome } from '../core/outcome';
import { etagOf } from './preconditions';
import type { FhirResponse } from './types';

const statusLine = (status: number): string => `${status} ${STATUS_CODES[status] ?? ''}`.trimEnd();

export function entryResponse(res: FhirResponse): BundleEntry {
  const response: BundleEntryResponse = { status: statusLine(res.status) };
  if (res.location !== undefined) response.location = res.location;
  if (res.versionId !== undefined) response.etag = etagOf(res.versionId);
  if (res.lastUpdated !== undefined) response.lastModified = res.lastUpdated;
  let resource = res.resource as FhirResource | undefined;
  if (resource?.resourceType === 'OperationOutcome') {
    response.outcome = resource;
    resource = undefined;
  }
  const fullUrl = res.location?.replace(/\/_history\/[^/]+$/, '');
  return { ...(fullUrl ? { fullUrl } : {}), ...(resource ? { resource } : {}), response };
}

/** A batch entry that failed: its own status and OperationOutcome; the other entries go on. */
export function failedEntry(err: unknown): BundleEntry {
  if (err instanceof FhirError) return { response: { status: statusLine(HTTP_STATUS[err.category]), outcome: outcome(err.issues) } };
  return {
    response: {
      status: statusLine(500),
      outcome: outcome([{ severity: 'fatal', code: 'exception', diagnostics: 'The server failed to process this entry' }]),
    },
  };
}
