/**
 * delete: https://hl7.org/fhir/R4/http.html#delete — deletion writes a new version (a tombstone), so history
 * keeps it and a later read answers 410. Deleting an already deleted resource changes nothing.
 * Conditional delete (single match): https://hl7.org/fhir/R4/http.html#3.1.0.7.1
 */
import { notFound, preconditionFailed } from '../core/errors';
import { informational, outcome } from '../core/outcome';
import type { StoreTransaction } from '../storage/port';
import { matchInTransaction } from './conditional';
import type { FhirContext } from './context';
import { accessOptions, requireCriteria } from './criteria';
import { inTransaction, loadCurrent, visibleRecord, writeVersion } from './persist';
import { checkIfMatch } from './preconditions';
import { assertId, assertResourceType } from './target';
import type { FhirRequest, FhirResponse } from './types';

export async function remove(ctx: FhirContext, req: FhirRequest, type: string, id: string): Promise<FhirResponse> {
  assertResourceType(ctx, type);
  assertId(id);
  return inTransaction(ctx, (tx) => deleteOne(ctx, tx, req, type, id, false));
}

/** DELETE [type]?criteria: deletes the one match; no match is a no-op; several are 412. */
export async function conditionalDelete(ctx: FhirContext, req: FhirRequest, type: string): Promise<FhirResponse> {
  assertResourceType(ctx, type);
  const criteria = requireCriteria(req.query, 'delete');
  return inTransaction(ctx, async (tx) => {
    const matches = await matchInTransaction(ctx, tx, type, criteria, 2, await accessOptions(ctx, req));
    if (matches.length > 1) throw preconditionFailed(`The criteria matched several ${type} resources; this server deletes one resource per conditional delete`);
    const [match] = matches;
    if (!match) return deletedResponse(req, 'No resource matched the criteria; nothing was deleted');
    return deleteOne(ctx, tx, req, type, match.id, true);
  });
}

async function deleteOne(ctx: FhirContext, tx: StoreTransaction, req: FhirRequest, type: string, id: string, matched: boolean): Promise<FhirResponse> {
  const found = await loadCurrent(tx, type, id);
  const previous = found && (await visibleRecord(ctx, req, found)) ? found : null;
  if (!previous && !matched) throw notFound(`${type}/${id} does not exist`);
  if (!previous || previous.deleted) {
    return { ...deletedResponse(req, `${type}/${id} was already deleted`), ...(previous ? { versionId: String(previous.versionId) } : {}) };
  }
  checkIfMatch(req.ifMatch, previous);
  const record = await writeVersion(ctx, tx, previous, type, id, null, 'DELETE', req.access);
  return { ...deletedResponse(req, `Deleted ${type}/${id}`), versionId: String(record.versionId), lastUpdated: record.lastUpdated };
}

/** 204 by default; 200 with an OperationOutcome when the client prefers one. */
function deletedResponse(req: FhirRequest, message: string): FhirResponse {
  if (req.prefer.return === 'OperationOutcome') return { status: 200, resource: outcome([informational(message)]) };
  return { status: 204 };
}
