/**
 * Snapshot generation (https://hl7.org/fhir/R4/profiling.html#snapshot): a profile written as a differential only
 * gets its snapshot from its base's snapshot (an R4 type from generated/validation/base-elements.json, or a local
 * profile's own published or generated snapshot), with each differential element merged into the base element of
 * the same id. Children of a datatype are expanded from that type's definition when the differential constrains
 * them (`Patient.identifier:national.system`), slices start from the base element they slice, and a type-specific
 * choice name (`Observation.valueQuantity`) is the type slice `Observation.value[x]:valueQuantity`. A differential
 * element the base does not have, a type the base does not allow, or a cardinality wider than the base's, is a
 * SnapshotError naming the element.
 */
import type { ElementDefinition, StructureDefinition } from 'fhir/r4';

export interface SnapshotSources {
  /** Snapshot elements of a StructureDefinition by canonical URL (an R4 type, or a local profile). */
  snapshotOf(url: string): ElementDefinition[] | undefined;
  /** True for the R4 resource types (allowed where the base says `Resource`). */
  isResourceType(code: string): boolean;
}

/** A differential that cannot be applied to its base; `element` is the differential element's id. */
export class SnapshotError extends Error {
  constructor(
    readonly element: string,
    message: string,
  ) {
    super(`element '${element}': ${message}`);
  }
}

const CORE = 'http://hl7.org/fhir/StructureDefinition/';
const clone = <T>(value: T): T => structuredClone(value);
const capitalize = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);
const RULE_VALUE = /^(fixed|pattern|minValue|maxValue)[A-Z]/;

/** The id of a differential element: its `id`, else its path with the slice name on the last segment. */
export function elementId(element: ElementDefinition): string {
  if (element.id) return element.id;
  return element.sliceName ? `${element.path}:${element.sliceName}` : element.path;
}

export function generateSnapshot(sd: StructureDefinition, sources: SnapshotSources): ElementDefinition[] {
  const baseUrl = sd.baseDefinition?.split('|')[0];
  if (!baseUrl) throw new SnapshotError(sd.type, 'a constraint profile needs a baseDefinition');
  const base = sources.snapshotOf(baseUrl);
  if (!base?.length) throw new SnapshotError(sd.type, `its base ${baseUrl} is not known to this server`);
  if (base[0].path !== sd.type) throw new SnapshotError(sd.type, `its base ${baseUrl} defines ${base[0].path}, not ${sd.type}`);
  return new Generator(base, sources).apply(sd.differential?.element ?? []);
}

class Generator {
  private readonly elements: ElementDefinition[];
  /** Each element as it was before the differential changed it: slices start from these. */
  private readonly pristine = new Map<string, ElementDefinition>();

  constructor(
    base: ElementDefinition[],
    private readonly sources: SnapshotSources,
  ) {
    this.elements = base.map((e) => clone(e));
    for (const e of this.elements) this.pristine.set(e.id ?? e.path, clone(e));
  }

  apply(differential: ElementDefinition[]): ElementDefinition[] {
    const type = this.elements[0].path;
    for (const d of differential) {
      const id = elementId(d);
      if (id !== type && !id.startsWith(`${type}.`)) throw new SnapshotError(id, `does not belong to type ${type}`);
      this.merge(this.locate(id, d), d, id);
    }
    return this.elements;
  }

  private indexOf(id: string): number {
    return this.elements.findIndex((e) => (e.id ?? e.path) === id);
  }

  /** Position of the element with this id, creating slices and expanding datatypes on the way. */
  private locate(id: string, d?: ElementDefinition): number {
    const found = this.indexOf(id);
    if (found !== -1) return found;
    const dot = id.lastIndexOf('.');
    if (dot === -1) throw new SnapshotError(id, 'is not an element of the base');
    const last = id.slice(dot + 1);
    const parent = this.locate(id.slice(0, dot));
    // The parent's id in the snapshot (a type-specific choice name is a slice there: value[x]:valueQuantity).
    const parentId = this.elements[parent].id ?? this.elements[parent].path;
    this.expand(parent, id);
    const colon = last.indexOf(':');
    if (colon !== -1) return this.slice(`${parentId}.${last.slice(0, colon)}`, last.slice(colon + 1), id);
    const at = this.indexOf(`${parentId}.${last}`);
    if (at !== -1) return at;
    // A type-specific name of a choice element (valueQuantity): the type slice value[x]:valueQuantity.
    for (const e of this.childrenOf(parentId)) {
      const name = (e.id ?? e.path).slice(parentId.length + 1);
      if (!name.endsWith('[x]')) continue;
      const stem = name.slice(0, -3);
      if (last.startsWith(stem) && (e.type ?? []).some((t) => stem + capitalize(t.code) === last)) {
        const position = this.slice(`${parentId}.${name}`, last, id);
        this.renamed.set(id, `${parentId}.${name}:${last}`);
        return position;
      }
    }
    throw new SnapshotError(d ? elementId(d) : id, `the base has no element '${last}' in ${parentId.replace(/:[^.]*/g, '')}`);
  }

  /** Ids a differential used as type-specific choice names, and the slice ids they became. */
  private readonly renamed = new Map<string, string>();

  private childrenOf(parentId: string): ElementDefinition[] {
    const prefix = `${parentId}.`;
    return this.elements.filter((e) => {
      const id = e.id ?? e.path;
      return id.startsWith(prefix) && !id.slice(prefix.length).includes('.');
    });
  }

  /** The slice `sliceName` of the element `slicedId` (created from the base element when new). */
  private slice(slicedId: string, sliceName: string, id: string): number {
    const sliceId = `${slicedId}:${sliceName}`;
    const existing = this.indexOf(sliceId);
    if (existing !== -1) return existing;
    const slicedAt = this.locate(slicedId);
    const sliced = this.elements[slicedAt];
    const template = clone(this.pristine.get(slicedId) ?? sliced);
    delete template.slicing;
    template.id = sliceId;
    template.sliceName = sliceName;
    if (slicedId.endsWith('[x]')) {
      const stem = slicedId.slice(slicedId.lastIndexOf('.') + 1, -3);
      const type = (template.type ?? []).filter((t) => stem + capitalize(t.code) === sliceName);
      if (type.length) template.type = type;
      if (!sliced.slicing) sliced.slicing = { discriminator: [{ type: 'type', path: '$this' }], rules: 'open' } as ElementDefinition['slicing'];
    } else if (!sliced.slicing && !/\.(extension|modifierExtension)$/.test(slicedId)) {
      throw new SnapshotError(id, `slices ${slicedId}, which has no slicing`);
    }
    // After the sliced element, its children and its earlier slices (and theirs).
    let at = slicedAt + 1;
    while (at < this.elements.length && this.within(this.elements[at].id ?? this.elements[at].path, slicedId)) at++;
    this.insert(at, [template]);
    // Children of a backbone element come with the slice, as constrained so far (what the sliced element's
    // children say holds for every slice); their own slices stay with the sliced element.
    const prefix = `${slicedId}.`;
    const children = this.elements.filter((e) => (e.id ?? e.path).startsWith(prefix)).map((e) => ({ ...clone(e), id: sliceId + (e.id ?? e.path).slice(slicedId.length) }));
    if (children.length && !(sliced.type ?? []).some((t) => t.code !== 'BackboneElement' && t.code !== 'Element')) this.insert(at + 1, children);
    return at;
  }

  /** An id inside the element `owner` (its children, its slices, their children). */
  private within(id: string, owner: string): boolean {
    return id.startsWith(`${owner}.`) || id.startsWith(`${owner}:`);
  }

  private insert(at: number, elements: ElementDefinition[]): void {
    this.elements.splice(at, 0, ...elements);
    for (const e of elements) this.pristine.set(e.id ?? e.path, clone(e));
  }

  /** Gives the element at `at` its children from its datatype (or contentReference) when it has none yet. */
  private expand(at: number, wanted: string): void {
    const e = this.elements[at];
    const id = e.id ?? e.path;
    if (this.elements.some((x) => (x.id ?? x.path).startsWith(`${id}.`))) return;
    let source: ElementDefinition[] | undefined;
    let root: string;
    if (e.contentReference) {
      root = e.contentReference.replace(/^#/, '');
      source = [...this.pristine.values()].filter((x) => (x.id ?? x.path) === root || ((x.id ?? x.path).startsWith(`${root}.`) && !(x.id ?? x.path).includes(':')));
    } else {
      const codes = [...new Set((e.type ?? []).map((t) => t.code))];
      if (codes.length !== 1) throw new SnapshotError(wanted, `cannot constrain inside ${id}: it has ${codes.length ? `${codes.length} types (${codes.join(', ')})` : 'no type'}; name one type first`);
      const profile = e.type![0].profile?.[0];
      source = (profile && this.sources.snapshotOf(profile.split('|')[0])) || this.sources.snapshotOf(CORE + codes[0]);
      if (!source) throw new SnapshotError(wanted, `the type ${codes[0]} of ${id} is not known to this server`);
      root = source[0].id ?? source[0].path;
    }
    const children = source.slice(1).map((x) => {
      const xid = x.id ?? x.path;
      return { ...clone(x), id: id + xid.slice(root.length), path: e.path + x.path.slice(root.replace(/:[^.]*/g, '').length) };
    });
    this.insert(at + 1, children);
  }

  private merge(at: number, d: ElementDefinition, id: string): void {
    const target = this.elements[at];
    if (d.type) {
      const allowed = (target.type ?? []).map((t) => t.code);
      for (const t of d.type) {
        const ok = allowed.includes(t.code) || ((allowed.includes('Resource') || allowed.includes('DomainResource')) && this.sources.isResourceType(t.code)) || allowed.includes('*');
        if (!ok) throw new SnapshotError(id, `type ${t.code} is not allowed by the base (${allowed.join(', ') || 'no type'})`);
      }
    }
    if (d.min !== undefined && target.min !== undefined && d.min < target.min && !d.sliceName) throw new SnapshotError(id, `min ${d.min} is below the base's min ${target.min}`);
    if (d.max !== undefined && target.max !== undefined && target.max !== '*' && (d.max === '*' || Number(d.max) > Number(target.max))) {
      throw new SnapshotError(id, `max ${d.max} is above the base's max ${target.max}`);
    }
    for (const [key, value] of Object.entries(d) as Array<[keyof ElementDefinition, unknown]>) {
      if (key === 'id' || key === 'path') continue;
      if (key === 'constraint') {
        const keys = new Set(d.constraint!.map((c) => c.key));
        target.constraint = [...(target.constraint ?? []).filter((c) => !keys.has(c.key)), ...clone(d.constraint!)];
        continue;
      }
      if (RULE_VALUE.test(key)) for (const k of Object.keys(target)) if (k !== key && k.startsWith(key.match(RULE_VALUE)![1]) && RULE_VALUE.test(k)) delete (target as unknown as Record<string, unknown>)[k];
      (target as unknown as Record<string, unknown>)[key] = clone(value);
    }
    if (this.renamed.has(id) && !d.sliceName) target.sliceName = (target.id ?? '').slice((target.id ?? '').lastIndexOf(':') + 1);
  }
}
