/**
 * The AJV keywords the generated R4 schemas use beyond standard JSON Schema (see definitions-format.ts).
 * Each reports one error per problem, so a broken choice or primitive array never cascades.
 */
import type Ajv from 'ajv';
import type { ValidateFunction } from 'ajv';
import type { DataValidateFunction, DataValidationCxt, ErrorObject } from 'ajv/dist/types';
import { isExistingCalendarDay } from './calendar';
import { checkCodingBinding, type CodedType, type FoundCoding } from './coding-binding';
import type { ElementRules } from './definitions-format';

/** Error params of the keywords below, read back by issues.ts. */
export type FhirKeywordParams =
  | { problem: 'choice-multiple'; element: string; present: string[] }
  | { problem: 'choice-missing'; element: string; allowed: string[] }
  | { problem: 'required-primitive'; element: string }
  | { problem: 'primitive-null'; element: string; index: number }
  | { problem: 'primitive-misaligned'; element: string; values: number; extensions: number }
  | { problem: 'binding'; valueSet: string; code: string; codes: readonly string[] }
  | { problem: 'coding-binding'; type: CodedType; valueSet: string; codings: FoundCoding[]; concepts: readonly string[] }
  | { problem: 'calendar'; value: string; fhirType: string }
  | { problem: 'resource-not-object' }
  | { problem: 'resource-type-missing' }
  | { problem: 'resource-type-unknown'; resourceType: string };

/** A compiled per-type validator: returns validity and leaves the errors of the last failed call in `errors`. */
export interface ResourceValidateFunction {
  (resource: Record<string, unknown>): boolean;
  errors?: ErrorObject[] | null;
}

export interface KeywordContext {
  valueSets: Record<string, readonly string[]>;
  /** `system|code` of each concept, per value set bound to Coding or CodeableConcept elements. */
  codingValueSets: Record<string, readonly string[]>;
  /** The compiled validator of a resource type, or undefined when it is not an R4 resource type. */
  resourceValidator(type: string): ResourceValidateFunction | undefined;
}

type JsonObject = Record<string, unknown>;

/**
 * With `verbose`, AJV overwrites `data` of every error a keyword returns with the keyword's own data (the parent
 * object); nested errors keep the value they are about in `fhirData`. Read it back with errorData().
 */
type ErrorWithData = ErrorObject & { fhirData?: unknown };

function keepData(error: ErrorWithData): ErrorWithData {
  return 'fhirData' in error ? { ...error } : { ...error, fhirData: error.data };
}

/** The JSON value an error is about. */
export const errorData = (error: ErrorObject): unknown => ('fhirData' in error ? (error as ErrorWithData).fhirData : error.data);

const fhirError = (keyword: string, instancePath: string, params: FhirKeywordParams): ErrorObject =>
  ({ keyword, instancePath, schemaPath: '', params }) as ErrorObject;

export function registerFhirKeywords(ajv: Ajv, context: KeywordContext): void {
  ajv.addKeyword({ keyword: 'fhirType', schemaType: 'string' });
  ajv.addKeyword({
    keyword: 'fhirElement',
    type: 'object',
    schemaType: 'object',
    errors: true,
    compile: (rules: ElementRules, _parent, it) => compileElementRules(rules, it.self),
  });
  ajv.addKeyword({
    keyword: 'fhirBinding',
    type: 'string',
    schemaType: 'string',
    errors: true,
    compile: (url: string) => compileBinding(url, context.valueSets[url] ?? []),
  });
  ajv.addKeyword({
    keyword: 'fhirCodingBinding',
    type: 'object',
    schemaType: 'object',
    errors: true,
    compile: ({ valueSet, type }: CodingBindingSchema) => compileCodingBinding(valueSet, type, context.codingValueSets[valueSet] ?? []),
  });
  ajv.addKeyword({
    keyword: 'fhirCalendar',
    type: 'string',
    schemaType: 'boolean',
    errors: true,
    compile: (_enabled: boolean, parentSchema) => compileCalendar(String((parentSchema as { fhirType?: string }).fhirType ?? 'date')),
  });
  ajv.addKeyword({
    keyword: 'fhirResource',
    schemaType: 'boolean',
    errors: true,
    compile: () => compileNestedResource(context),
  });
}

/**
 * Choice types (https://hl7.org/fhir/R4/formats.html#choice), required primitives that may be carried by `_x`
 * alone, and aligned `x`/`_x` arrays (https://hl7.org/fhir/R4/json.html#primitive). Runs for every object of its
 * type, so the happy path only walks the object's own keys and allocates nothing.
 */
function compileElementRules(rules: ElementRules, ajv: Ajv): DataValidateFunction {
  const choices = rules.choices ?? [];
  /** Property name (`valueString` or `_valueString`) -> its choice, variant and (compiled on first use) validator. */
  const variantOf = new Map<string, Variant>();
  choices.forEach((choice, index) => {
    for (const [property, schema] of Object.entries(choice.schemas)) {
      const variant = property.startsWith('_') ? property.slice(1) : property;
      variantOf.set(property, { index, variant, property, schema, validate: undefined });
    }
  });
  const seen: Array<string | undefined> = new Array(choices.length);
  const required = (rules.requiredPrimitives ?? []).map((name) => [name, `_${name}`] as const);
  const arrays = (rules.primitiveArrays ?? []).map((name) => [name, `_${name}`] as const);

  const validate: DataValidateFunction = (data: JsonObject, cxt?: DataValidationCxt): boolean => {
    let errors: ErrorObject[] | null = null;
    if (choices.length) {
      seen.fill(undefined);
      let conflict = false;
      for (const key in data) {
        const hit = variantOf.get(key);
        if (hit === undefined || data[key] === undefined) continue;
        const previous = seen[hit.index];
        if (previous === undefined) seen[hit.index] = hit.variant;
        else if (previous !== hit.variant) conflict = true;
        hit.validate ??= ajv.compile(hit.schema);
        if (!hit.validate(data[key], variantContext(cxt, data, key))) errors = [...(errors ?? []), ...(hit.validate.errors ?? []).map(keepData)];
      }
      for (let i = 0; i < choices.length; i++) {
        if (seen[i] === undefined && choices[i].required) {
          errors = choiceMissing(errors, choices[i], cxt);
        }
      }
      if (conflict) errors = choiceConflicts(errors, data, choices, cxt);
    }
    for (let i = 0; i < required.length; i++) {
      const [name, extensionName] = required[i];
      if (data[name] === undefined && data[extensionName] === undefined) {
        errors = push(errors, `${cxt?.instancePath ?? ''}/${name}`, { problem: 'required-primitive', element: name });
      }
    }
    for (let i = 0; i < arrays.length; i++) {
      const [name, extensionName] = arrays[i];
      const values = data[name];
      const extensions = data[extensionName];
      if (extensions === undefined && Array.isArray(values) && values.indexOf(null) === -1) continue;
      errors = checkPrimitiveArray(errors, name, values, extensions, cxt);
    }
    validate.errors = errors ?? undefined;
    return errors === null;
  };
  return validate;
}

interface Variant {
  index: number;
  variant: string;
  property: string;
  schema: Record<string, unknown>;
  validate: ValidateFunction | undefined;
}

/** The variant is validated as if AJV had descended into it, so its errors carry their full instancePath. */
function variantContext(cxt: DataValidationCxt | undefined, data: JsonObject, key: string): DataValidationCxt {
  const base = cxt?.instancePath ?? '';
  return { instancePath: `${base}/${key}`, parentData: data, parentDataProperty: key, rootData: cxt?.rootData ?? data, dynamicAnchors: {} };
}

function push(errors: ErrorObject[] | null, instancePath: string, params: FhirKeywordParams): ErrorObject[] {
  (errors ??= []).push(fhirError('fhirElement', instancePath, params));
  return errors;
}

function choiceMissing(errors: ErrorObject[] | null, choice: Choice, cxt?: DataValidationCxt): ErrorObject[] {
  return push(errors, `${cxt?.instancePath ?? ''}/${choice.name}`, { problem: 'choice-missing', element: choice.name, allowed: choice.variants });
}

function choiceConflicts(errors: ErrorObject[] | null, data: JsonObject, choices: Choice[], cxt?: DataValidationCxt): ErrorObject[] | null {
  for (const choice of choices) {
    const present = choice.variants.filter((v) => data[v] !== undefined || data[`_${v}`] !== undefined);
    if (present.length > 1) errors = push(errors, `${cxt?.instancePath ?? ''}/${choice.name}`, { problem: 'choice-multiple', element: choice.name, present });
  }
  return errors;
}

type Choice = NonNullable<ElementRules['choices']>[number];

function checkPrimitiveArray(
  errors: ErrorObject[] | null,
  name: string,
  values: unknown,
  extensions: unknown,
  cxt?: DataValidationCxt,
): ErrorObject[] | null {
  if (values !== undefined && !Array.isArray(values)) return errors;
  if (extensions !== undefined && !Array.isArray(extensions)) return errors;
  const base = cxt?.instancePath ?? '';
  if (values && extensions && values.length !== extensions.length) {
    return push(errors, `${base}/_${name}`, { problem: 'primitive-misaligned', element: name, values: values.length, extensions: extensions.length });
  }
  const length = values?.length ?? extensions?.length ?? 0;
  for (let i = 0; i < length; i++) {
    if ((values?.[i] ?? null) === null && (extensions?.[i] ?? null) === null) {
      errors = push(errors, `${base}/${values ? name : `_${name}`}/${i}`, { problem: 'primitive-null', element: name, index: i });
    }
  }
  return errors;
}

/** Required binding on a `code` element whose value set the R4 definitions enumerate (https://hl7.org/fhir/R4/terminologies.html#required). */
function compileBinding(url: string, codes: readonly string[]): DataValidateFunction {
  const allowed = new Set(codes);
  const validate: DataValidateFunction = (code: string, cxt?: DataValidationCxt): boolean => {
    if (allowed.has(code)) {
      validate.errors = undefined;
      return true;
    }
    validate.errors = [fhirError('fhirBinding', cxt?.instancePath ?? '', { problem: 'binding', valueSet: url, code, codes })];
    return false;
  };
  return validate;
}

/** Value of the `fhirCodingBinding` keyword. */
export interface CodingBindingSchema {
  valueSet: string;
  type: CodedType;
}

/** Required binding on a Coding or CodeableConcept element (https://hl7.org/fhir/R4/terminologies.html#required). */
function compileCodingBinding(valueSet: string, type: CodedType, concepts: readonly string[]): DataValidateFunction {
  const allowed = new Set(concepts);
  const validate: DataValidateFunction = (data: JsonObject, cxt?: DataValidationCxt): boolean => {
    const problem = checkCodingBinding(type, data, allowed);
    validate.errors = problem && [fhirError('fhirCodingBinding', cxt?.instancePath ?? '', { problem: 'coding-binding', type, valueSet, codings: problem.codings, concepts })];
    return problem === undefined;
  };
  return validate;
}

/** date, dateTime and instant values name a day that exists (https://hl7.org/fhir/R4/datatypes.html#date). */
function compileCalendar(fhirType: string): DataValidateFunction {
  const validate: DataValidateFunction = (value: string, cxt?: DataValidationCxt): boolean => {
    if (isExistingCalendarDay(value)) {
      validate.errors = undefined;
      return true;
    }
    validate.errors = [fhirError('fhirCalendar', cxt?.instancePath ?? '', { problem: 'calendar', value, fhirType })];
    return false;
  };
  return validate;
}

/** A resource inside another (contained, Bundle.entry.resource, Parameters.parameter.resource), validated as its own type. */
function compileNestedResource(context: KeywordContext): DataValidateFunction {
  const validate: DataValidateFunction = (data: unknown, cxt?: DataValidationCxt): boolean => {
    const path = cxt?.instancePath ?? '';
    let errors: ErrorObject[] | null;
    if (typeof data !== 'object' || data === null || Array.isArray(data)) {
      errors = [fhirError('fhirResource', path, { problem: 'resource-not-object' })];
    } else if (typeof (data as JsonObject).resourceType !== 'string') {
      errors = [fhirError('fhirResource', path, { problem: 'resource-type-missing' })];
    } else {
      const type = (data as JsonObject).resourceType as string;
      const resourceValidator = context.resourceValidator(type);
      if (!resourceValidator) errors = [fhirError('fhirResource', path, { problem: 'resource-type-unknown', resourceType: type })];
      else if (resourceValidator(data as JsonObject)) errors = null;
      else errors = (resourceValidator.errors ?? []).map((e) => ({ ...keepData(e), instancePath: path + e.instancePath }));
    }
    validate.errors = errors ?? undefined;
    return errors === null;
  };
  return validate;
}
