/**
 * A deterministic synthetic population for benchmarks: each patient has encounters, conditions, observations
 * (LOINC-coded vital signs and labs with dates) and medication requests, about 100 resources per patient.
 * Same seed, same resources, same ids.
 */
import type { Resource } from 'fhir/r4';
import { seededRandom } from '../../test/fixtures/random';


const FAMILY = ['Smith', 'Müller', 'García', 'Nguyen', 'Johansson', 'Okafor', 'Kowalski', 'Rossi', 'Dubois', 'Tanaka', 'Chalmers', 'Van der Berg', 'Ölund', 'Silva', 'Novak'];
const GIVEN = ['Anna', 'Peter', 'José', 'Mei', 'Élodie', 'Ahmed', 'Lars', 'Chiara', 'Kofi', 'Yuki', 'James', 'Sofia', 'Noah', 'Zoë', 'Ivan'];
const LOINC: Array<[string, string, string, number, number]> = [
  ['8867-4', 'Heart rate', '/min', 50, 120],
  ['8480-6', 'Systolic blood pressure', 'mm[Hg]', 95, 180],
  ['8462-4', 'Diastolic blood pressure', 'mm[Hg]', 55, 110],
  ['29463-7', 'Body weight', 'kg', 40, 140],
  ['8302-2', 'Body height', 'cm', 140, 200],
  ['2339-0', 'Glucose [Mass/volume] in Blood', 'mg/dL', 60, 250],
  ['718-7', 'Hemoglobin [Mass/volume] in Blood', 'g/dL', 9, 18],
  ['2093-3', 'Cholesterol [Mass/volume] in Serum or Plasma', 'mg/dL', 120, 300],
  ['4548-4', 'Hemoglobin A1c/Hemoglobin.total in Blood', '%', 4, 12],
  ['8310-5', 'Body temperature', 'Cel', 35, 40],
];
/** A lab present on one patient in 50 (a selective inner query for `_has` benchmarks). */
const RARE_LAB: [string, string, string, number, number] = ['94500-6', 'SARS-CoV-2 RNA Resp Ql NAA+probe', '{index}', 0, 1];
const SNOMED_CONDITIONS: Array<[string, string]> = [
  ['44054006', 'Diabetes mellitus type 2'],
  ['38341003', 'Hypertensive disorder'],
  ['195967001', 'Asthma'],
  ['13645005', 'Chronic obstructive lung disease'],
  ['49436004', 'Atrial fibrillation'],
  ['35489007', 'Depressive disorder'],
];
const RXNORM: Array<[string, string]> = [
  ['860975', 'metformin 500 MG Oral Tablet'],
  ['314076', 'lisinopril 10 MG Oral Tablet'],
  ['197361', 'amlodipine 5 MG Oral Tablet'],
  ['617312', 'atorvastatin 10 MG Oral Tablet'],
];

const pick = <T>(rand: () => number, items: T[]): T => items[Math.floor(rand() * items.length)] as T;
const pad = (n: number, width = 2): string => String(n).padStart(width, '0');
function isoDay(rand: () => number, fromYear: number, toYear: number): string {
  return `${fromYear + Math.floor(rand() * (toYear - fromYear + 1))}-${pad(1 + Math.floor(rand() * 12))}-${pad(1 + Math.floor(rand() * 28))}`;
}

/** Patient number `n` (0-based) and everything that belongs to it; ~100 resources. */
export function patientBundle(n: number, seed = 42): Resource[] {
  const rand = seededRandom(seed * 1_000_003 + n);
  const pid = `p${n}`;
  const subject = { reference: `Patient/${pid}` };
  const out: Resource[] = [
    {
      resourceType: 'Patient',
      id: pid,
      identifier: [{ system: 'http://hospital.example.org/mrn', value: `MRN${pad(n, 8)}` }],
      name: [{ family: `${pick(rand, FAMILY)}${n % 97}`, given: [pick(rand, GIVEN)] }],
      gender: pick(rand, ['male', 'female', 'other', 'unknown'] as const),
      birthDate: isoDay(rand, 1930, 2020),
      address: [{ city: pick(rand, ['Oslo', 'Lyon', 'Porto', 'Leeds', 'Graz']), country: 'NO' }],
    } as Resource,
  ];
  const encounters = 5;
  for (let e = 0; e < encounters; e++) {
    const day = isoDay(rand, 2015, 2025);
    out.push({
      resourceType: 'Encounter',
      id: `${pid}-e${e}`,
      status: 'finished',
      class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: pick(rand, ['AMB', 'IMP', 'EMER']) },
      subject,
      period: { start: `${day}T08:00:00Z`, end: `${day}T17:30:00Z` },
    } as Resource);
  }
  for (let c = 0; c < 3; c++) {
    const [code, display] = pick(rand, SNOMED_CONDITIONS);
    out.push({
      resourceType: 'Condition',
      id: `${pid}-c${c}`,
      clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] },
      code: { coding: [{ system: 'http://snomed.info/sct', code, display }], text: display },
      subject,
      onsetDateTime: isoDay(rand, 2000, 2024),
    } as Resource);
  }
  for (let m = 0; m < 4; m++) {
    const [code, display] = pick(rand, RXNORM);
    out.push({
      resourceType: 'MedicationRequest',
      id: `${pid}-m${m}`,
      status: 'active',
      intent: 'order',
      medicationCodeableConcept: { coding: [{ system: 'http://www.nlm.nih.gov/research/umls/rxnorm', code, display }] },
      subject,
      authoredOn: isoDay(rand, 2015, 2025),
    } as Resource);
  }
  for (let o = out.length; o < 100; o++) {
    const rare = n % 50 === 0 && o === 99;
    const [code, display, unit, lo, hi] = rare ? RARE_LAB : pick(rand, LOINC);
    const value = Math.round((lo + rand() * (hi - lo)) * 10) / 10;
    out.push({
      resourceType: 'Observation',
      id: `${pid}-o${o}`,
      status: 'final',
      category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }] }],
      code: { coding: [{ system: 'http://loinc.org', code, display }], text: display },
      subject,
      encounter: { reference: `Encounter/${pid}-e${o % encounters}` },
      effectiveDateTime: `${isoDay(rand, 2015, 2025)}T${pad(Math.floor(rand() * 24))}:${pad(Math.floor(rand() * 60))}:00Z`,
      valueQuantity: { value, unit, system: 'http://unitsofmeasure.org', code: unit },
    } as Resource);
  }
  return out;
}
