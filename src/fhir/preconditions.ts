/**
 * Version-aware preconditions: If-Match for optimistic locking (https://hl7.org/fhir/R4/http.html#concurrency),
 * If-None-Match / If-Modified-Since for conditional reads (https://hl7.org/fhir/R4/http.html#cread).
 */
import { FhirError, invalid, preconditionFailed } from '../core/errors';
import type { ResourceRecord } from '../storage/records';

/** Weak ETag of a version: W/"3". */
export const etagOf = (versionId: number | string): string => `W/"${versionId}"`;

/** Version number named by an ETag such as W/"3" or "3"; undefined for '*'. */
export function parseETag(value: string): number | undefined {
  const trimmed = value.trim();
  if (trimmed === '*') return undefined;
  const match = /^(?:W\/)?"(\d{1,15})"$/.exec(trimmed);
  if (!match) throw invalid(`Invalid ETag '${trimmed.slice(0, 40)}': expected W/"<versionId>"`);
  return Number(match[1]);
}

/** If-Match: the update applies only to the named version; anything else is 412. */
export function checkIfMatch(ifMatch: string | undefined, current: ResourceRecord | null): void {
  if (ifMatch === undefined) return;
  const wanted = parseETag(ifMatch);
  const live = current && !current.deleted ? current : null;
  if (!live) throw preconditionFailed(`If-Match ${ifMatch.trim()} was given but the resource does not exist`);
  if (wanted !== undefined && live.versionId !== wanted) {
    throw new FhirError('precondition-failed', [
      {
        severity: 'error',
        code: 'conflict',
        diagnostics: `Version conflict: If-Match names version ${wanted} but the current version is ${live.versionId}; read the resource again and reapply your change`,
      },
    ]);
  }
}

/** True when a conditional read can answer 304 Not Modified. */
export function notModified(record: ResourceRecord, ifNoneMatch?: string, ifModifiedSince?: string): boolean {
  if (ifNoneMatch !== undefined) {
    return ifNoneMatch.split(',').some((tag) => {
      const t = tag.trim();
      return t === '*' || /^(?:W\/)?"(\d+)"$/.exec(t)?.[1] === String(record.versionId);
    });
  }
  if (ifModifiedSince !== undefined) {
    const since = Date.parse(ifModifiedSince);
    if (Number.isNaN(since)) return false;
    // HTTP dates have whole-second precision (https://www.rfc-editor.org/rfc/rfc9110#section-13.1.3).
    return Math.floor(Date.parse(record.lastUpdated) / 1000) * 1000 <= since;
  }
  return false;
}
