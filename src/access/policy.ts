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
import { compactFilter } from './compact-filter';
import type { CriteriaCompiler } from '../search/criteria';
import type { SearchRegistry } from '../search/registry';
import { appliesTo, conditionFilter, decide, provisionParameters, type ConsentRequest, type ResourceCondition } from './consent/decision';
import type { ConsentDirectory } from './consent/directory';
import type { ConsentRules, Decision, ProvisionRule } from './consent/rules';
import { grantingScopes, type Permission, type ResourceScope } from './scopes';
import type { AccessToken } from './tokens';
import { setBounded } from '../core/bounded-map';

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
  /** Whether break-the-glass may override consent denials (default true). */
  breakTheGlass?: boolean;
}

/** One token's access for one permission. */
export interface AccessDecision {
  /** The records it may use, as one query filter. */
  filter: Filter;
  /** Whether patient consent narrowed it (`applied`), was set aside by break-the-glass, or does not apply. */
  consent: 'applied' | 'overridden' | 'none';
  /** The filter of the scopes alone, where consent applied or was overridden: what a clinician could be withheld. */
  scopeOnly?: Filter;
  /** scopeOnly without the decided filter, built once per cached decision (src/access/control.ts withheldFilter). */
  withheld?: Filter;
  /** What decided for each patient (decidedBy), worked out once per cached decision. */
  deciders?: Map<string, string[]>;
}

const MAX_CACHED_DECISIONS = 1000;
/** Patients whose deciding consents one cached decision remembers for the audit trail. */
const MAX_CACHED_DECIDERS = 10_000;

/** Decision keys by token (the authenticator hands out one AccessToken object per verified token text). */
const KEYS = new WeakMap<AccessToken, Partial<Record<Permission, string>>>();

function decisionKey(token: AccessToken, permission: Permission): string {
  let keys = KEYS.get(token);
  if (!keys) KEYS.set(token, (keys = {}));
  return (keys[permission] ??= tokenKey(token, permission));
}

function tokenKey(token: AccessToken, permission: Permission): string {
  return JSON.stringify([
    permission,
    token.scopes.resources.map((s) => s.text).sort(),
    token.patient ?? null,
    token.fhirUser ?? null,
    token.clientId ?? null,
    [...token.purposeOfUse].sort(),
    token.breakTheGlass !== undefined,
  ]);
}

export class AccessPolicy {
  private readonly patientDataTypes: ReadonlySet<string>;
  private readonly decisions = new Map<string, { generation: number; from: string; validUntil: string; decision: AccessDecision }>();
  private readonly patientClauses = new Map<string, { generation: number; validUntil: string; clause: Filter }>();

  constructor(private readonly deps: AccessPolicyDeps) {
    this.patientDataTypes = new Set(deps.registry.resourceTypes().filter((t) => t === 'Patient' || deps.compartments.paramsFor('Patient', t).length > 0));
  }

  /** Whether any scope grants `permission` on `resourceType`: decided before any data is read (403 otherwise). */
  allows(token: AccessToken, resourceType: string, permission: Permission): boolean {
    return grantingScopes(token.scopes.resources, resourceType, permission).length > 0;
  }

  /** The records of any type the token may `permission`, at instant `now`. */
  async filter(token: AccessToken, permission: Permission, now: string): Promise<Filter> {
    return (await this.decision(token, permission, now)).filter;
  }

  /**
   * The decision for one token and permission: cached until a Consent changes or a consent period starts or
   * ends, so a request pays for it once per token shape, not per query.
   */
  async decision(token: AccessToken, permission: Permission, now: string): Promise<AccessDecision> {
    const key = decisionKey(token, permission);
    const generation = this.deps.consents.generation;
    const hit = this.decisions.get(key);
    if (hit && hit.generation === generation && now >= hit.from && now < hit.validUntil) return hit.decision;
    const decision = await this.decide(token, permission, now);
    setBounded(this.decisions, key, { generation, from: now, validUntil: await this.validUntil(now), decision }, MAX_CACHED_DECISIONS);
    return decision;
  }

  private async decide(token: AccessToken, permission: Permission, now: string): Promise<AccessDecision> {
    const scopes = token.scopes.resources.filter((s) => s.permissions.has(permission));
    if (scopes.length === 0) return { filter: MATCH_NOTHING, consent: 'none' };
    const byScope = await Promise.all(scopes.map((s) => this.scopeFilter(token, s)));
    const scoped: Filter = byScope.length === 1 ? (byScope[0] as Filter) : { $or: byScope };
    if (scopes.every((s) => s.context === 'patient')) return { filter: scoped, consent: 'none' };
    // system/ tokens without a purpose are the operator's own backend services; with a purpose, consent applies.
    if (scopes.every((s) => s.context === 'system') && token.purposeOfUse.length === 0) return { filter: scoped, consent: 'none' };
    if (this.breaksTheGlass(token)) return { filter: scoped, consent: 'overridden', scopeOnly: scoped };
    const consented = residual(await this.consentFilter(this.consentRequest(token, now, permission)));
    return { filter: and([scoped, consented]), consent: 'applied', scopeOnly: scoped };
  }

  /** Break-the-glass (docs/access.md): a user/ token, purpose ETREAT or BTG, and a justification; never a patient/ token. */
  breaksTheGlass(token: AccessToken): boolean {
    return (
      this.deps.breakTheGlass !== false &&
      token.breakTheGlass !== undefined &&
      token.purposeOfUse.some((p) => p === 'ETREAT' || p === 'BTG') &&
      token.scopes.resources.some((s) => s.context === 'user')
    );
  }

  /**
   * What decided a record's access, for the audit trail: `Consent/<id>` of each deciding consent of the
   * patients it is about, `implicit:permit|deny` where none is on file, `scope` when consent did not apply.
   */
  async decidedBy(token: AccessToken, permission: Permission, now: string, compartments: readonly string[]): Promise<string[]> {
    const decision = await this.decision(token, permission, now);
    if (decision.consent !== 'applied') return [decision.consent === 'overridden' ? 'break-the-glass' : 'scope'];
    const deciders = (decision.deciders ??= new Map());
    const result = new Set<string>();
    for (const member of compartments) {
      if (!member.startsWith('Patient/')) continue;
      let by = deciders.get(member);
      if (!by) {
        const request = this.consentRequest(token, now, permission);
        const implicit = this.deps.implicit.decision(request.purposes);
        const consents = (await this.deps.consents.enforceable(now)).get(member.slice('Patient/'.length));
        by = consents ? decide(consents, request, implicit).decidedBy : [`implicit:${implicit}`];
        if (deciders.size < MAX_CACHED_DECIDERS) deciders.set(member, by);
      }
      for (const ref of by) result.add(ref);
    }
    return result.size ? [...result] : ['scope'];
  }

  /** The earliest instant after `now` at which a consent period starts or ends. */
  private async validUntil(now: string): Promise<string> {
    await this.deps.consents.enforceable(now);
    return this.deps.consents.validUntil(now);
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
    // Patients whose consents decide alike share one clause: records about none of them, or the decision.
    const groups = new Map<string, { clause: Filter; patients: string[] }>();
    for (const [patient, consents] of onFile) {
      const clause = await this.cachedPatientClause(patient, consents, request, implicit, notSensitive);
      const key = JSON.stringify(clause);
      const group = groups.get(key) ?? { clause, patients: [] };
      group.patients.push(`Patient/${patient}`);
      groups.set(key, group);
    }
    const clauses: Filter[] = [...groups.values()].map(({ clause, patients }) => ({ $or: [{ compartments: { $nin: patients } }, clause] }));
    // Records about a patient without a consent on file: the implicit decision, and never a sensitive label.
    const aboutOthers = this.aboutPatientsOtherThan([...onFile.keys()]);
    clauses.push(implicit === 'permit' ? { $or: [notSensitive, { $nor: [aboutOthers] }] } : { $nor: [aboutOthers] });
    return and(clauses);
  }

  /**
   * Records in the compartment of some patient not among `patients`: the stored `compartments` membership
   * (src/search/compartments.ts) restated over the reference entries it is computed from, so that it compiles
   * to a plain predicate (an `$elemMatch` over the scalar `compartments` array would leave every candidate to
   * mingo). A Patient is in its own compartment; other records through their types' compartment parameters.
   */
  private aboutPatientsOtherThan(patients: string[]): Filter {
    const others = { $gte: 'Patient/', $lt: 'Patient/\uffff', $nin: patients.map((p) => `Patient/${p}`) };
    const byParams = new Map<string, string[]>();
    for (const type of this.patientDataTypes) {
      const params = this.deps.compartments.paramsFor('Patient', type);
      if (params.length === 0) continue;
      const key = JSON.stringify([...params].sort());
      byParams.set(key, [...(byParams.get(key) ?? []), type]);
    }
    const viaReferences = [...byParams].map(([key, types]) => ({
      type: types.length === 1 ? types[0] : { $in: types },
      'idx.ref': { $elemMatch: { p: { $in: JSON.parse(key) as string[] }, r: others } },
    }));
    return { $or: [{ type: 'Patient', id: { $nin: patients } }, ...viaReferences] };
  }

  /** A patient's decision for this kind of request, kept until their consents change or one of their periods turns. */
  private async cachedPatientClause(patient: string, consents: ConsentRules[], request: ConsentRequest, implicit: Decision, notSensitive: Filter): Promise<Filter> {
    const key = JSON.stringify([patient, request.actors, request.actions, request.purposes]);
    const generation = this.deps.consents.patientGeneration(patient);
    const hit = this.patientClauses.get(key);
    if (hit && hit.generation === generation && request.at < hit.validUntil) return hit.clause;
    const clause = await this.patientClause(consents, request, implicit, notSensitive);
    setBounded(this.patientClauses, key, { generation, validUntil: await this.deps.consents.nextBoundary(patient, request.at), clause }, 10 * MAX_CACHED_DECISIONS);
    return clause;
  }

  private async patientClause(consents: ConsentRules[], request: ConsentRequest, implicit: Decision, notSensitive: Filter): Promise<Filter> {
    const { permitted } = decide(consents, request, implicit);
    const decision = await this.toFilter(permitted);
    const labelPermits = consents.flatMap((c) => permittingLabelProvisions(c.root, request));
    const sensitiveAllowed = labelPermits.length > 0 ? await this.labelled(labelPermits.flatMap((p) => p.securityLabels ?? [])) : MATCH_NOTHING;
    return compactFilter(and([decision, { $or: [notSensitive, sensitiveAllowed] }]));
  }

  /** A condition over resources of any type: per type where the criteria depend on it. */
  private async toFilter(condition: ResourceCondition): Promise<Filter> {
    if (condition.kind === 'all') return {};
    if (condition.kind === 'none') return MATCH_NOTHING;
    // Types whose criteria come out alike share one branch; types the condition permits whole join the others.
    const byFilter = new Map<string, { filter: Filter; types: string[] }>();
    const narrowed: string[] = [];
    for (const type of this.patientDataTypes) {
      const filter = compactFilter(await conditionFilter(condition, type, (rule, t) => this.provisionFilter(rule, t)), type);
      if (Object.keys(filter).length === 0) continue;
      narrowed.push(type);
      if (filter === MATCH_NOTHING) continue;
      const key = JSON.stringify(filter);
      byFilter.set(key, { filter, types: [...(byFilter.get(key)?.types ?? []), type] });
    }
    const branches = [...byFilter.values()].map(({ filter, types }) => and([{ type: types.length === 1 ? types[0] : { $in: types } }, filter]));
    return narrowed.length === 0 ? {} : { $or: [{ type: { $nin: narrowed } }, ...branches] };
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

/**
 * The consent part of a decision as a residual check: double negation hides it from the embedded store's planner,
 * which otherwise weighs an index plan for every branch of every `$or` in it on each query. Consent never narrows
 * a query enough to be worth an index: the search's own criteria choose the plan, and this tests the candidates.
 */
function residual(filter: Filter): Filter {
  return Object.keys(filter).length === 0 ? filter : { $nor: [{ $nor: [filter] }] };
}

/** Permit provisions that apply to this request and name security labels: they lift the sensitivity hold. */
function permittingLabelProvisions(rule: ProvisionRule, request: ConsentRequest): ProvisionRule[] {
  if (!appliesTo(rule, request)) return [];
  const own = rule.type === 'permit' && rule.securityLabels ? [rule] : [];
  return [...own, ...rule.exceptions.flatMap((e) => permittingLabelProvisions(e, request))];
}
