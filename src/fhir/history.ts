/**
 * history at instance, type and system level: https://hl7.org/fhir/R4/http.html#history
 * Newest first; `_since`, `_at`, `_count`; pages are keyset cursors over (lastUpdated, _id) bounded by the
 * visibility horizon at the first page (src/fhir/visibility.ts), so writes made while a client pages never shift
 * or repeat entries, and none stamped at or before the newest entry shown becomes visible later: a client that
 * walks every page and polls again with `_since` = the newest lastUpdated it has seen misses no version. Bodies of
 * current versions come from `resources` in one lookup per page (src/storage/history-bodies.ts).
 */
import type { Bundle, BundleEntry, BundleLink, FhirResource } from 'fhir/r4';
import { invalid } from '../core/errors';
import type { Filter, SortSpec } from '../storage/port';
import { withBodies } from '../storage/history-bodies';
import { HISTORY, type HistoryRecord } from '../storage/records';
import { dateRange, type DateRange } from '../search/normalise';
import type { FhirContext } from './context';
import { decodeCursor, encodeCursor, pageSize } from './paging';
import { visibleVersion } from './persist';
import { etagOf } from './preconditions';
import { assertId, assertResourceType } from './target';
import type { FhirRequest, FhirResponse } from './types';

export interface HistoryScope {
  type?: string;
  id?: string;
}

interface Cursor {
  /** snapshot: only versions written at or before this instant */
  s: string;
  /** direction: entries after (n) or before (p) the position */
  d: 'n' | 'p';
  t: string;
  k: string;
}

const isCursor = (v: unknown): v is Cursor => {
  const c = v as Cursor;
  return typeof c === 'object' && c !== null && typeof c.s === 'string' && (c.d === 'n' || c.d === 'p') && typeof c.t === 'string' && typeof c.k === 'string';
};

const HISTORY_PARAMETERS = new Set(['_count', '_since', '_at', '_cursor', '_format', '_pretty']);
const NEWEST_FIRST: SortSpec = [['lastUpdated', -1], ['_id', -1]];
const OLDEST_FIRST: SortSpec = [['lastUpdated', 1], ['_id', 1]];

export async function history(ctx: FhirContext, req: FhirRequest, scope: HistoryScope): Promise<FhirResponse> {
  if (scope.type) assertResourceType(ctx, scope.type);
  if (scope.id) assertId(scope.id);
  const params = historyParameters(req.query);
  const count = pageSize(params.get('_count'), ctx.paging);
  const cursor = params.has('_cursor') ? decodeCursor(params.get('_cursor') ?? '', isCursor) : undefined;
  const snapshot = cursor?.s ?? ctx.visibility.horizon();

  const filter: Filter[] = [{ lastUpdated: { $lte: snapshot } }];
  if (scope.type) filter.push({ type: scope.type });
  if (scope.id) filter.push({ id: scope.id });
  const since = params.get('_since');
  if (since !== undefined) filter.push({ lastUpdated: { $gte: parseInstant(since, '_since') } });
  const at = params.get('_at');
  if (at !== undefined) filter.push(await currentDuring(ctx, scope, snapshot, parsePeriod(at)));

  const backwards = cursor?.d === 'p';
  const { page, more, resume } = await visiblePage(ctx, req, filter, cursor, count, scope.id ? 'r' : 's');
  if (backwards) page.reverse();

  const bundle: Bundle = {
    resourceType: 'Bundle',
    type: 'history',
    link: links(ctx, req, scope, snapshot, page, { hasOlder: backwards ? true : more, hasNewer: backwards ? more : cursor !== undefined }, resume),
    entry: page.map((v) => historyEntry(ctx, v)),
  };
  return { status: 200, resource: bundle };
}

/**
 * Versions one page may judge before it is returned short (with a link that resumes after the last one judged),
 * and the most read at once: reads grow fourfold while invisible versions are skipped, so a page comes out full
 * unless the history ends or this bound is reached.
 */
const MAX_EXAMINED = 5000;
const MAX_BATCH = 1000;

/**
 * Up to `count` versions after the cursor that the caller may see, each judged on its own body (so a resource
 * whose subject changed does not leak its earlier versions). Reading goes on past invisible versions; `resume`
 * is where the walk stopped (the last version judged), so the page link skips what was judged invisible.
 */
async function visiblePage(
  ctx: FhirContext,
  req: FhirRequest,
  filter: Filter[],
  cursor: Cursor | undefined,
  count: number,
  permission: 'r' | 's',
): Promise<{ page: HistoryRecord[]; more: boolean; resume?: HistoryRecord }> {
  const backwards = cursor?.d === 'p';
  const page: HistoryRecord[] = [];
  let position = cursor;
  let examined = 0;
  let size = count;
  for (;;) {
    const take = Math.max(1, Math.min(size, MAX_BATCH, MAX_EXAMINED - examined));
    const bounded = position ? [...filter, backwards ? after(position) : before(position)] : filter;
    const rows = (await ctx.store.find(HISTORY, { $and: bounded }, { sort: backwards ? OLDEST_FIRST : NEWEST_FIRST, limit: take + 1 })) as HistoryRecord[];
    const batch = await withBodies(ctx.store, rows.slice(0, take));
    for (let i = 0; i < batch.length; i++) {
      const version = batch[i] as HistoryRecord;
      if (!(await visibleVersion(ctx, req, version, permission))) continue;
      page.push(version);
      if (page.length >= count) return { page, more: i < batch.length - 1 || rows.length > batch.length, resume: version };
    }
    examined += batch.length;
    const last = batch[batch.length - 1];
    if (rows.length <= batch.length || !last) return { page, more: false };
    if (examined >= MAX_EXAMINED) return { page, more: true, resume: last };
    position = { s: '', d: backwards ? 'p' : 'n', t: last.lastUpdated, k: last._id };
    size *= 4;
  }
}

function historyParameters(query: Array<[string, string]>): Map<string, string> {
  const params = new Map<string, string>();
  for (const [name, value] of query) {
    if (!HISTORY_PARAMETERS.has(name)) throw invalid(`Unknown history parameter '${name.slice(0, 40)}': history supports _count, _since and _at`, name);
    if (params.has(name)) throw invalid(`The history parameter '${name}' may appear once`, name);
    params.set(name, value);
  }
  return params;
}

/** A FHIR instant (or a dateTime with a time zone); anything less precise is ambiguous for history. */
export function parseInstant(value: string, name: string): string {
  const ok = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/.test(value);
  const time = ok ? Date.parse(value) : NaN;
  if (Number.isNaN(time)) throw invalid(`Invalid ${name} '${value.slice(0, 40)}': expected an instant such as 2024-01-31T12:00:00Z`, name);
  return new Date(time).toISOString();
}

/** _at takes a date, dateTime or instant; its precision makes it a period (2024-01 is the whole month). */
function parsePeriod(value: string): DateRange {
  const range = dateRange(value);
  if (!range) throw invalid(`Invalid _at '${value.slice(0, 40)}': expected a date or time such as 2024-01-31 or 2024-01-31T12:00:00Z`, '_at');
  return range;
}

/**
 * _at: the versions that were current at some point during the period (https://hl7.org/fhir/R4/http.html#history):
 * those written within it, and for each resource the one already current when it began. Resolved to history keys.
 */
async function currentDuring(ctx: FhirContext, scope: HistoryScope, snapshot: string, period: DateRange): Promise<Filter> {
  const scopeFilter: Filter = { lastUpdated: { $lte: period.hi < snapshot ? period.hi : snapshot } };
  if (scope.type) scopeFilter.type = scope.type;
  if (scope.id) scopeFilter.id = scope.id;
  const versions = (await ctx.store.find(HISTORY, scopeFilter, { sort: NEWEST_FIRST, projection: { type: 1, id: 1, lastUpdated: 1 } })) as HistoryRecord[];
  const keys: string[] = [];
  /** Per resource, newest first: the oldest version seen so far within the period, or null once done. */
  const walked = new Map<string, string | null>();
  for (const v of versions) {
    const resource = `${v.type}/${v.id}`;
    const seen = walked.get(resource);
    if (seen === null) continue;
    if (v.lastUpdated >= period.lo) {
      keys.push(v._id);
      walked.set(resource, v.lastUpdated);
      continue;
    }
    // Written before the period: current when it began, unless a later version was written at that very instant.
    if (seen === undefined || seen > period.lo) keys.push(v._id);
    walked.set(resource, null);
  }
  return { _id: { $in: keys } };
}

const before = (c: Cursor): Filter => ({ $or: [{ lastUpdated: { $lt: c.t } }, { lastUpdated: c.t, _id: { $lt: c.k } }] });
const after = (c: Cursor): Filter => ({ $or: [{ lastUpdated: { $gt: c.t } }, { lastUpdated: c.t, _id: { $gt: c.k } }] });

function links(
  ctx: FhirContext,
  req: FhirRequest,
  scope: HistoryScope,
  snapshot: string,
  page: HistoryRecord[],
  nav: { hasOlder: boolean; hasNewer: boolean },
  /** Where the walk in the cursor's direction stopped, when past the page's own entries (visiblePage). */
  resume?: HistoryRecord,
): BundleLink[] {
  const path = [scope.type, scope.id, '_history'].filter(Boolean).join('/');
  const kept = req.query.filter(([n]) => n !== '_cursor' && n !== '_format' && n !== '_pretty');
  const url = (extra: Array<[string, string]>): string => {
    const qs = new URLSearchParams([...kept, ...extra]).toString();
    return `${ctx.baseUrl}/${path}${qs ? `?${qs}` : ''}`;
  };
  const current = req.query.find(([n]) => n === '_cursor');
  const result: BundleLink[] = [
    { relation: 'self', url: url(current ? [current] : []) },
    { relation: 'first', url: url([['_cursor', encodeCursor({ s: snapshot, d: 'n', t: '\uffff', k: '\uffff' })]]) },
  ];
  const backwards = current !== undefined && decodeCursor(current[1], isCursor).d === 'p';
  const last = (!backwards && resume) || page[page.length - 1];
  const first = (backwards && resume) || page[0];
  if (nav.hasOlder && last) result.push({ relation: 'next', url: url([['_cursor', encodeCursor({ s: snapshot, d: 'n', t: last.lastUpdated, k: last._id })]]) });
  if (nav.hasNewer && first) result.push({ relation: 'previous', url: url([['_cursor', encodeCursor({ s: snapshot, d: 'p', t: first.lastUpdated, k: first._id })]]) });
  return result;
}

const STATUS: Record<HistoryRecord['method'], string> = { POST: '201 Created', PUT: '200 OK', PATCH: '200 OK', DELETE: '204 No Content' };

function historyEntry(ctx: FhirContext, v: HistoryRecord): BundleEntry {
  const created = v.versionId === 1 || v.method === 'POST';
  return {
    fullUrl: `${ctx.baseUrl}/${v.type}/${v.id}`,
    ...(v.resource ? { resource: v.resource as FhirResource } : {}),
    request: { method: v.method === 'PATCH' ? 'PATCH' : v.method, url: v.method === 'POST' ? v.type : `${v.type}/${v.id}` },
    response: {
      status: v.deleted ? STATUS.DELETE : created ? '201 Created' : STATUS[v.method],
      etag: etagOf(v.versionId),
      lastModified: v.lastUpdated,
    },
  };
}
