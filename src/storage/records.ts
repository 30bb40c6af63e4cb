/**
 * How FHIR resources are laid out in the store. One `resources` collection holds the current version of
 * every resource (including tombstones of deleted ones, so reads answer 410 and version numbers continue);
 * one `history` collection holds an entry for every version ever written (https://hl7.org/fhir/R4/http.html#history).
 *
 * Each body is stored once. The history entry of the current version has `resource: null`; its body is the
 * current record's. Writing the next version (update, patch, delete) replaces the previous version's entry with
 * one holding that body, taken from the record being replaced, in the same transaction that writes the new
 * record and inserts the new entry. So a history entry with `deleted: false` and `resource: null` was the
 * current version when read, and src/storage/history-bodies.ts finds its body; entries written by the earlier
 * layout (body in every entry) read the same way.
 */
import type { Resource } from 'fhir/r4';
import type { Doc } from './port';
import type { IndexFields } from '../search/index-fields';

export const RESOURCES = 'resources';
export const HISTORY = 'history';

export type HistoryMethod = 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface ResourceRecord extends Doc {
  /** `${type}/${id}` */
  _id: string;
  type: string;
  id: string;
  versionId: number;
  /** FHIR instant in UTC with millisecond precision; lexical order is time order. */
  lastUpdated: string;
  deleted: boolean;
  /** The resource as served, with meta.versionId / meta.lastUpdated set; null for a tombstone. */
  resource: Resource | null;
  /** Search index entries extracted at write time (src/search/extract). Empty for tombstones. */
  idx: IndexFields;
  /** Compartments the resource belongs to, e.g. ['Patient/123'] (https://hl7.org/fhir/R4/compartmentdefinition-patient.html). */
  compartments: string[];
}

export interface HistoryRecord extends Doc {
  /** `${type}/${id}/${versionId}` */
  _id: string;
  type: string;
  id: string;
  versionId: number;
  lastUpdated: string;
  deleted: boolean;
  method: HistoryMethod;
  /**
   * The body of a past version; null for a tombstone and for the current version (whose body is in
   * `resources`, see the layout note above).
   */
  resource: Resource | null;
}

export const resourceKey = (type: string, id: string): string => `${type}/${id}`;
export const historyKey = (type: string, id: string, versionId: number): string => `${type}/${id}/${versionId}`;
