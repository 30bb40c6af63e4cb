/**
 * hl7.fhir.uv.ips@2.0.0 (International Patient Summary, CC0) as published on npm, vendored in test/fixtures/packages
 * (708 KB; `npm pack hl7.fhir.uv.ips@2.0.0` gives the same file). Loaded from a profiles folder by the server, every
 * example of the package validates against the profiles it claims with no errors, and breaking a profile rule is caught.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tar from 'tar';
import { after, before, describe, it } from 'node:test';
import { FHIR_JSON, startTestServer, type TestServer } from '../../fixtures/server';

const PACKAGE = path.resolve(__dirname, '../../fixtures/packages/hl7.fhir.uv.ips-2.0.0.tgz');

describe('the IPS package (hl7.fhir.uv.ips@2.0.0) in profiles/', () => {
  let s: TestServer;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ips-'));
  const examples: Array<{ file: string; resource: Record<string, unknown> }> = [];
  before(async () => {
    const profiles = path.join(dir, 'profiles');
    fs.mkdirSync(profiles);
    fs.copyFileSync(PACKAGE, path.join(profiles, 'hl7.fhir.uv.ips-2.0.0.tgz'));
    tar.x({ file: PACKAGE, cwd: dir, sync: true, filter: (p) => p.startsWith('package/example/') });
    for (const file of fs.readdirSync(path.join(dir, 'package', 'example')).sort()) {
      examples.push({ file, resource: JSON.parse(fs.readFileSync(path.join(dir, 'package', 'example', file), 'utf8')) });
    }
    s = await startTestServer({ profilesDir: profiles });
  });
  after(async () => {
    await s.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('every example is accepted with no error against the profiles it claims', async () => {
    assert.ok(examples.length >= 40, `${examples.length} examples`);
    const refused: string[] = [];
    for (const { file, resource } of examples) {
      const type = resource.resourceType as string;
      const res = await s.http.put(`/fhir/${type}/${resource.id as string}`).set('Content-Type', FHIR_JSON).send(resource);
      if (res.status >= 300) refused.push(`${file}: ${res.status} ${JSON.stringify(res.body.issue?.filter((i: { severity: string }) => i.severity === 'error'))}`);
    }
    assert.deepEqual(refused, []);
  });

  it('claims are really checked: an IPS Patient without birthDate is refused', async () => {
    const patient = examples.find((e) => e.file === 'Patient-eumfh-39-07.json')?.resource;
    assert.ok(patient);
    const res = await s.http.post('/fhir/Patient').set('Content-Type', FHIR_JSON).send({ ...patient, birthDate: undefined });
    assert.equal(res.status, 422);
    assert.match(JSON.stringify(res.body), /Patient-uv-ips.*Patient\.birthDate|Patient\.birthDate.*Patient-uv-ips/);
  });
});
