/**
 * One collection of the LMDB engine as readers see it: documents read by id from the current read snapshot
 * (checksum verified, parsed, frozen and kept in the bounded cache), full scans over the collection's key range,
 * and its indexes (lmdb-index.ts). Query execution is the shared one (collection.ts).
 */
import type { Database } from 'lmdb';
import { StorageCorrupt, type Doc } from '../port';
import { QueryableCollection } from './collection';
import type { DocumentCache } from './document-cache';
import type { IndexView } from './index-view';
import { decodeDocument, rangeEnd } from './lmdb-layout';
import type { LmdbIndex } from './lmdb-index';
import { parseRecord } from './lazy-index-fields';

export class LmdbCollection extends QueryableCollection {
  /** Key prefix of the documents (PrefixTable); none until the collection is first written. */
  prefix: string | undefined;
  readonly indexes = new Map<string, LmdbIndex>();

  constructor(
    readonly name: string,
    private docs: Database<Buffer, string>,
    private readonly cache: DocumentCache,
    prefix: string | undefined,
  ) {
    super();
    this.prefix = prefix;
  }

  /** Reads from these databases from now on (after the environment was opened again). */
  attach(docs: Database<Buffer, string>, index: Database<Buffer, string>): void {
    this.docs = docs;
    for (const i of this.indexes.values()) i.attach(index);
  }

  get(id: string, once = false): Doc | undefined {
    if (this.prefix === undefined) return undefined;
    const key = this.prefix + id;
    const cached = once ? this.cache.peek(key) : this.cache.get(key);
    if (cached) return cached;
    const value = read(() => this.docs.getBinaryFast(key), this.name, id);
    if (value === undefined) return undefined;
    const json = decodeDocument(value, this.name, id);
    const doc = parseRecord(json);
    if (!once) this.cache.set(key, doc, json.length);
    return doc;
  }

  /** Every document, parsed afresh (a scan does not fill the cache). */
  *all(): Generator<Doc> {
    if (this.prefix === undefined) return;
    const at = this.prefix.length;
    const entries = this.docs.getRange({ start: this.prefix, end: rangeEnd(this.prefix) })[Symbol.iterator]();
    for (;;) {
      const next = read(() => entries.next(), this.name, '(in a scan)');
      if (next.done) return;
      yield JSON.parse(decodeDocument(next.value.value, this.name, (next.value.key as string).slice(at))) as Doc;
    }
  }

  protected indexList(): Iterable<IndexView> {
    return this.indexes.values();
  }
}

/** A stored value whose compressed bytes cannot even be decompressed is damaged like one failing its checksum. */
function read<T>(get: () => T, collection: string, id: string): T {
  try {
    return get();
  } catch (error) {
    throw new StorageCorrupt(`the stored document ${id} of collection ${collection} is damaged (${(error as Error).message}); it is not served. Stop the server, run \`npm run store:check\` on the data directory, and restore it from a backup`);
  }
}
