/**
 * Accounting of disclosures: what a token may see of the trail. A token whose AuditEvent access comes only
 * from `patient/` scopes sees the events that concern its own patient (who accessed their record, when, why,
 * under which decision), never another patient's and never the trail's own reads (those concern no patient,
 * src/audit/event.ts). A `system/` or `user/` scope granting AuditEvent read, or no token (AUTH_MODE=off),
 * sees the whole trail.
 */
import type { RequestAccess } from '../access/request-access';
import { grantingScopes } from '../access/scopes';
import { FhirError } from '../core/errors';
import type { AuditQuery } from './trail';

/** The patient the caller is restricted to, or undefined for an auditor. */
export function disclosurePatient(access: RequestAccess | undefined): string | undefined {
  const token = access?.token;
  if (!token) return undefined;
  const granting = [...grantingScopes(token.scopes.resources, 'AuditEvent', 'r'), ...grantingScopes(token.scopes.resources, 'AuditEvent', 's')];
  if (granting.some((s) => s.context !== 'patient')) return undefined;
  if (!token.patient) throw new FhirError('forbidden', 'This token grants no access to the audit trail: it needs system/AuditEvent.rs, user/AuditEvent.rs, or patient/AuditEvent.rs with a patient');
  return `Patient/${token.patient}`;
}

/** ANDs the caller's patient into the query; naming another patient is refused. */
export function restrictToDisclosures(query: AuditQuery, access: RequestAccess | undefined): AuditQuery {
  const patient = disclosurePatient(access);
  if (patient === undefined) return query;
  for (const f of query.filters) {
    if (f.field === 'patient' && f.values.some((v) => v !== patient)) throw new FhirError('forbidden', `This token may only list the accesses to ${patient}`);
  }
  return { ...query, filters: [...query.filters, { field: 'patient', values: [patient] }] };
}
