/**
 * The route table of the FHIR REST API (https://hl7.org/fhir/R4/http.html#summary). One table drives request
 * dispatch (src/fhir/router.ts) and the CapabilityStatement (src/fhir/capabilities.ts), so the statement
 * always describes what is really implemented. Batch and transaction entries will replay through it too.
 */
import type { FhirContext } from './context';
import { create } from './create';
import { conditionalDelete, remove } from './delete';
import { history } from './history';
import { reindex } from './operations/reindex';
import { validateOperation } from './operations/validate';
import { conditionalPatch, patch } from './patch';
import { read } from './read';
import { searchInteraction } from './search';
import { conditionalUpdate, update } from './update';
import { vread } from './vread';
import type { FhirMethod, FhirRequest, FhirResponse } from './types';

/** Interaction codes of https://hl7.org/fhir/R4/valueset-type-restful-interaction.html */
export type InteractionCode =
  | 'read'
  | 'vread'
  | 'update'
  | 'patch'
  | 'delete'
  | 'history-instance'
  | 'history-type'
  | 'create'
  | 'search-type'
  | 'history-system'
  | 'search-system'
  | 'capabilities'
  | 'operation';

/** Path segments: literals match themselves; ':type', ':id', ':vid', ':compartment' capture. */
export type Segment = string;

export interface Route {
  method: FhirMethod;
  path: Segment[];
  interaction: InteractionCode;
  /** Set for the conditional form of an interaction (criteria in the query or If-None-Exist). */
  conditional?: boolean;
  /** For interaction 'operation': the operation's name without '$'. */
  operation?: string;
  handle(ctx: FhirContext, req: FhirRequest, params: Record<string, string>): Promise<FhirResponse>;
}

export function buildRoutes(capabilities: (ctx: FhirContext, req: FhirRequest) => Promise<FhirResponse>): Route[] {
  return [
    { method: 'GET', path: ['metadata'], interaction: 'capabilities', handle: (ctx, req) => capabilities(ctx, req) },
    { method: 'GET', path: ['_history'], interaction: 'history-system', handle: (ctx, req) => history(ctx, req, {}) },
    { method: 'POST', path: ['$reindex'], interaction: 'operation', operation: 'reindex', handle: (ctx, req) => reindex(ctx, req) },
    { method: 'POST', path: [':type', '$reindex'], interaction: 'operation', operation: 'reindex', handle: (ctx, req, p) => reindex(ctx, req, p.type) },
    { method: 'POST', path: [':type', '$validate'], interaction: 'operation', operation: 'validate', handle: (ctx, req, p) => validateOperation(ctx, req, p.type) },
    { method: 'POST', path: [':type', ':id', '$validate'], interaction: 'operation', operation: 'validate', handle: (ctx, req, p) => validateOperation(ctx, req, p.type, p.id) },
    { method: 'GET', path: [':type', ':id', '$validate'], interaction: 'operation', operation: 'validate', handle: (ctx, req, p) => validateOperation(ctx, req, p.type, p.id) },
    { method: 'GET', path: [], interaction: 'search-system', handle: (ctx, req) => searchInteraction(ctx, req, {}) },
    { method: 'POST', path: ['_search'], interaction: 'search-system', handle: (ctx, req) => searchInteraction(ctx, req, {}) },
    { method: 'GET', path: [':type', '_history'], interaction: 'history-type', handle: (ctx, req, p) => history(ctx, req, { type: p.type }) },
    { method: 'POST', path: [':type', '_search'], interaction: 'search-type', handle: (ctx, req, p) => searchInteraction(ctx, req, { resourceType: p.type }) },
    { method: 'GET', path: [':type'], interaction: 'search-type', handle: (ctx, req, p) => searchInteraction(ctx, req, { resourceType: p.type }) },
    { method: 'POST', path: [':type'], interaction: 'create', handle: (ctx, req, p) => create(ctx, req, p.type) },
    { method: 'PUT', path: [':type'], interaction: 'update', conditional: true, handle: (ctx, req, p) => conditionalUpdate(ctx, req, p.type) },
    { method: 'PATCH', path: [':type'], interaction: 'patch', conditional: true, handle: (ctx, req, p) => conditionalPatch(ctx, req, p.type) },
    { method: 'DELETE', path: [':type'], interaction: 'delete', conditional: true, handle: (ctx, req, p) => conditionalDelete(ctx, req, p.type) },
    { method: 'GET', path: [':type', ':id', '_history', ':vid'], interaction: 'vread', handle: (ctx, req, p) => vread(ctx, req, p.type, p.id, p.vid) },
    { method: 'GET', path: [':type', ':id', '_history'], interaction: 'history-instance', handle: (ctx, req, p) => history(ctx, req, { type: p.type, id: p.id }) },
    { method: 'GET', path: [':type', ':id'], interaction: 'read', handle: (ctx, req, p) => read(ctx, req, p.type, p.id) },
    { method: 'PUT', path: [':type', ':id'], interaction: 'update', handle: (ctx, req, p) => update(ctx, req, p.type, p.id) },
    { method: 'PATCH', path: [':type', ':id'], interaction: 'patch', handle: (ctx, req, p) => patch(ctx, req, p.type, p.id) },
    { method: 'DELETE', path: [':type', ':id'], interaction: 'delete', handle: (ctx, req, p) => remove(ctx, req, p.type, p.id) },
    {
      method: 'GET',
      path: [':compartment', ':id', ':type'],
      interaction: 'search-type',
      handle: (ctx, req, p) => searchInteraction(ctx, req, { resourceType: p.type, compartment: { type: p.compartment, id: p.id } }),
    },
  ];
}
