/**
 * The embedded store: MongoDB query semantics over in-memory collections (a compiled matcher, or mingo,
 * re-checks the candidates the index planner yields), made durable by an append-only journal with group commit and periodic snapshots.
 * Writers are serialised; readers never wait for them and see only durable commits. Without a data directory
 * it runs purely in memory (for tests).
 */
import { mkdirSync, readdirSync } from 'node:fs';
import { StorageFull, StorageUnavailable, type Doc, type Filter, type FindOptions, type IndexSpec, type Store, type StoreTransaction, type StoreWarning } from '../port';
import { Collection } from './collection';
import { CompiledFilter } from './compiled-filter';
import { fsyncDirectory, journalFile, journalGenerations, nodeFileSystem, pathIn, type StoreFileSystem } from './data-files';
import { Journal } from './journal';
import { acquireLock } from './lock';
import { freeze } from './projection';
import { recover, type RecoveredState } from './recovery';
import { writeSnapshot } from './snapshot';
import { Writers, type CommitWrites } from './writers';

export interface EmbeddedStoreOptions {
  /** Data directory; absent = in memory only, nothing survives close(). */
  dataDir?: string;
  /**
   * Compact (snapshot + fresh journal) once the journal holds this many bytes, or as many bytes as the last
   * snapshot if that is more, so recovery reads at most about twice the live data. Default 64 MiB.
   */
  compactAfterBytes?: number;
  /** Told about failures of background compaction (the store keeps working on its journal); default: onWarning. */
  onBackgroundError?: (error: Error) => void;
  /** Told what recovery repaired at open (a torn journal tail cut off, with its byte count); default: process warning. */
  onWarning?: (warning: StoreWarning) => void;
  /** The file operations writes go through (tests inject a full disk here); default node:fs. */
  files?: StoreFileSystem;
}

const DEFAULT_COMPACT_AFTER_BYTES = 64 * 1024 * 1024;


export async function openEmbeddedStore(options: EmbeddedStoreOptions = {}): Promise<Store> {
  const store = new EmbeddedStore(options);
  await store.open();
  return store;
}

class EmbeddedStore implements Store {
  readonly kind = 'embedded' as const;
  private readonly collections = new Map<string, Collection>();
  private readonly writers = new Writers();
  private readonly compactAfterBytes: number;
  private journal: Journal | null = null;
  private releaseLock: (() => void) | null = null;
  private compaction: Promise<void> | null = null;
  private snapshotBytes = 0;
  /** Compaction is not tried again before the journal reaches this size after a failed attempt. */
  private compactionBackoffBytes = 0;
  /** A commit failed for lack of space and none has succeeded since (told to the operator once per episode). */
  private diskFull = false;
  private closed = false;
  private readonly files: StoreFileSystem;

  constructor(private readonly options: EmbeddedStoreOptions) {
    this.compactAfterBytes = options.compactAfterBytes ?? DEFAULT_COMPACT_AFTER_BYTES;
    this.files = options.files ?? nodeFileSystem;
  }

  async open(): Promise<void> {
    const dir = this.options.dataDir;
    if (dir === undefined) return;
    mkdirSync(dir, { recursive: true });
    this.releaseLock = acquireLock(dir);
    try {
      const state = recover(
        dir,
        {
          put: (collection, doc) => this.collectionFor(collection).put(freeze(doc)),
          delete: (collection, id) => void this.collections.get(collection)?.delete(id),
        },
        (warning) => this.warn(warning),
      );
      this.snapshotBytes = state.snapshotBytes;
      const afterBatch = (): Promise<void> => this.maybeCompact();
      const files = { dir, files: this.files };
      if (await this.compactOnOpen(dir, state)) this.journal = await Journal.create(files, state.nextGeneration, afterBatch);
      else if (state.resumeGeneration !== null) this.journal = await Journal.resume(files, state.resumeGeneration, state.journalBytes, afterBatch);
      else this.journal = await Journal.create(files, state.nextGeneration, afterBatch);
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
    return this.writers.run((name) => this.collections.get(name), work, (list, failuresBefore) => this.commit(list, failuresBefore), () => this.assertOpen());
  }
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.writers.idle();
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

  /**
   * Makes staged writes the next commit. In memory they apply at once; on disk they are in flight (visible to
   * later transactions, not to readers) until the journal frame holding them is durable, then they apply.
   */
  private commit(list: CommitWrites, failuresBefore: number): Promise<void> {
    if (!this.journal) {
      this.apply(list);
      return Promise.resolve();
    }
    if (list.length === 0) {
      return this.writers.busy ? this.journal.drain().then(() => this.writers.assertNoFailureSince(failuresBefore)) : Promise.resolve();
    }
    const seq = this.writers.markInFlight(list);
    const payload = '{"w":[' + list.map(([c, id, w]) => `[${JSON.stringify(c)},${JSON.stringify(id)},${w.json ?? 'null'}]`).join(',') + ']}';
    const settle = (): void => this.writers.settle(list, seq);
    return this.journal.append(
      payload,
      () => {
        this.apply(list);
        settle();
        if (this.diskFull) {
          this.diskFull = false;
          this.warn({ msg: 'writes are stored again: disk space was freed' });
        }
      },
      (error) => {
        settle();
        this.writers.failed(error);
        if (error instanceof StorageFull && !this.diskFull) {
          this.diskFull = true;
          this.warn({ msg: 'the disk is full: writes are refused until space is freed in the data directory (reads go on)', error: error.message });
        }
      },
    );
  }

  private apply(list: CommitWrites): void {
    for (const [collection, id, write] of list) {
      if (write.doc) this.collectionFor(collection).put(write.doc);
      else this.collections.get(collection)?.delete(id);
    }
  }

  /**
   * Runs between journal batches. Past the threshold: switch to a fresh journal generation and write a
   * snapshot of the state at that switch in the background; once it is installed, older journals go.
   */
  private async maybeCompact(): Promise<void> {
    const journal = this.journal;
    const dir = this.options.dataDir;
    if (!journal || dir === undefined || this.compaction || this.closed) return;
    const threshold = Math.max(this.compactAfterBytes, this.snapshotBytes);
    if (journal.size < Math.max(threshold, this.compactionBackoffBytes)) return;
    const generation = journal.generation + 1;
    try {
      await journal.rotate(generation);
    } catch (error) {
      this.compactionBackoffBytes = journal.size + threshold;
      this.reportBackgroundError(error);
      return;
    }
    this.compaction = this.installSnapshot(dir, generation)
      .catch((error: unknown) => this.reportBackgroundError(error))
      .finally(() => {
        this.compaction = null;
      });
  }

  /**
   * Compaction at open, when the journals replayed are past the compaction threshold: after crashes that kept
   * interrupting background compaction, journals would otherwise pile up and every start-up read them all.
   * The snapshot names a generation no journal has yet, so a crash at any point leaves a directory that opens
   * the same. Resolves to whether it ran; when it fails (a full disk), the store opens on its journals.
   */
  private async compactOnOpen(dir: string, state: RecoveredState): Promise<boolean> {
    if (state.replayedBytes === 0 || state.replayedBytes < Math.max(this.compactAfterBytes, state.snapshotBytes)) return false;
    try {
      await this.installSnapshot(dir, state.nextGeneration);
      return true;
    } catch (error) {
      this.reportBackgroundError(error);
      return false;
    }
  }

  /** Writes the current state as the snapshot before journal `generation`, then removes the journals it replaces. */
  private async installSnapshot(dir: string, generation: number): Promise<void> {
    const collections: Array<[string, Doc[]]> = [...this.collections].map(([name, c]) => [name, [...c.values()]]);
    this.snapshotBytes = await writeSnapshot(dir, { journalGeneration: generation, collections }, this.files);
    this.compactionBackoffBytes = 0;
    for (const old of journalGenerations(readdirSync(dir)).filter((g) => g < generation)) await this.files.unlink(pathIn(dir, journalFile(old)));
    await fsyncDirectory(dir, this.files);
  }

  private reportBackgroundError(error: unknown): void {
    const failure = error instanceof Error ? error : new Error(String(error));
    if (this.options.onBackgroundError) this.options.onBackgroundError(failure);
    else this.warn({ msg: 'compaction failed; the store goes on writing its journal and tries again later', error: failure.message });
  }

  private warn(warning: StoreWarning): void {
    if (this.options.onWarning) this.options.onWarning(warning);
    else process.emitWarning(`embedded store: ${JSON.stringify(warning)}`);
  }

  private assertOpen(): void {
    if (this.closed) throw new StorageUnavailable('the store is closed');
  }
}
