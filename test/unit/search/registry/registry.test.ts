import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { SearchParameter } from 'fhir/r4';
import { FhirError } from '../../../../src/core/errors';
import { SearchRegistry } from '../../../../src/search/registry';
import { compileNodes } from '../../../../src/search/registry/fhirpath';
import { nicknameSearchParameter } from '../../../fixtures/search-parameters';

describe('SearchRegistry (https://hl7.org/fhir/R4/searchparameter-registry.html)', () => {
  let registry: SearchRegistry;
  before(() => {
    registry = SearchRegistry.loadBase();
  });

  it('knows every R4 resource type', () => {
    const types = registry.resourceTypes();
    assert.equal(types.length, 146);
    assert.ok(types.includes('Patient') && types.includes('Bundle') && types.includes('Parameters'));
    assert.ok(!types.includes('DomainResource') && !types.includes('Resource'));
  });

  it('gives a shared parameter the expression of the asked type only', () => {
    const code = registry.get('Condition', 'code');
    assert.equal(code?.url, 'http://hl7.org/fhir/SearchParameter/clinical-code');
    assert.equal(code?.type, 'token');
    assert.equal(code?.expression, 'Condition.code');
    assert.equal(code?.description, 'Code for the condition');
    assert.ok(code?.base.includes('Observation'));
  });

  it('rewrites resolve() so the patient parameter never resolves', () => {
    const patient = registry.get('Observation', 'patient');
    assert.equal(
      patient?.expression,
      "Observation.subject.where(reference.startsWith('Patient/') or reference.contains('/Patient/') or type = 'Patient')",
    );
    assert.deepEqual(patient?.target, ['Patient', 'Group']);
  });

  it('includes the Resource-level parameters for every type', () => {
    const codes = registry.forType('Observation').map((d) => d.code);
    for (const code of ['_id', '_lastUpdated', '_tag', '_profile', '_security', '_source', '_text', '_content']) assert.ok(codes.includes(code), code);
    const bundleCodes = registry.forType('Bundle').map((d) => d.code);
    assert.ok(bundleCodes.includes('_tag'));
    assert.ok(!bundleCodes.includes('_text'), 'Bundle is not a DomainResource');
    assert.equal(registry.get('Patient', '_tag')?.expression, 'Resource.meta.tag');
  });

  it('registers _profile as a reference parameter so canonical versions can be searched', () => {
    assert.equal(registry.get('Patient', '_profile')?.type, 'reference');
  });

  it('resolves composite components to their parameter code and type', () => {
    const composite = registry.get('Observation', 'code-value-quantity');
    assert.equal(composite?.type, 'composite');
    assert.deepEqual(
      composite?.component?.map((c) => [c.code, c.type, c.expression]),
      [
        ['code', 'token', 'code'],
        ['value-quantity', 'quantity', 'value.ofType(Quantity)'],
      ],
    );
  });

  it('has a compilable specialised expression for every base parameter on every base type', () => {
    let checked = 0;
    for (const type of registry.resourceTypes()) {
      for (const def of registry.forType(type)) {
        if (!def.expression) continue;
        assert.doesNotThrow(() => compileNodes(def.expression as string), `${type}.${def.code}: ${def.expression}`);
        assert.ok(!def.expression.includes('resolve('), `${type}.${def.code} still resolves`);
        checked++;
      }
    }
    assert.ok(checked > 1900, `only ${checked} checked`);
  });

  it('adds a custom SearchParameter and bumps its revision', () => {
    const local = SearchRegistry.loadBase();
    const revision = local.revision;
    const def = local.add(nicknameSearchParameter);
    assert.equal(def.code, 'nickname');
    assert.equal(local.get('Patient', 'nickname')?.expression, "Patient.name.where(use = 'nickname').given");
    assert.equal(local.revision, revision + 1);
    assert.equal(registry.get('Patient', 'nickname'), undefined);
  });

  it('rejects a SearchParameter whose expression does not compile', () => {
    const bad: SearchParameter = {
      resourceType: 'SearchParameter',
      url: 'http://example.org/SearchParameter/bad',
      name: 'bad',
      status: 'active',
      description: 'bad',
      code: 'bad',
      base: ['Patient'],
      type: 'token',
      expression: 'Patient.name.where(',
    };
    assert.throws(
      () => SearchRegistry.loadBase().add(bad),
      (err: unknown) => err instanceof FhirError && err.category === 'unprocessable',
    );
  });

  it('rejects unknown bases, types and resolve() it cannot index', () => {
    const local = SearchRegistry.loadBase();
    const base = { resourceType: 'SearchParameter', url: 'http://e/x', name: 'x', status: 'active', description: 'x', code: 'x' } as const;
    const cases: SearchParameter[] = [
      { ...base, base: ['NotAType'], type: 'token', expression: 'NotAType.x' },
      { ...base, base: ['Patient'], type: 'fuzzy' as SearchParameter['type'], expression: 'Patient.id' },
      { ...base, base: ['Patient'], type: 'reference', expression: 'Patient.generalPractitioner.resolve().name' },
      { ...base, base: ['Observation'], type: 'composite', expression: 'Observation', component: [{ definition: 'http://e/unknown', expression: 'code' }] },
    ];
    for (const sp of cases) {
      assert.throws(() => local.add(sp), (err: unknown) => err instanceof FhirError && err.category === 'unprocessable', JSON.stringify(sp));
    }
  });
});
