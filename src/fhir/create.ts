/**
 * create: https://hl7.org/fhir/R4/http.html#create — the server assigns id, versionId and lastUpdated
 * (any id in the body is ignored). Conditional create with If-None-Exist: https://hl7.org/fhir/R4/http.html#ccreate
 */
import { FhirError, invalid, preconditionFailed } from '../core/errors';
import { matchInTransaction } from './conditional';
import type { FhirContext } from './context';
import { accessOptions, parseCriteria } from './criteria';
import { expectResourceBody } from './incoming';
import { inTransaction, writeVersion } from './persist';
import { writtenResponse } from './respond';
import { assertResourceType } from './target';
import type { FhirRequest, FhirResponse } from './types';

export async function create(ctx: FhirContext, req: FhirRequest, type: string): Promise<FhirResponse> {
  assertResourceType(ctx, type);
  const body = expectResourceBody(ctx, req.body, type);
  const bundleType = type === 'Bundle' ? (body as { type?: unknown }).type : undefined;
  if (bundleType === 'transaction' || bundleType === 'batch') {
    throw invalid(`A ${bundleType} Bundle is processed by POST to the FHIR base (POST ${ctx.baseUrl}), not stored with POST Bundle`, 'Bundle.type');
  }
  const criteria = req.ifNoneExist !== undefined ? parseCriteria(req.ifNoneExist, 'If-None-Exist') : undefined;
  return inTransaction(ctx, async (tx) => {
    if (criteria) {
      const matches = await matchInTransaction(ctx, tx, type, criteria, 2, await accessOptions(ctx, req));
      if (matches.length > 1) throw preconditionFailed(`If-None-Exist matched ${matches.length}+ ${type} resources; make the criteria more selective`);
      const [existing] = matches;
      if (existing) {
        if (!existing.resource) throw new FhirError('fault', 'A search match has no content');
        return writtenResponse(ctx, existing, 200, req.prefer, `${type}/${existing.id} already matches If-None-Exist; nothing was created`);
      }
    }
    const record = await writeVersion(ctx, tx, null, type, ctx.ids.next(), body, 'POST', req.access);
    return writtenResponse(ctx, record, 201, req.prefer, `Created ${type}/${record.id}`);
  });
}
