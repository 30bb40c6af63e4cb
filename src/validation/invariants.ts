/**
 * FHIRPath invariants of the R4 base definitions (https://hl7.org/fhir/R4/conformance-rules.html#constraints),
 * at their severity: every `constraint` of every element and type in generated/validation/invariants.json, plus
 * ele-1 ("All FHIR elements must have a @value or children") checked natively on every object.
 *
 * One walk over the resource visits each value with the node describing it; a constraint is evaluated only on
 * values of its element that are present. Each constraint is compiled once, on first use, into the cheapest form
 * that is exact: the native closures of fhirpath-native.ts; else a guard (a native disjunct that proves it true)
 * in front of fhirpath.js; and, when the expression only reads elements of its context, the result on an empty
 * value is reused whenever none of those elements is present.
 */
import * as fhirpath from 'fhirpath';
import * as r4 from 'fhirpath/fhir-context/r4';
import type { Model } from 'fhirpath';
import type { OperationOutcomeIssue } from '../core/outcome';
import {
  BAIL,
  compileGuards,
  compileNative,
  contextNames,
  matches,
  parseFhirPath,
  type ElementKeys,
  type Env,
  type Evaluate,
  type NavigableNode,
  type NodeLookup,
  type StaticType,
} from './fhirpath-native';
import type { ExtensionCollector } from './extensions';
import { NATIVE_INVARIANTS } from './native-invariants';
import { ruleIssue } from './rule-issues';
import type { ChildDefinition, ConstraintDefinition, InvariantDefinitions, InvariantNode } from './invariants-format';

const model = r4 as unknown as Model;
const noTrace = (): void => undefined;

/** fhirpath.js's own matches() uses a unicode-mode RegExp, which rejects the R4 regexes; see matches(). */
const userInvocationTable = {
  matches: {
    fn: (inputs: unknown[], regex: unknown): boolean[] => {
      if (!inputs.length || typeof regex !== 'string') return [];
      if (inputs.length > 1 || typeof inputs[0] !== 'string') throw new Error('matches() expects a single string');
      return [matches(inputs[0], regex)];
    },
    arity: { 1: ['String'] },
  },
};

/** A constraint compiled for one context: true when it holds, false when it fails. */
interface CompiledConstraint {
  definition: ConstraintDefinition;
  test(value: unknown, env: Env): boolean;
}

/** The runtime form of an InvariantNode: navigable, with its constraints compiled on first use. */
class Node implements NavigableNode {
  readonly path: string;
  readonly resource: boolean;
  readonly byName = new Map<string, ElementKeys>();
  /** JSON key -> child, for the walk. */
  readonly children = new Map<string, Child>();
  private compiledConstraints: CompiledConstraint[] | undefined;
  private compiledContained: CompiledConstraint[] | undefined;

  constructor(
    readonly id: string,
    private readonly definition: InvariantNode,
  ) {
    this.path = definition.path;
    this.resource = definition.resource === true;
  }

  link(invariants: Invariants): void {
    for (const [key, child] of Object.entries(this.definition.children)) {
      const node = child.node ? invariants.node(child.node) : undefined;
      this.children.set(key, new Child(key, child, node, this));
      if (key.startsWith('_')) continue;
      const entry = this.byName.get(child.name);
      const type: StaticType = child.kind === 'primitive' ? 'primitive' : child.kind === 'resource' ? 'any' : (node ?? 'any');
      if (!entry) this.byName.set(child.name, { keys: [key], extensionKeys: [`_${key}`], type });
      else {
        entry.keys.push(key);
        entry.extensionKeys.push(`_${key}`);
        if (entry.type !== type) entry.type = 'mixed';
      }
    }
  }

  /** Choices with many variants get a key index (see navigate()). */
  indexChoices(): void {
    for (const entry of this.byName.values()) if (entry.keys.length > 6) entry.index = new Map(entry.keys.map((k, i) => [k, i]));
  }

  constraints(invariants: Invariants): CompiledConstraint[] {
    this.compiledConstraints ??= (this.definition.constraints ?? []).map((c) => invariants.compile(c, this.path, this));
    return this.compiledConstraints;
  }

  /** A contained resource is described by its container's narrative: dom-6 (narrative) is not asked of it. */
  containedConstraints(invariants: Invariants): CompiledConstraint[] {
    this.compiledContained ??= this.constraints(invariants).filter((c) => c.definition.key !== 'dom-6');
    return this.compiledContained;
  }
}

class Child {
  private compiledConstraints: CompiledConstraint[] | undefined;
  /** `extension` or `modifierExtension`: its values are reported to an ExtensionCollector. */
  readonly extension: boolean;

  constructor(
    readonly key: string,
    readonly definition: ChildDefinition,
    readonly node: Node | undefined,
    private readonly parent: Node,
  ) {
    this.extension = key === 'extension' || key === 'modifierExtension';
  }

  constraints(invariants: Invariants): CompiledConstraint[] {
    if (!this.compiledConstraints) {
      const path = this.node && this.node.path.includes('.') ? this.node.path : `${this.parent.path}.${this.definition.name}`;
      const context: StaticType = this.definition.kind === 'primitive' ? 'primitive' : (this.node ?? 'any');
      this.compiledConstraints = (this.definition.constraints ?? []).map((c) => invariants.compile(c, path, context));
    }
    return this.compiledConstraints;
  }
}

/** Where the walk is: segments of the FHIRPath location, joined only when an issue is reported. */
type Location = Array<string | number>;

const locationText = (location: Location): string => {
  let text = '';
  for (const segment of location) text += typeof segment === 'number' ? `[${segment}]` : text ? `.${segment}` : segment;
  return text;
};

export class Invariants implements NodeLookup {
  private readonly nodes = new Map<string, Node>();
  /** Parsing is the costly part of compiling (ANTLR); dom-2…dom-6 alone recur on all 146 resource types. */
  private readonly parsed = new Map<string, ReturnType<typeof parseFhirPath> | null>();
  readonly skipped: InvariantDefinitions['skipped'];

  constructor(definitions: InvariantDefinitions) {
    for (const [id, definition] of Object.entries(definitions.nodes)) this.nodes.set(id, new Node(id, definition));
    for (const node of this.nodes.values()) node.link(this);
    for (const node of this.nodes.values()) node.indexChoices();
    this.skipped = definitions.skipped;
  }

  node(id: string): Node | undefined {
    return this.nodes.get(id);
  }

  resourceNode(type: string): Node | undefined {
    const node = this.nodes.get(type);
    return node?.resource ? node : undefined;
  }

  /**
   * Every failed invariant of the resource (errors and warnings), each with its key and location. The walk visits
   * every element of a structurally valid resource; `extensions` is told of each extension it passes.
   */
  check(resource: Record<string, unknown>, extensions?: ExtensionCollector): OperationOutcomeIssue[] {
    const issues: OperationOutcomeIssue[] = [];
    const type = resource.resourceType;
    const node = typeof type === 'string' ? this.resourceNode(type) : undefined;
    if (!node) return issues;
    this.visitResource(resource, node, resource, [type as string], issues, extensions);
    return issues;
  }

  /**
   * A profile's constraint on the element at `path` whose values have type `typeCode`: compiled like the base ones
   * (native where possible). Returns a test: true holds, false fails; it throws when the expression cannot be evaluated.
   */
  compileAt(definition: ConstraintDefinition, path: string, typeCode: string | undefined): (value: unknown, resource: unknown) => boolean {
    const base = path.replace(/\[x\]/g, '');
    const context: StaticType = this.nodes.get(base) ?? (typeCode ? this.nodes.get(typeCode) : undefined) ?? 'any';
    const compiled = this.compile(definition, base, context);
    return (value, resource) => compiled.test(value, { resource, rootResource: resource });
  }

  compile(definition: ConstraintDefinition, path: string, context: StaticType): CompiledConstraint {
    const nativeInvariant = NATIVE_INVARIANTS[`${definition.source}#${definition.key}`];
    if (nativeInvariant) return { definition, test: (value) => nativeInvariant(value) };
    const ast = this.parse(definition.expression);
    if (!ast) return { definition, test: () => true };
    const native = compileNative(ast, context, this);
    let full: Evaluate | undefined;
    const engine = (value: unknown, env: Env): boolean => {
      full ??= compileEngine(definition.expression, path);
      return holds(full([value], env));
    };
    if (native) {
      return {
        definition,
        test: (value, env) => {
          try {
            return holds(native([value], env));
          } catch (err) {
            if (err === BAIL) return engine(value, env);
            throw err;
          }
        },
      };
    }
    const guards = compileGuards(ast, context, this);
    const names = typeof context === 'object' ? contextNames(ast) : undefined;
    const keys = names && typeof context === 'object' ? [...names].flatMap((n) => context.byName.get(n)?.keys.flatMap((k) => [k, `_${k}`]) ?? []) : undefined;
    let whenAbsent: boolean | undefined;
    return {
      definition,
      test: (value, env) => {
        for (const guard of guards) if (guard([value], env)) return true;
        if (keys && typeof value === 'object' && value !== null && !keys.some((k) => (value as Record<string, unknown>)[k] !== undefined)) {
          const empty = typeof context === 'object' && context.resource ? { resourceType: context.path } : {};
          whenAbsent ??= engine(empty, { resource: empty, rootResource: empty });
          return whenAbsent;
        }
        return engine(value, env);
      },
    };
  }

  private parse(expression: string): ReturnType<typeof parseFhirPath> | null {
    let ast = this.parsed.get(expression);
    if (ast === undefined) {
      try {
        ast = parseFhirPath(expression);
      } catch {
        ast = null;
      }
      this.parsed.set(expression, ast);
    }
    return ast;
  }

  private visitResource(
    resource: Record<string, unknown>,
    node: Node,
    root: Record<string, unknown>,
    location: Location,
    issues: OperationOutcomeIssue[],
    extensions: ExtensionCollector | undefined,
  ): void {
    const env: Env = { resource, rootResource: root };
    this.evaluate(resource === root ? node.constraints(this) : node.containedConstraints(this), resource, env, location, issues);
    extensions?.enterResource(resource.resourceType as string, location.length);
    this.visitChildren(resource, node, env, location, issues, extensions);
    extensions?.leaveResource();
  }

  private visitChildren(value: Record<string, unknown>, node: Node, env: Env, location: Location, issues: OperationOutcomeIssue[], extensions: ExtensionCollector | undefined): void {
    for (const key in value) {
      const child = node.children.get(key);
      if (!child) continue;
      const content = value[key];
      location.push(key);
      if (Array.isArray(content)) {
        for (let i = 0; i < content.length; i++) {
          if (content[i] === null || content[i] === undefined) continue;
          location.push(i);
          this.visitValue(content[i], child, env, location, issues, extensions);
          location.pop();
        }
      } else if (content !== null && content !== undefined) {
        this.visitValue(content, child, env, location, issues, extensions);
      }
      location.pop();
    }
  }

  private visitValue(value: unknown, child: Child, env: Env, location: Location, issues: OperationOutcomeIssue[], extensions: ExtensionCollector | undefined): void {
    const kind = child.definition.kind;
    if (child.definition.constraints) this.evaluate(child.constraints(this), value, env, location, issues);
    if (kind === 'primitive' || typeof value !== 'object' || value === null || Array.isArray(value)) return;
    const object = value as Record<string, unknown>;
    if (kind === 'resource') {
      const type = object.resourceType;
      const node = typeof type === 'string' ? this.resourceNode(type) : undefined;
      if (!node) return;
      const root = child.key === 'contained' ? (env.rootResource as Record<string, unknown>) : object;
      this.visitResource(object, node, root, location, issues, extensions);
      return;
    }
    if (child.extension && extensions) extensions.add(object, location, child.key === 'modifierExtension');
    if (!hasContent(object)) issues.push(elementWithoutContent(locationText(location)));
    const node = child.node;
    if (!node) return;
    this.evaluate(node.constraints(this), value, env, location, issues);
    this.visitChildren(object, node, env, location, issues, extensions);
  }

  private evaluate(constraints: CompiledConstraint[], value: unknown, env: Env, location: Location, issues: OperationOutcomeIssue[]): void {
    for (let i = 0; i < constraints.length; i++) {
      const constraint = constraints[i];
      let ok: boolean;
      try {
        ok = constraint.test(value, env);
      } catch (err) {
        issues.push(notEvaluated(constraint.definition, locationText(location), err));
        continue;
      }
      if (!ok) issues.push(constraintFailed(constraint.definition, locationText(location)));
    }
  }
}

/** ele-1: a value, or children other than id (https://hl7.org/fhir/R4/element.html#invs). */
function hasContent(object: Record<string, unknown>): boolean {
  for (const key in object) if (key !== 'id' && object[key] !== undefined) return true;
  return false;
}

/**
 * The result of an invariant: true holds; false fails; an empty result holds too (the expression could not be
 * decided, e.g. comparing dates of different precision), as does any other single value.
 */
function holds(result: unknown[]): boolean {
  return !(result.length === 1 && result[0] === false);
}

function compileEngine(expression: string, base: string): Evaluate {
  // The user invocation table makes every evaluation several times slower: only where matches() is used.
  const options = expression.includes('matches(') ? { traceFn: noTrace, userInvocationTable } : { traceFn: noTrace };
  const compiled = fhirpath.compile({ base, expression }, model, options as never);
  return (focus, env) => compiled(focus[0], { resource: env.resource, rootResource: env.rootResource } as never) as unknown[];
}

const ELE_1: ConstraintDefinition = {
  key: 'ele-1',
  severity: 'error',
  human: 'All FHIR elements must have a @value or children',
  expression: 'hasValue() or (children().count() > id.count())',
  source: 'http://hl7.org/fhir/StructureDefinition/Element',
};

const elementWithoutContent = (at: string): OperationOutcomeIssue => constraintFailed(ELE_1, at);

/** https://hl7.org/fhir/R4/operationoutcome.html: code `invariant`, the constraint key as details, its text as diagnostics. */
function constraintFailed(c: ConstraintDefinition, at: string): OperationOutcomeIssue {
  return ruleIssue({
    severity: c.severity,
    code: 'invariant',
    details: { coding: [{ system: c.source, code: c.key }], text: c.key },
    diagnostics: `${at}: constraint ${c.key} failed: ${c.human} (${c.expression})`,
    expression: [at],
  });
}

function notEvaluated(c: ConstraintDefinition, at: string, err: unknown): OperationOutcomeIssue {
  return {
    severity: 'warning',
    code: 'invariant',
    details: { coding: [{ system: c.source, code: c.key }], text: c.key },
    diagnostics: `${at}: constraint ${c.key} could not be evaluated: ${err instanceof Error ? err.message : String(err)}`,
    expression: [at],
  };
}
