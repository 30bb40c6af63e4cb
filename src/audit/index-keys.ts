/**
 * The index values of an AuditEvent for the audit search parameters, shared by every trail adapter.
 * Small strings per event (references, codes), never whole events.
 */
import type { AuditEvent, AuditEventAgent } from 'fhir/r4';
import type { AuditField } from './trail';

export type AuditIndexValues = Record<AuditField, string[]> & { date: string };

/** Adds `x` unless empty, absent or there already (the lists are a few entries long). */
function add(list: string[], x: string | undefined): void {
  if (typeof x === 'string' && x !== '' && !list.includes(x)) list.push(x);
}

export function indexValuesOf(event: AuditEvent): AuditIndexValues {
  const values: AuditIndexValues = { date: event.recorded, patient: [], agent: [], entity: [], type: [], subtype: [], outcome: [], purpose: [] };
  // A search's event names every resource it returned: a Set keeps that list linear in their number.
  const entities = new Set<string>();
  for (const e of event.entity ?? []) {
    const what = e.what?.reference;
    if (e.role?.code === '1' && what?.startsWith('Patient/')) add(values.patient, what);
    if (typeof what === 'string' && what !== '') entities.add(what);
  }
  values.entity = [...entities];
  values.agent = agentValuesOf(event.agent ?? []);
  add(values.type, event.type?.code);
  for (const s of event.subtype ?? []) add(values.subtype, s.code);
  add(values.outcome, event.outcome);
  for (const p of event.purposeOfEvent ?? []) for (const c of p.coding ?? []) add(values.purpose, c.code);
  return values;
}

/** The agents of one token are one frozen array shared by its events (src/audit/event.ts): their values are worked out once. */
const AGENT_VALUES = new WeakMap<object, string[]>();

/** The `agent` search values of an event's agents; the same (frozen) list for the same frozen agents. */
export function agentValuesOf(agents: readonly AuditEventAgent[]): string[] {
  const known = AGENT_VALUES.get(agents);
  if (known) return known;
  const list: string[] = [];
  for (const a of agents) {
    add(list, a.who?.reference);
    add(list, a.who?.identifier?.value);
    add(list, a.altId);
  }
  if (Object.isFrozen(agents)) AGENT_VALUES.set(agents, Object.freeze(list) as string[]);
  return list;
}

/** A search value as the index holds it: tokens without their system, patient ids as `Patient/<id>`. */
export function normaliseSearchValue(field: AuditField, value: string): string {
  const bar = value.lastIndexOf('|');
  const token = field === 'type' || field === 'subtype' || field === 'outcome' || field === 'purpose';
  if (token && bar >= 0) return value.slice(bar + 1);
  if (field === 'patient' && !value.includes('/')) return `Patient/${value}`;
  return value;
}
