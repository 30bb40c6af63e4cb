/**
 * The AuditEvent type of the FHIR API, served from the audit trail (src/audit), not from the resource store:
 * read and search (date, patient, agent, entity, type, subtype, outcome, purpose), `$verify` and the NDJSON
 * archive `$archive`; create, update, patch and delete answer 405. `guardAuditEvents` wraps the generic
 * `:type` routes so the same route entries (and so the same scope checks) apply to AuditEvent as to any type.
 */
import type { AuditEvent, Bundle, Parameters } from 'fhir/r4';
import { FhirError, NotAllowed } from '../core/errors';
import { restrictToDisclosures, disclosurePatient } from '../audit/disclosures';
import { normaliseSearchValue } from '../audit/index-keys';
import { AUDIT_FIELDS, type AuditField, type AuditQuery } from '../audit/trail';
import type { FhirContext } from './context';
import type { Route } from './routes';
import type { FhirRequest, FhirResponse } from './types';

export const AUDIT_EVENT = 'AuditEvent';
const READ_ONLY = 'AuditEvents are written by the server only: they cannot be created, changed or deleted through the API';

function trailOf(ctx: FhirContext) {
  const trail = ctx.audit?.trail;
  if (!trail) throw new FhirError('not-found', 'The audit trail is off on this server (AUDIT=off)');
  return trail;
}

export async function readAuditEvent(ctx: FhirContext, req: FhirRequest, id: string): Promise<FhirResponse> {
  const event = /^[1-9]\d{0,15}$/.test(id) ? await trailOf(ctx).read(Number(id)) : undefined;
  const patient = disclosurePatient(req.access);
  if (!event || (patient !== undefined && !event.entity?.some((e) => e.role?.code === '1' && e.what?.reference === patient))) {
    throw new FhirError('not-found', `AuditEvent/${id} is not known`);
  }
  return { status: 200, resource: event };
}

const DATE = /^(eq|ge|gt|le|lt)?(\d{4}(?:-\d{2}(?:-\d{2}(?:T[0-9:.]+(?:Z|[+-]\d{2}:\d{2}))?)?)?)$/;

/** `date=ge2026-12-01` as a range [low, high) of `recorded` ISO strings (`\u0001` sorts after the trail's key separator `\0`). */
function dateRange(value: string): { low?: string; high?: string } {
  const m = DATE.exec(value);
  if (!m) throw new FhirError('incorrect', `date must be a FHIR date or dateTime with an optional prefix eq, ge, gt, le or lt, got '${value.slice(0, 40)}'`);
  const prefix = m[1] ?? 'eq';
  const at = (m[2] as string).includes('T') ? new Date(m[2] as string).toISOString() : (m[2] as string);
  const end = at.includes('T') ? at : `${at}~`;
  switch (prefix) {
    case 'ge':
      return { low: at };
    case 'gt':
      return { low: `${end}\u0001` };
    case 'le':
      return { high: `${end}\u0001` };
    case 'lt':
      return { high: at };
    default:
      return at.includes('T') ? { low: at, high: `${at}\u0001` } : { low: at, high: end };
  }
}

export function auditQueryOf(req: FhirRequest, maxCount: number, defaultCount: number): AuditQuery {
  const query: AuditQuery = { filters: [], dates: [], count: defaultCount };
  for (const [name, value] of req.query) {
    if (name === '_format' || name === '_pretty') continue;
    if (name === '_count') {
      if (!/^\d{1,6}$/.test(value)) throw new FhirError('incorrect', '_count must be a whole number');
      query.count = Math.min(Number(value), maxCount);
    } else if (name === '_before') {
      if (!/^\d{1,16}$/.test(value)) throw new FhirError('incorrect', '_before must be an event sequence number');
      query.before = Number(value);
    } else if (name === 'date') {
      query.dates.push(dateRange(value));
    } else if ((AUDIT_FIELDS as readonly string[]).includes(name)) {
      const field = name as AuditField;
      query.filters.push({ field, values: value.split(',').filter((v) => v !== '').map((v) => normaliseSearchValue(field, v)) });
    } else {
      throw new FhirError('incorrect', `AuditEvent search supports date, patient, agent, entity, type, subtype, outcome, purpose, _count and _before, not '${name.slice(0, 40)}'`);
    }
  }
  return query;
}

export async function searchAuditEvents(ctx: FhirContext, req: FhirRequest): Promise<FhirResponse> {
  const query = restrictToDisclosures(auditQueryOf(req, ctx.paging.maxCount, ctx.paging.defaultCount), req.access);
  const page = await trailOf(ctx).search(query);
  const kept = req.query.filter(([n]) => n !== '_before');
  const url = (extra: Array<[string, string]>) => {
    const q = [...kept, ...extra].map(([n, v]) => `${encodeURIComponent(n)}=${encodeURIComponent(v)}`).join('&');
    return `${ctx.baseUrl}/AuditEvent${q ? `?${q}` : ''}`;
  };
  const bundle: Bundle = {
    resourceType: 'Bundle',
    type: 'searchset',
    ...(page.total !== undefined ? { total: page.total } : {}),
    link: [{ relation: 'self', url: url(query.before !== undefined ? [['_before', String(query.before)]] : []) }, ...(page.next !== undefined ? [{ relation: 'next', url: url([['_before', String(page.next)]]) }] : [])],
    entry: page.events.map((e: AuditEvent) => ({ fullUrl: `${ctx.baseUrl}/AuditEvent/${e.id}`, resource: e, search: { mode: 'match' as const } })),
  };
  return { status: 200, resource: bundle };
}

/** `POST AuditEvent/$verify`: checks the whole chain; answers Parameters with the outcome and the first broken link. */
export async function verifyAuditTrail(ctx: FhirContext): Promise<FhirResponse> {
  const report = await trailOf(ctx).verify();
  const parameters: Parameters = {
    resourceType: 'Parameters',
    parameter: [
      { name: 'result', valueBoolean: report.ok },
      { name: 'checked', valueInteger: report.checked },
      ...(report.lastSequence !== undefined ? [{ name: 'lastSequence', valueInteger: report.lastSequence }] : []),
      ...(report.lastHash ? [{ name: 'lastHash', valueString: report.lastHash }] : []),
      ...(report.broken ? [{ name: 'firstBrokenLink', valueInteger: report.broken.sequence }, { name: 'reason', valueString: report.broken.reason }] : []),
    ],
  };
  return { status: 200, resource: parameters };
}

/** `GET AuditEvent/$archive[?from=N]`: the trail from event N as NDJSON, for archiving and `npm run audit:verify`. */
export async function archiveAuditTrail(ctx: FhirContext, req: FhirRequest): Promise<FhirResponse> {
  const trail = trailOf(ctx);
  if (disclosurePatient(req.access) !== undefined) throw new FhirError('forbidden', 'Archiving the audit trail needs an auditor scope (system/AuditEvent.rs or user/AuditEvent.rs)');
  const from = req.query.find(([n]) => n === 'from')?.[1] ?? '1';
  if (!/^[1-9]\d{0,15}$/.test(from)) throw new FhirError('incorrect', 'from must be an event sequence number (1 or more)');
  async function* lines(): AsyncIterable<string> {
    for await (const event of trail.scan(Number(from))) yield `${JSON.stringify(event)}\n`;
  }
  return { status: 200, stream: { contentType: 'application/fhir+ndjson', lines: lines() } };
}

/**
 * AuditEvent requests on the generic routes go to the trail: reads and searches served, writes refused. Changes
 * `routes` in place (adding `extra` in front), so bundle entries, which replay through the same array, see it too.
 */
export function guardAuditEvents(routes: Route[], extra: Route[]): void {
  const guarded = routes.map((route): Route => {
    if (route.path[0] !== ':type' && route.path[2] !== ':type') return route;
    const handle = route.handle;
    const onAuditEvents = async (ctx: FhirContext, req: FhirRequest, params: Record<string, string>): Promise<FhirResponse> => {
      if (route.method === 'GET' && route.interaction === 'read') return readAuditEvent(ctx, req, params.id as string);
      if (route.interaction === 'search-type' && !params.compartment) return searchAuditEvents(ctx, req);
      if (route.method === 'GET') throw new NotAllowed(`${route.interaction} is not supported on AuditEvent: use read or search`, ['GET']);
      throw new NotAllowed(READ_ONLY, ['GET', 'HEAD']);
    };
    // Other types go straight to the route's own handler (no async wrapper: one promise less per request and Bundle entry).
    return { ...route, handle: (ctx, req, params) => (params.type !== AUDIT_EVENT ? handle(ctx, req, params) : onAuditEvents(ctx, req, params)) };
  });
  routes.splice(0, routes.length, ...extra, ...guarded);
}

export const auditRoutes: Route[] = [
  { method: 'POST', path: [AUDIT_EVENT, '$verify'], interaction: 'operation', operation: 'verify', handle: (ctx) => verifyAuditTrail(ctx) },
  { method: 'GET', path: [AUDIT_EVENT, '$archive'], interaction: 'operation', operation: 'archive', handle: (ctx, req) => archiveAuditTrail(ctx, req) },
];
