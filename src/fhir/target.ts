/** Checks on the URL parts that name a resource (https://hl7.org/fhir/R4/http.html#general). */
import { FhirError, invalid } from '../core/errors';
import { isValidId } from '../core/ids';
import type { FhirContext } from './context';

/** An unknown type in the URL is a missing endpoint: 404 (https://hl7.org/fhir/R4/http.html#Status-Codes). */
export function assertResourceType(ctx: FhirContext, type: string): void {
  if (!ctx.validator.isResourceType(type)) {
    throw new FhirError('not-found', [
      { severity: 'error', code: 'not-supported', diagnostics: `Unknown resource type '${type}': this server supports the FHIR R4 resource types` },
    ]);
  }
}

export function assertId(id: string): void {
  if (!isValidId(id)) {
    throw invalid(`Invalid resource id '${id.slice(0, 80)}': an id is 1-64 characters of A-Z, a-z, 0-9, '-' and '.'`);
  }
}

export function parseVersionId(vid: string): number {
  if (!/^[1-9]\d{0,15}$/.test(vid)) throw invalid(`Invalid version id '${vid.slice(0, 80)}': version ids on this server are positive integers`);
  return Number(vid);
}
