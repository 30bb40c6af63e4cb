/**
 * Kick-off parameters of Bulk Data `$export` (https://hl7.org/fhir/uv/bulkdata/export.html#query-parameters), from
 * the query string or a `Parameters` body (POST). Parameters this server does not support are an error, or with
 * `Prefer: handling=lenient` a warning in the manifest's error file, as the IG asks.
 */
import type { Parameters } from 'fhir/r4';
import { invalid } from '../../../core/errors';
import type { OperationOutcomeIssue } from '../../../core/outcome';
import type { FhirContext } from '../../context';
import { parseInstant } from '../../history';
import type { FhirRequest } from '../../types';

/** `_outputFormat` values meaning NDJSON; the IG requires the full type and these two abbreviations. */
const NDJSON_FORMATS = new Set(['application/fhir+ndjson', 'application/ndjson', 'ndjson']);
/** Presentation parameters of the kick-off request itself, not of the export. */
const PRESENTATION = new Set(['_format', '_pretty']);

export interface ExportParameters {
  types?: string[];
  since?: string;
  /** `_typeFilter` queries (without `Type?`) by resource type. */
  typeFilters: Record<string, string[]>;
  /** Parameters ignored under `handling=lenient`. */
  issues: OperationOutcomeIssue[];
}

export function exportParameters(ctx: FhirContext, req: FhirRequest): ExportParameters {
  const lenient = req.prefer.handling === 'lenient';
  const issues: OperationOutcomeIssue[] = [];
  const unsupported = (message: string, expression: string): void => {
    if (!lenient) throw invalid(`${message} (send Prefer: handling=lenient to have it ignored)`, expression);
    issues.push({ severity: 'warning', code: 'not-supported', diagnostics: `${message}; it was ignored`, expression: [expression] });
  };
  const pairs = [...req.query, ...bodyParameters(req.body)].filter(([name]) => !PRESENTATION.has(name));
  const result: ExportParameters = { typeFilters: {}, issues };
  const once = new Set<string>();
  for (const [name, value] of pairs) {
    if (name !== '_type' && name !== '_typeFilter') {
      if (once.has(name)) throw invalid(`The $export parameter '${name}' may appear once`, name);
      once.add(name);
    }
    switch (name) {
      case '_outputFormat':
        if (!NDJSON_FORMATS.has(value)) throw invalid(`_outputFormat '${value.slice(0, 60)}' is not supported: this server writes application/fhir+ndjson`, name);
        break;
      case '_since':
        result.since = parseInstant(value, '_since');
        break;
      case '_type':
        for (const type of value.split(',').map((t) => t.trim()).filter(Boolean)) {
          if (!ctx.validator.isResourceType(type)) unsupported(`_type names '${type.slice(0, 60)}', which is not a FHIR R4 resource type`, name);
          else if (!result.types?.includes(type)) (result.types ??= []).push(type);
        }
        break;
      case '_typeFilter':
        for (const query of splitTypeFilter(value)) {
          const match = /^([A-Z][A-Za-z]+)\?(.*)$/.exec(query);
          if (!match || !ctx.validator.isResourceType(match[1] as string)) {
            throw invalid(`_typeFilter '${query.slice(0, 80)}' is not a search such as Observation?code=http://loinc.org|8867-4`, name);
          }
          (result.typeFilters[match[1] as string] ??= []).push(match[2] as string);
        }
        break;
      default:
        unsupported(`The $export parameter '${name.slice(0, 60)}' is not supported by this server`, name);
    }
  }
  if (result.types) {
    for (const type of Object.keys(result.typeFilters)) {
      if (!result.types.includes(type)) {
        issues.push({ severity: 'warning', code: 'informational', diagnostics: `_typeFilter for ${type} has no effect: ${type} is not in _type`, expression: ['_typeFilter'] });
      }
    }
  }
  return result;
}

/**
 * `_typeFilter` may repeat, and one value may hold several searches separated by commas (the 1.0 form). A comma
 * inside a search separates alternative values (`code=a,b`), so a value is split only before `Type?`.
 */
function splitTypeFilter(value: string): string[] {
  return value.split(/,(?=[A-Z][A-Za-z]+\?)/).filter(Boolean);
}

/** Kick-off by POST carries a Parameters resource (https://hl7.org/fhir/uv/bulkdata/export.html#bulk-data-kick-off-request). */
function bodyParameters(body: unknown): Array<[string, string]> {
  if (body === undefined) return [];
  const parameters = body as Parameters;
  if (parameters?.resourceType !== 'Parameters') throw invalid('The body of a $export kick-off must be a Parameters resource');
  return (parameters.parameter ?? []).map((p) => {
    const value = p.valueString ?? p.valueInstant ?? p.valueCode ?? p.valueDateTime ?? p.valueUri;
    return [String(p.name), typeof value === 'string' ? value : ''];
  });
}
