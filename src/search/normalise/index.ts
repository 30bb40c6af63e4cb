/** Value normalisation shared by indexing (src/search/extract) and query compilation (https://hl7.org/fhir/R4/search.html#ptypes). */
export { foldString } from './string';
export { dateRange, MIN_INSTANT, MAX_INSTANT, type DateRange } from './date';
export { numberRange, numberRangeOf, clean, type NumberRange } from './number';
export { toCanonicalUcum, UCUM_SYSTEM, type CanonicalQuantity } from './ucum';
export { referenceKey, normaliseBaseUrl, type ReferenceKey } from './reference';
