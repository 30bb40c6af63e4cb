/**
 * Patient/[id]/$everything (https://hl7.org/fhir/R4/patient-operation-everything.html): the patient's compartment
 * (membership indexed at write time, src/search/compartments.ts) and then the resources those reference that are
 * outside it (Practitioner, Organization, Medication, Location...: references indexed by a search parameter, one
 * level deep; other Patients are left out). `_type` and `_since` narrow both parts; `_count` pages with a keyset
 * cursor over (part, `_id`), so writes made while a client pages never repeat an entry. `start`/`end` (care dates)
 * are not supported.
 */
import type { Bundle, BundleEntry, BundleLink, FhirResource } from 'fhir/r4';
import { invalid } from '../../core/errors';
import type { Filter } from '../../storage/port';
import { RESOURCES, type ResourceRecord } from '../../storage/records';
import { liveFilter } from '../../search/service';
import type { FhirContext } from '../context';
import { parseInstant } from '../history';
import { decodeCursor, encodeCursor, pageSize } from '../paging';
import { liveRecord } from '../read';
import { searchAccess } from '../search';
import type { FhirRequest, FhirResponse } from '../types';

const PARAMETERS = new Set(['_since', '_type', '_count', '_cursor', '_format', '_pretty']);

/** Where a page starts: in the compartment (c) or the referenced resources (r), after this `_id`. */
interface Cursor {
  p: 'c' | 'r';
  a: string;
}

const isCursor = (v: unknown): v is Cursor => {
  const c = v as Cursor;
  return typeof c === 'object' && c !== null && (c.p === 'c' || c.p === 'r') && typeof c.a === 'string';
};

interface Found {
  record: ResourceRecord;
  part: 'c' | 'r';
}

export async function everything(ctx: FhirContext, req: FhirRequest, id: string): Promise<FhirResponse> {
  await liveRecord(ctx, 'Patient', id, req);
  // What the caller may see: ANDed into every query below, the compartment's and the referenced resources', and
  // checked again on every record that leaves (as search does).
  const seen: string[] = [];
  const { scope = {}, admit = () => true } = await searchAccess(ctx, req, seen);
  const params = new Map<string, string>();
  for (const [name, value] of req.query) {
    if (!PARAMETERS.has(name)) throw invalid(`Patient/$everything does not support the parameter '${name.slice(0, 40)}'; it supports _since, _type and _count`, name);
    if (params.has(name)) throw invalid(`The parameter '${name}' may appear once`, name);
    params.set(name, value);
  }
  const count = pageSize(params.get('_count'), ctx.paging);
  const cursor: Cursor = params.has('_cursor') ? decodeCursor(params.get('_cursor') ?? '', isCursor) : { p: 'c', a: '' };
  const types = params.get('_type')?.split(',').map((t) => t.trim());
  for (const type of types ?? []) if (!ctx.validator.isResourceType(type)) throw invalid(`_type names '${type.slice(0, 60)}', which is not a FHIR R4 resource type`, '_type');
  const since = params.has('_since') ? parseInstant(params.get('_since') ?? '', '_since') : undefined;

  const member: Filter = { compartments: `Patient/${id}` };
  const narrowed = and([liveFilter(scope), types ? { type: { $in: types } } : {}, since ? { lastUpdated: { $gte: since } } : {}]);
  const found: Found[] = [];
  if (cursor.p === 'c') {
    const rows = await page(ctx, and([narrowed, member]), cursor.a, count + 1);
    found.push(...rows.filter(admit).map((record) => ({ record, part: 'c' as const })));
  }
  if (found.length <= count) {
    const referenced = await referencedKeys(ctx, and([scope, member]), cursor.p === 'r' ? cursor.a : '');
    if (referenced.length) {
      const rows = await page(ctx, and([narrowed, { _id: { $in: referenced } }, { compartments: { $ne: `Patient/${id}` } }]), '', count + 1 - found.length);
      found.push(...rows.filter(admit).map((record) => ({ record, part: 'r' as const })));
    }
  }
  await ctx.access?.note(req.access, 's', seen);
  const more = found.length > count;
  const shown = found.slice(0, count);
  const last = shown[shown.length - 1];
  const bundle: Bundle = {
    resourceType: 'Bundle',
    type: 'searchset',
    ...(!more && !params.has('_cursor') ? { total: shown.length } : {}),
    link: links(ctx, req, id, more && last ? { p: last.part, a: last.record._id } : undefined),
    entry: shown.map(({ record, part }): BundleEntry => ({
      fullUrl: `${ctx.baseUrl}/${record.type}/${record.id}`,
      resource: record.resource as FhirResource,
      search: { mode: part === 'c' ? 'match' : 'include' },
    })),
  };
  return { status: 200, resource: bundle };
}

/** Whole records (the final access check reads their index fields and compartments), after `after` in `_id` order. */
async function page(ctx: FhirContext, filter: Filter, after: string, limit: number): Promise<ResourceRecord[]> {
  const query = after ? and([filter, { _id: { $gt: after } }]) : filter;
  return (await ctx.store.find(RESOURCES, query, { sort: [['_id', 1]], limit })) as ResourceRecord[];
}

/** Keys (`Type/id`) after `after` of the resources the compartment's members reference, other Patients excepted, in order. */
async function referencedKeys(ctx: FhirContext, member: Filter, after: string): Promise<string[]> {
  const rows = (await ctx.store.find(RESOURCES, and([liveFilter({}), member]), { projection: { 'idx.ref': 1 } })) as ResourceRecord[];
  const keys = new Set<string>();
  for (const row of rows) for (const ref of row.idx?.ref ?? []) if (ref.r && ref.r > after && !ref.r.startsWith('Patient/')) keys.add(ref.r);
  return [...keys].sort();
}

function links(ctx: FhirContext, req: FhirRequest, id: string, next: Cursor | undefined): BundleLink[] {
  const kept = req.query.filter(([n]) => n !== '_cursor' && n !== '_format' && n !== '_pretty');
  const url = (extra: Array<[string, string]>): string => {
    const qs = new URLSearchParams([...kept, ...extra]).toString();
    return `${ctx.baseUrl}/Patient/${id}/$everything${qs ? `?${qs}` : ''}`;
  };
  const current = req.query.find(([n]) => n === '_cursor');
  const result: BundleLink[] = [{ relation: 'self', url: url(current ? [current] : []) }];
  if (next) result.push({ relation: 'next', url: url([['_cursor', encodeCursor(next)]]) });
  return result;
}

function and(filters: Filter[]): Filter {
  const parts = filters.filter((f) => Object.keys(f).length > 0);
  return parts.length === 1 ? (parts[0] as Filter) : { $and: parts };
}
