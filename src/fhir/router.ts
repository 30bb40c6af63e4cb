/**
 * The in-process FHIR router: matches a FhirRequest against the route table and runs the interaction.
 * Independent of HTTP; batch/transaction bundles will call `route` for each entry.
 */
import { FhirError } from '../core/errors';
import { authorize } from './authorize';
import type { FhirContext } from './context';
import type { Route } from './routes';
import type { FhirRequest, FhirResponse } from './types';

const CAPTURES = new Set([':type', ':id', ':vid', ':compartment']);

/** A captured segment is never one of the reserved words ('_history', '_search', 'metadata') or an operation ('$x'). */
function capturable(segment: string): boolean {
  return segment !== '' && !segment.startsWith('_') && !segment.startsWith('$') && segment !== 'metadata';
}

function match(route: Route, path: string[]): Record<string, string> | undefined {
  if (route.path.length !== path.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < path.length; i++) {
    const want = route.path[i] as string;
    const got = path[i] as string;
    if (CAPTURES.has(want)) {
      if (!capturable(got)) return undefined;
      params[want.slice(1)] = got;
    } else if (want !== got) {
      return undefined;
    }
  }
  return params;
}

export class FhirRouter {
  constructor(
    private readonly ctx: FhirContext,
    readonly routes: Route[],
  ) {}

  async route(req: FhirRequest): Promise<FhirResponse> {
    const method = req.method === 'HEAD' ? 'GET' : req.method;
    let pathMatched = false;
    for (const route of this.routes) {
      const params = match(route, req.path);
      if (!params) continue;
      pathMatched = true;
      if (route.method === method) {
        authorize(this.ctx, req, route, params);
        return route.handle(this.ctx, req, params);
      }
    }
    if (pathMatched) {
      throw new FhirError('not-allowed', `${req.method} is not supported on /${req.path.join('/')}`);
    }
    if (req.path.some((s) => s.startsWith('$'))) {
      throw new FhirError('not-found', `The operation ${req.path.find((s) => s.startsWith('$'))} is not supported by this server`);
    }
    throw new FhirError('not-found', `No FHIR endpoint at /${req.path.join('/')}`);
  }
}
