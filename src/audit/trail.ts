/**
 * The audit trail port: an append-only, hash-chained log of AuditEvents kept apart from the resources
 * (so resource search, history and $export never see it), with the small search indexes the AuditEvent read
 * API needs. Adapters: LMDB files in DATA_DIR/audit (lmdb-trail.ts) and a MongoDB `audit` collection
 * (mongo-trail.ts). Appends are serialised in call order; `append` resolves only once the event is durable.
 */
import type { AuditEvent } from 'fhir/r4';
import type { ChainReport } from './chain';

/** The search parameters of the trail (https://hl7.org/fhir/R4/auditevent.html#search), besides `date`. */
export const AUDIT_FIELDS = ['patient', 'agent', 'entity', 'type', 'subtype', 'outcome', 'purpose'] as const;
export type AuditField = (typeof AUDIT_FIELDS)[number];

export interface AuditQuery {
  /** ANDed; each lists alternatives (ORed), as normalised index values (src/audit/index-keys.ts). */
  filters: Array<{ field: AuditField; values: string[] }>;
  /** `recorded` within [low, high) as ISO strings compared lexically; either bound may be absent. */
  dates: Array<{ low?: string; high?: string }>;
  /** Newest first; only events with a smaller sequence than `before`. */
  before?: number;
  count: number;
}

export interface AuditPage {
  events: AuditEvent[];
  /** Matches of the whole query; absent when there are more than COUNT_LIMIT (counting them would cost a scan). */
  total?: number;
  /** Sequence to continue below, when more events match. */
  next?: number;
}

export interface AuditTrail {
  readonly kind: 'embedded' | 'mongodb' | string;
  /** Seals the event (sequence, previous hash, hash) and resolves with its sequence once it is durable. */
  append(event: AuditEvent): Promise<number>;
  read(sequence: number): Promise<AuditEvent | undefined>;
  search(query: AuditQuery): Promise<AuditPage>;
  /** Events from `from` (default 1) in sequence order, as served (with previous and hash). */
  scan(from?: number): AsyncIterable<AuditEvent>;
  /** Checks the chain: all of it, or only the last `tail` events and the stored head. */
  verify(options?: { tail?: number }): Promise<ChainReport>;
  /** Why appends are refused (a failed commit, a closed store), or undefined while the trail takes events. */
  failure(): string | undefined;
  close(): Promise<void>;
}

/** Searches count their matches up to this many; beyond it a page carries no total. */
export const COUNT_LIMIT = 10_000;

/**
 * The event as appended: `recorded` never decreases along the chain (an event built before the one appended last,
 * such as a transaction's entry held back until the transaction ended, takes that one's time), so a `date` range
 * of the trail is a range of sequence numbers. Returns `event` itself when it is in order.
 */
export function stampInOrder(event: AuditEvent, lastRecorded: string): AuditEvent {
  return event.recorded < lastRecorded ? { ...event, recorded: lastRecorded } : event;
}

/** Thrown by adapters when the trail cannot take an event: the request that caused it must fail. */
export class AuditUnavailable extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AuditUnavailable';
  }
}

/** The broken link of a trail whose recorded head is ahead of its last stored event (events lost from the end). */
export function missingTail(lastStored: number, head: number): { sequence: number; reason: string } {
  return { sequence: lastStored + 1, reason: `events ${lastStored + 1} to ${head} are missing from the end of the trail` };
}

/** Why an adapter refuses appends: an earlier failed commit, or a closed store. */
export function refusal(failed: Error | undefined, closed: boolean): string | undefined {
  if (failed) return `an audit event could not be stored: ${failed.message}`;
  return closed ? 'the audit trail is closed' : undefined;
}
