/** Resource-like documents of about 2 KB in the ResourceRecord layout (src/storage/records.ts), for store benchmarks. */
import type { Observation } from 'fhir/r4';
import type { ResourceRecord } from '../src/storage/records';
import { RESOURCE_INDEXES } from '../test/contract/random-resources';

export function resourceRecord(i: number): ResourceRecord {
  const id = `obs-${i}`;
  const patient = `Patient/p${i % 5000}`;
  const lastUpdated = new Date(Date.UTC(2024, 0, 1) + i * 1000).toISOString();
  const code = `${1000 + (i % 700)}-${i % 10}`;
  const resource: Observation = {
    resourceType: 'Observation',
    id,
    meta: { versionId: '1', lastUpdated },
    status: 'final',
    category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs', display: 'Vital Signs' }] }],
    code: { coding: [{ system: 'http://loinc.org', code, display: `Measured quantity number ${i % 700} with a descriptive display text` }], text: 'Measured quantity' },
    subject: { reference: patient, display: `Patient number ${i % 5000}` },
    effectiveDateTime: lastUpdated,
    issued: lastUpdated,
    performer: [{ reference: `Practitioner/pr${i % 300}`, display: 'Dr. Example Practitioner' }],
    valueQuantity: { value: (i % 2000) / 10, unit: 'mmHg', system: 'http://unitsofmeasure.org', code: 'mm[Hg]' },
    interpretation: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation', code: 'N', display: 'Normal' }] }],
    note: [{ text: 'Routine measurement taken at rest in a seated position; no remarks beyond the usual ones recorded here.' }],
    referenceRange: [{ low: { value: 60, unit: 'mmHg' }, high: { value: 140, unit: 'mmHg' }, text: 'normal adult range' }],
  };
  return {
    _id: `Observation/${id}`,
    type: 'Observation',
    id,
    versionId: 1,
    lastUpdated,
    deleted: false,
    resource,
    idx: {
      tok: [
        { p: 'code', s: 'http://loinc.org', c: code, t: 'measured quantity' },
        { p: 'category', s: 'http://terminology.hl7.org/CodeSystem/observation-category', c: 'vital-signs', t: 'vital signs' },
        { p: 'status', c: 'final' },
        { p: '_id', c: id },
      ],
      ref: [
        { p: 'subject', r: patient, ty: 'Patient' },
        { p: 'patient', r: patient, ty: 'Patient' },
        { p: 'performer', r: `Practitioner/pr${i % 300}`, ty: 'Practitioner' },
      ],
      date: [{ p: 'date', lo: lastUpdated, hi: lastUpdated }, { p: '_lastUpdated', lo: lastUpdated, hi: lastUpdated }],
      qty: [{ p: 'value-quantity', v: (i % 2000) / 10, lo: (i % 2000) / 10 - 0.05, hi: (i % 2000) / 10 + 0.05, s: 'http://unitsofmeasure.org', c: 'mm[Hg]', u: 'mmHg' }],
      str: [],
      has: ['code', 'category', 'status', 'subject', 'patient', 'performer', 'date', 'value-quantity'],
      so: { code, date: lastUpdated, _lastUpdated: lastUpdated },
    },
    compartments: [patient, `Practitioner/pr${i % 300}`],
  };
}

/** The six type-prefixed indexes of the storage contract's generated documents. */
const BENCH_INDEX_NAMES = new Set(['type_tok', 'type_str', 'type_ref', 'type_date', 'type_lastUpdated', 'compartments_type']);
export const RESOURCE_INDEX_SPECS = RESOURCE_INDEXES.filter((spec) => BENCH_INDEX_NAMES.has(spec.name));

export { median } from './support/stats';
