/**
 * A compiler of the FHIRPath subset most invariants are written in (https://hl7.org/FHIRPath/N1/) into plain
 * closures over the JSON, typed by the invariant nodes: member navigation (choice elements included), empty(),
 * exists(), not(), hasValue(), count(), where(), all(), first(), startsWith(), contains(), trace(), the boolean
 * operators with FHIRPath's three-valued logic, = and != on primitives, < > <= >= + - on numbers, `in` and `|`.
 * fhirpath.js costs 5–15 µs per evaluation; these closures well under 1 µs, which is what keeps invariants on every
 * element affordable. Whatever is outside the subset fails to compile (the caller falls back to fhirpath.js); a
 * value the closures cannot judge exactly at run time (a primitive with an `_x` extension, a date comparison, a
 * non-boolean operand) throws BAIL, and the caller evaluates that instance with fhirpath.js.
 */
import * as fhirpath from 'fhirpath';

/** Thrown (not an Error: no stack to capture) when an instance needs the full engine. */
export const BAIL = { bail: true } as const;

export interface Env {
  resource: unknown;
  rootResource: unknown;
}

/** A compiled expression: the focus collection in, the result collection out. */
export type Evaluate = (focus: unknown[], env: Env) => unknown[];

/** What member navigation needs to know of a node: per element name, its JSON keys and what they hold. */
export interface NavigableNode {
  /** Type name or backbone path (for a resource root, its type). */
  readonly path: string;
  readonly resource: boolean;
  readonly byName: ReadonlyMap<string, ElementKeys>;
}

export interface ElementKeys {
  /** JSON property names: `value` for a plain element, `valueQuantity`, `valueString`… for a choice. */
  keys: string[];
  /** `_x` of each key, where a primitive's id and extensions are. */
  extensionKeys: string[];
  /** Key -> its index in `keys`, for choices with many variants (Extension.value[x] has 50). */
  index?: Map<string, number>;
  /** The static type of its values: a node, `primitive`, or `mixed`/`any` when it depends on the instance. */
  type: StaticType;
}

export type StaticType = NavigableNode | 'primitive' | 'mixed' | 'any';

export interface NodeLookup {
  /** The node of a resource type, for navigating into resources found at run time (%resource, contained). */
  resourceNode(type: string): NavigableNode | undefined;
}

interface Ast {
  type: string;
  text?: string;
  atRoot?: number;
  children?: Ast[];
}

class Unsupported extends Error {}

interface Compiled {
  fn: Evaluate;
  type: StaticType;
}

const UCUM = 'http://unitsofmeasure.org';
/** Nodes of objects reached by run-time navigation (see navigateDynamic). */
const dynamicNodes = new WeakMap<object, NavigableNode>();
const TRUE = [true];
const FALSE = [false];
const EMPTY: unknown[] = [];

export function parseFhirPath(expression: string): Ast {
  return fhirpath.parse(expression) as Ast;
}

/** The expression compiled for values of `context`, or undefined when it uses something outside the subset. */
export function compileNative(ast: Ast, context: StaticType, lookup: NodeLookup): Evaluate | undefined {
  try {
    return new Compiler(lookup).expression(unwrap(ast), context).fn;
  } catch (err) {
    if (err instanceof Unsupported) return undefined;
    throw err;
  }
}

/**
 * `A or B or …` and `A implies B` split into what proves the whole holds: any disjunct true, A false or B true.
 * An empty result proves it too, because an invariant whose result is empty holds (see holds() in invariants.ts):
 * `{} or B` is true or empty, `{} implies B` is true or empty.
 */
export function compileGuards(ast: Ast, context: StaticType, lookup: NodeLookup): Array<(focus: unknown[], env: Env) => boolean> {
  const root = unwrap(ast);
  const guards: Array<(focus: unknown[], env: Env) => boolean> = [];
  const add = (part: Ast, proves: boolean): void => {
    const fn = compileNative(part, context, lookup);
    if (!fn) {
      const absent = typeof context === 'object' ? whenLeadingElementAbsent(part, context) : undefined;
      if (absent && (absent.result === proves || absent.result === undefined)) guards.push((focus) => absent.absent(focus[0]));
      return;
    }
    guards.push((focus, env) => {
      try {
        const result = fn(focus, env);
        return result.length === 0 || (result.length === 1 && result[0] === proves);
      } catch (err) {
        if (err === BAIL) return false;
        throw err;
      }
    });
  };
  if (root.type === 'ImpliesExpression') {
    add(root.children![0], false);
    add(root.children![1], true);
  } else {
    for (const part of disjuncts(root)) add(part, true);
  }
  return guards;
}

function disjuncts(ast: Ast): Ast[] {
  if (ast.type === 'OrExpression' && ast.text === 'or') return ast.children!.flatMap(disjuncts);
  return [ast];
}

const unwrap = (ast: Ast): Ast => (ast.type === 'EntireExpression' && ast.children?.length === 1 ? unwrap(ast.children[0]) : ast);

/** [] → undefined, [true]/[false] → the boolean; anything else is not a Boolean FHIRPath can use here. */
function asBoolean(collection: unknown[]): boolean | undefined {
  if (collection.length === 0) return undefined;
  if (collection.length === 1 && typeof collection[0] === 'boolean') return collection[0];
  throw BAIL;
}

const bool = (value: boolean | undefined): unknown[] => (value === undefined ? EMPTY : value ? TRUE : FALSE);

const isPrimitive = (v: unknown): v is string | number | boolean => typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';

function single(collection: unknown[]): unknown {
  if (collection.length > 1) throw BAIL;
  return collection[0];
}

class Compiler {
  constructor(private readonly lookup: NodeLookup) {}

  expression(ast: Ast, context: StaticType): Compiled {
    const c = ast.children ?? [];
    switch (ast.type) {
      case 'TermExpression':
        return this.term(c[0], context);
      case 'InvocationExpression': {
        const base = this.expression(c[0], context);
        return this.invocation(c[1], base, context);
      }
      case 'OrExpression':
      case 'AndExpression':
      case 'ImpliesExpression':
        return this.logic(ast.type === 'OrExpression' ? (ast.text as string) : ast.type === 'AndExpression' ? 'and' : 'implies', c, context);
      case 'EqualityExpression':
        return this.equality(ast.text as string, c, context);
      case 'InequalityExpression':
        return this.comparison(ast.text as string, c, context);
      case 'AdditiveExpression':
        return this.arithmetic(ast.text as string, c, context);
      case 'MembershipExpression':
        return this.membership(ast.text as string, c, context);
      case 'UnionExpression':
        return this.union(c, context);
      case 'PolarityExpression': {
        const operand = this.expression(c[0], context);
        if (ast.text !== '-') return operand;
        return {
          type: 'primitive',
          fn: (focus, env) => {
            const v = single(operand.fn(focus, env));
            if (v === undefined) return EMPTY;
            if (typeof v !== 'number') throw BAIL;
            return [-v];
          },
        };
      }
      default:
        throw new Unsupported(ast.type);
    }
  }

  private term(ast: Ast, context: StaticType): Compiled {
    const c = ast.children ?? [];
    switch (ast.type) {
      case 'ParenthesizedTerm':
        return this.expression(c[0], context);
      case 'LiteralTerm':
        return this.literal(c[0]);
      case 'ExternalConstantTerm': {
        const name = c[0]?.children?.[0]?.text;
        if (name === 'ucum') return { type: 'primitive', fn: () => [UCUM] };
        if (name === 'resource') return { type: 'any', fn: (_f, env) => [env.resource] };
        if (name === 'rootResource') return { type: 'any', fn: (_f, env) => [env.rootResource] };
        throw new Unsupported(`%${name}`);
      }
      case 'InvocationTerm': {
        const inner = c[0];
        if (inner.type === 'ThisInvocation') return { type: context, fn: (focus) => focus };
        if (inner.type === 'MemberInvocation' && typeof context === 'object' && context.resource && identifier(inner) === context.path && !context.byName.has(context.path)) {
          return { type: context, fn: (focus) => focus };
        }
        return this.invocation(inner, { type: context, fn: (focus) => focus }, context);
      }
      default:
        throw new Unsupported(ast.type);
    }
  }

  private literal(ast: Ast): Compiled {
    const text = ast.text as string;
    switch (ast.type) {
      case 'StringLiteral': {
        if (text.includes('\\')) throw new Unsupported('escaped string');
        const value = text.slice(1, -1);
        return { type: 'primitive', fn: () => [value] };
      }
      case 'NumberLiteral': {
        const value = Number(text);
        if (!Number.isFinite(value)) throw new Unsupported(text);
        return { type: 'primitive', fn: () => [value] };
      }
      case 'BooleanLiteral': {
        const value = text === 'true';
        return { type: 'primitive', fn: () => (value ? TRUE : FALSE) };
      }
      default:
        throw new Unsupported(ast.type);
    }
  }

  /** `base.member` or `base.function(args)`. */
  private invocation(ast: Ast, base: Compiled, context: StaticType): Compiled {
    if (ast.type === 'MemberInvocation') return this.member(identifier(ast), base);
    if (ast.type !== 'FunctionInvocation') throw new Unsupported(ast.type);
    const functn = ast.children![0];
    const name = functn.children![0].text as string;
    const params = functn.children![1]?.children ?? [];
    const arg = (i: number, type: StaticType): Compiled => {
      if (!params[i]) throw new Unsupported(`${name} without argument`);
      return this.expression(params[i], type);
    };
    const b = base.fn;
    void context;
    switch (name) {
      case 'empty':
        return { type: 'primitive', fn: (focus, env) => (b(focus, env).length === 0 ? TRUE : FALSE) };
      case 'exists': {
        if (!params.length) return { type: 'primitive', fn: (focus, env) => (b(focus, env).length > 0 ? TRUE : FALSE) };
        const criteria = arg(0, base.type).fn;
        return { type: 'primitive', fn: (focus, env) => (b(focus, env).some((item) => asBoolean(criteria([item], env)) === true) ? TRUE : FALSE) };
      }
      case 'not':
        return {
          type: 'primitive',
          fn: (focus, env) => {
            const v = asBoolean(b(focus, env));
            return v === undefined ? EMPTY : v ? FALSE : TRUE;
          },
        };
      case 'hasValue':
        return {
          type: 'primitive',
          fn: (focus, env) => {
            const values = b(focus, env);
            return values.length === 1 && isPrimitive(values[0]) ? TRUE : FALSE;
          },
        };
      case 'count':
        return { type: 'primitive', fn: (focus, env) => [b(focus, env).length] };
      case 'first':
        return { type: base.type, fn: (focus, env) => b(focus, env).slice(0, 1) };
      case 'trace':
        return base;
      case 'select': {
        const projection = arg(0, base.type);
        return {
          type: projection.type,
          fn: (focus, env) => {
            const out: unknown[] = [];
            for (const item of b(focus, env)) for (const v of projection.fn([item], env)) out.push(v);
            return out;
          },
        };
      }
      case 'isDistinct':
        return {
          type: 'primitive',
          fn: (focus, env) => {
            const values = b(focus, env);
            for (const v of values) if (!isPrimitive(v)) throw BAIL;
            return new Set(values).size === values.length ? TRUE : FALSE;
          },
        };
      case 'matches': {
        const pattern = arg(0, 'primitive').fn;
        return {
          type: 'primitive',
          fn: (focus, env) => {
            const value = single(b(focus, env));
            const regex = single(pattern(focus, env));
            if (value === undefined || regex === undefined) return EMPTY;
            if (typeof value !== 'string' || typeof regex !== 'string') throw BAIL;
            return matches(value, regex) ? TRUE : FALSE;
          },
        };
      }
      case 'iif': {
        const criterion = arg(0, base.type).fn;
        const then = arg(1, base.type);
        const otherwise = params[2] ? arg(2, base.type).fn : undefined;
        return {
          type: then.type,
          fn: (focus, env) => {
            const items = b(focus, env);
            if (items.length > 1) throw BAIL;
            return asBoolean(criterion(items, env)) === true ? then.fn(items, env) : otherwise ? otherwise(items, env) : EMPTY;
          },
        };
      }
      case 'substring': {
        const start = arg(0, 'primitive').fn;
        const length = params[1] ? arg(1, 'primitive').fn : undefined;
        return {
          type: 'primitive',
          fn: (focus, env) => {
            const value = single(b(focus, env));
            if (value === undefined) return EMPTY;
            const from = single(start(focus, env));
            const count = length ? single(length(focus, env)) : undefined;
            if (typeof value !== 'string' || typeof from !== 'number' || (count !== undefined && typeof count !== 'number')) throw BAIL;
            if (from < 0 || from >= value.length) return EMPTY;
            return [count === undefined ? value.slice(from) : value.slice(from, from + count)];
          },
        };
      }
      case 'toInteger':
        return {
          type: 'primitive',
          fn: (focus, env) => {
            const value = single(b(focus, env));
            if (value === undefined) return EMPTY;
            if (typeof value === 'number' && Number.isInteger(value)) return [value];
            if (typeof value === 'string') return /^[+-]?\d+$/.test(value) ? [Number(value)] : EMPTY;
            throw BAIL;
          },
        };
      case 'where': {
        const criteria = arg(0, base.type).fn;
        return { type: base.type, fn: (focus, env) => b(focus, env).filter((item) => asBoolean(criteria([item], env)) === true) };
      }
      case 'all': {
        const criteria = arg(0, base.type).fn;
        return { type: 'primitive', fn: (focus, env) => (b(focus, env).every((item) => asBoolean(criteria([item], env)) === true) ? TRUE : FALSE) };
      }
      case 'startsWith':
      case 'endsWith':
      case 'contains': {
        const other = arg(0, 'primitive').fn;
        return {
          type: 'primitive',
          fn: (focus, env) => {
            const value = single(b(focus, env));
            if (value === undefined) return EMPTY;
            const part = single(other(focus, env));
            if (typeof value !== 'string' || typeof part !== 'string') throw BAIL;
            return bool(name === 'startsWith' ? value.startsWith(part) : name === 'endsWith' ? value.endsWith(part) : value.includes(part));
          },
        };
      }
      default:
        throw new Unsupported(`${name}()`);
    }
  }

  private member(name: string, base: Compiled): Compiled {
    const type = base.type;
    // A primitive's only children are id and extension, carried by `_x` (which makes navigation bail).
    if (type === 'primitive' && name !== 'id' && name !== 'extension') return { type: 'primitive', fn: () => EMPTY };
    if (type === 'primitive' || type === 'mixed') throw new Unsupported(`.${name} on a ${type} value`);
    const b = base.fn;
    if (type === 'any') {
      return { type: 'any', fn: (focus, env) => this.navigateDynamic(b(focus, env), name) };
    }
    const element = type.byName.get(name);
    if (!element) throw new Unsupported(`no element ${name} in ${type.path}`);
    const primitive = element.type === 'primitive' || element.type === 'mixed';
    return { type: element.type, fn: (focus, env) => navigate(b(focus, env), element, primitive) };
  }

  /**
   * Navigation where the type is known only at run time (%resource, %rootResource, contained resources): a
   * resource by its resourceType, any other object by the node recorded when it was reached this way.
   */
  private navigateDynamic(items: unknown[], name: string): unknown[] {
    const out: unknown[] = [];
    for (const item of items) {
      if (typeof item !== 'object' || item === null) throw BAIL;
      const resourceType = (item as { resourceType?: unknown }).resourceType;
      const node = typeof resourceType === 'string' ? this.lookup.resourceNode(resourceType) : dynamicNodes.get(item);
      if (!node) throw BAIL;
      const element = node.byName.get(name);
      if (!element) continue;
      if (element.type === 'mixed') throw BAIL;
      const values = navigate([item], element, element.type === 'primitive');
      if (typeof element.type === 'object') for (const v of values) if (typeof v === 'object' && v !== null) dynamicNodes.set(v, element.type);
      for (const v of values) out.push(v);
    }
    return out;
  }

  private logic(op: string, [left, right]: Ast[], context: StaticType): Compiled {
    const l = this.expression(left, context).fn;
    const r = this.expression(right, context).fn;
    let fn: Evaluate;
    switch (op) {
      case 'or':
        fn = (focus, env) => {
          const a = asBoolean(l(focus, env));
          if (a === true) return TRUE;
          const b = asBoolean(r(focus, env));
          return b === true ? TRUE : a === false && b === false ? FALSE : EMPTY;
        };
        break;
      case 'and':
        fn = (focus, env) => {
          const a = asBoolean(l(focus, env));
          if (a === false) return FALSE;
          const b = asBoolean(r(focus, env));
          return b === false ? FALSE : a === true && b === true ? TRUE : EMPTY;
        };
        break;
      case 'xor':
        fn = (focus, env) => {
          const a = asBoolean(l(focus, env));
          const b = asBoolean(r(focus, env));
          return a === undefined || b === undefined ? EMPTY : bool(a !== b);
        };
        break;
      case 'implies':
        fn = (focus, env) => {
          const a = asBoolean(l(focus, env));
          if (a === false) return TRUE;
          const b = asBoolean(r(focus, env));
          return b === true ? TRUE : a === true ? bool(b) : EMPTY;
        };
        break;
      default:
        throw new Unsupported(op);
    }
    return { type: 'primitive', fn };
  }

  /** = and != on primitive collections (https://hl7.org/FHIRPath/N1/#equality); objects and `~` need the engine. */
  private equality(op: string, [left, right]: Ast[], context: StaticType): Compiled {
    if (op !== '=' && op !== '!=') throw new Unsupported(op);
    const l = this.expression(left, context).fn;
    const r = this.expression(right, context).fn;
    const negate = op === '!=';
    return {
      type: 'primitive',
      fn: (focus, env) => {
        const a = l(focus, env);
        const b = r(focus, env);
        if (a.length === 0 || b.length === 0) return EMPTY;
        let equal = a.length === b.length;
        for (let i = 0; equal && i < a.length; i++) {
          const x = a[i];
          const y = b[i];
          if (!isPrimitive(x) || !isPrimitive(y) || typeof x !== typeof y) throw BAIL;
          equal = x === y;
        }
        return equal !== negate ? TRUE : FALSE;
      },
    };
  }

  /**
   * Ordering of numbers, and of dates/dateTimes written to the same precision without time zones (or both in
   * UTC with as many fraction digits, as toISOString() writes them), which compare as their text; anything else
   * (precision, offsets, quantities) needs the engine.
   */
  private comparison(op: string, [left, right]: Ast[], context: StaticType): Compiled {
    const l = this.expression(left, context).fn;
    const r = this.expression(right, context).fn;
    const compare: Record<string, (a: number, b: number) => boolean> = { '<': (a, b) => a < b, '>': (a, b) => a > b, '<=': (a, b) => a <= b, '>=': (a, b) => a >= b };
    const test = compare[op];
    if (!test) throw new Unsupported(op);
    return {
      type: 'primitive',
      fn: (focus, env) => {
        const a = single(l(focus, env));
        const b = single(r(focus, env));
        if (a === undefined || b === undefined) return EMPTY;
        if (typeof a === 'number' && typeof b === 'number') return test(a, b) ? TRUE : FALSE;
        if (typeof a === 'string' && typeof b === 'string' && comparableDates(a, b)) return test(a < b ? -1 : a > b ? 1 : 0, 0) ? TRUE : FALSE;
        throw BAIL;
      },
    };
  }

  private arithmetic(op: string, [left, right]: Ast[], context: StaticType): Compiled {
    if (op !== '+' && op !== '-') throw new Unsupported(op);
    const l = this.expression(left, context).fn;
    const r = this.expression(right, context).fn;
    return {
      type: 'primitive',
      fn: (focus, env) => {
        const a = single(l(focus, env));
        const b = single(r(focus, env));
        if (a === undefined || b === undefined) return EMPTY;
        if (!Number.isInteger(a) || !Number.isInteger(b)) throw BAIL;
        return [op === '+' ? (a as number) + (b as number) : (a as number) - (b as number)];
      },
    };
  }

  private membership(op: string, [left, right]: Ast[], context: StaticType): Compiled {
    const [item, collection] = op === 'in' ? [left, right] : [right, left];
    if (op !== 'in' && op !== 'contains') throw new Unsupported(op);
    const i = this.expression(item, context).fn;
    const c = this.expression(collection, context).fn;
    return {
      type: 'primitive',
      fn: (focus, env) => {
        const value = single(i(focus, env));
        if (value === undefined) return EMPTY;
        if (!isPrimitive(value)) throw BAIL;
        const values = c(focus, env);
        for (const v of values) if (!isPrimitive(v)) throw BAIL;
        return values.includes(value) ? TRUE : FALSE;
      },
    };
  }

  private union([left, right]: Ast[], context: StaticType): Compiled {
    const l = this.expression(left, context).fn;
    const r = this.expression(right, context).fn;
    return {
      type: 'primitive',
      fn: (focus, env) => {
        const out: unknown[] = [];
        for (const v of [...l(focus, env), ...r(focus, env)]) {
          if (!isPrimitive(v)) throw BAIL;
          if (!out.includes(v)) out.push(v);
        }
        return out;
      },
    };
  }
}

const LOCAL_DATE = /^\d{4}(-\d{2}(-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?)?)?$/;
/** Milliseconds at most: a longer fraction is compared by the engine, which keeps millisecond precision. */
const UTC_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/;

function comparableDates(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  return (LOCAL_DATE.test(a) && LOCAL_DATE.test(b)) || (UTC_DATE_TIME.test(a) && UTC_DATE_TIME.test(b));
}

/**
 * matches() as in R4's FHIRPath: true when the regex matches part of the string. Without JavaScript's unicode
 * flag, so that the R4 regexes written for XML Schema and Java (eld-16, eld-19, eld-20: `\'`, `\@`, a lone `]`)
 * compile. https://hl7.org/FHIRPath/N1/#matchesregex-string-boolean
 */
const regexes = new Map<string, RegExp>();
export function matches(value: string, regex: string): boolean {
  let compiled = regexes.get(regex);
  if (!compiled) regexes.set(regex, (compiled = new RegExp(regex, 's')));
  return compiled.test(value);
}

function identifier(ast: Ast): string {
  const text = (ast.children?.[0]?.text ?? ast.text) as string;
  return text.startsWith('`') ? text.slice(1, -1) : text;
}

/**
 * Values of the given JSON keys of every object in `items`, arrays flattened. A primitive with an `_x` extension,
 * or a null inside a primitive array, is something only the full engine models exactly.
 */
function navigate(items: unknown[], element: ElementKeys, primitive: boolean): unknown[] {
  const out: unknown[] = [];
  const { keys, extensionKeys, index } = element;
  for (const item of items) {
    if (typeof item !== 'object' || item === null || Array.isArray(item)) throw BAIL;
    const record = item as Record<string, unknown>;
    if (index) {
      // Looking up 50 absent keys costs more than walking the few present ones.
      for (const key in record) {
        if (key.charCodeAt(0) === 95 /* _ */ && index.has(key.slice(1)) && record[key.slice(1)] === undefined) throw BAIL;
        if (index.has(key)) pushValues(out, record[key]);
      }
      continue;
    }
    for (let k = 0; k < keys.length; k++) {
      const value = record[keys[k]];
      // With a value, `_x` changes nothing these closures compute; without one, the element exists but has no value.
      if (primitive && value === undefined && record[extensionKeys[k]] !== undefined) throw BAIL;
      if (value === undefined) continue;
      if (Array.isArray(value)) {
        for (const v of value) {
          if (v === null) throw BAIL;
          out.push(v);
        }
      } else out.push(value);
    }
  }
  return out;
}

function pushValues(out: unknown[], value: unknown): void {
  if (value === undefined) return;
  if (!Array.isArray(value)) {
    out.push(value);
    return;
  }
  for (const v of value) {
    if (v === null) throw BAIL;
    out.push(v);
  }
}

/** Functions that keep an empty collection empty. */
const EMPTY_PRESERVING = new Set(['where', 'select', 'trace', 'ofType', 'first', 'last', 'tail', 'distinct', 'skip', 'take', 'as', 'not', 'startsWith', 'endsWith', 'contains', 'substring', 'matches', 'toInteger']);
/** Functions with a fixed Boolean result on an empty collection. */
const ON_EMPTY: Record<string, boolean> = { empty: true, exists: false, all: true, isDistinct: true, hasValue: false };

/**
 * For `element.…` chains (`contained.where(…).empty()`, `entry.all(…)`): the Boolean the expression yields when
 * that first element is absent, whatever the functions' arguments say, and a test for its absence.
 */
function whenLeadingElementAbsent(ast: Ast, context: NavigableNode): { result: boolean | undefined; absent: (value: unknown) => boolean } | undefined {
  const chain: Ast[] = [];
  let head = unwrap(ast);
  while (head.type === 'InvocationExpression') {
    chain.unshift(head.children![1]);
    head = head.children![0];
  }
  const first = head.type === 'TermExpression' ? head.children?.[0]?.children?.[0] : undefined;
  if (head.type !== 'TermExpression' || head.children?.[0]?.type !== 'InvocationTerm' || first?.type !== 'MemberInvocation') return undefined;
  const element = context.byName.get(identifier(first));
  if (!element) return undefined;
  let result: boolean | undefined;
  for (const step of chain) {
    if (result !== undefined) {
      const fn = step.type === 'FunctionInvocation' ? step.children![0].children![0].text : undefined;
      if (fn !== 'not') return undefined;
      result = !result;
      continue;
    }
    if (step.type === 'MemberInvocation') continue;
    const fn = step.type === 'FunctionInvocation' ? (step.children![0].children![0].text as string) : '';
    if (fn in ON_EMPTY) result = ON_EMPTY[fn];
    else if (!EMPTY_PRESERVING.has(fn)) return undefined;
  }
  const keys = [...element.keys, ...element.extensionKeys];
  return {
    result,
    absent: (value) => typeof value === 'object' && value !== null && keys.every((k) => (value as Record<string, unknown>)[k] === undefined),
  };
}

/**
 * Element names an expression reads from its context, or undefined when its value may depend on anything else
 * (the whole resource, $this, children(), descendants(), a function applied to the context itself). When none of
 * these names is present in a value, the expression's result is the same as on an empty value.
 */
export function contextNames(ast: Ast): Set<string> | undefined {
  const names = new Set<string>();
  let safe = true;
  const visit = (node: Ast, inArgument: boolean): void => {
    if (!safe) return;
    if (node.type === 'ExternalConstantTerm' && node.children?.[0]?.children?.[0]?.text !== 'ucum') safe = false;
    if (node.type === 'Functn' && ['children', 'descendants', 'resolve', 'htmlChecks', 'conformsTo', 'memberOf'].includes(node.children?.[0]?.text ?? '')) safe = false;
    if (node.type === 'InvocationTerm' && !inArgument && (node.children?.[0]?.type === 'FunctionInvocation' || node.children?.[0]?.type === 'ThisInvocation')) safe = false;
    if (node.type === 'MemberInvocation' && node.atRoot) names.add(identifier(node));
    for (const child of node.children ?? []) visit(child, inArgument || node.type === 'ParamList');
  };
  visit(ast, false);
  return safe ? names : undefined;
}
