/**
 * The scope check of a request, decided from the route before any data is read: 403 when no scope of the token
 * grants the interaction's permission (https://hl7.org/fhir/smart-app-launch/scopes-and-launch-context.html,
 * v2 letters: r read/vread/instance history, s search and type/system history, c create, u update/patch,
 * d delete). Conditional interactions also search, so they need `s`. What the scopes grant within a type
 * (compartments, consent, granular filters) is decided inside the queries (src/access/control.ts).
 */
import type { Permission } from '../access/scopes';
import type { AccessToken } from '../access/tokens';
import { FhirError } from '../core/errors';
import type { FhirContext } from './context';
import type { Route } from './routes';
import type { FhirRequest } from './types';

/** Interactions anyone may call, without a token. */
const PUBLIC: ReadonlySet<string> = new Set(['capabilities']);
/** Interactions decided per part: each entry of a batch or transaction goes through this check on its own. */
const PER_ENTRY: ReadonlySet<string> = new Set(['batch', 'transaction']);

const LETTERS: Record<string, Permission[]> = {
  read: ['r'],
  vread: ['r'],
  'history-instance': ['r'],
  'history-type': ['s'],
  'history-system': ['s'],
  'search-type': ['s'],
  'search-system': ['s'],
  create: ['c'],
  update: ['u'],
  patch: ['u'],
  delete: ['d'],
};

/** Operations and what they need; an operation not listed here needs a system/*.cruds scope (fail closed). */
const OPERATIONS: Record<string, (token: AccessToken, type: string) => boolean> = {
  // $reindex rewrites index entries of every resource: a backend's job, never a user's or an app's.
  reindex: (token, type) => token.scopes.resources.some((s) => s.context === 'system' && (s.resourceType === '*' || s.resourceType === type) && s.permissions.has('u')),
  // $validate stores nothing: any scope on the type will do (reading the stored resource by id is still judged).
  validate: (token, type) => token.scopes.resources.some((s) => s.resourceType === '*' || s.resourceType === type),
  // $everything and $export read what the token may search; the access filter narrows them inside their queries.
  everything: (token) => token.scopes.resources.some((s) => s.permissions.has('s')),
  export: (token) => token.scopes.resources.some((s) => s.permissions.has('s')),
  // Status, files and cancellation of an export: only its requester, checked by the handler (404 to anyone else).
  'export-status': () => true,
  'export-file': () => true,
  // The audit trail: verifying it needs an auditor scope (system/ or user/ AuditEvent read); archiving is refused
  // to a patient's own disclosure token by the handler (src/fhir/audit-events.ts).
  verify: (token) => auditEventReaders(token).some((s) => s.context !== 'patient'),
  archive: (token) => auditEventReaders(token).length > 0,
};

function auditEventReaders(token: AccessToken): AccessToken['scopes']['resources'] {
  return token.scopes.resources.filter((s) => (s.resourceType === '*' || s.resourceType === 'AuditEvent') && (s.permissions.has('r') || s.permissions.has('s')));
}

export function authorize(ctx: FhirContext, req: FhirRequest, route: Route, params: Record<string, string>): void {
  if (PUBLIC.has(route.interaction) || PER_ENTRY.has(route.interaction) || !ctx.access?.enabled) return;
  if (!req.access) throw new FhirError('fault', 'A request reached the router without access context while access control is on');
  const token = req.access.token;
  if (!token) return;
  const type = params.type ?? '*';
  const control = ctx.access;
  if (route.interaction === 'operation') {
    const allowed = OPERATIONS[route.operation ?? exportPollName(route)]?.(token, type) ?? token.scopes.resources.some((s) => s.context === 'system' && s.resourceType === '*' && s.permissions.size === 5);
    if (!allowed) throw forbidden(`The access token's scopes do not allow $${route.operation ?? ''}`);
    return;
  }
  const needed = [...(LETTERS[route.interaction] ?? ['c', 'r', 'u', 'd', 's']), ...(route.conditional || (route.interaction === 'create' && req.ifNoneExist !== undefined) ? ['s' as const] : [])];
  const types = type === '*' ? typesOf(req) : [type];
  for (const letter of needed) {
    for (const t of types) {
      if (!control.scopeAllows(token, t, letter)) {
        throw forbidden(`The access token's scopes do not allow ${route.interaction}${route.conditional ? ' (conditional)' : ''} on ${t === '*' ? 'any resource type' : t}: it needs a scope such as user/${t}.${letter}`);
      }
    }
  }
}

/** The export status and file routes carry no operation name of their own. */
function exportPollName(route: Route): string {
  return route.path[0] === '$export-status' ? 'export-status' : route.path[0] === '$export-file' ? 'export-file' : '';
}

/** System-level search and history: the types named by `_type`, else some type. */
function typesOf(req: FhirRequest): string[] {
  const named = req.query.filter(([n]) => n === '_type').flatMap(([, v]) => v.split(',')).filter((t) => t !== '');
  return named.length ? [...new Set(named)] : ['*'];
}

const forbidden = (message: string): FhirError => new FhirError('forbidden', [{ severity: 'error', code: 'forbidden', diagnostics: message }]);
