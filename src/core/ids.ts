import { randomUUID } from 'node:crypto';

/** Injected id source for server-assigned logical ids (https://hl7.org/fhir/R4/resource.html#id). */
export interface IdGenerator {
  next(): string;
}

export const uuidIds: IdGenerator = { next: () => randomUUID() };

/** FHIR id: 1-64 characters of [A-Za-z0-9-.] (https://hl7.org/fhir/R4/datatypes.html#id). */
export const ID_PATTERN = /^[A-Za-z0-9\-.]{1,64}$/;
export const isValidId = (id: string): boolean => ID_PATTERN.test(id);
