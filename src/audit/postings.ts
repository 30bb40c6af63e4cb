/**
 * The search index of the embedded audit trail's view (lmdb-trail.ts) as posting lists: one LMDB entry per search
 * value and view transaction, not one per value and event.
 *
 *   key   = `<field>\0<value>\0` ‖ u64 BE sequence of the list's first event
 *   value = u32 BE offset from that first sequence, for each event holding the value, ascending
 *
 * Most events repeat most of their values (the type `rest`, the subtype, the user, the patient), so a view
 * transaction of hundreds of events writes a handful of lists instead of ~9 keys per event (~1 µs of main-thread
 * CPU each in lmdb-js). The lists of one value never overlap (each transaction holds later events than the one
 * before), so the list that may hold sequence `s` is the last key at or below `<prefix>` ‖ s.
 * `date` is not indexed: `recorded` never decreases along the chain (trail.ts, stampInOrder), so the trail finds a
 * date bound by a binary search over its events.
 */
import type { AuditEvent } from 'fhir/r4';
import type { Database } from 'lmdb';
import { indexValuesOf } from './index-keys';
import { AUDIT_FIELDS } from './trail';
import { setBounded } from '../core/bounded-map';

const SEQ_BYTES = 8;

/** Control characters never reach a key, so `\0` separates its parts. */
const clean = (s: string): string => s.replace(/[\x00-\x1f]/g, '');
/** The key prefix of a search value (or of every value of `field`). */
export const prefix = (field: string, value?: string): Buffer => Buffer.from(value === undefined ? `${field}\0` : `${field}\0${clean(value)}\0`);

function withSeq(p: Buffer, sequence: number): Buffer {
  const b = Buffer.allocUnsafe(p.length + SEQ_BYTES);
  p.copy(b);
  // Two 32-bit halves: the same bytes as writeBigUInt64BE, without a BigInt per key (sequences stay below 2^53).
  b.writeUInt32BE(Math.floor(sequence / 2 ** 32), p.length);
  b.writeUInt32BE(sequence % 2 ** 32, p.length + 4);
  return b;
}
const firstOf = (key: Buffer): number => Number(key.readBigUInt64BE(key.length - SEQ_BYTES));

/** Key prefixes of recent search values: most events repeat them (a subtype, a user, the type `rest`). */
const PREFIXES = new Map<string, Buffer>();
const PREFIX_CACHE = 4096;
function cachedPrefix(field: string, value: string): Buffer {
  const id = `${field}\0${value}`;
  let p = PREFIXES.get(id);
  if (!p) {
    p = prefix(field, value);
    setBounded(PREFIXES, id, p, PREFIX_CACHE);
  }
  return p;
}

/** Key prefixes of the shared agent values of one token (index-keys.ts agentValuesOf). */
const AGENT_PREFIXES = new WeakMap<readonly string[], Buffer[]>();
function agentPrefixes(values: readonly string[]): Buffer[] {
  let p = AGENT_PREFIXES.get(values);
  if (!p) AGENT_PREFIXES.set(values, (p = values.map((v) => prefix('agent', v))));
  return p;
}

/** The key prefixes of an event's search values (the same Buffer for a value seen recently). */
export function postingPrefixesOf(event: AuditEvent): Buffer[] {
  const values = indexValuesOf(event);
  const prefixes: Buffer[] = [];
  for (const field of AUDIT_FIELDS) {
    if (field === 'agent' && Object.isFrozen(values.agent)) prefixes.push(...agentPrefixes(values.agent));
    else for (const v of values[field]) prefixes.push(cachedPrefix(field, v));
  }
  return prefixes;
}

/** Collects the posting lists of consecutive events, for one view transaction. */
export class PostingBatch {
  private readonly lists = new Map<Buffer, number[]>();

  /** Events must come in sequence order. */
  add(prefixes: readonly Buffer[], sequence: number): void {
    for (const p of prefixes) {
      const list = this.lists.get(p);
      if (list) {
        if (list[list.length - 1] !== sequence) list.push(sequence);
      } else this.lists.set(p, [sequence]);
    }
  }

  /** Puts the lists (inside the caller's transaction or batch). */
  write(db: Database<Buffer, Buffer>): void {
    // A prefix evicted from the cache and made again is another Buffer with the same bytes: merge those.
    const byBytes = new Map<string, { prefix: Buffer; sequences: number[] }>();
    for (const [p, sequences] of this.lists) {
      const id = p.toString('latin1');
      const known = byBytes.get(id);
      if (known) known.sequences = [...new Set([...known.sequences, ...sequences])].sort((a, b) => a - b);
      else byBytes.set(id, { prefix: p, sequences });
    }
    for (const { prefix: p, sequences } of byBytes.values()) {
      const first = sequences[0] as number;
      const value = Buffer.allocUnsafe(sequences.length * 4);
      for (let i = 0; i < sequences.length; i++) value.writeUInt32BE((sequences[i] as number) - first, i * 4);
      void db.put(withSeq(p, first), value);
    }
    this.lists.clear();
  }
}

/** The events holding one search value, read from its posting lists. */
export class PostingReader {
  /** The list read last: most look-ups of a descending walk fall in it. */
  private list: { first: number; value: Buffer } | undefined;

  constructor(
    private readonly db: Database<Buffer, Buffer>,
    private readonly prefix: Buffer,
  ) {}

  /**
   * Sequences in [low, high), newest first. Events put into the view again (its head set back by hand, say) make a
   * list that overlaps an older one: what the newer list covered is not yielded twice.
   */
  *descending(low: number, high: number): Generator<number> {
    if (high <= low) return;
    let below = high;
    for (const { key, value } of this.db.getRange({ start: withSeq(this.prefix, high - 1), end: this.prefix, reverse: true })) {
      const first = firstOf(key);
      for (let at = value.length - 4; at >= 0; at -= 4) {
        const s = first + value.readUInt32BE(at);
        if (s < low) return;
        if (s < below) yield (below = s);
      }
      if (first <= low) return;
    }
  }

  has(sequence: number): boolean {
    let list = this.list;
    if (!list || sequence < list.first || sequence > list.first + list.value.readUInt32BE(list.value.length - 4)) {
      list = undefined;
      for (const { key, value } of this.db.getRange({ start: withSeq(this.prefix, sequence), end: this.prefix, reverse: true, limit: 1 })) {
        list = { first: firstOf(key), value };
      }
      if (!list) return false;
      this.list = list;
    }
    // Binary search of the offset.
    const target = sequence - list.first;
    let lo = 0;
    let hi = list.value.length / 4 - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const v = list.value.readUInt32BE(mid * 4);
      if (v === target) return true;
      if (v < target) lo = mid + 1;
      else hi = mid - 1;
    }
    return false;
  }
}

/** Sequences in [low, high) held by any of `readers` (ORed values of one field), newest first, each once. */
export function* union(readers: readonly PostingReader[], low: number, high: number): Generator<number> {
  if (readers.length === 1) {
    yield* (readers[0] as PostingReader).descending(low, high);
    return;
  }
  const cursors = readers.map((r) => r.descending(low, high));
  const heads = cursors.map((c) => c.next());
  for (;;) {
    let best = -1;
    for (const h of heads) if (!h.done && (h.value as number) > best) best = h.value as number;
    if (best < 0) return;
    yield best;
    heads.forEach((h, i) => {
      if (!h.done && h.value === best) heads[i] = (cursors[i] as Generator<number>).next();
    });
  }
}
