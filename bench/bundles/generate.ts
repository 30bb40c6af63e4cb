/**
 * Realistic patient record Bundles, shaped the way Synthea and EHR exporters write them:
 * - one `batch` of shared Practitioner, Organization and Location resources, each POSTed with ifNoneExist on its
 *   identifier, loaded first (and harmlessly re-sent);
 * - one `transaction` per patient: the Patient and a few hundred clinical resources (Encounter, Observation,
 *   Condition, Procedure, MedicationRequest, Immunization, DiagnosticReport), linked by `urn:uuid:` fullUrls,
 *   pointing at the shared resources by conditional references (`Practitioner?identifier=...`).
 * Deterministic for a given seed. All resources are valid R4.
 * Usage: npx tsx bench/bundles/generate.ts <outDir> [patients=10] [resourcesPerPatient=300]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { seededRandom as random } from '../../test/fixtures/random';

type Json = Record<string, unknown>;

export interface SharedSizes {
  practitioners: number;
  organizations: number;
  locations: number;
}

export const DEFAULT_SHARED: SharedSizes = { practitioners: 60, organizations: 15, locations: 25 };

const NPI = 'http://hl7.org/fhir/sid/us-npi';
const ORG = 'https://github.com/synthetichealth/synthea';
const LOINC = 'http://loinc.org';
const SNOMED = 'http://snomed.info/sct';
const RXNORM = 'http://www.nlm.nih.gov/research/umls/rxnorm';
const CVX = 'http://hl7.org/fhir/sid/cvx';

/** A v4-shaped UUID from the PRNG. */
function uuid(rand: () => number): string {
  const hex = Array.from({ length: 32 }, () => Math.floor(rand() * 16).toString(16));
  hex[12] = '4';
  hex[16] = ((Math.floor(rand() * 4) + 8) as number).toString(16);
  const h = hex.join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

const pick = <T>(rand: () => number, items: readonly T[]): T => items[Math.floor(rand() * items.length)] as T;

const VITALS = [
  { code: '8302-2', display: 'Body Height', unit: 'cm', low: 150, high: 195 },
  { code: '29463-7', display: 'Body Weight', unit: 'kg', low: 50, high: 110 },
  { code: '39156-5', display: 'Body mass index (BMI) [Ratio]', unit: 'kg/m2', low: 18, high: 35 },
  { code: '8867-4', display: 'Heart rate', unit: '/min', low: 55, high: 100 },
  { code: '9279-1', display: 'Respiratory rate', unit: '/min', low: 12, high: 20 },
  { code: '2339-0', display: 'Glucose [Mass/volume] in Blood', unit: 'mg/dL', low: 70, high: 140 },
  { code: '2093-3', display: 'Cholesterol [Mass/volume] in Serum or Plasma', unit: 'mg/dL', low: 150, high: 260 },
  { code: '718-7', display: 'Hemoglobin [Mass/volume] in Blood', unit: 'g/dL', low: 12, high: 17 },
] as const;
const CONDITIONS = [
  ['44054006', 'Diabetes mellitus type 2'],
  ['38341003', 'Hypertensive disorder'],
  ['195662009', 'Acute viral pharyngitis'],
  ['10509002', 'Acute bronchitis'],
  ['15777000', 'Prediabetes'],
  ['40055000', 'Chronic sinusitis'],
] as const;
const PROCEDURES = [
  ['430193006', 'Medication reconciliation'],
  ['710824005', 'Assessment of health and social care needs'],
  ['171207006', 'Depression screening'],
  ['252160004', 'Standard pregnancy test'],
] as const;
const MEDICATIONS = [
  ['314076', 'lisinopril 10 MG Oral Tablet'],
  ['860975', '24 HR Metformin hydrochloride 500 MG Extended Release Oral Tablet'],
  ['308136', 'amlodipine 2.5 MG Oral Tablet'],
  ['313782', 'Acetaminophen 325 MG Oral Tablet'],
] as const;
const VACCINES = [
  ['140', 'Influenza, seasonal, injectable, preservative free'],
  ['113', 'Td (adult) preservative free'],
  ['133', 'Pneumococcal conjugate PCV 13'],
] as const;
const FAMILIES = ['Smith', 'Johnson', 'Williams', 'Brown', 'Jones', 'García', 'Miller', 'Davis', 'Müller', 'Nguyen', 'Kowalski', 'Okafor'];
const GIVEN = ['James', 'Mary', 'Robert', 'Patricia', 'John', 'Jennifer', 'Michael', 'Linda', 'Aiko', 'Lars', 'Fatima', 'Chen'];

const practitionerNpi = (i: number): string => `99999${String(i).padStart(5, '0')}`;
const organizationId = (i: number): string => `org-${String(i).padStart(4, '0')}`;
const locationId = (i: number): string => `loc-${String(i).padStart(4, '0')}`;

function postIfNoneExist(resource: Json, system: string, value: string): Json {
  return {
    fullUrl: `urn:uuid:${uuidFor(`${resource.resourceType}|${value}`)}`,
    resource,
    request: { method: 'POST', url: String(resource.resourceType), ifNoneExist: `identifier=${system}|${value}` },
  };
}

/** A stable UUID for a shared resource's identifier, so re-generated batches have the same fullUrls. */
function uuidFor(key: string): string {
  let seed = 0;
  for (const ch of key) seed = (Math.imul(seed, 31) + ch.charCodeAt(0)) >>> 0;
  return uuid(random(seed));
}

/** The batch that loads the shared Practitioner, Organization and Location resources, each with ifNoneExist. */
export function sharedBatch(sizes: SharedSizes = DEFAULT_SHARED): Json {
  const entry: Json[] = [];
  for (let i = 0; i < sizes.organizations; i++) {
    entry.push(
      postIfNoneExist(
        {
          resourceType: 'Organization',
          identifier: [{ system: ORG, value: organizationId(i) }],
          active: true,
          type: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/organization-type', code: 'prov', display: 'Healthcare Provider' }] }],
          name: `Regional Hospital ${i}`,
          telecom: [{ system: 'phone', value: `555-01${String(i).padStart(2, '0')}` }],
          address: [{ line: [`${100 + i} Main St`], city: 'Springfield', state: 'MA', postalCode: '01101', country: 'US' }],
        },
        ORG,
        organizationId(i),
      ),
    );
  }
  for (let i = 0; i < sizes.locations; i++) {
    entry.push(
      postIfNoneExist(
        {
          resourceType: 'Location',
          identifier: [{ system: ORG, value: locationId(i) }],
          status: 'active',
          name: `Clinic ${i}`,
          address: { line: [`${200 + i} Elm St`], city: 'Springfield', state: 'MA', postalCode: '01101', country: 'US' },
          position: { longitude: -72.5 - i / 100, latitude: 42.1 + i / 100 },
        },
        ORG,
        locationId(i),
      ),
    );
  }
  for (let i = 0; i < sizes.practitioners; i++) {
    entry.push(
      postIfNoneExist(
        {
          resourceType: 'Practitioner',
          identifier: [{ system: NPI, value: practitionerNpi(i) }],
          active: true,
          name: [{ family: FAMILIES[i % FAMILIES.length], given: [GIVEN[(i * 7) % GIVEN.length] as string], prefix: ['Dr.'] }],
          gender: i % 2 ? 'female' : 'male',
          address: [{ line: [`${300 + i} Oak St`], city: 'Springfield', state: 'MA', postalCode: '01101', country: 'US' }],
        },
        NPI,
        practitionerNpi(i),
      ),
    );
  }
  return { resourceType: 'Bundle', type: 'batch', entry };
}

/** The transaction holding patient `index`'s record: about `resources` resources. */
export function patientTransaction(index: number, resources = 300, sizes: SharedSizes = DEFAULT_SHARED, seed = 1): Json {
  const rand = random(seed * 1_000_003 + index);
  const patientUrn = `urn:uuid:${uuid(rand)}`;
  const practitioner = () => `Practitioner?identifier=${NPI}|${practitionerNpi(Math.floor(rand() * sizes.practitioners))}`;
  const organization = () => `Organization?identifier=${ORG}|${organizationId(Math.floor(rand() * sizes.organizations))}`;
  const location = () => `Location?identifier=${ORG}|${locationId(Math.floor(rand() * sizes.locations))}`;
  const family = pick(rand, FAMILIES);
  const given = pick(rand, GIVEN);
  const birth = new Date(Date.UTC(1940 + Math.floor(rand() * 60), Math.floor(rand() * 12), 1 + Math.floor(rand() * 28)));
  const entry: Json[] = [];
  const add = (urn: string, resource: Json): void => {
    entry.push({ fullUrl: urn, resource, request: { method: 'POST', url: resource.resourceType } });
  };
  add(patientUrn, {
    resourceType: 'Patient',
    text: { status: 'generated', div: `<div xmlns="http://www.w3.org/1999/xhtml">${given} ${family}</div>` },
    extension: [
      { url: 'http://hl7.org/fhir/StructureDefinition/patient-birthPlace', valueAddress: { city: 'Boston', state: 'MA', country: 'US' } },
      { url: 'http://hl7.org/fhir/StructureDefinition/patient-mothersMaidenName', valueString: pick(rand, FAMILIES) },
    ],
    identifier: [
      { system: 'https://github.com/synthetichealth/synthea', value: uuid(rand) },
      {
        type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'MR', display: 'Medical Record Number' }] },
        system: 'http://hospital.smarthealthit.org',
        value: `MRN-${seed}-${index}`,
      },
    ],
    name: [{ use: 'official', family, given: [given], prefix: [rand() < 0.5 ? 'Mr.' : 'Ms.'] }],
    telecom: [{ system: 'phone', value: `555-${String(Math.floor(rand() * 10000)).padStart(4, '0')}`, use: 'home' }],
    gender: rand() < 0.5 ? 'male' : 'female',
    birthDate: birth.toISOString().slice(0, 10),
    address: [{ line: [`${Math.floor(rand() * 999)} Pine St`], city: 'Springfield', state: 'MA', postalCode: '01101', country: 'US' }],
    maritalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-MaritalStatus', code: 'M', display: 'Married' }] },
    generalPractitioner: [{ reference: practitioner() }],
    managingOrganization: { reference: organization() },
  });
  const encounters = Math.max(1, Math.round(resources / 15));
  const perEncounter = Math.max(1, Math.ceil((resources - 1 - encounters) / encounters));
  for (let e = 0; e < encounters; e++) {
    const encounterUrn = `urn:uuid:${uuid(rand)}`;
    const start = new Date(Date.UTC(2015 + Math.floor(e / 4), (e * 3) % 12, 1 + Math.floor(rand() * 27), 8 + Math.floor(rand() * 9)));
    const startIso = start.toISOString();
    const end = new Date(start.getTime() + 30 * 60_000).toISOString();
    add(encounterUrn, {
      resourceType: 'Encounter',
      status: 'finished',
      class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' },
      type: [{ coding: [{ system: SNOMED, code: '185349003', display: 'Encounter for check up' }], text: 'Encounter for check up' }],
      subject: { reference: patientUrn, display: `${given} ${family}` },
      participant: [{ individual: { reference: practitioner() } }],
      period: { start: startIso, end },
      location: [{ location: { reference: location() } }],
      serviceProvider: { reference: organization() },
    });
    const observationUrns: string[] = [];
    for (let k = 0; k < perEncounter && entry.length < resources; k++) {
      const urn = `urn:uuid:${uuid(rand)}`;
      const kind = k % 12;
      if (kind < 8) {
        const vital = VITALS[kind] as (typeof VITALS)[number];
        observationUrns.push(urn);
        add(urn, {
          resourceType: 'Observation',
          status: 'final',
          category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: kind < 5 ? 'vital-signs' : 'laboratory' }] }],
          code: { coding: [{ system: LOINC, code: vital.code, display: vital.display }], text: vital.display },
          subject: { reference: patientUrn },
          encounter: { reference: encounterUrn },
          effectiveDateTime: startIso,
          issued: startIso,
          performer: [{ reference: practitioner() }],
          valueQuantity: { value: Math.round((vital.low + rand() * (vital.high - vital.low)) * 10) / 10, unit: vital.unit, system: 'http://unitsofmeasure.org', code: vital.unit },
        });
      } else if (kind === 8) {
        const [code, display] = pick(rand, CONDITIONS);
        add(urn, {
          resourceType: 'Condition',
          clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] },
          verificationStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-ver-status', code: 'confirmed' }] },
          code: { coding: [{ system: SNOMED, code, display }], text: display },
          subject: { reference: patientUrn },
          encounter: { reference: encounterUrn },
          onsetDateTime: startIso,
          recordedDate: startIso,
        });
      } else if (kind === 9) {
        const [code, display] = pick(rand, PROCEDURES);
        add(urn, {
          resourceType: 'Procedure',
          status: 'completed',
          code: { coding: [{ system: SNOMED, code, display }], text: display },
          subject: { reference: patientUrn },
          encounter: { reference: encounterUrn },
          performedPeriod: { start: startIso, end },
          performer: [{ actor: { reference: practitioner() } }],
          location: { reference: location() },
        });
      } else if (kind === 10) {
        const [code, display] = pick(rand, MEDICATIONS);
        add(urn, {
          resourceType: 'MedicationRequest',
          status: 'active',
          intent: 'order',
          medicationCodeableConcept: { coding: [{ system: RXNORM, code, display }], text: display },
          subject: { reference: patientUrn },
          encounter: { reference: encounterUrn },
          authoredOn: startIso,
          requester: { reference: practitioner() },
          dosageInstruction: [{ sequence: 1, timing: { repeat: { frequency: 1, period: 1, periodUnit: 'd' } }, asNeededBoolean: false }],
        });
      } else if (e % 2 === 0) {
        const [code, display] = pick(rand, VACCINES);
        add(urn, {
          resourceType: 'Immunization',
          status: 'completed',
          vaccineCode: { coding: [{ system: CVX, code, display }], text: display },
          patient: { reference: patientUrn },
          encounter: { reference: encounterUrn },
          occurrenceDateTime: startIso,
          primarySource: true,
          location: { reference: location() },
        });
      } else {
        add(urn, {
          resourceType: 'DiagnosticReport',
          status: 'final',
          category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0074', code: 'LAB' }] }],
          code: { coding: [{ system: LOINC, code: '51990-0', display: 'Basic metabolic panel - Blood' }] },
          subject: { reference: patientUrn },
          encounter: { reference: encounterUrn },
          effectiveDateTime: startIso,
          issued: startIso,
          performer: [{ reference: organization() }],
          result: observationUrns.slice(-4).map((reference) => ({ reference })),
        });
      }
    }
  }
  return { resourceType: 'Bundle', type: 'transaction', entry };
}

function main(): void {
  const [outDir, patientsArg = '10', perPatientArg = '300'] = process.argv.slice(2);
  if (!outDir) {
    process.stderr.write('usage: npx tsx bench/bundles/generate.ts <outDir> [patients=10] [resourcesPerPatient=300]\n');
    process.exit(2);
  }
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, 'shared-batch.json'), JSON.stringify(sharedBatch()));
  for (let i = 0; i < Number(patientsArg); i++) {
    writeFileSync(join(outDir, `patient-${String(i).padStart(5, '0')}.json`), JSON.stringify(patientTransaction(i, Number(perPatientArg))));
  }
  process.stdout.write(`wrote shared-batch.json and ${patientsArg} patient transactions to ${outDir}\n`);
}

if (require.main === module) main();
