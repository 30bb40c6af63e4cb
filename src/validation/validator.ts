/**
 * Structural validation of resources against the R4 base definitions (https://hl7.org/fhir/R4/validation.html):
 * one AJV validator per resource type, compiled on first use from generated/validation/definitions.json,
 * dispatched on resourceType (never one schema for all types).
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import Ajv, { type ValidateFunction } from 'ajv';
import { FhirError } from '../core/errors';
import type { OperationOutcomeIssue } from '../core/outcome';
import { DEFINITIONS_FILE, DEFINITIONS_FORMAT, type ValidationDefinitions } from './definitions-format';
import { checkJsonSafety, DEFAULT_JSON_LIMITS } from './guards';
import { issuesFromErrors } from './issues';
import { INVARIANTS_FILE, INVARIANTS_FORMAT, type InvariantDefinitions } from './invariants-format';
import { Invariants } from './invariants';
import type { ProfileRegistry } from './profiles';
import { isRuleIssue } from './rule-issues';
import { registerFhirKeywords, type ResourceValidateFunction } from './schema-keywords';

export interface ResourceValidator {
  /**
   * Every problem with this resource against the R4 base definitions and their invariants, and (when the structure
   * is valid) against the profiles it claims in meta.profile, those required for its type, and `options.profiles`;
   * warnings included; [] when valid.
   */
  validate(resource: unknown, options?: { profiles?: string[] }): OperationOutcomeIssue[];
  /** True for the R4 resource type names (and only those). */
  isResourceType(type: string): boolean;
  readonly resourceTypes: readonly string[];
}

export function loadBaseValidator(options: { definitionsDir?: string; profiles?: ProfileRegistry } = {}): ResourceValidator {
  const dir = options.definitionsDir ?? findDefinitionsDir();
  const file = join(dir, DEFINITIONS_FILE);
  if (!existsSync(file)) throw new FhirError('fault', `Validation definitions not found at ${file}; run 'npm run build:defs'`);
  const definitions = JSON.parse(readFileSync(file, 'utf8')) as ValidationDefinitions;
  if (definitions.format !== DEFINITIONS_FORMAT) {
    throw new FhirError('fault', `Validation definitions at ${file} have format ${definitions.format}, expected ${DEFINITIONS_FORMAT}; run 'npm run build:defs'`);
  }
  const invariants = new Invariants(readInvariants(dir));
  options.profiles?.useConstraintCompiler((c, path, typeCode) => invariants.compileAt(c, path, typeCode));
  return new SchemaValidator(definitions, invariants, options.profiles);
}

function readInvariants(dir: string): InvariantDefinitions {
  const file = join(dir, INVARIANTS_FILE);
  if (!existsSync(file)) throw new FhirError('fault', `Invariant definitions not found at ${file}; run 'npm run build:defs'`);
  const invariants = JSON.parse(readFileSync(file, 'utf8')) as InvariantDefinitions;
  if (invariants.format !== INVARIANTS_FORMAT) {
    throw new FhirError('fault', `Invariant definitions at ${file} have format ${invariants.format}, expected ${INVARIANTS_FORMAT}; run 'npm run build:defs'`);
  }
  return invariants;
}

/**
 * How a write that fails validation is refused (https://hl7.org/fhir/R4/http.html#2.21.0.9): 400 when the content is
 * not valid FHIR structure (unknown elements, wrong types, cardinality, formats), 422 when it is well-formed but
 * breaks the rules of the definitions (invariants, and profiles).
 */
export function rejectionCategory(issues: readonly OperationOutcomeIssue[]): 'incorrect' | 'unprocessable' {
  const errors = issues.filter((i) => i.severity === 'error' || i.severity === 'fatal');
  return errors.length && errors.every(isRuleIssue) ? 'unprocessable' : 'incorrect';
}

/** generated/validation next to the package root, found from this file both under src/ (tsx) and dist/src/ (built). */
function findDefinitionsDir(): string {
  for (let dir = __dirname; ; dir = dirname(dir)) {
    const candidate = join(dir, 'generated', 'validation');
    if (existsSync(join(candidate, DEFINITIONS_FILE))) return candidate;
    if (dirname(dir) === dir) return join(process.cwd(), 'generated', 'validation');
  }
}

/**
 * Nesting deep enough to exhaust the stack in AJV's recursive validators is reported, not thrown; size limits on
 * request bodies are the HTTP layer's policy (checkJsonSafety with its defaults, before validation).
 */
const STRUCTURAL_LIMITS = { maxDepth: DEFAULT_JSON_LIMITS.maxDepth, maxArrayLength: Infinity, maxKeys: Infinity };

/**
 * Two AJV instances over the same schemas: a fast one that stops at the first error answers the common valid case,
 * and one collecting all errors (verbose, for messages) runs only for resources that fail.
 */
class SchemaValidator implements ResourceValidator {
  readonly resourceTypes: readonly string[];
  private readonly types: ReadonlySet<string>;
  private readonly fast: CompiledSchemas;
  private readonly full: CompiledSchemas;

  constructor(
    definitions: ValidationDefinitions,
    private readonly invariants: Invariants,
    private readonly profiles?: ProfileRegistry,
  ) {
    this.resourceTypes = Object.freeze([...definitions.resourceTypes]);
    this.types = new Set(definitions.resourceTypes);
    this.fast = new CompiledSchemas(definitions, this.types, false);
    this.full = new CompiledSchemas(definitions, this.types, true);
  }

  isResourceType(type: string): boolean {
    return this.types.has(type);
  }

  validate(resource: unknown, options: { profiles?: string[] } = {}): OperationOutcomeIssue[] {
    if (typeof resource !== 'object' || resource === null || Array.isArray(resource)) {
      return [{ severity: 'error', code: 'structure', diagnostics: 'A resource must be a JSON object with a resourceType' }];
    }
    const type = (resource as { resourceType?: unknown }).resourceType;
    if (typeof type !== 'string') {
      return [{ severity: 'error', code: 'required', diagnostics: 'Missing required element resourceType', expression: ['resourceType'] }];
    }
    if (!this.types.has(type)) {
      return [{ severity: 'error', code: 'structure', diagnostics: `'${type}' is not an R4 resource type`, expression: ['resourceType'] }];
    }
    try {
      if (this.fast.validator(type)(resource)) {
        // The invariants' walk visits every element: it finds the extensions the profile registry checks.
        const extensions = this.profiles?.checksExtensions ? this.profiles.extensionCollector() : undefined;
        const issues = this.invariants.check(resource as Record<string, unknown>, extensions);
        if (!this.profiles) return issues;
        const profileIssues = this.profiles.validate(resource as Record<string, unknown>, options.profiles, extensions?.found);
        return profileIssues.length ? [...issues, ...profileIssues] : issues;
      }
      const validateAll = this.full.validator(type);
      validateAll(resource);
      return issuesFromErrors(type, validateAll.errors ?? []);
    } catch (err) {
      if (!(err instanceof RangeError)) throw err;
      const unsafe = checkJsonSafety(resource, STRUCTURAL_LIMITS);
      if (unsafe.length) return unsafe;
      throw err;
    }
  }
}

/** Lazily compiled per-type validators of one AJV instance. */
class CompiledSchemas {
  private readonly ajv: Ajv;
  private readonly compiled = new Map<string, ValidateFunction>();

  constructor(
    definitions: ValidationDefinitions,
    private readonly types: ReadonlySet<string>,
    allErrors: boolean,
  ) {
    this.ajv = new Ajv({
      allErrors,
      verbose: allErrors,
      messages: false,
      validateSchema: false,
      addUsedSchema: false,
      unicodeRegExp: false,
      strict: true,
      strictTypes: false,
    });
    registerFhirKeywords(this.ajv, {
      valueSets: definitions.valueSets,
      codingValueSets: definitions.codingValueSets,
      resourceValidator: (type) => (this.types.has(type) ? (this.validator(type) as ResourceValidateFunction) : undefined),
    });
    for (const schema of Object.values(definitions.schemas)) this.ajv.addSchema(schema);
  }

  validator(type: string): ValidateFunction {
    let validate = this.compiled.get(type);
    if (!validate) {
      validate = this.ajv.getSchema(type);
      if (!validate) throw new FhirError('fault', `No schema for resource type ${type}`);
      this.compiled.set(type, validate);
    }
    return validate;
  }
}
