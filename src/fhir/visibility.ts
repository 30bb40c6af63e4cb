/**
 * The visibility horizon of sync feeds (history, https://hl7.org/fhir/R4/http.html#history, and Bulk Data
 * `transactionTime`, https://hl7.org/fhir/uv/bulkdata/export.html#response---complete-status): the newest instant
 * such that every version stamped at or before it is committed and visible to readers.
 *
 * A version is stamped (meta.lastUpdated, from the clock) inside its write transaction and becomes visible only when
 * that transaction commits. On MongoDB, concurrent transactions may commit out of stamp order, so a reader can see
 * the version stamped 11 before the one stamped 10; a client that then asks for `_since=11` would never see 10.
 * Reading only up to the horizon closes that gap: while a transaction runs, the horizon stays at the newest instant
 * issued before it started, which is older than anything it can stamp. (The embedded store serialises writers and
 * shows commits in order, so there the horizon only holds back versions whose fsync is still pending.)
 *
 * This covers the transactions of this process. Several server instances writing to one MongoDB cannot see each
 * other's transactions: `settleMs` holds the horizon back further (set it above the longest write transaction plus
 * the clock skew between the instances).
 */
import type { Clock } from '../core/clock';
import type { Store } from '../storage/port';

export class VisibilityHorizon {
  /** The clock every write must stamp with, so that the horizon knows the newest instant issued. */
  readonly clock: Clock;
  private lastIssued: string;
  /** Running transactions in start order (a Map iterates in insertion order), each with the newest instant issued before it. */
  private readonly running = new Map<number, string>();
  private nextId = 0;

  constructor(
    base: Clock,
    private readonly settleMs = 0,
  ) {
    this.clock = { now: () => (this.lastIssued = base.now()) };
    this.lastIssued = base.now();
  }

  /** The same store, its transactions registered while they run (from before their first stamp until durable). */
  track(store: Store): Store {
    const running = this.running;
    const horizon = this;
    return {
      get kind() {
        return store.kind;
      },
      find: (c, f, o) => store.find(c, f, o),
      findOne: (c, f, o) => store.findOne(c, f, o),
      count: (c, f, l) => store.count(c, f, l),
      ensureIndexes: (c, i) => store.ensureIndexes(c, i),
      dropIndexes: (c, n) => store.dropIndexes(c, n),
      close: () => store.close(),
      async transaction(work) {
        const id = horizon.nextId++;
        running.set(id, horizon.lastIssued);
        try {
          return await store.transaction(work);
        } finally {
          running.delete(id);
        }
      },
    };
  }

  /** Every version with meta.lastUpdated at or before this instant is visible now. */
  horizon(): string {
    let instant: string | undefined;
    for (const started of this.running.values()) {
      instant = started;
      break;
    }
    // Nothing running: every instant issued so far is done, and any later stamp will be newer. (Not a fresh
    // instant, so that polling feeds do not push the monotonic clock ahead of the wall clock.)
    instant ??= this.lastIssued;
    return this.settleMs > 0 ? earlierOf(instant, new Date(Date.now() - this.settleMs).toISOString()) : instant;
  }
}

const earlierOf = (a: string, b: string): string => (a < b ? a : b);
