/**
 * `_summary` and `_elements` on read and vread: the same trimming as search
 * (https://hl7.org/fhir/R4/search.html#summary, https://hl7.org/fhir/R4/search.html#elements), which R4 allows on
 * any interaction that returns resources. `_summary=count` has no meaning for a single resource and is refused.
 */
import type { Resource } from 'fhir/r4';
import { invalid } from '../core/errors';
import { parseElements } from '../search/results/parameters';
import type { FhirContext } from './context';
import type { FhirRequest } from './types';

const READ_SUMMARY = new Set(['true', 'text', 'data', 'false']);

export function subsetForRead(ctx: FhirContext, req: FhirRequest, resource: Resource): Resource {
  let summary: string | undefined;
  let elements: string[] | undefined;
  for (const [name, value] of req.query) {
    if (name === '_summary') {
      if (!READ_SUMMARY.has(value)) throw invalid(`_summary on a read must be true, text, data or false`, '_summary');
      summary = value;
    } else if (name === '_elements') {
      elements = parseElements(value);
    }
  }
  if (summary === 'true' || summary === 'text' || summary === 'data') {
    if (elements) throw invalid('_elements cannot be combined with _summary on a read', '_elements');
    return ctx.search.subsetter.summary(resource, summary);
  }
  return elements ? ctx.search.subsetter.elements(resource, elements) : resource;
}
