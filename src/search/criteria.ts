/**
 * Search criteria: the filter parameters of a search request compiled into one MongoDB query document over the
 * index fields (src/search/index-fields.ts), the same for MongoDB and the embedded engine
 * (https://hl7.org/fhir/R4/search.html). Repeated parameters AND, comma-separated values OR.
 * Result parameters (_sort, _count, _include, ...) belong to the caller and are skipped here.
 */
import { FhirError, invalid } from '../core/errors';
import { systemClock, type Clock } from '../core/clock';
import { isValidId } from '../core/ids';
import { warning, type OperationOutcomeIssue } from '../core/outcome';
import type { Filter, StoreReader } from '../storage/port';
import { resourceKey } from '../storage/records';
import { compileComposite } from './compile/composite';
import { compileDate, compileLastUpdated } from './compile/date';
import { UnsupportedParameter } from './compile/errors';
import { MATCH_NOTHING, widenEntryCode } from './compile/filters';
import { chainTargets, listItems, referencedBy, type LinkContext } from './compile/linked';
import { compileMissing } from './compile/missing';
import { isDefinedModifier } from './compile/modifiers';
import { compileNumber } from './compile/number';
import { compileQuantity } from './compile/quantity';
import { compileReference, compileReferenceIdentifier } from './compile/reference';
import { compileString } from './compile/string';
import { LocalTerminology, type Terminology } from './compile/terminology';
import { compileToken, type TokenModifier } from './compile/token';
import { compileUri } from './compile/uri';
import type { SearchBudget } from './limits/budget';
import { normaliseBaseUrl } from './normalise';
import { splitEscaped, unescapeValue } from './parse/escape';
import { parseName, type ParsedName } from './parse/name';
import type { SearchParamDef, SearchRegistry } from './registry';

export type { OperationOutcomeIssue };

export interface CriteriaResult {
  filter: Filter;
  warnings: OperationOutcomeIssue[];
}

/** Parameters that shape the result rather than select resources (https://hl7.org/fhir/R4/search.html#return). */
export const RESULT_PARAMETERS: ReadonlySet<string> = new Set([
  '_sort',
  '_count',
  '_include',
  '_revinclude',
  '_summary',
  '_elements',
  '_total',
  '_contained',
  '_containedType',
  '_format',
  '_pretty',
  '_page',
]);

const DEFAULT_MAX_CHAIN_RESULTS = 1000;
/** Chains and _has nest at most this deep (subject.organization.partof.name is 3). */
const MAX_DEPTH = 4;

/** Parameters evaluated on the record itself rather than on `idx` entries. */
const RECORD_PARAMETERS = new Set(['_id', '_lastUpdated', '_list', '_type']);

interface Scope {
  /** The resource types searched; undefined = every type (system-level search without _type). */
  types: string[] | undefined;
  depth: number;
  now: string;
  /** The caller's access filter, ANDed into every sub-query (chains, `_has`, `_list`) so none is an oracle. */
  access?: Filter;
  /** Where chains, `_has` and `_list` read: the store or an open transaction, budgeted when the search has a budget. */
  links: LinkContext;
}

export class CriteriaCompiler {
  private readonly registry: SearchRegistry;
  private readonly links: LinkContext;
  private readonly clock: Clock;
  private readonly terminology: Terminology;

  constructor(deps: {
    store: StoreReader;
    registry: SearchRegistry;
    baseUrl: string;
    maxChainResults?: number;
    /** Time source for the `ap` prefix on dates (defaults to the system clock). */
    clock?: Clock;
    /** ValueSet expansion and subsumption for token :in/:not-in/:above/:below (defaults to stored + R4 base definitions). */
    terminology?: Terminology;
  }) {
    this.registry = deps.registry;
    this.links = { store: deps.store, baseUrl: normaliseBaseUrl(deps.baseUrl), maxChainResults: deps.maxChainResults ?? DEFAULT_MAX_CHAIN_RESULTS };
    this.clock = deps.clock ?? systemClock;
    this.terminology = deps.terminology ?? new LocalTerminology(deps.store);
  }

  /**
   * Filter parameters only (result parameters like _sort/_count/_include/_revinclude/_summary/_elements/_total/
   * _contained/_format/_pretty are the caller's and ignored here). resourceType undefined = system-level search
   * (then `_type` narrows). Always includes { deleted: false }. `reader` (default: the store) is what linked
   * criteria (chains, `_has`, `_list`) read, e.g. the write transaction of a conditional interaction; those
   * queries are counted against `budget` when given.
   */
  async compile(
    resourceType: string | undefined,
    params: Array<[string, string]>,
    handling: 'strict' | 'lenient',
    budget?: SearchBudget,
    reader?: StoreReader,
    options: { scope?: Filter } = {},
  ): Promise<CriteriaResult> {
    const filters = params.filter(([name]) => !isResultParameter(name));
    const types = this.searchedTypes(resourceType, filters);
    const store = reader ?? this.links.store;
    const links = budget || reader ? { ...this.links, store: budget ? budget.reader(store) : store } : this.links;
    const scope: Scope = { types, depth: 0, now: this.clock.now(), links, ...(options.scope !== undefined ? { access: options.scope } : {}) };
    const warnings: OperationOutcomeIssue[] = [];
    const clauses: Filter[] = [];
    for (const [name, value] of filters) {
      if (name === '_type') continue;
      try {
        clauses.push(await this.parameter(scope, name, value));
      } catch (err) {
        if (!(err instanceof UnsupportedParameter)) throw err;
        if (handling === 'strict') {
          throw new FhirError('incorrect', [{ severity: 'error', code: 'not-supported', diagnostics: err.message, expression: [name] }]);
        }
        warnings.push(warning(`${err.message}; the parameter was ignored`, 'not-supported', name));
      }
    }
    return { filter: withBase(types, clauses), warnings };
  }

  /**
   * The filter of criteria evaluated without reading the store, compiled at once (subscription criteria are
   * checked inside the write that stores them, then tested in memory against later writes). Chains, `_has`,
   * `_list` and ValueSet membership (:in, :not-in) read other resources when compiled, so they are refused with
   * UnsupportedParameter, as are unknown and result parameters. Relative dates (`ap`) are fixed at compile time.
   */
  compileLocal(resourceType: string, params: Array<[string, string]>): Filter {
    const scope: Scope = { types: this.searchedTypes(resourceType, params), depth: 0, now: this.clock.now(), links: this.links };
    const clauses: Filter[] = [];
    for (const [name, value] of params) {
      if (name === '_type') continue;
      if (isResultParameter(name)) throw new UnsupportedParameter(name, `'${name}' shapes search results; it cannot select resources here`);
      const parsed = parseName(name);
      if (parsed && readsStore(parsed)) throw new UnsupportedParameter(name, `'${name}' needs a lookup of other resources, which is not supported here`);
      const clause = this.parameter(scope, name, value);
      if (clause instanceof Promise) {
        clause.catch(() => undefined);
        throw new UnsupportedParameter(name, `'${name}' needs a lookup of other resources, which is not supported here`);
      }
      clauses.push(clause);
    }
    return withBase(scope.types, clauses);
  }

  /** Whether `def` can be searched on `resourceType` here (for the CapabilityStatement's searchParam list). */
  supports(resourceType: string, def: SearchParamDef): boolean {
    if (RECORD_PARAMETERS.has(def.code)) return true;
    if (def.type === 'special' || def.expression === undefined) return false;
    if (def.type === 'composite') return (def.component ?? []).every((c) => c.type !== undefined && c.type !== 'composite' && c.type !== 'special');
    return this.registry.get(resourceType, def.code) !== undefined;
  }

  /** The resource types a search covers: the type searched, narrowed (or, system-level, chosen) by `_type`. */
  private searchedTypes(resourceType: string | undefined, params: Array<[string, string]>): string[] | undefined {
    let types = resourceType === undefined ? undefined : [resourceType];
    let known: Set<string> | undefined;
    for (const [name, value] of params) {
      if (name !== '_type') continue;
      known ??= new Set(this.registry.resourceTypes());
      const listed = splitEscaped(value, ',').map(unescapeValue);
      for (const type of listed) if (!known.has(type)) throw invalid(`Unknown resource type '${type}' in search parameter '_type'`, '_type');
      types = types === undefined ? listed : types.filter((t) => listed.includes(t));
    }
    return types;
  }

  /** The filter of the criteria `params` over resources of `type` (for chains and _has); unknown parameters propagate. */
  private async nested(scope: Scope, type: string, params: Array<[string, string]>): Promise<Filter> {
    if (scope.depth + 1 > MAX_DEPTH) throw invalid(`Search chains may nest at most ${MAX_DEPTH} levels deep`);
    const inner: Scope = { ...scope, types: [type], depth: scope.depth + 1 };
    const clauses: Filter[] = [];
    for (const [name, value] of params) clauses.push(await this.parameter(inner, name, value));
    if (scope.access !== undefined) clauses.push(scope.access);
    return withBase([type], clauses);
  }

  /** A parameter's filter; a promise only when it needs the store (chains, _has, _list, ValueSet membership). */
  private parameter(scope: Scope, name: string, value: string): Filter | Promise<Filter> {
    const parsed = parseName(name);
    if (!parsed) throw new UnsupportedParameter(name, `Unknown search parameter '${name}'`);
    if (parsed.kind === 'has') return this.has(scope, name, parsed, value);
    if (value === '' && parsed.modifier !== 'missing') return {};
    if (RECORD_PARAMETERS.has(parsed.code)) return this.recordParameter(scope, name, parsed, value);
    const def = this.definition(scope, name, parsed.code);
    if (parsed.chain !== undefined) return this.chain(scope, name, def, parsed.modifier, parsed.chain, value);
    if (parsed.modifier === 'missing') return compileMissing(def.code, value);
    return this.condition(scope, name, def, parsed.modifier, value);
  }

  /** `_id`, `_lastUpdated`, `_list` (https://hl7.org/fhir/R4/search.html#all). */
  private recordParameter(scope: Scope, name: string, parsed: ParsedName & { kind: 'param' }, value: string): Filter | Promise<Filter> {
    if (parsed.chain !== undefined) throw invalid(`Search parameter '${parsed.code}' cannot be chained`, name);
    if (parsed.code === '_type') throw invalid(`Search parameter '_type' takes no modifier`, name);
    if (parsed.modifier === 'missing') {
      if (parsed.code === '_list') throw new UnsupportedParameter(name, `Modifier ':missing' is not supported on '_list'`);
      return compileMissingRecordField(name, value);
    }
    if (parsed.modifier !== undefined) throw new UnsupportedParameter(name, `Modifier ':${parsed.modifier}' is not supported on '${parsed.code}'`);
    const values = splitEscaped(value, ',').map(unescapeValue);
    switch (parsed.code) {
      case '_id':
        return idCondition(values, scope.types ?? this.registry.resourceTypes());
      case '_lastUpdated':
        return compileLastUpdated(value, scope.now);
      default: {
        for (const id of values) {
          if (id.startsWith('$')) throw new UnsupportedParameter(name, `Functional list '${id}' in '_list' is not supported`);
          if (!isValidId(id)) throw invalid(`Invalid List id '${id}' in search parameter '_list'`, name);
        }
        return listItems(values, scope.types, scope.links, scope.access).then((keys) => ({ _id: { $in: keys } }));
      }
    }
  }

  /** The definition of `code` for every searched type (system-level without _type: a Resource-level parameter). */
  private definition(scope: Scope, name: string, code: string): SearchParamDef {
    const types = scope.types ?? [];
    if (types.length === 0) {
      const any = this.registry.resourceTypes()[0];
      const def = any === undefined ? undefined : this.registry.get(any, code);
      if (scope.types === undefined && def?.base.includes('Resource')) return this.usable(name, def);
      if (scope.types === undefined) throw new UnsupportedParameter(name, `Search parameter '${code}' is not defined for all resource types; use _type`);
      throw new UnsupportedParameter(name, `Unknown search parameter '${code}'`);
    }
    const defs = types.map((t) => {
      const def = this.registry.get(t, code);
      if (!def) throw new UnsupportedParameter(name, `Unknown search parameter '${code}' for resource type ${t}`);
      return def;
    });
    const first = defs[0]!;
    if (defs.some((d) => d.type !== first.type)) {
      throw new UnsupportedParameter(name, `Search parameter '${code}' has different types on ${types.join(', ')}`);
    }
    const targets = [...new Set(defs.flatMap((d) => d.target ?? []))];
    return this.usable(name, defs.length === 1 ? first : { ...first, ...(targets.length ? { target: targets } : {}) });
  }

  private usable(name: string, def: SearchParamDef): SearchParamDef {
    if (def.type === 'special' || def.expression === undefined) {
      throw new UnsupportedParameter(name, `Search parameter '${def.code}' is not supported by this server`);
    }
    return def;
  }

  /** A parameter's condition, over its own index entries and those it borrows (src/search/registry/shared-entries.ts). */
  private condition(scope: Scope, name: string, def: SearchParamDef, modifier: string | undefined, value: string): Filter | Promise<Filter> {
    const filter = this.ownCondition(scope, name, def, modifier, value);
    if (def.type === 'reference' || !this.registry.borrows(def.code)) return filter;
    return filter instanceof Promise ? filter.then((f) => this.withBorrowedEntries(scope.types, def.code, f)) : this.withBorrowedEntries(scope.types, def.code, filter);
  }

  /**
   * `filter` matching the entries of every parameter a query on `code` reads, per searched type. Types that read
   * different ones (only custom SearchParameters can make them differ) each get their own branch of an `$or`.
   */
  private withBorrowedEntries(types: string[] | undefined, code: string, filter: Filter): Filter {
    const groups = new Map<string, { codes: readonly string[]; types: string[] }>();
    for (const type of types ?? this.registry.resourceTypes()) {
      const codes = this.registry.entryCodes(type, code);
      const key = codes.join(' ');
      const group = groups.get(key);
      if (group) group.types.push(type);
      else groups.set(key, { codes, types: [type] });
    }
    const widened = (codes: readonly string[]): Filter => (codes.length > 1 ? widenEntryCode(filter, code, codes) : filter);
    if (groups.size <= 1) return widened([...groups.values()][0]?.codes ?? [code]);
    return { $or: [...groups.values()].map((group) => ({ $and: [{ type: { $in: group.types } }, widened(group.codes)] })) };
  }

  private ownCondition(scope: Scope, name: string, def: SearchParamDef, modifier: string | undefined, value: string): Filter | Promise<Filter> {
    if (modifier !== undefined && !isDefinedModifier(def.type, modifier) && !(def.type === 'reference' && this.isTypeModifier(modifier))) {
      throw invalid(`Modifier ':${modifier}' is not allowed on ${def.type} search parameter '${def.code}'`, name);
    }
    switch (def.type) {
      case 'string':
        return compileString(def.code, modifier as 'exact' | 'contains' | undefined, value);
      case 'token':
        return compileToken(def.code, modifier as TokenModifier | undefined, value, this.terminology);
      case 'reference':
        return this.reference(name, def, modifier, value);
      case 'date':
        return compileDate(def.code, value, scope.now);
      case 'number':
        return compileNumber(def.code, value);
      case 'quantity':
        return compileQuantity(def.code, value);
      case 'uri':
        return compileUri(def.code, modifier as 'above' | 'below' | undefined, value);
      case 'composite':
        return compileComposite(def.code, def.component ?? [], value, { baseUrl: this.links.baseUrl, now: scope.now });
      case 'special':
        throw new UnsupportedParameter(name, `Search parameter '${def.code}' is not supported by this server`);
    }
  }

  private reference(name: string, def: SearchParamDef, modifier: string | undefined, value: string): Filter {
    if (modifier === 'identifier') return compileReferenceIdentifier(def.code, value);
    if (modifier === 'above' || modifier === 'below') {
      throw new UnsupportedParameter(name, `Modifier ':${modifier}' is not supported on reference parameter '${def.code}'`);
    }
    if (modifier !== undefined) this.checkTarget(name, def, modifier);
    return compileReference(def.code, modifier, value, { baseUrl: this.links.baseUrl, targets: def.target ?? [] });
  }

  /** `code[:Type].chained=value` (https://hl7.org/fhir/R4/search.html#chaining). */
  private async chain(scope: Scope, name: string, def: SearchParamDef, modifier: string | undefined, chain: string, value: string): Promise<Filter> {
    if (def.type !== 'reference') throw new UnsupportedParameter(name, `Unknown search parameter '${name}' ('${def.code}' is not a reference, so it cannot be chained)`);
    const targets = this.chainTargetTypes(name, def, modifier, chain);
    const inner = await Promise.all(targets.map((target) => this.nested(scope, target, [[chain, value]])));
    const keys = await chainTargets(name, inner.length === 1 ? (inner[0] as Filter) : { $or: inner }, scope.links);
    return { 'idx.ref': { $elemMatch: { p: def.code, r: { $in: keys } } } };
  }

  /**
   * The types a chain searches: the `:Type` modifier, else every target type that defines the chained parameter
   * (`Observation?subject.name=x` searches Patient and Location names). Targets whose parameter of that name has
   * a different type make the chain ambiguous, which the spec asks servers to reject
   * (https://hl7.org/fhir/R4/search.html#chaining).
   */
  private chainTargetTypes(name: string, def: SearchParamDef, modifier: string | undefined, chain: string): string[] {
    if (modifier !== undefined) {
      if (!this.isTypeModifier(modifier)) throw invalid(`Modifier ':${modifier}' cannot be used in the chain '${name}'`, name);
      this.checkTarget(name, def, modifier);
      return [modifier];
    }
    const targets = def.target ?? [];
    if (targets.length === 1) return targets;
    const chained = parseName(chain);
    const code = chained?.kind === 'param' ? chained.code : undefined;
    if (code !== undefined && RECORD_PARAMETERS.has(code)) return targets;
    const candidates = code === undefined ? [] : targets.filter((t) => this.registry.get(t, code) !== undefined);
    if (!candidates.length) throw new UnsupportedParameter(name, `Unknown search parameter '${name}': no target of '${def.code}' (${targets.join(', ')}) defines '${code ?? chain}'`);
    const kinds = new Set(candidates.map((t) => this.registry.get(t, code as string)?.type));
    if (kinds.size > 1) {
      throw invalid(
        `Search parameter '${name}' is ambiguous: '${code}' means different things on ${candidates.join(', ')}; name the type, e.g. '${def.code}:${candidates[0]}.${chain}'`,
        name,
      );
    }
    return candidates;
  }

  /** `_has:Type:reference:criteria=value` (https://hl7.org/fhir/R4/search.html#has). */
  private async has(scope: Scope, name: string, parsed: ParsedName & { kind: 'has' }, value: string): Promise<Filter> {
    if (!this.registry.resourceTypes().includes(parsed.type)) throw new UnsupportedParameter(name, `Unknown resource type '${parsed.type}' in '${name}'`);
    const ref = this.registry.get(parsed.type, parsed.reference);
    if (!ref) throw new UnsupportedParameter(name, `Unknown search parameter '${parsed.reference}' for resource type ${parsed.type} in '${name}'`);
    if (ref.type !== 'reference') throw invalid(`Search parameter '${parsed.reference}' of ${parsed.type} is not a reference ('${name}')`, name);
    const inner = await this.nested(scope, parsed.type, [[parsed.inner, value]]);
    const keys = await referencedBy(name, inner, ref.code, scope.types, scope.links);
    return { _id: { $in: keys } };
  }

  private isTypeModifier(modifier: string): boolean {
    return /^[A-Z]/.test(modifier) && this.registry.resourceTypes().includes(modifier);
  }

  private checkTarget(name: string, def: SearchParamDef, type: string): void {
    if (!this.isTypeModifier(type)) throw invalid(`Modifier ':${type}' is not allowed on reference search parameter '${def.code}'`, name);
    if (def.target?.length && !def.target.includes(type)) {
      throw invalid(`Resource type '${type}' is not a target of search parameter '${def.code}' (targets: ${def.target.join(', ')})`, name);
    }
  }
}

function isResultParameter(name: string): boolean {
  const colon = name.indexOf(':');
  return RESULT_PARAMETERS.has(colon < 0 ? name : name.slice(0, colon));
}

/** Chains, `_has`, `_list` and ValueSet membership compile from other stored resources. */
function readsStore(parsed: ParsedName): boolean {
  if (parsed.kind === 'has') return true;
  return parsed.chain !== undefined || parsed.code === '_list' || parsed.modifier === 'in' || parsed.modifier === 'not-in';
}

/** Every search: live records (tombstones excluded) of the searched types. */
function base(types: string[] | undefined): Filter {
  if (types === undefined) return { deleted: false };
  if (types.length === 0) return { deleted: false, ...MATCH_NOTHING };
  return { type: types.length === 1 ? types[0] : { $in: types }, deleted: false };
}

function withBase(types: string[] | undefined, clauses: Filter[]): Filter {
  const conditions = clauses.filter((c) => Object.keys(c).length > 0);
  return conditions.length ? { ...base(types), $and: conditions } : base(types);
}

/**
 * `_id`: the records' own key `Type/id` (src/storage/records.ts), which both engines look up directly, so no
 * `type, id` index is kept; a search over all types looks the ids up under every type.
 */
function idCondition(ids: string[], types: string[]): Filter {
  const keys = types.flatMap((type) => ids.map((id) => resourceKey(type, id)));
  return { _id: keys.length === 1 ? keys[0] : { $in: keys } };
}

/** `_id:missing` / `_lastUpdated:missing`: every record has both. */
function compileMissingRecordField(name: string, value: string): Filter {
  if (value === 'false') return {};
  if (value === 'true') return MATCH_NOTHING;
  throw invalid(`Invalid value '${value}' in search parameter '${name}' (expected true or false)`, name);
}
