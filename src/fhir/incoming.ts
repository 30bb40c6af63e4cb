/**
 * Turns a request body into a resource fit to store: shape checks, JSON safety limits and validation against
 * the R4 base definitions (https://hl7.org/fhir/R4/validation.html). All problems are reported at once.
 */
import type { Resource } from 'fhir/r4';
import { FhirError, invalid } from '../core/errors';
import { checkJsonSafety } from '../validation/guards';
import { rejectionCategory } from '../validation/validator';
import type { FhirContext } from './context';

/** The body must be a JSON object naming a known resourceType equal to the one in the URL. */
export function expectResourceBody(ctx: FhirContext, body: unknown, urlType: string): Resource {
  if (body === undefined) throw invalid(`The request has no body: send a ${urlType} resource as application/fhir+json`);
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw invalid(`The body must be a JSON object holding a ${urlType} resource`);
  }
  const safety = checkJsonSafety(body);
  if (safety.length) throw new FhirError('incorrect', safety);
  const resourceType = (body as { resourceType?: unknown }).resourceType;
  if (typeof resourceType !== 'string') throw invalid(`The body has no resourceType: expected '${urlType}'`, 'resourceType');
  if (!ctx.validator.isResourceType(resourceType)) throw invalid(`Unknown resourceType '${resourceType.slice(0, 80)}' in the body`, 'resourceType');
  if (resourceType !== urlType) {
    throw invalid(`The body holds a ${resourceType} but the URL addresses ${urlType}`, 'resourceType');
  }
  return body as Resource;
}

/** Base validation of the resource as it will be stored; 400 (structure) or 422 (invariants) with every issue when it fails. */
export function assertValid(ctx: FhirContext, resource: Resource): void {
  const issues = ctx.validator.validate(resource);
  if (issues.some((i) => i.severity === 'error' || i.severity === 'fatal')) throw new FhirError(rejectionCategory(issues), issues);
}
