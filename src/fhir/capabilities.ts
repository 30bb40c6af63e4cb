/**
 * capabilities: https://hl7.org/fhir/R4/http.html#capabilities — the CapabilityStatement is generated from the
 * route table, the validator's resource types and the SearchParameter registry, never written by hand.
 */
import type { CapabilityStatement, CapabilityStatementRestResource, CapabilityStatementRestResourceSearchParam, CapabilityStatementRestSecurity } from 'fhir/r4';
import type { SearchParamDef, SearchRegistry } from '../search/registry';
import type { FhirContext } from './context';
import { JSON_PATCH } from './patch';
import type { InteractionCode, Route } from './routes';
import type { FhirRequest, FhirResponse } from './types';

export interface CapabilityInputs {
  /** The route table (a getter, since the capabilities route is itself part of it). */
  routes: () => Route[];
  registry: SearchRegistry;
  /** Whether the query compiler implements this parameter for this type. */
  supportsSearchParam: (resourceType: string, def: SearchParamDef) => boolean;
  software: { name: string; version: string };
  /** When the server started; the statement's date. */
  startedAt: string;
  /** The configured authorization (src/access/edge.ts). */
  security?: CapabilityStatementRestSecurity;
}

type TypeInteraction = NonNullable<CapabilityStatementRestResource['interaction']>[number]['code'];
type SystemInteraction = 'history-system' | 'search-system' | 'batch' | 'transaction';
const TYPE_LEVEL: ReadonlySet<InteractionCode> = new Set(['read', 'vread', 'update', 'patch', 'delete', 'history-instance', 'history-type', 'create', 'search-type']);
const SYSTEM_LEVEL: ReadonlySet<InteractionCode> = new Set(['history-system', 'search-system', 'batch', 'transaction']);
const isTypeInteraction = (i: InteractionCode): i is TypeInteraction => TYPE_LEVEL.has(i);
const isSystemInteraction = (i: InteractionCode): i is SystemInteraction => SYSTEM_LEVEL.has(i);

export function capabilitiesHandler(inputs: CapabilityInputs): (ctx: FhirContext, req: FhirRequest) => Promise<FhirResponse> {
  let cached: { revision: number; statement: CapabilityStatement } | undefined;
  return async (ctx) => {
    // Rebuilt when SearchParameters were added since (the registry's revision moves on).
    if (cached?.revision !== inputs.registry.revision) {
      cached = { revision: inputs.registry.revision, statement: buildCapabilityStatement(ctx, inputs) };
    }
    return { status: 200, resource: cached.statement };
  };
}

export function buildCapabilityStatement(ctx: FhirContext, inputs: CapabilityInputs): CapabilityStatement {
  const routes = inputs.routes();
  const plain = routes.filter((r) => !r.conditional);
  const typeInteractions = unique(plain.map((r) => r.interaction).filter(isTypeInteraction));
  const systemInteractions = unique(plain.flatMap((r) => [r.interaction, ...(r.alsoServes ?? [])]).filter(isSystemInteraction));
  const conditional = new Set(routes.filter((r) => r.conditional).map((r) => r.interaction));
  const compartmentSearch = routes.some((r) => r.path[0] === ':compartment');
  /** Operations of one resource type (routes under ':type' or that type), or of the system (routes of one segment). */
  const operations = (type?: string) => {
    const listed = routes.filter((r) => r.operation && (type ? r.path[0] === ':type' || r.path[0] === type : r.path.length === 1));
    const byName = new Map(listed.map((r) => [r.operation as string, r.definition ?? `${ctx.baseUrl}/OperationDefinition/${r.operation}`]));
    return [...byName].map(([name, definition]) => ({ name, definition }));
  };

  // R4 forbids empty arrays (https://hl7.org/fhir/R4/json.html#arrays): `nonEmpty` leaves an empty list out.
  const resource: CapabilityStatementRestResource[] = ctx.validator.resourceTypes.map((type) => ({
    type,
    profile: `http://hl7.org/fhir/StructureDefinition/${type}`,
    ...nonEmpty('interaction', typeInteractions.map((code) => ({ code }))),
    versioning: 'versioned-update',
    readHistory: true,
    updateCreate: true,
    conditionalCreate: true,
    // If-Modified-Since and If-None-Match both answer 304 (src/fhir/preconditions.ts).
    conditionalRead: 'full-support',
    conditionalUpdate: conditional.has('update'),
    conditionalDelete: conditional.has('delete') ? 'single' : 'not-supported',
    referencePolicy: ['literal', 'logical'],
    searchInclude: ['*', ...referenceParams(inputs, type).map((code) => `${type}:${code}`)],
    ...nonEmpty('searchRevInclude', revIncludes(inputs, type)),
    ...nonEmpty('searchParam', searchParams(inputs, type)),
    ...nonEmpty('operation', operations(type)),
  }));

  return {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date: inputs.startedAt,
    publisher: 'FHIR R4 server project',
    kind: 'instance',
    software: { name: inputs.software.name, version: inputs.software.version },
    implementation: { description: 'FHIR R4 REST server', url: ctx.baseUrl },
    fhirVersion: '4.0.1',
    format: ['application/fhir+json', 'json'],
    patchFormat: [JSON_PATCH],
    rest: [
      {
        mode: 'server',
        documentation: `Base: ${ctx.baseUrl}. Resources are validated against the FHIR R4 base definitions on every write.`,
        ...(inputs.security ? { security: inputs.security } : {}),
        resource,
        ...nonEmpty('interaction', systemInteractions.map((code) => ({ code }))),
        ...nonEmpty('operation', operations()),
        ...(compartmentSearch ? { compartment: ['http://hl7.org/fhir/CompartmentDefinition/patient'] } : {}),
      },
    ],
  };
}

function searchParams(inputs: CapabilityInputs, type: string): CapabilityStatementRestResourceSearchParam[] {
  return inputs.registry
    .forType(type)
    .filter((def) => inputs.supportsSearchParam(type, def))
    .map((def) => ({
      name: def.code,
      definition: def.url,
      type: def.type,
      ...(def.description ? { documentation: def.description } : {}),
    }));
}

/** Reference parameters of a type, usable in _include (https://hl7.org/fhir/R4/search.html#include). */
function referenceParams(inputs: CapabilityInputs, type: string): string[] {
  return inputs.registry
    .forType(type)
    .filter((def) => def.type === 'reference' && inputs.supportsSearchParam(type, def))
    .map((def) => def.code);
}

/** `Source:param` for every reference parameter of any type that may point at `type` (_revinclude). */
function revIncludes(inputs: CapabilityInputs, type: string): string[] {
  const result: string[] = [];
  for (const source of inputs.registry.resourceTypes()) {
    for (const def of inputs.registry.forType(source)) {
      if (def.type === 'reference' && def.target?.includes(type) && inputs.supportsSearchParam(source, def)) result.push(`${source}:${def.code}`);
    }
  }
  return result;
}

const unique = <T>(items: T[]): T[] => [...new Set(items)];

const nonEmpty = <K extends string, T>(key: K, items: T[]): Partial<Record<K, T[]>> => (items.length ? ({ [key]: items } as Record<K, T[]>) : {});
