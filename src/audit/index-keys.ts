/**
 * The index values of an AuditEvent for the audit search parameters, shared by every trail adapter.
 * Small strings per event (references, codes), never whole events.
 */
import type { AuditEvent } from 'fhir/r4';
import type { AuditField } from './trail';

export type AuditIndexValues = Record<AuditField, string[]> & { date: string };

const ref = (r: { reference?: string } | undefined): string | undefined => r?.reference;

export function indexValuesOf(event: AuditEvent): AuditIndexValues {
  const uniq = (xs: Array<string | undefined>): string[] => [...new Set(xs.filter((x): x is string => typeof x === 'string' && x !== ''))];
  const entities = event.entity ?? [];
  return {
    date: event.recorded,
    patient: uniq(entities.filter((e) => e.role?.code === '1' && ref(e.what)?.startsWith('Patient/')).map((e) => ref(e.what))),
    agent: uniq((event.agent ?? []).flatMap((a) => [ref(a.who), a.who?.identifier?.value, a.altId])),
    entity: uniq(entities.map((e) => ref(e.what))),
    type: uniq([event.type?.code]),
    subtype: uniq((event.subtype ?? []).map((s) => s.code)),
    outcome: uniq([event.outcome]),
    purpose: uniq((event.purposeOfEvent ?? []).flatMap((p) => (p.coding ?? []).map((c) => c.code))),
  };
}

/** A search value as the index holds it: tokens without their system, patient ids as `Patient/<id>`. */
export function normaliseSearchValue(field: AuditField, value: string): string {
  const bar = value.lastIndexOf('|');
  const token = field === 'type' || field === 'subtype' || field === 'outcome' || field === 'purpose';
  if (token && bar >= 0) return value.slice(bar + 1);
  if (field === 'patient' && !value.includes('/')) return `Patient/${value}`;
  return value;
}
