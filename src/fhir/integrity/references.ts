/**
 * Finds the literal references of a resource into this server (https://hl7.org/fhir/R4/references.html#literal):
 * a walk over the resource guided by the R4 element definitions (reference-elements.ts), so every Reference
 * element is found, inside backbone elements and datatypes (Annotation.author, Identifier.assigner, extensions)
 * too, each with the element path that holds it and the target types its targetProfile allows. Contained and
 * other nested resources are not walked; contained references (`#id`) and references elsewhere are skipped.
 */
import type { Resource } from 'fhir/r4';
import { normaliseBaseUrl, referenceKey } from '../../search/normalise/reference';
import type { ReferenceElement, ReferenceElementsArtifact } from './reference-elements';

export interface LiteralReference {
  /** Where it is, FHIRPath-like with indices: `Observation.performer[1]`. */
  element: string;
  /** `Type/id` of the target. */
  key: string;
  type: string;
  /** Types the element may refer to; undefined: any. */
  allowed?: readonly string[];
}

export class ReferenceFinder {
  private readonly elements: ReadonlyMap<string, ReferenceElement>;
  private readonly baseUrl: string;

  constructor(
    artifact: ReferenceElementsArtifact,
    baseUrl: string,
    private readonly isResourceType: (type: string) => boolean,
  ) {
    this.elements = new Map(Object.entries(artifact.elements));
    this.baseUrl = normaliseBaseUrl(baseUrl);
  }

  references(resource: Resource): LiteralReference[] {
    const out: LiteralReference[] = [];
    this.walk(resource as unknown as Record<string, unknown>, resource.resourceType, resource.resourceType, out);
    return out;
  }

  private walk(node: Record<string, unknown>, structurePath: string, expression: string, out: LiteralReference[]): void {
    for (const [name, value] of Object.entries(node)) {
      if (name.startsWith('_') || value === null || typeof value !== 'object') continue;
      const info = this.elements.get(`${structurePath}.${name}`);
      if (!info) continue;
      const items = Array.isArray(value) ? value : [value];
      items.forEach((item: unknown, i) => {
        if (item === null || typeof item !== 'object' || Array.isArray(item)) return;
        const at = Array.isArray(value) ? `${expression}.${name}[${i}]` : `${expression}.${name}`;
        const child = item as Record<string, unknown>;
        if (info.r !== undefined) this.reference(child, at, info.r, out);
        else if (info.t) this.walk(child, info.t, at, out);
        else if (info.b) this.walk(child, `${structurePath}.${name}`, at, out);
        else if (info.c) this.walk(child, info.c, at, out);
      });
    }
  }

  private reference(ref: Record<string, unknown>, element: string, targets: readonly string[] | 1, out: LiteralReference[]): void {
    if (typeof ref.reference !== 'string') return;
    const key = referenceKey(ref.reference, this.baseUrl);
    if (!key?.r || !key.ty || !this.isResourceType(key.ty)) return;
    out.push({ element, key: key.r, type: key.ty, ...(targets === 1 ? {} : { allowed: targets }) });
  }
}
