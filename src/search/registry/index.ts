/** Public surface of the SearchParameter registry (https://hl7.org/fhir/R4/searchparameter-registry.html). */
export { SearchRegistry } from './registry';
export type { SearchParamDef, SearchParamType, CompositeComponentDef } from './types';
export { SEARCH_PARAM_TYPES } from './types';
export { specialiseExpression, splitTopLevelUnion, referenceTypeTest } from './specialise';
