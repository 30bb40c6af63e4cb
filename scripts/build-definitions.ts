/**
 * Build step: compiles what the server needs from HL7's R4 definition package (hl7.fhir.r4.examples@4.0.1)
 * into compact artifacts under generated/, so the server never loads the ~190 MB package at run time.
 * Each part is rebuilt only when its inputs or its builder changed.
 */
import { buildValidationDefinitions } from './definitions/validation';
import { buildInvariantDefinitions } from './definitions/invariants';
import { buildSearchDefinitions } from './definitions/search';
import { buildSummaryDefinitions } from './definitions/summary';
import { buildReferenceDefinitions } from './definitions/references';
import { buildBaseElements } from './definitions/base-elements';

async function main(): Promise<void> {
  const started = Date.now();
  await buildValidationDefinitions();
  await buildInvariantDefinitions();
  await buildSearchDefinitions();
  await buildSummaryDefinitions();
  await buildReferenceDefinitions();
  await buildBaseElements();
  process.stdout.write(`definitions ready in ${Date.now() - started} ms\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`build-definitions failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
