/** Search criteria of conditional interactions, as a query string (https://hl7.org/fhir/R4/http.html#cond-update). */
import { invalid } from '../core/errors';
import { RESULT_PARAMETERS } from '../search/criteria';

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
