import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FhirError } from '../../../../src/core/errors';
import { SearchRegistry } from '../../../../src/search/registry';
import { parseResultParameters, splitQuery } from '../../../../src/search/results/parameters';
import { ParameterProblems } from '../../../../src/search/results/problems';

const registry = SearchRegistry.loadBase();

function parse(query: Array<[string, string]>, options: { handling?: 'strict' | 'lenient'; types?: string[] } = {}) {
  const problems = new ParameterProblems(options.handling ?? 'lenient');
  const { result, presentation } = splitQuery(query);
  const params = parseResultParameters(result, presentation, { registry, types: options.types ?? ['Patient'], defaultCount: 20, maxCount: 100, problems });
  return { params, warnings: problems.warnings };
}

const isIncorrect = (err: unknown): boolean => err instanceof FhirError && err.category === 'incorrect';

test('criteria, result and presentation parameters are told apart', () => {
  const split = splitQuery([
    ['name', 'x'],
    ['_count', '5'],
    ['_include:iterate', 'Patient:link'],
    ['_type', 'Patient'],
    ['_format', 'json'],
    ['birthdate', 'gt2000'],
  ]);
  assert.deepEqual(split.criteria, [
    ['name', 'x'],
    ['_type', 'Patient'],
    ['birthdate', 'gt2000'],
  ]);
  assert.deepEqual(split.result, [
    ['_count', '5'],
    ['_include:iterate', 'Patient:link'],
  ]);
  assert.deepEqual(split.presentation, [['_format', 'json']]);
});

test('_sort takes several keys, - for descending', () => {
  const { params } = parse([['_sort', 'family,-birthdate,_lastUpdated']]);
  assert.deepEqual(
    params.sort.map((k) => [k.code, k.field, k.direction]),
    [
      ['family', 'idx.so.family', 1],
      ['birthdate', 'idx.so.birthdate', -1],
      ['_lastUpdated', 'lastUpdated', 1],
    ],
  );
  assert.deepEqual(params.echo, [['_sort', 'family,-birthdate,_lastUpdated']]);
});

test('an unknown _sort parameter is dropped with a warning (lenient) or rejected (strict)', () => {
  const { params, warnings } = parse([['_sort', 'nonsense,family']]);
  assert.deepEqual(params.sort.map((k) => k.code), ['family']);
  assert.equal(warnings.length, 1);
  assert.deepEqual(warnings[0].expression, ['_sort']);
  assert.throws(() => parse([['_sort', 'nonsense']], { handling: 'strict' }), isIncorrect);
});

test('_count defaults, is capped at the maximum, and must be a whole number', () => {
  assert.equal(parse([]).params.count, 20);
  assert.equal(parse([['_count', '500']]).params.count, 100);
  assert.deepEqual(parse([['_count', '500']]).params.echo, [['_count', '100']]);
  assert.throws(() => parse([['_count', '-1']]), isIncorrect);
  assert.throws(() => parse([['_count', 'ten']]), isIncorrect);
});

test('_summary=count asks for the total only', () => {
  const { params } = parse([['_summary', 'count']]);
  assert.equal(params.count, 0);
  assert.equal(params.summary, 'count');
  assert.throws(() => parse([['_summary', 'yes']]), isIncorrect);
});

test('_total accepts none, estimate and accurate', () => {
  assert.equal(parse([['_total', 'accurate']]).params.total, 'accurate');
  assert.throws(() => parse([['_total', 'all']]), isIncorrect);
});

test('_elements lists top-level names; it is ignored with a warning next to _summary', () => {
  assert.deepEqual(parse([['_elements', 'name, birthDate,name']]).params.elements, ['name', 'birthDate']);
  assert.throws(() => parse([['_elements', 'name.family']]), isIncorrect);
  const both = parse([
    ['_elements', 'name'],
    ['_summary', 'true'],
  ]);
  assert.equal(both.params.elements, undefined);
  assert.equal(both.warnings.length, 1);
});

test('_include and _revinclude forms: Source:param, Source:param:Target, Source:*, *, :iterate', () => {
  const { params, warnings } = parse([
    ['_include', 'Observation:subject:Patient'],
    ['_include:iterate', 'Patient:general-practitioner'],
    ['_revinclude', 'Provenance:target'],
    ['_include', 'Observation:*'],
    ['_include', '*'],
    ['_include:recurse', 'Patient:link'],
  ]);
  assert.deepEqual(warnings, []);
  assert.deepEqual(params.includes, [
    { reverse: false, iterate: false, source: 'Observation', param: 'subject', target: 'Patient' },
    { reverse: false, iterate: true, source: 'Patient', param: 'general-practitioner' },
    { reverse: true, iterate: false, source: 'Provenance', param: 'target' },
    { reverse: false, iterate: false, source: 'Observation', param: '*' },
    { reverse: false, iterate: false, source: '*', param: '*' },
    { reverse: false, iterate: true, source: 'Patient', param: 'link' },
  ]);
  assert.deepEqual(params.echo.slice(0, 3), [
    ['_include', 'Observation:subject:Patient'],
    ['_include:iterate', 'Patient:general-practitioner'],
    ['_revinclude', 'Provenance:target'],
  ]);
});

test('an include on a non-reference or unknown parameter, or an impossible target, is reported', () => {
  for (const value of ['Observation:code', 'Observation:nothing', 'Nope:subject', 'Observation:subject:Nope', 'Observation:performer:Medication']) {
    const { params, warnings } = parse([['_include', value]]);
    assert.equal(params.includes.length, 0, value);
    assert.equal(warnings.length, 1, value);
    assert.throws(() => parse([['_include', value]], { handling: 'strict' }), isIncorrect, value);
  }
  assert.throws(() => parse([['_include', 'Observation']]), isIncorrect);
  assert.throws(() => parse([['_include', 'a:b:c:d']]), isIncorrect);
});

test('unsupported result parameters and modifiers are reported', () => {
  assert.equal(parse([['_contained', 'true']]).warnings.length, 1);
  assert.equal(parse([['_include:reverse', 'Observation:subject']]).warnings.length, 1);
  assert.throws(() => parse([['_sort:asc', 'family']], { handling: 'strict' }), isIncorrect);
});
