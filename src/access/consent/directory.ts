/**
 * The patient-privacy Consents on file, by patient. Read from the store once, then kept current by the write
 * hook (`afterCommit`), so a consent change takes effect on the next request. Enforceability (status, period)
 * is judged at each request, so a consent that starts or ends tomorrow needs no write to take effect.
 */
import type { Consent } from 'fhir/r4';
import type { StoreReader } from '../../storage/port';
import { RESOURCES, type ResourceRecord } from '../../storage/records';
import type { WriteHook } from '../../fhir/write-hooks';
import { consentRules, isEnforceable, patientId, type ConsentRules } from './rules';

export class ConsentDirectory {
  /** Consent id -> resource, for every stored Consent that names a patient. */
  private byId: Map<string, Consent> | null = null;
  private loading: Promise<Map<string, Consent>> | null = null;

  constructor(private readonly store: StoreReader) {}

  /** Enforceable consents at `now`, by patient id. */
  async enforceable(now: string): Promise<Map<string, ConsentRules[]>> {
    const byPatient = new Map<string, ConsentRules[]>();
    for (const consent of (await this.all()).values()) {
      if (!isEnforceable(consent, now)) continue;
      const rules = consentRules(consent);
      byPatient.set(rules.patient, [...(byPatient.get(rules.patient) ?? []), rules]);
    }
    return byPatient;
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
      const consent = record.resource as Consent | null;
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
