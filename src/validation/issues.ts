/**
 * AJV errors against the generated R4 schemas, turned into OperationOutcome issues with FHIRPath expressions
 * (https://hl7.org/fhir/R4/operationoutcome.html, codes from https://hl7.org/fhir/R4/valueset-issue-type.html).
 */
import type { ErrorObject } from 'ajv';
import type { OperationOutcomeIssue } from '../core/outcome';
import type { ElementRules } from './definitions-format';
import type { FoundCoding } from './coding-binding';
import { errorData, type FhirKeywordParams } from './schema-keywords';

/** Value sets with more codes than this are named in diagnostics without listing them. */
const MAX_LISTED_CODES = 12;

/** JSON pointer below a resource ('/name/0/given/1') as a FHIRPath expression ('Patient.name[0].given[1]'). */
export function fhirPath(resourceType: string, instancePath: string): string {
  if (!instancePath) return resourceType;
  let path = resourceType;
  for (const raw of instancePath.slice(1).split('/')) {
    const segment = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    path += /^\d+$/.test(segment) ? `[${segment}]` : `.${segment}`;
  }
  return path;
}

/**
 * One issue per problem: duplicates dropped, and a value with a bad format is not also reported against its value
 * set or the calendar (nor is a Coding or CodeableConcept whose code or system has a bad format).
 */
export function issuesFromErrors(resourceType: string, errors: readonly ErrorObject[]): OperationOutcomeIssue[] {
  const issues: OperationOutcomeIssue[] = [];
  const seen = new Set<string>();
  const badFormat = errors.filter((e) => e.keyword === 'pattern').map((e) => e.instancePath);
  const hasBadFormat = (path: string, within: boolean): boolean => badFormat.some((p) => p === path || (within && p.startsWith(`${path}/`)));
  for (const error of errors) {
    if ((error.keyword === 'fhirBinding' || error.keyword === 'fhirCalendar') && hasBadFormat(error.instancePath, false)) continue;
    if (error.keyword === 'fhirCodingBinding' && hasBadFormat(error.instancePath, true)) continue;
    const issue = issueFromError(resourceType, error);
    const key = `${issue.code}|${issue.expression?.[0]}|${issue.diagnostics}`;
    if (seen.has(key)) continue;
    seen.add(key);
    issues.push(issue);
  }
  return issues;
}

function issue(code: OperationOutcomeIssue['code'], expression: string, diagnostics: string): OperationOutcomeIssue {
  return { severity: 'error', code, diagnostics, expression: [expression] };
}

const describe = (value: unknown): string => {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') return `the string '${value.length > 60 ? `${value.slice(0, 60)}...` : value}'`;
  return `${typeof value} ${String(value)}`;
};

function issueFromError(resourceType: string, error: ErrorObject): OperationOutcomeIssue {
  const at = fhirPath(resourceType, error.instancePath);
  const fhirType = (error.parentSchema as { fhirType?: string } | undefined)?.fhirType;
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'additionalProperties':
      return unknownElement(at, String(params.additionalProperty), error.parentSchema as { fhirElement?: ElementRules } | undefined);
    case 'required':
      return issue('required', `${at}.${String(params.missingProperty)}`, `Missing required element '${String(params.missingProperty)}' in ${at}`);
    case 'minItems':
      return issue('required', at, `${at}: at least ${String(params.limit)} item(s) required, found ${arrayLength(errorData(error))}`);
    case 'maxItems':
      return issue('structure', at, `${at}: at most ${String(params.limit)} item(s) allowed, found ${arrayLength(errorData(error))}`);
    case 'type':
      return wrongType(at, String(params.type), fhirType, errorData(error));
    case 'const':
      return issue('structure', at, `${at}: expected '${String(params.allowedValue)}', found ${describe(errorData(error))}`);
    case 'pattern':
      if (errorData(error) === '') return issue('value', at, `${at}: a ${fhirType ?? 'primitive'} value must not be empty (omit the element instead)`);
      return issue('value', at, `${at}: ${describe(errorData(error))} is not a valid ${fhirType ?? 'value'}`);
    case 'minimum':
    case 'maximum':
      return issue('value', at, `${at}: ${String(errorData(error))} is out of range for ${fhirType ?? 'this element'} (${String(params.comparison)} ${String(params.limit)})`);
    default:
      if (['fhirElement', 'fhirBinding', 'fhirCodingBinding', 'fhirCalendar', 'fhirResource'].includes(error.keyword)) return fhirKeywordIssue(resourceType, at, params as FhirKeywordParams);
      return issue('structure', at, `${at}: ${error.message ?? error.keyword}`);
  }
}

const arrayLength = (data: unknown): number => (Array.isArray(data) ? data.length : 0);

function wrongType(at: string, expected: string, fhirType: string | undefined, data: unknown): OperationOutcomeIssue {
  const typed = (json: string): string => `${json}${fhirType && !json.endsWith(fhirType) ? ` (${fhirType})` : ''}`;
  const expectations: Record<string, string> = {
    object: 'a JSON object',
    array: 'a JSON array (the element repeats)',
    string: typed('a string'),
    number: typed('a number'),
    integer: typed('an integer'),
    boolean: 'true or false',
  };
  const [jsonType, nullable] = expected.split(',');
  const expectation = `${expectations[jsonType] ?? jsonType}${nullable ? ' or null' : ''}`;
  const found = Array.isArray(data) && expected !== 'array' ? 'an array (the element does not repeat)' : describe(data);
  return issue('structure', at, `${at}: expected ${expectation}, found ${found}`);
}

function unknownElement(parent: string, name: string, parentSchema: { fhirElement?: ElementRules } | undefined): OperationOutcomeIssue {
  const choice = parentSchema?.fhirElement?.choices?.find((c) => name.startsWith(c.name) && name.length > c.name.length && /^[A-Z]/.test(name.slice(c.name.length)));
  if (choice) {
    const types = choice.variants.map((v) => v.slice(choice.name.length)).join(', ');
    return issue('structure', `${parent}.${name}`, `Unknown element '${name}' in ${parent}: ${choice.name}[x] allows only the types ${types}`);
  }
  return issue('structure', `${parent}.${name}`, `Unknown element '${name}' in ${parent}`);
}

function fhirKeywordIssue(resourceType: string, at: string, params: FhirKeywordParams): OperationOutcomeIssue {
  switch (params.problem) {
    case 'choice-multiple':
      return issue('structure', at, `${parentOf(at)}: only one of ${params.present.join(', ')} may be present (${params.element}[x] is a choice of types)`);
    case 'choice-missing':
      return issue('required', at, `Missing required element '${params.element}[x]' in ${parentOf(at)} (one of ${params.allowed.join(', ')})`);
    case 'required-primitive':
      return issue('required', at, `Missing required element '${params.element}' in ${parentOf(at)}`);
    case 'primitive-null':
      return issue('structure', at, `${at}: null is only allowed where the aligned _${params.element} entry carries an id or extension`);
    case 'primitive-misaligned':
      return issue(
        'structure',
        at,
        `${at}: has ${params.extensions} entries but ${params.element} has ${params.values}; the arrays must align one to one (use null for gaps)`,
      );
    case 'binding': {
      const listed = params.codes.length <= MAX_LISTED_CODES ? ` (${params.codes.join(' | ')})` : '';
      return issue('code-invalid', at, `${at}: '${params.code}' is not in the required value set ${params.valueSet}${listed}`);
    }
    case 'coding-binding':
      return codingBindingIssue(at, params);
    case 'calendar':
      return issue('value', at, `${at}: '${params.value}' is not a valid ${params.fhirType}: that day does not exist in its month`);
    case 'resource-not-object':
      return issue('structure', at, `${at}: expected a resource (a JSON object with resourceType)`);
    case 'resource-type-missing':
      return issue('required', `${at}.resourceType`, `Missing required element 'resourceType' in ${at}`);
    case 'resource-type-unknown':
      return issue('structure', `${at}.resourceType`, `${at}: '${params.resourceType}' is not an R4 resource type (in ${resourceType})`);
  }
}

const parentOf = (path: string): string => path.replace(/(\.[^.[\]]+|\[\d+\])$/, '');

/** Allowed concepts in diagnostics: all of them when the list is short, else only the value set's url. */
const allowedConcepts = (concepts: readonly string[]): string => (concepts.length <= MAX_LISTED_CODES ? ` (${concepts.join(' | ')})` : '');

const describeCoding = ({ system, code }: FoundCoding): string => `${system ?? '(no system)'}|${code ?? '(no code)'}`;

/** https://hl7.org/fhir/R4/terminologies.html#required on a Coding or CodeableConcept. */
function codingBindingIssue(at: string, params: Extract<FhirKeywordParams, { problem: 'coding-binding' }>): OperationOutcomeIssue {
  const required = `the required value set ${params.valueSet}${allowedConcepts(params.concepts)}`;
  if (params.type === 'Coding') {
    const found = params.codings[0] ?? {};
    return issue('code-invalid', at, `${at}: '${describeCoding(found)}' is not in ${required}`);
  }
  if (!params.codings.length) return issue('code-invalid', at, `${at}: has no coding, but a code from ${required} is required`);
  const found = params.codings.map((c) => `'${describeCoding(c)}'`).join(', ');
  return issue('code-invalid', at, `${at}: none of the codings (${found}) is in ${required}`);
}
