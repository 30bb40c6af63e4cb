/**
 * The embedded store on disk: MongoDB query semantics (the shared planner and compiled matcher, collection.ts)
 * over LMDB (lmdb-js), whose memory-mapped B+ trees hold every document and index entry (lmdb-layout.ts), so
 * the heap holds only a bounded cache and start-up reads nothing but the index definitions.
 *
 * Writers are serialised. A transaction's writes are staged (transaction.ts) and queued for commit; queued
 * commits are written together as ONE LMDB write transaction (group commit), synced before any of them is
 * acknowledged. Until then they are in flight: later transactions see them, readers do not (readers read LMDB's
 * committed state, which is the durable state: commits are synced before they become visible). A failed commit
 * fails every commit queued behind it too, as those may have read its writes.
 */
import { mkdirSync } from 'node:fs';
import { open, type Database, type RootDatabase } from 'lmdb';
import { StorageFull, StorageUnavailable, type Doc, type Filter, type FindOptions, type IndexSpec, type Store, type StoreTransaction, type StoreWarning } from '../port';
import { ownSpec, sameIndex } from './collection';
import { CompiledFilter } from './compiled-filter';
import { DocumentCache } from './document-cache';
import { pathIn } from './data-files';
import { importJournalFormat } from './lmdb-import';
import { LmdbCollection } from './lmdb-collection';
import { LmdbIndex, type StoredIndex } from './lmdb-index';
import { LAYOUT_VERSION, LMDB_DIR, META_DICTIONARY_KEY, META_LAYOUT_KEY, PrefixTable, collectionEntry, commitFailure, decodeDocument, encodeDocument, indexEntry, metaIndexesKey, rangeEnd, stringKeys, tooLongForKey } from './lmdb-layout';
import { acquireLock } from './lock';
import { RECORD_DICTIONARY } from './record-dictionary';
import { Writers, type CommitWrites } from './writers';

export interface LmdbStoreOptions {
  dataDir: string;
  /** Bound of the parsed-document cache, in MiB (STORE_CACHE_MB); default 64. */
  cacheMb?: number;
  /** Told about imports and disk-full episodes; default: process warning. */
  onWarning?: (warning: StoreWarning) => void;
  /**
   * Runs in each LMDB write transaction before it commits (tests make the disk "full" here by throwing an
   * ENOSPC error, which aborts the transaction as a failed write would).
   */
  beforeCommit?: () => void;
  /** No fsync (temporary stores of tests only): commits survive a process crash, not a power loss. */
  noSync?: boolean;
}

export const DEFAULT_CACHE_MB = 64;
const EMPTY = Buffer.alloc(0);


interface PendingCommit {
  list: CommitWrites;
  seq: number;
  resolve: () => void;
  reject: (error: Error) => void;
}

/** Index writes in order, two items each: the key, then true to put it or false to remove it (no pair arrays). */
type IndexOps = Array<string | boolean>;

/**
 * Appends the index writes that turn a document's old entries into its new ones: a replace leaves the entries
 * both versions have alone (most of them: an update seldom changes what its indexes hold).
 */
function indexChanges(ops: IndexOps, before: string[] | null, after: string[] | null): void {
  if (!before || before.length === 0) {
    if (after) for (const key of after) ops.push(key, true);
    return;
  }
  const gone = new Set(before);
  if (after) for (const key of after) if (!gone.delete(key)) ops.push(key, true);
  for (const key of gone) ops.push(key, false);
}

export async function openLmdbStore(options: LmdbStoreOptions): Promise<Store> {
  const store = new LmdbStore(options);
  await store.open();
  return store;
}

/** Opens the LMDB environment of a data directory (also used by the store:check and store:compact scripts). */
export function openEnvironment(dataDir: string, options: { noSync?: boolean; readOnly?: boolean } = {}): {
  env: RootDatabase;
  docs: Database<Buffer, string>;
  index: Database<Buffer, string>;
  meta: Database<Buffer, string>;
} {
  const path = pathIn(dataDir, LMDB_DIR);
  if (!options.readOnly) mkdirSync(path, { recursive: true });
  // No mapSize: lmdb-js grows the map as the data grows. overlappingSync off: a commit is synced before it
  // becomes visible and before its promise resolves.
  const env = open({ path, maxDbs: 4, overlappingSync: false, noSync: options.noSync === true, readOnly: options.readOnly === true });
  const dbOptions = { encoding: 'binary' as const, keyEncoder: stringKeys };
  const meta = env.openDB<Buffer, string>('meta', dbOptions);
  const dictionary = documentDictionary(env.openDB<Buffer, string>('docs', dbOptions), meta, options.readOnly === true);
  return {
    env,
    // Document values over 1 KB are LZ4-compressed by lmdb-js (a record shrinks 3-6×, and a value that stays under
    // about half a page is stored in its leaf instead of whole overflow pages); the checksum covers the JSON.
    docs: env.openDB<Buffer, string>('docs', { ...dbOptions, compression: { threshold: 1000, ...dictionary } } as typeof dbOptions),
    index: env.openDB<Buffer, string>('index', dbOptions),
    meta,
  };
}

/**
 * The LZ4 dictionary of the directory's documents (lmdb-layout.ts, META_DICTIONARY_KEY): a new directory is given
 * RECORD_DICTIONARY (record-dictionary.ts) and keeps it in `meta`; a directory whose documents were written
 * without one recorded there keeps lmdb-js's default dictionary, which they were compressed with.
 */
function documentDictionary(rawDocs: Database<Buffer, string>, meta: Database<Buffer, string>, readOnly: boolean): { dictionary?: Buffer } {
  const stored = meta.getBinary(META_DICTIONARY_KEY);
  if (stored !== undefined) return { dictionary: Buffer.from((JSON.parse(decodeDocument(stored, 'meta', META_DICTIONARY_KEY)) as { lz4: string }).lz4, 'base64') };
  if (readOnly || (rawDocs.getStats() as { entryCount: number }).entryCount > 0) return {};
  meta.putSync(META_DICTIONARY_KEY, encodeDocument(JSON.stringify({ lz4: RECORD_DICTIONARY.toString('base64') })));
  return { dictionary: RECORD_DICTIONARY };
}

class LmdbStore implements Store {
  readonly kind = 'embedded' as const;
  private env!: RootDatabase;
  private docs!: Database<Buffer, string>;
  private index!: Database<Buffer, string>;
  private meta!: Database<Buffer, string>;
  private readonly cache: DocumentCache;
  private prefixes!: PrefixTable;
  private readonly collections = new Map<string, LmdbCollection>();
  private readonly writers = new Writers();
  private queue: PendingCommit[] = [];
  private committing: Promise<void> | null = null;
  /** Stored index definitions (JSON), per collection, as last written to `meta`. */
  private readonly storedMeta = new Map<string, string>();
  /** Per collection, its indexes' shape marks (LmdbIndex.shapeMarks) when `meta` was last compared or written. */
  private readonly storedMarks = new Map<string, number>();
  private diskFull = false;
  private closed = false;
  private releaseLock: (() => void) | null = null;

  constructor(private readonly options: LmdbStoreOptions) {
    this.cache = new DocumentCache((options.cacheMb ?? DEFAULT_CACHE_MB) * 1024 * 1024);
  }

  async open(): Promise<void> {
    const dir = this.options.dataDir;
    mkdirSync(dir, { recursive: true });
    this.releaseLock = acquireLock(dir);
    try {
      ({ env: this.env, docs: this.docs, index: this.index, meta: this.meta } = openEnvironment(dir, { noSync: this.options.noSync }));
      await importJournalFormat(dir, this.env, this.docs, this.meta, (warning) => this.warn(warning));
      if (this.meta.getBinary(META_LAYOUT_KEY) === undefined) {
        await this.env.transaction(() => this.writeLayout());
      }
      const layout = JSON.parse(decodeDocument(this.meta.getBinary(META_LAYOUT_KEY)!, 'meta', META_LAYOUT_KEY)) as { layout: number };
      if (layout.layout === 1) this.dropLayout1Indexes();
      else if (layout.layout !== LAYOUT_VERSION) throw new StorageUnavailable(`data directory ${dir} has LMDB layout ${layout.layout}; this server reads layout ${LAYOUT_VERSION}`);
      this.prefixes = PrefixTable.load(this.meta);
      for (const { key, value } of this.meta.getRange({ start: 'indexes/', end: 'indexes0' })) {
        const name = (key as string).slice('indexes/'.length);
        const json = decodeDocument(value, 'meta', key as string);
        const collection = this.collectionFor(name);
        for (const stored of JSON.parse(json) as StoredIndex[]) {
          const prefix = this.prefixes.get(indexEntry(name, stored.spec.name));
          if (prefix === undefined) throw new StorageUnavailable(`data directory ${dir}: index ${stored.spec.name} of ${name} has no key prefix (damaged meta)`);
          collection.indexes.set(stored.spec.name, new LmdbIndex(prefix, stored.spec, this.index, stored));
        }
        this.storedMeta.set(name, json);
      }
    } catch (error) {
      await this.env?.close();
      this.releaseLock();
      this.releaseLock = null;
      throw error;
    }
  }

  /** Records this server's layout in `meta` (inside a write transaction). */
  private writeLayout(): void {
    this.meta.putSync(META_LAYOUT_KEY, encodeDocument(JSON.stringify({ layout: LAYOUT_VERSION })));
  }

  /** Removes every key of `index` (inside a write transaction); returns how many there were. */
  private removeIndexKeys(index: LmdbIndex): number {
    let removed = 0;
    for (const key of this.index.getKeys({ start: index.prefix, end: rangeEnd(index.prefix) })) {
      this.index.removeSync(key);
      removed++;
    }
    return removed;
  }

  /**
   * Layout 1 ended index keys in the whole `_id`, layout 2 in the id relative to the key's type (index-ids.ts). The
   * documents stay as they are; every index is dropped (its keys and its definition) in one write transaction
   * that also records layout 2, and ensureIndexes then builds the indexes the server defines over the stored
   * documents, as for a new index.
   */
  private dropLayout1Indexes(): void {
    const definitions = [...this.meta.getKeys({ start: 'indexes/', end: 'indexes0' })] as string[];
    const entries = this.index.getStats() as { entryCount: number };
    this.env.transactionSync(() => {
      this.index.clearSync();
      for (const key of definitions) this.meta.removeSync(key);
      this.writeLayout();
    });
    this.warn({
      msg: `the data directory was in LMDB layout 1: its ${entries.entryCount} index entries were dropped for layout ${LAYOUT_VERSION} (shorter keys); the indexes are built again from the stored documents`,
    });
  }

  async find(collection: string, filter: Filter, options?: FindOptions): Promise<Doc[]> {
    this.assertOpen();
    return this.collectionFor(collection).find(new CompiledFilter(filter), options);
  }

  async findOne(collection: string, filter: Filter, options?: FindOptions): Promise<Doc | null> {
    const [first] = await this.find(collection, filter, { ...options, limit: 1 });
    return first ?? null;
  }

  async count(collection: string, filter: Filter, limit?: number): Promise<number> {
    this.assertOpen();
    return this.collectionFor(collection).count(new CompiledFilter(filter), limit);
  }

  /** Builds missing indexes from the stored documents, in one write transaction with their definitions. */
  async ensureIndexes(collection: string, indexes: IndexSpec[]): Promise<void> {
    this.assertOpen();
    const target = this.collectionFor(collection);
    const missing = indexes.filter((spec) => {
      const existing = target.indexes.get(spec.name);
      return !existing || !sameIndex(existing.spec, spec);
    });
    if (missing.length === 0) return;
    const release = await this.writers.acquire();
    try {
      await this.committing;
      const built = missing.map(
        (spec) => new LmdbIndex(this.prefixes.assign(indexEntry(collection, spec.name)), ownSpec(spec), this.index),
      );
      const started = Date.now();
      let documents = 0;
      await this.env.childTransaction(() => {
        for (const index of built) {
          this.removeIndexKeys(index);
        }
        for (const doc of target.all()) {
          documents++;
          for (const index of built) {
            if (index.spec.unique) index.assertUnique(doc, index.tuples(doc), () => false);
            for (const key of index.entryKeys(doc)) this.index.putSync(key, EMPTY);
          }
        }
        for (const index of built) target.indexes.set(index.spec.name, index);
        this.storedMarks.delete(collection);
        this.writeMeta(target);
        this.prefixes.save(this.meta);
      });
      if (documents > 0) {
        this.warn({
          msg: `built ${missing.length} indexes of collection ${collection} (${missing.map((s) => s.name).join(', ')}) over ${documents} stored documents in ${((Date.now() - started) / 1000).toFixed(1)} s`,
        });
      }
    } catch (error) {
      for (const spec of missing) target.indexes.delete(spec.name);
      this.prefixes.unsaved();
      throw error;
    } finally {
      this.env.resetReadTxn();
      release();
    }
  }

  /** Drops indexes: their keys and definitions, in one write transaction. */
  async dropIndexes(collection: string, names: string[]): Promise<void> {
    this.assertOpen();
    const target = this.collections.get(collection);
    const dropped = target ? names.flatMap((name) => target.indexes.get(name) ?? []) : [];
    if (!target || dropped.length === 0) return;
    const release = await this.writers.acquire();
    let entries = 0;
    try {
      await this.committing;
      await this.env.childTransaction(() => {
        for (const index of dropped) {
          entries += this.removeIndexKeys(index);
          target.indexes.delete(index.spec.name);
        }
        this.storedMarks.delete(collection);
        this.writeMeta(target);
      });
      this.warn({ msg: `dropped ${dropped.length} indexes of collection ${collection} (${dropped.map((i) => i.spec.name).join(', ')}; ${entries} entries)` });
    } catch (error) {
      for (const index of dropped) target.indexes.set(index.spec.name, index);
      this.storedMeta.delete(collection);
      this.storedMarks.delete(collection);
      throw error;
    } finally {
      this.env.resetReadTxn();
      release();
    }
  }

  async transaction<T>(work: (tx: StoreTransaction) => Promise<T>): Promise<T> {
    this.assertOpen();
    return this.writers.run((name) => this.collectionFor(name), work, (list, failuresBefore) => this.commit(list, failuresBefore), () => this.assertOpen());
  }
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.writers.idle();
    await this.committing;
    await this.env.close();
    this.releaseLock?.();
    this.releaseLock = null;
  }

  private collectionFor(name: string): LmdbCollection {
    let collection = this.collections.get(name);
    if (!collection) {
      collection = new LmdbCollection(name, this.docs, this.cache, this.prefixes.get(collectionEntry(name)));
      this.collections.set(name, collection);
    }
    return collection;
  }

  /** Queues staged writes as the next commit; they are in flight until the LMDB transaction holding them is synced. */
  private commit(list: CommitWrites, failuresBefore: number): Promise<void> {
    if (list.length === 0) {
      // Nothing written, but what it read may still be in flight: answer once that is durable (or failed).
      return this.writers.busy ? this.drained().then(() => this.writers.assertNoFailureSince(failuresBefore)) : Promise.resolve();
    }
    const seq = this.writers.markInFlight(list);
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ list, seq, resolve, reject });
      this.committing ??= this.writeQueued();
    });
  }

  private async drained(): Promise<void> {
    while (this.committing) await this.committing;
  }

  /** Writes queued commits, all that queued up meanwhile as one LMDB transaction, until none is left. */
  private async writeQueued(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue;
      this.queue = [];
      try {
        const { docOps, indexOps } = this.prepare(batch);
        this.options.beforeCommit?.();
        // One lmdb-js batch: the writes go to its writer thread as queued instructions and are committed and
        // synced as one LMDB transaction, without handing the transaction back to this thread for a callback
        // (which costs a thread round trip per commit). Nothing in here may throw (prepare() checked the keys):
        // writes issued before a throw would still be committed.
        const synced = this.env.batch(() => {
          for (const [key, value] of docOps) {
            if (value) void this.docs.put(key, value);
            else void this.docs.remove(key);
          }
          for (let i = 0; i < indexOps.length; i += 2) {
            const key = indexOps[i] as string;
            if (indexOps[i + 1]) void this.index.put(key, EMPTY);
            else void this.index.remove(key);
          }
          for (const collection of new Set(batch.flatMap((c) => c.list.map(([name]) => name)))) this.writeMeta(this.collectionFor(collection));
          this.prefixes.save(this.meta);
        });
        // lmdb-js ran the callback already and holds what it still needs (each value until it is written): the
        // keys and bytes are dropped here, so they do not live through the collections of the fsync wait.
        docOps.clear();
        indexOps.length = 0;
        await synced;
      } catch (error) {
        const failure = await commitFailure(error, this.options.dataDir);
        await this.reopenEnvironment();
        this.fail([...batch, ...this.queue.splice(0)], failure);
        continue;
      }
      this.env.resetReadTxn();
      for (const commit of batch) {
        for (const [collection, id] of commit.list) this.cache.delete(this.collectionFor(collection).prefix + id);
        this.writers.settle(commit.list, commit.seq);
      }
      if (this.diskFull) {
        this.diskFull = false;
        this.warn({ msg: 'writes are stored again: disk space was freed' });
      }
      for (const commit of batch) commit.resolve();
    }
    this.committing = null;
  }

  /**
   * After a failed commit (a full disk), LMDB's environment may hold state of the aborted write: it is closed and
   * opened again, so the next commit starts from what is on disk.
   */
  private async reopenEnvironment(): Promise<void> {
    try {
      await this.env.close();
    } catch {
      // closing a failed environment may fail too; opening it again is what matters
    }
    ({ env: this.env, docs: this.docs, index: this.index, meta: this.meta } = openEnvironment(this.options.dataDir, { noSync: this.options.noSync }));
    for (const collection of this.collections.values()) collection.attach(this.docs, this.index);
    this.cache.clear();
  }

  /**
   * The key writes of a batch, computed before the LMDB transaction starts (so nothing in it can throw but LMDB
   * itself): documents replaced or deleted take their old index entries with them, read from the committed
   * state or from an earlier commit of the same batch.
   */
  private prepare(batch: PendingCommit[]): { docOps: Map<string, Buffer | null>; indexOps: IndexOps } {
    const docOps = new Map<string, Buffer | null>();
    // In commit order (LMDB applies them in order, so a later write of a key wins, as in a map of keys).
    const indexOps: IndexOps = [];
    const latest = new Map<string, Doc | null>();
    for (const { list } of batch) {
      for (const [name, id, write] of list) {
        const collection = this.collectionFor(name);
        collection.prefix ??= this.prefixes.assign(collectionEntry(name));
        const key = collection.prefix + id;
        if (tooLongForKey(key)) throw new Error(`the _id ${id.slice(0, 40)}… of a document of ${name} is too long to be stored`);
        // A document absent when the write was staged is still absent from the committed state unless an earlier
        // commit of this batch wrote it: commits in flight then are in this batch or durable, and later ones queue behind.
        const old = latest.has(key) ? latest.get(key)! : write.absentBefore ? null : (collection.get(id) ?? null);
        for (const index of collection.indexes.values()) indexChanges(indexOps, old && index.entryKeys(old), write.doc && index.entryKeys(write.doc));
        docOps.set(key, write.json === null ? null : encodeDocument(write.json));
        // Encoded (flattened first: JSON.stringify builds a rope): the text is not needed again.
        write.json = null;
        latest.set(key, write.doc);
      }
    }
    return { docOps, indexOps };
  }

  /** Writes a collection's index definitions and shapes to `meta` when they changed (inside a write transaction). */
  private writeMeta(collection: LmdbCollection): void {
    if (collection.indexes.size === 0) {
      if (this.storedMeta.delete(collection.name)) void this.meta.remove(metaIndexesKey(collection.name));
      return;
    }
    // Shapes only gain flags, so unchanged marks mean unchanged definitions: no JSON to build on most commits.
    let marks = collection.indexes.size;
    for (const index of collection.indexes.values()) marks += index.shapeMarks();
    if (this.storedMarks.get(collection.name) === marks) return;
    this.storedMarks.set(collection.name, marks);
    const json = JSON.stringify([...collection.indexes.values()].map((index) => index.stored()));
    if (this.storedMeta.get(collection.name) === json) return;
    void this.meta.put(metaIndexesKey(collection.name), encodeDocument(json));
    this.storedMeta.set(collection.name, json);
  }

  private fail(commits: PendingCommit[], error: Error): void {
    this.env.resetReadTxn();
    this.storedMeta.clear();
    this.storedMarks.clear();
    this.prefixes.unsaved();
    for (const commit of commits) this.writers.settle(commit.list, commit.seq);
    this.writers.failed(error);
    if (error instanceof StorageFull && !this.diskFull) {
      this.diskFull = true;
      this.warn({ msg: 'the disk is full: writes are refused until space is freed in the data directory (reads go on)', error: error.message });
    }
    for (const commit of commits) commit.reject(error);
  }

  private warn(warning: StoreWarning): void {
    if (this.options.onWarning) this.options.onWarning(warning);
    else process.emitWarning(`embedded store: ${JSON.stringify(warning)}`);
  }

  private assertOpen(): void {
    if (this.closed) throw new StorageUnavailable('the store is closed');
  }
}

