/**
 * References inside a transaction Bundle (https://hl7.org/fhir/R4/bundle.html#references,
 * https://hl7.org/fhir/R4/http.html#trules):
 * - every value equal to an entry's `urn:uuid:` / `urn:oid:` fullUrl, wherever it sits in the resource tree
 *   (Reference.reference in contained resources and extensions, uri/url elements such as Attachment.url, and
 *   href/src attributes of the narrative), becomes the `Type/id` the server gave that entry;
 * - a conditional reference (`Patient?identifier=http://x|123`) becomes the one resource its search matches,
 *   searched inside the transaction; no match or several fail the transaction, naming the entry and the reference.
 */
import type { Resource } from 'fhir/r4';
import { FhirError, invalid } from '../core/errors';
import { parseCriteria } from './criteria';

/** `urn:uuid:` / `urn:oid:` identities of a Bundle's entries: fullUrl -> `Type/id`. */
export type Identities = ReadonlyMap<string, string>;

/** Finds the `Type/id` of the single resource a conditional reference names (throws for none or several). */
export type ConditionalResolver = (type: string, criteria: Array<[string, string]>) => Promise<string[]>;

const LOCAL_URN = /^urn:(?:uuid|oid):/;
const CONDITIONAL = /^([A-Z][A-Za-z]{1,63})\?(.+)$/;
const NARRATIVE_LINK = /\b(href|src)="(urn:(?:uuid|oid):[^"]+)"/g;

/**
 * Rewrites the references of the resources of a transaction in place, resolving conditional ones once per Bundle.
 * Every change is logged, so `restore` can give back the Bundle as sent when a store re-runs the transaction.
 */
export class ReferenceRewriter {
  private readonly conditional = new Map<string, Promise<string>>();
  private readonly changes: Array<{ holder: Record<string, unknown> | unknown[]; key: string | number; was: unknown }> = [];

  constructor(
    private readonly identities: Identities,
    private readonly resolve: ConditionalResolver,
  ) {}

  /** Rewrites `resource` (the body of entry `index`) in place. */
  async rewrite(resource: Resource, index: number): Promise<void> {
    const pending: Array<{ holder: Record<string, unknown>; key: string; reference: string }> = [];
    this.visit(resource, index, pending);
    for (const { holder, key, reference } of pending) this.set(holder, key, await this.resolveConditional(reference, index));
  }

  /** Undoes every rewrite, newest first. */
  restore(): void {
    for (let i = this.changes.length - 1; i >= 0; i--) {
      const { holder, key, was } = this.changes[i] as (typeof this.changes)[number];
      (holder as Record<string | number, unknown>)[key] = was;
    }
    this.changes.length = 0;
  }

  private set(holder: Record<string, unknown> | unknown[], key: string | number, value: string): void {
    this.changes.push({ holder, key, was: (holder as Record<string | number, unknown>)[key] });
    (holder as Record<string | number, unknown>)[key] = value;
  }

  private visit(node: unknown, index: number, pending: Array<{ holder: Record<string, unknown>; key: string; reference: string }>): void {
    if (Array.isArray(node)) {
      for (let i = 0; i < node.length; i++) {
        const item: unknown = node[i];
        if (typeof item === 'string') {
          const target = item.startsWith('urn:') ? this.identities.get(item) : undefined;
          if (target !== undefined) this.set(node, i, target);
        } else if (typeof item === 'object' && item !== null) this.visit(item, index, pending);
      }
      return;
    }
    const holder = node as Record<string, unknown>;
    for (const key of Object.keys(holder)) {
      const value = holder[key];
      if (typeof value === 'object' && value !== null) {
        this.visit(value, index, pending);
        continue;
      }
      if (typeof value !== 'string') continue;
      // Every identity is a urn:uuid: or urn:oid: fullUrl: other strings (most of them) need no lookup.
      const target = value.startsWith('urn:') ? this.identities.get(value) : undefined;
      if (target !== undefined) this.set(holder, key, target);
      else if (key === 'div' && value.includes('urn:')) {
        const linked = value.replace(NARRATIVE_LINK, (whole, attribute: string, urn: string) => {
          const id = this.identities.get(urn);
          return id === undefined ? whole : `${attribute}="${id}"`;
        });
        if (linked !== value) this.set(holder, key, linked);
      } else if (key === 'reference') {
        if (LOCAL_URN.test(value)) {
          throw invalid(`Bundle.entry[${index}] refers to ${value.slice(0, 100)}, which is the fullUrl of no entry in this Bundle`, `Bundle.entry[${index}].resource`);
        }
        if (CONDITIONAL.test(value)) pending.push({ holder, key, reference: value });
      }
    }
  }

  private resolveConditional(reference: string, index: number): Promise<string> {
    let resolved = this.conditional.get(reference);
    if (!resolved) {
      resolved = this.search(reference, index);
      this.conditional.set(reference, resolved);
    }
    return resolved;
  }

  private async search(reference: string, index: number): Promise<string> {
    const [, type, query] = CONDITIONAL.exec(reference) as RegExpExecArray;
    const matches = await this.resolve(type as string, parseCriteria(query as string, `The conditional reference ${reference.slice(0, 100)}`));
    if (matches.length === 1) return matches[0] as string;
    const what = matches.length === 0 ? 'matches no resource' : 'matches more than one resource';
    throw new FhirError(matches.length === 0 ? 'unprocessable' : 'precondition-failed', [
      {
        severity: 'error',
        code: matches.length === 0 ? 'not-found' : 'multiple-matches',
        diagnostics: `Bundle.entry[${index}]: the conditional reference ${reference.slice(0, 200)} ${what}; it must match exactly one`,
        expression: [`Bundle.entry[${index}].resource`],
      },
    ]);
  }
}
