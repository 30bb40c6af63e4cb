import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  dateRange,
  foldString,
  MAX_INSTANT,
  MIN_INSTANT,
  numberRange,
  numberRangeOf,
  referenceKey,
  toCanonicalUcum,
} from '../../../../src/search/normalise';

describe('string folding (search.html#string)', () => {
  it('is case- and accent-insensitive', () => {
    assert.equal(foldString('Müller'), 'muller');
    assert.equal(foldString('ÉLODIE  Smith'), 'elodie smith');
  });
  it('collapses and trims whitespace', () => {
    assert.equal(foldString('  Jean\t\nPaul  '), 'jean paul');
  });
  it('folds ASCII text (which skips decomposition) as the full NFD path does', () => {
    const full = (v: string) => v.normalize('NFD').replace(/\p{M}+/gu, '').toLowerCase().replace(/\s+/g, ' ').trim();
    const ascii = Array.from({ length: 128 }, (_, i) => String.fromCharCode(i)).join('');
    for (const v of [ascii, ` ${ascii.slice(32)} `, 'O\'BRIEN-Smith \u000b x', 'e\u0301', 'Ｍüller', '\u00a0Jean\u2003Paul']) assert.equal(foldString(v), full(v), JSON.stringify(v));
  });
});

describe('date precision ranges (search.html#date)', () => {
  it('an instant already in UTC with milliseconds (taken as it is) gets the range the full parse gives', () => {
    const texts = ['2015-01-23T10:00:00.000Z', '2024-02-29T23:59:59.999Z', '2023-02-29T00:00:00.000Z', '2023-04-31T00:00:00.000Z', '2023-13-01T00:00:00.000Z',
      '2023-00-10T00:00:00.000Z', '2023-01-00T00:00:00.000Z', '2023-01-01T24:00:00.000Z', '2023-01-01T23:60:00.000Z', '2023-01-01T23:59:60.000Z',
      '0000-01-01T00:00:00.000Z', '0001-01-01T00:00:00.000Z', '0099-12-31T12:00:00.500Z', '9999-12-31T23:59:59.999Z', '1900-02-29T00:00:00.000Z', '2000-02-29T00:00:00.000Z'];
    for (let i = 0; i < 200; i++) texts.push(new Date(Math.floor(Math.random() * 253402300799999)).toISOString());
    // A leading space makes dateRange trim and parse: the full path, to compare with.
    for (const text of texts) assert.deepEqual(dateRange(text), dateRange(` ${text}`), text);
  });
  it('a year covers the whole year', () => {
    assert.deepEqual(dateRange('1970'), { lo: '1970-01-01T00:00:00.000Z', hi: '1970-12-31T23:59:59.999Z' });
  });
  it('a month covers the month, leap years included', () => {
    assert.deepEqual(dateRange('1970-03'), { lo: '1970-03-01T00:00:00.000Z', hi: '1970-03-31T23:59:59.999Z' });
    assert.deepEqual(dateRange('2000-02'), { lo: '2000-02-01T00:00:00.000Z', hi: '2000-02-29T23:59:59.999Z' });
  });
  it('a day covers the UTC day', () => {
    assert.deepEqual(dateRange('1970-03-04'), { lo: '1970-03-04T00:00:00.000Z', hi: '1970-03-04T23:59:59.999Z' });
  });
  it('a dateTime with offset covers its second, in UTC', () => {
    assert.deepEqual(dateRange('1970-03-04T10:00:00+01:00'), { lo: '1970-03-04T09:00:00.000Z', hi: '1970-03-04T09:00:00.999Z' });
  });
  it('an instant with milliseconds is exact', () => {
    assert.deepEqual(dateRange('2015-02-07T13:28:17.239+02:00'), { lo: '2015-02-07T11:28:17.239Z', hi: '2015-02-07T11:28:17.239Z' });
  });
  it('a time without timezone is read as UTC; minutes cover the minute', () => {
    assert.deepEqual(dateRange('1970-03-04T10:00'), { lo: '1970-03-04T10:00:00.000Z', hi: '1970-03-04T10:00:59.999Z' });
  });
  it('one fractional digit covers a tenth of a second', () => {
    assert.deepEqual(dateRange('2020-01-01T00:00:00.5Z'), { lo: '2020-01-01T00:00:00.500Z', hi: '2020-01-01T00:00:00.599Z' });
  });
  it('rejects impossible dates', () => {
    assert.equal(dateRange('1970-13'), undefined);
    assert.equal(dateRange('1970-02-30'), undefined);
    assert.equal(dateRange('1970-01-01T25:00:00Z'), undefined);
    assert.equal(dateRange('yesterday'), undefined);
  });
  it('open ends use fixed sentinels', () => {
    assert.equal(MIN_INSTANT, '0001-01-01T00:00:00.000Z');
    assert.equal(MAX_INSTANT, '9999-12-31T23:59:59.999Z');
  });
});

describe('number precision ranges (search.html#number)', () => {
  it('an integer covers ±0.5', () => {
    assert.deepEqual(numberRange('100'), { v: 100, lo: 99.5, hi: 100.5 });
  });
  it('trailing zeros in query text narrow the range', () => {
    assert.deepEqual(numberRange('100.00'), { v: 100, lo: 99.995, hi: 100.005 });
  });
  it('exponent forms count significant digits of the mantissa', () => {
    assert.deepEqual(numberRange('1e2'), { v: 100, lo: 50, hi: 150 });
    assert.deepEqual(numberRange('1.5e-3'), { v: 0.0015, lo: 0.00145, hi: 0.00155 });
  });
  it('numbers from JSON take the precision of their shortest form', () => {
    assert.deepEqual(numberRangeOf(0.1), { v: 0.1, lo: 0.05, hi: 0.15 });
    assert.deepEqual(numberRangeOf(1.5), { v: 1.5, lo: 1.45, hi: 1.55 });
  });
  it('rejects non-numbers', () => {
    assert.equal(numberRange('abc'), undefined);
    assert.equal(numberRange('1,5'), undefined);
  });
});

describe('UCUM canonical units (search.html#quantity)', () => {
  it('5 mg and 0.005 g have the same canonical form', () => {
    assert.deepEqual(toCanonicalUcum(5, 'mg'), { value: 0.005, code: 'g' });
    assert.deepEqual(toCanonicalUcum(0.005, 'g'), { value: 0.005, code: 'g' });
  });
  it('converts special units per value (Celsius to Kelvin)', () => {
    assert.deepEqual(toCanonicalUcum(37, 'Cel'), { value: 310.15, code: 'K' });
  });
  it('sorts base units in the canonical code', () => {
    assert.deepEqual(toCanonicalUcum(2, 'kg/m2'), { value: 2000, code: 'g.m-2' });
  });
  it('gives nothing for codes that are not UCUM', () => {
    assert.equal(toCanonicalUcum(1, 'not a unit'), undefined);
  });
});

describe('reference keys (search.html#reference)', () => {
  const base = 'http://localhost:8080/fhir';
  it('relative references become Type/id, history dropped', () => {
    assert.deepEqual(referenceKey('Patient/123', base), { r: 'Patient/123', ty: 'Patient' });
    assert.deepEqual(referenceKey('Patient/123/_history/4', base), { r: 'Patient/123', ty: 'Patient' });
  });
  it('absolute references under our base are local', () => {
    assert.deepEqual(referenceKey('http://localhost:8080/fhir/Patient/123', base), { r: 'Patient/123', ty: 'Patient' });
  });
  it('other absolute references keep their URL and RESTful type', () => {
    assert.deepEqual(referenceKey('http://other.org/fhir/Patient/9', base), { u: 'http://other.org/fhir/Patient/9', ty: 'Patient' });
    assert.deepEqual(referenceKey('urn:uuid:6f1b7a2e-0000-4000-8000-000000000001', base), { u: 'urn:uuid:6f1b7a2e-0000-4000-8000-000000000001' });
  });
  it('canonical versions are split off', () => {
    assert.deepEqual(referenceKey('http://example.org/fhir/Questionnaire/q1|2.0', base), {
      u: 'http://example.org/fhir/Questionnaire/q1',
      uv: '2.0',
      ty: 'Questionnaire',
    });
  });
  it('contained references are not indexed', () => {
    assert.equal(referenceKey('#med1', base), undefined);
  });
});

describe('date ranges at the edges of the calendar', () => {
  it('a day in February of a non-leap year is valid and ends that day', () => {
    assert.deepEqual(dateRange('2015-02-28'), { lo: '2015-02-28T00:00:00.000Z', hi: '2015-02-28T23:59:59.999Z' });
    assert.equal(dateRange('2015-02-29'), undefined);
  });
  it('years before 100 are not shifted into the 1900s', () => {
    assert.deepEqual(dateRange('0050'), { lo: '0050-01-01T00:00:00.000Z', hi: '0050-12-31T23:59:59.999Z' });
  });
});
