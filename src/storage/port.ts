/**
 * The one storage port. Both adapters (embedded engine, MongoDB) implement it and pass the same
 * contract suite (test/contract). Filters, sorts and projections are MongoDB query documents with
 * MongoDB semantics, so the query compiler (src/search/compile) emits one form for both.
 */

/** A stored document. `_id` is a string chosen by the caller. */
export type Doc = { _id: string } & Record<string, unknown>;

/** A MongoDB query document (https://www.mongodb.com/docs/manual/tutorial/query-documents/). */
export type Filter = Record<string, unknown>;

/** Ordered sort keys: [['lastUpdated', -1], ['_id', 1]]. Order matters, so not an object. */
export type SortSpec = Array<[string, 1 | -1]>;

export interface FindOptions {
  sort?: SortSpec;
  skip?: number;
  limit?: number;
  /** Inclusion or exclusion projection, MongoDB style ({ resource: 1 } or { idx: 0 }). */
  projection?: Record<string, 0 | 1>;
  /**
   * A hint for bulk readers (export): each document is read once, so an adapter with a document cache
   * neither fills nor reorders it with them. Results are the same either way.
   */
  readOnce?: boolean;
}

/** A secondary index. Keys may traverse arrays (multikey), e.g. ['idx.tok.p', 1], ['idx.tok.c', 1]. */
export interface IndexSpec {
  name: string;
  keys: SortSpec;
  unique?: boolean;
  /**
   * The keys reach into two different arrays, so a document has one entry per pair of their elements. The
   * embedded engine builds such an index; MongoDB cannot index parallel arrays
   * (https://www.mongodb.com/docs/manual/core/indexes/index-types/index-multikey/#compound-multikey-indexes)
   * and leaves it out, which changes no result, only which plans are available.
   */
  crossesArrays?: boolean;
  /**
   * Embedded engine: paths every entry has a value at. A key tuple that is null (no value) at one of them is not
   * stored: `idx.ref.u` for the URL reference index leaves out the many references that have no URL. The planner
   * uses such an index only when its bounds constrain every one of these paths (planner.ts, boundsFor), which
   * no left-out tuple meets, so results and counts are those of the full index. MongoDB builds an ordinary index.
   */
  sparseOn?: string[];
  /**
   * Embedded engine: the index holds only the key tuples whose value at each of these paths is one of the values
   * listed (string values). The planner uses it only when its bounds fix each of these paths to listed values
   * (planner.ts, boundsFor), so it never answers for entries it left out. MongoDB builds an ordinary index.
   */
  only?: Array<[path: string, values: string[]]>;
}

export interface StoreReader {
  find(collection: string, filter: Filter, options?: FindOptions): Promise<Doc[]>;
  findOne(collection: string, filter: Filter, options?: FindOptions): Promise<Doc | null>;
  /** Number of matching documents; stops counting at `limit` when given (for `_total=estimate`-style caps). */
  count(collection: string, filter: Filter, limit?: number): Promise<number>;
}

export interface WriteOptions {
  /**
   * The caller hands the document over: neither it nor anything it holds is changed again, by anyone. The embedded
   * store then freezes it where it is instead of keeping a frozen copy (a copy is still made of a document holding
   * values JSON would change). Without it, the store is safe from callers that go on changing what they wrote.
   */
  handOver?: boolean;
}

/** Reads inside a transaction see the transaction's own writes; nobody else sees them before commit. */
export interface StoreTransaction extends StoreReader {
  /**
   * Inserts a new document; rejects with StorageConflict when `_id` already exists. May resolve to the document
   * as the store holds it until commit (the embedded store's frozen copy), which a caller that keeps the document
   * until then can keep instead of its own, so only one copy stays alive.
   */
  insert(collection: string, doc: Doc, options?: WriteOptions): Promise<Doc | void>;
  /**
   * Replaces the document with `doc._id`. When `expect` is given, the stored document must also match it
   * (optimistic concurrency, e.g. { versionId: 3 }); rejects with StorageConflict when it does not or is absent.
   */
  replace(collection: string, doc: Doc, expect?: Filter, options?: WriteOptions): Promise<Doc | void>;
  /** Deletes the document with this `_id` if present; resolves to whether it was. */
  delete(collection: string, id: string): Promise<boolean>;
  /**
   * Orders this transaction against every concurrent one that guards the same key: whichever commits second
   * is re-run after the first committed, so it reads the first one's writes (read-decide-write is race-free,
   * e.g. "create unless one matches", src/fhir/conditional.ts). Transactions that never guard are not affected.
   */
  guard(key: string): Promise<void>;
}

export interface Store extends StoreReader {
  readonly kind: 'embedded' | 'mongodb';
  /** Creates the indexes if missing (idempotent; called at start-up). */
  ensureIndexes(collection: string, indexes: IndexSpec[]): Promise<void>;
  /** Drops the indexes of these names that exist (indexes an earlier version defined; idempotent; called at start-up). */
  dropIndexes(collection: string, names: string[]): Promise<void>;
  /**
   * Runs `work` as one atomic unit: every write lands or none does, and the promise resolves only once the
   * commit is durable. If `work` throws, nothing is written and the error propagates unchanged.
   * `work` may be re-run by an adapter after a transient conflict, so it must not have outside side effects.
   */
  transaction<T>(work: (tx: StoreTransaction) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** Something a store repaired or could not do in the background, for the operator's log (the store goes on working). */
export type StoreWarning = { msg: string } & Record<string, unknown>;

/** A write lost a race: duplicate `_id` on insert, or the `expect` precondition of a replace no longer holds. */
export class StorageConflict extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StorageConflict';
  }
}

/** The deployment cannot give what was asked (for example MongoDB without replica set, so no transactions). */
export class StorageUnavailable extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StorageUnavailable';
  }
}

/**
 * The store cannot write now because its disk (or quota) is full: ENOSPC, EDQUOT, EFBIG. Nothing of the failed
 * write was kept; reads go on working, and writes succeed again once space is freed.
 */
export class StorageFull extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StorageFull';
  }
}

/** The stored data is damaged beyond what a crash can leave behind; the store refuses to open. */
export class StorageCorrupt extends StorageUnavailable {
  constructor(message: string) {
    super(message);
    this.name = 'StorageCorrupt';
  }
}
