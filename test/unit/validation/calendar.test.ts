import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { isExistingCalendarDay, isLeapYear } from '../../../src/validation/calendar';

describe('Dates SHALL be valid dates (https://hl7.org/fhir/R4/datatypes.html#date)', () => {
  test('leap years follow the Gregorian rule', () => {
    assert.equal(isLeapYear(2024), true);
    assert.equal(isLeapYear(2023), false);
    assert.equal(isLeapYear(1900), false);
    assert.equal(isLeapYear(2000), true);
    assert.equal(isLeapYear(2100), false);
    assert.equal(isLeapYear(1600), true);
  });

  test('days that exist are accepted, in date, dateTime and instant shapes', () => {
    for (const value of ['1974-12-25', '2024-02-29', '2000-02-29', '1974-01-31', '1974-04-30', '1974-12-31', '2024-02-29T23:59:60Z', '2023-03-31T10:00:00.123+14:00']) {
      assert.equal(isExistingCalendarDay(value), true, value);
    }
  });

  test('days their month does not have are rejected', () => {
    for (const value of ['1974-02-30', '2023-02-29', '1900-02-29', '2100-02-29', '1974-04-31', '1974-06-31', '1974-09-31', '1974-11-31', '2024-02-30T10:00:00Z', '2023-02-29T00:00:00.000Z']) {
      assert.equal(isExistingCalendarDay(value), false, value);
    }
  });

  test('a year or a year and month alone is a whole period and exists', () => {
    assert.equal(isExistingCalendarDay('2023'), true);
    assert.equal(isExistingCalendarDay('2023-02'), true);
  });
});
