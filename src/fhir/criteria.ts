/** Search criteria of conditional interactions, as a query string (https://hl7.org/fhir/R4/http.html#cond-update). */
import { invalid } from '../core/errors';
import { RESULT_PARAMETERS } from '../search/criteria';
import type { SearchOptions } from '../search/service';
import type { FhirContext } from './context';
import type { FhirRequest } from './types';

/**
 * The search options of a request: its access filter ANDed into every query, so conditional criteria and
 * searches match only what the caller may see (src/access/control.ts).
 */
export async function accessOptions(ctx: FhirContext, req: FhirRequest): Promise<SearchOptions> {
  const scope = ctx.access ? await ctx.access.readFilter(req.access, 's') : undefined;
  return scope === undefined ? {} : { scope };
}

/** Parses `identifier=http://x|1&_lastUpdated=gt2020` (an optional leading `?` or `Type?` is tolerated). */
export function parseCriteria(text: string, source: string): Array<[string, string]> {
  const query = text.includes('?') ? text.slice(text.indexOf('?') + 1) : text;
  const pairs = [...new URLSearchParams(query)].filter(([name]) => name !== '');
  if (!pairs.length) throw invalid(`${source} has no search criteria: give at least one parameter, e.g. identifier=system|value`);
  return pairs;
}

/**
 * Conditional update/delete/patch take their criteria from the URL query; without any search criteria (result
 * parameters such as _count or _format select nothing) the request is refused rather than matching everything.
 */
export function requireCriteria(query: Array<[string, string]>, interaction: string): Array<[string, string]> {
  const pairs = query.filter(([name]) => !RESULT_PARAMETERS.has(name.split(':')[0] ?? name));
  if (!pairs.length) throw invalid(`Conditional ${interaction} needs search criteria in the URL, e.g. ?identifier=system|value`);
  return pairs;
}
