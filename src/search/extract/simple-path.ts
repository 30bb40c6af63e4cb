/**
 * A fast evaluator for the simple FHIRPath forms most search expressions take
 * (https://hl7.org/fhir/R4/fhirpath.html#simple): `Type.a.b`, choice elements with `.ofType(T)`,
 * `.where(field = 'literal')` filters and the reference type test that replaces `where(resolve() is T)`.
 * Paths are resolved against the R4 model once, at compile time; evaluation then walks plain JSON, which is an
 * order of magnitude cheaper per call than the general engine. Anything else returns undefined from
 * compileSimplePath and is evaluated by the `fhirpath` engine.
 */
import { choiceTypePaths, path2Type, pathsDefinedElsewhere } from 'fhirpath/fhir-context/r4';
import type { TypedValue } from './typed-value';

/** A value with its FHIR type and the model path its children are looked up under. */
export interface PathValue extends TypedValue {
  path: string;
}

export type SimplePathEvaluator = (input: unknown, rootPath: string) => PathValue[];

const choices = choiceTypePaths as Record<string, string[]>;
const types = path2Type as Record<string, string>;
const elsewhere = pathsDefinedElsewhere as Record<string, string>;

const PRIMITIVES = new Set([
  'boolean', 'integer', 'string', 'decimal', 'uri', 'url', 'canonical', 'base64Binary', 'instant', 'date', 'dateTime',
  'time', 'code', 'oid', 'id', 'markdown', 'unsignedInt', 'positiveInt', 'uuid',
]);
const BACKBONE = new Set(['BackboneElement', 'Element']);

/** FHIR type name of a choice suffix: `DateTime` -> `dateTime`, `Quantity` -> `Quantity`. */
function typeOfSuffix(suffix: string): string {
  const lower = suffix[0].toLowerCase() + suffix.slice(1);
  return PRIMITIVES.has(lower) ? lower : suffix;
}

interface Option {
  key: string;
  type: string;
  next: string;
}

type Step =
  | { kind: 'child'; name: string; ofType?: string }
  | { kind: 'where'; field: string; literal: string }
  | { kind: 'refType'; type: string };

const IDENT = '[A-Za-z_][A-Za-z0-9_]*';
const CHILD = new RegExp(`^\\.(${IDENT})`);
const OF_TYPE = new RegExp(`^\\.ofType\\((${IDENT})\\)`);
const WHERE_EQ = new RegExp(`^\\.where\\(\\s*(${IDENT})\\s*=\\s*'([^'\\\\]*)'\\s*\\)`);
const REF_TYPE = new RegExp(
  `^\\.where\\(reference\\.startsWith\\('(${IDENT})/'\\) or reference\\.contains\\('/\\1/'\\) or type = '\\1'\\)`,
);

function parseSteps(text: string): Step[] | undefined {
  const steps: Step[] = [];
  let rest = text;
  while (rest.length) {
    let m = OF_TYPE.exec(rest);
    if (m) {
      const last = steps[steps.length - 1];
      if (!last || last.kind !== 'child' || last.ofType) return undefined;
      last.ofType = m[1];
    } else if ((m = REF_TYPE.exec(rest))) {
      steps.push({ kind: 'refType', type: m[1] });
    } else if ((m = WHERE_EQ.exec(rest))) {
      steps.push({ kind: 'where', field: m[1], literal: m[2] });
    } else if ((m = CHILD.exec(rest))) {
      if (m[1] === 'where' || m[1] === 'ofType' || m[1] === 'as') return undefined;
      steps.push({ kind: 'child', name: m[1] });
    } else {
      return undefined;
    }
    rest = rest.slice(m[0].length);
  }
  return steps;
}

/** The JSON keys a child element can take from an element at `path`, with their types; undefined when unknown. */
function optionsFor(path: string, name: string, ofType: string | undefined): Option[] | undefined {
  const full = `${path}.${name}`;
  const defined = elsewhere[full] ?? full;
  const suffixes = choices[defined];
  if (suffixes) {
    const options = suffixes
      .map((suffix) => ({ key: `${name}${suffix}`, type: typeOfSuffix(suffix), next: typeOfSuffix(suffix) }))
      .filter((o) => ofType === undefined || o.type === ofType);
    return options.length ? options : undefined;
  }
  const type = types[defined];
  if (!type || (ofType !== undefined && type !== ofType)) return undefined;
  return [{ key: name, type, next: BACKBONE.has(type) ? defined : type }];
}

function referencePointsTo(value: unknown, type: string): boolean {
  const ref = value as { reference?: unknown; type?: unknown };
  if (ref?.type === type) return true;
  return typeof ref?.reference === 'string' && (ref.reference.startsWith(`${type}/`) || ref.reference.includes(`/${type}/`));
}

/**
 * Compiles `expression` (absolute `Type.a.b`, or relative to `basePath` when given) into a JSON walker, or
 * returns undefined when it is not one of the simple forms or the model does not know a path in it.
 */
export function compileSimplePath(expression: string, basePath?: string): SimplePathEvaluator | undefined {
  const text = expression.trim();
  let root: string | undefined;
  let body: string;
  if (basePath === undefined) {
    const m = new RegExp(`^(${IDENT})`).exec(text);
    if (!m || !/^[A-Z]/.test(m[1])) return undefined;
    root = m[1];
    body = text.slice(m[1].length);
  } else {
    body = `.${text}`;
  }
  const steps = parseSteps(body);
  if (!steps || (steps.length === 0 && basePath !== undefined)) return undefined;

  // Resolve every child step against the model for every path it can be reached from.
  const start = root === 'Resource' || root === 'DomainResource' ? root : undefined;
  let paths = new Set<string>([basePath ?? root ?? '']);
  const resolved: Array<Map<string, Option[]> | undefined> = [];
  for (const step of steps) {
    if (step.kind !== 'child') {
      resolved.push(undefined);
      continue;
    }
    const table = new Map<string, Option[]>();
    const next = new Set<string>();
    for (const path of paths) {
      const options = optionsFor(path, step.name, step.ofType);
      if (!options) return undefined;
      table.set(path, options);
      for (const o of options) next.add(o.next);
    }
    resolved.push(table);
    paths = next;
  }

  /**
   * Walks depth-first from `value` (of FHIR `type`, at model `path`) through steps `i`.. and appends what reaches
   * the end to `out`, created at the first value found: most parameters find nothing, and then nothing is
   * allocated. Depth-first visits the values in the order a step-by-step walk lists them.
   */
  const walk = (value: unknown, type: string, path: string, i: number, out: PathValue[] | undefined): PathValue[] | undefined => {
    for (; i < steps.length; i++) {
      const step = steps[i];
      if (step.kind === 'where') {
        if ((value as Record<string, unknown>)?.[step.field] !== step.literal) return out;
      } else if (step.kind === 'refType') {
        if (!referencePointsTo(value, step.type)) return out;
      } else {
        const options = (resolved[i] as Map<string, Option[]>).get(path);
        if (!options || typeof value !== 'object' || value === null) return out;
        const obj = value as Record<string, unknown>;
        for (const o of options) {
          const raw = obj[o.key];
          if (raw === undefined || raw === null) continue;
          if (Array.isArray(raw)) {
            for (const v of raw) if (v !== null && v !== undefined) out = walk(v, o.type, o.next, i + 1, out);
          } else {
            out = walk(raw, o.type, o.next, i + 1, out);
          }
        }
        return out;
      }
    }
    (out ??= []).push({ type, value, path });
    return out;
  };

  return (input, rootPath) => {
    if (root !== undefined && start === undefined && root !== rootPath) return NOTHING;
    return walk(input, rootPath, start ?? basePath ?? rootPath, 0, undefined) ?? NOTHING;
  };
}

/** The answer of a walk that found nothing, shared (frozen: callers only read answers). */
const NOTHING = Object.freeze([]) as unknown as PathValue[];
