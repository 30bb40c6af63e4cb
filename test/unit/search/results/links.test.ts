import { test } from 'node:test';
import assert from 'node:assert/strict';
import { queryString, searchUrl, targetPath } from '../../../../src/search/results/links';

test('search paths for type, compartment and system search', () => {
  assert.equal(targetPath({ resourceType: 'Patient' }), 'Patient');
  assert.equal(targetPath({ resourceType: 'Observation', compartment: { type: 'Patient', id: '123' } }), 'Patient/123/Observation');
  assert.equal(targetPath({ compartment: { type: 'Patient', id: '123' } }), 'Patient/123/*');
  assert.equal(targetPath({}), '');
});

test('links percent-encode names and values but keep : and , readable', () => {
  assert.equal(
    queryString([
      ['identifier', 'http://x.org|a b&c'],
      ['_include:iterate', 'Patient:link'],
      ['_sort', 'family,-birthdate'],
    ]),
    'identifier=http:%2F%2Fx.org%7Ca%20b%26c&_include:iterate=Patient:link&_sort=family,-birthdate',
  );
});

test('system search links sit on the base URL itself', () => {
  assert.equal(searchUrl('http://h/fhir', {}, [['_type', 'Patient']]), 'http://h/fhir?_type=Patient');
  assert.equal(searchUrl('http://h/fhir', { resourceType: 'Patient' }, []), 'http://h/fhir/Patient');
});
