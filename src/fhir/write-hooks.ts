/**
 * Extension points around writes: a check before a version is written (may refuse it) and a notification after
 * the transaction that wrote it committed. SearchParameter activation uses them now; subscriptions will too.
 */
import type { StoreTransaction } from '../storage/port';
import type { ResourceRecord } from '../storage/records';

export interface WriteHook {
  /** Called for every version about to be written, inside the transaction; throw a FhirError to refuse it. */
  beforeWrite?(record: ResourceRecord): void;
  /**
   * Called once per store transaction, after all its writes and before it commits, with every version it wrote
   * (a transaction Bundle's urn:uuid references are resolved by then); throw a FhirError to refuse them all.
   */
  beforeCommit?(tx: StoreTransaction, written: ResourceRecord[]): Promise<void>;
  /** Called once the transaction that wrote these versions is durable. */
  afterCommit?(records: ResourceRecord[]): void;
}
