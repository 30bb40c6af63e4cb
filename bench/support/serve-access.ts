/**
 * Benchmark server for bench/access.ts: the real server on a fresh on-disk embedded store, with access control
 * `on` or `off` (argv[2]), seeded identically: PATIENTS patients with OBSERVATIONS Observations each, a
 * 5-provision patient-privacy Consent for Patient/p0 and a one-provision one for every tenth patient.
 * Prints one JSON line {port, path, authorization}: a user/ token of Practitioner/dr (purpose TREAT).
 * The audit trail is on (the default, on LMDB in DATA_DIR) on both servers, as with `npm start`: both sides are audited.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadOrCreateLocalKey, signLocalToken } from '../../src/access/local-key';
import { internalAccess } from '../../src/access/request-access';
import { loadConfig } from '../../src/config/config';
import { createServer } from '../../src/compose';
import { silentLogger } from '../../src/http/logger';

const PATIENTS = 200;
const OBSERVATIONS = 20;
const PRIVACY = { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'patient-privacy' }] };
const actor = (reference: string) => ({ role: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType', code: 'PRCP' }] }, reference: { reference } });

export function consent(id: string, patient: string, provisions: object[]): Record<string, unknown> {
  return {
    resourceType: 'Consent',
    id,
    status: 'active',
    scope: PRIVACY,
    category: [{ text: 'privacy' }],
    patient: { reference: `Patient/${patient}` },
    dateTime: '2026-01-01T00:00:00Z',
    policyRule: { text: 'patient preference' },
    provision: { type: 'permit', provision: provisions },
  };
}

/** Five exceptions of different kinds: class, actor, data period, sensitive label, purpose. */
export const FIVE = [
  { type: 'deny', class: [{ system: 'http://hl7.org/fhir/resource-types', code: 'MedicationRequest' }] },
  { type: 'deny', actor: [actor('Practitioner/other')] },
  { type: 'deny', dataPeriod: { end: '2010-01-01' } },
  { type: 'permit', actor: [actor('Practitioner/dr')], securityLabel: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'PSY' }] },
  { type: 'deny', purpose: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason', code: 'HMARKT' }] },
];

/** The bench's user token claims: Practitioner/dr reading and searching for treatment. */
export const USER_CLAIMS = { scope: 'user/*.rs', fhirUser: 'Practitioner/dr', purpose_of_use: 'TREAT', client_id: 'bench' };

async function main(): Promise<void> {
  const mode = process.argv[2] === 'off' ? 'off' : 'on';
  const dataDir = mkdtempSync(join(tmpdir(), `bench-access-${mode}-`));
  const config = loadConfig({ PORT: '0', DATA_DIR: dataDir, AUTH_MODE: mode });
  const server = await createServer(config, { logger: silentLogger });
  const put = async (resource: Record<string, unknown>): Promise<void> => {
    const path = [resource.resourceType as string, resource.id as string];
    const res = await server.router.route({ method: 'PUT', path, query: [], body: resource, prefer: { return: 'minimal' }, access: internalAccess('bench seeding') });
    if (res.status >= 300) throw new Error(`seeding ${path.join('/')} failed: ${res.status}`);
  };
  await put({ resourceType: 'Practitioner', id: 'dr' });
  for (let p = 0; p < PATIENTS; p++) {
    await put({ resourceType: 'Patient', id: `p${p}`, name: [{ family: `Family${p}` }] });
    for (let o = 0; o < OBSERVATIONS; o++) {
      await put({
        resourceType: 'Observation',
        id: `o${p}-${o}`,
        status: 'final',
        code: { coding: [{ system: 'http://loinc.org', code: '8867-4' }] },
        subject: { reference: `Patient/p${p}` },
        effectiveDateTime: `20${String(10 + (o % 15)).padStart(2, '0')}-01-01`,
        valueQuantity: { value: 60 + o, unit: '/min', system: 'http://unitsofmeasure.org', code: '/min' },
      });
    }
    if (p === 0) await put(consent('c0', 'p0', FIVE));
    else if (p % 10 === 0) await put(consent(`c${p}`, `p${p}`, [FIVE[1] as object]));
  }
  const key = await loadOrCreateLocalKey(dataDir);
  const token = await signLocalToken(key, USER_CLAIMS, {
    issuer: config.auth.issuer,
    audience: config.auth.audience,
    expiresInSeconds: 3600,
  });
  const srv = server.app.listen(0, '127.0.0.1', () => {
    process.stdout.write(`${JSON.stringify({ port: (srv.address() as { port: number }).port, path: '/fhir/Observation/o0-3', authorization: `Bearer ${token}` })}\n`);
  });
}

if (require.main === module) main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
