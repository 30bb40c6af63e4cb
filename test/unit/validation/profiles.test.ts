/**
 * Validation against local profiles (https://hl7.org/fhir/R4/profiling.html): for each kind of rule a resource
 * breaking exactly that rule and a near miss that passes; the shipped regional package and its examples; loading.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tar from 'tar';
import type { StructureDefinition } from 'fhir/r4';
import { loadConformanceDir } from '../../../src/validation/conformance-loader';
import { loadProfiles } from '../../../src/validation/profile-loading';
import { ProfileRegistry } from '../../../src/validation/profiles';

const ROOT = path.resolve(__dirname, '../../..');
const noStore = { find: async () => [] } as never;
const P = 'http://example.org/StructureDefinition/';

/** A constraint profile from differential elements given as [id, properties]. */
function profile(id: string, type: string, elements: Array<[string, Record<string, unknown>]>, extra: Partial<StructureDefinition> = {}): StructureDefinition {
  return {
    resourceType: 'StructureDefinition',
    url: P + id,
    name: id,
    status: 'active',
    kind: 'resource',
    abstract: false,
    type,
    baseDefinition: `http://hl7.org/fhir/StructureDefinition/${type}`,
    derivation: 'constraint',
    differential: {
      element: [
        { id: type, path: type },
        ...elements.map(([eid, props]) => ({ id: eid, path: eid.split('.').map((s) => s.split(':')[0]).join('.'), ...props })),
      ],
    },
    ...extra,
  } as StructureDefinition;
}

const errors = (registry: ProfileRegistry, resource: Record<string, unknown>, url: string): string[] =>
  registry.validate(resource, [P + url]).map((i) => `${i.severity} ${i.expression?.[0]}`);

describe('element rules', () => {
  const registry = new ProfileRegistry();
  before(() => {
    registry.add(
      profile('p', 'Patient', [
        ['Patient.name', { min: 1, max: '2' }],
        ['Patient.name.family', { min: 1, maxLength: 5 }],
        ['Patient.gender', { fixedCode: 'female' }],
        ['Patient.maritalStatus', { patternCodeableConcept: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-MaritalStatus', code: 'M' }] } }],
        ['Patient.deceased[x]', { type: [{ code: 'boolean' }] }],
        ['Patient.managingOrganization', { type: [{ code: 'Reference', targetProfile: ['http://hl7.org/fhir/StructureDefinition/Organization'] }] }],
        ['Patient.multipleBirth[x]', { minValueInteger: 1, maxValueInteger: 9 }],
      ]),
    );
  });
  const ok = { resourceType: 'Patient', gender: 'female', name: [{ family: 'Ng' }] };
  test('a resource meeting every rule passes', () => assert.deepEqual(errors(registry, { ...ok, maritalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-MaritalStatus', code: 'M' }], text: 'Married' } }, 'p'), []));
  test('cardinality: min and max', () => {
    assert.deepEqual(errors(registry, { resourceType: 'Patient', gender: 'female' }, 'p'), ['error Patient.name']);
    assert.deepEqual(errors(registry, { ...ok, name: [{ family: 'A' }, { family: 'B' }, { family: 'C' }] }, 'p'), ['error Patient.name']);
  });
  test('nested cardinality and maxLength', () => {
    assert.deepEqual(errors(registry, { ...ok, name: [{ given: ['X'] }] }, 'p'), ['error Patient.name[0].family']);
    assert.deepEqual(errors(registry, { ...ok, name: [{ family: 'Longer' }] }, 'p'), ['error Patient.name[0].family']);
  });
  test('fixed[x] is exact, pattern[x] is contained', () => {
    assert.deepEqual(errors(registry, { ...ok, gender: 'male' }, 'p'), ['error Patient.gender']);
    assert.deepEqual(errors(registry, { ...ok, maritalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-MaritalStatus', code: 'S' }] } }, 'p'), ['error Patient.maritalStatus']);
  });
  test('choice types restricted by the profile', () => {
    assert.deepEqual(errors(registry, { ...ok, deceasedBoolean: false }, 'p'), []);
    assert.deepEqual(errors(registry, { ...ok, deceasedDateTime: '2020-01-01' }, 'p'), ['error Patient.deceasedDateTime']);
  });
  test('targetProfile of a reference', () => {
    assert.deepEqual(errors(registry, { ...ok, managingOrganization: { reference: 'Organization/1' } }, 'p'), []);
    assert.deepEqual(errors(registry, { ...ok, managingOrganization: { reference: 'Practitioner/1' } }, 'p'), ['error Patient.managingOrganization']);
  });
  test('minValue and maxValue', () => {
    assert.deepEqual(errors(registry, { ...ok, multipleBirthInteger: 2 }, 'p'), []);
    assert.deepEqual(errors(registry, { ...ok, multipleBirthInteger: 0 }, 'p'), ['error Patient.multipleBirthInteger']);
  });
  test('an unknown profile is a warning, never a pass', () => {
    const issues = registry.validate({ ...ok, meta: { profile: [`${P}nope`] } });
    assert.deepEqual(issues.map((i) => `${i.severity} ${i.code}`), ['warning not-supported']);
    const strict = new ProfileRegistry({ unknownProfile: 'error', requiredProfiles: {} });
    assert.equal(strict.validate({ ...ok, meta: { profile: [`${P}nope`] } })[0].severity, 'error');
  });
});

describe('slicing (https://hl7.org/fhir/R4/profiling.html#slicing)', () => {
  const registry = new ProfileRegistry();
  const slicing = (rules: string, extra: Record<string, unknown> = {}) => ({ slicing: { discriminator: [{ type: 'value', path: 'system' }], rules, ...extra } });
  before(() => {
    const slices: Array<[string, Record<string, unknown>]> = [
      ['Patient.identifier:a', { sliceName: 'a', min: 1, max: '1' }],
      ['Patient.identifier:a.system', { fixedUri: 'urn:a' }],
      ['Patient.identifier:a.value', { min: 1 }],
      ['Patient.identifier:b', { sliceName: 'b', max: '1' }],
      ['Patient.identifier:b.system', { fixedUri: 'urn:b' }],
    ];
    registry.add(profile('open', 'Patient', [['Patient.identifier', slicing('open')], ...slices]));
    registry.add(profile('closed', 'Patient', [['Patient.identifier', slicing('closed')], ...slices]));
    registry.add(profile('ordered', 'Patient', [['Patient.identifier', slicing('openAtEnd', { ordered: true })], ...slices]));
    registry.add(
      profile('exists', 'Observation', [
        ['Observation.component', { slicing: { discriminator: [{ type: 'exists', path: 'valueQuantity' }], rules: 'closed' } }],
        ['Observation.component:measured', { sliceName: 'measured', min: 1 }],
        ['Observation.component:measured.valueQuantity', { min: 1 }],
      ]),
    );
    registry.add(
      profile('typed', 'Bundle', [
        ['Bundle.entry.resource', { slicing: { discriminator: [{ type: 'type', path: '$this' }], rules: 'closed' } }],
        ['Bundle.entry.resource:patient', { sliceName: 'patient', type: [{ code: 'Patient' }] }],
      ]),
    );
  });
  const id = (system: string, value = '1') => ({ system, value });
  test('value discriminator: slice cardinality and the rules inside the slice', () => {
    assert.deepEqual(errors(registry, { resourceType: 'Patient', identifier: [id('urn:a'), id('urn:x')] }, 'open'), []);
    assert.deepEqual(errors(registry, { resourceType: 'Patient', identifier: [id('urn:x')] }, 'open'), ['error Patient.identifier']);
    assert.deepEqual(errors(registry, { resourceType: 'Patient', identifier: [id('urn:a'), id('urn:a')] }, 'open'), ['error Patient.identifier']);
    assert.deepEqual(errors(registry, { resourceType: 'Patient', identifier: [{ system: 'urn:a' }] }, 'open'), ['error Patient.identifier[0].value']);
  });
  test('closed slicing refuses values in no slice', () => {
    assert.deepEqual(errors(registry, { resourceType: 'Patient', identifier: [id('urn:a'), id('urn:b')] }, 'closed'), []);
    assert.deepEqual(errors(registry, { resourceType: 'Patient', identifier: [id('urn:a'), id('urn:x')] }, 'closed'), ['error Patient.identifier[1]']);
  });
  test('ordered and openAtEnd', () => {
    assert.deepEqual(errors(registry, { resourceType: 'Patient', identifier: [id('urn:a'), id('urn:b'), id('urn:x')] }, 'ordered'), []);
    assert.deepEqual(errors(registry, { resourceType: 'Patient', identifier: [id('urn:b'), id('urn:a')] }, 'ordered'), ['error Patient.identifier[1]']);
    assert.deepEqual(errors(registry, { resourceType: 'Patient', identifier: [id('urn:x'), id('urn:a')] }, 'ordered'), ['error Patient.identifier[1]']);
  });
  test('exists discriminator', () => {
    const obs = (component: unknown[]) => ({ resourceType: 'Observation', status: 'final', code: { text: 'bp' }, component });
    assert.deepEqual(errors(registry, obs([{ code: { text: 'a' }, valueQuantity: { value: 1 } }]), 'exists'), []);
    assert.deepEqual(errors(registry, obs([{ code: { text: 'a' }, valueString: 'x' }]), 'exists').includes('error Observation.component[0]'), true);
  });
  test('type discriminator', () => {
    assert.deepEqual(errors(registry, { resourceType: 'Bundle', type: 'collection', entry: [{ resource: { resourceType: 'Patient' } }] }, 'typed'), []);
    assert.deepEqual(errors(registry, { resourceType: 'Bundle', type: 'collection', entry: [{ resource: { resourceType: 'Group' } }] }, 'typed'), ['error Bundle.entry[0].resource']);
  });
});

describe('bindings against local value sets (https://hl7.org/fhir/R4/terminologies.html#strength)', () => {
  const registry = new ProfileRegistry();
  before(() => {
    registry.add({ resourceType: 'CodeSystem', url: 'urn:cs', status: 'active', content: 'complete', concept: [{ code: 'a', concept: [{ code: 'a1' }] }, { code: 'b' }] } as never);
    registry.add({ resourceType: 'ValueSet', url: 'urn:vs', status: 'active', compose: { include: [{ system: 'urn:cs', filter: [{ property: 'concept', op: 'is-a', value: 'a' }] }], exclude: [{ system: 'urn:cs', concept: [{ code: 'a' }] }] } } as never);
    registry.add({ resourceType: 'ValueSet', url: 'urn:nested', status: 'active', compose: { include: [{ valueSet: ['urn:vs'] }, { system: 'http://snomed.info/sct' }] } } as never);
    const bound = (strength: string, vs: string) => ({ binding: { strength, valueSet: vs } });
    registry.add(profile('required', 'Observation', [['Observation.code', bound('required', 'urn:vs')]]));
    registry.add(profile('extensible', 'Observation', [['Observation.code', bound('extensible', 'urn:vs')]]));
    registry.add(profile('preferred', 'Observation', [['Observation.code', bound('preferred', 'urn:vs')]]));
    registry.add(profile('nested', 'Observation', [['Observation.code', bound('required', 'urn:nested')]]));
  });
  const obs = (system: string, code: string) => ({ resourceType: 'Observation', status: 'final', code: { coding: [{ system, code }] } });
  const sev = (r: Record<string, unknown>, p: string) => registry.validate(r, [P + p]).map((i) => i.severity);
  test('is-a filter minus an exclude', () => {
    assert.deepEqual(sev(obs('urn:cs', 'a1'), 'required'), []);
    assert.deepEqual(sev(obs('urn:cs', 'a'), 'required'), ['error']);
    assert.deepEqual(sev(obs('urn:cs', 'b'), 'required'), ['error']);
  });
  test('required → error, extensible → warning, preferred → nothing', () => {
    assert.deepEqual(sev(obs('urn:cs', 'b'), 'extensible'), ['warning']);
    assert.deepEqual(sev(obs('urn:cs', 'b'), 'preferred'), []);
  });
  test('a code from a system the server does not hold is not checkable (warning), never passed or failed', () => {
    assert.deepEqual(sev(obs('urn:cs', 'a1'), 'nested'), []);
    const issues = registry.validate(obs('http://snomed.info/sct', '123'), [`${P}nested`]);
    assert.deepEqual(issues.map((i) => `${i.severity} ${/not checkable/.test(i.diagnostics ?? '')}`), ['warning true']);
  });
});

describe('extensions against their definitions', () => {
  const registry = new ProfileRegistry();
  const EXT = `${P}ext-colour`;
  before(() => {
    registry.add(profile('ext-colour', 'Extension', [['Extension.url', { fixedUri: EXT }], ['Extension.value[x]', { min: 1, type: [{ code: 'code' }] }]], { kind: 'complex-type', context: [{ type: 'element', expression: 'Patient' }] }));
    registry.add(profile('with-ext', 'Patient', [['Patient.extension', { slicing: { discriminator: [{ type: 'value', path: 'url' }], rules: 'open' } }], ['Patient.extension:colour', { sliceName: 'colour', max: '1', type: [{ code: 'Extension', profile: [EXT] }] }], ['Patient.contact.extension', {}]]));
  });
  const colour = (value: Record<string, unknown>) => ({ url: EXT, ...value });
  test('value type of the definition', () => {
    assert.deepEqual(errors(registry, { resourceType: 'Patient', extension: [colour({ valueCode: 'red' })] }, 'with-ext'), []);
    assert.deepEqual(errors(registry, { resourceType: 'Patient', extension: [colour({ valueString: 'red' })] }, 'with-ext'), ['error Patient.extension[0].valueString']);
  });
  test('slice cardinality of an extension', () => {
    assert.deepEqual(errors(registry, { resourceType: 'Patient', extension: [colour({ valueCode: 'red' }), colour({ valueCode: 'blue' })] }, 'with-ext'), ['error Patient.extension']);
  });
  test('context: allowed on Patient, not on Patient.contact', () => {
    const misplaced = { resourceType: 'Patient', contact: [{ name: { text: 'A' }, extension: [colour({ valueCode: 'red' })] }] };
    assert.deepEqual(errors(registry, misplaced, 'with-ext'), ['error Patient.contact[0].extension[0]']);
  });
});

describe('the shipped regional package (profiles/regional) and its examples', () => {
  let registry: ProfileRegistry;
  before(async () => {
    const loaded = await loadProfiles(path.join(ROOT, 'profiles'), noStore, { unknownProfile: 'warning', requiredProfiles: {} });
    assert.deepEqual(loaded.problems, []);
    registry = loaded.registry;
  });
  const example = (name: string) => JSON.parse(fs.readFileSync(path.join(ROOT, 'profiles', 'examples', name), 'utf8')) as Record<string, unknown>;
  const failures: Record<string, RegExp> = {
    'Patient-regional-no-national-id.json': /slice 'national' has 0/,
    'Patient-regional-no-organization.json': /managingOrganization: element has 0/,
    'Patient-regional-bad-municipality.json': /not in the required value set .*regional-municipalities/,
    'Patient-regional-municipality-wrong-type.json': /valueString: type not allowed/,
    'Encounter-regional-no-provider.json': /serviceProvider: element has 0/,
    'Encounter-regional-subject-group.json': /refers to a Group/,
    'Observation-regional-not-lab.json': /slice 'laboratory' has 0/,
    'Observation-regional-code-outside.json': /not in the required value set .*regional-lab-codes/,
    'Observation-regional-string-value.json': /valueString: type not allowed/,
    'Observation-regional-unit-system.json': /must be exactly "http:\/\/unitsofmeasure.org"/,
  };
  for (const name of fs.readdirSync(path.join(ROOT, 'profiles', 'examples'))) {
    test(`${name} ${failures[name] ? 'fails for its documented reason only' : 'passes'}`, () => {
      const issues = registry.validate(example(name)).filter((i) => i.severity === 'error');
      if (!failures[name]) assert.deepEqual(issues, []);
      else {
        assert.equal(issues.length, 1, JSON.stringify(issues));
        assert.match(issues[0].diagnostics ?? '', failures[name]);
      }
    });
  }
});

describe('loading profiles/ (JSON files, packages as folders and tarballs)', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'profiles-test-'));
  before(() => {
    fs.writeFileSync(path.join(dir, 'broken.json'), '{ "resourceType": "StructureDefinition", ');
    fs.writeFileSync(path.join(dir, 'bad-profile.json'), JSON.stringify({ ...profile('bad', 'Patient', []), differential: { element: [{ id: 'Observation.code', path: 'Observation.code' }] } }));
    fs.writeFileSync(path.join(dir, 'good.json'), JSON.stringify(profile('good', 'Patient', [['Patient.name', { min: 1 }]])));
    const pkg = path.join(dir, 'build', 'package');
    fs.mkdirSync(pkg, { recursive: true });
    fs.writeFileSync(path.join(pkg, 'package.json'), JSON.stringify({ name: 'example.tar', version: '1.0.0', dependencies: { 'example.missing': '2.0.0', 'hl7.fhir.r4.core': '4.0.1' } }));
    fs.writeFileSync(path.join(pkg, 'StructureDefinition-tgz.json'), JSON.stringify(profile('tgz', 'Patient', [['Patient.gender', { min: 1 }]])));
    tar.c({ file: path.join(dir, 'example.tar.tgz'), cwd: path.join(dir, 'build'), gzip: true, sync: true }, ['package']);
    fs.rmSync(path.join(dir, 'build'), { recursive: true });
  });
  test('a package.tgz is read, a missing dependency is a warning, broken files are reported by name and skipped', async () => {
    const { registry, problems } = await loadProfiles(dir, noStore, { unknownProfile: 'warning', requiredProfiles: {} });
    assert.ok(registry.has(`${P}good`) && registry.has(`${P}tgz`));
    assert.ok(!registry.has(`${P}bad`));
    const summary = problems.map((p) => `${p.severity} ${path.basename(p.file)} ${p.message.slice(0, 40)}`);
    assert.ok(summary.some((s) => s.startsWith('error broken.json not valid JSON')), summary.join('\n'));
    assert.ok(problems.some((p) => p.file.endsWith('bad-profile.json') && /Observation\.code/.test(p.message)), 'names the element at fault');
    assert.ok(problems.some((p) => p.severity === 'warning' && /example\.missing@2\.0\.0/.test(p.message)));
    assert.ok(!problems.some((p) => /hl7\.fhir\.r4\.core/.test(p.message)), 'the R4 core is built in');
  });
  test('a missing folder loads nothing', () => assert.deepEqual(loadConformanceDir(path.join(dir, 'none')).resources, []));
});

describe("discriminators through resolve() and extension('url') (https://hl7.org/fhir/R4/profiling.html#discriminator)", () => {
  const registry = new ProfileRegistry();
  const KIND = 'http://example.org/StructureDefinition/kind';
  const ref = (type: string) => [{ code: 'Reference', targetProfile: [type.startsWith('http') ? type : `http://hl7.org/fhir/StructureDefinition/${type}`] }];
  before(() => {
    registry.add(profile('resolved-type', 'List', [
      ['List.entry', { slicing: { discriminator: [{ type: 'type', path: 'item.resolve()' }], rules: 'closed' } }],
      ['List.entry:patient', { sliceName: 'patient', min: 1, max: '1' }],
      ['List.entry:patient.item', { type: ref('Patient') }],
      ['List.entry:group', { sliceName: 'group', max: '1' }],
      ['List.entry:group.item', { type: ref('Group') }],
    ]));
    registry.add(profile('named-patient', 'Patient', [['Patient.name', { min: 1 }]]));
    registry.add(profile('resolved-profile', 'List', [
      ['List.entry', { slicing: { discriminator: [{ type: 'profile', path: 'item.resolve()' }], rules: 'open' } }],
      ['List.entry:named', { sliceName: 'named', min: 1 }],
      ['List.entry:named.item', { type: ref(`${P}named-patient`) }],
    ]));
    registry.add(profile('list-bundle', 'Bundle', [['Bundle.entry.resource', { type: [{ code: 'List', profile: [`${P}resolved-type`] }, { code: 'Patient' }, { code: 'Observation' }] }]]));
    registry.add(profile('by-extension', 'Observation', [
      ['Observation.component', { slicing: { discriminator: [{ type: 'value', path: `extension('${KIND}').value` }], rules: 'closed' } }],
      ['Observation.component:systolic', { sliceName: 'systolic', min: 1, max: '1' }],
      ['Observation.component:systolic.extension:kind', { sliceName: 'kind', type: [{ code: 'Extension', profile: [KIND] }] }],
      ['Observation.component:systolic.extension:kind.value[x]', { fixedCode: 'sys' }],
      ['Observation.component:diastolic', { sliceName: 'diastolic', max: '1' }],
      ['Observation.component:diastolic.extension:kind', { sliceName: 'kind', type: [{ code: 'Extension', profile: [KIND] }] }],
      ['Observation.component:diastolic.extension:kind.value[x]', { fixedCode: 'dia' }],
    ]));
  });
  const errors = (r: ProfileRegistry, resource: Record<string, unknown>, url: string): string[] =>
    r.validate(resource, [P + url]).filter((i) => i.severity === 'error').map((i) => `${i.severity} ${i.expression?.[0]}`);
  const list = (items: string[], contained?: unknown[]) => ({ resourceType: 'List', status: 'current', mode: 'working', ...(contained ? { contained } : {}), entry: items.map((reference) => ({ item: { reference } })) });

  test('type on resolve(): the referenced type picks the slice (literal URLs, contained resources)', () => {
    assert.deepEqual(errors(registry, list(['Patient/1', 'Group/2']), 'resolved-type'), []);
    assert.deepEqual(errors(registry, list(['#p'], [{ resourceType: 'Patient', id: 'p' }]), 'resolved-type'), []);
    assert.deepEqual(errors(registry, list(['Patient/1', 'Observation/3']), 'resolved-type'), ['error List.entry[1]'], 'closed: an Observation is in no slice');
    assert.deepEqual(errors(registry, list(['#o'], [{ resourceType: 'Observation', id: 'o', status: 'final', code: { text: 'x' } }]), 'resolved-type'), ['error List.entry', 'error List.entry[0]']);
  });

  test('type on resolve() inside a Bundle: urn:uuid references resolve to the entries', () => {
    const bundle = (target: Record<string, unknown>) => ({
      resourceType: 'Bundle', type: 'collection',
      entry: [{ fullUrl: 'urn:uuid:1', resource: target }, { fullUrl: 'urn:uuid:2', resource: list(['urn:uuid:1']) }],
    });
    assert.deepEqual(errors(registry, bundle({ resourceType: 'Patient' }), 'list-bundle'), []);
    assert.deepEqual(errors(registry, bundle({ resourceType: 'Observation', status: 'final', code: { text: 'x' } }), 'list-bundle'), ['error Bundle.entry[1].resource.entry', 'error Bundle.entry[1].resource.entry[0]']);
  });

  test('profile on resolve(): the referenced resource must conform to the target profile', () => {
    assert.deepEqual(errors(registry, list(['#p'], [{ resourceType: 'Patient', id: 'p', name: [{ family: 'Ng' }] }]), 'resolved-profile'), []);
    assert.deepEqual(errors(registry, list(['#p'], [{ resourceType: 'Patient', id: 'p' }]), 'resolved-profile'), ['error List.entry']);
    // A reference that cannot be resolved is judged by the type its URL names (it cannot be checked further).
    assert.deepEqual(errors(registry, list(['Patient/elsewhere']), 'resolved-profile'), []);
    assert.deepEqual(errors(registry, list(['Group/elsewhere']), 'resolved-profile'), ['error List.entry']);
  });

  test("value on extension('url').value: the extension's value picks the slice", () => {
    const component = (kind: string) => ({ code: { text: kind }, extension: [{ url: KIND, valueCode: kind }], valueQuantity: { value: 1 } });
    const obs = (...kinds: string[]) => ({ resourceType: 'Observation', status: 'final', code: { text: 'bp' }, component: kinds.map(component) });
    assert.deepEqual(errors(registry, obs('sys', 'dia'), 'by-extension'), []);
    assert.deepEqual(errors(registry, obs('dia', 'sys'), 'by-extension'), [], 'not ordered');
    assert.deepEqual(errors(registry, obs('dia'), 'by-extension'), ['error Observation.component']);
    assert.deepEqual(errors(registry, obs('sys', 'other'), 'by-extension'), ['error Observation.component[1]']);
    const otherUrl = { resourceType: 'Observation', status: 'final', code: { text: 'bp' }, component: [{ code: { text: 'x' }, extension: [{ url: `${KIND}-2`, valueCode: 'sys' }] }] };
    assert.deepEqual(errors(registry, otherUrl, 'by-extension'), ['error Observation.component', 'error Observation.component[0]'], 'the same value under another url is in no slice');
  });
});
