/**
 * A transaction of the embedded store. Writes are staged in the transaction (serialised once to JSON, which
 * both normalises them to what the store can hold and yields the frozen copy it keeps); reads see the
 * committed state, the commits still waiting for their fsync, and the transaction's own writes.
 */
import { Query } from 'mingo';
import { StorageConflict, type Doc, type Filter, type FindOptions, type StoreTransaction, type WriteOptions } from '../port';
import { Collection, type Overlay, type QueryableCollection } from './collection';
import { CompiledFilter } from './compiled-filter';
import { frozenInPlace, frozenJsonCopy } from './json-copy';

export interface StagedWrite {
  /** Frozen document, or null for a delete. */
  doc: Doc | null;
  /** The document as stored JSON, or null for a delete; the LMDB store drops it once it has encoded it for the commit. */
  json: string | null;
  /**
   * The state the transaction built on (committed and in flight) held no document with this id: a commit then has
   * no old index entries to remove, and no committed document to look up.
   */
  absentBefore: boolean;
}

/** The state a transaction builds on: committed collections plus writes committed but not yet durable. */
export interface TransactionBase {
  collection(name: string): QueryableCollection | undefined;
  /** Writes of earlier transactions that are still waiting for their fsync, by collection then id. */
  inFlight(name: string): ReadonlyMap<string, Doc | null> | undefined;
  /** Whether an in-flight commit wrote this id, and what (null = deleted). */
  inFlightHas(name: string, id: string): boolean;
  inFlightGet(name: string, id: string): Doc | null;
}

export class EmbeddedTransaction implements StoreTransaction {
  /** Staged writes by collection, then id; the last write to an id wins. */
  readonly writes = new Map<string, Map<string, StagedWrite>>();
  /**
   * Whole-collection overlays (in-flight commits + own writes) built by earlier queries, kept up to date by this
   * transaction's writes. In-flight commits cannot change under a transaction (writers are serialised; one that
   * becomes durable meanwhile moves the same documents into the collection), so one copy serves every query.
   */
  private readonly overlays = new Map<string, Map<string, Doc | null>>();
  private finished = false;

  constructor(private readonly base: TransactionBase) {}

  /** Ends the transaction; any later call on it throws. */
  finish(): void {
    this.finished = true;
  }

  async find(collection: string, filter: Filter, options?: FindOptions): Promise<Doc[]> {
    this.assertActive();
    const compiled = new CompiledFilter(filter);
    const overlay = this.overlay(collection, compiled.ids);
    const stored = this.base.collection(collection);
    if (stored) return stored.find(compiled, options, overlay);
    return emptyCollectionFind(compiled, options, overlay);
  }

  async findOne(collection: string, filter: Filter, options?: FindOptions): Promise<Doc | null> {
    const [first] = await this.find(collection, filter, { ...options, limit: 1 });
    return first ?? null;
  }

  async count(collection: string, filter: Filter, limit?: number): Promise<number> {
    this.assertActive();
    const compiled = new CompiledFilter(filter);
    const overlay = this.overlay(collection);
    const stored = this.base.collection(collection);
    if (stored) return stored.count(compiled, limit, overlay);
    let n = 0;
    for (const doc of overlay.values()) if (doc && compiled.test(doc)) n++;
    return limit && limit > 0 ? Math.min(n, limit) : n;
  }

  /** Resolves to the frozen document the transaction stages (and commits): a copy, or `doc` itself when handed over. */
  async insert(collection: string, doc: Doc, options?: WriteOptions): Promise<Doc> {
    this.assertActive();
    const staged = stage(doc, true, options);
    if (this.current(collection, staged.doc._id)) {
      throw new StorageConflict(`${collection} already holds a document with _id ${staged.doc._id}`);
    }
    this.put(collection, staged);
    return staged.doc;
  }

  /** Resolves to the frozen document the transaction stages (and commits): a copy, or `doc` itself when handed over. */
  async replace(collection: string, doc: Doc, expect?: Filter, options?: WriteOptions): Promise<Doc> {
    this.assertActive();
    const staged = stage(doc, false, options);
    const current = this.current(collection, staged.doc._id);
    if (!current) throw new StorageConflict(`${collection} holds no document with _id ${staged.doc._id} to replace`);
    if (expect && !new Query(expect).test(current)) {
      throw new StorageConflict(`${collection} document ${staged.doc._id} no longer matches the expected state`);
    }
    this.put(collection, staged);
    return staged.doc;
  }

  async delete(collection: string, id: string): Promise<boolean> {
    this.assertActive();
    if (!this.current(collection, id)) return false;
    this.stagedFor(collection).set(id, { doc: null, json: null, absentBefore: this.absentBefore(collection, id, false) });
    this.overlays.get(collection)?.set(id, null);
    return true;
  }

  /** Writers of the embedded store are serialised (one transaction at a time), so any two are already ordered. */
  async guard(_key: string): Promise<void> {
    this.assertActive();
  }

  private put(collection: string, staged: StagedWrite & { doc: Doc }): void {
    const stored = this.base.collection(collection);
    if (stored?.hasUniqueIndex) {
      const overlay = new Map(this.overlay(collection));
      overlay.delete(staged.doc._id);
      stored.assertUnique(staged.doc, overlay);
    }
    staged.absentBefore = this.absentBefore(collection, staged.doc._id, staged.absentBefore);
    this.stagedFor(collection).set(staged.doc._id, staged);
    this.overlays.get(collection)?.set(staged.doc._id, staged.doc);
  }

  /** StagedWrite.absentBefore for a write of `id`: an earlier write of this transaction to it tells, else `otherwise`. */
  private absentBefore(collection: string, id: string, otherwise: boolean): boolean {
    return this.writes.get(collection)?.get(id)?.absentBefore ?? otherwise;
  }

  private current(collection: string, id: string): Doc | null {
    const own = this.writes.get(collection)?.get(id);
    if (own) return own.doc;
    if (this.base.inFlightHas(collection, id)) return this.base.inFlightGet(collection, id);
    return this.base.collection(collection)?.get(id) ?? null;
  }

  /**
   * In-flight commits overlaid with this transaction's writes; only the entries for `ids` when the filter
   * selects nothing else (other entries could neither match nor shadow a match).
   */
  private overlay(collection: string, ids: ReadonlySet<string> | null = null): ReadonlyMap<string, Doc | null> {
    if (ids) {
      const merged = new Map<string, Doc | null>();
      for (const id of ids) {
        const own = this.writes.get(collection)?.get(id);
        if (own) merged.set(id, own.doc);
        else if (this.base.inFlightHas(collection, id)) merged.set(id, this.base.inFlightGet(collection, id));
      }
      return merged;
    }
    const cached = this.overlays.get(collection);
    if (cached) return cached;
    const merged = new Map<string, Doc | null>(this.base.inFlight(collection) ?? []);
    for (const [id, write] of this.writes.get(collection) ?? []) merged.set(id, write.doc);
    this.overlays.set(collection, merged);
    return merged;
  }

  private stagedFor(collection: string): Map<string, StagedWrite> {
    let staged = this.writes.get(collection);
    if (!staged) {
      staged = new Map();
      this.writes.set(collection, staged);
    }
    return staged;
  }

  private assertActive(): void {
    if (this.finished) throw new Error('this transaction has already finished');
  }
}

function stage(doc: Doc, absentBefore: boolean, options?: WriteOptions): StagedWrite & { doc: Doc } {
  if (doc === null || typeof doc !== 'object' || typeof doc._id !== 'string' || doc._id === '') {
    throw new TypeError('a stored document needs a non-empty string _id');
  }
  const json = JSON.stringify(doc);
  return { doc: options?.handOver ? frozenInPlace(doc, json) : frozenJsonCopy(doc, json), json, absentBefore };
}

function emptyCollectionFind(filter: CompiledFilter, options: FindOptions | undefined, overlay: Overlay): Doc[] {
  return new Collection().find(filter, options, overlay);
}
