/**
 * Write-time search extraction cost (src/search/extract) over the HL7 R4 examples: median µs per resource for
 * Patient, Observation, Encounter, Condition, MedicationRequest and all examples, median of several runs.
 * Baseline in the same run: the shared `clinical-code` union evaluated whole vs its specialised Observation branch.
 * Run: npx tsx bench/extract.ts
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Resource } from 'fhir/r4';
import { IndexExtractor } from '../src/search/extract';
import { SearchRegistry } from '../src/search/registry';
import { compileNodes } from '../src/search/registry/fhirpath';

const RUNS = 5;
const REPEAT = 20;
const GROUPS = ['Patient', 'Observation', 'Encounter', 'Condition', 'MedicationRequest'];
/** The package's definition bundles (StructureDefinitions, SearchParameters, ValueSets...) are not examples. */
const MAX_EXAMPLE_BYTES = 1_000_000;

function loadExamples(): Resource[] {
  const dir = path.dirname(require.resolve('hl7.fhir.r4.examples/package.json'));
  const out: Resource[] = [];
  for (const name of fs.readdirSync(dir)) {
    if (!name.endsWith('.json') || name === 'package.json' || name.startsWith('.')) continue;
    const file = path.join(dir, name);
    if (fs.statSync(file).size > MAX_EXAMPLE_BYTES) continue;
    const json = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<Resource>;
    if (typeof json.resourceType === 'string') out.push(json as Resource);
  }
  return out;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** Median over resources of the per-resource mean time (µs) of `REPEAT` calls. */
function perResourceMedian(resources: Resource[], work: (r: Resource) => unknown): number {
  const times: number[] = [];
  for (const r of resources) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < REPEAT; i++) work(r);
    times.push(Number(process.hrtime.bigint() - start) / 1000 / REPEAT);
  }
  return median(times);
}

function main(): void {
  const examples = loadExamples();
  const registry = SearchRegistry.loadBase();
  const extractor = new IndexExtractor(registry, { baseUrl: 'http://localhost:8080/fhir' });

  let failures = 0;
  for (const r of examples) {
    try {
      extractor.extract(r);
    } catch (err) {
      failures++;
      if (failures <= 5) process.stdout.write(`  extraction failed for ${r.resourceType}/${r.id}: ${(err as Error).message}\n`);
    }
  }
  const extractable = examples.filter((r) => {
    try {
      extractor.extract(r);
      return true;
    } catch {
      return false;
    }
  });

  const groups: Array<[string, Resource[]]> = [
    ...GROUPS.map((type): [string, Resource[]] => [type, extractable.filter((r) => r.resourceType === type)]),
    ['all examples', extractable],
  ];
  process.stdout.write(`examples: ${examples.length} resources, ${failures} extraction failures; ${RUNS} runs x ${REPEAT} repeats\n`);
  for (const [label, resources] of groups) {
    const runs = Array.from({ length: RUNS }, () => perResourceMedian(resources, (r) => extractor.extract(r)));
    const entries = median(
      resources.map((r) => {
        const { idx } = extractor.extract(r);
        return (idx.str?.length ?? 0) + (idx.tok?.length ?? 0) + (idx.ref?.length ?? 0) + (idx.date?.length ?? 0) +
          (idx.num?.length ?? 0) + (idx.qty?.length ?? 0) + (idx.uri?.length ?? 0) + (idx.comp?.length ?? 0);
      }),
    );
    process.stdout.write(
      `${label.padEnd(18)} n=${String(resources.length).padStart(4)}  median ${median(runs).toFixed(1).padStart(7)} µs/resource  (runs: ${runs.map((x) => x.toFixed(1)).join(', ')}; median entries ${entries})\n`,
    );
  }

  const observations = extractable.filter((r) => r.resourceType === 'Observation');
  const clinicalCode = registry.getByUrl('http://hl7.org/fhir/SearchParameter/clinical-code', 'Observation');
  const bundle = JSON.parse(
    fs.readFileSync(require.resolve('hl7.fhir.r4.examples/Bundle-searchParams.json'), 'utf8'),
  ) as { entry: Array<{ resource: { url: string; expression?: string } }> };
  const whole = bundle.entry.find((e) => e.resource.url === clinicalCode?.url)?.resource.expression ?? '';
  const wholeEval = compileNodes(whole);
  const branchEval = compileNodes(clinicalCode?.expression ?? '');
  const wholeRuns = Array.from({ length: RUNS }, () => perResourceMedian(observations, (r) => wholeEval(r)));
  const branchRuns = Array.from({ length: RUNS }, () => perResourceMedian(observations, (r) => branchEval(r)));
  process.stdout.write(
    `clinical-code on Observation: whole union ${median(wholeRuns).toFixed(1)} µs, specialised '${clinicalCode?.expression}' ${median(branchRuns).toFixed(1)} µs (x${(median(wholeRuns) / median(branchRuns)).toFixed(1)})\n`,
  );
}

main();
