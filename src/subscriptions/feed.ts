/**
 * The history collection as the queue of subscription notifications: every write already leaves a history entry
 * in its own transaction, so the feed adds no work to the write. A cursor (the lastUpdated of the last entry
 * processed, plus the ids processed at or after `position - lookbackMs`) is kept in the store; after a restart
 * the feed resumes from it. A scan reads the history written since the cursor, tests each version against the
 * subscriptions on its type, and stores the matches as pending notifications (./deliveries.ts) in the same
 * transaction that moves the cursor. A cursor move without matches is stored at most once a second: entries read
 * again after a crash match again, the notifications they made were stored with the cursor that covers them.
 *
 * Versions written by this process arrive through afterCommit with their index entries; the feed matches them
 * at once ("heard") without reading the store, and notes their ids as processed (stored with the cursor when
 * they made notifications). The scan, run a second after heard writes and every few seconds, skips them and picks
 * up anything not heard (other processes, a missed nudge), so the history stays the source of truth while a
 * write costs the feed a candidate lookup, not a store query.
 *
 * Ordering: on the embedded store writers are serialised and lastUpdated increases in commit order, so the entries
 * after the cursor are exactly the unprocessed ones (lookbackMs 0). MongoDB transactions may commit out of
 * lastUpdated order; there the feed re-reads a window of lookbackMs before its position and skips the ids it has
 * processed, so a commit that becomes visible up to that long after a later one is still seen.
 *
 * The registry follows the feed: a Subscription version takes effect for the entries after it. At start-up it is
 * rebuilt from the Subscription versions at or before the cursor.
 * Deletes are matched against the version they delete; updates and creates against the version written.
 */
import type { Subscription } from 'fhir/r4';
import type { Logger } from '../http/logger';
import type { Indexer } from '../fhir/context';
import { withBodies } from '../storage/history-bodies';
import type { Doc, Filter, Store } from '../storage/port';
import { HISTORY, RESOURCES, historyKey, resourceKey, type HistoryRecord, type ResourceRecord } from '../storage/records';
import { isLive, type SubscriptionDefinition } from './definition';
import { DELIVERIES, type DeliveryQueue, type PendingNotification } from './deliveries';
import type { SubscriptionRegistry } from './registry';

export const FEED_STATE = 'subscription_feed';
const CURSOR_ID = 'cursor';
const BATCH = 500;
const CURSOR_SAVE_INTERVAL_MS = 1000;
/** The history is also scanned this often without a nudge: writes this process did not make or hear about. */
const POLL_INTERVAL_MS = 5000;
/** The scan that moves the cursor over heard writes follows them this late. */
const SCAN_AFTER_HEARD_MS = 1000;

interface Cursor extends Doc {
  position: string;
  /** Ids (with lastUpdated) of entries already processed: those at or after position - lookbackMs, and heard ones after position that made notifications. */
  recent: Array<[string, string]>;
}

export interface FeedOptions {
  store: Store;
  registry: SubscriptionRegistry;
  deliveries: DeliveryQueue;
  indexer: Indexer;
  logger: Logger;
  lookbackMs: number;
  /** Reads a Subscription version; undefined when it cannot take effect (logged). */
  define(resource: Subscription): SubscriptionDefinition | undefined;
  /** Called with each `requested` Subscription version the feed passes. */
  accept(id: string, versionId: number): void;
  /**
   * What the Subscription's creator may see (src/access/control.ts): a version it may not see makes no
   * notification. Undefined, or a function answering undefined, means unrestricted.
   */
  visibleTo?(subscription: string): Promise<((record: Doc) => boolean) | undefined>;
}

export class NotificationFeed {
  private position = '';
  /** Entries processed at or after the scan window's start, including heard entries after position. */
  private readonly recent = new Map<string, string>();
  /** Heard entries after position that made notifications: kept in the stored cursor until position passes them. */
  private readonly notified = new Set<string>();
  /** Records heard through afterCommit, not yet matched. */
  private heard: ResourceRecord[] = [];
  private scanWanted = true;
  /** Newest write left unheard because there were no subscriptions. */
  private skippedUpTo = '';
  private scanTimer: NodeJS.Timeout | undefined;
  private saved = true;
  private stored = false;
  private running: Promise<void> | undefined;
  private again = false;
  /**
   * The feed runs in the event-loop turn after a commit (setImmediate): after the write's response has been handed
   * to the socket, without a wake-up of its own, and with the commits of that turn in one batch.
   */
  private nudgeTimer: NodeJS.Immediate | undefined;
  private saveTimer: NodeJS.Timeout | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private closed = false;
  /** Heard records (with their index entries) by history entry id, while they are matched. */
  private readonly written = new Map<string, ResourceRecord>();

  constructor(private readonly options: FeedOptions) {}

  /** Loads the cursor and the registry as of it; the first nudge starts reading. */
  async start(): Promise<void> {
    const cursor = (await this.options.store.findOne(FEED_STATE, { _id: CURSOR_ID })) as Cursor | null;
    if (cursor) {
      this.stored = true;
      this.position = cursor.position;
      for (const [id, at] of cursor.recent) {
        this.recent.set(id, at);
        if (at > cursor.position) this.notified.add(id);
      }
    } else {
      const [newest] = (await this.options.store.find(HISTORY, {}, { sort: [['lastUpdated', -1]], limit: 1, projection: { lastUpdated: 1 } })) as HistoryRecord[];
      this.position = newest?.lastUpdated ?? '';
      await this.save(this.current(), []);
    }
    await this.loadRegistry();
    this.pollTimer = setInterval(() => this.nudge(), POLL_INTERVAL_MS);
    this.pollTimer.unref();
  }

  /**
   * Something was committed: these records if written here (matched soon, as heard), otherwise a scan is wanted.
   * Without subscriptions only a Subscription write matters; for others the feed only notes how far they went,
   * so that the next scan moves the cursor over them without matching anything.
   */
  nudge(records: ResourceRecord[] = []): void {
    if (this.closed) return;
    if (records.length && this.options.registry.size === 0 && !records.some((r) => r.type === 'Subscription')) {
      for (const r of records) if (r.lastUpdated > this.skippedUpTo) this.skippedUpTo = r.lastUpdated;
      return;
    }
    if (records.length) this.heard.push(...records);
    else this.scanWanted = true;
    if (this.running) {
      this.again = true;
      return;
    }
    this.nudgeTimer ??= setImmediate(() => {
      this.nudgeTimer = undefined;
      this.running = this.run().finally(() => (this.running = undefined));
    });
  }

  /** Resolves once everything committed so far has been read, heard or not (tests, start-up, shutdown). */
  async settle(): Promise<void> {
    this.scanWanted = true;
    for (;;) {
      if (this.nudgeTimer || (!this.running && !this.closed && (this.scanWanted || this.heard.length))) {
        clearImmediate(this.nudgeTimer);
        this.nudgeTimer = undefined;
        this.running ??= this.run().finally(() => (this.running = undefined));
      }
      if (!this.running) return;
      await this.running;
    }
  }

  async close(): Promise<void> {
    await this.settle();
    this.closed = true;
    clearInterval(this.pollTimer);
    clearTimeout(this.scanTimer);
    clearTimeout(this.saveTimer);
    if (!this.saved) await this.save(this.current(), []);
  }

  private async run(): Promise<void> {
    try {
      do {
        this.again = false;
        if (this.heard.length) await this.hear(this.heard.splice(0));
        if (this.scanWanted) {
          this.scanWanted = false;
          while (await this.pass());
        }
      } while (this.again && !this.closed);
    } catch (err) {
      this.options.logger.log({ level: 'error', msg: 'subscription feed stopped; it resumes with the next write', error: String(err) });
    }
  }

  /** Matches versions written here, in commit order, without reading them back; the cursor stays (see above). */
  private async hear(records: ResourceRecord[]): Promise<void> {
    for (let start = 0; start < records.length; ) {
      // A Subscription version changes what the versions after it match: it ends the segment matched now.
      const cut = records.findIndex((r, i) => i >= start && r.type === 'Subscription');
      const end = cut < 0 ? records.length : cut + 1;
      const segment = records.slice(start, end).filter((r) => !this.recent.has(historyKey(r.type, r.id, r.versionId)));
      start = end;
      for (const r of segment) if (!r.deleted) this.written.set(historyKey(r.type, r.id, r.versionId), r);
      const entries = segment.map(
        (r): HistoryRecord => ({ _id: historyKey(r.type, r.id, r.versionId), type: r.type, id: r.id, versionId: r.versionId, lastUpdated: r.lastUpdated, deleted: r.deleted, method: 'PUT', resource: null }),
      );
      const notifications = await this.match(entries);
      for (const e of entries) {
        this.written.delete(e._id);
        this.recent.set(e._id, e.lastUpdated);
      }
      for (const n of notifications) this.notified.add(n.entry);
      if (notifications.length) await this.save(this.current(), notifications);
      else this.unsaved();
      const last = segment[segment.length - 1];
      if (cut >= 0 && last?.type === 'Subscription') {
        if (last.deleted) this.options.registry.remove(last.id);
        else this.register(last.id, last.resource as Subscription, last.versionId, true);
      }
      this.options.deliveries.add(notifications);
    }
    this.scanTimer ??= setTimeout(() => {
      this.scanTimer = undefined;
      this.nudge();
    }, SCAN_AFTER_HEARD_MS);
    this.scanTimer.unref();
  }

  /** Scans one batch of the history after the cursor; resolves to whether there may be more. */
  private async pass(): Promise<boolean> {
    const empty = this.options.registry.size === 0;
    const filter: Filter = { lastUpdated: { $gte: this.windowStart() }, ...(empty ? { type: 'Subscription' } : {}) };
    const limit = BATCH + this.recent.size;
    const found = (await this.options.store.find(HISTORY, filter, { sort: [['lastUpdated', 1]], limit })) as HistoryRecord[];
    // A Subscription version changes what the entries after it match: it ends the segment processed now.
    const cut = found.findIndex((e) => e.type === 'Subscription' && !this.recent.has(e._id));
    const through = cut < 0 ? found : found.slice(0, cut + 1);
    const segment = through.filter((e) => !this.recent.has(e._id));
    const notifications = empty ? [] : await this.match(segment);
    // Without subscriptions only Subscription entries were read: heard and skipped writes count as passed.
    const next = this.advanced(empty && cut < 0 ? [...through, ...this.heardAfterPosition()] : through, empty && cut < 0 ? this.skippedUpTo : '');
    if (next.position === this.position && !segment.length) return false;
    if (notifications.length) await this.save(next, notifications);
    this.position = next.position;
    this.recent.clear();
    for (const [id, at] of next.recent) this.recent.set(id, at);
    for (const id of this.notified) if (!this.recent.has(id)) this.notified.delete(id);
    if (!notifications.length) this.unsaved();
    if (cut >= 0) await this.apply(through[through.length - 1] as HistoryRecord);
    this.options.deliveries.add(notifications);
    return cut >= 0 || found.length >= limit;
  }

  private heardAfterPosition(): HistoryRecord[] {
    return [...this.recent]
      .filter(([, at]) => at > this.position)
      .map(([_id, lastUpdated]) => ({ _id, lastUpdated }) as HistoryRecord);
  }

  private unsaved(): void {
    this.saved = false;
    this.saveSoon();
  }

  private windowStart(position = this.position): string {
    if (!this.options.lookbackMs || !position) return position;
    return new Date(Date.parse(position) - this.options.lookbackMs).toISOString();
  }

  /** The cursor once these entries are processed. */
  private advanced(entries: HistoryRecord[], atLeast = ''): Cursor {
    let position = atLeast > this.position ? atLeast : this.position;
    for (const e of entries) if (e.lastUpdated > position) position = e.lastUpdated;
    const start = this.windowStart(position);
    const recent = [...this.recent, ...entries.map((e): [string, string] => [e._id, e.lastUpdated])].filter(([, at]) => at >= start);
    return { _id: CURSOR_ID, position, recent };
  }

  private current(): Cursor {
    return { _id: CURSOR_ID, position: this.position, recent: [...this.recent] };
  }

  /** The notifications for these entries: each version is tested against the live subscriptions on its type. */
  private async match(entries: HistoryRecord[]): Promise<PendingNotification[]> {
    const relevant = entries.filter((e) => this.options.registry.forType(e.type).length > 0);
    if (!relevant.length) return [];
    const records = await this.matchableRecords(relevant);
    const now = new Date().toISOString();
    const notifications: PendingNotification[] = [];
    for (const entry of relevant) {
      const record = records.get(entry._id);
      if (!record) continue;
      for (const def of this.options.registry.candidates(record as ResourceRecord)) {
        if (entry.lastUpdated <= def.since || !isLive(def, entry.lastUpdated) || !def.matches(record)) continue;
        const visible = await this.options.visibleTo?.(def.id);
        if (visible && !visible(record)) continue;
        notifications.push({
          _id: `${def.id}/${entry._id}`,
          subscription: def.id,
          entry: entry._id,
          deleted: entry.deleted,
          lastUpdated: entry.lastUpdated,
          attempts: 0,
          due: now,
        });
      }
    }
    return notifications;
  }

  /**
   * The record each entry is matched against, by entry id: the current record when the entry is still the current
   * version (its index entries are stored), otherwise the version's body re-indexed; for a delete, the version
   * it deleted.
   */
  private async matchableRecords(entries: HistoryRecord[]): Promise<Map<string, Doc>> {
    const records = new Map<string, Doc>();
    const unread: HistoryRecord[] = [];
    for (const e of entries) {
      const written = this.written.get(e._id);
      this.written.delete(e._id);
      if (written) records.set(e._id, written);
      else unread.push(e);
    }
    if (!unread.length) return records;
    const keys = unread.filter((e) => !e.deleted).map((e) => resourceKey(e.type, e.id));
    const current = keys.length
      ? ((await this.options.store.find(RESOURCES, { _id: { $in: keys } }, { projection: { resource: 0 } })) as ResourceRecord[])
      : [];
    const currentByKey = new Map(current.map((r) => [r._id, r]));
    const older: string[] = [];
    const olderFor = new Map<string, string>();
    for (const e of unread) {
      const record = currentByKey.get(resourceKey(e.type, e.id));
      if (!e.deleted && record?.versionId === e.versionId) {
        records.set(e._id, record);
        continue;
      }
      const source = e.deleted ? historyKey(e.type, e.id, e.versionId - 1) : e._id;
      older.push(source);
      olderFor.set(source, e._id);
    }
    if (!older.length) return records;
    const versions = await withBodies(this.options.store, (await this.options.store.find(HISTORY, { _id: { $in: older } })) as HistoryRecord[]);
    for (const v of versions) {
      if (!v.resource) continue;
      const { idx } = this.options.indexer.extract(v.resource);
      records.set(olderFor.get(v._id) as string, { _id: resourceKey(v.type, v.id), type: v.type, id: v.id, versionId: v.versionId, lastUpdated: v.lastUpdated, deleted: false, idx });
    }
    return records;
  }

  /** A Subscription version takes effect. */
  private async apply(entry: HistoryRecord): Promise<void> {
    if (entry.deleted) {
      this.options.registry.remove(entry.id);
      return;
    }
    const [version] = await withBodies(this.options.store, [{ ...entry, resource: null }]);
    this.register(entry.id, version?.resource as Subscription | undefined, entry.versionId, true);
  }

  private register(id: string, resource: Subscription | undefined, versionId: number, acceptRequested: boolean): void {
    const def = resource ? this.options.define(resource) : undefined;
    if (!def) {
      this.options.registry.remove(id);
      return;
    }
    this.options.registry.set(def);
    if (acceptRequested && def.status === 'requested') this.options.accept(id, versionId);
  }

  /** The registry as of the cursor: the newest version at or before it of each Subscription. */
  private async loadRegistry(): Promise<void> {
    const filter: Filter = this.position ? { type: 'Subscription', lastUpdated: { $lte: this.position } } : { type: 'Subscription', _id: { $in: [] } };
    const versions = (await this.options.store.find(HISTORY, filter, { sort: [['lastUpdated', 1]] })) as HistoryRecord[];
    const newest = new Map<string, HistoryRecord>();
    for (const v of versions) newest.set(v.id, v);
    const live = await withBodies(this.options.store, [...newest.values()].filter((v) => !v.deleted));
    for (const v of live) this.register(v.id, (v.resource ?? undefined) as Subscription | undefined, v.versionId, true);
  }

  private saveSoon(): void {
    this.saveTimer ??= setTimeout(() => {
      this.saveTimer = undefined;
      if (!this.saved && !this.closed) this.save(this.current(), []).catch((err: unknown) => this.options.logger.log({ level: 'warn', msg: 'subscription feed cursor not saved', error: String(err) }));
    }, CURSOR_SAVE_INTERVAL_MS);
    this.saveTimer.unref();
  }

  /** Stores the cursor, with the notifications of the entries it now covers. */
  private async save(next: Cursor, notifications: PendingNotification[]): Promise<void> {
    // Of the heard entries after position, only those that made notifications need to be remembered.
    const cursor: Cursor = { ...next, recent: next.recent.filter(([id, at]) => at <= next.position || this.notified.has(id)) };
    this.saved = true;
    const exists = this.stored;
    await this.options.store.transaction(async (tx) => {
      for (const n of notifications) await tx.insert(DELIVERIES, n);
      if (exists) await tx.replace(FEED_STATE, cursor);
      else await tx.insert(FEED_STATE, cursor);
    });
    this.stored = true;
  }
}
