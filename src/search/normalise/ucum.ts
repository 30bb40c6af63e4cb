/**
 * UCUM canonical units for quantity search (https://hl7.org/fhir/R4/search.html#quantity): quantities in
 * different but commensurable UCUM units (5 mg, 0.005 g) compare equal once both are converted to base units.
 */
import { UcumLhcUtils } from '@lhncbc/ucum-lhc';
import { clean } from './number';

export const UCUM_SYSTEM = 'http://unitsofmeasure.org';

export interface CanonicalQuantity {
  value: number;
  /** Base-unit code: base units sorted by name with their exponents, '.'-joined (`g.m-2`); '1' when dimensionless. */
  code: string;
}

interface UnitConversion {
  code: string;
  /** Multiplicative factor to base units; undefined for special (non-linear) units such as Cel, which convert per value. */
  factor?: number;
}

const utils = UcumLhcUtils.getInstance();
const conversions = new Map<string, UnitConversion | null>();

function baseCode(unitToExp: Record<string, number>): string {
  const parts = Object.keys(unitToExp)
    .sort()
    .map((unit) => (unitToExp[unit] === 1 ? unit : `${unit}${unitToExp[unit]}`));
  return parts.length ? parts.join('.') : '1';
}

function conversionOf(unit: string): UnitConversion | null {
  let conversion = conversions.get(unit);
  if (conversion !== undefined) return conversion;
  const result = utils.convertToBaseUnits(unit, 1);
  conversion =
    result.status === 'succeeded' && result.unitToExp && result.magnitude !== undefined
      ? { code: baseCode(result.unitToExp), factor: result.fromUnitIsSpecial ? undefined : result.magnitude }
      : null;
  conversions.set(unit, conversion);
  return conversion;
}

/** `value unit` in UCUM base units (5 mg -> 0.005 g), or undefined when `unit` is not a valid UCUM code. */
export function toCanonicalUcum(value: number, unit: string): CanonicalQuantity | undefined {
  const conversion = conversionOf(unit);
  if (!conversion) return undefined;
  if (conversion.factor !== undefined) return { value: clean(value * conversion.factor), code: conversion.code };
  const result = utils.convertToBaseUnits(unit, value);
  if (result.status !== 'succeeded' || result.magnitude === undefined) return undefined;
  return { value: clean(result.magnitude), code: conversion.code };
}
