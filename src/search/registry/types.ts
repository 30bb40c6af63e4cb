/**
 * The shape of a search parameter as the server uses it, for both indexing and queries
 * (https://hl7.org/fhir/R4/searchparameter.html, https://hl7.org/fhir/R4/search.html#ptypes).
 */

export type SearchParamType = 'number' | 'date' | 'string' | 'token' | 'reference' | 'composite' | 'quantity' | 'uri' | 'special';

export const SEARCH_PARAM_TYPES: readonly SearchParamType[] = [
  'number',
  'date',
  'string',
  'token',
  'reference',
  'composite',
  'quantity',
  'uri',
  'special',
];

/** Parameters that are not stored in `idx`: `_id` and `_lastUpdated` are the record's own `id` / `lastUpdated`. */
export const NOT_INDEXED: ReadonlySet<string> = new Set(['_id', '_lastUpdated']);

/** One component of a composite parameter (https://hl7.org/fhir/R4/search.html#composite). */
export interface CompositeComponentDef {
  /** Canonical URL of the component's own SearchParameter. */
  definition: string;
  /** FHIRPath relative to each element the composite's expression selects. */
  expression: string;
  /** The component parameter's code and type, resolved from `definition` (absent when it is unknown). */
  code?: string;
  type?: SearchParamType;
}

/** What a search parameter says, whichever way it is looked at (https://hl7.org/fhir/R4/searchparameter.html). */
interface SearchParamFields {
  code: string;
  url: string;
  type: SearchParamType;
  /** Every resource type the parameter is defined on (as in SearchParameter.base). */
  base: string[];
  target?: string[];
  modifier?: string[];
  comparator?: string[];
  component?: CompositeComponentDef[];
  multipleOr?: boolean;
  multipleAnd?: boolean;
  description?: string;
}

/** A search parameter as seen from one resource type: `expression` is specialised for that type. */
export interface SearchParamDef extends SearchParamFields {
  /**
   * FHIRPath for the resource type this definition was asked for: only the union branches that apply to it,
   * with `resolve() is T` tests rewritten into checks on the reference itself. Absent for parameters the
   * server evaluates itself (_id, _lastUpdated, _text, _content, _query).
   */
  expression?: string;
}

/** One parameter in the build artifact (generated/search/search-parameters.json), before specialisation lookup. */
export interface CompactSearchParam extends SearchParamFields {
  /** Original SearchParameter.expression. */
  expression?: string;
  /** Specialised expression per base type (only where it differs from `expression`). */
  expressions?: Record<string, string>;
}

/** generated/search/search-parameters.json */
export interface SearchDefinitionsArtifact {
  fhirVersion: string;
  /** Every resource type, with whether it is a DomainResource (DomainResource-level parameters apply to it). */
  resourceTypes: Array<{ type: string; domainResource: boolean }>;
  params: CompactSearchParam[];
}

/** generated/search/compartments.json: compartment type -> resource type -> compartment parameter codes. */
export type CompartmentsArtifact = Record<string, Record<string, string[]>>;
