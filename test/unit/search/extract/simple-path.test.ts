import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { compileSimplePath } from '../../../../src/search/extract/simple-path';
import { typedValue } from '../../../../src/search/extract/typed-value';
import { compileNodes } from '../../../../src/search/registry/fhirpath';
import { SearchRegistry } from '../../../../src/search/registry';
import { splitTopLevelUnion } from '../../../../src/search/registry/specialise';

describe('simple-path walker (fhirpath.html#simple)', () => {
  it('resolves choice elements by their JSON suffix and type', () => {
    const walk = compileSimplePath('Observation.value.ofType(dateTime)');
    assert.ok(walk);
    assert.deepEqual(walk({ resourceType: 'Observation', valueDateTime: '2020-01-01' }, 'Observation'), [
      { type: 'dateTime', value: '2020-01-01', path: 'dateTime' },
    ]);
    assert.deepEqual(walk({ resourceType: 'Observation', valueString: '2020' }, 'Observation'), []);
  });

  it('filters by a literal and by reference target type', () => {
    const phone = compileSimplePath("Patient.telecom.where(system='phone')");
    assert.deepEqual(
      phone?.({ telecom: [{ system: 'email', value: 'a@b' }, { system: 'phone', value: '1' }] }, 'Patient').map((v) => v.value),
      [{ system: 'phone', value: '1' }],
    );
    const patient = compileSimplePath(
      "Observation.subject.where(reference.startsWith('Patient/') or reference.contains('/Patient/') or type = 'Patient')",
    );
    const subjects = (subject: object) => patient?.({ subject }, 'Observation').length;
    assert.equal(subjects({ reference: 'Patient/1' }), 1);
    assert.equal(subjects({ reference: 'http://x/fhir/Patient/1' }), 1);
    assert.equal(subjects({ identifier: { value: '1' }, type: 'Patient' }), 1);
    assert.equal(subjects({ reference: 'Group/1' }), 0);
  });

  it('declines what it cannot evaluate exactly', () => {
    assert.equal(compileSimplePath('Patient.deceased.exists() and Patient.deceased != false'), undefined);
    assert.equal(compileSimplePath('Bundle.entry[0].resource'), undefined);
    assert.equal(compileSimplePath('Observation.notAnElement'), undefined);
  });

  it('agrees with the fhirpath engine on every parameter over the Patient and Observation examples', () => {
    const registry = SearchRegistry.loadBase();
    const dir = path.dirname(require.resolve('hl7.fhir.r4.examples/package.json'));
    const files = fs.readdirSync(dir).filter((f) => /^(Patient|Observation)-.*\.json$/.test(f));
    let compared = 0;
    for (const file of files) {
      const resource = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')) as { resourceType: string };
      for (const def of registry.forType(resource.resourceType)) {
        for (const branch of splitTopLevelUnion(def.expression ?? '')) {
          const walk = compileSimplePath(branch);
          if (!walk) continue;
          const expected = compileNodes(branch)(resource).map(typedValue).map((tv) => tv?.value);
          assert.deepEqual(walk(resource, resource.resourceType).map((v) => v.value), expected, `${file}: ${branch}`);
          compared++;
        }
      }
    }
    assert.ok(compared > 2000, `only ${compared} compared`);
  });
});
