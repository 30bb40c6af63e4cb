/**
 * Compiled profiles are cached across restarts, keyed by the content of what they were built from: a restart with
 * the same profiles/ compiles nothing and unpacks no package; a changed profile is recompiled (never a stale hit);
 * a corrupt cache entry is a miss.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadProfiles } from '../../../src/validation/profile-loading';

const ROOT = path.resolve(__dirname, '../../..');
const IPS = path.join(ROOT, 'test', 'fixtures', 'packages', 'hl7.fhir.uv.ips-2.0.0.tgz');
const noStore = { find: async () => [] } as never;
const options = { unknownProfile: 'warning' as const, requiredProfiles: {} };
const REGIONAL = 'https://fhir.example.org/regional/StructureDefinition/';

describe('compiled-profile cache (DATA_DIR/profile-cache)', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'profile-cache-'));
  const profiles = path.join(dir, 'profiles');
  const cacheDir = path.join(dir, 'cache');
  fs.cpSync(path.join(ROOT, 'profiles'), profiles, { recursive: true });
  fs.copyFileSync(IPS, path.join(profiles, 'ips.tgz'));
  const example = (name: string) => JSON.parse(fs.readFileSync(path.join(ROOT, 'profiles', 'examples', name), 'utf8')) as Record<string, unknown>;
  const patient = example('Patient-regional-no-organization.json');

  test('a restart takes every profile and the package from the cache and validates the same', async () => {
    const cold = await loadProfiles(profiles, noStore, options, cacheDir);
    const coldCache = cold.registry.cache!;
    assert.equal(coldCache.hits, 0);
    assert.ok(coldCache.misses >= 34, `${coldCache.misses} misses: 1 package + 33 profiles`);
    const expected = cold.registry.validate(patient);
    assert.ok(expected.some((i) => i.severity === 'error'));

    const warm = await loadProfiles(profiles, noStore, options, cacheDir);
    assert.equal(warm.registry.cache!.misses, 0);
    assert.equal(warm.registry.cache!.hits, coldCache.misses);
    assert.deepEqual(warm.problems, cold.problems);
    assert.equal(warm.loaded, cold.loaded);
    assert.deepEqual(warm.registry.validate(patient), expected);
  });

  test('a changed profile is a new key: recompiled, and its new rule applies', async () => {
    const file = path.join(profiles, 'regional', 'package', 'StructureDefinition-regional-patient.json');
    const sd = JSON.parse(fs.readFileSync(file, 'utf8'));
    sd.differential.element.push({ id: 'Patient.birthDate', path: 'Patient.birthDate', min: 1 });
    fs.writeFileSync(file, JSON.stringify(sd));
    const changed = await loadProfiles(profiles, noStore, options, cacheDir);
    assert.equal(changed.registry.cache!.misses, 1, 'only the changed profile');
    const ok = example('Patient-regional-ok.json');
    const { birthDate: _, ...withoutBirthDate } = ok;
    assert.ok(changed.registry.validate(withoutBirthDate).some((i) => i.severity === 'error' && i.expression?.[0] === 'Patient.birthDate'));
  });

  test('a corrupt entry is a miss, not a failure', async () => {
    for (const kind of ['profiles', 'packages']) for (const f of fs.readdirSync(path.join(cacheDir, kind))) fs.writeFileSync(path.join(cacheDir, kind, f), '{ not json');
    const loaded = await loadProfiles(profiles, noStore, options, cacheDir);
    assert.equal(loaded.registry.cache!.hits, 0);
    assert.ok(loaded.registry.has(`${REGIONAL}regional-patient`) && loaded.registry.has('http://hl7.org/fhir/uv/ips/StructureDefinition/Patient-uv-ips'));
  });
});
