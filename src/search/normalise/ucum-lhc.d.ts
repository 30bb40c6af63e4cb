/** The part of @lhncbc/ucum-lhc (which ships no types) used for UCUM base-unit conversion (https://ucum.org/ucum). */
declare module '@lhncbc/ucum-lhc' {
  export interface BaseUnitsResult {
    status: 'succeeded' | 'invalid' | 'failed' | 'error';
    msg: string[];
    magnitude?: number;
    unitToExp?: Record<string, number>;
    fromUnitIsSpecial?: boolean;
  }
  export const UcumLhcUtils: {
    getInstance(): { convertToBaseUnits(unit: string, value: number): BaseUnitsResult };
  };
}
