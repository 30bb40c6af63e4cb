/**
 * Enforcement of the access policy on one request (STYLE: access decisions compiled into queries, plus a final
 * check on what leaves). The interactions ask it for:
 * - the filter ANDed into their queries (`readFilter`): search matches, totals, includes, chains, `_has`,
 *   conditional criteria;
 * - a final check of each record or version that leaves (`admits`, `admitsVersion`): read, vread, history, and
 *   every search entry again. History entries carry no index fields, so a version is re-indexed from its own
 *   body: a resource whose subject changed is judged per version;
 * - a check of each write (`checkWrite`): the old and the new version must lie within what the token may write,
 *   a patient/ token keeps security labels, and a patient's Consent is written only by that patient or a
 *   consent administrator.
 * A request without a token (AUTH_MODE=off) or without access context (internal work) is unrestricted here; the
 * router refuses requests without access context while access control is on (src/fhir/authorize.ts).
 */
import type { Consent, Resource } from 'fhir/r4';
import { FhirError } from '../core/errors';
import type { Clock } from '../core/clock';
import type { IndexFields } from '../search/index-fields';
import { CompiledFilter } from '../storage/embedded/compiled-filter';
import type { Doc, Filter } from '../storage/port';
import type { ResourceRecord } from '../storage/records';
import { and } from '../search/compile/filters';
import { patientId } from './consent/rules';
import type { AccessPolicy } from './policy';
import type { WriteHook } from '../fhir/write-hooks';
import type { RequestAccess } from './request-access';
import { grantingScopes, type Permission } from './scopes';
import type { AccessToken } from './tokens';
import { setBounded } from '../core/bounded-map';

/** The write-time extractor (src/search/extract), to judge versions that carry no index fields. */
export interface VersionIndexer {
  extract(resource: Resource): { idx: IndexFields; compartments: string[] };
}

export interface AccessControlDeps {
  policy: AccessPolicy;
  indexer: VersionIndexer;
  clock: Clock;
  /** False when the operator set AUTH_MODE=off. */
  enabled: boolean;
}

/** The non-resource scope that makes a user/ token a consent administrator (docs/access.md). */
export const CONSENT_ADMIN_SCOPE = 'consent-admin';

const WITHHELD_MEMO_MS = 5000;
const MAX_WITHHELD_ANSWERS = 1000;

export class AccessControl {
  readonly enabled: boolean;
  private readonly compiled = new WeakMap<Filter, CompiledFilter>();
  private readonly withheldAnswers = new WeakMap<Filter, Map<string, { writes: number; at: number; value: boolean }>>();
  private writes = 0;

  constructor(private readonly deps: AccessControlDeps) {
    this.enabled = deps.enabled;
  }

  get policy(): AccessPolicy {
    return this.deps.policy;
  }

  /** Whether any scope of the token grants `permission` on `type` ('*' = on some type). */
  scopeAllows(token: AccessToken, type: string, permission: Permission): boolean {
    if (type === '*') return token.scopes.resources.some((s) => s.permissions.has(permission));
    return grantingScopes(token.scopes.resources, type, permission).length > 0;
  }

  /**
   * Whether the caller may create a resource of `type` under an id of its own choosing (update-as-create): only
   * an unfiltered system/ scope outside consent. For everyone else an id that exists out of their sight must
   * answer like one that does not exist at all, and taking it is impossible, so neither may be created by PUT
   * (405, docs/access.md); POST assigns a fresh id. A token without any create scope is left to checkWrite (403).
   */
  async mayChooseIds(access: RequestAccess | undefined, type: string): Promise<boolean> {
    const token = access?.token;
    if (!token) return true;
    const granting = grantingScopes(token.scopes.resources, type, 'c');
    if (granting.length === 0) return true;
    if (!granting.some((s) => s.context === 'system' && s.filter.length === 0)) return false;
    return (await this.deps.policy.decision(token, 'c', this.deps.clock.now())).consent !== 'applied';
  }

  /** The filter of records this request may use with `permission`; undefined = unrestricted. */
  async readFilter(access: RequestAccess | undefined, permission: Permission): Promise<Filter | undefined> {
    const token = access?.token;
    if (!token) return undefined;
    const decision = await this.deps.policy.decision(token, permission, this.deps.clock.now());
    if (decision.consent === 'overridden' && access) access.breakTheGlass = { justification: token.breakTheGlass ?? '' };
    return decision.filter;
  }

  /**
   * Records a clinician's scopes cover that patient consent withholds from them (user/ tokens only), so a search
   * can say that some were withheld without saying which (https://hl7.org/fhir/R4/security.html#break-the-glass).
   */
  async withheldFilter(access: RequestAccess | undefined, permission: Permission): Promise<Filter | undefined> {
    const token = access?.token;
    if (!token || !token.scopes.resources.some((s) => s.context === 'user')) return undefined;
    const decision = await this.deps.policy.decision(token, permission, this.deps.clock.now());
    if (decision.consent !== 'applied' || !decision.scopeOnly) return undefined;
    decision.withheld ??= and([decision.scopeOnly, { $nor: [decision.filter] }]);
    return decision.withheld;
  }

  /**
   * Remembers, per withheld filter (one per cached decision), whether a search's criteria match records it
   * withholds: asking costs a second query per first page. An answer holds until the next committed write
   * (`hook`) and at most WITHHELD_MEMO_MS, for writes this process does not see (other instances on one MongoDB).
   * It only decides the notice that some records were withheld; what a search returns is decided in its queries.
   */
  withheldMemo(withheld: Filter): (criteria: string, ask: () => Promise<boolean>) => Promise<boolean> {
    let answers = this.withheldAnswers.get(withheld);
    if (!answers) this.withheldAnswers.set(withheld, (answers = new Map()));
    const known = answers;
    return async (criteria, ask) => {
      const hit = known.get(criteria);
      const now = Date.now();
      if (hit && hit.writes === this.writes && now - hit.at < WITHHELD_MEMO_MS) return hit.value;
      const writes = this.writes;
      const value = await ask();
      setBounded(known, criteria, { writes, at: now, value }, MAX_WITHHELD_ANSWERS);
      return value;
    };
  }

  /** Counts committed writes, so that remembered withheld answers (withheldMemo) go stale with them. */
  hook(): WriteHook {
    return {
      afterCommit: () => {
        this.writes++;
      },
    };
  }

  /** The final check on a stored record (with its index fields) before it leaves. */
  async admits(access: RequestAccess | undefined, permission: Permission, record: ResourceRecord): Promise<boolean> {
    const filter = await this.readFilter(access, permission);
    if (filter === undefined) return true;
    const admitted = this.test(filter, record);
    if (admitted) await this.note(access, permission, record.compartments ?? []);
    return admitted;
  }

  /** A synchronous final check with a filter already decided for this request. */
  test(filter: Filter, record: Doc): boolean {
    let compiled = this.compiled.get(filter);
    if (!compiled) {
      compiled = new CompiledFilter(filter);
      this.compiled.set(filter, compiled);
    }
    return compiled.test(record);
  }

  /** The final check on a version from history: re-indexed from its body, judged as if it were current. */
  async admitsVersion(access: RequestAccess | undefined, permission: Permission, type: string, id: string, resource: Resource): Promise<boolean> {
    if (!access?.token) return true;
    return this.admits(access, permission, this.asRecord(type, id, resource));
  }

  /** A resource as a live record with its index fields, for the checks above. */
  asRecord(type: string, id: string, resource: Resource): ResourceRecord {
    const { idx, compartments } = this.deps.indexer.extract(resource);
    return { _id: `${type}/${id}`, type, id, versionId: Number(resource.meta?.versionId ?? 0), lastUpdated: resource.meta?.lastUpdated ?? '', deleted: false, resource, idx, compartments };
  }

  /**
   * A write of `next` (null for a deletion) over `previous` (null or a tombstone when creating): refused with
   * 403 unless both versions lie within what the token may write.
   */
  async checkWrite(access: RequestAccess | undefined, previous: ResourceRecord | null, next: ResourceRecord): Promise<void> {
    const token = access?.token;
    if (!token) return;
    const now = this.deps.clock.now();
    const existing = previous && !previous.deleted && previous.resource ? previous : null;
    const type = next.type;
    const refuse = (why: string): never => {
      throw new FhirError('forbidden', [{ severity: 'error', code: 'forbidden', diagnostics: why }]);
    };
    if (existing) {
      const permission: Permission = next.deleted ? 'd' : 'u';
      if (!this.test((await this.deps.policy.decision(token, permission, now)).filter, existing)) {
        refuse(`This access token may not ${next.deleted ? 'delete' : 'change'} ${type}/${next.id}`);
      }
    }
    if (!next.deleted && next.resource) {
      const permission: Permission = existing ? 'u' : 'c';
      if (!this.scopeAllows(token, type, permission)) refuse(`This access token's scopes do not allow ${existing ? 'updating' : 'creating'} ${type} resources`);
      if (!this.test((await this.deps.policy.decision(token, permission, now)).filter, next)) {
        refuse(`This access token may not write this ${type}: it is about patients or data outside what the token allows`);
      }
      if (existing && onlyPatientScopes(token, type, permission)) keepsSecurityLabels(existing.resource as Resource, next.resource, refuse);
    }
    if (type === 'Consent') {
      for (const version of [existing?.resource, next.resource]) {
        const patient = version ? patientId(version as Consent) : undefined;
        if (patient !== undefined && !mayWriteConsentOf(token, patient)) {
          refuse(`Only Patient/${patient} (a patient/ token with Consent write scope) or a consent administrator may write this patient's Consent`);
        }
      }
    }
    await this.note(access, next.deleted ? 'd' : existing ? 'u' : 'c', [...(existing?.compartments ?? []), ...(next.compartments ?? [])]);
  }

  /** Adds what decided to the request's RequestAccess (for the audit trail). */
  async note(access: RequestAccess | undefined, permission: Permission, compartments: readonly string[]): Promise<void> {
    if (!access?.token) return;
    for (const by of await this.deps.policy.decidedBy(access.token, permission, this.deps.clock.now(), compartments)) access.decidedBy.add(by);
  }
}

function onlyPatientScopes(token: AccessToken, type: string, permission: Permission): boolean {
  return grantingScopes(token.scopes.resources, type, permission).every((s) => s.context === 'patient');
}

/** A patient/ token may not remove security labels (it could otherwise lift a sensitivity hold). */
function keepsSecurityLabels(before: Resource, after: Resource, refuse: (why: string) => never): void {
  const kept = new Set((after.meta?.security ?? []).map((c) => `${c.system ?? ''}|${c.code ?? ''}`));
  for (const label of before.meta?.security ?? []) {
    if (!kept.has(`${label.system ?? ''}|${label.code ?? ''}`)) refuse(`This access token may not remove the security label ${label.code ?? ''} from ${before.resourceType}/${before.id ?? ''}`);
  }
}

/** The patient themself (patient/ scope granting a Consent write, for that patient) or a consent administrator. */
function mayWriteConsentOf(token: AccessToken, patient: string): boolean {
  const writes = token.scopes.resources.filter((s) => (s.resourceType === '*' || s.resourceType === 'Consent') && ['c', 'u', 'd'].some((p) => s.permissions.has(p as Permission)));
  if (writes.some((s) => s.context === 'patient') && token.patient === patient) return true;
  if (writes.some((s) => s.context === 'system')) return true;
  return writes.some((s) => s.context === 'user') && token.scopes.other.includes(CONSENT_ADMIN_SCOPE);
}
