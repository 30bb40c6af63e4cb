/**
 * The search result parameters (https://hl7.org/fhir/R4/search.html#return): `_sort`, `_count`, `_total`,
 * `_summary`, `_elements`, `_include`, `_revinclude` and the paging token `_page`, separated from the criteria,
 * validated against the SearchParameter registry and normalised into the form echoed in paging links.
 */
import { invalid } from '../../core/errors';
import type { SearchRegistry } from '../registry';
import type { ParameterProblems } from './problems';
import { sortField, type SortKey } from './sort';

export type TotalMode = 'none' | 'estimate' | 'accurate';
export type SummaryMode = 'true' | 'text' | 'data' | 'count' | 'false';

/** One `_include` / `_revinclude` (https://hl7.org/fhir/R4/search.html#include). `*` stands for any. */
export interface IncludeSpec {
  reverse: boolean;
  iterate: boolean;
  /** The resource type holding the reference. */
  source: string;
  /** The reference parameter code on `source`. */
  param: string;
  /** Only references to this type. */
  target?: string;
}

export interface ResultParameters {
  /** Matches per page; 0 asks for the total only. */
  count: number;
  /** Requested keys, without the `_id` tie-breaker. */
  sort: SortKey[];
  total?: TotalMode;
  summary?: SummaryMode;
  elements?: string[];
  includes: IncludeSpec[];
  page?: string;
  /** The result parameters as they take effect, in a canonical order (echoed in links, part of the search identity). */
  echo: Array<[string, string]>;
  /** `_format` / `_pretty`: kept in links only, they do not change the result set. */
  presentation: Array<[string, string]>;
}

export interface ResultParameterContext {
  registry: SearchRegistry;
  /** Resource types searched; empty for a search across all types. */
  types: readonly string[];
  defaultCount: number;
  maxCount: number;
  problems: ParameterProblems;
}

const RESULT_NAMES = new Set(['_sort', '_count', '_total', '_summary', '_elements', '_include', '_revinclude', '_page', '_contained', '_containedType']);
const PRESENTATION_NAMES = new Set(['_format', '_pretty']);
const TOTAL_MODES: readonly TotalMode[] = ['none', 'estimate', 'accurate'];
const SUMMARY_MODES: readonly SummaryMode[] = ['true', 'text', 'data', 'count', 'false'];
const UNSORTABLE_TYPES = new Set(['composite', 'special']);
const ELEMENT_NAME = /^[a-z][A-Za-z0-9]*$/;

/** Splits a query into the criteria (for CriteriaCompiler) and the result parameters (name without modifier). */
export function splitQuery(query: ReadonlyArray<[string, string]>): {
  criteria: Array<[string, string]>;
  result: Array<[string, string]>;
  presentation: Array<[string, string]>;
} {
  const criteria: Array<[string, string]> = [];
  const result: Array<[string, string]> = [];
  const presentation: Array<[string, string]> = [];
  for (const [name, value] of query) {
    const base = name.split(':')[0];
    if (PRESENTATION_NAMES.has(name)) presentation.push([name, value]);
    else if (RESULT_NAMES.has(base)) result.push([name, value]);
    else criteria.push([name, value]);
  }
  return { criteria, result, presentation };
}

/** Parses and validates the result parameters of one search. */
export function parseResultParameters(
  result: ReadonlyArray<[string, string]>,
  presentation: ReadonlyArray<[string, string]>,
  ctx: ResultParameterContext,
): ResultParameters {
  const out: ResultParameters = { count: ctx.defaultCount, sort: [], includes: [], echo: [], presentation: [...presentation] };
  let countGiven = false;
  for (const [name, value] of result) {
    const [base, modifier, ...rest] = name.split(':');
    if (rest.length || (modifier !== undefined && !(base === '_include' || base === '_revinclude'))) {
      ctx.problems.unsupported(`Modifier on '${name}' is not supported`, name);
      continue;
    }
    switch (base) {
      case '_count':
        out.count = parseCount(value, ctx.maxCount);
        countGiven = true;
        break;
      case '_sort':
        out.sort.push(...parseSort(value, ctx));
        break;
      case '_total':
        out.total = oneOf(value, TOTAL_MODES, '_total');
        break;
      case '_summary':
        out.summary = oneOf(value, SUMMARY_MODES, '_summary');
        break;
      case '_elements':
        out.elements = parseElements(value);
        break;
      case '_include':
      case '_revinclude': {
        const spec = parseInclude(base === '_revinclude', modifier, value, ctx);
        if (spec) out.includes.push(spec);
        break;
      }
      case '_page':
        out.page = value;
        break;
      default:
        ctx.problems.unsupported(`Search result parameter '${name}' is not supported`, name);
    }
  }
  if (out.summary === 'count') out.count = 0;
  if (out.elements && out.summary && out.summary !== 'false') {
    ctx.problems.unsupported(`_elements cannot be combined with _summary=${out.summary}; _elements was ignored`, '_elements');
    delete out.elements;
  }
  out.echo = echoOf(out, countGiven);
  return out;
}

function parseCount(value: string, maxCount: number): number {
  if (!/^\d{1,9}$/.test(value)) throw invalid(`Invalid _count '${value.slice(0, 40)}': expected a whole number`, '_count');
  return Math.min(Number(value), maxCount);
}

function oneOf<T extends string>(value: string, allowed: readonly T[], name: string): T {
  if (!(allowed as readonly string[]).includes(value)) {
    throw invalid(`Invalid ${name} '${value.slice(0, 40)}': expected one of ${allowed.join(', ')}`, name);
  }
  return value as T;
}

/** `_sort=a,-b`: a leading `-` sorts descending (https://hl7.org/fhir/R4/search.html#sort). */
function parseSort(value: string, ctx: ResultParameterContext): SortKey[] {
  const keys: SortKey[] = [];
  for (const item of value.split(',')) {
    const descending = item.startsWith('-');
    const code = descending ? item.slice(1) : item;
    if (!/^[A-Za-z_][A-Za-z0-9_-]*$/.test(code)) throw invalid(`Invalid _sort key '${item.slice(0, 60)}'`, '_sort');
    if (code !== '_id' && code !== '_lastUpdated' && !isSortable(code, ctx)) {
      ctx.problems.unsupported(`Cannot sort by '${code}': not a sortable search parameter of ${typesText(ctx.types)}`, '_sort');
      continue;
    }
    if (keys.some((k) => k.code === code)) continue;
    keys.push({ code, field: sortField(code), direction: descending ? -1 : 1 });
  }
  return keys;
}

function isSortable(code: string, ctx: ResultParameterContext): boolean {
  const types = ctx.types.length ? ctx.types : ctx.registry.resourceTypes();
  return types.some((type) => {
    const def = ctx.registry.get(type, code);
    return def !== undefined && !UNSORTABLE_TYPES.has(def.type);
  });
}

const typesText = (types: readonly string[]): string => (types.length ? types.join(', ') : 'any resource type');

/** `_elements=identifier,active`: top-level element names (https://hl7.org/fhir/R4/search.html#elements). */
export function parseElements(value: string): string[] {
  const names = value.split(',').map((n) => n.trim()).filter((n) => n !== '');
  for (const name of names) {
    if (!ELEMENT_NAME.test(name)) throw invalid(`Invalid _elements name '${name.slice(0, 60)}': expected a top-level element name`, '_elements');
  }
  return [...new Set(names)];
}

/**
 * `_include=Source:param[:Target]`, `_include=Source:*`, `_include=*`, with the `:iterate` modifier
 * (`:recurse`, its STU3 name, is accepted as a synonym).
 */
function parseInclude(reverse: boolean, modifier: string | undefined, value: string, ctx: ResultParameterContext): IncludeSpec | undefined {
  const name = reverse ? '_revinclude' : '_include';
  if (modifier !== undefined && modifier !== 'iterate' && modifier !== 'recurse') {
    ctx.problems.unsupported(`Modifier '${modifier}' on ${name} is not supported`, `${name}:${modifier}`);
    return undefined;
  }
  const iterate = modifier !== undefined;
  if (value === '*') return { reverse, iterate, source: '*', param: '*' };
  const parts = value.split(':');
  const [source, param, target] = parts;
  if (parts.length < 2 || parts.length > 3 || !source || !param || target === '') {
    throw invalid(`Invalid ${name} '${value.slice(0, 80)}': expected SourceType:parameter[:TargetType] or *`, name);
  }
  const types = new Set(ctx.registry.resourceTypes());
  if (!types.has(source)) {
    ctx.problems.unsupported(`${name} '${value}': '${source}' is not a resource type`, name);
    return undefined;
  }
  if (target !== undefined && !types.has(target)) {
    ctx.problems.unsupported(`${name} '${value}': '${target}' is not a resource type`, name);
    return undefined;
  }
  if (param !== '*') {
    const def = ctx.registry.get(source, param);
    if (!def || def.type !== 'reference') {
      ctx.problems.unsupported(`${name} '${value}': '${param}' is not a reference search parameter of ${source}`, name);
      return undefined;
    }
    if (target !== undefined && def.target && !def.target.includes(target)) {
      ctx.problems.unsupported(`${name} '${value}': ${source}.${param} cannot refer to ${target}`, name);
      return undefined;
    }
  }
  return { reverse, iterate, source, param, ...(target !== undefined ? { target } : {}) };
}

export function includeText(spec: IncludeSpec): string {
  if (spec.source === '*') return '*';
  return [spec.source, spec.param, ...(spec.target ? [spec.target] : [])].join(':');
}

function echoOf(p: ResultParameters, countGiven: boolean): Array<[string, string]> {
  const echo: Array<[string, string]> = [];
  if (p.sort.length) echo.push(['_sort', p.sort.map((k) => (k.direction === -1 ? '-' : '') + k.code).join(',')]);
  if (countGiven || p.count === 0) echo.push(['_count', String(p.count)]);
  if (p.total) echo.push(['_total', p.total]);
  if (p.summary) echo.push(['_summary', p.summary]);
  if (p.elements) echo.push(['_elements', p.elements.join(',')]);
  for (const spec of p.includes) {
    echo.push([`${spec.reverse ? '_revinclude' : '_include'}${spec.iterate ? ':iterate' : ''}`, includeText(spec)]);
  }
  return echo;
}
