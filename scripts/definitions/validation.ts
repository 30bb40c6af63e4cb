/**
 * Build step for validation: turns HL7's own R4 StructureDefinition snapshots (hl7.fhir.r4.examples@4.0.1,
 * Bundle-types.json and Bundle-resources.json) into one JSON Schema per datatype and resource type, and the
 * enumerable required value sets (Bundle-valuesets.json, Bundle-v3-valuesets.json, Bundle-v2-valuesets.json)
 * into plain code lists. Output: generated/validation/definitions.json, read by src/validation/validator.ts.
 *
 * Spec: https://hl7.org/fhir/R4/elementdefinition.html, https://hl7.org/fhir/R4/json.html,
 * https://hl7.org/fhir/R4/datatypes.html, https://hl7.org/fhir/R4/terminologies.html#required
 */
import { isCurrent, stampOf, writeAtomically } from './artifacts';
import { mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { ElementDefinition, ElementDefinitionType, StructureDefinition, ValueSet, CodeSystem, CodeSystemConcept } from 'fhir/r4';
import {
  DEFINITIONS_FILE,
  DEFINITIONS_FORMAT,
  PRIMITIVE_ELEMENT_ID,
  type ElementRules,
  type ValidationDefinitions,
} from '../../src/validation/definitions-format';

const ROOT = resolve(__dirname, '..', '..');
const PACKAGE_DIR = join(ROOT, 'node_modules', 'hl7.fhir.r4.examples');
const OUTPUT_DIR = join(ROOT, 'generated', 'validation');
const STAMP_FILE = join(OUTPUT_DIR, 'stamp.txt');
const STRUCTURE_BUNDLES = ['Bundle-types.json', 'Bundle-resources.json'];
const TERMINOLOGY_BUNDLES = ['Bundle-valuesets.json', 'Bundle-v3-valuesets.json', 'Bundle-v2-valuesets.json'];
/** Files whose content defines the output; any change to them (or to this builder) triggers a rebuild. */
const BUILDER_SOURCES = [__filename, join(ROOT, 'src', 'validation', 'definitions-format.ts')];

type JsonSchema = Record<string, unknown>;

const FHIR_TYPE_EXTENSION = 'http://hl7.org/fhir/StructureDefinition/structuredefinition-fhir-type';
const REGEX_EXTENSION = 'http://hl7.org/fhir/StructureDefinition/regex';

/**
 * The R4 regexes use XML Schema semantics, where \s is only [ \t\n\r] and every expression is implicitly
 * anchored. These are the ones written with \s or \S, restated for JavaScript (and, for base64Binary,
 * without the ambiguous \s*...\s* repetition that backtracks exponentially on bad input). Values are never
 * empty ("attribute values can never be empty", https://hl7.org/fhir/R4/datatypes.html#primitive), so `\S*`
 * becomes `+`, and the string/markdown regex, which accepts any non-empty string, only checks the first character.
 */
const XML_REGEX_REWRITES: Record<string, string> = {
  '(\\s*([0-9a-zA-Z\\+/=]){4}\\s*)+': '[ \\t\\n\\r]*(?:[0-9a-zA-Z+/=]{4}[ \\t\\n\\r]*)+',
  '\\S*': '[^ \\t\\n\\r]+',
  '[^\\s]+(\\s[^\\s]+)*': '[^ \\t\\n\\r]+(?:[ \\t\\n\\r][^ \\t\\n\\r]+)*',
  '[ \\r\\n\\t\\S]+': '[\\s\\S]',
};

const NON_EMPTY_SOURCE = '[\\s\\S]';
/** Tests only the first character: a non-empty string, whatever its length. */
const NON_EMPTY = `^${NON_EMPTY_SOURCE}`;

/** FHIR integer is a 32-bit signed integer (https://hl7.org/fhir/R4/datatypes.html#integer). */
/** Primitive types whose values name a calendar day that must exist (https://hl7.org/fhir/R4/datatypes.html#date). */
const CALENDAR_TYPES = new Set(['date', 'dateTime', 'instant']);

/** Complex types a required binding constrains by their system|code pairs (https://hl7.org/fhir/R4/terminologies.html#strength). */
const CODED_TYPES = new Set(['Coding', 'CodeableConcept']);

const INTEGER_RANGE: Record<string, { minimum: number; maximum: number }> = {
  integer: { minimum: -2147483648, maximum: 2147483647 },
  unsignedInt: { minimum: 0, maximum: 2147483647 },
  positiveInt: { minimum: 1, maximum: 2147483647 },
};

export async function buildValidationDefinitions(): Promise<void> {
  const stamp = computeStamp();
  const output = join(OUTPUT_DIR, DEFINITIONS_FILE);
  if (isCurrent(STAMP_FILE, stamp, [output])) return;

  const structures = STRUCTURE_BUNDLES.flatMap((file) => bundleResources<StructureDefinition>(file, 'StructureDefinition'));
  const valueSets = new Map<string, ValueSet>();
  const codeSystems = new Map<string, CodeSystem>();
  for (const file of TERMINOLOGY_BUNDLES) {
    for (const vs of bundleResources<ValueSet>(file, 'ValueSet')) if (vs.url) valueSets.set(vs.url, vs);
    for (const cs of bundleResources<CodeSystem>(file, 'CodeSystem')) if (cs.url) codeSystems.set(cs.url, cs);
  }

  const definitions = new SchemaBuilder(structures, new ValueSetExpander(valueSets, codeSystems)).build();
  mkdirSync(OUTPUT_DIR, { recursive: true });
  writeAtomically(output, JSON.stringify(definitions));
  writeAtomically(STAMP_FILE, stamp);
}

/** Identity of the builder's own sources and of every input bundle, salted with the artifact format. */
function computeStamp(): string {
  return stampOf([...BUILDER_SOURCES, ...[...STRUCTURE_BUNDLES, ...TERMINOLOGY_BUNDLES].map((file) => join(PACKAGE_DIR, file))], String(DEFINITIONS_FORMAT));
}

function bundleResources<T extends { resourceType: string }>(file: string, resourceType: T['resourceType']): T[] {
  const bundle = JSON.parse(readFileSync(join(PACKAGE_DIR, file), 'utf8')) as { entry?: Array<{ resource?: { resourceType: string } }> };
  return (bundle.entry ?? []).map((e) => e.resource).filter((r): r is T => r?.resourceType === resourceType);
}



/** One concept of an expanded value set: the pair a Coding must match (https://hl7.org/fhir/R4/terminologies.html). */
interface Concept {
  system: string;
  code: string;
}

const conceptKey = (concept: Concept): string => `${concept.system}|${concept.code}`;

/**
 * Expands a ValueSet into its concepts when it is fully enumerable from the bundles: compose.include of listed
 * concepts, of whole CodeSystems with content 'complete', or of other enumerable ValueSets, minus compose.exclude
 * of listed concepts. Filters, unknown code systems or partial content make it non-enumerable (undefined).
 * https://hl7.org/fhir/R4/valueset.html#compositions
 */
class ValueSetExpander {
  private readonly cache = new Map<string, Concept[] | undefined>();

  constructor(
    private readonly valueSets: Map<string, ValueSet>,
    private readonly codeSystems: Map<string, CodeSystem>,
  ) {}

  expand(canonical: string): Concept[] | undefined {
    const url = canonical.split('|')[0];
    if (this.cache.has(url)) return this.cache.get(url);
    this.cache.set(url, undefined);
    const concepts = this.expandCompose(this.valueSets.get(url));
    this.cache.set(url, concepts);
    return concepts;
  }

  private expandCompose(vs: ValueSet | undefined): Concept[] | undefined {
    if (!vs?.compose) return undefined;
    const concepts = new Map<string, Concept>();
    for (const include of vs.compose.include) {
      const included = this.expandInclude(include);
      if (!included) return undefined;
      for (const concept of included) concepts.set(conceptKey(concept), concept);
    }
    for (const exclude of vs.compose.exclude ?? []) {
      if (!exclude.concept || !exclude.system || exclude.filter || exclude.valueSet) return undefined;
      for (const { code } of exclude.concept) concepts.delete(conceptKey({ system: exclude.system, code }));
    }
    return [...concepts.values()];
  }

  private expandInclude(include: NonNullable<ValueSet['compose']>['include'][number]): Concept[] | undefined {
    if (include.filter?.length) return undefined;
    let concepts: Concept[] | undefined;
    const system = include.system;
    if (system && include.concept) concepts = include.concept.map(({ code }) => ({ system, code }));
    else if (system) {
      const cs = this.codeSystems.get(system);
      if (cs?.content !== 'complete') return undefined;
      concepts = flattenConcepts(cs.concept ?? []).map((code) => ({ system, code }));
    } else if (include.concept) return undefined;
    for (const imported of include.valueSet ?? []) {
      const importedConcepts = this.expand(imported);
      if (!importedConcepts) return undefined;
      const importedKeys = new Set(importedConcepts.map(conceptKey));
      concepts = concepts ? concepts.filter((c) => importedKeys.has(conceptKey(c))) : importedConcepts;
    }
    return concepts;
  }
}

function flattenConcepts(concepts: CodeSystemConcept[]): string[] {
  const codes: string[] = [];
  const pending = [...concepts];
  for (let concept = pending.shift(); concept; concept = pending.shift()) {
    codes.push(concept.code);
    if (concept.concept) pending.push(...concept.concept);
  }
  return codes;
}

const capitalize = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);

/** Builds one JSON Schema per datatype and resource type from the StructureDefinition snapshots. */
class SchemaBuilder {
  private readonly primitives = new Map<string, JsonSchema>();
  private readonly valueSets: Record<string, string[]> = {};
  private readonly codingValueSets: Record<string, string[]> = {};
  private readonly skippedBindings = new Set<string>();

  constructor(
    private readonly structures: StructureDefinition[],
    private readonly expander: ValueSetExpander,
  ) {}

  build(): ValidationDefinitions {
    const specializations = this.structures.filter((sd) => sd.derivation === 'specialization' || sd.id === 'Element');
    for (const sd of specializations.filter((s) => s.kind === 'primitive-type')) this.primitives.set(sd.type, this.primitiveSchema(sd));

    const schemas: Record<string, JsonSchema> = { [PRIMITIVE_ELEMENT_ID]: this.primitiveElementSchema() };
    const resourceTypes: string[] = [];
    for (const sd of specializations) {
      if (sd.kind === 'primitive-type' || sd.abstract) continue;
      schemas[sd.type] = this.typeSchema(sd);
      if (sd.kind === 'resource') resourceTypes.push(sd.type);
    }
    return {
      format: DEFINITIONS_FORMAT,
      fhirVersion: '4.0.1',
      resourceTypes: resourceTypes.sort(),
      schemas,
      valueSets: this.valueSets,
      codingValueSets: this.codingValueSets,
      uncheckedRequiredBindings: [...this.skippedBindings].sort(),
    };
  }

  /** The JSON representation of a primitive value (https://hl7.org/fhir/R4/json.html#primitive). */
  private primitiveSchema(sd: StructureDefinition): JsonSchema {
    const type = sd.type;
    const value = sd.snapshot?.element.find((e) => e.path === `${type}.value`);
    if (type === 'boolean') return { type: 'boolean' };
    if (type === 'decimal') return { type: 'number' };
    const calendar = CALENDAR_TYPES.has(type) ? { fhirCalendar: true } : {};
    if (INTEGER_RANGE[type]) return { type: 'integer', ...INTEGER_RANGE[type] };
    const regex = value?.type?.[0]?.extension?.find((x) => x.url === REGEX_EXTENSION)?.valueString;
    if (!regex) return { type: 'string', pattern: NON_EMPTY, ...calendar };
    const rewritten = XML_REGEX_REWRITES[regex];
    if (rewritten === undefined && /\\[sS]/.test(regex)) throw new Error(`regex of ${type} uses \\s or \\S and has no JavaScript rewrite: ${regex}`);
    if (rewritten === NON_EMPTY_SOURCE) return { type: 'string', pattern: NON_EMPTY };
    return { type: 'string', pattern: `^(?:${rewritten ?? regex})$`, ...calendar };
  }

  /** The `_element` object holding a primitive's id and extensions (https://hl7.org/fhir/R4/json.html#primitive). */
  private primitiveElementSchema(): JsonSchema {
    return {
      $id: PRIMITIVE_ELEMENT_ID,
      type: ['object', 'null'],
      properties: { id: this.primitives.get('string'), extension: { type: 'array', minItems: 1, items: { $ref: 'Extension' } } },
      additionalProperties: false,
    };
  }

  private typeSchema(sd: StructureDefinition): JsonSchema {
    const elements = (sd.snapshot?.element ?? []).filter((e) => !e.sliceName);
    const children = new Map<string, ElementDefinition[]>();
    for (const element of elements) {
      const parent = element.path.slice(0, element.path.lastIndexOf('.'));
      if (!element.path.includes('.')) continue;
      const list = children.get(parent) ?? [];
      list.push(element);
      children.set(parent, list);
    }
    const definitions: Record<string, JsonSchema> = {};
    for (const [path] of children) if (path !== sd.type) definitions[path] = this.objectSchema(path, children, sd);
    return {
      $id: sd.type,
      ...this.objectSchema(sd.type, children, sd),
      ...(Object.keys(definitions).length ? { definitions } : {}),
    };
  }

  private objectSchema(path: string, children: Map<string, ElementDefinition[]>, sd: StructureDefinition): JsonSchema {
    const properties: Record<string, JsonSchema> = {};
    const required: string[] = [];
    const rules: ElementRules = {};
    const isResourceRoot = path === sd.type && sd.kind === 'resource';
    if (isResourceRoot) {
      properties.resourceType = { const: sd.type };
      required.push('resourceType');
    }
    for (const element of children.get(path) ?? []) {
      const name = element.path.slice(path.length + 1);
      const repeats = element.max !== '1';
      if (name.endsWith('[x]')) {
        const base = name.slice(0, -3);
        const variants: string[] = [];
        const schemas: Record<string, JsonSchema> = {};
        for (const type of element.type ?? []) {
          const property = base + capitalize(type.code);
          variants.push(property);
          schemas[property] = this.valueSchema(element, type, children, false);
          if (this.primitives.has(type.code)) schemas[`_${property}`] = { $ref: PRIMITIVE_ELEMENT_ID };
        }
        (rules.choices ??= []).push({ name: base, variants, required: (element.min ?? 0) > 0, schemas });
        continue;
      }
      const type = element.type?.[0];
      const itemSchema = this.valueSchema(element, type, children, element.base?.path === 'Resource.id');
      properties[name] = repeats ? this.arraySchema(element, this.isPrimitive(type) ? nullable(itemSchema) : itemSchema) : itemSchema;
      if (this.isPrimitive(type) && type && this.primitives.has(type.code)) {
        properties[`_${name}`] = repeats ? { type: 'array', minItems: 1, items: { $ref: PRIMITIVE_ELEMENT_ID } } : { $ref: PRIMITIVE_ELEMENT_ID };
        if (repeats) (rules.primitiveArrays ??= []).push(name);
        if ((element.min ?? 0) > 0) (rules.requiredPrimitives ??= []).push(name);
      } else if ((element.min ?? 0) > 0) {
        required.push(name);
      }
    }
    // Choice variants are validated by fhirElement (a lookup per present key instead of a check per possible
    // variant: Extension.value[x] alone has 50); patternProperties only exempts their names from additionalProperties.
    const choiceProperties = (rules.choices ?? []).flatMap((c) => Object.keys(c.schemas));
    return {
      type: 'object',
      properties,
      ...(choiceProperties.length ? { patternProperties: { [`^(?:${choiceProperties.join('|')})$`]: true } } : {}),
      ...(required.length ? { required } : {}),
      additionalProperties: false,
      ...(Object.keys(rules).length ? { fhirElement: rules } : {}),
    };
  }

  private arraySchema(element: ElementDefinition, items: JsonSchema): JsonSchema {
    const max = element.max === '*' || element.max === undefined ? undefined : Number(element.max);
    return { type: 'array', minItems: Math.max(1, element.min ?? 0), ...(max !== undefined ? { maxItems: max } : {}), items };
  }

  private isPrimitive(type: ElementDefinitionType | undefined): boolean {
    return !!type && (this.primitives.has(type.code) || type.code.startsWith('http://hl7.org/fhirpath/System.'));
  }

  /** Schema of one value of the element (one array item when it repeats). */
  private valueSchema(
    element: ElementDefinition,
    type: ElementDefinitionType | undefined,
    children: Map<string, ElementDefinition[]>,
    isResourceId: boolean,
  ): JsonSchema {
    if (element.contentReference) return { $ref: `#/definitions/${element.contentReference.slice(1)}` };
    if (children.has(element.path)) return { $ref: `#/definitions/${element.path}` };
    if (!type) throw new Error(`element ${element.path} has no type`);
    if (isResourceId) return this.primitive('id');
    if (type.code.startsWith('http://hl7.org/fhirpath/System.')) {
      const fhirType = type.extension?.find((x) => x.url === FHIR_TYPE_EXTENSION)?.valueUrl;
      if (!fhirType) throw new Error(`element ${element.path} has system type ${type.code} without a FHIR type`);
      return this.primitive(fhirType);
    }
    if (type.code === 'Resource') return { fhirResource: true };
    if (this.primitives.has(type.code)) {
      const schema = this.primitive(type.code);
      const bound = type.code === 'code' ? this.requiredValueSet(element) : undefined;
      if (!bound) return schema;
      this.valueSets[bound.url] ??= [...new Set(bound.concepts.map((c) => c.code))];
      return { ...schema, fhirBinding: bound.url };
    }
    const bound = CODED_TYPES.has(type.code) ? this.requiredValueSet(element) : undefined;
    if (!bound) return { $ref: type.code };
    this.codingValueSets[bound.url] ??= bound.concepts.map(conceptKey);
    return { $ref: type.code, fhirCodingBinding: { valueSet: bound.url, type: type.code } };
  }

  /**
   * The value set of a required binding (https://hl7.org/fhir/R4/terminologies.html#required); one the bundles
   * cannot enumerate is recorded as unchecked and yields undefined.
   */
  private requiredValueSet(element: ElementDefinition): { url: string; concepts: Concept[] } | undefined {
    const binding = element.binding;
    if (binding?.strength !== 'required' || !binding.valueSet) return undefined;
    const url = binding.valueSet.split('|')[0];
    const concepts = this.expander.expand(url);
    if (concepts) return { url, concepts };
    this.skippedBindings.add(url);
    return undefined;
  }

  private primitive(type: string): JsonSchema {
    const schema = this.primitives.get(type);
    if (!schema) throw new Error(`unknown primitive type ${type}`);
    return { ...schema, fhirType: type };
  }
}

/** A repeating primitive's array may hold null where the aligned `_element` array holds the extension. */
function nullable(schema: JsonSchema): JsonSchema {
  return { ...schema, type: [schema.type, 'null'] };
}
