/** Search criteria of conditional interactions, as a query string (https://hl7.org/fhir/R4/http.html#cond-update). */
import { invalid } from '../core/errors';

/** Parses `identifier=http://x|1&_lastUpdated=gt2020` (an optional leading `?` or `Type?` is tolerated). */
export function parseCriteria(text: string, source: string): Array<[string, string]> {
  const query = text.includes('?') ? text.slice(text.indexOf('?') + 1) : text;
  const pairs = [...new URLSearchParams(query)].filter(([name]) => name !== '');
  if (!pairs.length) throw invalid(`${source} has no search criteria: give at least one parameter, e.g. identifier=system|value`);
  return pairs;
}

/** Conditional update/delete/patch take their criteria from the URL query; an empty one is refused. */
export function requireCriteria(query: Array<[string, string]>, interaction: string): Array<[string, string]> {
  const pairs = query.filter(([name]) => name !== '_format' && name !== '_pretty');
  if (!pairs.length) throw invalid(`Conditional ${interaction} needs search criteria in the URL, e.g. ?identifier=system|value`);
  return pairs;
}
