/**
 * Enumerates the codes of a ValueSet from its expansion or its compose definition
 * (https://hl7.org/fhir/R4/valueset.html#compositions): include/exclude by concept list, whole complete code
 * systems, `is-a` / `descendent-of` / `is-not-a` filters on the local hierarchy, and nested value sets.
 * Anything else (regex filters, property filters, unknown code systems) cannot be enumerated here.
 */
import type { ValueSet, ValueSetComposeInclude, ValueSetExpansionContains } from 'fhir/r4';
import { unprocessable } from '../../core/errors';
import type { CodeHierarchy } from './base-terminology';

/** system -> codes */
export type Expansion = Map<string, Set<string>>;

export interface TerminologySource {
  codeSystem(url: string): CodeHierarchy | undefined;
  valueSet(url: string): ValueSet | undefined;
}

export function expandValueSet(valueSet: ValueSet, source: TerminologySource, visiting: Set<string> = new Set()): Expansion {
  const name = valueSet.url ?? 'ValueSet';
  if (valueSet.url) {
    if (visiting.has(valueSet.url)) throw unprocessable(`ValueSet '${name}' includes itself`);
    visiting = new Set(visiting).add(valueSet.url);
  }
  if (valueSet.expansion?.contains && !valueSet.compose) return fromContains(valueSet.expansion.contains, new Map());
  if (!valueSet.compose) throw unprocessable(`ValueSet '${name}' has neither an expansion nor a compose definition`);
  const result: Expansion = new Map();
  for (const include of valueSet.compose.include) merge(result, expandInclude(include, name, source, visiting));
  for (const exclude of valueSet.compose.exclude ?? []) subtract(result, expandInclude(exclude, name, source, visiting));
  return result;
}

function fromContains(contains: ValueSetExpansionContains[], into: Expansion): Expansion {
  for (const item of contains) {
    if (item.system && item.code && !item.abstract) add(into, item.system, [item.code]);
    if (item.contains) fromContains(item.contains, into);
  }
  return into;
}

function expandInclude(include: ValueSetComposeInclude, name: string, source: TerminologySource, visiting: Set<string>): Expansion {
  const parts: Expansion[] = [];
  if (include.system) parts.push(new Map([[include.system, systemCodes(include, name, source)]]));
  for (const url of include.valueSet ?? []) {
    const canonical = url.split('|')[0]!;
    const nested = source.valueSet(canonical);
    if (!nested) throw unprocessable(`ValueSet '${name}' includes ValueSet '${canonical}', which is not available on this server`);
    parts.push(expandValueSet(nested, source, visiting));
  }
  return parts.reduce(intersect);
}

function systemCodes(include: ValueSetComposeInclude, name: string, source: TerminologySource): Set<string> {
  const system = include.system!;
  if (include.concept) return new Set(include.concept.map((c) => c.code));
  const hierarchy = source.codeSystem(system);
  const cannot = (why: string) => unprocessable(`ValueSet '${name}' cannot be expanded on this server: ${why}`);
  if (!include.filter?.length) {
    if (!hierarchy || hierarchy.content !== 'complete') throw cannot(`code system '${system}' is not available in full`);
    return new Set(hierarchy.codes);
  }
  if (!hierarchy) throw cannot(`code system '${system}' is not available`);
  let codes = new Set(hierarchy.codes);
  for (const filter of include.filter) {
    if (filter.property !== 'concept') throw cannot(`filter on property '${filter.property}' of '${system}'`);
    if (filter.op === 'is-a') codes = keep(codes, [filter.value, ...hierarchy.descendants(filter.value)]);
    else if (filter.op === 'descendent-of') codes = keep(codes, hierarchy.descendants(filter.value));
    else if (filter.op === 'is-not-a') codes = drop(codes, [filter.value, ...hierarchy.descendants(filter.value)]);
    else throw cannot(`filter operator '${filter.op}' on '${system}'`);
  }
  return codes;
}

function add(into: Expansion, system: string, codes: Iterable<string>): void {
  const set = into.get(system) ?? new Set<string>();
  for (const code of codes) set.add(code);
  into.set(system, set);
}

function merge(into: Expansion, other: Expansion): void {
  for (const [system, codes] of other) add(into, system, codes);
}

function subtract(from: Expansion, other: Expansion): void {
  for (const [system, codes] of other) {
    const set = from.get(system);
    if (!set) continue;
    for (const code of codes) set.delete(code);
    if (set.size === 0) from.delete(system);
  }
}

function intersect(a: Expansion, b: Expansion): Expansion {
  const result: Expansion = new Map();
  for (const [system, codes] of a) {
    const other = b.get(system);
    if (!other) continue;
    const both = [...codes].filter((c) => other.has(c));
    if (both.length) result.set(system, new Set(both));
  }
  return result;
}

const keep = (codes: Set<string>, allowed: string[]): Set<string> => {
  const allow = new Set(allowed);
  return new Set([...codes].filter((c) => allow.has(c)));
};

const drop = (codes: Set<string>, removed: string[]): Set<string> => {
  const remove = new Set(removed);
  return new Set([...codes].filter((c) => !remove.has(c)));
};
