/** Write-time search index extraction (https://hl7.org/fhir/R4/search.html). */
export { IndexExtractor, type ExtractedIndex, type IndexExtractorOptions } from './extractor';
