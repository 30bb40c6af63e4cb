/** Everything an interaction needs, injected by the composition root (src/compose.ts). */
import type { Resource } from 'fhir/r4';
import type { AccessControl } from '../access/control';
import type { Clock } from '../core/clock';
import type { IdGenerator } from '../core/ids';
import type { Store } from '../storage/port';
import type { SearchService } from '../search/service';
import type { IndexFields } from '../search/index-fields';
import type { ResourceValidator } from '../validation/validator';
import type { WriteHook } from './write-hooks';

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
  /** Access control (src/access/control.ts); absent only in contexts built without it (then unrestricted). */
  access?: AccessControl;
}
