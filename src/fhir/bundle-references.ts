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

/**
 * The `Type/id`s each `type?name=value` matches, for many values at once (SearchService.matchEach); values it
 * leaves out of the answer are resolved one by one with the ConditionalResolver.
 */
export type GroupResolver = (type: string, name: string, values: string[]) => Promise<ReadonlyMap<string, string[]>>;

type Pending = Array<{ holder: Record<string, unknown>; key: string; reference: string }>;

const LOCAL_URN = /^urn:(?:uuid|oid):/;
const CONDITIONAL = /^([A-Z][A-Za-z]{1,63})\?(.+)$/;
const NARRATIVE_LINK = /\b(href|src)="(urn:(?:uuid|oid):[^"]+)"/g;

/**
 * Rewrites the references of the resources of a transaction in place, resolving conditional ones once per Bundle.
 * Every change is logged, so `restore` can give back the Bundle as sent when a store re-runs the transaction.
 */
export class ReferenceRewriter {
  private readonly conditional = new Map<string, Promise<string>>();
  /** Matches of conditional references looked up ahead, by group (`prefetch`); each is still judged where it is used. */
  private readonly prefetched = new Map<string, string[]>();
  private readonly changes: Array<{ holder: Record<string, unknown> | unknown[]; key: string | number; was: unknown }> = [];

  constructor(
    private readonly identities: Identities,
    private readonly resolve: ConditionalResolver,
    private readonly resolveGroup?: GroupResolver,
  ) {}

  /** Rewrites `resource` (the body of entry `index`) in place. */
  async rewrite(resource: Resource, index: number): Promise<void> {
    const pending: Pending = [];
    this.visit(resource, index, pending);
    await this.settle(pending, index);
  }

  /**
   * Rewrites the bodies of `entries` in place, with the same outcome and the same first error as `rewrite` on
   * each in turn, but with their conditional references looked up together first: a few grouped searches instead
   * of one per distinct reference. `at(index, work)` runs the part of entry `index`, to name it in errors.
   */
  async rewriteAll(entries: ReadonlyArray<{ resource: Resource; index: number }>, at: (index: number, work: () => Promise<void>) => Promise<void>): Promise<void> {
    const visited: Array<{ index: number; pending: Pending }> = [];
    let failed: { index: number; error: unknown } | undefined;
    for (const { resource, index } of entries) {
      const pending: Pending = [];
      try {
        this.visit(resource, index, pending);
      } catch (error) {
        // `rewrite` would have settled the entries before this one first: they still are, below.
        failed = { index, error };
        break;
      }
      visited.push({ index, pending });
    }
    await this.prefetch(visited.flatMap((v) => v.pending.map((p) => p.reference)));
    for (const { index, pending } of visited) await at(index, () => this.settle(pending, index));
    if (failed) {
      const { index, error } = failed;
      await at(index, () => Promise.reject(error));
    }
  }

  private async settle(pending: Pending, index: number): Promise<void> {
    for (const { holder, key, reference } of pending) this.set(holder, key, await this.resolveConditional(reference, index));
  }

  /**
   * Looks up the distinct single-parameter conditional references (`Practitioner?identifier=x|1`) by type and
   * parameter, many values per search. Nothing here fails: what the groups do not settle is searched on its own
   * when used, with that search's errors.
   */
  private async prefetch(references: string[]): Promise<void> {
    if (!this.resolveGroup) return;
    const byGroup = new Map<string, { type: string; name: string; values: Map<string, string> }>();
    for (const reference of new Set(references)) {
      if (this.conditional.has(reference)) continue;
      const m = CONDITIONAL.exec(reference);
      let criteria: Array<[string, string]>;
      try {
        criteria = parseCriteria((m as RegExpExecArray)[2] as string, 'a conditional reference');
      } catch {
        continue;
      }
      if (criteria.length !== 1) continue;
      const [[name, value]] = criteria as [[string, string]];
      const type = (m as RegExpExecArray)[1] as string;
      const groupKey = `${type}?${name}`;
      let group = byGroup.get(groupKey);
      if (!group) byGroup.set(groupKey, (group = { type, name, values: new Map() }));
      group.values.set(value, reference);
    }
    for (const { type, name, values } of byGroup.values()) {
      if (values.size < 2) continue;
      let answers: ReadonlyMap<string, string[]>;
      try {
        answers = await this.resolveGroup(type, name, [...values.keys()]);
      } catch {
        continue;
      }
      for (const [value, matches] of answers) {
        const reference = values.get(value);
        if (reference !== undefined) this.prefetched.set(reference, matches);
      }
    }
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
          const target = this.identities.get(item);
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
      const target = this.identities.get(value);
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
    const matches = this.prefetched.get(reference) ?? (await this.resolve(type as string, parseCriteria(query as string, `The conditional reference ${reference.slice(0, 100)}`)));
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
