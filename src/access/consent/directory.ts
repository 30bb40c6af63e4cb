/**
 * The patient-privacy Consents on file, by patient. Read from the store once, then kept current by the write
 * hook (`afterCommit`), so a consent change takes effect on the next request. Enforceability (status, period)
 * is judged at each request, so a consent that starts or ends tomorrow needs no write to take effect.
 */
import type { Consent, ConsentProvision } from 'fhir/r4';
import type { StoreReader } from '../../storage/port';
import { RESOURCES, type ResourceRecord } from '../../storage/records';
import type { WriteHook } from '../../fhir/write-hooks';
import { consentRules, isEnforceable, patientId, type ConsentRules } from './rules';

export class ConsentDirectory {
  /** Consent id -> resource, for every stored Consent that names a patient. */
  private byId: Map<string, Consent> | null = null;
  private loading: Promise<Map<string, Consent>> | null = null;
  /** Moves on with every Consent change; decisions cached under an older generation are stale. */
  private changes = 0;
  /** Per patient, the generation of their last Consent change: their cached decisions older than it are stale. */
  private readonly changedAt = new Map<string, number>();
  private cached: { generation: number; validUntil: string; from: string; byPatient: Map<string, ConsentRules[]> } | null = null;

  constructor(private readonly store: StoreReader) {}

  get generation(): number {
    return this.changes;
  }

  /** The generation of `patient`'s last Consent change (0 when none since start). */
  patientGeneration(patient: string): number {
    return this.changedAt.get(patient) ?? 0;
  }

  /** Enforceable consents at `now`, by patient id; recomputed after a Consent change or when a period boundary passes. */
  async enforceable(now: string): Promise<Map<string, ConsentRules[]>> {
    const all = await this.all();
    const c = this.cached;
    if (c && c.generation === this.changes && now >= c.from && now < c.validUntil) return c.byPatient;
    const byPatient = new Map<string, ConsentRules[]>();
    let validUntil = '\uffff';
    for (const consent of all.values()) {
      for (const edge of boundaries(consent)) if (edge > now && edge < validUntil) validUntil = edge;
      if (!isEnforceable(consent, now)) continue;
      const rules = consentRules(consent);
      byPatient.set(rules.patient, [...(byPatient.get(rules.patient) ?? []), rules]);
    }
    this.cached = { generation: this.changes, validUntil, from: now, byPatient };
    return byPatient;
  }

  /** Until when the last `enforceable` answer holds without a Consent change (call `enforceable` first). */
  validUntil(now: string): string {
    return this.cached && now >= this.cached.from ? this.cached.validUntil : now;
  }

  /** The next instant after `now` at which a period in `patient`'s consents starts or ends ('\uffff' when none). */
  async nextBoundary(patient: string, now: string): Promise<string> {
    let next = '\uffff';
    for (const consent of (await this.all()).values()) {
      if (patientId(consent) !== patient) continue;
      for (const edge of boundaries(consent)) if (edge > now && edge < next) next = edge;
    }
    return next;
  }

  /** Keeps the directory in step with Consent writes once they are durable. */
  hook(): WriteHook {
    return {
      afterCommit: (records: ResourceRecord[]) => {
        if (this.byId) this.apply(this.byId, records);
        // A load under way may have read the store before these commits: apply them once it is done.
        else if (this.loading) void this.loading.then((map) => this.apply(map, records));
      },
    };
  }

  private apply(byId: Map<string, Consent>, records: ResourceRecord[]): void {
    for (const record of records) {
      if (record.type !== 'Consent') continue;
      this.changes++;
      const before = byId.get(record.id);
      const consent = record.resource as Consent | null;
      for (const patient of [before && patientId(before), consent && patientId(consent)]) if (patient) this.changedAt.set(patient, this.changes);
      if (consent && patientId(consent) !== undefined) byId.set(record.id, consent);
      else byId.delete(record.id);
    }
  }


  private async all(): Promise<Map<string, Consent>> {
    if (this.byId) return this.byId;
    this.loading ??= this.store.find(RESOURCES, { type: 'Consent', deleted: false }).then((docs) => {
      const map = new Map<string, Consent>();
      for (const doc of docs as ResourceRecord[]) {
        const consent = doc.resource as Consent | null;
        if (consent && patientId(consent) !== undefined) map.set(doc.id, consent);
      }
      this.byId = map;
      return map;
    });
    return this.loading;
  }
}

/**
 * Instants where a consent's or a provision's period starts or ends (an end of date precision ends after its
 * last instant, so it is compared as the text just past it).
 */
function boundaries(consent: Consent): string[] {
  const edges: string[] = [];
  const walk = (p: ConsentProvision | undefined): void => {
    if (!p) return;
    if (p.period?.start) edges.push(p.period.start);
    if (p.period?.end) edges.push(`${p.period.end}\uffff`);
    for (const child of p.provision ?? []) walk(child);
  };
  walk(consent.provision);
  return edges;
}
