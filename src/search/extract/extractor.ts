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
import { compileNodes, type NodeEvaluator } from '../registry/fhirpath';
import type { SearchRegistry } from '../registry/registry';
import type { SearchParamDef } from '../registry/types';
import { componentKeys, compositeEntries, type ComponentKey } from './composite-values';
import { dateEntries } from './date-values';
import { numberEntries, quantityEntries } from './quantity-values';
import { referenceEntries } from './reference-values';
import { sortKeyOf } from './sort-keys';
import { stringEntries, uriEntries } from './string-values';
import { tokenEntries } from './token-values';
import { nodePath, typedValue, type TypedValue } from './typed-value';

/** Parameters that are not stored in `idx`: `_id` and `_lastUpdated` are the record's own `id` / `lastUpdated`. */
const NOT_INDEXED = new Set(['_id', '_lastUpdated']);

interface ParamPlan {
  def: SearchParamDef;
  evaluate: NodeEvaluator;
}

interface TypePlan {
  revision: number;
  params: ParamPlan[];
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
  /** Component evaluators by element path and expression (`Observation.component` + `value.as(Quantity)`). */
  private readonly componentEvaluators = new Map<string, NodeEvaluator>();

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
    for (const param of plan.params) {
      const { def } = param;
      const results = this.evaluate(param, resource);
      if (results.length === 0) continue;
      const target = arrays[fieldOf(def)];
      const before = target.length;
      if (def.type === 'composite') this.addComposite(def, results, resource, arrays.comp);
      else this.addValues(def, results, arrays);
      if (target.length === before) continue;
      has.push(def.code);
      const key = sortKeyOf(def.type, target, before);
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

  private evaluate(param: ParamPlan, input: unknown, env?: Record<string, unknown>): unknown[] {
    try {
      return param.evaluate(input, env);
    } catch (err) {
      throw new FhirError('unprocessable', `search parameter '${param.def.code}' cannot be evaluated on this resource: ${(err as Error).message}`);
    }
  }

  private addValues(def: SearchParamDef, results: unknown[], arrays: EntryArrays): void {
    for (const result of results) {
      const tv = typedValue(result);
      if (!tv) continue;
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
          quantityEntries(def.code, tv, arrays.qty);
          break;
        case 'uri':
          uriEntries(def.code, tv, arrays.uri);
          break;
        default:
          break;
      }
    }
  }

  private addComposite(def: SearchParamDef, elements: unknown[], resource: Resource, out: CompositeEntry[]): void {
    const components = def.component ?? [];
    const env = { resource, rootResource: resource };
    for (const element of elements) {
      const elementPath = nodePath(element) ?? resource.resourceType;
      const data = typedValue(element)?.value;
      if (data === undefined) continue;
      const perComponent: ComponentKey[][] = [];
      for (const component of components) {
        const evaluate = this.componentEvaluator(elementPath, component.expression);
        const param = { def, evaluate };
        const values = this.evaluate(param, data, env)
          .map(typedValue)
          .filter((tv): tv is TypedValue => tv !== undefined);
        perComponent.push(componentKeys(component.type, values, this.baseUrl));
      }
      compositeEntries(def.code, perComponent, out);
    }
  }

  private componentEvaluator(elementPath: string, expression: string): NodeEvaluator {
    const key = `${elementPath}\u0000${expression}`;
    let evaluate = this.componentEvaluators.get(key);
    if (!evaluate) {
      evaluate = compileNodes(expression, elementPath);
      this.componentEvaluators.set(key, evaluate);
    }
    return evaluate;
  }

  private planFor(resourceType: string): TypePlan {
    const cached = this.plans.get(resourceType);
    if (cached && cached.revision === this.registry.revision) return cached;
    const params: ParamPlan[] = [];
    for (const def of this.registry.forType(resourceType)) {
      if (!def.expression || def.type === 'special' || NOT_INDEXED.has(def.code)) continue;
      params.push({ def, evaluate: compileNodes(def.expression) });
    }
    const plan = { revision: this.registry.revision, params };
    this.plans.set(resourceType, plan);
    return plan;
  }
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
