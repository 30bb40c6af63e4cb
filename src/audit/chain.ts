/**
 * The hash chain of the audit trail. Every AuditEvent carries, in one extension (CHAIN_URL), its `sequence`
 * number (1, 2, 3...), the `previous` event's hash and its own `hash`:
 *
 *   hash(n) = SHA-256( hash(n-1) as 64 lower-case hex characters ‖ canonicalJson(event n without `previous` and `hash`) )
 *
 * with hash(0) = 64 zeros (GENESIS). So the hash covers every field of the event (its sequence number and id
 * included) and, through hash(n-1), every event before it: a changed, deleted, inserted or reordered event breaks
 * the link at that point. `previous` is carried for readers; the verifier checks it too.
 */
import { createHash } from 'node:crypto';
import type { AuditEvent, Extension } from 'fhir/r4';
import { canonicalJson } from './canonical';

export const CHAIN_URL = 'https://fhir-r4-server.example.org/StructureDefinition/audit-chain';
export const GENESIS = '0'.repeat(64);

/** An event as stored: its sequence, its hash, and the canonical text the hash covers (without previous/hash). */
export interface SealedEvent {
  sequence: number;
  hash: string;
  text: string;
}

export function chainHash(previous: string, text: string | Uint8Array): string {
  return createHash('sha256').update(previous).update(text).digest('hex');
}

/** Numbers the event and computes its link: `event` must not carry the chain extension yet. */
export function seal(event: AuditEvent, sequence: number, previous: string): SealedEvent {
  const text = sealedText(event, sequence);
  return { sequence, hash: chainHash(previous, text), text };
}

/** The canonical text of the event numbered `sequence` (its id and chain extension added), which its hash covers. */
export function sealedText(event: AuditEvent, sequence: number): string {
  const extension = (): Extension[] => [...(event.extension ?? []), { extension: [{ url: 'sequence', valueInteger: sequence }], url: CHAIN_URL }];
  for (const key in event) if (!ELEMENTS.has(key)) return canonicalJson(inNameOrder(event, String(sequence), extension()));
  // Most events carry no extension of their own: their chain extension's text is written straight from the sequence.
  return inOrderText(event, String(sequence), event.extension ? canonicalJson(extension()) : `[{"extension":[{"url":"sequence","valueInteger":${sequence}}],"url":${CHAIN_URL_JSON}}]`);
}

const CHAIN_URL_JSON = JSON.stringify(CHAIN_URL);

/**
 * canonicalJson of inNameOrder(e, id, extension), written member by member: the same text (test/unit/audit/
 * canonical.test.ts compares the two), without building the object and checking its order again; the members
 * events share (shared(), src/audit/event.ts) are written from their remembered text.
 */
function inOrderText(e: AuditEvent, id: string, extensionText: string): string {
  let text = '';
  const member = (name: string, value: unknown): void => {
    if (value === undefined) return;
    text += `${text ? ',' : '{'}"${name}":${canonicalJson(value)}`;
  };
  member('action', e.action);
  member('agent', e.agent);
  member('contained', e.contained);
  member('entity', e.entity);
  text += `${text ? ',' : '{'}"extension":${extensionText}`;
  member('id', id);
  member('implicitRules', e.implicitRules);
  member('language', e.language);
  member('meta', e.meta);
  member('modifierExtension', e.modifierExtension);
  member('outcome', e.outcome);
  member('outcomeDesc', e.outcomeDesc);
  member('period', e.period);
  member('purposeOfEvent', e.purposeOfEvent);
  member('recorded', e.recorded);
  member('resourceType', e.resourceType);
  member('source', e.source);
  member('subtype', e.subtype);
  member('text', e.text);
  member('type', e.type);
  return `${text}}`;
}

/** The elements of an R4 AuditEvent (https://hl7.org/fhir/R4/auditevent.html#resource). */
const ELEMENTS = new Set(['action', 'agent', 'contained', 'entity', 'extension', 'id', 'implicitRules', 'language', 'meta', 'modifierExtension', 'outcome', 'outcomeDesc', 'period', 'purposeOfEvent', 'recorded', 'resourceType', 'source', 'subtype', 'text', 'type']);

/**
 * The same members in name order, with the event's `id` and `extension` as given (one copy, not two), so canonicalJson takes its JSON.stringify path: one object literal in that order
 * (one shape for every event, which JSON.stringify walks fastest), or, for an event with other members (`_recorded`...), sorted one by one.
 */
function inNameOrder(e: AuditEvent, id: string, extension: Extension[]): AuditEvent {
  for (const key in e) {
    if (!ELEMENTS.has(key)) return Object.fromEntries(Object.entries({ ...e, id, extension }).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) as unknown as AuditEvent;
  }
  return {
    action: e.action, agent: e.agent, contained: e.contained, entity: e.entity, extension, id, implicitRules: e.implicitRules, language: e.language,
    meta: e.meta, modifierExtension: e.modifierExtension, outcome: e.outcome, outcomeDesc: e.outcomeDesc, period: e.period, purposeOfEvent: e.purposeOfEvent,
    recorded: e.recorded, resourceType: e.resourceType, source: e.source, subtype: e.subtype, text: e.text, type: e.type,
  } as AuditEvent;
}

/** The event as served: the stored text with `previous` and `hash` added to its chain extension. */
export function unseal(stored: SealedEvent, previous: string): AuditEvent {
  const event = JSON.parse(stored.text) as AuditEvent;
  const chain = event.extension?.find((e) => e.url === CHAIN_URL);
  chain?.extension?.push({ url: 'previous', valueString: previous }, { url: 'hash', valueString: stored.hash });
  return event;
}

/** Reads sequence, previous and hash of a served AuditEvent and the canonical text its hash covers. */
export function linkOf(event: AuditEvent): { sequence: number; previous: string; hash: string; text: string } | undefined {
  const chain = event.extension?.find((e) => e.url === CHAIN_URL);
  const part = (name: string): Extension | undefined => chain?.extension?.find((e) => e.url === name);
  const sequence = part('sequence')?.valueInteger;
  const previous = part('previous')?.valueString;
  const hash = part('hash')?.valueString;
  if (typeof sequence !== 'number' || typeof previous !== 'string' || typeof hash !== 'string') return undefined;
  const stripped: AuditEvent = {
    ...event,
    extension: event.extension?.map((e) => (e === chain ? { ...e, extension: e.extension?.filter((x) => x.url !== 'previous' && x.url !== 'hash') } : e)),
  };
  return { sequence, previous, hash, text: canonicalJson(stripped) };
}

/** The first problem of a chain check, or none. */
export interface ChainReport {
  ok: boolean;
  /** Events checked. */
  checked: number;
  firstSequence?: number;
  lastSequence?: number;
  lastHash?: string;
  /** The first broken or missing link. */
  broken?: { sequence: number; reason: string };
}

/**
 * Checks links one by one, in the order given (ascending sequence): each event's hash must match its text and
 * the hash before it, and sequence numbers must follow without a gap. `start` is the hash before the first one
 * (GENESIS from the beginning; for a partial check, the hash the first event says it follows).
 */
export class ChainChecker {
  private expected: number | undefined;
  private prev: string | undefined;
  readonly report: ChainReport = { ok: true, checked: 0 };

  constructor(start?: { sequence: number; previous: string }) {
    if (start) {
      this.expected = start.sequence;
      this.prev = start.previous;
    }
  }

  /** Returns false once a link is broken (the report says where). */
  next(sequence: number, hash: string, text: string | Uint8Array, previous?: string): boolean {
    if (!this.report.ok) return false;
    const r = this.report;
    if (this.expected === undefined) {
      this.expected = sequence;
      this.prev = previous ?? (sequence === 1 ? GENESIS : undefined);
    }
    const fail = (at: number, reason: string): boolean => {
      r.ok = false;
      r.broken = { sequence: at, reason };
      return false;
    };
    if (sequence !== this.expected) {
      return fail(this.expected, sequence > this.expected ? `event ${this.expected} is missing (next event found is ${sequence})` : `event ${sequence} is out of order or repeated (expected ${this.expected})`);
    }
    if (previous !== undefined && this.prev !== undefined && previous !== this.prev) return fail(sequence, `event ${sequence} names a previous hash that is not the hash of event ${sequence - 1}`);
    if (this.prev === undefined) return fail(sequence, `event ${sequence} does not say which hash it follows`);
    if (chainHash(this.prev, text) !== hash) return fail(sequence, `event ${sequence} was altered: its content does not match its hash and the hash before it`);
    r.checked++;
    r.firstSequence ??= sequence;
    r.lastSequence = sequence;
    r.lastHash = hash;
    this.prev = hash;
    this.expected = sequence + 1;
    return true;
  }
}
