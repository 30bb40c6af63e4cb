/**
 * Reads one page of a result set as it stood at a snapshot instant, so paging through it while others write
 * neither repeats nor skips entries (https://hl7.org/fhir/R4/http.html#paging; design in docs/search.md).
 *
 * The set at instant S is (a) every live record not written after S, as stored, plus (b) for every record
 * written after S (updated, deleted), its version current at S taken from `history`, re-indexed and matched in
 * process (bodies found through src/storage/history-bodies.ts). Resources created after S have no such version
 * and stay out. Both parts are ordered by the same keys and merged; positions come from the snapshot versions,
 * so a later change of a sort key does not move a resource within the walk.
 */
import { Query } from 'mingo';
import type { Resource } from 'fhir/r4';
import { FhirError } from '../../core/errors';
import type { Filter, StoreReader } from '../../storage/port';
import { withBodies } from '../../storage/history-bodies';
import { HISTORY, RESOURCES, type HistoryRecord, type ResourceRecord } from '../../storage/records';
import type { IndexFields } from '../index-fields';
import { afterPosition, comparePositions, positionOf, toSortSpec, type SortKey, type SortValue, type StringOrder } from './sort';

/** Write-time index extraction, re-run on snapshot versions (src/search/extract). */
export interface SnapshotIndexer {
  extract(resource: Resource): { idx: IndexFields; compartments: string[] };
}

export interface SnapshotDeps {
  store: StoreReader;
  indexer: SnapshotIndexer;
  strings: StringOrder;
  /** Records written after the snapshot that one page may re-evaluate; beyond it the walk must restart. */
  maxChangedSinceSnapshot: number;
}

/** What one search selects, before liveness, snapshot and position are added. */
export interface SnapshotSelection {
  /** Criteria, target and access scope. */
  filter: Filter;
  /** A cheap necessary condition of `filter` on unchanging fields (e.g. the resource types), to find candidates. */
  candidates: Filter;
  snapshot: string;
}

export class SnapshotView {
  private changedMatches?: Promise<ResourceRecord[]>;

  constructor(
    private readonly deps: SnapshotDeps,
    private readonly selection: SnapshotSelection,
  ) {}

  /** Up to `limit` records after `position` (from the start when absent) in the order of `keys`. */
  async page(keys: readonly SortKey[], position: readonly SortValue[] | undefined, limit: number): Promise<ResourceRecord[]> {
    const conditions = [...this.unchangedConditions()];
    if (position) conditions.push(afterPosition(keys, position));
    const [unchanged, changed] = await Promise.all([
      this.deps.store.find(RESOURCES, { $and: conditions }, { sort: toSortSpec(keys), limit }) as Promise<ResourceRecord[]>,
      this.changed(),
    ]);
    const order = (a: ResourceRecord, b: ResourceRecord): number =>
      comparePositions(positionOf(a, keys), positionOf(b, keys), keys, this.deps.strings);
    const later = position ? changed.filter((r) => comparePositions(positionOf(r, keys), position, keys, this.deps.strings) > 0) : changed;
    return [...unchanged, ...later].sort(order).slice(0, limit);
  }

  /** Number of records in the set; counting of the unchanged part stops at `limit` when given. */
  async count(limit?: number): Promise<number> {
    const [unchanged, changed] = await Promise.all([
      this.deps.store.count(RESOURCES, { $and: this.unchangedConditions() }, limit),
      this.changed(),
    ]);
    return unchanged + changed.length;
  }

  private unchangedConditions(): Filter[] {
    return [this.selection.filter, { deleted: false }, { lastUpdated: { $lte: this.selection.snapshot } }];
  }

  /** Snapshot versions of records written after the snapshot that matched the selection then. */
  private changed(): Promise<ResourceRecord[]> {
    this.changedMatches ??= this.findChanged();
    return this.changedMatches;
  }

  private async findChanged(): Promise<ResourceRecord[]> {
    const { store, maxChangedSinceSnapshot } = this.deps;
    const { snapshot } = this.selection;
    const written = (await store.find(
      RESOURCES,
      { $and: [this.selection.candidates, { lastUpdated: { $gt: snapshot } }] },
      { limit: maxChangedSinceSnapshot + 1, projection: { _id: 1, type: 1, id: 1 } },
    )) as Array<Pick<ResourceRecord, '_id' | 'type' | 'id'>>;
    if (written.length > maxChangedSinceSnapshot) {
      throw new FhirError('conflict', [
        {
          severity: 'error',
          code: 'conflict',
          diagnostics: `More than ${maxChangedSinceSnapshot} matching resources changed since this search started at ${snapshot}; repeat the search to page through the current results`,
          expression: ['_page'],
        },
      ]);
    }
    if (!written.length) return [];
    const idsByType = new Map<string, string[]>();
    for (const w of written) idsByType.set(w.type, [...(idsByType.get(w.type) ?? []), w.id]);
    const versions = await Promise.all(
      [...idsByType].map(
        ([type, ids]) =>
          store.find(HISTORY, { type, id: { $in: ids }, lastUpdated: { $lte: snapshot } }, { sort: [['id', 1], ['versionId', -1]] }) as Promise<
            HistoryRecord[]
          >,
      ),
    );
    const asOfSnapshot = await withBodies(store, versions.flatMap(newestPerResource));
    const matcher = new Query(this.selection.filter);
    const matches: ResourceRecord[] = [];
    for (const version of asOfSnapshot) {
      if (version.deleted || !version.resource) continue;
      const record = this.asRecord(version, version.resource);
      if (matcher.test(record)) matches.push(record);
    }
    return matches;
  }

  private asRecord(version: HistoryRecord, resource: Resource): ResourceRecord {
    const { idx, compartments } = this.deps.indexer.extract(resource);
    return {
      _id: `${version.type}/${version.id}`,
      type: version.type,
      id: version.id,
      versionId: version.versionId,
      lastUpdated: version.lastUpdated,
      deleted: false,
      resource,
      idx,
      compartments,
    };
  }
}

/** The first entry of each resource in a list sorted by id, then newest version first. */
function newestPerResource(list: HistoryRecord[]): HistoryRecord[] {
  return list.filter((version, i) => i === 0 || list[i - 1]!.id !== version.id);
}
