/**
 * Consent decisions compiled into a query filter. For one request (who asks, why, for what action, when) the
 * request-side criteria of every provision are decided at once; what remains is a tree over resource criteria,
 * which becomes a MongoDB query document ANDed into every query of the request (STYLE: access decisions
 * compiled into queries). The same filter, tested against a single record, is the final check on what leaves.
 *
 * Semantics (https://hl7.org/fhir/R4/consent.html#provision):
 * - among a patient's enforceable consents the newest decides; consents given at the same time combine with
 *   deny winning;
 * - a provision decides its `type` for the resources it matches unless a matching exception decides otherwise;
 *   when several exceptions match one resource, deny wins;
 * - a criterion the server cannot evaluate on a resource (a `class` outside resource types, `data` of meaning
 *   related/dependents/authoredby) makes a deny match everything and a permit match nothing: doubt withholds.
 */
import type { Filter } from '../../storage/port';
import { and, MATCH_NOTHING } from '../../search/compile/filters';
import { within, type ConsentRules, type Decision, type ProvisionRule } from './rules';

export interface ConsentRequest {
  /** References standing for the requester: its fhirUser, the user's organisation(s), the client (`Device/...`). */
  actors: string[];
  /** Consent action codes this access is (http://terminology.hl7.org/CodeSystem/consentaction): access, use, disclose, correct... */
  actions: string[];
  /** v3 ActReason purposes of use. */
  purposes: string[];
  /** Instant of the request. */
  at: string;
}

/** A decision over resources: a constant, or a provision's resource criteria, combined. */
export type ResourceCondition =
  | { kind: 'all' }
  | { kind: 'none' }
  | { kind: 'criteria'; rule: ProvisionRule }
  | { kind: 'and'; of: ResourceCondition[] }
  | { kind: 'or'; of: ResourceCondition[] }
  | { kind: 'not'; of: ResourceCondition };

export interface ConsentDecision {
  /** Which resources of the patient the requester may see or change. */
  permitted: ResourceCondition;
  /** The consents that decided (`Consent/id`), for the audit trail; empty when the implicit policy applied. */
  decidedBy: string[];
}

const ALL: ResourceCondition = { kind: 'all' };
const NONE: ResourceCondition = { kind: 'none' };

/**
 * The decision of a patient's consents for one request; `implicit` applies where no consent speaks (no consent
 * on file, or the newest ones do not cover this requester or these resources).
 */
export function decide(consents: readonly ConsentRules[], request: ConsentRequest, implicit: Decision): ConsentDecision {
  const fallback = implicit === 'permit' ? ALL : NONE;
  if (consents.length === 0) return { permitted: fallback, decidedBy: [] };
  const newest = consents.reduce((max, c) => (c.givenAt > max ? c.givenAt : max), '');
  const deciding = consents.filter((c) => c.givenAt === newest);
  const parts = deciding.map((c) => (appliesTo(c.root, request) ? covered(c.root, request, fallback) : fallback));
  return { permitted: simplify({ kind: 'and', of: parts }), decidedBy: deciding.map((c) => c.reference) };
}

/** Within the root's resource criteria its tree decides; outside them the fallback does. */
function covered(root: ProvisionRule, request: ConsentRequest, fallback: ResourceCondition): ResourceCondition {
  const inScope = matches(root);
  return {
    kind: 'or',
    of: [
      { kind: 'and', of: [inScope, permitted(root, request)] },
      { kind: 'and', of: [{ kind: 'not', of: inScope }, fallback] },
    ],
  };
}

/** Resources for which `rule` (already known to match them) ends in permit. */
function permitted(rule: ProvisionRule, request: ConsentRequest): ResourceCondition {
  const exceptions = rule.exceptions.filter((e) => appliesTo(e, request));
  const own: ResourceCondition = rule.type === 'permit' ? ALL : NONE;
  if (exceptions.length === 0) return own;
  const anyException: ResourceCondition = { kind: 'or', of: exceptions.map(matches) };
  // Deny wins among matching exceptions: permitted when no matching exception ends in deny.
  const noDenyingException: ResourceCondition = {
    kind: 'not',
    of: { kind: 'or', of: exceptions.map((e) => ({ kind: 'and', of: [matches(e), { kind: 'not', of: permitted(e, request) }] })) },
  };
  // Where no exception matches, the rule's own type decides; where some do, none of them may end in deny.
  // A permitting rule is thus exactly noDenyingException (trivially true where none matches), a denying one
  // needs a matching exception as well: the same decision as the case split, with each criterion once.
  return own.kind === 'all' ? noDenyingException : { kind: 'and', of: [anyException, noDenyingException] };
}

/** The resources a provision's resource-side criteria select, with doubt resolved against disclosure. */
function matches(rule: ProvisionRule): ResourceCondition {
  if (rule.unmatchableClass || rule.unmatchableData) return rule.type === 'deny' ? ALL : NONE;
  const hasCriteria = rule.resourceTypes || rule.codes || rule.securityLabels || rule.dataPeriod || rule.instances;
  return hasCriteria ? { kind: 'criteria', rule } : ALL;
}

/** Whether the provision's request-side criteria (actor, action, purpose, period) hold for this request. */
export function appliesTo(rule: ProvisionRule, request: ConsentRequest): boolean {
  if (rule.actors && !rule.actors.some((a) => request.actors.includes(a))) return false;
  if (rule.actions && !rule.actions.some((a) => request.actions.includes(a))) return false;
  if (rule.purposes && !rule.purposes.some((p) => request.purposes.includes(p))) return false;
  return within(request.at, rule.period);
}

/** Folds constants: the trees above are written plainly and mostly collapse to a few nodes. */
export function simplify(c: ResourceCondition): ResourceCondition {
  switch (c.kind) {
    case 'and': {
      const of = c.of.map(simplify).filter((x) => x.kind !== 'all');
      if (of.some((x) => x.kind === 'none')) return NONE;
      return of.length === 0 ? ALL : of.length === 1 ? (of[0] as ResourceCondition) : { kind: 'and', of };
    }
    case 'or': {
      const of = c.of.map(simplify).filter((x) => x.kind !== 'none');
      if (of.some((x) => x.kind === 'all')) return ALL;
      return of.length === 0 ? NONE : of.length === 1 ? (of[0] as ResourceCondition) : { kind: 'or', of };
    }
    case 'not': {
      const inner = simplify(c.of);
      if (inner.kind === 'all') return NONE;
      if (inner.kind === 'none') return ALL;
      if (inner.kind === 'not') return inner.of;
      return { kind: 'not', of: inner };
    }
    default:
      return c;
  }
}

/** Compiles one provision's resource criteria for a resource type into a query document. */
export type CriteriaFilter = (rule: ProvisionRule, resourceType: string) => Promise<Filter>;

/** The condition as a MongoDB query document for resources of `resourceType`. */
export async function conditionFilter(c: ResourceCondition, resourceType: string, criteria: CriteriaFilter): Promise<Filter> {
  switch (c.kind) {
    case 'all':
      return {};
    case 'none':
      return MATCH_NOTHING;
    case 'criteria':
      return criteria(c.rule, resourceType);
    case 'and':
      return and(await Promise.all(c.of.map((x) => conditionFilter(x, resourceType, criteria))));
    case 'or':
      return { $or: await Promise.all(c.of.map((x) => conditionFilter(x, resourceType, criteria))) };
    case 'not':
      return { $nor: [await conditionFilter(c.of, resourceType, criteria)] };
  }
}

/**
 * The search parameters that select a provision's resources of `resourceType`, or null when none of that type
 * can match (another class, or instances of other types). Each list ORs its values; the lists AND.
 * Codes use the type's `code` parameter and data periods its `date` parameter; `hasParameter` says which exist.
 */
export function provisionParameters(
  rule: ProvisionRule,
  resourceType: string,
  hasParameter: (type: string, code: string) => boolean,
): Array<[string, string]> | null {
  if (rule.resourceTypes && !rule.resourceTypes.includes(resourceType)) return null;
  const params: Array<[string, string]> = [];
  const token = (c: { system?: string; code?: string }): string => `${c.system ? `${escape(c.system)}|` : ''}${escape(c.code ?? '')}`;
  if (rule.codes) {
    if (!hasParameter(resourceType, 'code')) return null;
    params.push(['code', rule.codes.map(token).join(',')]);
  }
  if (rule.securityLabels) params.push(['_security', rule.securityLabels.map(token).join(',')]);
  if (rule.dataPeriod) {
    if (!hasParameter(resourceType, 'date')) return null;
    if (rule.dataPeriod.start) params.push(['date', `ge${rule.dataPeriod.start}`]);
    if (rule.dataPeriod.end) params.push(['date', `le${rule.dataPeriod.end}`]);
  }
  if (rule.instances) {
    const ids = rule.instances.filter((r) => r.startsWith(`${resourceType}/`)).map((r) => r.slice(resourceType.length + 1));
    if (ids.length === 0) return null;
    params.push(['_id', ids.join(',')]);
  }
  return params;
}

/** Search-value escaping (https://hl7.org/fhir/R4/search.html#escaping). */
function escape(value: string): string {
  return value.replace(/[\\,$|]/g, (c) => `\\${c}`);
}
