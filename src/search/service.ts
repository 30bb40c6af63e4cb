/**
 * FHIR search (https://hl7.org/fhir/R4/search.html): criteria compiled by CriteriaCompiler, result parameters,
 * includes, subsetting and snapshot-consistent paging assembled into a searchset Bundle. Design: docs/search.md.
 *
 * Every store query of a search (page, count, snapshot re-evaluation, _include, _revinclude) is built from one
 * "live" filter: the caller's access scope AND deleted:false. Access policies plug in through `options.scope`.
 */
import type { Bundle, BundleEntry, BundleLink, FhirResource, Resource } from 'fhir/r4';
import type { Clock } from '../core/clock';
import { FhirError, invalid } from '../core/errors';
import { isValidId } from '../core/ids';
import { outcome, type OperationOutcomeIssue } from '../core/outcome';
import type { Filter, Store, StoreReader } from '../storage/port';
import { RESOURCES, type ResourceRecord } from '../storage/records';
import { CompartmentDefinitions } from './compartments';
import type { CriteriaCompiler } from './criteria';
import { IndexExtractor } from './extract';
import type { SearchRegistry } from './registry';
import { findIncluded } from './results/includes';
import { link, searchUrl, targetPath } from './results/links';
import { PageTokens, type PageCursor } from './results/page-token';
import { parseResultParameters, splitQuery, type ResultParameters } from './results/parameters';
import { ParameterProblems, type Handling } from './results/problems';
import { positionOf, reversed, totalOrder, type SortKey } from './results/sort';
import { SnapshotView, type SnapshotIndexer } from './results/snapshot';
import { ResourceSubsetter } from './results/subsetting';
import { SearchBudget, type WorkLimits } from './limits/budget';
import { checkSearchInput, type InputLimits } from './limits/input';
import type { ResourceElementSets } from './results/summary-artifact';
import { loadSummaryElementSets } from './results/summary-definitions';

export interface SearchTarget {
  resourceType?: string;
  compartment?: { type: string; id: string };
}

export interface SearchOptions {
  /** Access scope ANDed into every query of the search (matches, totals, includes, chains, `_has`); `{}` when unrestricted. */
  scope?: Filter;
  /** The final check on every record that leaves (matches and includes); a record it refuses is left out. */
  admit?: (record: ResourceRecord) => boolean;
  /**
   * Records the caller's scopes cover but consent withholds from them: when the first page's criteria match
   * any, the bundle says that some were withheld, never which (https://hl7.org/fhir/R4/security.html#break-the-glass).
   */
  withheld?: Filter;
  /** Remembers the answer of the withheld check by the search's criteria (src/access/control.ts withheldMemo). */
  withheldMemo?: (criteria: string, ask: () => Promise<boolean>) => Promise<boolean>;
  /** What the search reads: an open write transaction (a transaction Bundle's GET entries), else the store. */
  reader?: StoreReader;
}

/** Server limits of one search; defaults in DEFAULT_SEARCH_LIMITS. */
export interface SearchLimits extends InputLimits, WorkLimits {
  /** Included resources per page, over all `:iterate` rounds. */
  maxIncluded: number;
  /** `:iterate` rounds after the first include round. */
  maxIncludeIterations: number;
  /** Resources written since a walk's snapshot that one page may re-evaluate before asking the client to restart. */
  maxChangedSinceSnapshot: number;
  /** `_total=estimate` counts up to this many matches; above it the total is left out. */
  estimateLimit: number;
}

export const DEFAULT_SEARCH_LIMITS: Readonly<SearchLimits> = Object.freeze({
  maxIncluded: 1000,
  maxIncludeIterations: 3,
  maxChangedSinceSnapshot: 1000,
  estimateLimit: 10_000,
  maxParameters: 100,
  maxValueLength: 2048,
  maxQueries: 200,
  maxRecords: 20_000,
});

export interface SearchServiceDeps {
  store: Store;
  registry: SearchRegistry;
  criteria: CriteriaCompiler;
  /** Public base URL without trailing slash. */
  baseUrl: string;
  defaultCount: number;
  maxCount: number;
  clock: Clock;
  /** Re-indexes snapshot versions while paging; defaults to the write-time IndexExtractor. */
  indexer?: SnapshotIndexer;
  /** Compartments whose membership is indexed; loaded from `definitionsDir` when absent. */
  compartments?: CompartmentDefinitions;
  /** HMAC key of `_page` tokens, shared by all instances behind one base URL; random per process when absent. */
  pageTokenSecret?: string;
  /** generated/ directory holding summary/summary-elements.json; defaults to <cwd>/generated. */
  definitionsDir?: string;
  /** Element sets for `_summary`/`_elements` (tests); loaded from `definitionsDir` when absent. */
  summaryElements?: Record<string, ResourceElementSets>;
  limits?: Partial<SearchLimits>;
}

/** The compartment types of R4 (https://hl7.org/fhir/R4/compartmentdefinition.html). */
const COMPARTMENT_TYPES = new Set(['Patient', 'Encounter', 'RelatedPerson', 'Practitioner', 'Device']);

export class SearchService {
  private readonly limits: SearchLimits;
  private readonly tokens: PageTokens;
  private readonly indexer: SnapshotIndexer;
  /** `_summary`/`_elements` trimming, also used by read and vread (src/fhir/subset.ts). */
  readonly subsetter: ResourceSubsetter;
  private readonly resourceTypes: Set<string>;
  private readonly indexedCompartments: Set<string>;

  constructor(private readonly deps: SearchServiceDeps) {
    this.limits = { ...DEFAULT_SEARCH_LIMITS, ...deps.limits };
    this.tokens = new PageTokens(deps.pageTokenSecret);
    const compartments = deps.compartments ?? CompartmentDefinitions.load({ definitionsDir: deps.definitionsDir });
    this.indexedCompartments = new Set(compartments.compartmentTypes());
    this.indexer = deps.indexer ?? new IndexExtractor(deps.registry, { baseUrl: deps.baseUrl, compartments });
    this.subsetter = new ResourceSubsetter(deps.summaryElements ?? loadSummaryElementSets(deps.definitionsDir));
    this.resourceTypes = new Set(deps.registry.resourceTypes());
  }

  /** Type, compartment and system search (https://hl7.org/fhir/R4/http.html#search). */
  async search(target: SearchTarget, query: Array<[string, string]>, handling: Handling, options: SearchOptions = {}): Promise<Bundle> {
    this.checkTarget(target);
    checkSearchInput(query, this.limits);
    const budget = new SearchBudget(this.limits);
    const store = budget.reader(options.reader ?? this.deps.store);
    const problems = new ParameterProblems(handling);
    const split = splitQuery(query);
    const types = target.resourceType ? [target.resourceType] : this.typesParam(split.criteria);
    const params = parseResultParameters(split.result, split.presentation, {
      registry: this.deps.registry,
      types,
      defaultCount: this.deps.defaultCount,
      maxCount: this.deps.maxCount,
      problems,
    });
    const compiled = await this.deps.criteria.compile(target.resourceType, split.criteria, handling, budget, options.reader, linkedScope(options));
    const ignored = new Set(compiled.warnings.flatMap((w) => w.expression ?? []));
    const criteria = split.criteria.filter(([name]) => !ignored.has(name));
    const live = liveFilter(options.scope);
    const filter = and([live, targetFilter(target), compiled.filter]);

    const identity = JSON.stringify([targetPath(target), [...criteria].sort(compareParams), params.echo]);
    const cursor: PageCursor = params.page
      ? this.tokens.open(params.page, identity, this.deps.clock.now())
      : { snapshot: this.deps.clock.now(), direction: 'next' };
    const view = new SnapshotView(
      {
        store,
        indexer: this.indexer,
        strings: this.deps.store.kind === 'mongodb' ? 'code-point' : 'utf-16',
        maxChangedSinceSnapshot: this.limits.maxChangedSinceSnapshot,
      },
      { filter, candidates: types.length ? { type: { $in: types } } : {}, snapshot: cursor.snapshot },
    );

    const keys = totalOrder(params.sort);
    const page = params.count > 0 ? await this.readPage(view, keys, cursor, params.count) : { matches: [], before: false, after: false };
    if (options.admit) page.matches = page.matches.filter(options.admit);
    const total = cursor.total ?? (params.page ? undefined : await this.totalOf(view, params, page));
    const included = params.includes.length
      ? await findIncluded(store, live, page.matches, params.includes, {
          maxIncluded: this.limits.maxIncluded,
          maxIterations: this.limits.maxIncludeIterations,
        })
      : { included: [], truncated: false };
    if (options.admit) included.included = included.included.filter(options.admit);
    if (!params.page && options.withheld && (await this.anyWithheld(options.withheld, target, compiled.filter, options.withheldMemo))) {
      problems.note(
        'Some resources matching this search were withheld under patient consent. Where policy allows, a clinician may break the glass (purpose of use ETREAT or BTG with a justification)',
        'suppressed',
      );
    }
    if (included.truncated) {
      problems.note(`Included resources were limited to ${this.limits.maxIncluded}; narrow the search or the includes`, 'incomplete');
    }

    const linkParams = [...criteria, ...params.echo, ...params.presentation];
    const pageLink = (c: PageCursor): string =>
      searchUrl(this.deps.baseUrl, target, [...linkParams, ['_page', this.tokens.issue(total === undefined ? c : { ...c, total }, identity)]]);
    const links: BundleLink[] = [link('self', searchUrl(this.deps.baseUrl, target, params.page ? [...linkParams, ['_page', params.page]] : linkParams))];
    if (params.count > 0 && (page.before || page.after)) {
      links.push(link('first', pageLink({ snapshot: cursor.snapshot, direction: 'next' })));
      if (page.before) links.push(link('previous', pageLink({ snapshot: cursor.snapshot, direction: 'previous', position: positionOf(page.matches[0], keys) })));
      if (page.after) links.push(link('next', pageLink({ snapshot: cursor.snapshot, direction: 'next', position: positionOf(page.matches[page.matches.length - 1], keys) })));
    }

    const warnings: OperationOutcomeIssue[] = [...compiled.warnings, ...problems.warnings];
    const entry: BundleEntry[] = [
      ...(warnings.length ? [{ resource: outcome(warnings), search: { mode: 'outcome' as const } }] : []),
      ...page.matches.map((r) => this.entryOf(r, 'match', params)),
      ...included.included.map((r) => this.entryOf(r, 'include', params)),
    ];
    return {
      resourceType: 'Bundle',
      type: 'searchset',
      ...(total !== undefined ? { total } : {}),
      link: links,
      ...(entry.length ? { entry } : {}),
    };
  }

  /**
   * Records matching conditional-interaction criteria, at most `limit` (https://hl7.org/fhir/R4/http.html#cond-update).
   * `options.reader` is the write transaction deciding on the match, so it sees its own writes and those it is
   * ordered after (src/fhir/conditional.ts); without one, the committed store.
   */
  async matchCriteria(
    resourceType: string,
    query: Array<[string, string]>,
    limit: number,
    options: SearchOptions = {},
  ): Promise<ResourceRecord[]> {
    this.checkTarget({ resourceType });
    checkSearchInput(query, this.limits);
    const budget = new SearchBudget(this.limits);
    const { criteria } = splitQuery(query);
    const reader = budget.reader(options.reader ?? this.deps.store);
    const compiled = await this.deps.criteria.compile(resourceType, criteria, 'strict', budget, options.reader, linkedScope(options));
    // The compiled filter already holds { type, deleted: false }; wrapping it again doubles the planner's work.
    const filter = and([options.scope ?? {}, compiled.filter]);
    return (await reader.find(RESOURCES, filter, { sort: [['_id', 1]], limit })) as ResourceRecord[];
  }

  /**
   * The store filter of `resourceType?query` criteria (live records of that type within `options.scope`), for
   * readers that page on their own, such as Bulk Data `_typeFilter` (https://hl7.org/fhir/uv/bulkdata/export.html).
   * Result parameters (`_count`, `_sort`, ...) have no meaning there and are left out.
   */
  async criteriaFilter(
    resourceType: string,
    query: Array<[string, string]>,
    handling: Handling,
    options: SearchOptions = {},
  ): Promise<{ filter: Filter; warnings: OperationOutcomeIssue[] }> {
    this.checkTarget({ resourceType });
    const { criteria } = splitQuery(query);
    const compiled = await this.deps.criteria.compile(resourceType, criteria, handling, undefined, undefined, linkedScope(options));
    return { filter: and([liveFilter(options.scope), { type: resourceType }, compiled.filter]), warnings: compiled.warnings };
  }

  /** Whether the criteria match any record that the access filter withholds. */
  private async anyWithheld(withheld: Filter, target: SearchTarget, criteria: Filter, memo?: SearchOptions['withheldMemo']): Promise<boolean> {
    const where = and([targetFilter(target), criteria]);
    const ask = async (): Promise<boolean> => (await this.deps.store.find(RESOURCES, and([{ deleted: false }, where, withheld]), { projection: { _id: 1 }, limit: 1 })).length > 0;
    return memo ? memo(JSON.stringify(where), ask) : ask();
  }

  /** The page at `cursor`, with whether records exist before and after it in the walk's order. */
  private async readPage(view: SnapshotView, keys: SortKey[], cursor: PageCursor, count: number): Promise<{ matches: ResourceRecord[]; before: boolean; after: boolean }> {
    if (cursor.direction === 'next') {
      const rows = await view.page(keys, cursor.position, count + 1);
      return { matches: rows.slice(0, count), before: cursor.position !== undefined && rows.length > 0, after: rows.length > count };
    }
    const rows = await view.page(reversed(keys), cursor.position, count + 1);
    const matches = rows.slice(0, count).reverse();
    return { matches, before: rows.length > count, after: matches.length > 0 };
  }

  /**
   * Bundle.total (https://hl7.org/fhir/R4/search.html#total): `accurate` counts, `estimate` counts up to a limit,
   * `none` omits it; by default it is given only when known for free (the first page holds the whole set),
   * and for `_count=0` / `_summary=count`, whose point is the count.
   */
  private async totalOf(view: SnapshotView, params: ResultParameters, page: { matches: ResourceRecord[]; after: boolean }): Promise<number | undefined> {
    const mode = params.total ?? (params.count === 0 ? 'accurate' : undefined);
    if (mode === 'none') return undefined;
    if (mode === 'accurate') return view.count();
    if (mode === 'estimate') {
      const counted = await view.count(this.limits.estimateLimit + 1);
      return counted > this.limits.estimateLimit ? undefined : counted;
    }
    return page.after ? undefined : page.matches.length;
  }

  private entryOf(record: ResourceRecord, mode: 'match' | 'include', params: ResultParameters): BundleEntry {
    return {
      fullUrl: `${this.deps.baseUrl}/${record.type}/${record.id}`,
      resource: this.subset(record.resource as Resource, mode, params) as FhirResource,
      search: { mode },
    };
  }

  /** `_summary` applies to every returned resource, `_elements` to the matches (https://hl7.org/fhir/R4/search.html#summary). */
  private subset(resource: Resource, mode: 'match' | 'include', params: ResultParameters): Resource {
    if (params.summary === 'true' || params.summary === 'text' || params.summary === 'data') return this.subsetter.summary(resource, params.summary);
    if (params.elements && mode === 'match') return this.subsetter.elements(resource, params.elements);
    return resource;
  }

  /** Resource types named by `_type` (https://hl7.org/fhir/R4/search.html#type); validated by the criteria compiler. */
  private typesParam(criteria: ReadonlyArray<[string, string]>): string[] {
    const types = criteria.filter(([name]) => name === '_type').flatMap(([, value]) => value.split(','));
    return types.every((t) => this.resourceTypes.has(t)) ? [...new Set(types)] : [];
  }

  private checkTarget(target: SearchTarget): void {
    if (target.resourceType !== undefined && !this.resourceTypes.has(target.resourceType)) {
      throw new FhirError('not-found', `Unknown resource type '${target.resourceType}'`);
    }
    const compartment = target.compartment;
    if (!compartment) return;
    if (!COMPARTMENT_TYPES.has(compartment.type)) throw new FhirError('not-found', `'${compartment.type}' is not a compartment type`);
    if (!this.indexedCompartments.has(compartment.type)) {
      throw new FhirError('unprocessable', `Search in the ${compartment.type} compartment is not supported; supported: ${[...this.indexedCompartments].join(', ')}`);
    }
    if (!isValidId(compartment.id)) throw invalid(`Invalid compartment id '${compartment.id.slice(0, 64)}'`);
  }
}

/** The access scope for the sub-queries of chains, `_has` and `_list`, so they cannot be used as oracles. */
function linkedScope(options: SearchOptions): { scope?: Filter } {
  return options.scope === undefined ? {} : { scope: options.scope };
}

/** Filters that every query of a search carries: not deleted, and within the caller's access scope. */
export function liveFilter(scope: Filter | undefined): Filter {
  return and([scope ?? {}, { deleted: false }]);
}

/** The target's own restriction: the resource type, and membership of the compartment (https://hl7.org/fhir/R4/compartmentdefinition.html). */
function targetFilter(target: SearchTarget): Filter {
  const parts: Filter[] = [];
  if (target.resourceType) parts.push({ type: target.resourceType });
  if (target.compartment) parts.push({ compartments: `${target.compartment.type}/${target.compartment.id}` });
  return and(parts);
}

function and(filters: Filter[]): Filter {
  const parts = filters.filter((f) => Object.keys(f).length > 0);
  if (parts.length === 0) return {};
  return parts.length === 1 ? parts[0] : { $and: parts };
}

const compareParams = (a: [string, string], b: [string, string]): number =>
  a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0;
