/**
 * update: https://hl7.org/fhir/R4/http.html#update — the body id must equal the URL id; updating a resource that
 * does not exist (or was deleted) creates it with the client's id (update-as-create, 201), for callers whose
 * access is not narrowed to compartments or consent (405 for the others, src/access/control.ts mayChooseIds).
 * Conditional update: https://hl7.org/fhir/R4/http.html#cond-update
 */
import type { Resource } from 'fhir/r4';
import { FhirError, invalid, preconditionFailed } from '../core/errors';
import type { StoreTransaction } from '../storage/port';
import { matchInTransaction } from './conditional';
import type { FhirContext } from './context';
import { accessOptions, requireCriteria } from './criteria';
import { expectResourceBody } from './incoming';
import { inTransaction, loadCurrent, visibleRecord, writeVersion } from './persist';
import { checkIfMatch } from './preconditions';
import { writtenResponse } from './respond';
import { assertId, assertResourceType } from './target';
import type { FhirRequest, FhirResponse } from './types';

export async function update(ctx: FhirContext, req: FhirRequest, type: string, id: string): Promise<FhirResponse> {
  assertResourceType(ctx, type);
  assertId(id);
  const body = expectResourceBody(ctx, req.body, type);
  if (body.id === undefined) throw invalid(`The ${type} in the body has no id: an update must carry the id '${id}' from the URL`, `${type}.id`);
  if (body.id !== id) throw invalid(`The body id '${String(body.id).slice(0, 80)}' does not match the id '${id}' in the URL`, `${type}.id`);
  return inTransaction(ctx, (tx) => saveUpdate(ctx, tx, req, type, id, body, true));
}

/** PUT [type]?criteria: no match creates, one match updates it, several are 412. */
export async function conditionalUpdate(ctx: FhirContext, req: FhirRequest, type: string): Promise<FhirResponse> {
  assertResourceType(ctx, type);
  const criteria = requireCriteria(req.query, 'update');
  const body = expectResourceBody(ctx, req.body, type);
  if (body.id !== undefined) assertId(String(body.id));
  return inTransaction(ctx, async (tx) => {
    const matches = await matchInTransaction(ctx, tx, type, criteria, 2, await accessOptions(ctx, req));
    if (matches.length > 1) throw preconditionFailed(`The criteria matched several ${type} resources; make them more selective`);
    const [match] = matches;
    if (match && body.id !== undefined && body.id !== match.id) {
      throw invalid(`The body id '${body.id}' differs from the id '${match.id}' of the resource the criteria matched`, `${type}.id`);
    }
    const id = match?.id ?? body.id ?? ctx.ids.next();
    return saveUpdate(ctx, tx, req, type, id, body, !match && body.id !== undefined);
  });
}

async function saveUpdate(
  ctx: FhirContext,
  tx: StoreTransaction,
  req: FhirRequest,
  type: string,
  id: string,
  body: Resource,
  /** The id is the client's (PUT [type]/[id], or a conditional update's body id without a match). */
  clientId: boolean,
): Promise<FhirResponse> {
  const previous = await loadCurrent(tx, type, id);
  // A resource the caller may not see does not exist for them (docs/access.md): it is neither overwritten nor
  // betrayed, by a 403 or by its If-Match precondition, and update-as-create answers as for an unknown id.
  const hidden = previous !== null && !previous.deleted && !(await visibleRecord(ctx, req, previous));
  if ((!previous || previous.deleted || hidden) && clientId && ctx.access && !(await ctx.access.mayChooseIds(req.access, type))) {
    throw new FhirError(
      'not-allowed',
      `${type}/${id} does not exist for this access token, and its access is narrowed to patient compartments or consent, so it may not create resources with ids of its own choosing (https://hl7.org/fhir/R4/http.html#update): create it with POST ${type}`,
    );
  }
  checkIfMatch(req.ifMatch, hidden ? null : previous);
  const created = !previous || previous.deleted;
  const record = await writeVersion(ctx, tx, previous, type, id, body, 'PUT', req.access);
  return writtenResponse(ctx, record, created ? 201 : 200, req.prefer, created ? `Created ${type}/${id}` : `Updated ${type}/${id}`);
}
