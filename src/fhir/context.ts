/** Everything an interaction needs, injected by the composition root (src/compose.ts). */
import type { Resource } from 'fhir/r4';
import type { AccessControl } from '../access/control';
import type { Clock } from '../core/clock';
import type { IdGenerator } from '../core/ids';
import type { Store, StoreReader, StoreTransaction } from '../storage/port';
import type { SearchService } from '../search/service';
import type { IndexFields } from '../search/index-fields';
import type { ResourceValidator } from '../validation/validator';
import type { ExportRunner } from './operations/export/runner';
import type { VisibilityHorizon } from './visibility';
import type { WriteHook } from './write-hooks';
import type { Auditor } from '../audit/auditor';
import type { ConditionalMemo } from './conditional-memo';
import type { PreparedVersions } from './prepared-versions';

/** Write-time extraction of search index entries (src/search/extract). */
export interface Indexer {
  extract(resource: Resource): { idx: IndexFields; compartments: string[] };
}

export interface FhirContext {
  store: Store;
  clock: Clock;
  ids: IdGenerator;
  /** Public base URL without trailing slash, e.g. http://127.0.0.1:8080/fhir */
  baseUrl: string;
  /** Page sizes for bundles (_count default and cap). */
  paging: { defaultCount: number; maxCount: number };
  validator: ResourceValidator;
  indexer: Indexer;
  /** Checks before and notifications after writes (SearchParameter activation, later subscriptions). */
  hooks: WriteHook[];
  /** Search, also used to resolve conditional-interaction criteria (https://hl7.org/fhir/R4/http.html#cond-update). */
  search: SearchService;
  /** The audit trail: one AuditEvent per routed call (src/audit); absent when AUDIT=off. */
  audit?: Auditor;
  /** Access control (src/access/control.ts); absent only in contexts built without it (then unrestricted). */
  access?: AccessControl;
  /** Most entries accepted in one batch or transaction Bundle (MAX_BUNDLE_ENTRIES). */
  maxBundleEntries: number;
  /**
   * An open store transaction that interactions join instead of opening their own (the entries of a transaction
   * Bundle, src/fhir/transaction.ts); reads go through it too. Set only by src/fhir/persist.ts inTransaction callers.
   */
  transaction?: StoreTransaction;
  /**
   * The audit scope of the bundle this call is an entry of (src/audit/auditor.ts), carried by the entries'
   * contexts: set only by the auditor, opaque to everything else.
   */
  auditScope?: object;
  /** Up to which instant every write is visible: the snapshot of sync feeds (src/fhir/visibility.ts). */
  visibility: VisibilityHorizon;
  /** Bulk Data export jobs (src/fhir/operations/export). */
  bulkExport: ExportRunner;
  /** Conditional references resolved across transaction Bundles (src/fhir/conditional-memo.ts); embedded store only. */
  conditionalMemo?: ConditionalMemo;
  /** The writes of the transaction Bundle this call is an entry of, validated and indexed ahead (src/fhir/prepared-versions.ts). */
  preparedVersions?: PreparedVersions;
}

/** Where an interaction reads: the transaction it joined (a transaction Bundle's entry), else the store. */
export const readerOf = (ctx: FhirContext): StoreReader => ctx.transaction ?? ctx.store;
