/**
 * The route table of the FHIR REST API (https://hl7.org/fhir/R4/http.html#summary). One table drives request
 * dispatch (src/fhir/router.ts) and the CapabilityStatement (src/fhir/capabilities.ts), so the statement
 * always describes what is really implemented. Batch and transaction entries replay through it too.
 */
import { bundleInteraction } from './bundle';
import type { FhirContext } from './context';
import { create } from './create';
import { conditionalDelete, remove } from './delete';
import { history } from './history';
import { readOperationDefinition } from './operations/definitions';
import { everything } from './operations/everything';
import { exportFile } from './operations/export/files';
import { exportKickOff } from './operations/export/kick-off';
import { cancelExport, exportStatus } from './operations/export/status';
import { reindex } from './operations/reindex';
import { dispatch } from './router';
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
  | 'batch'
  | 'transaction'
  | 'capabilities'
  | 'operation';

/** Path segments: literals match themselves; ':type', ':id', ':vid', ':compartment', ':job', ':file' capture. */
export type Segment = string;

export interface Route {
  method: FhirMethod;
  path: Segment[];
  interaction: InteractionCode;
  /** Further interactions the same route serves (POST [base] is both batch and transaction). */
  alsoServes?: InteractionCode[];
  /** Set for the conditional form of an interaction (criteria in the query or If-None-Exist). */
  conditional?: boolean;
  /** For interaction 'operation': the operation's name without '$'. */
  operation?: string;
  /** Canonical URL of the operation's OperationDefinition, when it is defined elsewhere than on this server. */
  definition?: string;
  handle(ctx: FhirContext, req: FhirRequest, params: Record<string, string>): Promise<FhirResponse>;
}

const EXPORT_BASE = 'http://hl7.org/fhir/uv/bulkdata/OperationDefinition';
const EXPORT = `${EXPORT_BASE}/export`;

export function buildRoutes(capabilities: (ctx: FhirContext, req: FhirRequest) => Promise<FhirResponse>): Route[] {
  const routes: Route[] = [
    { method: 'GET', path: ['metadata'], interaction: 'capabilities', handle: (ctx, req) => capabilities(ctx, req) },
    { method: 'GET', path: ['_history'], interaction: 'history-system', handle: (ctx, req) => history(ctx, req, {}) },
    { method: 'POST', path: ['$reindex'], interaction: 'operation', operation: 'reindex', handle: (ctx, req) => reindex(ctx, req) },
    { method: 'POST', path: [':type', '$reindex'], interaction: 'operation', operation: 'reindex', handle: (ctx, req, p) => reindex(ctx, req, p.type) },
    // Bulk Data export (https://hl7.org/fhir/uv/bulkdata/export.html): kick-off, then the status and file URLs it hands out.
    { method: 'GET', path: ['$export'], interaction: 'operation', operation: 'export', definition: EXPORT, handle: (ctx, req) => exportKickOff(ctx, req, 'system') },
    { method: 'POST', path: ['$export'], interaction: 'operation', operation: 'export', definition: EXPORT, handle: (ctx, req) => exportKickOff(ctx, req, 'system') },
    { method: 'GET', path: ['Patient', '$export'], interaction: 'operation', operation: 'export', definition: `${EXPORT_BASE}/patient-export`, handle: (ctx, req) => exportKickOff(ctx, req, 'patient') },
    { method: 'POST', path: ['Patient', '$export'], interaction: 'operation', operation: 'export', definition: `${EXPORT_BASE}/patient-export`, handle: (ctx, req) => exportKickOff(ctx, req, 'patient') },
    { method: 'GET', path: ['Group', ':id', '$export'], interaction: 'operation', operation: 'export', definition: `${EXPORT_BASE}/group-export`, handle: (ctx, req, p) => exportKickOff(ctx, req, 'group', p.id) },
    { method: 'POST', path: ['Group', ':id', '$export'], interaction: 'operation', operation: 'export', definition: `${EXPORT_BASE}/group-export`, handle: (ctx, req, p) => exportKickOff(ctx, req, 'group', p.id) },
    { method: 'GET', path: ['$export-status', ':job'], interaction: 'operation', handle: (ctx, req, p) => exportStatus(ctx, req, p.job) },
    { method: 'DELETE', path: ['$export-status', ':job'], interaction: 'operation', handle: (ctx, req, p) => cancelExport(ctx, req, p.job) },
    { method: 'GET', path: ['$export-file', ':job', ':file'], interaction: 'operation', handle: (ctx, req, p) => exportFile(ctx, req, p.job, p.file) },
    { method: 'GET', path: ['Patient', ':id', '$everything'], interaction: 'operation', operation: 'everything', definition: 'http://hl7.org/fhir/OperationDefinition/Patient-everything', handle: (ctx, req, p) => everything(ctx, req, p.id) },
    { method: 'POST', path: [':type', '$validate'], interaction: 'operation', operation: 'validate', definition: 'http://hl7.org/fhir/OperationDefinition/Resource-validate', handle: (ctx, req, p) => validateOperation(ctx, req, p.type) },
    { method: 'POST', path: [':type', ':id', '$validate'], interaction: 'operation', operation: 'validate', definition: 'http://hl7.org/fhir/OperationDefinition/Resource-validate', handle: (ctx, req, p) => validateOperation(ctx, req, p.type, p.id) },
    { method: 'GET', path: [':type', ':id', '$validate'], interaction: 'operation', operation: 'validate', definition: 'http://hl7.org/fhir/OperationDefinition/Resource-validate', handle: (ctx, req, p) => validateOperation(ctx, req, p.type, p.id) },
    { method: 'GET', path: [], interaction: 'search-system', handle: (ctx, req) => searchInteraction(ctx, req, {}) },
    { method: 'POST', path: ['_search'], interaction: 'search-system', handle: (ctx, req) => searchInteraction(ctx, req, {}) },
    {
      method: 'POST',
      path: [],
      interaction: 'transaction',
      alsoServes: ['batch'],
      handle: (ctx, req) => bundleInteraction(ctx, req, (entryCtx, entryReq) => dispatch(routes, entryCtx, entryReq)),
    },
    { method: 'GET', path: [':type', '_history'], interaction: 'history-type', handle: (ctx, req, p) => history(ctx, req, { type: p.type }) },
    { method: 'POST', path: [':type', '_search'], interaction: 'search-type', handle: (ctx, req, p) => searchInteraction(ctx, req, { resourceType: p.type }) },
    { method: 'GET', path: [':type'], interaction: 'search-type', handle: (ctx, req, p) => searchInteraction(ctx, req, { resourceType: p.type }) },
    { method: 'POST', path: [':type'], interaction: 'create', handle: (ctx, req, p) => create(ctx, req, p.type) },
    { method: 'PUT', path: [':type'], interaction: 'update', conditional: true, handle: (ctx, req, p) => conditionalUpdate(ctx, req, p.type) },
    { method: 'PATCH', path: [':type'], interaction: 'patch', conditional: true, handle: (ctx, req, p) => conditionalPatch(ctx, req, p.type) },
    { method: 'DELETE', path: [':type'], interaction: 'delete', conditional: true, handle: (ctx, req, p) => conditionalDelete(ctx, req, p.type) },
    { method: 'GET', path: [':type', ':id', '_history', ':vid'], interaction: 'vread', handle: (ctx, req, p) => vread(ctx, req, p.type, p.id, p.vid) },
    { method: 'GET', path: [':type', ':id', '_history'], interaction: 'history-instance', handle: (ctx, req, p) => history(ctx, req, { type: p.type, id: p.id }) },
    { method: 'GET', path: ['OperationDefinition', ':id'], interaction: 'read', handle: (ctx, req, p) => readOperationDefinition(ctx, req, p.id) },
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
  return routes;
}
