/**
 * The embedded audit trail in DATA_DIR/audit: an append-only log of segment files, the source of truth
 * (segment-log.ts), and a view of it in LMDB (lmdb-js, memory-mapped) for reads, searches and checks; nothing of
 * the trail on the JS heap but the chain's head and the events waiting for their sync. The view (`trail.mdb`) has
 * three databases:
 * - `events`: key = sequence as 8 bytes big-endian, value = hash (64 hex) + canonical text of the event;
 * - `postings`: the search values' posting lists (postings.ts), one entry per value and view transaction;
 * - `meta`: `head` = {sequence, hash} of the last event in the view, written in the same transaction as the events;
 *   `postings` = `1` once the view's index is posting lists (older views are re-indexed from their events at open).
 *
 * Group commit: `append` seals the event at once (sequence and hash, in call order) and queues its frame. The queue
 * goes out at the end of the current event-loop turn as one synchronised write of the log (O_DSYNC), unless a
 * write is syncing already: then the events that arrive meanwhile wait and go out together when it is done, or
 * beside it once many wait (WRITES_IN_FLIGHT). Batches are answered in order: once its write and every earlier one completed, each `append`
 * resolves, and the events wait for the view: they go into it together
 * (one LMDB transaction without a sync of its own: the log is durable already; lmdb-js's writer thread commits it)
 * when VIEW_BATCH of them wait, VIEW_DELAY_MS after the first, or before any read, search, scan or check of the
 * trail, which waits for it and therefore sees every event of an answered request. A failed write rejects the
 * batch, and a failed write or view update makes the trail refuse every later event.
 * At open the view catches up with the log: every event of the log above the view's head is put into it, so a
 * crash between the log's sync and the view's transaction (or a view deleted to be rebuilt) loses nothing.
 *
 * Search pages by keyset on the sequence, newest first, holding at most one page of events: each filter is a
 * descending walk over its posting lists, ANDed by look-ups in the others'. `recorded` never decreases along the
 * chain (trail.ts, stampInOrder), so a `date` range is a range of sequence numbers found by binary searches.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { AuditEvent } from 'fhir/r4';
import { open, type Database, type RootDatabase } from 'lmdb';
import { ChainChecker, GENESIS, sealedText, unseal, type ChainReport, type SealedEvent } from './chain';
import { encodeFrame, keyOf, SegmentLog, textOf, valueOf } from './segment-log';
import { PostingBatch, PostingReader, postingPrefixesOf, prefix, union } from './postings';
import { AuditUnavailable, COUNT_LIMIT, missingTail, refusal, stampInOrder, type AuditField, type AuditPage, type AuditQuery, type AuditTrail } from './trail';

const SEQ_BYTES = 8;
/** Filters walked first: the fields whose values are rare (a patient, a user) before the common ones (a subtype). */
const SELECTIVE: readonly AuditField[] = ['patient', 'entity', 'agent', 'purpose', 'outcome', 'subtype', 'type'];

function seqKey(sequence: number): Buffer {
  const b = Buffer.allocUnsafe(SEQ_BYTES);
  b.writeBigUInt64BE(BigInt(sequence));
  return b;
}
const seqOf = (key: Buffer, at = key.length - SEQ_BYTES): number => Number(key.readBigUInt64BE(at));
interface Queued extends Unviewed {
  resolve: (sequence: number) => void;
  reject: (err: unknown) => void;
}

/** A durable event on its way to the view: its frame and the key prefixes of its search values. */
interface Unviewed {
  frame: Buffer;
  prefixes: Buffer[];
}

/** Log events put into the view in one transaction while it catches up at open. */
const REPLAY_CHUNK = 5000;
/**
 * Durable events wait for the view until this many are waiting, this long has passed, or the trail is read: one
 * view transaction for many log writes (a transaction costs ~40 µs of main-thread CPU whatever its size).
 */
const VIEW_BATCH = 512;
const VIEW_DELAY_MS = 20;
/**
 * Log writes in flight at once. A write goes out as soon as none is syncing; while one is, the events that arrive
 * wait for it (the next batch grows: each write costs ~100 µs of CPU on libuv's pool whatever its size), unless
 * SECOND_WRITE_AT of them wait or they have waited SLOW_SYNC_MS: then the sync is slow for the load, and a second
 * write goes out beside it (the file system commits them together), so the main thread does not idle while
 * requests queue behind one sync.
 */
const WRITES_IN_FLIGHT = 2;
const SECOND_WRITE_AT = 16;
const SLOW_SYNC_MS = 1;

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
  /** The hash of the last event sent to the log: the hash the next batch follows. */
  private logHash = GENESIS;
  private queue: Queued[] = [];
  /** Log writes in flight. */
  private writing = 0;
  /** A send is due at the end of this turn. */
  private scheduled = false;
  /** Sends a second write once the events queued behind a syncing one have waited SLOW_SYNC_MS. */
  private slowTimer: NodeJS.Timeout | undefined;
  /** Settles once every batch sent so far is answered. */
  private settled: Promise<void> = Promise.resolve();
  /** Durable events not yet in the view (reads of the trail put them there first). */
  private unviewed: Unviewed[] = [];
  private viewTimer: NodeJS.Timeout | undefined;
  /** Settles once every view write issued so far is done. */
  private viewWritten: Promise<void> = Promise.resolve();
  private viewFailed: Error | undefined;
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
    private readonly postings: Database<Buffer, Buffer>,
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
    const postings = root.openDB<Buffer, Buffer>({ name: 'postings', keyEncoding: 'binary', encoding: 'binary', cache: false });
    const meta = root.openDB<string, string>({ name: 'meta', encoding: 'string', cache: false });
    const trail = new LmdbAuditTrail(root, events, postings, meta);
    trail.indexOlderView();
    trail.catchUp(options.dir, options.segmentBytes);
    return trail;
  }

  /** Opens the log, puts every log event above the view's head into the view, and takes the chain's head. */
  private catchUp(dir: string, segmentBytes?: number): void {
    const viewHead = this.viewHead();
    let pending: Unviewed[] = [];
    const { log, state } = SegmentLog.open(dir, viewHead.sequence, viewHead, (frame, sequence) => {
      this.recovered.replayed++;
      pending.push({ frame, prefixes: postingPrefixesOf(JSON.parse(textOf(frame).toString('utf8')) as AuditEvent) });
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
    this.logHash = state.last.hash;
  }

  /**
   * A view written before the posting lists (one `index` key per value and event) gets its lists from its own
   * events, and loses the old keys.
   */
  private indexOlderView(): void {
    if (this.meta.get('postings') === '1') return;
    const postings = new PostingBatch();
    let n = 0;
    const flush = () => this.root.transactionSync(() => postings.write(this.postings));
    for (const { key, value } of this.events.getRange()) {
      postings.add(postingPrefixesOf(JSON.parse(value.toString('utf8', 64)) as AuditEvent), seqOf(key, 0));
      if (++n % REPLAY_CHUNK === 0) flush();
    }
    flush();
    const old = this.root.openDB<Buffer, Buffer>({ name: 'index', keyEncoding: 'binary', encoding: 'binary', cache: false });
    this.root.transactionSync(() => {
      old.clearSync();
      this.meta.putSync('postings', '1');
    });
  }

  private viewHead(): { sequence: number; hash: string } {
    const text = this.meta.get('head');
    return text ? (JSON.parse(text) as { sequence: number; hash: string }) : { sequence: 0, hash: GENESIS };
  }

  /** Puts durable events into the view at open, in one LMDB transaction (not synced). */
  private toView(batch: Unviewed[]): void {
    this.root.transactionSync(() => this.viewWrites(batch));
    this.viewed = seqOf(keyOf((batch[batch.length - 1] as Unviewed).frame), 0);
  }

  /** The view's writes for durable events: in the caller's transaction, or as one batch of lmdb-js's writer thread. */
  private viewWrites(batch: Unviewed[]): void {
    const last = (batch[batch.length - 1] as Unviewed).frame;
    const postings = new PostingBatch();
    for (const q of batch) {
      void this.events.put(keyOf(q.frame), valueOf(q.frame));
      postings.add(q.prefixes, seqOf(keyOf(q.frame), 0));
    }
    postings.write(this.postings);
    void this.meta.put('head', `{"sequence":${seqOf(keyOf(last), 0)},"hash":"${valueOf(last).toString('latin1', 0, 64)}"}`);
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
    const prefixes = postingPrefixesOf(stamped);
    return new Promise<number>((resolve, reject) => {
      this.queue.push({ frame: sealed.bytes, prefixes, resolve, reject });
      if (!this.scheduled && this.mayWrite(false)) {
        this.scheduled = true;
        setImmediate(() => this.send(false));
      } else if (!this.slowTimer && this.writing < WRITES_IN_FLIGHT) {
        this.slowTimer = setTimeout(() => {
          this.slowTimer = undefined;
          this.send(true);
        }, SLOW_SYNC_MS);
      }
    });
  }

  /** Whether the queued events may go out now (WRITES_IN_FLIGHT); `slow`: the write syncing is slow. */
  private mayWrite(slow: boolean): boolean {
    return this.writing === 0 || (this.writing < WRITES_IN_FLIGHT && (slow || this.queue.length >= SECOND_WRITE_AT));
  }

  /** Sends the queued events to the log as one synchronised write, if they may go out now (mayWrite). */
  private send(slow: boolean): void {
    this.scheduled = false;
    while (this.queue.length && this.mayWrite(slow) && !this.failed) {
      const batch = this.queue;
      this.queue = [];
      const write = this.log.append(batch.map((q) => q.frame), seqOf(keyOf((batch[0] as Queued).frame), 0), this.logHash);
      this.logHash = valueOf((batch[batch.length - 1] as Queued).frame).toString('latin1', 0, 64);
      this.writing++;
      this.settled = this.settle(batch, write, this.settled);
    }
    if (this.failed) {
      for (const q of this.queue) q.reject(this.unavailable());
      this.queue = [];
    }
    if (!this.queue.length && this.slowTimer) {
      clearTimeout(this.slowTimer);
      this.slowTimer = undefined;
    }
  }

  /**
   * Answers a batch once its write and every earlier one are done: in order, so an answered event never follows
   * one that is not durable. A failed write rejects its batch and every later one, and stops the trail.
   */
  private async settle(batch: Queued[], write: Promise<void>, earlier: Promise<void>): Promise<void> {
    let error: unknown;
    try {
      await write;
    } catch (err) {
      error = err;
    }
    await earlier;
    this.writing--;
    if (error !== undefined) this.failed ??= error instanceof Error ? error : new Error(String(error));
    if (!this.failed) {
      for (const q of batch) this.unviewed.push({ frame: q.frame, prefixes: q.prefixes });
      if (this.unviewed.length >= VIEW_BATCH) void this.catchUpView();
      else this.viewTimer ??= setTimeout(() => void this.catchUpView(), VIEW_DELAY_MS);
    }
    if (this.failed) for (const q of batch) q.reject(this.unavailable());
    else for (const q of batch) q.resolve(seqOf(keyOf(q.frame), 0));
    this.send(false);
  }

  /**
   * Puts the durable events that wait into the view, as one batch of lmdb-js's writer thread (the transaction and
   * its page writes cost the main thread nothing); resolves once every view write so far is done. A failure stops
   * the trail (the log holds the events: a restart replays them).
   */
  private catchUpView(): Promise<void> {
    if (this.viewTimer) clearTimeout(this.viewTimer);
    this.viewTimer = undefined;
    if (!this.unviewed.length || this.viewFailed) return this.viewWritten;
    const batch = this.unviewed;
    this.unviewed = [];
    let written: Promise<unknown>;
    try {
      written = this.root.batch(() => this.viewWrites(batch));
    } catch (err) {
      written = Promise.reject(err);
    }
    this.viewed = seqOf(keyOf((batch[batch.length - 1] as Unviewed).frame), 0);
    this.viewWritten = written.then(
      () => undefined,
      (err: unknown) => {
        this.viewFailed ??= err instanceof Error ? err : new Error(String(err));
        this.failed ??= this.viewFailed;
      },
    );
    return this.viewWritten;
  }

  /** Before a read of the view: every durable event is in it (or the view failed, and the read is refused). */
  private async viewReady(): Promise<void> {
    await this.catchUpView();
    if (this.viewFailed) throw new AuditUnavailable(`the audit trail's view could not be updated: ${this.viewFailed.message}`);
  }

  /** After a failed write the in-memory head is ahead of the disk: refuse everything from now on. */
  private unavailable(): AuditUnavailable {
    return new AuditUnavailable(`the audit event could not be stored: ${this.failed?.message ?? 'the audit trail is closed'}`);
  }

  async read(sequence: number): Promise<AuditEvent | undefined> {
    if (!Number.isSafeInteger(sequence) || sequence < 1) return undefined;
    await this.viewReady();
    const value = this.events.get(seqKey(sequence));
    if (value === undefined) return undefined;
    return unseal(stored(seqKey(sequence), value), this.hashOf(sequence - 1));
  }

  private hashOf(sequence: number): string {
    if (sequence < 1) return GENESIS;
    return this.events.get(seqKey(sequence))?.toString('latin1', 0, 64) ?? GENESIS;
  }

  async search(query: AuditQuery): Promise<AuditPage> {
    await this.viewReady();
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
    const readersOf = (field: string, values: string[]) => values.map((v) => new PostingReader(this.postings, prefix(field, v)));
    const others = rest.map(({ field, values }) => readersOf(field, values));
    for (const s of union(readersOf(first.field, first.values), low, high)) {
      if (others.every((alternatives) => alternatives.some((r) => r.has(s)))) yield s;
    }
  }

  /** The sequences whose `recorded` falls in every one of the ranges, as [low, high). */
  private rangeOf(dates: AuditQuery['dates']): { low: number; high: number } {
    let low = 1;
    let high = this.viewed + 1;
    for (const d of dates) {
      if (d.low !== undefined) low = Math.max(low, this.firstRecordedFrom(d.low));
      if (d.high !== undefined) high = Math.min(high, this.firstRecordedFrom(d.high));
    }
    return { low, high };
  }

  /** The first sequence in the view recorded at or after `instant` (one past the last when none is): a binary search. */
  private firstRecordedFrom(instant: string): number {
    let lo = 1;
    for (const key of this.events.getKeys({ limit: 1 })) lo = seqOf(key, 0);
    let hi = this.viewed + 1;
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2);
      const value = this.events.get(seqKey(mid));
      const recorded = value ? (JSON.parse(value.toString('utf8', 64)) as AuditEvent).recorded : '';
      if (recorded < instant) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  async *scan(from = 1): AsyncIterable<AuditEvent> {
    await this.viewReady();
    let previous = this.hashOf(from - 1);
    for (const { key, value } of this.events.getRange({ start: seqKey(from) })) {
      const s = stored(key, value);
      yield unseal(s, previous);
      previous = s.hash;
    }
  }

  async verify(options: { tail?: number } = {}): Promise<ChainReport> {
    await this.viewReady();
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
    // The events appended before close go out (and are answered) first.
    for (;;) {
      this.send(false);
      if (!this.writing && !this.queue.length) break;
      await this.settled;
    }
    await this.catchUpView();
    await this.log.close();
    await this.root.close();
    if (this.removeOnClose) fs.rmSync(this.removeOnClose, { recursive: true, force: true });
  }
}

function stored(key: Buffer, value: Buffer): SealedEvent {
  return { sequence: seqOf(key, 0), hash: value.toString('latin1', 0, 64), text: value.toString('utf8', 64) };
}
