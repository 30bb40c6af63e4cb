/**
 * The OpenAPI 3.1 document (https://spec.openapis.org/oas/v3.1.0), generated from the same route table and
 * SearchParameter registry as the CapabilityStatement (src/fhir/capabilities.ts), so both always describe what
 * the server implements: one operation per route, a search operation per resource type listing that type's
 * search parameters, the request headers each interaction reads, the response headers and the error responses.
 * `servers` is BASE_URL; paths are relative to it. Served as /openapi.json and /openapi.yaml (the same JSON
 * text: JSON is a subset of YAML 1.2).
 */
import type { SearchParamDef, SearchRegistry } from '../search/registry';
import { operationDefinition } from '../fhir/operations/definitions';
import type { InteractionCode, Route } from '../fhir/routes';

export interface OpenApiInputs {
  routes: Route[];
  registry: SearchRegistry;
  supportsSearchParam: (resourceType: string, def: SearchParamDef) => boolean;
  resourceTypes: readonly string[];
  baseUrl: string;
  version: string;
}

type Json = Record<string, unknown>;
const ref = (to: string): Json => ({ $ref: `#/components/${to}` });

interface Described {
  summary: string;
  /** Request headers and query parameters (component names) besides the path parameters. */
  parameters?: string[];
  body?: 'Resource' | 'JsonPatch' | 'SearchForm';
  /** Success responses: status -> response component. */
  ok: Record<string, string>;
  /** Error statuses this interaction typically answers, besides 400, 404, 406 and 500. */
  errors?: string[];
}

const PAGED = ['count', 'since', 'at', 'cursor'];
const RESULT = ['format', 'count', 'sort', 'total', 'summary', 'elements', 'include', 'revinclude', 'preferHandling'];

/** What each interaction (and its conditional form) takes and answers (https://hl7.org/fhir/R4/http.html). */
function describe(route: Route): Described {
  const key: string = route.conditional ? `${route.interaction}?` : route.interaction;
  const table: Record<string, Described> = {
    capabilities: { summary: 'CapabilityStatement generated from what the server implements', parameters: ['format'], ok: { '200': 'Resource' } },
    'history-system': { summary: 'History of every resource, newest first', parameters: PAGED, ok: { '200': 'Bundle' } },
    'history-type': { summary: 'History of every resource of one type, newest first', parameters: PAGED, ok: { '200': 'Bundle' } },
    'history-instance': { summary: 'Every version of one resource, newest first', parameters: PAGED, ok: { '200': 'Bundle' } },
    'search-system': route.method === 'POST'
      ? { summary: 'Search across resource types with the parameters in a form body', body: 'SearchForm', ok: { '200': 'Bundle' }, errors: ['415'] }
      : { summary: 'Search across resource types (narrow with _type)', parameters: [...RESULT, 'types'], ok: { '200': 'Bundle' } },
    'search-type': route.method === 'POST'
      ? { summary: 'Search with the parameters in a form body', body: 'SearchForm', ok: { '200': 'Bundle' }, errors: ['415'] }
      : { summary: 'Search resources of one type (https://hl7.org/fhir/R4/search.html); per-type parameters under /{Type}', parameters: RESULT, ok: { '200': 'Bundle' } },
    read: {
      summary: 'Read the current version (410 when deleted; 304 with If-None-Match / If-Modified-Since)',
      parameters: ['format', 'summary', 'elements', 'ifNoneMatch', 'ifModifiedSince'],
      ok: { '200': 'Written', '304': 'NotModified' },
      errors: ['410'],
    },
    vread: { summary: 'Read one version (410 when that version is a deletion)', parameters: ['format', 'summary', 'elements'], ok: { '200': 'Written' }, errors: ['410'] },
    create: {
      summary: 'Create a resource; the server assigns the id (conditional with If-None-Exist)',
      parameters: ['preferReturn', 'ifNoneExist'],
      body: 'Resource',
      ok: { '200': 'Written', '201': 'Written' },
      errors: ['412', '413', '415', '422'],
    },
    update: {
      summary: 'Update, or create with this id when it does not exist',
      parameters: ['preferReturn', 'ifMatch'],
      body: 'Resource',
      ok: { '200': 'Written', '201': 'Written' },
      errors: ['409', '412', '413', '415', '422'],
    },
    'update?': {
      summary: 'Conditional update by the search criteria in the query',
      parameters: ['preferReturn', 'ifMatch'],
      body: 'Resource',
      ok: { '200': 'Written', '201': 'Written' },
      errors: ['409', '412', '415', '422'],
    },
    patch: { summary: 'Apply a JSON Patch (RFC 6902); the result is validated like an update', parameters: ['preferReturn', 'ifMatch'], body: 'JsonPatch', ok: { '200': 'Written' }, errors: ['409', '412', '415', '422'] },
    'patch?': { summary: 'Conditional JSON Patch by the search criteria in the query', parameters: ['preferReturn', 'ifMatch'], body: 'JsonPatch', ok: { '200': 'Written' }, errors: ['409', '412', '415', '422'] },
    delete: { summary: 'Delete (a new version; later reads answer 410)', parameters: ['ifMatch'], ok: { '200': 'Outcome', '204': 'Deleted' }, errors: ['409', '412'] },
    batch: { summary: 'Process a batch or transaction Bundle (https://hl7.org/fhir/R4/http.html#transaction)', body: 'Resource', ok: { '200': 'Bundle' }, errors: ['409', '412', '415', '422'] },
    transaction: { summary: 'Process a batch or transaction Bundle (https://hl7.org/fhir/R4/http.html#transaction)', body: 'Resource', ok: { '200': 'Bundle' }, errors: ['409', '412', '415', '422'] },
    'delete?': { summary: 'Conditional delete of the single resource matching the criteria in the query', ok: { '200': 'Outcome', '204': 'Deleted' }, errors: ['409', '412'] },
  };
  if (route.interaction === 'operation') {
    const definition = operationDefinition('', route.operation ?? '');
    return { summary: definition?.description ?? `$${route.operation}`, ok: { '200': 'Parameters' } };
  }
  // A route added without a description here is still documented, with a generic one.
  return table[key] ?? { summary: `${route.interaction} (https://hl7.org/fhir/R4/http.html)`, ok: { '200': 'Resource' } };
}

const TAG: Partial<Record<InteractionCode, string>> = {
  read: 'instance',
  vread: 'instance',
  update: 'instance',
  patch: 'instance',
  delete: 'instance',
  'history-instance': 'instance',
  'history-type': 'type',
  'search-type': 'type',
  create: 'type',
};

const openApiPath = (segments: string[]): string => `/${segments.map((s) => (s.startsWith(':') ? `{${s.slice(1)}}` : s)).join('/')}`;

function operationId(route: Route): string {
  const words = [route.method.toLowerCase(), ...route.path.map((s) => s.replace(/^[:$_]/, ''))];
  return words.map((w, i) => (i === 0 ? w : `${w.charAt(0).toUpperCase()}${w.slice(1)}`)).join('') || route.method.toLowerCase();
}

function operationOf(route: Route): Json {
  const d = describe(route);
  const errors = ['400', '404', '406', ...(d.errors ?? []), '500'];
  const tag = route.interaction === 'operation' ? 'operations' : route.conditional ? 'type' : (TAG[route.interaction] ?? 'system');
  return {
    tags: [tag],
    operationId: operationId(route),
    summary: d.summary,
    ...(d.parameters?.length ? { parameters: d.parameters.map((p) => ref(`parameters/${p}`)) } : {}),
    ...(d.body ? { requestBody: ref(`requestBodies/${d.body}`) } : {}),
    responses: {
      ...Object.fromEntries(Object.entries(d.ok).map(([status, response]) => [status, ref(`responses/${response}`)])),
      ...Object.fromEntries(errors.map((status) => [status, ref('responses/Error')])),
    },
  };
}

const PATH_PARAMETERS: Record<string, string> = { ':type': 'type', ':id': 'id', ':vid': 'vid', ':compartment': 'compartment', ':job': 'job', ':file': 'file' };

/** GET /{Type}: the search parameters this server implements for the type, from the registry. */
function typeSearch(inputs: OpenApiInputs, type: string): Json {
  const params = inputs.registry.forType(type).filter((def) => inputs.supportsSearchParam(type, def));
  return {
    get: {
      tags: [type],
      operationId: `search${type}`,
      summary: `Search ${type} resources`,
      parameters: [
        ...params.map((def) => ({
          name: def.code,
          in: 'query',
          required: false,
          description: `${def.type} parameter${def.description ? `: ${def.description}` : ''} (${def.url})`,
          schema: { type: 'string' },
        })),
        ...RESULT.map((p) => ref(`parameters/${p}`)),
      ],
      responses: { '200': ref('responses/Bundle'), '400': ref('responses/Error'), '406': ref('responses/Error'), '500': ref('responses/Error') },
    },
  };
}

export function buildOpenApi(inputs: OpenApiInputs): Json {
  const paths: Record<string, Json> = {};
  for (const route of inputs.routes) {
    const path = openApiPath(route.path);
    const item = (paths[path] ??= {
      ...(route.path.some((s) => PATH_PARAMETERS[s]) ? { parameters: route.path.filter((s) => PATH_PARAMETERS[s]).map((s) => ref(`parameters/${PATH_PARAMETERS[s]}`)) } : {}),
    });
    const method = route.method.toLowerCase();
    if (!item[method]) item[method] = operationOf(route);
  }
  for (const type of inputs.resourceTypes) paths[`/${type}`] = typeSearch(inputs, type);
  return {
    openapi: '3.1.0',
    info: {
      title: 'FHIR R4 server REST API',
      version: inputs.version,
      summary: 'FHIR R4 RESTful API (https://hl7.org/fhir/R4/http.html), generated from the route table and the SearchParameter registry.',
      description:
        'Every resource is validated against the FHIR R4 base definitions on create, update and patch. Bodies are JSON only (application/fhir+json or application/json; JSON Patch for PATCH). Every error is an OperationOutcome with the HTTP status of https://hl7.org/fhir/R4/http.html#Status-Codes, and every response carries an X-Request-Id header. The CapabilityStatement at /metadata says the same in FHIR terms.',
      license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
    },
    servers: [{ url: inputs.baseUrl }],
    tags: [
      { name: 'system', description: 'Interactions on the whole server' },
      { name: 'type', description: 'Interactions on a resource type' },
      { name: 'instance', description: 'Interactions on one resource' },
      { name: 'operations', description: 'Extended operations ($name)' },
      ...inputs.resourceTypes.map((type) => ({ name: type, description: `Search ${type} (https://hl7.org/fhir/R4/${type.toLowerCase()}.html#search)` })),
    ],
    paths,
    components: COMPONENTS(inputs.resourceTypes),
  };
}

const header = (name: string, description: string): Json => ({ name, in: 'header', required: false, description, schema: { type: 'string' } });
const query = (name: string, description: string, schema: Json = { type: 'string' }): Json => ({ name, in: 'query', required: false, description, schema });

function COMPONENTS(resourceTypes: readonly string[]): Json {
  const writtenHeaders = {
    ETag: ref('headers/ETag'),
    Location: ref('headers/Location'),
    'Last-Modified': ref('headers/LastModified'),
    'X-Request-Id': ref('headers/RequestId'),
  };
  const fhir = (schema: string): Json => ({ 'application/fhir+json': { schema: ref(`schemas/${schema}`) } });
  return {
    parameters: {
      type: { name: 'type', in: 'path', required: true, description: 'A FHIR R4 resource type, e.g. Patient', schema: { type: 'string', enum: [...resourceTypes] } },
      compartment: { name: 'compartment', in: 'path', required: true, description: 'Compartment type', schema: { type: 'string', enum: ['Patient'] } },
      id: { name: 'id', in: 'path', required: true, schema: { type: 'string', pattern: '^[A-Za-z0-9\\-.]{1,64}$' } },
      vid: { name: 'vid', in: 'path', required: true, schema: { type: 'string', pattern: '^[1-9][0-9]*$' } },
      job: { name: 'job', in: 'path', required: true, description: 'Bulk Data export job id (from Content-Location)', schema: { type: 'string' } },
      file: { name: 'file', in: 'path', required: true, description: 'NDJSON file name from the export manifest', schema: { type: 'string' } },
      format: query('_format', 'json, application/json or application/fhir+json (XML is answered with 406)'),
      count: query('_count', 'Page size', { type: 'integer', minimum: 0 }),
      sort: query('_sort', 'Comma-separated sort parameters, - for descending'),
      total: query('_total', 'none, estimate or accurate', { type: 'string', enum: ['none', 'estimate', 'accurate'] }),
      summary: query('_summary', 'true, text, data, count (search only) or false', { type: 'string', enum: ['true', 'text', 'data', 'count', 'false'] }),
      elements: query('_elements', 'Comma-separated top-level elements to return'),
      include: query('_include', 'Source:param[:Target] of referenced resources to include'),
      revinclude: query('_revinclude', 'Source:param[:Target] of referring resources to include'),
      types: query('_type', 'Comma-separated resource types'),
      since: query('_since', 'Only versions written at or after this instant', { type: 'string', format: 'date-time' }),
      at: query('_at', 'Only the versions current at this instant', { type: 'string', format: 'date-time' }),
      cursor: query('_cursor', 'Opaque page position from a next/previous link'),
      ifMatch: header('If-Match', 'Version the change applies to, e.g. W/"3" (412 when stale)'),
      ifNoneMatch: header('If-None-Match', 'ETag of the version the client has (304 when current)'),
      ifModifiedSince: header('If-Modified-Since', 'HTTP date (304 when not modified since)'),
      ifNoneExist: header('If-None-Exist', 'Search criteria for a conditional create, e.g. identifier=http://example.org|123'),
      preferReturn: header('Prefer', 'return=minimal | return=representation | return=OperationOutcome'),
      preferHandling: header('Prefer', 'handling=strict (unknown parameters are a 400) or handling=lenient (ignored with a warning)'),
    },
    headers: {
      ETag: { description: 'Weak ETag of the version, W/"<versionId>"', schema: { type: 'string' } },
      Location: { description: 'URL of the created or updated version', schema: { type: 'string' } },
      LastModified: { description: 'meta.lastUpdated as an HTTP date', schema: { type: 'string' } },
      RequestId: { description: 'Request id, also written to the server log', schema: { type: 'string' } },
      Allow: { description: 'Methods the path supports (on 405)', schema: { type: 'string' } },
    },
    schemas: {
      Resource: {
        type: 'object',
        required: ['resourceType'],
        properties: {
          resourceType: { type: 'string' },
          id: { type: 'string' },
          meta: { type: 'object', properties: { versionId: { type: 'string' }, lastUpdated: { type: 'string', format: 'date-time' } } },
        },
        additionalProperties: true,
      },
      Bundle: {
        allOf: [
          ref('schemas/Resource'),
          { type: 'object', properties: { resourceType: { const: 'Bundle' }, type: { type: 'string' }, total: { type: 'integer' }, link: { type: 'array', items: { type: 'object' } }, entry: { type: 'array', items: { type: 'object' } } } },
        ],
      },
      OperationOutcome: {
        type: 'object',
        required: ['resourceType', 'issue'],
        properties: {
          resourceType: { const: 'OperationOutcome' },
          issue: {
            type: 'array',
            items: {
              type: 'object',
              required: ['severity', 'code'],
              properties: {
                severity: { enum: ['fatal', 'error', 'warning', 'information'] },
                code: { type: 'string' },
                diagnostics: { type: 'string' },
                expression: { type: 'array', items: { type: 'string' } },
              },
            },
          },
        },
      },
      JsonPatch: {
        type: 'array',
        items: { type: 'object', required: ['op', 'path'], properties: { op: { enum: ['add', 'remove', 'replace', 'move', 'copy', 'test'] }, path: { type: 'string' }, from: { type: 'string' }, value: {} } },
      },
    },
    requestBodies: {
      Resource: { required: true, content: { ...fhir('Resource'), 'application/json': { schema: ref('schemas/Resource') } } },
      JsonPatch: { required: true, content: { 'application/json-patch+json': { schema: ref('schemas/JsonPatch') } } },
      SearchForm: { content: { 'application/x-www-form-urlencoded': { schema: { type: 'object', additionalProperties: { type: 'string' } } } } },
    },
    responses: {
      Written: { description: 'The resource version (or nothing with Prefer return=minimal)', headers: writtenHeaders, content: fhir('Resource') },
      Resource: { description: 'The resource', headers: { 'X-Request-Id': ref('headers/RequestId') }, content: fhir('Resource') },
      NotModified: { description: 'Not modified', headers: { ETag: ref('headers/ETag') } },
      Deleted: { description: 'Deleted, or nothing matched' },
      Bundle: { description: 'A searchset or history Bundle', headers: { 'X-Request-Id': ref('headers/RequestId') }, content: fhir('Bundle') },
      Parameters: { description: "A Parameters resource with the operation's result", content: fhir('Resource') },
      Outcome: { description: 'An OperationOutcome describing the result', content: fhir('OperationOutcome') },
      Error: {
        description: 'An OperationOutcome; the status follows https://hl7.org/fhir/R4/http.html#Status-Codes (405 carries Allow)',
        headers: { 'X-Request-Id': ref('headers/RequestId'), Allow: ref('headers/Allow') },
        content: fhir('OperationOutcome'),
      },
    },
  };
}

/** The document as JSON text, rebuilt only when SearchParameters were added (the registry's revision moved on). */
export function openApiText(inputs: OpenApiInputs): () => string {
  let cached: { revision: number; text: string } | undefined;
  return () => {
    if (cached?.revision !== inputs.registry.revision) cached = { revision: inputs.registry.revision, text: `${JSON.stringify(buildOpenApi(inputs), null, 1)}\n` };
    return cached.text;
  };
}
