/** vread: https://hl7.org/fhir/R4/http.html#vread — a deleted version answers 410. */
import { FhirError, notFound } from '../core/errors';
import { withBodies } from '../storage/history-bodies';
import { HISTORY, historyKey, type HistoryRecord } from '../storage/records';
import { readerOf, type FhirContext } from './context';
import { subsetForRead } from './subset';
import { visibleVersion } from './persist';
import { assertId, assertResourceType, parseVersionId } from './target';
import type { FhirRequest, FhirResponse } from './types';

export async function vread(ctx: FhirContext, req: FhirRequest, type: string, id: string, vid: string): Promise<FhirResponse> {
  assertResourceType(ctx, type);
  assertId(id);
  const versionId = parseVersionId(vid);
  const reader = readerOf(ctx);
  const entry = (await reader.findOne(HISTORY, { _id: historyKey(type, id, versionId) })) as HistoryRecord | null;
  if (!entry) throw notFound(`${type}/${id} has no version ${vid}`);
  const [version] = (await withBodies(reader, [entry])) as [HistoryRecord];
  if (!(await visibleVersion(ctx, req, version))) throw notFound(`${type}/${id} has no version ${vid}`);
  if (version.deleted || !version.resource) {
    throw new FhirError('deleted', [{ severity: 'error', code: 'deleted', diagnostics: `Version ${vid} of ${type}/${id} is a deletion` }]);
  }
  return { status: 200, resource: subsetForRead(ctx, req, version.resource), versionId: String(version.versionId), lastUpdated: version.lastUpdated };
}
