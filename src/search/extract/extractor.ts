/**
 * Write-time extraction of search index entries (https://hl7.org/fhir/R4/search.html): evaluates every
 * parameter of the resource's type with its per-type specialised FHIRPath (compiled once, cached per type) and
 * normalises the values into the fields of src/search/index-fields.ts, plus compartment membership.
 */
import type { Resource } from 'fhir/r4';
import { FhirError } from '../../core/errors';
import { CompartmentDefinitions } from '../compartments';
import type { CompositeEntry, IndexFields } from '../index-fields';
import { normaliseBaseUrl } from '../normalise/reference';
import { compileNodes } from '../registry/fhirpath';
import { splitTopLevelUnion } from '../registry/specialise';
import type { SearchRegistry } from '../registry/registry';
import { NOT_INDEXED, type SearchParamDef } from '../registry/types';
import { componentKeys, compositeEntries, type ComponentKey } from './composite-values';
import { dateEntries } from './date-values';
import { numberEntries, quantityEntries, type QuantityMemo } from './quantity-values';
import { referenceEntries } from './reference-values';
import { sortKeyOf } from './sort-keys';
import { stringEntries, uriEntries } from './string-values';
import { tokenEntries } from './token-values';
import { compileSimplePath, type PathValue } from './simple-path';
import { nodePath, typedValue } from './typed-value';

/** Evaluates one union branch: values with their FHIR type and model path. */
type BranchEvaluator = (input: unknown, rootPath: string, env?: Record<string, unknown>) => PathValue[];

interface ParamPlan {
  def: SearchParamDef;
  /** The branches this parameter extracts itself: all of them, or those no parameter it borrows from covers. */
  branches: BranchEvaluator[];
  /** Parameters whose entries count as this one's too (src/search/registry/shared-entries.ts). */
  borrowsFrom?: string[];
}

interface TypePlan {
  revision: number;
  params: ParamPlan[];
  /** The parameters that borrow entries, after the lenders they depend on. */
  borrowing: Array<ParamPlan & { borrowsFrom: string[] }>;
  /** The reference parameters that place this type in a compartment (CompartmentDefinitions.paramsFor). */
  compartmentParams: ParamPlan[];
}

export interface ExtractedIndex {
  idx: IndexFields;
  compartments: string[];
}

export interface IndexExtractorOptions {
  /** The server's base URL: absolute references under it are indexed as local `Type/id` keys. */
  baseUrl: string;
  /** Compartment definitions; loaded from generated/search when omitted. */
  compartments?: CompartmentDefinitions;
}

type EntryArrays = Required<Omit<IndexFields, 'has' | 'so'>>;

export class IndexExtractor {
  private readonly registry: SearchRegistry;
  private readonly baseUrl: string;
  private readonly compartments: CompartmentDefinitions;
  private readonly plans = new Map<string, TypePlan>();
  /** Component evaluators by expression, then element path (`value.ofType(Quantity)`, `Observation.component`). */
  private readonly componentEvaluators = new Map<string, Map<string, BranchEvaluator[]>>();

  constructor(registry: SearchRegistry, options: IndexExtractorOptions) {
    this.registry = registry;
    this.baseUrl = normaliseBaseUrl(options.baseUrl);
    this.compartments = options.compartments ?? CompartmentDefinitions.load();
  }

  /** Index entries and compartments of `resource` (which should already carry its id). */
  extract(resource: Resource): ExtractedIndex {
    const plan = this.planFor(resource.resourceType);
    const arrays: EntryArrays = { str: [], tok: [], ref: [], date: [], num: [], qty: [], uri: [], comp: [] };
    const has: string[] = [];
    const so: Record<string, string | number> = {};
    const memo: QuantityMemo = new Map();
    for (const param of plan.params) {
      const { def } = param;
      const results = param.branches.length ? this.evaluate(def, param.branches, resource, resource.resourceType) : [];
      if (results.length === 0) continue;
      const target = arrays[fieldOf(def)];
      const before = target.length;
      if (def.type === 'composite') this.addComposite(def, results, resource, arrays.comp, memo);
      else this.addValues(def, results, arrays, memo);
      if (target.length === before) continue;
      has.push(def.code);
      const key = sortKeyOf(def.type, target, before);
      if (key !== undefined) so[def.code] = key;
    }
    // A parameter that borrows entries is present, and sorts, by its own entries and its lenders' together.
    for (const { def, borrowsFrom } of plan.borrowing) {
      let present = has.includes(def.code);
      let key = so[def.code];
      for (const lender of borrowsFrom) {
        if (!has.includes(lender)) continue;
        present = true;
        const lent = so[lender];
        if (lent !== undefined && (key === undefined || lent < key)) key = lent;
      }
      if (present && !has.includes(def.code)) has.push(def.code);
      if (key !== undefined) so[def.code] = key;
    }
    const idx: IndexFields = {};
    for (const field of Object.keys(arrays) as Array<keyof EntryArrays>) {
      if (arrays[field].length) (idx as Record<string, unknown>)[field] = arrays[field];
    }
    if (has.length) idx.has = has;
    if (Object.keys(so).length) idx.so = so;
    return { idx, compartments: this.compartments.membership(resource.resourceType, resource.id, arrays.ref) };
  }

  /**
   * The compartments of `resource` alone, as `extract` computes them, evaluating only the parameters that place
   * its type in a compartment (for the audit trail's patients of a returned resource: 2 of Observation's ~30).
   */
  compartmentsOf(resource: Resource): string[] {
    const ref: EntryArrays['ref'] = [];
    for (const { def, branches } of this.planFor(resource.resourceType).compartmentParams) {
      for (const tv of this.evaluate(def, branches, resource, resource.resourceType)) referenceEntries(def.code, tv, this.baseUrl, ref);
    }
    return this.compartments.membership(resource.resourceType, resource.id, ref);
  }

  private evaluate(def: SearchParamDef, branches: BranchEvaluator[], input: unknown, rootPath: string, env?: Record<string, unknown>): PathValue[] {
    try {
      if (branches.length === 1) return branches[0](input, rootPath, env);
      const out: PathValue[] = [];
      for (const branch of branches) for (const v of branch(input, rootPath, env)) out.push(v);
      return out;
    } catch (err) {
      throw new FhirError('unprocessable', `search parameter '${def.code}' cannot be evaluated on this resource: ${(err as Error).message}`);
    }
  }

  private addValues(def: SearchParamDef, results: PathValue[], arrays: EntryArrays, memo: QuantityMemo): void {
    for (const tv of results) {
      switch (def.type) {
        case 'string':
          stringEntries(def.code, tv, arrays.str);
          break;
        case 'token':
          tokenEntries(def.code, tv, arrays.tok);
          break;
        case 'reference':
          referenceEntries(def.code, tv, this.baseUrl, arrays.ref);
          break;
        case 'date':
          dateEntries(def.code, tv, arrays.date);
          break;
        case 'number':
          numberEntries(def.code, tv, arrays.num);
          break;
        case 'quantity':
          quantityEntries(def.code, tv, arrays.qty, memo);
          break;
        case 'uri':
          uriEntries(def.code, tv, arrays.uri);
          break;
        default:
          break;
      }
    }
  }

  private addComposite(def: SearchParamDef, elements: PathValue[], resource: Resource, out: CompositeEntry[], memo: QuantityMemo): void {
    const components = def.component ?? [];
    const env = { resource, rootResource: resource };
    for (const element of elements) {
      // Every component is evaluated, but keys are made only when each one has values: a component without
      // values has no keys, and then the element has no entry (compositeEntries), as for most elements.
      const perValues: PathValue[][] = [];
      for (const component of components) {
        perValues.push(this.evaluate(def, this.componentBranches(element.path, component.expression), element.value, element.path, env));
      }
      if (perValues.some((values) => values.length === 0)) continue;
      const perComponent: ComponentKey[][] = components.map((component, i) => componentKeys(component.type, perValues[i] as PathValue[], this.baseUrl, memo));
      compositeEntries(def.code, perComponent, out);
    }
  }

  private componentBranches(elementPath: string, expression: string): BranchEvaluator[] {
    let byPath = this.componentEvaluators.get(expression);
    if (!byPath) this.componentEvaluators.set(expression, (byPath = new Map()));
    let branches = byPath.get(elementPath);
    if (!branches) {
      branches = compileBranches(expression, elementPath);
      byPath.set(elementPath, branches);
    }
    return branches;
  }

  private planFor(resourceType: string): TypePlan {
    const cached = this.plans.get(resourceType);
    if (cached && cached.revision === this.registry.revision) return cached;
    const params: ParamPlan[] = [];
    const sharing = this.registry.sharedEntries(resourceType);
    for (const def of this.registry.forType(resourceType)) {
      if (!def.expression || def.type === 'special' || NOT_INDEXED.has(def.code)) continue;
      const shared = sharing.get(def.code);
      if (!shared) params.push({ def, branches: compileBranches(def.expression) });
      else params.push({ def, branches: shared.ownBranches.flatMap((branch) => compileBranches(branch)), borrowsFrom: shared.borrowsFrom });
    }
    const inCompartments = new Set(this.compartments.compartmentTypes().flatMap((c) => this.compartments.paramsFor(c, resourceType)));
    const compartmentParams = params.filter((p) => p.def.type === 'reference' && inCompartments.has(p.def.code));
    // Lenders come first (they borrow from narrower parameters only, see sharedEntries): their has/so are final.
    const borrowing = params
      .filter((p): p is ParamPlan & { borrowsFrom: string[] } => p.borrowsFrom !== undefined)
      .sort((a, b) => a.borrowsFrom.length - b.borrowsFrom.length);
    const plan = { revision: this.registry.revision, params, compartmentParams, borrowing };
    this.plans.set(resourceType, plan);
    return plan;
  }
}

/**
 * One evaluator per top-level union branch (no union de-duplication, which compares values deeply and rejects
 * Quantities with comparators): the simple-path walker where it applies, the fhirpath engine otherwise.
 */
function compileBranches(expression: string, basePath?: string): BranchEvaluator[] {
  return splitTopLevelUnion(expression).map((branch): BranchEvaluator => {
    const simple = compileSimplePath(branch, basePath);
    if (simple) return simple;
    const evaluate = compileNodes(branch, basePath);
    return (input, rootPath, env) => {
      const out: PathValue[] = [];
      for (const result of evaluate(input, env)) {
        const tv = typedValue(result);
        if (tv) out.push({ ...tv, path: nodePath(result) ?? rootPath });
      }
      return out;
    };
  });
}

function fieldOf(def: SearchParamDef): keyof EntryArrays {
  switch (def.type) {
    case 'string':
      return 'str';
    case 'token':
      return 'tok';
    case 'reference':
      return 'ref';
    case 'date':
      return 'date';
    case 'number':
      return 'num';
    case 'quantity':
      return 'qty';
    case 'uri':
      return 'uri';
    default:
      return 'comp';
  }
}
