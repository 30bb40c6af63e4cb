/** read: https://hl7.org/fhir/R4/http.html#read — 410 for deleted, 304 for conditional reads. */
import { FhirError, notFound } from '../core/errors';
import type { FhirContext } from './context';
import { loadCurrent, visibleRecord } from './persist';
import { notModified } from './preconditions';
import { assertId, assertResourceType } from './target';
import type { FhirRequest, FhirResponse } from './types';

export async function read(ctx: FhirContext, req: FhirRequest, type: string, id: string): Promise<FhirResponse> {
  assertResourceType(ctx, type);
  assertId(id);
  const record = await loadCurrent(ctx.store, type, id);
  if (!record || !(await visibleRecord(ctx, req, record))) throw notFound(`${type}/${id} does not exist`);
  const meta = { versionId: String(record.versionId), lastUpdated: record.lastUpdated };
  if (record.deleted || !record.resource) {
    throw new FhirError('deleted', [{ severity: 'error', code: 'deleted', diagnostics: `${type}/${id} was deleted (version ${record.versionId})` }]);
  }
  if (notModified(record, req.ifNoneMatch, req.ifModifiedSince)) return { status: 304, ...meta };
  return { status: 200, resource: record.resource, ...meta };
}
