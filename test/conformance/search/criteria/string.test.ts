import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { harness, type Harness } from './harness';

// https://hl7.org/fhir/R4/search.html#string
let h: Harness;
before(async () => {
  h = await harness([
    { resourceType: 'Patient', id: 'muller', name: [{ family: 'Müller', given: ['Hans'] }] },
    { resourceType: 'Patient', id: 'mull', name: [{ family: 'Mull', given: ['Eve Marie'] }] },
    { resourceType: 'Patient', id: 'smith', name: [{ family: 'Smith', given: ['Hansel'] }], address: [{ city: 'Den Haag' }] },
    { resourceType: 'Patient', id: 'dot', name: [{ family: '.*x' }] },
  ]);
});
after(() => h.close());

test('default string search is a case- and accent-insensitive starts-with', async () => {
  assert.deepEqual(await h.ids('Patient', 'family=mul'), ['mull', 'muller']);
  assert.deepEqual(await h.ids('Patient', 'family=MÜLLER'), ['muller']);
  assert.deepEqual(await h.ids('Patient', 'family=ller'), []);
});

test('name searches every part of HumanName; whitespace is collapsed', async () => {
  assert.deepEqual(await h.ids('Patient', 'name=hans'), ['muller', 'smith']);
  assert.deepEqual(await h.ids('Patient', 'given=eve%20%20marie'), ['mull']);
});

test(':exact matches the whole original string, case and accents included', async () => {
  assert.deepEqual(await h.ids('Patient', 'family:exact=Müller'), ['muller']);
  assert.deepEqual(await h.ids('Patient', 'family:exact=müller'), []);
  assert.deepEqual(await h.ids('Patient', 'family:exact=Mull'), ['mull']);
});

test(':contains matches anywhere in the folded value', async () => {
  assert.deepEqual(await h.ids('Patient', 'family:contains=LLE'), ['muller']);
  assert.deepEqual(await h.ids('Patient', 'address-city:contains=n%20h'), ['smith']);
});

test('comma is OR, repetition is AND', async () => {
  assert.deepEqual(await h.ids('Patient', 'family=smith,mull'), ['mull', 'muller', 'smith']);
  assert.deepEqual(await h.ids('Patient', 'name=hans&name=smith'), ['smith']);
});

test('regular expression syntax in values is matched literally', async () => {
  assert.deepEqual(await h.ids('Patient', 'family=.*'), ['dot']);
  assert.deepEqual(await h.ids('Patient', 'family:contains=.*'), ['dot']);
  assert.deepEqual(await h.ids('Patient', 'family:contains=^m'), []);
  assert.deepEqual(await h.ids('Patient', 'family:contains=m.l'), []);
});
