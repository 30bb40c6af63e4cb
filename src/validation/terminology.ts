/**
 * Expansion of local ValueSets against local CodeSystems (https://hl7.org/fhir/R4/valueset.html#compositions):
 * compose.include by concept, by whole code system, by filter (`is-a`, `descendent-of`, `=` on a property or
 * `concept`), and by nested value sets; compose.exclude likewise. A code from a system the server does not hold
 * cannot be judged: membership answers 'unknown', never a silent pass or a wrong failure.
 */
import type { CodeSystem, CodeSystemConcept, ValueSet, ValueSetComposeInclude } from 'fhir/r4';

export type Membership = 'member' | 'not-member' | 'unknown';

interface Expansion {
  /** `system|code` of every concept, for systems the server holds completely. */
  concepts: Set<string>;
  /** Systems included that the server does not hold (or holds incompletely): their codes are 'unknown'. */
  unchecked: Set<string>;
}

export class Terminology {
  private readonly valueSets = new Map<string, ValueSet>();
  private readonly codeSystems = new Map<string, CodeSystem>();
  private readonly expansions = new Map<string, Expansion | undefined>();

  addValueSet(vs: ValueSet): void {
    if (vs.url) this.valueSets.set(vs.url, vs);
    this.expansions.clear();
  }

  addCodeSystem(cs: CodeSystem): void {
    if (cs.url) this.codeSystems.set(cs.url, cs);
    this.expansions.clear();
  }

  hasValueSet(url: string): boolean {
    return this.valueSets.has(url.split('|')[0]);
  }

  /** Whether system|code is in the value set; 'unknown' when the value set or the code's system is not held. */
  member(valueSetUrl: string, system: string | undefined, code: string | undefined): Membership {
    const expansion = this.expand(valueSetUrl.split('|')[0]);
    if (!expansion || !code) return expansion ? 'not-member' : 'unknown';
    if (system && expansion.concepts.has(`${system}|${code}`)) return 'member';
    if (!system || expansion.unchecked.has(system)) return 'unknown';
    return 'not-member';
  }

  /** A bare `code` (no system): a member when some concept of the value set has it. */
  memberCode(valueSetUrl: string, code: string | undefined): Membership {
    const expansion = this.expand(valueSetUrl.split('|')[0]);
    if (!expansion) return 'unknown';
    if (code && [...expansion.concepts].some((k) => k.endsWith(`|${code}`))) return 'member';
    return expansion.unchecked.size ? 'unknown' : 'not-member';
  }

  private expand(url: string): Expansion | undefined {
    if (this.expansions.has(url)) return this.expansions.get(url);
    this.expansions.set(url, undefined);
    const vs = this.valueSets.get(url);
    let result: Expansion | undefined;
    if (vs?.compose) {
      result = { concepts: new Set(), unchecked: new Set() };
      for (const include of vs.compose.include) this.include(include, result, true);
      for (const exclude of vs.compose.exclude ?? []) this.include(exclude, result, false);
    } else if (vs?.expansion?.contains) {
      result = { concepts: new Set(vs.expansion.contains.filter((c) => c.system && c.code).map((c) => `${c.system}|${c.code}`)), unchecked: new Set() };
    }
    this.expansions.set(url, result);
    return result;
  }

  private include(include: ValueSetComposeInclude, into: Expansion, add: boolean): void {
    let keys: string[] | undefined;
    const system = include.system;
    if (system) {
      const cs = this.codeSystems.get(system);
      const complete = cs?.content === 'complete';
      if (include.concept) keys = include.concept.map((c) => `${system}|${c.code}`);
      else if (!cs || !complete) {
        if (add) into.unchecked.add(system);
        return;
      } else keys = filterConcepts(cs, include.filter ?? []).map((code) => `${system}|${code}`);
    }
    for (const nested of include.valueSet ?? []) {
      const expansion = this.expand(nested.split('|')[0]);
      if (!expansion) continue;
      if (add) for (const s of expansion.unchecked) into.unchecked.add(s);
      keys = keys ? keys.filter((k) => expansion.concepts.has(k)) : [...expansion.concepts];
    }
    for (const key of keys ?? []) (add ? into.concepts.add(key) : into.concepts.delete(key));
  }
}

/** Codes of a CodeSystem meeting every filter (https://hl7.org/fhir/R4/valueset-filter-operator.html). */
function filterConcepts(cs: CodeSystem, filters: NonNullable<ValueSetComposeInclude['filter']>): string[] {
  const all: Array<{ concept: CodeSystemConcept; ancestors: string[] }> = [];
  const visit = (concepts: CodeSystemConcept[], ancestors: string[]): void => {
    for (const concept of concepts) {
      all.push({ concept, ancestors });
      visit(concept.concept ?? [], [...ancestors, concept.code]);
    }
  };
  visit(cs.concept ?? [], []);
  return all
    .filter(({ concept, ancestors }) =>
      filters.every((f) => {
        if (f.op === 'is-a') return concept.code === f.value || ancestors.includes(f.value);
        if (f.op === 'descendent-of') return ancestors.includes(f.value);
        if (f.op === '=') {
          if (f.property === 'concept' || f.property === 'code') return concept.code === f.value;
          return (concept.property ?? []).some((p) => p.code === f.property && String(p.valueCode ?? p.valueString ?? p.valueBoolean ?? p.valueInteger ?? '') === f.value);
        }
        return false;
      }),
    )
    .map(({ concept }) => concept.code);
}
