/**
 * The OperationDefinitions of the operations this server implements, served at
 * /fhir/OperationDefinition/{name} (https://hl7.org/fhir/R4/operationdefinition.html) because the
 * CapabilityStatement points there (src/fhir/capabilities.ts). Every operation of the route table needs an entry:
 * the capabilities tests fetch each definition the statement names.
 */
import type { OperationDefinition } from 'fhir/r4';
import type { FhirContext } from '../context';
import { read } from '../read';
import type { FhirRequest, FhirResponse } from '../types';

type Definition = Omit<OperationDefinition, 'resourceType' | 'id' | 'url' | 'status' | 'kind' | 'code'>;

const DEFINITIONS: Record<string, Definition> = {
  reindex: {
    name: 'Reindex',
    title: 'Re-extract search index entries',
    description:
      'Re-extracts the search index entries of every current resource (of one type, or of all types) with the SearchParameters active now, so parameters added after data was written find that data. Writes no new resource versions.',
    affectsState: true,
    system: true,
    type: true,
    instance: false,
    resource: ['Resource'],
    parameter: [
      { name: 'examined', use: 'out', min: 1, max: '1', type: 'integer', documentation: 'Current resources examined' },
      { name: 'reindexed', use: 'out', min: 1, max: '1', type: 'integer', documentation: 'Resources whose index entries changed and were rewritten' },
    ],
  },
};

export function operationDefinition(baseUrl: string, name: string): OperationDefinition | undefined {
  const definition = DEFINITIONS[name];
  if (!definition) return undefined;
  return { resourceType: 'OperationDefinition', id: name, url: `${baseUrl}/OperationDefinition/${name}`, status: 'active', kind: 'operation', code: name, ...definition };
}

/** GET OperationDefinition/{id}: the server's own definitions first, then stored OperationDefinitions (plain read). */
export async function readOperationDefinition(ctx: FhirContext, req: FhirRequest, id: string): Promise<FhirResponse> {
  const builtIn = operationDefinition(ctx.baseUrl, id);
  if (builtIn) return { status: 200, resource: builtIn };
  return read(ctx, req, 'OperationDefinition', id);
}
