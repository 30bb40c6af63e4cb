/**
 * A patient-privacy Consent (https://hl7.org/fhir/R4/consent.html) read into a rule tree: the root provision's
 * `type` is the base decision and nested provisions are exceptions to their parent
 * (https://hl7.org/fhir/R4/consent-definitions.html#Consent.provision.provision).
 *
 * A provision's criteria split in two. Who asks and why (actor, action, purpose, period) is known per request;
 * what is asked for (class, code, securityLabel, dataPeriod, data) is a property of each resource and becomes a
 * search filter (src/access/consent/decision.ts), so the decision runs inside the query.
 */
import type { Coding, Consent, ConsentProvision } from 'fhir/r4';

export const PATIENT_PRIVACY_SCOPE = { system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'patient-privacy' };
const RESOURCE_TYPES_SYSTEM = 'http://hl7.org/fhir/resource-types';

export type Decision = 'permit' | 'deny';

export interface ProvisionRule {
  /** Where the provision stands in the Consent, e.g. `Consent.provision.provision[1]`, for messages and audit. */
  path: string;
  type: Decision;
  /** Request-side criteria; an absent list places no condition. */
  actors?: string[];
  actions?: string[];
  purposes?: string[];
  period?: { start?: string; end?: string };
  /** Resource-side criteria. */
  resourceTypes?: string[];
  /** `class` codings from other systems than resource types: they cannot be matched against a resource. */
  unmatchableClass?: boolean;
  codes?: Coding[];
  securityLabels?: Coding[];
  dataPeriod?: { start?: string; end?: string };
  /** `data` with meaning `instance`: the resources themselves (`Type/id`). */
  instances?: string[];
  /** `data` with another meaning (related, dependents, authoredby): not evaluated, see decision.ts. */
  unmatchableData?: boolean;
  exceptions: ProvisionRule[];
}

export interface ConsentRules {
  /** `Consent/id`. */
  reference: string;
  patient: string;
  /** When the consent was given (dateTime, else meta.lastUpdated): the newest consent wins. */
  givenAt: string;
  root: ProvisionRule;
}

/** Whether a Consent is one this server enforces: patient-privacy, active, about a patient, in force at `now`. */
export function isEnforceable(consent: Consent, now: string): boolean {
  const scoped = consent.scope?.coding?.some((c) => c.system === PATIENT_PRIVACY_SCOPE.system && c.code === PATIENT_PRIVACY_SCOPE.code) ?? false;
  const period = consent.provision?.period;
  return scoped && consent.status === 'active' && patientId(consent) !== undefined && consent.provision !== undefined && within(now, period);
}

export function patientId(consent: Consent): string | undefined {
  const match = /^(?:.*\/)?Patient\/([A-Za-z0-9\-.]{1,64})$/.exec(consent.patient?.reference ?? '');
  return match?.[1];
}

/** Reads an enforceable Consent; call isEnforceable first. */
export function consentRules(consent: Consent): ConsentRules {
  const provision = consent.provision as ConsentProvision;
  return {
    reference: `Consent/${consent.id ?? ''}`,
    patient: patientId(consent) as string,
    givenAt: consent.dateTime ?? consent.meta?.lastUpdated ?? '',
    // A root provision without a type denies: the conservative reading of a consent that says nothing.
    root: provisionRule(provision, 'Consent.provision', provision.type ?? 'deny'),
  };
}

function provisionRule(p: ConsentProvision, path: string, inherited: Decision): ProvisionRule {
  const type: Decision = p.type ?? inherited;
  const rule: ProvisionRule = { path, type, exceptions: [] };
  if (p.actor?.length) rule.actors = p.actor.map((a) => relative(a.reference?.reference ?? '')).filter((r) => r !== '');
  if (p.action?.length) rule.actions = p.action.flatMap((a) => (a.coding ?? []).map((c) => c.code ?? '')).filter((c) => c !== '');
  if (p.purpose?.length) rule.purposes = p.purpose.map((c) => (c.code ?? '').toUpperCase()).filter((c) => c !== '');
  if (p.period) rule.period = { ...(p.period.start ? { start: p.period.start } : {}), ...(p.period.end ? { end: p.period.end } : {}) };
  if (p.class?.length) {
    rule.resourceTypes = p.class.filter((c) => c.system === RESOURCE_TYPES_SYSTEM && c.code).map((c) => c.code as string);
    if (rule.resourceTypes.length < p.class.length) rule.unmatchableClass = true;
  }
  if (p.code?.length) rule.codes = p.code.flatMap((c) => c.coding ?? []).filter((c) => c.code);
  if (p.securityLabel?.length) rule.securityLabels = p.securityLabel.filter((c) => c.code);
  if (p.dataPeriod) rule.dataPeriod = { ...(p.dataPeriod.start ? { start: p.dataPeriod.start } : {}), ...(p.dataPeriod.end ? { end: p.dataPeriod.end } : {}) };
  if (p.data?.length) {
    rule.instances = p.data.filter((d) => d.meaning === 'instance').map((d) => relative(d.reference.reference ?? '')).filter((r) => r !== '');
    if (rule.instances.length < p.data.length) rule.unmatchableData = true;
  }
  // Nested provisions are exceptions: unless they say otherwise they decide the opposite of their parent.
  rule.exceptions = (p.provision ?? []).map((child, i) => provisionRule(child, `${path}.provision[${i}]`, type === 'permit' ? 'deny' : 'permit'));
  return rule;
}

/** `https://x/fhir/Practitioner/1` -> `Practitioner/1`; other shapes are kept as written. */
function relative(reference: string): string {
  const match = /([A-Z][A-Za-z]+\/[A-Za-z0-9\-.]{1,64})$/.exec(reference);
  return match?.[1] ?? reference;
}

/** Whether instant `at` lies in the period (open ends allowed); dates compare as ISO text at their precision. */
export function within(at: string, period: { start?: string; end?: string } | undefined): boolean {
  if (!period) return true;
  if (period.start && at < period.start) return false;
  if (period.end && at.slice(0, period.end.length) > period.end) return false;
  return true;
}
