/**
 * The embedded store: MongoDB query semantics over in-memory collections (a compiled matcher, or mingo,
 * re-checks the candidates the index planner yields), made durable by an append-only journal with group commit and periodic snapshots.
 * Writers are serialised; readers never wait for them and see only durable commits. Without a data directory
 * it runs purely in memory (for tests).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { mkdirSync, readdirSync, unlinkSync } from 'node:fs';
import { StorageUnavailable, type Doc, type Filter, type FindOptions, type IndexSpec, type Store, type StoreTransaction } from '../port';
import { Collection } from './collection';
import { CompiledFilter } from './compiled-filter';
import { fsyncDirectory, journalFile, journalGenerations, pathIn } from './data-files';
import { Journal } from './journal';
import { acquireLock } from './lock';
import { freeze } from './projection';
import { recover } from './recovery';
import { writeSnapshot } from './snapshot';
import { EmbeddedTransaction, type StagedWrite } from './transaction';

export interface EmbeddedStoreOptions {
  /** Data directory; absent = in memory only, nothing survives close(). */
  dataDir?: string;
  /**
   * Compact (snapshot + fresh journal) once the journal holds this many bytes, or as many bytes as the last
   * snapshot if that is more, so recovery reads at most about twice the live data. Default 64 MiB.
   */
  compactAfterBytes?: number;
  /** Told about failures of background compaction (the store keeps working on its journal). */
  onBackgroundError?: (error: Error) => void;
}

const DEFAULT_COMPACT_AFTER_BYTES = 64 * 1024 * 1024;

interface InFlightWrite {
  doc: Doc | null;
  seq: number;
}

type CommitWrites = Array<[collection: string, id: string, write: StagedWrite]>;

export async function openEmbeddedStore(options: EmbeddedStoreOptions = {}): Promise<Store> {
  const store = new EmbeddedStore(options);
  await store.open();
  return store;
}

class EmbeddedStore implements Store {
  readonly kind = 'embedded' as const;
  private readonly collections = new Map<string, Collection>();
  private readonly inFlight = new Map<string, Map<string, InFlightWrite>>();
  private readonly activeTransaction = new AsyncLocalStorage<EmbeddedStore>();
  private readonly compactAfterBytes: number;
  private writerTail: Promise<void> = Promise.resolve();
  private commitSeq = 0;
  private journal: Journal | null = null;
  private releaseLock: (() => void) | null = null;
  private compaction: Promise<void> | null = null;
  private snapshotBytes = 0;
  private closed = false;

  constructor(private readonly options: EmbeddedStoreOptions) {
    this.compactAfterBytes = options.compactAfterBytes ?? DEFAULT_COMPACT_AFTER_BYTES;
  }

  async open(): Promise<void> {
    const dir = this.options.dataDir;
    if (dir === undefined) return;
    mkdirSync(dir, { recursive: true });
    this.releaseLock = acquireLock(dir);
    try {
      const state = recover(dir, {
        put: (collection, doc) => this.collectionFor(collection).put(freeze(doc)),
        delete: (collection, id) => void this.collections.get(collection)?.delete(id),
      });
      this.snapshotBytes = state.snapshotBytes;
      const afterBatch = (): Promise<void> => this.maybeCompact();
      this.journal =
        state.resumeGeneration !== null
          ? await Journal.resume(dir, state.resumeGeneration, state.journalBytes, afterBatch)
          : await Journal.create(dir, state.nextGeneration, afterBatch);
    } catch (error) {
      this.releaseLock();
      this.releaseLock = null;
      throw error;
    }
  }

  async find(collection: string, filter: Filter, options?: FindOptions): Promise<Doc[]> {
    this.assertOpen();
    return this.collections.get(collection)?.find(new CompiledFilter(filter), options) ?? [];
  }

  async findOne(collection: string, filter: Filter, options?: FindOptions): Promise<Doc | null> {
    const [first] = await this.find(collection, filter, { ...options, limit: 1 });
    return first ?? null;
  }

  async count(collection: string, filter: Filter, limit?: number): Promise<number> {
    this.assertOpen();
    return this.collections.get(collection)?.count(new CompiledFilter(filter), limit) ?? 0;
  }

  async ensureIndexes(collection: string, indexes: IndexSpec[]): Promise<void> {
    this.assertOpen();
    const target = this.collectionFor(collection);
    for (const spec of indexes) target.ensureIndex(spec);
  }

  async transaction<T>(work: (tx: StoreTransaction) => Promise<T>): Promise<T> {
    this.assertOpen();
    if (this.activeTransaction.getStore() === this) {
      throw new Error('transaction() called inside a transaction of the same store; use the transaction passed to work');
    }
    const release = await this.acquireWriter();
    let durable: Promise<void>;
    let result: T;
    const tx = new EmbeddedTransaction({
      collection: (name) => this.collections.get(name),
      inFlight: (name) => this.inFlightView(name),
      inFlightHas: (name, id) => this.inFlight.get(name)?.has(id) ?? false,
      inFlightGet: (name, id) => this.inFlight.get(name)?.get(id)?.doc ?? null,
    });
    try {
      this.assertOpen();
      result = await this.activeTransaction.run(this, () => work(tx));
      tx.finish();
      durable = this.commit(tx.writes);
    } catch (error) {
      tx.finish();
      release();
      throw error;
    }
    release();
    await durable;
    return result;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.writerTail;
    await this.journal?.drain();
    await this.compaction;
    await this.journal?.close();
    this.journal = null;
    this.releaseLock?.();
    this.releaseLock = null;
  }

  private collectionFor(name: string): Collection {
    let collection = this.collections.get(name);
    if (!collection) {
      collection = new Collection();
      this.collections.set(name, collection);
    }
    return collection;
  }

  /** Serialises writers: resolves with the function that lets the next one in. */
  private async acquireWriter(): Promise<() => void> {
    let release!: () => void;
    const previous = this.writerTail;
    this.writerTail = new Promise<void>((resolve) => (release = resolve));
    await previous;
    return release;
  }

  /**
   * Makes staged writes the next commit. In memory they apply at once; on disk they are in flight (visible to
   * later transactions, not to readers) until the journal frame holding them is durable, then they apply.
   */
  private commit(writes: Map<string, Map<string, StagedWrite>>): Promise<void> {
    const list: CommitWrites = [];
    for (const [collection, byId] of writes) for (const [id, write] of byId) list.push([collection, id, write]);
    if (!this.journal) {
      this.apply(list);
      return Promise.resolve();
    }
    if (list.length === 0) return this.inFlight.size === 0 ? Promise.resolve() : this.journal.drain();
    const seq = ++this.commitSeq;
    for (const [collection, id, write] of list) {
      let byId = this.inFlight.get(collection);
      if (!byId) {
        byId = new Map();
        this.inFlight.set(collection, byId);
      }
      byId.set(id, { doc: write.doc, seq });
    }
    const payload = '{"w":[' + list.map(([c, id, w]) => `[${JSON.stringify(c)},${JSON.stringify(id)},${w.json ?? 'null'}]`).join(',') + ']}';
    return this.journal.append(payload, () => {
      this.apply(list);
      for (const [collection, id] of list) {
        const byId = this.inFlight.get(collection);
        if (byId && (byId.get(id)?.seq ?? Infinity) <= seq) byId.delete(id);
        if (byId?.size === 0) this.inFlight.delete(collection);
      }
    });
  }

  private apply(list: CommitWrites): void {
    for (const [collection, id, write] of list) {
      if (write.doc) this.collectionFor(collection).put(write.doc);
      else this.collections.get(collection)?.delete(id);
    }
  }

  private inFlightView(name: string): ReadonlyMap<string, Doc | null> | undefined {
    const byId = this.inFlight.get(name);
    if (!byId) return undefined;
    const view = new Map<string, Doc | null>();
    for (const [id, write] of byId) view.set(id, write.doc);
    return view;
  }

  /**
   * Runs between journal batches. Past the threshold: switch to a fresh journal generation and write a
   * snapshot of the state at that switch in the background; once it is installed, older journals go.
   */
  private async maybeCompact(): Promise<void> {
    const journal = this.journal;
    const dir = this.options.dataDir;
    if (!journal || dir === undefined || this.compaction || this.closed) return;
    if (journal.size < Math.max(this.compactAfterBytes, this.snapshotBytes)) return;
    const generation = journal.generation + 1;
    await journal.rotate(generation);
    const collections: Array<[string, Doc[]]> = [...this.collections].map(([name, c]) => [name, [...c.values()]]);
    this.compaction = writeSnapshot(dir, { journalGeneration: generation, collections })
      .then(async (bytes) => {
        this.snapshotBytes = bytes;
        for (const old of journalGenerations(readdirSync(dir)).filter((g) => g < generation)) unlinkSync(pathIn(dir, journalFile(old)));
        await fsyncDirectory(dir);
      })
      .catch((error: unknown) => {
        const failure = error instanceof Error ? error : new Error(String(error));
        (this.options.onBackgroundError ?? ((e: Error) => process.emitWarning(`embedded store compaction failed: ${e.message}`)))(failure);
      })
      .finally(() => {
        this.compaction = null;
      });
  }

  private assertOpen(): void {
    if (this.closed) throw new StorageUnavailable('the store is closed');
  }
}
