/**
 * The official R4 example resources shipped in hl7.fhir.r4.examples@4.0.1: every `<Type>-<id>.json` file holding
 * a resource of a known R4 type, including the big definition Bundles (they are Bundle examples too).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const EXAMPLES_DIR = resolve(__dirname, '..', '..', 'node_modules', 'hl7.fhir.r4.examples');

export interface ExampleFile {
  /** File name inside the package, e.g. 'Patient-example.json'; the key of knownInvalidExamples. */
  file: string;
  resourceType: string;
  /** The file's exact text, for callers that send it over HTTP or time JSON.parse. */
  text: string;
  resource: Record<string, unknown>;
}

const EXAMPLE_FILE = /^[A-Z][A-Za-z]+-.+\.json$/;

/** Example files in name order; `isResourceType` keeps only resources of R4 types. */
export function listExampleFiles(isResourceType: (type: string) => boolean, dir: string = EXAMPLES_DIR): ExampleFile[] {
  const examples: ExampleFile[] = [];
  for (const file of readdirSync(dir).filter((f) => EXAMPLE_FILE.test(f)).sort()) {
    const text = readFileSync(join(dir, file), 'utf8');
    const resource = JSON.parse(text) as Record<string, unknown>;
    if (typeof resource.resourceType === 'string' && isResourceType(resource.resourceType)) {
      examples.push({ file, resourceType: resource.resourceType, text, resource });
    }
  }
  return examples;
}
