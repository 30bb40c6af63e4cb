/** Response shaping shared by the write interactions: Prefer (https://hl7.org/fhir/R4/http.html#ops). */
import { informational, outcome } from '../core/outcome';
import type { ResourceRecord } from '../storage/records';
import type { FhirContext } from './context';
import type { FhirResponse, Preferences } from './types';

export function versionLocation(ctx: FhirContext, record: ResourceRecord): string {
  return `${ctx.baseUrl}/${record.type}/${record.id}/_history/${record.versionId}`;
}

/** A created/updated/patched version, answered per Prefer: return=minimal | representation (default) | OperationOutcome. */
export function writtenResponse(ctx: FhirContext, record: ResourceRecord, status: number, prefer: Preferences, message: string): FhirResponse {
  const base: FhirResponse = {
    status,
    versionId: String(record.versionId),
    lastUpdated: record.lastUpdated,
    location: versionLocation(ctx, record),
    written: { type: record.type, id: record.id, compartments: record.compartments },
  };
  if (prefer.return === 'minimal') return base;
  if (prefer.return === 'OperationOutcome') return { ...base, resource: outcome([informational(message)]) };
  return { ...base, resource: record.resource ?? undefined };
}
