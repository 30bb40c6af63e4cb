/**
 * The embedded audit trail in DATA_DIR/audit: an append-only log of segment files, the source of truth
 * (segment-log.ts), and a view of it in LMDB (lmdb-js, memory-mapped) for reads, searches and checks; nothing of
 * the trail on the JS heap but the chain's head and the events waiting for their sync. The view (`trail.mdb`) has
 * three databases:
 * - `events`: key = sequence as 8 bytes big-endian, value = hash (64 hex) + canonical text of the event;
 * - `index`: key = `<field>\0<value>\0` + sequence (8 bytes), empty value; one key per search value of an event;
 * - `meta`: `head` = {sequence, hash} of the last event in the view, written in the same transaction as the events.
 *
 * Group commit: `append` seals the event at once (sequence and hash, in call order) and queues its frame. While no
 * write is in flight the queue goes out at the end of the current event-loop turn; while one is (its sync running),
 * the events that arrive meanwhile wait and then go out together: one synchronised write of the log (O_DSYNC).
 * Once that write completes each `append` resolves, and the events wait for the view: they go into it together
 * (one LMDB transaction without a sync of its own: the log is durable already) when VIEW_BATCH of them wait,
 * VIEW_DELAY_MS after the first, or before any read, search, scan or check of the trail, which therefore sees
 * every event of an answered request. A failed write rejects the batch, and a failed write or view update makes
 * the trail refuse every later event.
 * At open the view catches up with the log: every event of the log above the view's head is put into it, so a
 * crash between the log's sync and the view's transaction (or a view deleted to be rebuilt) loses nothing.
 *
 * Search pages by keyset on the sequence, newest first, holding at most one page of events: each filter is a
 * descending walk over its index keys, ANDed by point look-ups. `recorded` never decreases along the chain
 * (trail.ts, stampInOrder), so a `date` range is a range of sequence numbers found with two index look-ups.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { AuditEvent } from 'fhir/r4';
import { open, type Database, type RootDatabase } from 'lmdb';
import { ChainChecker, GENESIS, sealedText, unseal, type ChainReport, type SealedEvent } from './chain';
import { encodeFrame, keyOf, SegmentLog, textOf, valueOf } from './segment-log';
import { indexValuesOf } from './index-keys';
import { AUDIT_FIELDS, AuditUnavailable, COUNT_LIMIT, missingTail, refusal, stampInOrder, type AuditField, type AuditPage, type AuditQuery, type AuditTrail } from './trail';

const SEQ_BYTES = 8;
const EMPTY = Buffer.alloc(0);
/** Filters walked first: the fields whose values are rare (a patient, a user) before the common ones (a subtype). */
const SELECTIVE: readonly AuditField[] = ['patient', 'entity', 'agent', 'purpose', 'outcome', 'subtype', 'type'];

function seqKey(sequence: number): Buffer {
  const b = Buffer.allocUnsafe(SEQ_BYTES);
  b.writeBigUInt64BE(BigInt(sequence));
  return b;
}
const seqOf = (key: Buffer, at = key.length - SEQ_BYTES): number => Number(key.readBigUInt64BE(at));
/** Control characters never reach a key, so `\0` separates its parts. */
const clean = (s: string): string => s.replace(/[\x00-\x1f]/g, '');
const prefix = (field: string, value?: string): Buffer => Buffer.from(value === undefined ? `${field}\0` : `${field}\0${clean(value)}\0`);
const withSeq = (p: Buffer, sequence: number): Buffer => {
  const b = Buffer.allocUnsafe(p.length + SEQ_BYTES);
  p.copy(b);
  b.writeBigUInt64BE(BigInt(sequence), p.length);
  return b;
};
/** The first key after every key starting with `p`. */
function after(p: Buffer): Buffer {
  const b = Buffer.from(p);
  b[b.length - 1] = (b[b.length - 1] as number) + 1;
  return b;
}

/** Key prefixes of recent search values: most events repeat them (a subtype, a user, the type `rest`). */
const PREFIXES = new Map<string, Buffer>();
const PREFIX_CACHE = 4096;
function cachedPrefix(field: string, value: string): Buffer {
  const id = `${field}\0${value}`;
  let p = PREFIXES.get(id);
  if (!p) {
    p = prefix(field, value);
    if (PREFIXES.size >= PREFIX_CACHE) PREFIXES.delete(PREFIXES.keys().next().value as string);
    PREFIXES.set(id, p);
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

/** The index keys of a sealed event: its date and each search value, in one buffer. */
export function indexKeysOf(event: AuditEvent, sequence: number): Buffer[] {
  const values = indexValuesOf(event);
  const prefixes = [prefix('date', values.date)];
  for (const field of AUDIT_FIELDS) {
    if (field === 'agent' && Object.isFrozen(values.agent)) prefixes.push(...agentPrefixes(values.agent));
    else for (const v of values[field]) prefixes.push(cachedPrefix(field, v));
  }
  let total = 0;
  for (const p of prefixes) total += p.length + SEQ_BYTES;
  const all = Buffer.allocUnsafe(total);
  const seq = BigInt(sequence);
  const keys: Buffer[] = [];
  let at = 0;
  for (const p of prefixes) {
    p.copy(all, at);
    all.writeBigUInt64BE(seq, at + p.length);
    keys.push(all.subarray(at, (at += p.length + SEQ_BYTES)));
  }
  return keys;
}

interface Queued {
  frame: Buffer;
  indexKeys: Buffer[];
  resolve: (sequence: number) => void;
  reject: (err: unknown) => void;
}

/** Log events put into the view in one transaction while it catches up at open. */
const REPLAY_CHUNK = 5000;
/**
 * Durable events wait for the view until this many are waiting, this long has passed, or the trail is read: one
 * view transaction for many log writes (a transaction costs ~40 µs of main-thread CPU whatever its size).
 */
const VIEW_BATCH = 512;
const VIEW_DELAY_MS = 20;

export interface LmdbTrailOptions {
  /** Folder of the trail (DATA_DIR/audit); created if absent. */
  dir: string;
  /** Size at which the log starts a new segment file (default 64 MB). */
  segmentBytes?: number;
}

export class LmdbAuditTrail implements AuditTrail {
  readonly kind = 'embedded';
  private head: { sequence: number; hash: string; recorded: string };
  /** The last event in the view (all of them durable in the log). */
  private viewed: number;
  /** The hash of the last event in the log: the hash the next batch follows. */
  private durableHash = GENESIS;
  private queue: Queued[] = [];
  /** Durable events not yet in the view (reads of the trail put them there first). */
  private unviewed: Array<{ frame: Buffer; indexKeys: Buffer[] }> = [];
  private viewTimer: NodeJS.Timeout | undefined;
  /** A write is in flight, or about to be sent at the end of this turn. */
  private busy = false;
  private idle: Promise<void> = Promise.resolve();
  private markIdle: () => void = () => undefined;
  private failed: Error | undefined;
  /** A log that does not agree with the view, found at open: reported by verify. */
  private logBroken: { sequence: number; reason: string } | undefined;
  private closed = false;
  private log!: SegmentLog;
  /** What the open repaired: bytes of a torn write cut from the log, log events put into the view. */
  readonly recovered = { cut: 0, replayed: 0 };
  /** Set for a temporary trail (tests): its folder is removed on close. */
  private removeOnClose: string | undefined;

  private constructor(
    private readonly root: RootDatabase,
    private readonly events: Database<Buffer, Buffer>,
    private readonly index: Database<Buffer, Buffer>,
    private readonly meta: Database<string, string>,
  ) {
    this.viewed = this.viewHead().sequence;
    this.head = { sequence: 0, hash: GENESIS, recorded: '' };
  }

  static open(options: LmdbTrailOptions): LmdbAuditTrail {
    fs.mkdirSync(options.dir, { recursive: true });
    // No sync of the view's commits: the log is durable before the view is written, and the view catches up from it.
    const root = open({ path: path.join(options.dir, 'trail.mdb'), maxDbs: 4, noSync: true, noSubdir: true });
    const events = root.openDB<Buffer, Buffer>({ name: 'events', keyEncoding: 'binary', encoding: 'binary', cache: false });
    const index = root.openDB<Buffer, Buffer>({ name: 'index', keyEncoding: 'binary', encoding: 'binary', cache: false });
    const meta = root.openDB<string, string>({ name: 'meta', encoding: 'string', cache: false });
    const trail = new LmdbAuditTrail(root, events, index, meta);
    trail.catchUp(options.dir, options.segmentBytes);
    return trail;
  }

  /** Opens the log, puts every log event above the view's head into the view, and takes the chain's head. */
  private catchUp(dir: string, segmentBytes?: number): void {
    const viewHead = this.viewHead();
    let pending: Array<{ frame: Buffer; indexKeys: Buffer[] }> = [];
    const { log, state } = SegmentLog.open(dir, viewHead.sequence, viewHead, (frame, sequence) => {
      this.recovered.replayed++;
      pending.push({ frame, indexKeys: indexKeysOf(JSON.parse(textOf(frame).toString('utf8')) as AuditEvent, sequence) });
      if (pending.length >= REPLAY_CHUNK) {
        this.toView(pending);
        pending = [];
      }
    }, segmentBytes);
    if (pending.length) this.toView(pending);
    this.log = log;
    this.recovered.cut = state.cut;
    const head = this.viewHead();
    if (state.broken) {
      // An altered log: new events could not continue its chain.
      this.logBroken = state.broken;
      this.failed = new Error(`the audit log does not verify at event ${state.broken.sequence}: ${state.broken.reason}`);
    } else if (head.sequence !== state.last.sequence || head.hash !== state.last.hash) {
      // The view holds events the log does not (a log cut or removed): new events would fork the chain.
      this.logBroken = { sequence: state.last.sequence + 1, reason: `the audit log ends at event ${state.last.sequence} but its view holds events to ${head.sequence}` };
      this.failed = new Error(this.logBroken.reason);
    }
    // The chain goes on from the log's last event (the view's, for a trail older than its log).
    const last = this.lastStored();
    const recorded = state.lastText ? (JSON.parse(state.lastText) as AuditEvent).recorded : last ? (JSON.parse(last.text) as AuditEvent).recorded : '';
    this.head = { sequence: state.last.sequence, hash: state.last.hash, recorded };
    this.durableHash = state.last.hash;
  }

  private viewHead(): { sequence: number; hash: string } {
    const text = this.meta.get('head');
    return text ? (JSON.parse(text) as { sequence: number; hash: string }) : { sequence: 0, hash: GENESIS };
  }

  /** Puts durable events into the view, in one LMDB transaction (not synced). */
  private toView(batch: Array<{ frame: Buffer; indexKeys: Buffer[] }>): void {
    const last = (batch[batch.length - 1] as { frame: Buffer }).frame;
    this.root.transactionSync(() => {
      for (const q of batch) {
        this.events.putSync(keyOf(q.frame), valueOf(q.frame));
        for (const k of q.indexKeys) this.index.putSync(k, EMPTY);
      }
      this.meta.putSync('head', `{"sequence":${seqOf(keyOf(last), 0)},"hash":"${valueOf(last).toString('latin1', 0, 64)}"}`);
    });
    this.viewed = seqOf(keyOf(last), 0);
  }

  /** A trail in a new temporary folder, removed on close (tests and benchmarks). */
  static temporary(): LmdbAuditTrail {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fhir-audit-'));
    const trail = LmdbAuditTrail.open({ dir });
    trail.removeOnClose = dir;
    return trail;
  }

  /** The segment files of the log, oldest first. */
  logFiles(): string[] {
    return this.log.files();
  }

  private lastStored(): SealedEvent | undefined {
    for (const { key, value } of this.events.getRange({ reverse: true, limit: 1 })) return stored(key, value);
    return undefined;
  }

  append(event: AuditEvent): Promise<number> {
    if (this.closed) return Promise.reject(new AuditUnavailable('the audit trail is closed'));
    if (this.failed) return Promise.reject(new AuditUnavailable(`the audit trail failed earlier and takes no more events: ${this.failed.message}`));
    const stamped = stampInOrder(event, this.head.recorded);
    const sequence = this.head.sequence + 1;
    const sealed = encodeFrame(sequence, this.head.hash, sealedText(stamped, sequence));
    this.head = { sequence, hash: sealed.hash, recorded: stamped.recorded };
    const indexKeys = indexKeysOf(stamped, sequence);
    return new Promise<number>((resolve, reject) => {
      this.queue.push({ frame: sealed.bytes, indexKeys, resolve, reject });
      if (!this.busy) {
        this.busy = true;
        this.idle = new Promise((r) => (this.markIdle = r));
        setImmediate(() => void this.flush());
      }
    });
  }

  /**
   * Writes every queued event to the log with one synchronised write, then puts them into the view and
   * answers them; meanwhile arriving events form the next batch.
   */
  private async flush(): Promise<void> {
    while (this.queue.length && !this.failed) {
      const batch = this.queue;
      this.queue = [];
      const first = batch[0] as Queued;
      const sequence = seqOf(keyOf(first.frame), 0);
      try {
        await this.log.append(batch.map((q) => q.frame), sequence, this.durableHash);
        this.durableHash = valueOf((batch[batch.length - 1] as Queued).frame).toString('latin1', 0, 64);
        for (const q of batch) this.unviewed.push({ frame: q.frame, indexKeys: q.indexKeys });
        if (this.unviewed.length >= VIEW_BATCH) this.catchUpView();
        else this.viewTimer ??= setTimeout(() => this.tryCatchUpView(), VIEW_DELAY_MS);
      } catch (err) {
        this.failed ??= err instanceof Error ? err : new Error(String(err));
        for (const q of batch) q.reject(this.unavailable());
        break;
      }
      for (const q of batch) q.resolve(seqOf(keyOf(q.frame), 0));
    }
    for (const q of this.queue) q.reject(this.unavailable());
    this.queue = [];
    this.busy = false;
    this.markIdle();
  }

  /** Puts the durable events that wait into the view; a failure stops the trail (the log holds them: a restart replays them). */
  private catchUpView(): void {
    if (this.viewTimer) clearTimeout(this.viewTimer);
    this.viewTimer = undefined;
    if (!this.unviewed.length) return;
    const batch = this.unviewed;
    this.unviewed = [];
    try {
      this.toView(batch);
    } catch (err) {
      this.failed ??= err instanceof Error ? err : new Error(String(err));
      throw new AuditUnavailable(`the audit trail's view could not be updated: ${this.failed.message}`);
    }
  }

  private tryCatchUpView(): void {
    try {
      this.catchUpView();
    } catch {
      // Reported by failure() and refused appends.
    }
  }

  /** After a failed write the in-memory head is ahead of the disk: refuse everything from now on. */
  private unavailable(): AuditUnavailable {
    return new AuditUnavailable(`the audit event could not be stored: ${this.failed?.message ?? 'the audit trail is closed'}`);
  }

  async read(sequence: number): Promise<AuditEvent | undefined> {
    if (!Number.isSafeInteger(sequence) || sequence < 1) return undefined;
    this.catchUpView();
    const value = this.events.get(seqKey(sequence));
    if (value === undefined) return undefined;
    return unseal(stored(seqKey(sequence), value), this.hashOf(sequence - 1));
  }

  private hashOf(sequence: number): string {
    if (sequence < 1) return GENESIS;
    return this.events.get(seqKey(sequence))?.toString('latin1', 0, 64) ?? GENESIS;
  }

  async search(query: AuditQuery): Promise<AuditPage> {
    this.catchUpView();
    const range = this.rangeOf(query.dates);
    const filters = [...query.filters].sort((a, b) => SELECTIVE.indexOf(a.field) - SELECTIVE.indexOf(b.field));
    const top = Math.min(query.before ?? Number.MAX_SAFE_INTEGER, range.high);
    const page: number[] = [];
    for (const s of this.matches(filters, range.low, top)) {
      page.push(s);
      if (page.length > query.count) break;
    }
    const more = page.length > query.count;
    if (more) page.pop();
    const events: AuditEvent[] = [];
    for (const s of page) {
      const e = await this.read(s);
      if (e) events.push(e);
    }
    const total = this.countOf(filters, range);
    return { events, ...(total !== undefined ? { total } : {}), ...(more ? { next: page[page.length - 1] } : {}) };
  }

  /** Matches in the whole range, counted without holding them; undefined beyond COUNT_LIMIT. */
  private countOf(filters: AuditQuery['filters'], range: { low: number; high: number }): number | undefined {
    if (!filters.length) return Math.max(0, range.high - range.low);
    let n = 0;
    for (const _ of this.matches(filters, range.low, range.high)) if (++n > COUNT_LIMIT) return undefined;
    return n;
  }

  /** The sequences in [low, high) that pass every filter, newest first. */
  private *matches(filters: AuditQuery['filters'], low: number, high: number): Generator<number> {
    if (high <= low) return;
    const [first, ...rest] = filters;
    if (!first) {
      for (let s = high - 1; s >= low; s--) yield s;
      return;
    }
    const others = rest.map(({ field, values }) => values.map((v) => prefix(field, v)));
    for (const s of this.walk(first.values.map((v) => prefix(first.field, v)), low, high)) {
      if (others.every((alternatives) => alternatives.some((p) => this.index.doesExist(withSeq(p, s))))) yield s;
    }
  }

  /** Sequences in [low, high) under any of `prefixes` (ORed values of one field), newest first, each once. */
  private *walk(prefixes: Buffer[], low: number, high: number): Generator<number> {
    const cursors = prefixes.map((p) => this.index.getKeys({ start: withSeq(p, high - 1), end: withSeq(p, low - 1), reverse: true })[Symbol.iterator]());
    const heads = cursors.map((c) => c.next());
    for (;;) {
      let best = -1;
      let at = -1;
      heads.forEach((h, i) => {
        if (!h.done) {
          const s = seqOf(h.value as Buffer);
          if (s > best) [best, at] = [s, i];
        }
      });
      if (at < 0) return;
      yield best;
      heads.forEach((h, i) => {
        if (!h.done && seqOf(h.value as Buffer) === best) heads[i] = (cursors[i] as Iterator<Buffer>).next();
      });
    }
  }

  /** The sequences whose `recorded` falls in every one of the ranges, as [low, high). */
  private rangeOf(dates: AuditQuery['dates']): { low: number; high: number } {
    let low = 1;
    let high = this.viewed + 1;
    const base = prefix('date');
    for (const d of dates) {
      if (d.low !== undefined) {
        const start = Buffer.concat([base, Buffer.from(d.low)]);
        let first = high;
        for (const key of this.index.getKeys({ start, end: after(base), limit: 1 })) first = seqOf(key);
        low = Math.max(low, first);
      }
      if (d.high !== undefined) {
        const end = Buffer.concat([base, Buffer.from(d.high)]);
        let last = 0;
        for (const key of this.index.getKeys({ start: end, end: base, reverse: true, limit: 2 })) {
          // A reverse range starts at `end` itself when a key equals it; keys at `end` are outside [low, high).
          if (Buffer.compare(key, end) < 0) {
            last = seqOf(key);
            break;
          }
        }
        high = Math.min(high, last + 1);
      }
    }
    return { low, high };
  }

  async *scan(from = 1): AsyncIterable<AuditEvent> {
    this.catchUpView();
    let previous = this.hashOf(from - 1);
    for (const { key, value } of this.events.getRange({ start: seqKey(from) })) {
      const s = stored(key, value);
      yield unseal(s, previous);
      previous = s.hash;
    }
  }

  async verify(options: { tail?: number } = {}): Promise<ChainReport> {
    this.catchUpView();
    const last = this.lastStored();
    const from = options.tail !== undefined && last ? Math.max(1, last.sequence - options.tail + 1) : 1;
    const checker = new ChainChecker(from > 1 ? { sequence: from, previous: this.hashOf(from - 1) } : undefined);
    for (const { key, value } of this.events.getRange({ start: seqKey(from) })) {
      // The hash is checked over the stored bytes, without decoding the text.
      if (!checker.next(seqOf(key, 0), value.toString('latin1', 0, 64), value.subarray(64))) break;
    }
    const report = checker.report;
    if (!report.ok) return report;
    if (this.logBroken) return { ...report, ok: false, broken: this.logBroken };
    const headText = this.meta.get('head');
    const head = headText ? (JSON.parse(headText) as { sequence: number; hash: string }) : { sequence: 0, hash: GENESIS };
    const lastSeq = last?.sequence ?? 0;
    if (head.sequence !== lastSeq || head.hash !== (last?.hash ?? GENESIS)) {
      report.ok = false;
      report.broken = head.sequence > lastSeq
        ? missingTail(lastSeq, head.sequence)
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
    await this.idle;
    this.tryCatchUpView();
    await this.log.close();
    await this.root.close();
    if (this.removeOnClose) fs.rmSync(this.removeOnClose, { recursive: true, force: true });
  }
}

function stored(key: Buffer, value: Buffer): SealedEvent {
  return { sequence: seqOf(key, 0), hash: value.toString('latin1', 0, 64), text: value.toString('utf8', 64) };
}
