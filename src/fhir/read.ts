/** read: https://hl7.org/fhir/R4/http.html#read — 410 for deleted, 304 for conditional reads. */
import type { Resource } from 'fhir/r4';
import { FhirError, notFound } from '../core/errors';
import type { ResourceRecord } from '../storage/records';
import { readerOf, type FhirContext } from './context';
import { loadCurrent, visibleRecord } from './persist';
import { notModified } from './preconditions';
import { subsetForRead } from './subset';
import { assertId, assertResourceType } from './target';
import type { FhirRequest, FhirResponse } from './types';

export async function read(ctx: FhirContext, req: FhirRequest, type: string, id: string): Promise<FhirResponse> {
  const record = await liveRecord(ctx, type, id, req);
  const meta = { versionId: String(record.versionId), lastUpdated: record.lastUpdated };
  if (notModified(record, req.ifNoneMatch, req.ifModifiedSince)) return { status: 304, ...meta };
  return { status: 200, resource: subsetForRead(ctx, req, record.resource as Resource), ...meta };
}

/**
 * The current record of a resource that exists: 404 when it never did or `req` may not see it, 410 when it was
 * deleted.
 */
export async function liveRecord(ctx: FhirContext, type: string, id: string, req: FhirRequest): Promise<ResourceRecord> {
  assertResourceType(ctx, type);
  assertId(id);
  const record = await loadCurrent(readerOf(ctx), type, id);
  if (!record || !(await visibleRecord(ctx, req, record))) throw notFound(`${type}/${id} does not exist`);
  if (record.deleted || !record.resource) {
    throw new FhirError('deleted', [{ severity: 'error', code: 'deleted', diagnostics: `${type}/${id} was deleted (version ${record.versionId})` }]);
  }
  return record;
}
