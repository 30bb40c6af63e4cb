/**
 * The work budget of one search: every store query it runs (chains, `_has`, `_list`, the page, totals, paging
 * re-evaluation, `_include` rounds) and every record those queries return are counted against one allowance, so
 * no combination of parameters can make a single request do unbounded work. Exceeding it is a 422 `too-costly`
 * (https://hl7.org/fhir/R4/valueset-issue-type.html#issue-type-too-costly).
 */
import { FhirError } from '../../core/errors';
import type { Doc, Filter, FindOptions, StoreReader } from '../../storage/port';

export interface WorkLimits {
  /** Store queries one search may run. */
  maxQueries: number;
  /** Records one search may read over all of its queries. */
  maxRecords: number;
}

export class SearchBudget {
  private queries = 0;
  private records = 0;

  constructor(private readonly limits: WorkLimits) {}

  /** `store` with every query and every returned record counted against this budget. */
  reader(store: StoreReader): StoreReader {
    return {
      find: async (collection: string, filter: Filter, options?: FindOptions): Promise<Doc[]> => {
        this.query();
        return this.read(await store.find(collection, filter, options));
      },
      findOne: async (collection: string, filter: Filter, options?: FindOptions): Promise<Doc | null> => {
        this.query();
        const doc = await store.findOne(collection, filter, options);
        if (doc) this.read([doc]);
        return doc;
      },
      count: async (collection: string, filter: Filter, limit?: number): Promise<number> => {
        this.query();
        return store.count(collection, filter, limit);
      },
    };
  }

  private query(): void {
    if (++this.queries > this.limits.maxQueries) {
      throw exceeded(`The search needs more than ${this.limits.maxQueries} store queries; use fewer chained, _has or _include parameters`);
    }
  }

  private read(docs: Doc[]): Doc[] {
    this.records += docs.length;
    if (this.records > this.limits.maxRecords) {
      throw exceeded(`The search reads more than ${this.limits.maxRecords} records; narrow its chained, _has or _include parameters`);
    }
    return docs;
  }
}

function exceeded(diagnostics: string): FhirError {
  return new FhirError('unprocessable', [{ severity: 'error', code: 'too-costly', diagnostics }]);
}
