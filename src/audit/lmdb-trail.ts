/**
 * The embedded audit trail: LMDB files (lmdb-js, memory-mapped) in DATA_DIR/audit, nothing of the trail on the
 * JS heap but the chain's head. Three databases in one environment:
 * - `events`: key = sequence as 8 bytes big-endian, value = hash (64 hex) + canonical text of the event;
 * - `index`: key = `<field>\0<value>\0` + sequence (8 bytes), empty value; one key per search value of an event;
 * - `meta`: `head` = {sequence, hash} of the last event, written in the same transaction as the event.
 * lmdb-js batches the puts of concurrent requests into one transaction per event turn (group commit); with
 * overlappingSync, a transaction commits (visible, and safe from a process crash) while the one before it is
 * still being synced, and `append` resolves only after `flushed`: the commit is synced to disk.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { AuditEvent } from 'fhir/r4';
import { open, type Database, type RootDatabase } from 'lmdb';
import { ChainChecker, GENESIS, seal, unseal, type ChainReport, type SealedEvent } from './chain';
import { indexValuesOf } from './index-keys';
import { AUDIT_FIELDS, AuditUnavailable, refusal, type AuditPage, type AuditQuery, type AuditTrail } from './trail';

const SEQ_BYTES = 8;
const EMPTY = Buffer.alloc(0);

function seqKey(sequence: number): Buffer {
  const b = Buffer.allocUnsafe(SEQ_BYTES);
  b.writeBigUInt64BE(BigInt(sequence));
  return b;
}
const seqOf = (key: Buffer, at = key.length - SEQ_BYTES): number => Number(key.readBigUInt64BE(at));
/** Control characters never reach a key, so `\0` separates its parts. */
const clean = (s: string): string => s.replace(/[\x00-\x1f]/g, '');
const prefix = (field: string, value?: string): Buffer => Buffer.from(value === undefined ? `${field}\0` : `${field}\0${clean(value)}\0`);
/** The first key after every key starting with `p`. */
function after(p: Buffer): Buffer {
  const b = Buffer.from(p);
  b[b.length - 1] = (b[b.length - 1] as number) + 1;
  return b;
}

export interface LmdbTrailOptions {
  /** Folder of the trail (DATA_DIR/audit); created if absent. */
  dir: string;
}

export class LmdbAuditTrail implements AuditTrail {
  readonly kind = 'embedded';
  private head: { sequence: number; hash: string };
  private failed: Error | undefined;
  private closed = false;
  /** Set for a temporary trail (tests): its folder is removed on close. */
  private removeOnClose: string | undefined;

  private constructor(
    private readonly root: RootDatabase,
    private readonly events: Database<Buffer, Buffer>,
    private readonly index: Database<Buffer, Buffer>,
    private readonly meta: Database<string, string>,
  ) {
    const last = this.lastStored();
    this.head = last ? { sequence: last.sequence, hash: last.hash } : { sequence: 0, hash: GENESIS };
  }

  static open(options: LmdbTrailOptions): LmdbAuditTrail {
    fs.mkdirSync(options.dir, { recursive: true });
    const root = open({ path: path.join(options.dir, 'trail.mdb'), maxDbs: 4, overlappingSync: true, noSubdir: true });
    const events = root.openDB<Buffer, Buffer>({ name: 'events', keyEncoding: 'binary', encoding: 'binary', cache: false });
    const index = root.openDB<Buffer, Buffer>({ name: 'index', keyEncoding: 'binary', encoding: 'binary', cache: false });
    const meta = root.openDB<string, string>({ name: 'meta', encoding: 'string', cache: false });
    return new LmdbAuditTrail(root, events, index, meta);
  }

  /** A trail in a new temporary folder, removed on close (tests and benchmarks). */
  static temporary(): LmdbAuditTrail {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fhir-audit-'));
    const trail = LmdbAuditTrail.open({ dir });
    trail.removeOnClose = dir;
    return trail;
  }

  private lastStored(): SealedEvent | undefined {
    for (const { key, value } of this.events.getRange({ reverse: true, limit: 1 })) return stored(key, value);
    return undefined;
  }

  append(event: AuditEvent): Promise<number> {
    if (this.closed) return Promise.reject(new AuditUnavailable('the audit trail is closed'));
    if (this.failed) return Promise.reject(new AuditUnavailable(`the audit trail failed earlier and takes no more events: ${this.failed.message}`));
    const sealed = seal(event, this.head.sequence + 1, this.head.hash);
    this.head = { sequence: sealed.sequence, hash: sealed.hash };
    const key = seqKey(sealed.sequence);
    const values = indexValuesOf(event);
    let written: Promise<boolean>;
    try {
      written = this.events.put(key, Buffer.from(sealed.hash + sealed.text));
      this.index.put(Buffer.concat([prefix('date', values.date), key]), EMPTY);
      for (const field of AUDIT_FIELDS) for (const v of values[field]) this.index.put(Buffer.concat([prefix(field, v), key]), EMPTY);
      this.meta.put('head', JSON.stringify(this.head));
    } catch (err) {
      return Promise.reject(this.fail(err));
    }
    // Every put of this event is in the same batch as the events put, so this promise covers them all.
    return written.then(
      () => this.root.flushed.then(() => sealed.sequence),
      (err: unknown) => {
        throw this.fail(err);
      },
    );
  }

  /** After a failed commit the in-memory head is ahead of the disk: refuse everything from now on. */
  private fail(err: unknown): AuditUnavailable {
    this.failed ??= err instanceof Error ? err : new Error(String(err));
    return new AuditUnavailable(`the audit event could not be stored: ${this.failed.message}`);
  }

  async read(sequence: number): Promise<AuditEvent | undefined> {
    if (!Number.isSafeInteger(sequence) || sequence < 1) return undefined;
    const value = this.events.get(seqKey(sequence));
    if (value === undefined) return undefined;
    return unseal(stored(seqKey(sequence), value), this.hashOf(sequence - 1));
  }

  private hashOf(sequence: number): string {
    if (sequence < 1) return GENESIS;
    return this.events.get(seqKey(sequence))?.toString('latin1', 0, 64) ?? GENESIS;
  }

  async search(query: AuditQuery): Promise<AuditPage> {
    let matches: number[] | undefined;
    const sets: Array<Set<number>> = [];
    for (const { field, values } of query.filters) {
      const set = new Set<number>();
      for (const v of values) {
        const p = prefix(field, v);
        for (const key of this.index.getKeys({ start: p, end: after(p) })) set.add(seqOf(key));
      }
      sets.push(set);
    }
    for (const { low, high } of query.dates) {
      const base = prefix('date');
      const set = new Set<number>();
      const start = low === undefined ? base : Buffer.concat([base, Buffer.from(low)]);
      const end = high === undefined ? after(base) : Buffer.concat([base, Buffer.from(high)]);
      for (const key of this.index.getKeys({ start, end })) set.add(seqOf(key));
      sets.push(set);
    }
    if (sets.length) {
      sets.sort((a, b) => a.size - b.size);
      const [first, ...rest] = sets as [Set<number>, ...Array<Set<number>>];
      matches = [...first].filter((s) => rest.every((r) => r.has(s))).sort((a, b) => b - a);
    }
    const before = query.before ?? Number.MAX_SAFE_INTEGER;
    let page: number[];
    let total: number;
    if (matches) {
      total = matches.length;
      const below = matches.filter((s) => s < before);
      page = below.slice(0, query.count + 1);
    } else {
      total = this.head.sequence;
      page = [];
      const end = Math.min(before, this.head.sequence + 1);
      for (let s = end - 1; s >= 1 && page.length <= query.count; s--) page.push(s);
    }
    const more = page.length > query.count;
    if (more) page = page.slice(0, query.count);
    const events: AuditEvent[] = [];
    for (const s of page) {
      const e = await this.read(s);
      if (e) events.push(e);
    }
    return { events, total, ...(more ? { next: page[page.length - 1] } : {}) };
  }

  async *scan(from = 1): AsyncIterable<AuditEvent> {
    let previous = this.hashOf(from - 1);
    for (const { key, value } of this.events.getRange({ start: seqKey(from) })) {
      const s = stored(key, value);
      yield unseal(s, previous);
      previous = s.hash;
    }
  }

  async verify(options: { tail?: number } = {}): Promise<ChainReport> {
    const last = this.lastStored();
    const from = options.tail !== undefined && last ? Math.max(1, last.sequence - options.tail + 1) : 1;
    const checker = new ChainChecker(from > 1 ? { sequence: from, previous: this.hashOf(from - 1) } : undefined);
    for (const { key, value } of this.events.getRange({ start: seqKey(from) })) {
      // The hash is checked over the stored bytes, without decoding the text.
      if (!checker.next(seqOf(key, 0), value.toString('latin1', 0, 64), value.subarray(64))) break;
    }
    const report = checker.report;
    if (!report.ok) return report;
    const headText = this.meta.get('head');
    const head = headText ? (JSON.parse(headText) as { sequence: number; hash: string }) : { sequence: 0, hash: GENESIS };
    const lastSeq = last?.sequence ?? 0;
    if (head.sequence !== lastSeq || head.hash !== (last?.hash ?? GENESIS)) {
      report.ok = false;
      report.broken = head.sequence > lastSeq
        ? { sequence: lastSeq + 1, reason: `events ${lastSeq + 1} to ${head.sequence} are missing from the end of the trail` }
        : { sequence: head.sequence + 1, reason: `the last event does not match the recorded head of the chain (event ${head.sequence})` };
    }
    return report;
  }

  failure(): string | undefined {
    return refusal(this.failed, this.closed);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.root.close();
    if (this.removeOnClose) fs.rmSync(this.removeOnClose, { recursive: true, force: true });
  }
}

function stored(key: Buffer, value: Buffer): SealedEvent {
  return { sequence: seqOf(key, 0), hash: value.toString('latin1', 0, 64), text: value.toString('utf8', 64) };
}
