/**
 * The in-memory embedded store (tests, and a server without a data directory): MongoDB query semantics over
 * in-memory collections (a compiled matcher, or mingo, re-checks the candidates the index planner yields).
 * Writers are serialised (writers.ts) and a commit applies at once; nothing survives close(). On disk, the
 * embedded store is LMDB (lmdb-store.ts).
 */
import { StorageUnavailable, type Doc, type Filter, type FindOptions, type IndexSpec, type Store, type StoreTransaction, type StoreWarning } from '../port';
import { Collection } from './collection';
import { CompiledFilter } from './compiled-filter';
import { Writers, type CommitWrites } from './writers';

export interface EmbeddedStoreOptions {
  /** Accepted for symmetry with the on-disk store; an in-memory store has nothing to warn about. */
  onWarning?: (warning: StoreWarning) => void;
}

export async function openEmbeddedStore(_options: EmbeddedStoreOptions = {}): Promise<Store> {
  return new EmbeddedStore();
}

class EmbeddedStore implements Store {
  readonly kind = 'embedded' as const;
  private readonly collections = new Map<string, Collection>();
  private readonly writers = new Writers();
  private closed = false;

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

  async dropIndexes(collection: string, names: string[]): Promise<void> {
    this.assertOpen();
    for (const name of names) this.collections.get(collection)?.dropIndex(name);
  }

  async transaction<T>(work: (tx: StoreTransaction) => Promise<T>): Promise<T> {
    this.assertOpen();
    return this.writers.run((name) => this.collections.get(name), work, (list) => this.apply(list), () => this.assertOpen());
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.writers.idle();
  }

  private collectionFor(name: string): Collection {
    let collection = this.collections.get(name);
    if (!collection) {
      collection = new Collection();
      this.collections.set(name, collection);
    }
    return collection;
  }

  private async apply(list: CommitWrites): Promise<void> {
    for (const [collection, id, write] of list) {
      if (write.doc) this.collectionFor(collection).put(write.doc);
      else this.collections.get(collection)?.delete(id);
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new StorageUnavailable('the store is closed');
  }
}
