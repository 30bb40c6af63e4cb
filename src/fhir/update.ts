/**
 * update: https://hl7.org/fhir/R4/http.html#update — the body id must equal the URL id; updating a resource that
 * does not exist (or was deleted) creates it with the client's id (update-as-create, 201).
 * Conditional update: https://hl7.org/fhir/R4/http.html#cond-update
 */
import type { Resource } from 'fhir/r4';
import { invalid, preconditionFailed } from '../core/errors';
import type { StoreTransaction } from '../storage/port';
import { matchInTransaction } from './conditional';
import type { FhirContext } from './context';
import { accessOptions, requireCriteria } from './criteria';
import { expectResourceBody } from './incoming';
import { inTransaction, loadCurrent, writeVersion } from './persist';
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
  return inTransaction(ctx, (tx) => saveUpdate(ctx, tx, req, type, id, body));
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
    return saveUpdate(ctx, tx, req, type, id, body);
  });
}

async function saveUpdate(
  ctx: FhirContext,
  tx: StoreTransaction,
  req: FhirRequest,
  type: string,
  id: string,
  body: Resource,
): Promise<FhirResponse> {
  const previous = await loadCurrent(tx, type, id);
  checkIfMatch(req.ifMatch, previous);
  const created = !previous || previous.deleted;
  const record = await writeVersion(ctx, tx, previous, type, id, body, 'PUT', req.access);
  return writtenResponse(ctx, record, created ? 201 : 200, req.prefer, created ? `Created ${type}/${id}` : `Updated ${type}/${id}`);
}
