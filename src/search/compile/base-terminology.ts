/**
 * The ValueSets and CodeSystems of the R4 base definitions (hl7.fhir.r4.examples: Bundle-valuesets.json,
 * Bundle-v3-valuesets.json, Bundle-v2-valuesets.json), loaded once on first use and kept compact
 * (https://hl7.org/fhir/R4/terminologies-valuesets.html).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Bundle, CodeSystem, CodeSystemConcept, ValueSet } from 'fhir/r4';
import { expandValueSet, type Expansion } from './expand-valueset';

const BUNDLES = ['Bundle-valuesets.json', 'Bundle-v3-valuesets.json', 'Bundle-v2-valuesets.json'];

/** A code system's codes and is-a hierarchy (nested concepts and the `parent` property). */
export class CodeHierarchy {
  readonly codes = new Set<string>();
  private readonly parents = new Map<string, string[]>();
  private readonly children = new Map<string, string[]>();

  constructor(
    readonly url: string,
    /** CodeSystem.content: only `complete` systems can be enumerated whole. */
    readonly content: string,
    concepts: CodeSystemConcept[],
  ) {
    this.addConcepts(concepts, undefined);
  }

  descendants(code: string): string[] {
    return this.walk(code, this.children);
  }

  ancestors(code: string): string[] {
    return this.walk(code, this.parents);
  }

  private walk(code: string, edges: Map<string, string[]>): string[] {
    const seen = new Set<string>([code]);
    const queue = [code];
    while (queue.length) {
      for (const next of edges.get(queue.pop()!) ?? []) {
        if (!seen.has(next)) {
          seen.add(next);
          queue.push(next);
        }
      }
    }
    seen.delete(code);
    return [...seen];
  }

  private addConcepts(concepts: CodeSystemConcept[], parent: string | undefined): void {
    for (const concept of concepts) {
      this.codes.add(concept.code);
      if (parent !== undefined) this.link(parent, concept.code);
      for (const property of concept.property ?? []) {
        if ((property.code === 'parent' || property.code === 'subsumedBy') && property.valueCode) this.link(property.valueCode, concept.code);
      }
      if (concept.concept) this.addConcepts(concept.concept, concept.code);
    }
  }

  private link(parent: string, child: string): void {
    this.children.set(parent, [...(this.children.get(parent) ?? []), child]);
    this.parents.set(child, [...(this.parents.get(child) ?? []), parent]);
  }
}

export class BaseDefinitions {
  private static instance: BaseDefinitions | undefined;
  private loaded: { valueSets: Map<string, ValueSet>; codeSystems: Map<string, CodeHierarchy> } | undefined;
  private readonly expansions = new Map<string, Expansion>();

  constructor(private readonly packageDir: string = path.dirname(require.resolve('hl7.fhir.r4.examples/package.json'))) {}

  /** One lazily loaded instance per process (the definitions never change at run time). */
  static shared(): BaseDefinitions {
    BaseDefinitions.instance ??= new BaseDefinitions();
    return BaseDefinitions.instance;
  }

  valueSet(url: string): ValueSet | undefined {
    return this.load().valueSets.get(url);
  }

  codeSystem(url: string): CodeHierarchy | undefined {
    return this.load().codeSystems.get(url);
  }

  /** Expansion of a base ValueSet (cached); undefined when the URL is not a base ValueSet. */
  expand(url: string): Expansion | undefined {
    const cached = this.expansions.get(url);
    if (cached) return cached;
    const valueSet = this.valueSet(url);
    if (!valueSet) return undefined;
    const expansion = expandValueSet(valueSet, this);
    this.expansions.set(url, expansion);
    return expansion;
  }

  private load(): NonNullable<BaseDefinitions['loaded']> {
    if (this.loaded) return this.loaded;
    const valueSets = new Map<string, ValueSet>();
    const codeSystems = new Map<string, CodeHierarchy>();
    for (const file of BUNDLES) {
      const bundle = JSON.parse(fs.readFileSync(path.join(this.packageDir, file), 'utf8')) as Bundle;
      for (const entry of bundle.entry ?? []) {
        const resource = entry.resource;
        if (resource?.resourceType === 'ValueSet' && resource.url && !valueSets.has(resource.url)) {
          valueSets.set(resource.url, compactValueSet(resource));
        } else if (resource?.resourceType === 'CodeSystem' && resource.url && !codeSystems.has(resource.url)) {
          codeSystems.set(resource.url, hierarchyOf(resource));
        }
      }
    }
    this.loaded = { valueSets, codeSystems };
    return this.loaded;
  }
}

function compactValueSet(vs: ValueSet): ValueSet {
  return {
    resourceType: 'ValueSet',
    status: vs.status,
    ...(vs.url ? { url: vs.url } : {}),
    ...(vs.compose ? { compose: vs.compose } : {}),
    ...(vs.expansion ? { expansion: vs.expansion } : {}),
  };
}

function hierarchyOf(cs: CodeSystem): CodeHierarchy {
  return new CodeHierarchy(cs.url!, cs.content, cs.concept ?? []);
}
