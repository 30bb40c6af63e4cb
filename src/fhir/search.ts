/**
 * The search interactions: type, compartment and system search, by GET or POST _search
 * (https://hl7.org/fhir/R4/http.html#search, https://hl7.org/fhir/R4/search.html). Unknown parameters are
 * ignored with a warning unless the client prefers `handling=strict` (https://hl7.org/fhir/R4/search.html#errors).
 */
import type { SearchOptions, SearchTarget } from '../search/service';
import type { FhirContext } from './context';
import type { FhirRequest, FhirResponse } from './types';

export async function searchInteraction(ctx: FhirContext, req: FhirRequest, target: SearchTarget): Promise<FhirResponse> {
  const handling = req.prefer.handling ?? 'lenient';
  const effective: SearchTarget = target.compartment && target.resourceType === '*' ? { compartment: target.compartment } : target;
  const seen: string[] = [];
  const bundle = await ctx.search.search(effective, req.query, handling, { ...(ctx.transaction ? { reader: ctx.transaction } : {}), ...(await searchAccess(ctx, req, seen)) });
  await ctx.access?.note(req.access, 's', seen);
  return { status: 200, resource: bundle };
}

/**
 * The request's access in a search: the filter inside every query, the final check on every entry, and for a
 * clinician the records consent withheld (so the bundle can say some were, without which).
 */
export async function searchAccess(ctx: FhirContext, req: FhirRequest, seen: string[] = []): Promise<SearchOptions> {
  const control = ctx.access;
  const scope = control ? await control.readFilter(req.access, 's') : undefined;
  if (!control || scope === undefined) return {};
  const withheld = await control.withheldFilter(req.access, 's');
  return {
    scope,
    admit: (record) => {
      const admitted = control.test(scope, record);
      if (admitted) seen.push(...(record.compartments ?? []));
      return admitted;
    },
    ...(withheld ? { withheld, withheldMemo: control.withheldMemo(withheld) } : {}),
  };
}
