/**
 * The search interactions: type, compartment and system search, by GET or POST _search
 * (https://hl7.org/fhir/R4/http.html#search, https://hl7.org/fhir/R4/search.html). Unknown parameters are
 * ignored with a warning unless the client prefers `handling=strict` (https://hl7.org/fhir/R4/search.html#errors).
 */
import type { SearchService, SearchTarget } from '../search/service';
import type { StoreTransaction } from '../storage/port';
import type { FhirRequest, FhirResponse } from './types';

export async function searchInteraction(
  ctx: { search: SearchService; transaction?: StoreTransaction },
  req: FhirRequest,
  target: SearchTarget,
): Promise<FhirResponse> {
  const handling = req.prefer.handling ?? 'lenient';
  const effective: SearchTarget = target.compartment && target.resourceType === '*' ? { compartment: target.compartment } : target;
  const bundle = await ctx.search.search(effective, req.query, handling, ctx.transaction ? { reader: ctx.transaction } : {});
  return { status: 200, resource: bundle };
}
