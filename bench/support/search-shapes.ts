/**
 * The query shapes of bench/search-latency.ts (and bench/search-cpu.ts) over the synthetic population
 * (population.ts), plus the `_count=20` page walk both run after them.
 */
import type { Patient } from 'fhir/r4';
import { patientBundle } from './population';

export interface Shape {
  name: string;
  /** Query for sample i (varies the values so caches do not flatter the figure). */
  url: (i: number) => string;
}

export function shapes(patients: number): Shape[] {
  const patient = (i: number) => `p${(i * 7919) % patients}`;
  const family = (i: number) => ((patientBundle((i * 7919) % patients)[0] as Patient).name?.[0]?.family ?? '');
  const codes = ['8867-4', '8480-6', '29463-7', '2339-0', '718-7'];
  const code = (i: number) => encodeURIComponent(`http://loinc.org|${codes[i % codes.length]}`);
  return [
    { name: 'Patient?name=', url: (i) => `/Patient?name=${encodeURIComponent(family(i).slice(0, 5))}` },
    { name: 'Patient?identifier=', url: (i) => `/Patient?identifier=${encodeURIComponent(`http://hospital.example.org/mrn|MRN${String((i * 7919) % patients).padStart(8, '0')}`)}` },
    { name: 'Patient?birthdate=ge', url: (i) => `/Patient?birthdate=ge${2000 + (i % 20)}-01-01` },
    { name: 'Observation?patient=&code=', url: (i) => `/Observation?patient=${patient(i)}&code=${code(i)}` },
    { name: 'Observation?code=&date=ge', url: (i) => `/Observation?code=${code(i)}&date=ge2025-12-${String(1 + (i % 28)).padStart(2, '0')}` },
    { name: 'Condition?patient=', url: (i) => `/Condition?patient=${patient(i)}` },
    { name: 'Observation?subject.name= (chain)', url: (i) => `/Observation?subject:Patient.name=${encodeURIComponent(family(i))}` },
    { name: 'Patient?_has:Observation:patient:code=', url: (i) => `/Patient?_has:Observation:patient:code=${encodeURIComponent(`http://loinc.org|${RARE_CODE}`)}&_count=${10 + (i % 10)}` },
    { name: 'Patient?_id=&_revinclude=Observation:patient', url: (i) => `/Patient?_id=${patient(i)}&_revinclude=Observation:patient` },
  ];
}

/** A lab code present on about 1 patient in 50 (see population.ts), so `_has` has a selective inner query. */
const RARE_CODE = '94500-6';

/** First page of the `_count=20` walk for sample i (its next links are followed to the end). */
export const pageWalkStart = (patients: number, i: number): string => `/Observation?patient=p${(i * 7919) % patients}&_count=20`;
