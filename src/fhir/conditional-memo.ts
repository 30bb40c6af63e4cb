/**
 * Conditional references reused across transaction Bundles (https://hl7.org/fhir/R4/http.html#trules). The patient
 * Bundles a regional platform receives name the same shared Practitioners, Organizations and Locations by
 * identifier (`Practitioner?identifier=...`) in every Bundle; searching for each of them again in each Bundle took
 * 7-10% of the main thread in bundle ingest (docs/benchmarks.md). Only callers that may read everything share
 * resolutions (src/fhir/transaction.ts); the others search with their own access filter every time.
 *
 * A resolution (the `Type/id`s the criteria matched, at most two) is reused while nothing can have changed it:
 * - no resource of that type was written since: every insert, replace or delete of a `resources` record counts
 *   for its type the moment it is staged, whether its transaction later commits or rolls back;
 * - it was found while no transaction that wrote that type was unsettled (running, or committed but not yet
 *   durable), so it reflects durable data only: never a write that may still roll back or fail at its fsync;
 * - the SearchParameter registry is at the same revision (an activated parameter changes what criteria mean).
 *
 * Embedded store only: it runs one write transaction at a time, in this process, so every write that could change
 * a match passes these counters before any later transaction can look. With MongoDB other servers write too, and
 * nothing is reused.
 */
import { setBounded } from '../core/bounded-map';
import type { Store, StoreTransaction } from '../storage/port';
import { RESOURCES } from '../storage/records';
import { withTransaction } from '../storage/with-transaction';
import { criteriaKey } from './conditional';

/** Resolutions kept: a platform's shared resources, with room to spare. */
const MAX_ENTRIES = 20_000;

interface Resolution {
  writes: number;
  revision: number;
  matches: string[];
}

export class ConditionalMemo {
  /** Resource versions staged so far, per type. */
  private readonly writes = new Map<string, number>();
  /** Transactions that wrote the type and have not settled yet, per type. */
  private readonly unsettled = new Map<string, number>();
  private readonly entries = new Map<string, Resolution>();

  constructor(private readonly registryRevision: () => number) {}

  /** The matches of `type?criteria`: reused when still valid (see above), else `search()`ed (and kept when it may be). */
  async resolve(type: string, criteria: Array<[string, string]>, search: () => Promise<string[]>): Promise<string[]> {
    const key = criteriaKey(type, criteria);
    const writes = this.writes.get(type) ?? 0;
    const revision = this.registryRevision();
    const known = this.entries.get(key);
    if (known && known.writes === writes && known.revision === revision) return known.matches;
    const durableOnly = !this.unsettled.get(type);
    const matches = await search();
    if (durableOnly && !this.unsettled.get(type) && (this.writes.get(type) ?? 0) === writes && this.registryRevision() === revision) {
      setBounded(this.entries, key, { writes, revision, matches }, MAX_ENTRIES);
    }
    return matches;
  }

  /** The same store, with the resource writes of its transactions counted per type. */
  track(store: Store): Store {
    const memo = this;
    async function transaction<T>(work: (tx: StoreTransaction) => Promise<T>): Promise<T> {
      const wrote = new Set<string>();
      try {
        return await store.transaction((tx) => work(memo.counting(tx, wrote)));
      } finally {
        for (const type of wrote) memo.unsettled.set(type, (memo.unsettled.get(type) ?? 1) - 1);
      }
    }
    return withTransaction(store, transaction);
  }

  /** `tx`, counting each write of a `resources` record (its `_id` is `Type/id`) before it is staged. */
  private counting(tx: StoreTransaction, wrote: Set<string>): StoreTransaction {
    const count = (collection: string, id: unknown): void => {
      if (collection !== RESOURCES || typeof id !== 'string') return;
      const type = id.slice(0, id.indexOf('/'));
      this.writes.set(type, (this.writes.get(type) ?? 0) + 1);
      if (wrote.has(type)) return;
      wrote.add(type);
      this.unsettled.set(type, (this.unsettled.get(type) ?? 0) + 1);
    };
    return {
      find: (c, f, o) => tx.find(c, f, o),
      findOne: (c, f, o) => tx.findOne(c, f, o),
      count: (c, f, l) => tx.count(c, f, l),
      guard: (key) => tx.guard(key),
      insert: (c, doc, options) => {
        count(c, doc._id);
        return tx.insert(c, doc, options);
      },
      replace: (c, doc, expect, options) => {
        count(c, doc._id);
        return tx.replace(c, doc, expect, options);
      },
      delete: (c, id) => {
        count(c, id);
        return tx.delete(c, id);
      },
    };
  }
}
