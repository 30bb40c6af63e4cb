/**
 * Validation against local profiles (https://hl7.org/fhir/R4/profiling.html): each StructureDefinition with
 * derivation `constraint` is compiled once, on first use, into a tree of element rules. The base definitions are
 * always checked by the base validator; a profile's rules are what its differential adds (its snapshot when it has
 * no differential), plus, recursively, those of its base profile when that is a local profile too.
 *
 * Checked per element: cardinality, types (choice variants, Reference target types), fixed[x] and pattern[x] at any
 * depth (inside slices too), min/maxValue, maxLength, bindings against local ValueSets (required → error,
 * extensible → warning, preferred/example → nothing; a code from a system not held → warning 'not checkable'),
 * FHIRPath constraints; slicing with discriminators value/pattern/exists/type/profile, rules closed/open/openAtEnd
 * and ordered; extensions against their own definitions.
 */
import * as fhirpath from 'fhirpath';
import * as r4 from 'fhirpath/fhir-context/r4';
import type { Model } from 'fhirpath';
import type { CodeSystem, ElementDefinition, StructureDefinition, ValueSet } from 'fhir/r4';
import type { OperationOutcomeIssue } from '../core/outcome';
import { ruleIssue } from './rule-issues';
import { Terminology } from './terminology';
import { generateSnapshot, SnapshotError, type SnapshotSources } from './snapshot';
import { baseDefinitions, type BaseDefinitions } from './base-elements';
import { ExtensionCollector, forEachExtension, type FoundExtension, type UnknownExtensions } from './extensions';
import { discriminatorValues, parseDiscriminatorPath, resolverFor, UNRESOLVED, type Resolver, type Segment } from './discriminators';

const noResolver: Resolver = () => undefined;
import { PROFILE_CACHE_FORMAT, sha256, type ProfileCache } from './profile-cache';

/** Content hash of each StructureDefinition object, computed once. */
const contentHashes = new WeakMap<StructureDefinition, string>();
import type { ConstraintDefinition } from './invariants-format';

export type ConstraintCompiler = (c: ConstraintDefinition, path: string, typeCode: string | undefined) => (value: unknown, resource: unknown) => boolean;

type Json = Record<string, unknown>;

interface Slicing {
  discriminator: Array<{ type: string; path: string }>;
  rules: 'open' | 'closed' | 'openAtEnd';
  ordered: boolean;
}

interface Rule {
  /** JSON key, or a choice base (`value`) whose variants are the keys starting with it. */
  key: string;
  choice: boolean;
  element: ElementDefinition;
  children: Rule[];
  slicing?: Slicing;
  slices: Rule[];
  sliceName?: string;
}

export interface ProfileOptions {
  /** Claiming (meta.profile) or requiring a profile the server does not hold: a warning, or an error. */
  unknownProfile: 'warning' | 'error';
  /** Per resource type, profiles every resource of that type must conform to (REQUIRED_PROFILES). */
  requiredProfiles: Record<string, string[]>;
  /** An extension whose definition is not held (UNKNOWN_EXTENSIONS): a warning (default), an error, or nothing. */
  unknownExtensions?: UnknownExtensions;
}

const model = r4 as unknown as Model;
const capitalize = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);

export class ProfileRegistry {
  private readonly definitions = new Map<string, StructureDefinition>();
  private readonly compiled = new Map<string, Rule>();
  readonly terminology = new Terminology();

  /** Compiles a profile's FHIRPath constraint; set by the base validator so profiles share its native compiler. */
  compileConstraint: ConstraintCompiler = (c, path) => {
    const compiled = fhirpath.compile({ base: path.replace(/\[x\]/g, ''), expression: c.expression }, model, { traceFn: () => undefined } as never);
    return (value) => {
      const result = compiled(value as Json, {}) as unknown[];
      return !(result.length === 1 && result[0] === false);
    };
  };
  private readonly constraintTests = new Map<string, (value: unknown, resource: unknown) => boolean>();

  constructor(
    readonly options: ProfileOptions = { unknownProfile: 'warning', requiredProfiles: {} },
    private readonly base: BaseDefinitions = baseDefinitions,
    /** Compiled profiles kept across restarts (DATA_DIR/profile-cache), when given. */
    readonly cache?: ProfileCache,
  ) {}

  useConstraintCompiler(compiler: ConstraintCompiler): void {
    this.compileConstraint = compiler;
    this.constraintTests.clear();
  }

  /** The compiled test of a profile constraint, once per element path, type and expression. */
  constraintTest(c: ConstraintDefinition, path: string, typeCode: string | undefined): (value: unknown, resource: unknown) => boolean {
    const key = `${path}|${typeCode ?? ''}|${c.expression}`;
    let test = this.constraintTests.get(key);
    if (!test) this.constraintTests.set(key, (test = this.compileConstraint(c, path, typeCode)));
    return test;
  }

  /**
   * Adds or replaces a conformance resource (StructureDefinition, ValueSet, CodeSystem). Profiles compile on first
   * use (or by `compile`), so one that builds on another can be added before its base; replacing a profile
   * recompiles those built on it.
   */
  add(resource: { resourceType: string }): void {
    if (resource.resourceType === 'ValueSet') this.terminology.addValueSet(resource as ValueSet);
    else if (resource.resourceType === 'CodeSystem') this.terminology.addCodeSystem(resource as CodeSystem);
    else if (resource.resourceType === 'StructureDefinition') {
      const sd = resource as StructureDefinition;
      if (!sd.url) throw new Error('a StructureDefinition without url cannot be referred to');
      this.definitions.set(sd.url, sd);
      this.compiled.clear();
      this.snapshots.clear();
    }
  }

  /** Removes a StructureDefinition (one that does not compile, at load time). */
  remove(url: string): void {
    this.definitions.delete(url);
    this.compiled.clear();
    this.snapshots.clear();
  }

  /** Compiles a profile now (or takes it from the cache); throws a SnapshotError naming the element at fault. */
  compile(url: string): void {
    const sd = this.definitions.get(url);
    if (!sd) return;
    const key = this.cache && this.cacheKey(url);
    const cached = key ? this.cache!.get<Rule>('profiles', key) : undefined;
    if (cached) {
      this.compiled.set(url, cached);
      return;
    }
    const tree = compileProfile(sd, this.sources(new Set([url])));
    this.compiled.set(url, tree);
    if (key) this.cache!.set('profiles', key, tree);
  }

  /** What a compiled profile is built from: the R4 base snapshots, the profile and the local profiles it builds on. */
  private cacheKey(url: string): string {
    const parts = [PROFILE_CACHE_FORMAT, this.base.stamp()];
    for (let sd = this.definitions.get(url), seen = new Set<string>(); sd && !seen.has(sd.url); sd = this.definitions.get(sd.baseDefinition?.split('|')[0] ?? '')) {
      seen.add(sd.url);
      let hash = contentHashes.get(sd);
      if (!hash) contentHashes.set(sd, (hash = sha256(JSON.stringify(sd))));
      parts.push(hash);
    }
    return sha256(...parts);
  }

  /** Compiles a StructureDefinition that is not (yet) in the registry, against the profiles that are. */
  check(sd: StructureDefinition): void {
    compileProfile(sd, this.sources(new Set([sd.url ?? ''])));
  }

  /** The snapshot of a profile (published or generated), or of an R4 type. */
  snapshotOf(url: string): ElementDefinition[] | undefined {
    return this.sources(new Set()).snapshotOf(url);
  }

  private readonly snapshots = new Map<string, ElementDefinition[]>();
  /** Profile discriminator checks under way (value, profile): guards against references that lead back. */
  readonly pendingConformance: Array<[Json, string]> = [];

  /** Local profiles first, then the R4 base; `visiting` guards against profiles that build on themselves. */
  private sources(visiting: Set<string>): ProfileSources {
    const base = this.base;
    const registry = this;
    return {
      base,
      isResourceType: (code) => base.isResourceType(code),
      snapshotOf(url) {
        const sd = registry.definitions.get(url);
        if (!sd) return base.snapshotOf(url);
        let snapshot = registry.snapshots.get(url);
        if (!snapshot) {
          if (visiting.has(url)) throw new SnapshotError(sd.type, `${url} is its own base`);
          snapshot = snapshotElements(sd, registry.sources(new Set([...visiting, url])));
          registry.snapshots.set(url, snapshot);
        }
        return snapshot;
      },
    };
  }

  has(url: string): boolean {
    return this.definitions.has(url.split('|')[0]);
  }

  get size(): number {
    return this.definitions.size;
  }

  /**
   * Issues of the resource against the profiles it claims (meta.profile), those required for its type, and `extra`.
   * `extensions`: every extension of the resource, when a walk that already happened found them (see
   * ExtensionCollector); otherwise the resource is walked for them here.
   */
  validate(resource: Json, extra: string[] = [], extensions?: readonly FoundExtension[]): OperationOutcomeIssue[] {
    const type = resource.resourceType as string;
    const claimed = ((resource.meta as { profile?: unknown } | undefined)?.profile ?? []) as string[];
    const required = this.options.requiredProfiles[type] ?? [];
    const issues: OperationOutcomeIssue[] = [];
    const urls = !required.length && !extra.length && !(Array.isArray(claimed) && claimed.length) ? [] : [...new Set([...required, ...extra, ...(Array.isArray(claimed) ? claimed : [])])];
    for (const url of urls) {
      const canonical = url.split('|')[0];
      if (!this.has(canonical)) {
        const requiredHere = required.includes(url);
        issues.push(ruleIssue({
          severity: requiredHere || this.options.unknownProfile === 'error' ? 'error' : 'warning',
          code: 'not-supported',
          diagnostics: `Profile ${canonical} is not known to this server, so ${type} could not be validated against it`,
          expression: [type],
        }));
        continue;
      }
      try {
        issues.push(...this.validateAgainst(resource, canonical, type));
      } catch (err) {
        // A profile that no longer compiles (its base profile was replaced by one it does not fit).
        if (!(err instanceof SnapshotError)) throw err;
        issues.push(ruleIssue({
          severity: required.includes(url) || this.options.unknownProfile === 'error' ? 'error' : 'warning',
          code: 'not-supported',
          diagnostics: `Profile ${canonical} cannot be used, so ${type} could not be validated against it: ${err.message}`,
          expression: [type],
        }));
      }
    }
    if (this.checksExtensions) this.extensions(resource, issues, extensions);
    return issues;
  }

  /** Collects extensions for validate(), leaving out the R4 core ones it passes over. */
  extensionCollector(): ExtensionCollector {
    return new ExtensionCollector((url) => this.base.isCoreExtension(url));
  }

  /** Whether validate() looks at the resource's extensions (held definitions, or unknown ones to report). */
  get checksExtensions(): boolean {
    return this.options.unknownExtensions !== 'ignore' || this.definitions.size > 0;
  }

  /**
   * Every extension of the resource whose definition is held is validated against it (value type, nested
   * extensions, bindings) and its context; one whose definition is not held (neither local nor an R4 core
   * extension) is reported per UNKNOWN_EXTENSIONS (https://hl7.org/fhir/R4/extensibility.html#exchange).
   */
  private extensions(resource: Json, issues: OperationOutcomeIssue[], found: readonly FoundExtension[] | undefined): void {
    const policy = this.options.unknownExtensions ?? 'warn';
    const check = ({ extension, at, where, modifier }: FoundExtension): void => {
      const url = (extension.url as string).split('|')[0];
      // R4 core extensions are known; they are validated against their definition only where a profile names them
      // (the R4 examples themselves use some outside their declared context).
      if (this.base.isCoreExtension(url)) return;
      if (this.definitions.has(url)) {
        const context = this.extensionContext(url, where);
        if (context) issues.push(ruleIssue({ severity: 'error', code: 'structure', diagnostics: `${at}: ${context}`, expression: [at] }));
        issues.push(...this.validateAgainst(extension, url, at));
      } else if (policy !== 'ignore') {
        issues.push(ruleIssue({
          severity: policy === 'error' ? 'error' : 'warning',
          code: 'extension',
          diagnostics: `${at}: ${modifier ? 'modifier extension' : 'extension'} ${url} is unknown to this server (its definition is not loaded), so it could not be validated`,
          expression: [at],
        }));
      }
    };
    if (found) for (const f of found) check(f);
    else forEachExtension(resource, check);
  }

  /**
   * An extension is used where its definition's `context` allows (https://hl7.org/fhir/R4/defining-extensions.html#context);
   * the reason when not. Only element contexts are judged, and only where the answer does not need the element's
   * datatype: a context naming a datatype (`Address`) is taken to allow any nested element.
   */
  private extensionContext(url: string, where: string): string | undefined {
    const contexts = this.contextsOf(url).filter((c) => c.type === 'element');
    if (!contexts.length) return undefined;
    const nested = where.includes('.');
    // A context rooted in a datatype (Address, ElementDefinition.type.code) cannot be judged without the element's
    // datatype: allowed. One rooted in a resource type must name the element (or, for the bare type, the resource).
    const allowed = contexts.some(({ expression: e }) => {
      const root = e.split('.')[0];
      return e === where || e === 'Element' || e === 'Resource' || e === 'DomainResource' || e === 'BackboneElement' || (nested && !this.base.isResourceType(root));
    });
    return allowed ? undefined : `extension ${url} is not allowed on ${where} (its context: ${contexts.map((c) => c.expression).join(', ')})`;
  }

  private rules(url: string): Rule | undefined {
    if (!this.compiled.has(url)) this.compile(url);
    return this.compiled.get(url);
  }

  /**
   * The profile's rules, from its snapshot (which holds those of its base profiles too). `resolve` finds the
   * resources references point to (in the Bundle or resource the value is nested in), for resolve() discriminators.
   */
  validateAgainst(value: Json, url: string, at: string, resolve?: Resolver): OperationOutcomeIssue[] {
    const tree = this.rules(url);
    if (!tree) return [];
    const issues: OperationOutcomeIssue[] = [];
    const resource = typeof value.resourceType === 'string';
    new Checker(this, url, issues, resource ? value : undefined, resource ? resolverFor(value, resolve) : (resolve ?? noResolver)).element(tree, value, at);
    return issues;
  }

  /** The `context` of an extension definition. */
  contextsOf(url: string): Array<{ type: string; expression: string }> {
    return (this.definitions.get(url)?.context ?? []).map((c) => ({ type: c.type, expression: c.expression }));
  }

  /** The type a profile constrains (for Reference targets and `type`/`profile` discriminators). */
  typeOf(url: string): string | undefined {
    const canonical = url.split('|')[0];
    if (canonical.startsWith('http://hl7.org/fhir/StructureDefinition/')) return this.definitions.get(canonical)?.type ?? canonical.slice(40);
    return this.definitions.get(canonical)?.type;
  }
}

/**
 * The rule tree of a profile, from its snapshot (published, or generated from its differential): nodes by element
 * id, slices under their sliced element. An element is kept with only what it says beyond its R4 base element
 * (`base.path`): the base validator checks the rest, so a snapshot costs no more to validate than its differential.
 */
export function compileProfile(sd: StructureDefinition, sources: ProfileSources): Rule {
  if (!sd.type) throw new SnapshotError('?', 'a StructureDefinition needs a type');
  const elements = snapshotElements(sd, sources);
  const root: Rule = { key: sd.type, choice: false, element: { path: sd.type } as ElementDefinition, children: [], slices: [] };
  const byId = new Map<string, Rule>([[sd.type, root]]);
  const nodeFor = (id: string): Rule => {
    const existing = byId.get(id);
    if (existing) return existing;
    const dot = lastDot(id);
    if (dot === -1) throw new SnapshotError(id, `is not inside ${sd.type}`);
    const last = id.slice(dot + 1);
    const colon = last.indexOf(':');
    const parentId = id.slice(0, dot);
    let node: Rule;
    if (colon !== -1) {
      const sliced = nodeFor(`${parentId}.${last.slice(0, colon)}`);
      node = { ...sliced, children: [], slices: [], slicing: undefined, sliceName: last.slice(colon + 1), element: { path: sliced.element.path } as ElementDefinition };
      sliced.slices.push(node);
    } else {
      const parent = nodeFor(parentId);
      const choice = last.endsWith('[x]');
      node = { key: choice ? last.slice(0, -3) : last, choice, element: { path: `${parent.element.path}.${last}` } as ElementDefinition, children: [], slices: [] };
      parent.children.push(node);
    }
    byId.set(id, node);
    return node;
  };
  for (const element of elements) {
    const id = element.id ?? element.path;
    if (id !== sd.type && !id.startsWith(`${sd.type}.`)) throw new SnapshotError(id, `does not belong to type ${sd.type}`);
    const own = beyondBase(element, sources.base.element(element.base?.path ?? element.path.replace(/:[^.]*/g, '')));
    if (!own && !element.sliceName) continue;
    const node = nodeFor(id);
    node.element = { id, path: element.path, ...(element.sliceName ? { sliceName: element.sliceName } : {}), ...own } as ElementDefinition;
    if (own?.slicing) {
      node.slicing = {
        discriminator: (own.slicing.discriminator ?? []).map((d) => ({ type: d.type, path: d.path })),
        rules: own.slicing.rules ?? 'open',
        ordered: own.slicing.ordered === true,
      };
    }
    for (const c of own?.constraint ?? []) {
      if (!c.expression) continue;
      try {
        fhirpath.parse(c.expression);
      } catch (err) {
        throw new SnapshotError(id, `constraint ${c.key} does not parse: ${(err as Error).message}`);
      }
    }
  }
  return root;
}

/** Where profiles and the R4 base definitions come from when a snapshot is generated or a profile compiled. */
export interface ProfileSources extends SnapshotSources {
  base: BaseDefinitions;
}

/** A profile's snapshot: the published one, else generated from the differential against its base. */
export function snapshotElements(sd: StructureDefinition, sources: SnapshotSources): ElementDefinition[] {
  if (sd.snapshot?.element?.length) return sd.snapshot.element;
  if (!sd.differential?.element?.length) throw new SnapshotError(sd.type ?? '?', 'has neither differential nor snapshot elements');
  return generateSnapshot(sd, sources);
}

const unversioned = (url: string | undefined): string | undefined => url?.split('|')[0];

const typeKey = (types: ElementDefinition['type']): string =>
  JSON.stringify((types ?? []).map((t) => [t.code, [...(t.profile ?? [])].sort(), [...(t.targetProfile ?? [])].sort()]).sort());

const slicingKey = (slicing: ElementDefinition['slicing']): string =>
  slicing ? JSON.stringify([slicing.discriminator ?? [], slicing.rules ?? 'open', slicing.ordered === true]) : '';

/** What an element says beyond its base element (undefined when nothing): the rules a profile adds there. */
export function beyondBase(e: ElementDefinition, b: ElementDefinition | undefined): Partial<ElementDefinition> | undefined {
  const out: Record<string, unknown> = {};
  if (e.min !== undefined && e.min !== (b?.min ?? 0)) out.min = e.min;
  if (e.max !== undefined && e.max !== (b?.max ?? '*')) out.max = e.max;
  // Reference targets are kept even when the base states them: the base validator does not check targets.
  if (e.type && (typeKey(e.type) !== typeKey(b?.type) || e.type.some((t) => t.targetProfile?.length))) out.type = e.type;
  for (const key of Object.keys(e)) {
    if (!/^(fixed|pattern|minValue|maxValue)[A-Z]|^maxLength$/.test(key)) continue;
    const value = (e as unknown as Json)[key];
    if (JSON.stringify(value) !== JSON.stringify(b && (b as unknown as Json)[key])) out[key] = value;
  }
  if (e.binding?.valueSet && (e.binding.strength !== b?.binding?.strength || unversioned(e.binding.valueSet) !== unversioned(b?.binding?.valueSet))) out.binding = e.binding;
  const baseKeys = new Set((b?.constraint ?? []).map((c) => c.key));
  const constraints = (e.constraint ?? []).filter((c) => !baseKeys.has(c.key));
  if (constraints.length) out.constraint = constraints;
  if (e.slicing && slicingKey(e.slicing) !== slicingKey(b?.slicing)) out.slicing = e.slicing;
  return Object.keys(out).length ? (out as Partial<ElementDefinition>) : undefined;
}

/** The dot before an id's last segment. */
const lastDot = (id: string): number => id.lastIndexOf('.');

const valueOfX = (element: ElementDefinition, prefix: 'fixed' | 'pattern' | 'minValue' | 'maxValue'): unknown => {
  for (const key in element) if (key.startsWith(prefix) && key.length > prefix.length && /[A-Z]/.test(key[prefix.length])) return (element as unknown as Json)[key];
  return undefined;
};

const describe = (v: unknown): string => JSON.stringify(v).slice(0, 120);

interface Found {
  key: string;
  index?: number;
  value: unknown;
  /** A primitive present only as `_x` (id and extensions, such as a data-absent-reason): counts, has no value. */
  extensionOnly?: boolean;
}

/** Values of one element of `parent` (arrays flattened), including primitives carried only by `_x`. */
function valuesOf(parent: Json, rule: Rule): Found[] {
  const out: Found[] = [];
  const push = (key: string): void => {
    const v = parent[key];
    const ext = parent[`_${key}`];
    if (Array.isArray(v)) v.forEach((value, index) => (value !== null ? out.push({ key, index, value }) : Array.isArray(ext) && ext[index] && out.push({ key, index, value: ext[index], extensionOnly: true })));
    else if (v !== undefined && v !== null) out.push({ key, value: v });
    else if (Array.isArray(ext)) ext.forEach((value, index) => value !== null && out.push({ key, index, value, extensionOnly: true }));
    else if (ext !== undefined && ext !== null) out.push({ key, value: ext, extensionOnly: true });
  };
  if (!rule.choice) push(rule.key);
  else {
    const keys = new Set<string>();
    for (const raw of Object.keys(parent)) {
      const key = raw.startsWith('_') ? raw.slice(1) : raw;
      if (key.startsWith(rule.key) && /^[A-Z]/.test(key.slice(rule.key.length))) keys.add(key);
    }
    for (const key of keys) push(key);
  }
  return out;
}

/** pattern[x] semantics: every property of the pattern is present with a matching value; arrays match by containment. */
export function matchesPattern(value: unknown, pattern: unknown): boolean {
  if (pattern === null || typeof pattern !== 'object') return value === pattern;
  if (Array.isArray(pattern)) return Array.isArray(value) && pattern.every((p) => value.some((v) => matchesPattern(v, p)));
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  return Object.entries(pattern).every(([k, p]) => matchesPattern((value as Json)[k], p));
}

function deepEqual(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

class Checker {
  constructor(
    private readonly registry: ProfileRegistry,
    private readonly profile: string,
    private readonly issues: OperationOutcomeIssue[],
    /** The resource being validated, %resource of constraints. */
    private readonly root: Json | undefined,
    private readonly resolve: Resolver,
  ) {}

  /** Issues already reported (a slice restating a rule of the element it slices reports it once). */
  private readonly reported = new Set<string>();

  private report(severity: 'error' | 'warning', code: OperationOutcomeIssue['code'], at: string, text: string, element?: ElementDefinition): void {
    const key = `${severity}|${at}|${text}`;
    if (this.reported.has(key)) return;
    this.reported.add(key);
    const id = element?.id ?? element?.path;
    this.issues.push(ruleIssue({ severity, code, diagnostics: `${at}: ${text} (profile ${this.profile}${id ? `, element ${id}` : ''})`, expression: [at] }));
  }

  /** Rules of one value of `rule` (after its own cardinality was checked by the parent). */
  element(rule: Rule, value: unknown, at: string): void {
    const e = rule.element;
    const fixed = valueOfX(e, 'fixed');
    if (fixed !== undefined && !deepEqual(value, fixed)) this.report('error', 'value', at, `must be exactly ${describe(fixed)}, found ${describe(value)}`, e);
    const pattern = valueOfX(e, 'pattern');
    if (pattern !== undefined && !matchesPattern(value, pattern)) this.report('error', 'value', at, `must match the pattern ${describe(pattern)}, found ${describe(value)}`, e);
    if (e.maxLength !== undefined && typeof value === 'string' && value.length > e.maxLength) this.report('error', 'value', at, `is ${value.length} characters long, at most ${e.maxLength} allowed`, e);
    this.range(e, value, at);
    if (e.binding?.valueSet) this.binding(e, value, at);
    if (e.constraint) this.constraints(e, value, at);
    if (typeof value !== 'object' || value === null) return;
    this.references(e, value as Json, at);
    for (const child of rule.children) this.child(child, value as Json, at);
  }

  private child(rule: Rule, parent: Json, at: string): void {
    const values = valuesOf(parent, rule);
    const e = rule.element;
    const path = (v: { key: string; index?: number }): string => `${at}.${v.key}${v.index !== undefined ? `[${v.index}]` : ''}`;
    this.cardinality(e, values.length, `${at}.${rule.key}`, rule.sliceName);
    if (rule.choice && e.type?.length) {
      const allowed = new Set(e.type.map((t) => rule.key + capitalize(t.code)));
      for (const v of values) if (!allowed.has(v.key)) this.report('error', 'structure', path(v), `type not allowed here; allowed: ${[...allowed].join(', ')}`, e);
    }
    const assigned = this.slice(rule, values, at);
    values.forEach((v, i) => {
      if (v.extensionOnly) return;
      this.element(rule, v.value, path(v));
      const slice = assigned[i];
      if (slice) this.element(slice, v.value, path(v));
      this.typeProfiles(slice ?? rule, v.value, path(v));
    });
  }

  private cardinality(e: ElementDefinition, count: number, at: string, sliceName?: string): void {
    const what = sliceName ? `slice '${sliceName}'` : 'element';
    if (e.min !== undefined && count < e.min) this.report('error', 'required', at, `${what} has ${count} value(s), at least ${e.min} required`, e);
    if (e.max !== undefined && e.max !== '*' && count > Number(e.max)) this.report('error', 'structure', at, `${what} has ${count} value(s), at most ${e.max} allowed`, e);
  }

  /** Assigns each value to its slice and checks slice cardinality, closed/openAtEnd and order (https://hl7.org/fhir/R4/profiling.html#slicing). */
  private slice(rule: Rule, values: Found[], at: string): Array<Rule | undefined> {
    if (!rule.slices.length) return values.map(() => undefined);
    const slicing = rule.slicing ?? { discriminator: rule.key === 'extension' || rule.key === 'modifierExtension' ? [{ type: 'value', path: 'url' }] : [], rules: 'open' as const, ordered: false };
    const assigned = values.map((v) => rule.slices.find((s) => this.inSlice(s, slicing, v.value, rule.choice ? v.key.slice(rule.key.length) : undefined)));
    for (const s of rule.slices) this.cardinality(s.element, assigned.filter((a) => a === s).length, `${at}.${rule.key}`, s.sliceName);
    const at0 = (i: number): string => `${at}.${values[i].key}${values[i].index !== undefined ? `[${values[i].index}]` : ''}`;
    let lastMatched = -1;
    let sawUnmatched = false;
    assigned.forEach((slice, i) => {
      if (!slice) {
        sawUnmatched = true;
        if (slicing.rules === 'closed') this.report('error', 'structure', at0(i), `matches none of the slices of ${rule.element.id ?? rule.key} (slicing is closed)`, rule.element);
        return;
      }
      if (sawUnmatched && slicing.rules === 'openAtEnd') this.report('error', 'structure', at0(i), `slice '${slice.sliceName}' after an unsliced value (slicing is openAtEnd)`, rule.element);
      const order = rule.slices.indexOf(slice);
      if (slicing.ordered && order < lastMatched) this.report('error', 'structure', at0(i), `slice '${slice.sliceName}' out of order (slicing is ordered)`, rule.element);
      lastMatched = Math.max(lastMatched, order);
    });
    return assigned;
  }

  /** Whether a value belongs to a slice; `choiceType` is the type suffix of a choice element's value (`Quantity`). */
  private inSlice(slice: Rule, slicing: Slicing, value: unknown, choiceType?: string): boolean {
    if (!slicing.discriminator.length) return false;
    if (choiceType !== undefined && slicing.discriminator.every((d) => d.type === 'type' && d.path === '$this')) {
      return slice.sliceName === slice.key + choiceType || (slice.element.type ?? []).some((t) => capitalize(t.code) === choiceType);
    }
    return slicing.discriminator.every((d) => {
      const segments = parseDiscriminatorPath(d.path);
      const target = segments.length ? findRule(slice, segments) : slice;
      const values = segments.length ? discriminatorValues(value, segments, this.resolve) : [value];
      const resolved = segments[segments.length - 1]?.kind === 'resolve';
      switch (d.type) {
        case 'value':
        case 'pattern': {
          if (d.path === 'url' && !target) {
            const url = slice.element.type?.[0]?.profile?.[0];
            return url !== undefined && values.includes(url);
          }
          const expected = target && (valueOfX(target.element, 'fixed') ?? valueOfX(target.element, 'pattern'));
          if (expected === undefined) {
            const url = d.path === 'url' ? slice.element.type?.[0]?.profile?.[0] : undefined;
            return url !== undefined && values.includes(url);
          }
          return values.some((v) => (d.type === 'value' && valueOfX(target!.element, 'fixed') !== undefined ? deepEqual(v, expected) : matchesPattern(v, expected)));
        }
        case 'exists': {
          const mustExist = (target?.element.min ?? 0) > 0;
          const mustNot = target?.element.max === '0';
          return mustExist ? values.length > 0 : mustNot ? values.length === 0 : true;
        }
        case 'type': {
          // Through resolve(), the types are those of the reference's target profiles.
          const types = (target ?? slice).element.type ?? [];
          const codes = resolved ? types.flatMap((t) => t.targetProfile ?? []).map((p) => this.registry.typeOf(p)) : types.map((t) => t.code);
          return values.some((v) => codes.some((c) => typeof v === 'object' && v !== null && ((v as Json).resourceType === c || c === 'Resource')));
        }
        case 'profile': {
          const types = (target ?? slice).element.type ?? [];
          const profiles = types.flatMap((t) => (resolved ? (t.targetProfile ?? []) : (t.profile ?? []))).map((p) => p.split('|')[0]);
          return values.some((v) => typeof v === 'object' && v !== null && profiles.some((p) => this.conforms(v as Json, p)));
        }
        default:
          return false;
      }
    });
  }

  /**
   * Whether a value conforms to a profile (no errors), for profile discriminators. A resource that resolve() could
   * not find counts when its type is the profile's type: it cannot be checked, and is not refused for that.
   */
  private conforms(value: Json, profile: string): boolean {
    if ((value as { [UNRESOLVED]?: true })[UNRESOLVED]) return this.registry.typeOf(profile) === value.resourceType;
    if (!this.registry.has(profile)) return false;
    // A resource whose check is already under way (references that lead back to it) is taken to conform.
    const pending = this.registry.pendingConformance;
    if (pending.some(([v, p]) => v === value && p === profile)) return true;
    pending.push([value, profile]);
    try {
      return this.registry.validateAgainst(value, profile, 'x', this.resolve).every((i) => i.severity !== 'error');
    } finally {
      pending.pop();
    }
  }

  private range(e: ElementDefinition, value: unknown, at: string): void {
    const min = valueOfX(e, 'minValue');
    const max = valueOfX(e, 'maxValue');
    const v = typeof value === 'object' && value !== null && 'value' in (value as Json) ? (value as Json).value : value;
    const bound = (b: unknown): unknown => (typeof b === 'object' && b !== null ? (b as Json).value : b);
    if (min !== undefined && v !== undefined && (v as number | string) < (bound(min) as number | string)) this.report('error', 'value', at, `${describe(v)} is below the minimum ${describe(bound(min))}`, e);
    if (max !== undefined && v !== undefined && (v as number | string) > (bound(max) as number | string)) this.report('error', 'value', at, `${describe(v)} is above the maximum ${describe(bound(max))}`, e);
  }

  /** https://hl7.org/fhir/R4/terminologies.html#strength */
  private binding(e: ElementDefinition, value: unknown, at: string): void {
    const strength = e.binding?.strength;
    if (strength !== 'required' && strength !== 'extensible') return;
    const url = e.binding!.valueSet as string;
    const codings: Array<{ system?: string; code?: string }> =
      typeof value === 'string'
        ? [{ code: value }]
        : Array.isArray((value as Json)?.coding)
          ? ((value as Json).coding as Array<{ system?: string; code?: string }>)
          : typeof value === 'object' && value !== null && ('code' in (value as Json) || 'system' in (value as Json))
            ? [value as { system?: string; code?: string }]
            : [];
    if (!this.registry.terminology.hasValueSet(url)) {
      this.report('warning', 'not-supported', at, `${strength} binding to ${url} is not checkable: the value set is not held by this server`, e);
      return;
    }
    const results = codings.map((c) => (c.system === undefined && typeof value === 'string' ? this.codeOnly(url, c.code) : this.registry.terminology.member(url, c.system, c.code)));
    if (results.includes('member')) return;
    if (results.includes('unknown')) {
      this.report('warning', 'code-invalid', at, `code(s) ${describe(codings)} not checkable against ${url}: their code system is not held by this server`, e);
      return;
    }
    const severity = strength === 'required' ? 'error' : 'warning';
    this.report(severity, 'code-invalid', at, codings.length ? `${describe(codings)} is not in the ${strength} value set ${url}` : `has no code, but the ${strength} value set ${url} applies`, e);
  }

  /** A `code` value bound to a value set: a member when some included system has the code. */
  private codeOnly(url: string, code: string | undefined): 'member' | 'not-member' | 'unknown' {
    return this.registry.terminology.memberCode(url, code);
  }

  private constraints(e: ElementDefinition, value: unknown, at: string): void {
    for (const c of e.constraint ?? []) {
      // Constraints restated from the base definitions are evaluated (natively) by the base validator already.
      if (!c.expression || isBaseConstraint(c.key) || c.source?.startsWith('http://hl7.org/fhir/StructureDefinition/')) continue;
      const definition: ConstraintDefinition = {
        key: c.key,
        severity: c.severity === 'error' ? 'error' : 'warning',
        human: c.human,
        expression: c.expression,
        source: c.source ?? this.profile,
      };
      let holds: boolean;
      try {
        holds = this.registry.constraintTest(definition, e.path, e.type?.length === 1 ? e.type[0].code : undefined)(value, this.root ?? value);
      } catch (err) {
        this.report('warning', 'invariant', at, `constraint ${c.key} could not be evaluated: ${(err as Error).message}`, e);
        continue;
      }
      if (!holds) this.report(definition.severity, 'invariant', at, `constraint ${c.key} failed: ${c.human}`, e);
    }
  }

  /** targetProfile of Reference elements: the reference's type must be one of the targets' types. */
  private references(e: ElementDefinition, value: Json, at: string): void {
    const targets = (e.type ?? []).filter((t) => t.code === 'Reference').flatMap((t) => t.targetProfile ?? []);
    const reference = value.reference;
    if (!targets.length || typeof reference !== 'string' || reference.startsWith('#')) return;
    const type = /(?:^|\/)([A-Z][A-Za-z]+)\/[A-Za-z0-9\-.]{1,64}(?:\/_history\/[^/]+)?$/.exec(reference)?.[1];
    const allowed = targets.map((t) => this.registry.typeOf(t)).filter((t): t is string => !!t);
    if (allowed.includes('Resource') || allowed.includes('DomainResource')) return;
    if (type && allowed.length && !allowed.includes(type)) this.report('error', 'structure', at, `refers to a ${type}; allowed targets: ${allowed.join(', ')}`, e);
  }

  /**
   * A value whose element names a profile for its type is validated against it; an extension carrying its own url
   * is validated against its definition by the registry's walk over every extension, not here again.
   */
  private typeProfiles(rule: Rule, value: unknown, at: string): void {
    if (typeof value !== 'object' || value === null) return;
    // Only the profiles of the value's own type (Bundle.entry.resource may be a List with a profile or a Patient).
    const resourceType = (value as Json).resourceType;
    const declared = rule.element.type?.filter((t) => typeof resourceType !== 'string' || t.code === resourceType || t.code === 'Resource').flatMap((t) => t.profile ?? []) ?? [];
    const url = (value as Json).url;
    const own = (rule.key === 'extension' || rule.key === 'modifierExtension') && typeof url === 'string' ? url.split('|')[0] : undefined;
    for (const profile of new Set(declared.map((p) => p.split('|')[0]))) {
      if (profile === this.profile || profile === own || !this.registry.has(profile)) continue;
      this.issues.push(...this.registry.validateAgainst(value as Json, profile, at, this.resolve));
    }
  }
}

/** Keys of the base definitions' invariants: the base validator evaluates those already. */
function isBaseConstraint(key: string): boolean {
  return /^(ele|ext|dom|txt|ref)-\d+$/.test(key);
}

/** The rule a discriminator path leads to inside a slice (`extension('url')` is that extension's slice). */
function findRule(rule: Rule, segments: Segment[]): Rule | undefined {
  let node: Rule | undefined = rule;
  for (const segment of segments) {
    const parent: Rule = node;
    if (segment.kind === 'resolve') continue;
    if (segment.kind === 'extension') {
      const extension = parent.children.find((c) => c.key === 'extension');
      node = extension?.slices.find((s) => s.element.type?.some((t) => t.profile?.some((p) => p.split('|')[0] === segment.url)) || valueOfX(findRule(s, [{ kind: 'name', name: 'url', choice: false }])?.element ?? ({} as ElementDefinition), 'fixed') === segment.url);
    } else {
      node = parent.children.find((c) => c.key === segment.name);
      // A type-specific choice name (valueQuantity): the type slice of value[x].
      node ??= parent.children.filter((c) => c.choice && segment.name.startsWith(c.key)).flatMap((c) => c.slices).find((s) => s.sliceName === segment.name);
    }
    if (!node) return undefined;
  }
  return node;
}
