/**
 * The one SearchParameter registry: the same definitions decide what is indexed at write time (src/search/extract)
 * and how queries compile (https://hl7.org/fhir/R4/searchparameter-registry.html, https://hl7.org/fhir/R4/search.html).
 * Base definitions come from the build artifact; profiles and the API add more with `add()`.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { SearchParameter } from 'fhir/r4';
import { FhirError } from '../../core/errors';
import { SEARCH_PARAMETERS_FILE, searchArtifactsDir } from './artifacts';
import { compileNodes } from './fhirpath';
import { sharedEntries, type EntrySharing } from './shared-entries';
import { rewriteForIndexing, specialiseExpression } from './specialise';
import {
  SEARCH_PARAM_TYPES,
  type CompactSearchParam,
  type CompositeComponentDef,
  type SearchDefinitionsArtifact,
  type SearchParamDef,
  type SearchParamType,
} from './types';

const RESOURCE_LEVEL = 'Resource';
const DOMAIN_RESOURCE_LEVEL = 'DomainResource';

export class SearchRegistry {
  /** resource type -> code -> definition specialised for that type (Resource-level ones included). */
  private readonly byType = new Map<string, Map<string, SearchParamDef>>();
  private readonly byUrl = new Map<string, CompactSearchParam>();
  private readonly domainResourceTypes = new Set<string>();
  private readonly allTypes: string[];
  private changes = 0;
  /** sharedEntries() of each type asked for, at the revision it was computed for. */
  private readonly sharing = new Map<string, { revision: number; byCode: Map<string, EntrySharing> }>();
  /** The codes that borrow on any type (borrows()), at the revision they were collected for. */
  private borrowing: { revision: number; codes: Set<string> } | undefined;

  private constructor(artifact: SearchDefinitionsArtifact) {
    this.allTypes = artifact.resourceTypes.map((t) => t.type);
    for (const t of artifact.resourceTypes) {
      this.byType.set(t.type, new Map());
      if (t.domainResource) this.domainResourceTypes.add(t.type);
    }
    for (const param of artifact.params) this.register(param);
  }

  /** The R4 base parameters from generated/search (run `npm run build:defs` first). */
  static loadBase(options: { definitionsDir?: string } = {}): SearchRegistry {
    const file = path.join(searchArtifactsDir(options.definitionsDir), SEARCH_PARAMETERS_FILE);
    let artifact: SearchDefinitionsArtifact;
    try {
      artifact = JSON.parse(fs.readFileSync(file, 'utf8')) as SearchDefinitionsArtifact;
    } catch (err) {
      throw new FhirError('fault', `search definitions unreadable at ${file} (run npm run build:defs): ${(err as Error).message}`);
    }
    return new SearchRegistry(artifact);
  }

  /** The parameter `code` as it applies to `resourceType`, with its expression specialised for that type. */
  get(resourceType: string, code: string): SearchParamDef | undefined {
    return this.byType.get(resourceType)?.get(code);
  }

  /** Every parameter that applies to `resourceType`, including the Resource-level ones (_id, _lastUpdated, _tag, ...). */
  forType(resourceType: string): SearchParamDef[] {
    return [...(this.byType.get(resourceType)?.values() ?? [])];
  }

  /**
   * The parameters of `resourceType` that borrow index entries from others instead of storing their own copy,
   * by code (src/search/registry/shared-entries.ts).
   */
  sharedEntries(resourceType: string): ReadonlyMap<string, EntrySharing> {
    const cached = this.sharing.get(resourceType);
    if (cached && cached.revision === this.changes) return cached.byCode;
    const byCode = sharedEntries(this.forType(resourceType));
    this.sharing.set(resourceType, { revision: this.changes, byCode });
    return byCode;
  }

  /** Whether `code` borrows index entries on some resource type (most codes never do: queries on them need no widening). */
  borrows(code: string): boolean {
    if (this.borrowing?.revision !== this.changes) {
      const codes = new Set<string>();
      for (const type of this.allTypes) for (const borrower of this.sharedEntries(type).keys()) codes.add(borrower);
      this.borrowing = { revision: this.changes, codes };
    }
    return this.borrowing.codes.has(code);
  }

  /** The parameters whose index entries a query on `code` of `resourceType` matches: the code, and those it borrows from. */
  entryCodes(resourceType: string, code: string): readonly string[] {
    const sharing = this.sharedEntries(resourceType).get(code);
    return sharing ? [code, ...sharing.borrowsFrom] : [code];
  }

  /** The parameter with this canonical URL as defined for `resourceType` (e.g. a composite's component). */
  getByUrl(url: string, resourceType: string): SearchParamDef | undefined {
    const param = this.byUrl.get(url);
    return param ? this.get(resourceType, param.code) : undefined;
  }

  /** Every resource type known to the server, sorted. */
  resourceTypes(): string[] {
    return [...this.allTypes];
  }

  /** Incremented by every `add()`, so consumers caching per-type plans know when to rebuild them. */
  get revision(): number {
    return this.changes;
  }

  /**
   * Registers a SearchParameter resource (from a profile or created through the API); a parameter with the
   * same code on the same base is replaced. Throws FhirError('unprocessable') when it cannot be used.
   */
  add(sp: SearchParameter): SearchParamDef {
    const param = this.validate(sp);
    this.register(param);
    this.changes++;
    return definitionFor(param, param.base[0]);
  }

  /** Throws FhirError('unprocessable') when `add(sp)` would refuse it; changes nothing. */
  check(sp: SearchParameter): void {
    this.validate(sp);
  }

  private validate(sp: SearchParameter): CompactSearchParam {
    const problems: string[] = [];
    if (sp?.resourceType !== 'SearchParameter') problems.push('resourceType must be SearchParameter');
    if (!sp?.url) problems.push('url is required');
    if (!sp?.code || !/^[A-Za-z0-9_][A-Za-z0-9_.\-]*$/.test(sp.code)) problems.push(`code '${sp?.code ?? ''}' is not a valid search parameter name`);
    if (!SEARCH_PARAM_TYPES.includes(sp?.type as SearchParamType)) problems.push(`type '${sp?.type ?? ''}' is not a search parameter type`);
    const bases = sp?.base ?? [];
    if (!bases.length) problems.push('base is required');
    for (const base of bases) {
      if (base !== RESOURCE_LEVEL && base !== DOMAIN_RESOURCE_LEVEL && !this.byType.has(base)) problems.push(`base '${base}' is not a resource type`);
    }
    if (sp?.type !== 'special' && !sp?.expression) problems.push(`a ${sp?.type ?? ''} parameter needs an expression`);
    if (sp?.expression) {
      for (const base of bases) {
        const expression = specialiseExpression(sp.expression, base);
        if (expression.includes('resolve(')) {
          problems.push(`expression '${sp.expression}' uses resolve() other than as where(resolve() is Type), which cannot be indexed`);
          break;
        }
        try {
          compileNodes(expression);
        } catch (err) {
          problems.push(`expression '${sp.expression}' does not compile: ${(err as Error).message}`);
          break;
        }
      }
    }
    if (sp?.type === 'composite') {
      if (!sp.component?.length) problems.push('a composite parameter needs components');
      for (const c of sp.component ?? []) {
        if (!this.byUrl.has(c.definition)) problems.push(`component definition '${c.definition}' is not a known search parameter`);
        try {
          compileNodes(c.expression);
        } catch (err) {
          problems.push(`component expression '${c.expression}' does not compile: ${(err as Error).message}`);
        }
      }
    }
    if (problems.length) {
      throw new FhirError(
        'unprocessable',
        problems.map((diagnostics) => ({ severity: 'error' as const, code: 'processing' as const, diagnostics })),
      );
    }
    return {
      code: sp.code,
      url: sp.url,
      type: sp.type as SearchParamType,
      base: [...bases],
      ...(sp.expression ? { expression: sp.expression } : {}),
      ...(sp.target?.length ? { target: [...sp.target] } : {}),
      ...(sp.modifier?.length ? { modifier: [...sp.modifier] } : {}),
      ...(sp.comparator?.length ? { comparator: [...sp.comparator] } : {}),
      ...(sp.component?.length ? { component: sp.component.map((c: { definition: string; expression: string }) => this.componentOf(c.definition, c.expression)) } : {}),
      ...(sp.multipleOr !== undefined ? { multipleOr: sp.multipleOr } : {}),
      ...(sp.multipleAnd !== undefined ? { multipleAnd: sp.multipleAnd } : {}),
      ...(sp.description ? { description: sp.description } : {}),
    };
  }

  private componentOf(definition: string, expression: string): CompositeComponentDef {
    const def = this.byUrl.get(definition);
    return { definition, expression, ...(def ? { code: def.code, type: def.type } : {}) };
  }

  private register(param: CompactSearchParam): void {
    this.byUrl.set(param.url, param);
    for (const base of param.base) {
      const types =
        base === RESOURCE_LEVEL ? this.allTypes : base === DOMAIN_RESOURCE_LEVEL ? [...this.domainResourceTypes] : [base];
      const def = definitionFor(param, base);
      for (const type of types) this.byType.get(type)?.set(param.code, def);
    }
  }
}

/** The definition as seen from resource types of `base` (Resource-level expressions apply to every type as written). */
function definitionFor(param: CompactSearchParam, base: string): SearchParamDef {
  const expression = param.expression ? (param.expressions?.[base] ?? specialiseExpression(param.expression, base)) : undefined;
  const def: SearchParamDef = { code: param.code, url: param.url, type: param.type, base: param.base };
  if (expression !== undefined) def.expression = expression;
  if (param.target) def.target = param.target;
  if (param.modifier) def.modifier = param.modifier;
  if (param.comparator) def.comparator = param.comparator;
  if (param.component) def.component = param.component.map((c) => ({ ...c, expression: rewriteForIndexing(c.expression) }));
  if (param.multipleOr !== undefined) def.multipleOr = param.multipleOr;
  if (param.multipleAnd !== undefined) def.multipleAnd = param.multipleAnd;
  if (param.description) def.description = descriptionFor(param.description, base);
  return def;
}

/** From a "Multiple Resources:" description, the line about `base` (`* [Observation](observation.html): text`). */
function descriptionFor(description: string, base: string): string {
  if (!description.startsWith('Multiple Resources')) return description;
  const line = description.split(/\r?\n/).find((l) => l.startsWith(`* [${base}](`));
  return line ? line.slice(line.indexOf('): ') + 3).trim() : description;
}
