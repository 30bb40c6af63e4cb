/**
 * The in-process FHIR router: matches a FhirRequest against the route table and runs the interaction.
 * Independent of HTTP; batch/transaction bundles replay each entry through `dispatch`.
 */
import { FhirError, NotAllowed } from '../core/errors';
import { authorize } from './authorize';
import type { FhirContext } from './context';
import type { Route } from './routes';
import type { FhirRequest, FhirResponse } from './types';

const CAPTURES = new Set([':type', ':id', ':vid', ':compartment', ':job', ':file']);

/** A captured segment is never one of the reserved words ('_history', '_search', 'metadata') or an operation ('$x'). */
function capturable(segment: string): boolean {
  return segment !== '' && !segment.startsWith('_') && !segment.startsWith('$') && segment !== 'metadata';
}

function match(route: Route, path: string[]): Record<string, string> | undefined {
  if (route.path.length !== path.length) return undefined;
  // Checked first, so that the routes tried before the one that matches allocate nothing.
  for (let i = 0; i < path.length; i++) {
    const want = route.path[i] as string;
    const got = path[i] as string;
    if (CAPTURES.has(want) ? !capturable(got) : want !== got) return undefined;
  }
  const params: Record<string, string> = {};
  for (let i = 0; i < path.length; i++) {
    const want = route.path[i] as string;
    if (CAPTURES.has(want)) params[want.slice(1)] = path[i] as string;
  }
  return params;
}

export class FhirRouter {
  private readonly knownTypes: ReadonlySet<string>;

  constructor(
    private readonly ctx: FhirContext,
    readonly routes: Route[],
  ) {
    this.knownTypes = new Set(ctx.validator.resourceTypes);
  }

  route(req: FhirRequest): Promise<FhirResponse> {
    return dispatch(this.routes, this.ctx, req);
  }

  /**
   * The template of the first route `path` matches, for metrics and logs: `generic` '/fhir/:type/:id' and `typed`
   * '/fhir/Patient/:id' (only resource types this server knows are filled in; anything else stays ':type').
   * Neither contains a value from the request other than a known type name.
   */
  template(path: string[]): { generic: string; typed: string } | undefined {
    for (const route of this.routes) {
      const params = match(route, path);
      if (!params) continue;
      const known = (name: string | undefined): name is string => name !== undefined && this.knownTypes.has(name);
      const typed = route.path.map((s) => (s === ':type' && known(params.type) ? params.type : s === ':compartment' && known(params.compartment) ? params.compartment : s));
      return { generic: ['/fhir', ...route.path].join('/'), typed: ['/fhir', ...typed].join('/') };
    }
    return undefined;
  }
}

/** Runs the interaction `req` names with `ctx`; with an audit trail, the call leaves one AuditEvent (src/audit/auditor.ts). */
export function dispatch(routes: readonly Route[], ctx: FhirContext, req: FhirRequest): Promise<FhirResponse> {
  const method = req.method === 'HEAD' ? 'GET' : req.method;
  const allowed: string[] = [];
  for (const route of routes) {
    const params = match(route, req.path);
    if (!params) continue;
    if (route.method === method) {
      // The auditor may hand the interaction a context carrying its bundle scope (src/audit/auditor.ts).
      const run = async (scoped: FhirContext = ctx): Promise<FhirResponse> => {
        authorize(scoped, req, route, params);
        return route.handle(scoped, req, params);
      };
      return ctx.audit ? ctx.audit.around({ req, interaction: route.interaction, ...(route.operation ? { operation: route.operation } : {}), params }, run, ctx) : run();
    }
    allowed.push(route.method);
  }
  const refuse = async (): Promise<FhirResponse> => {
    if (allowed.length) {
      if (allowed.includes('GET')) allowed.push('HEAD');
      throw new NotAllowed(`${req.method} is not supported on /${req.path.join('/')}`, [...new Set(allowed)]);
    }
    if (req.path.some((s) => s.startsWith('$'))) {
      throw new FhirError('not-found', `The operation ${req.path.find((s) => s.startsWith('$'))} is not supported by this server`);
    }
    throw new FhirError('not-found', `No FHIR endpoint at /${req.path.join('/')}`);
  };
  return ctx.audit ? ctx.audit.around({ req, params: {} }, refuse, ctx) : refuse();
}
