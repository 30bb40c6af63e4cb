/**
 * Serialised writers with commits in flight, shared by the embedded engines (lmdb-store.ts, embedded-store.ts).
 * One transaction's `work` runs at a time; when it ends its staged writes become a commit that is "in flight"
 * until the engine has made it durable: later transactions see it, readers do not. A failed commit is counted,
 * so a transaction that ran while it was in flight (and may have read its writes) fails the same way instead of
 * committing on top of them.
 *
 * A transaction() called inside `work` would wait for the writer that waits for it: the one started while `work`
 * is being called (before its first await) is refused. Later ones are not detected: that would need an
 * AsyncLocalStorage, which makes Node run its async hooks for every promise of the process (3–5% of the server's
 * CPU in bundle ingest, docs/benchmarks.md). Interactions open transactions in one place (src/fhir/persist.ts),
 * joining the open one instead.
 */
import type { Doc, StoreTransaction } from '../port';
import type { QueryableCollection } from './collection';
import { EmbeddedTransaction, type StagedWrite } from './transaction';

export type CommitWrites = Array<[collection: string, id: string, write: StagedWrite]>;

interface InFlightWrite {
  doc: Doc | null;
  seq: number;
}

export class Writers {
  private tail: Promise<void> = Promise.resolve();
  /** Whether `work` is being called (synchronously, up to its first await). */
  private starting = false;
  private readonly inFlight = new Map<string, Map<string, InFlightWrite>>();
  private seq = 0;
  private failures = 0;
  private lastFailure: Error | null = null;

  /** Whether any commit is in flight. */
  get busy(): boolean {
    return this.inFlight.size > 0;
  }

  /**
   * Runs `work` as the only writer, then hands its writes to `commit` (with the failure count from before it
   * ran) and lets the next writer in; resolves once `commit`'s promise does.
   */
  async run<T>(
    collection: (name: string) => QueryableCollection | undefined,
    work: (tx: StoreTransaction) => Promise<T>,
    commit: (list: CommitWrites, failuresBefore: number) => Promise<void>,
    assertOpen: () => void,
  ): Promise<T> {
    if (this.starting) {
      throw new Error('transaction() called inside a transaction of the same store; use the transaction passed to work');
    }
    const release = await this.acquire();
    const failuresBefore = this.failures;
    let durable: Promise<void>;
    let result: T;
    const tx = new EmbeddedTransaction({
      collection,
      inFlight: (name) => this.view(name),
      inFlightHas: (name, id) => this.inFlight.get(name)?.has(id) ?? false,
      inFlightGet: (name, id) => this.inFlight.get(name)?.get(id)?.doc ?? null,
    });
    try {
      assertOpen();
      let working: Promise<T>;
      this.starting = true;
      try {
        working = work(tx);
      } finally {
        this.starting = false;
      }
      result = await working;
      tx.finish();
      this.assertNoFailureSince(failuresBefore);
      const list: CommitWrites = [];
      for (const [name, byId] of tx.writes) for (const [id, write] of byId) list.push([name, id, write]);
      durable = commit(list, failuresBefore);
    } catch (error) {
      tx.finish();
      release();
      throw error;
    }
    release();
    await durable;
    return result;
  }

  /** Serialises writers: resolves with the function that lets the next one in. */
  async acquire(): Promise<() => void> {
    let release!: () => void;
    const previous = this.tail;
    this.tail = new Promise<void>((resolve) => (release = resolve));
    await previous;
    return release;
  }

  /** Resolves once no writer runs. */
  idle(): Promise<void> {
    return this.tail;
  }

  /** Marks a commit's writes in flight; returns its sequence number for settle(). */
  markInFlight(list: CommitWrites): number {
    const seq = ++this.seq;
    for (const [collection, id, write] of list) {
      let byId = this.inFlight.get(collection);
      if (!byId) {
        byId = new Map();
        this.inFlight.set(collection, byId);
      }
      byId.set(id, { doc: write.doc, seq });
    }
    return seq;
  }

  /** A commit is durable (or failed): its writes are no longer in flight, unless a later commit rewrote them. */
  settle(list: CommitWrites, seq: number): void {
    for (const [collection, id] of list) {
      const byId = this.inFlight.get(collection);
      if (byId && (byId.get(id)?.seq ?? Infinity) <= seq) byId.delete(id);
      if (byId?.size === 0) this.inFlight.delete(collection);
    }
  }

  failed(error: Error): void {
    this.failures++;
    this.lastFailure = error;
  }

  assertNoFailureSince(failuresBefore: number): void {
    if (this.failures !== failuresBefore && this.lastFailure) throw this.lastFailure;
  }

  private view(name: string): ReadonlyMap<string, Doc | null> | undefined {
    const byId = this.inFlight.get(name);
    if (!byId) return undefined;
    const view = new Map<string, Doc | null>();
    for (const [id, write] of byId) view.set(id, write.doc);
    return view;
  }
}
