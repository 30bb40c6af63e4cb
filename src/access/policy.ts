/**
 * What a token may read, as one query filter over stored records of every type (STYLE: access decisions
 * compiled into queries). The search service ANDs it into every query of a request (matches, totals, includes,
 * chains, `_has`), and the same filter tested against one record is the final check on what leaves.
 *
 * - Scopes: OR over the token's scopes granting the permission; a typed scope adds `type`, a granular one its
 *   search criteria (https://hl7.org/fhir/smart-app-launch/scopes-and-launch-context.html#finer-grained-resource-constraints-using-search-parameters).
 * - `patient/` scopes: the token's patient compartment, plus types that are never patient data (Practitioner,
 *   Organization, Medication...: types the Patient CompartmentDefinition does not list). The patient is the data
 *   subject: consents and sensitivity labels do not hide their own record from them.
 * - `user/` and `system/` scopes: for every patient a resource is about, that patient's consent decision for
 *   this requester and purpose (src/access/consent/decision.ts), or the implicit policy when none is on file;
 *   resources labelled sensitive are withheld unless a consent provision that applies to this request permits
 *   their label explicitly.
 */
import type { Filter } from '../storage/port';
import type { CompartmentDefinitions } from '../search/compartments';
import { and, MATCH_NOTHING } from '../search/compile/filters';
import type { CriteriaCompiler } from '../search/criteria';
import type { SearchRegistry } from '../search/registry';
import { appliesTo, conditionFilter, decide, provisionParameters, type ConsentRequest, type ResourceCondition } from './consent/decision';
import type { ConsentDirectory } from './consent/directory';
import type { ConsentRules, Decision, ProvisionRule } from './consent/rules';
import { grantingScopes, type Permission, type ResourceScope } from './scopes';
import type { AccessToken } from './tokens';

/** Confidentiality R/V and v3 sensitivity codes that withhold a resource unless a consent permits it. */
export const SENSITIVE_LABELS: ReadonlyArray<{ system: string; code: string }> = [
  { system: 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality', code: 'R' },
  { system: 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality', code: 'V' },
  ...['HIV', 'PSY', 'ETH', 'SDV', 'SEX', 'STD', 'SUD', 'BH', 'GDIS', 'DRGIS', 'MH'].map((code) => ({ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code })),
];

/** The decision where no consent speaks, per purpose of use. */
export interface ImplicitPolicy {
  decision(purposes: readonly string[]): Decision;
}

/** Opt-out for treatment, payment and operations (TREAT, ETREAT, HPAYMT, HOPERAT); opt-in for every other purpose. */
export function implicitPolicy(permitPurposes: readonly string[] = ['TREAT', 'ETREAT', 'HPAYMT', 'HOPERAT']): ImplicitPolicy {
  const permit = new Set(permitPurposes);
  return { decision: (purposes) => (purposes.length > 0 && purposes.every((p) => permit.has(p)) ? 'permit' : 'deny') };
}

export interface AccessPolicyDeps {
  consents: ConsentDirectory;
  criteria: CriteriaCompiler;
  registry: SearchRegistry;
  compartments: CompartmentDefinitions;
  implicit: ImplicitPolicy;
  /** Purpose assumed when a user/ or system/ token names none (documented default: TREAT). */
  defaultPurpose: string;
}

export class AccessPolicy {
  private readonly patientDataTypes: ReadonlySet<string>;

  constructor(private readonly deps: AccessPolicyDeps) {
    this.patientDataTypes = new Set(deps.registry.resourceTypes().filter((t) => t === 'Patient' || deps.compartments.paramsFor('Patient', t).length > 0));
  }

  /** Whether any scope grants `permission` on `resourceType`: decided before any data is read (403 otherwise). */
  allows(token: AccessToken, resourceType: string, permission: Permission): boolean {
    return grantingScopes(token.scopes.resources, resourceType, permission).length > 0;
  }

  /** The records of any type the token may `permission` (r or s), at instant `now`. */
  async filter(token: AccessToken, permission: Permission, now: string): Promise<Filter> {
    const scopes = token.scopes.resources.filter((s) => s.permissions.has(permission));
    if (scopes.length === 0) return MATCH_NOTHING;
    const byScope = await Promise.all(scopes.map((s) => this.scopeFilter(token, s)));
    const scoped: Filter = byScope.length === 1 ? (byScope[0] as Filter) : { $or: byScope };
    if (scopes.every((s) => s.context === 'patient')) return scoped;
    return and([scoped, await this.consentFilter(this.consentRequest(token, now, permission))]);
  }

  private async scopeFilter(token: AccessToken, scope: ResourceScope): Promise<Filter> {
    const type = scope.resourceType === '*' ? undefined : scope.resourceType;
    const parts: Filter[] = type ? [{ type }] : [];
    if (scope.filter.length > 0) parts.push((await this.deps.criteria.compile(type, scope.filter, 'strict')).filter);
    if (scope.context === 'patient') {
      const own: Filter = { compartments: `Patient/${token.patient ?? ''}` };
      const shared = type ? (this.patientDataTypes.has(type) ? null : {}) : { type: { $nin: [...this.patientDataTypes] } };
      parts.push(shared === null ? own : Object.keys(shared).length === 0 ? {} : { $or: [own, shared] });
    }
    return and(parts);
  }

  private consentRequest(token: AccessToken, now: string, permission: Permission): ConsentRequest {
    const actors = [token.fhirUser, token.clientId !== undefined ? `Device/${token.clientId}` : undefined].filter((a): a is string => a !== undefined);
    const purposes = token.purposeOfUse.length > 0 ? token.purposeOfUse : [this.deps.defaultPurpose];
    return { actors, actions: permission === 'r' || permission === 's' ? ['access'] : ['correct'], purposes, at: now };
  }

  /**
   * Every patient a record is about must permit it. Patients with consents on file get their own clause; the
   * rest share the implicit decision.
   */
  private async consentFilter(request: ConsentRequest): Promise<Filter> {
    const implicit = this.deps.implicit.decision(request.purposes);
    const onFile = await this.deps.consents.enforceable(request.at);
    const notSensitive = { $nor: [await this.labelled(SENSITIVE_LABELS)] };
    const clauses: Filter[] = [];
    for (const [patient, consents] of onFile) {
      clauses.push({ $or: [{ compartments: { $ne: `Patient/${patient}` } }, await this.patientClause(consents, request, implicit, notSensitive)] });
    }
    const consented = [...onFile.keys()].map((p) => `Patient/${p}`);
    // Records about a patient without a consent on file: the implicit decision, and never a sensitive label.
    const aboutOthers: Filter = { compartments: { $elemMatch: { $nin: consented } } };
    clauses.push(implicit === 'permit' ? { $or: [{ $nor: [aboutOthers] }, notSensitive] } : { $nor: [aboutOthers] });
    return and(clauses);
  }

  private async patientClause(consents: ConsentRules[], request: ConsentRequest, implicit: Decision, notSensitive: Filter): Promise<Filter> {
    const { permitted } = decide(consents, request, implicit);
    const decision = await this.toFilter(permitted);
    const labelPermits = consents.flatMap((c) => permittingLabelProvisions(c.root, request));
    const sensitiveAllowed = labelPermits.length > 0 ? await this.labelled(labelPermits.flatMap((p) => p.securityLabels ?? [])) : MATCH_NOTHING;
    return and([decision, { $or: [notSensitive, sensitiveAllowed] }]);
  }

  /** A condition over resources of any type: per type where the criteria depend on it. */
  private async toFilter(condition: ResourceCondition): Promise<Filter> {
    if (condition.kind === 'all') return {};
    if (condition.kind === 'none') return MATCH_NOTHING;
    const types = [...this.patientDataTypes];
    const perType = await Promise.all(
      types.map(async (type) => and([{ type }, await conditionFilter(condition, type, (rule, t) => this.provisionFilter(rule, t))])),
    );
    return { $or: [{ type: { $nin: types } }, ...perType.filter((f) => f !== MATCH_NOTHING)] };
  }

  private async provisionFilter(rule: ProvisionRule, resourceType: string): Promise<Filter> {
    const params = provisionParameters(rule, resourceType, (t, code) => this.deps.registry.get(t, code) !== undefined);
    if (params === null) return MATCH_NOTHING;
    return (await this.deps.criteria.compile(resourceType, params, 'strict')).filter;
  }

  /** Records carrying any of these security labels. */
  private async labelled(labels: ReadonlyArray<{ system?: string; code?: string }>): Promise<Filter> {
    const value = labels.map((l) => `${l.system ?? ''}|${l.code ?? ''}`).join(',');
    return (await this.deps.criteria.compile(undefined, [['_security', value]], 'strict')).filter;
  }
}

/** Permit provisions that apply to this request and name security labels: they lift the sensitivity hold. */
function permittingLabelProvisions(rule: ProvisionRule, request: ConsentRequest): ProvisionRule[] {
  if (!appliesTo(rule, request)) return [];
  const own = rule.type === 'permit' && rule.securityLabels ? [rule] : [];
  return [...own, ...rule.exceptions.flatMap((e) => permittingLabelProvisions(e, request))];
}
