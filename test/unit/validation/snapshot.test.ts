/**
 * Snapshot generation (https://hl7.org/fhir/R4/profiling.html#snapshot): a profile written as a differential only
 * validates exactly like the same profile with its published snapshot; profiles on profiles carry their base
 * profile's rules; a differential that does not fit its base is reported at load with the file and the element.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tar from 'tar';
import type { ElementDefinition, StructureDefinition } from 'fhir/r4';
import { loadProfiles } from '../../../src/validation/profile-loading';
import { ProfileRegistry } from '../../../src/validation/profiles';

const ROOT = path.resolve(__dirname, '../../..');
const IPS = path.join(ROOT, 'test', 'fixtures', 'packages', 'hl7.fhir.uv.ips-2.0.0.tgz');
const P = 'http://example.org/StructureDefinition/';
const noStore = { find: async () => [] } as never;
const options = { unknownProfile: 'warning' as const, requiredProfiles: {} };

function profile(id: string, type: string, elements: Array<[string, Record<string, unknown>]>, base = `http://hl7.org/fhir/StructureDefinition/${type}`): StructureDefinition {
  return {
    resourceType: 'StructureDefinition', url: P + id, name: id, status: 'active', kind: 'resource', abstract: false, type, baseDefinition: base, derivation: 'constraint',
    differential: { element: [{ id: type, path: type }, ...elements.map(([eid, props]) => ({ id: eid, path: eid.split('.').map((s) => s.split(':')[0]).join('.'), ...props }))] },
  } as StructureDefinition;
}

describe('IPS profiles with their snapshot stripped and regenerated validate like the published snapshots', () => {
  const published = new ProfileRegistry();
  const generated = new ProfileRegistry();
  const examples: Array<{ file: string; resource: Record<string, unknown> }> = [];
  const profiles: StructureDefinition[] = [];
  before(() => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ips-snapshot-'));
    tar.x({ file: IPS, cwd: dir, sync: true });
    const pkg = path.join(dir, 'package');
    const read = (file: string) => JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown> & { resourceType: string };
    for (const name of fs.readdirSync(pkg).filter((f) => /^(StructureDefinition|ValueSet|CodeSystem)-/.test(f))) {
      const r = read(path.join(pkg, name));
      if (r.resourceType === 'StructureDefinition' && r.derivation !== 'constraint') continue;
      published.add(r);
      if (r.resourceType === 'StructureDefinition') profiles.push(r as unknown as StructureDefinition);
      const { snapshot, ...differentialOnly } = r;
      assert.ok(r.resourceType !== 'StructureDefinition' || snapshot, `${name} is published with a snapshot`);
      generated.add(differentialOnly as typeof r);
    }
    for (const name of fs.readdirSync(path.join(pkg, 'example')).sort()) examples.push({ file: name, resource: read(path.join(pkg, 'example', name)) });
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('each generated snapshot has the published elements, cardinality, types, bindings, fixed/pattern values, slicing and constraints', () => {
    // The IG publisher writes core canonicals with their version (|4.0.1) and type extensions of later FHIR builds;
    // the generated snapshot keeps R4.0.1's.
    const summary = (e: ElementDefinition): string =>
      JSON.stringify([e.id, e.sliceName, e.min, e.max, e.type?.map((t) => [t.code, t.profile, t.targetProfile]), e.binding?.strength, e.binding?.valueSet, e.slicing?.discriminator, e.slicing?.rules,
        Object.entries(e).filter(([k]) => /^(fixed|pattern)[A-Z]/.test(k)), (e.constraint ?? []).map((c) => c.key).sort()]).replace(/\|4\.0\.1/g, '');
    assert.equal(profiles.length, 29);
    for (const sd of profiles) {
      assert.deepEqual(generated.snapshotOf(sd.url)!.map(summary), sd.snapshot!.element.map(summary), sd.id);
    }
  });

  test('every example, and every example with one top-level element removed, gets the same issues', () => {
    let compared = 0;
    let withErrors = 0;
    for (const { file, resource } of examples) {
      // Bundles as published only: their entries are the other examples, which get the variants.
      const removable = resource.resourceType === 'Bundle' ? [] : Object.keys(resource).filter((k) => k !== 'resourceType');
      const variants = [resource, ...removable.map((k) => Object.fromEntries(Object.entries(resource).filter(([key]) => key !== k)))];
      for (const variant of variants) {
        const expected = published.validate(variant);
        assert.deepEqual(generated.validate(variant), expected, file);
        compared++;
        if (expected.some((i) => i.severity === 'error')) withErrors++;
      }
    }
    assert.ok(examples.length >= 40 && compared > 250, `${compared} resources compared`);
    assert.ok(withErrors > 30, `the variants exercise the rules: ${withErrors} have errors`);
  });

  test('the published examples have no errors against the generated snapshots', () => {
    const failing = examples.filter(({ resource }) => generated.validate(resource).some((i) => i.severity === 'error')).map((e) => e.file);
    assert.deepEqual(failing, []);
  });
});

describe('generated snapshots', () => {
  const registry = new ProfileRegistry();
  before(() => {
    // Added child first: a profile may be loaded before the profile it builds on.
    registry.add(profile('child', 'Patient', [['Patient.birthDate', { min: 1 }]], `${P}parent`));
    registry.add(profile('parent', 'Patient', [['Patient.identifier', { min: 1 }], ['Patient.identifier.system', { min: 1 }]]));
    registry.add(profile('renamed', 'Observation', [['Observation.valueQuantity', { type: [{ code: 'Quantity' }] }], ['Observation.valueQuantity.unit', { min: 1 }]]));
  });
  const errors = (resource: Record<string, unknown>, url: string): string[] =>
    registry.validate(resource, [P + url]).filter((i) => i.severity === 'error').map((i) => i.expression![0]);
  test('a profile on a local profile carries its base profile\'s rules (expanded into a datatype)', () => {
    assert.deepEqual(errors({ resourceType: 'Patient', birthDate: '2000-01-01', identifier: [{ system: 'urn:a', value: '1' }] }, 'child'), []);
    assert.deepEqual(errors({ resourceType: 'Patient', birthDate: '2000-01-01' }, 'child'), ['Patient.identifier']);
    assert.deepEqual(errors({ resourceType: 'Patient', birthDate: '2000-01-01', identifier: [{ value: '1' }] }, 'child'), ['Patient.identifier[0].system']);
    assert.deepEqual(errors({ resourceType: 'Patient', identifier: [{ system: 'urn:a' }] }, 'child'), ['Patient.birthDate']);
  });
  test('a type-specific choice name (valueQuantity) constrains that type only', () => {
    assert.deepEqual(errors({ resourceType: 'Observation', status: 'final', code: { text: 'x' }, valueQuantity: { value: 1, unit: 'mg' } }, 'renamed'), []);
    assert.deepEqual(errors({ resourceType: 'Observation', status: 'final', code: { text: 'x' }, valueQuantity: { value: 1 } }, 'renamed'), ['Observation.valueQuantity.unit']);
    assert.deepEqual(errors({ resourceType: 'Observation', status: 'final', code: { text: 'x' }, valueString: 'no unit needed' }, 'renamed'), []);
  });
  test('the generated snapshot has the base elements, the slices and the expanded datatype', () => {
    const snapshot = registry.snapshotOf(`${P}child`)!;
    const ids = snapshot.map((e) => e.id);
    assert.ok(ids.includes('Patient.identifier.system') && ids.includes('Patient.contact.name'));
    assert.equal(snapshot.find((e) => e.id === 'Patient.birthDate')!.min, 1);
    assert.equal(snapshot.find((e) => e.id === 'Patient.identifier.system')!.min, 1, 'inherited from the parent profile');
    assert.equal(snapshot.find((e) => e.id === 'Patient.identifier.system')!.base?.path, 'Identifier.system');
  });
});

describe('a differential that does not fit its base is reported at load with the file and the element', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'snapshot-broken-'));
  const broken: Record<string, StructureDefinition> = {
    'unknown-path.json': profile('unknown-path', 'Patient', [['Patient.nickname', { min: 1 }]]),
    'wrong-type.json': profile('wrong-type', 'Patient', [['Patient.deceased[x]', { type: [{ code: 'string' }] }]]),
    'wider.json': profile('wider', 'Patient', [['Patient.gender', { max: '2' }]]),
    'no-base.json': profile('no-base', 'Patient', [], `${P}missing`),
    'inside-choice.json': profile('inside-choice', 'Observation', [['Observation.value[x].unit', { min: 1 }]]),
  };
  before(() => {
    for (const [file, sd] of Object.entries(broken)) fs.writeFileSync(path.join(dir, file), JSON.stringify(sd));
    fs.writeFileSync(path.join(dir, 'fine.json'), JSON.stringify(profile('fine', 'Patient', [['Patient.gender', { min: 1 }]])));
  });
  test('each broken profile is named with its element and reason; the valid one still loads', async () => {
    const { registry, problems } = await loadProfiles(dir, noStore, options);
    assert.ok(registry.has(`${P}fine`));
    const reported = (file: string): string => problems.find((p) => p.file.endsWith(file))?.message ?? '(not reported)';
    assert.match(reported('unknown-path.json'), /'Patient\.nickname'.*no element 'nickname'/);
    assert.match(reported('wrong-type.json'), /'Patient\.deceased\[x\]'.*type string is not allowed by the base \(boolean, dateTime\)/);
    assert.match(reported('wider.json'), /'Patient\.gender'.*max 2 is above the base's max 1/);
    assert.match(reported('no-base.json'), /missing is not known/);
    assert.match(reported('inside-choice.json'), /'Observation\.value\[x\]\.unit'.*11 types/);
    for (const sd of Object.values(broken)) assert.ok(!registry.has(sd.url), `${sd.url} is not used`);
  });
});

describe('a profile whose base profile is replaced by one it no longer fits', () => {
  test('is reported as not usable (a warning, or an error when required), never a crash', () => {
    const registry = new ProfileRegistry({ unknownProfile: 'warning', requiredProfiles: { Patient: [`${P}child2`] } });
    registry.add(profile('parent2', 'Patient', [['Patient.identifier', { min: 1 }]]));
    registry.add(profile('child2', 'Patient', [['Patient.identifier', { max: '3' }]], `${P}parent2`));
    assert.deepEqual(registry.validate({ resourceType: 'Patient', identifier: [{ value: '1' }] }), []);
    registry.add(profile('parent2', 'Patient', [['Patient.identifier', { max: '1' }]]));
    const issues = registry.validate({ resourceType: 'Patient', identifier: [{ value: '1' }] });
    assert.deepEqual(issues.map((i) => `${i.severity} ${i.code}`), ['error not-supported']);
    assert.match(issues[0].diagnostics ?? '', /child2 cannot be used.*'Patient\.identifier'.*max 3 is above the base's max 1/);
  });
});
