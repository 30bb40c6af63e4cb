/**
 * Compartment membership (https://hl7.org/fhir/R4/compartmentdefinition.html): a resource is in the compartment
 * `Patient/x` when one of the compartment's parameters for its type references the local Patient x
 * (https://hl7.org/fhir/R4/compartmentdefinition-patient.html), and a Patient is in its own compartment.
 * Driven by generated/search/compartments.json, which is keyed by compartment type so Encounter, Practitioner,
 * RelatedPerson and Device compartments only need their CompartmentDefinitions added to the build.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { FhirError } from '../core/errors';
import type { ReferenceEntry } from './index-fields';
import { COMPARTMENTS_FILE, searchArtifactsDir } from './registry/artifacts';
import type { CompartmentsArtifact } from './registry/types';

export class CompartmentDefinitions {
  private readonly definitions: CompartmentsArtifact;

  constructor(definitions: CompartmentsArtifact) {
    this.definitions = definitions;
  }

  static load(options: { definitionsDir?: string } = {}): CompartmentDefinitions {
    const file = path.join(searchArtifactsDir(options.definitionsDir), COMPARTMENTS_FILE);
    try {
      return new CompartmentDefinitions(JSON.parse(fs.readFileSync(file, 'utf8')) as CompartmentsArtifact);
    } catch (err) {
      throw new FhirError('fault', `compartment definitions unreadable at ${file} (run npm run build:defs): ${(err as Error).message}`);
    }
  }

  /** Compartment types defined (currently `Patient`). */
  compartmentTypes(): string[] {
    return Object.keys(this.definitions);
  }

  /** Codes of the search parameters that place a `resourceType` in a `compartmentType` compartment ([] when none). */
  paramsFor(compartmentType: string, resourceType: string): string[] {
    return this.definitions[compartmentType]?.[resourceType] ?? [];
  }

  /**
   * The compartments (`Patient/x`, ...) a resource belongs to, from its extracted reference entries
   * (whose `r` is already the local key, whether the reference was relative or under our base URL).
   */
  membership(resourceType: string, id: string | undefined, references: readonly ReferenceEntry[]): string[] {
    const out = new Set<string>();
    for (const compartmentType of Object.keys(this.definitions)) {
      if (resourceType === compartmentType && id) out.add(`${compartmentType}/${id}`);
      const params = this.definitions[compartmentType][resourceType];
      if (!params) continue;
      const prefix = `${compartmentType}/`;
      for (const ref of references) {
        if (ref.r !== undefined && ref.r.startsWith(prefix) && params.includes(ref.p)) out.add(ref.r);
      }
    }
    return [...out];
  }
}
