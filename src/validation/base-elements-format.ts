/**
 * Shape of generated/validation/base-elements.json, written by scripts/definitions/base-elements.ts: the snapshot
 * elements of every R4 datatype and resource StructureDefinition (https://hl7.org/fhir/R4/elementdefinition.html),
 * without their prose, and the URLs of the core extension definitions (Bundle-extensions.json). Read by
 * src/validation/snapshot.ts to generate the snapshots of differential-only profiles. Bump the format when the shape changes.
 */
import type { ElementDefinition } from 'fhir/r4';

export const BASE_ELEMENTS_FORMAT = 'fhir-r4-base-elements/1';
export const BASE_ELEMENTS_FILE = 'base-elements.json';
export const BASE_ELEMENTS_STAMP_FILE = 'base-elements-stamp.txt';

export interface BaseDefinition {
  url: string;
  type: string;
  kind: string;
  derivation?: string;
  baseDefinition?: string;
  elements: ElementDefinition[];
}

export interface BaseElements {
  format: typeof BASE_ELEMENTS_FORMAT;
  /** By canonical URL: the R4 datatypes, resources and constraint types (SimpleQuantity, MoneyQuantity). */
  definitions: Record<string, BaseDefinition>;
  /** Canonical URLs of the R4 core extension definitions: held by the server, so never "unknown". */
  extensions: string[];
}

/** ElementDefinition properties kept (everything a snapshot or a validator uses; prose dropped). */
export const KEPT_PROPERTIES = /^(id|path|sliceName|min|max|base|type|contentReference|binding|constraint|slicing|maxLength|isModifier|(fixed|pattern|minValue|maxValue)[A-Z].*)$/;
