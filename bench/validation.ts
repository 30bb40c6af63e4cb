/**
 * Validation cost against parsing cost: for every official R4 example, the median time of validate() over the
 * median time of JSON.parse of the same text (goal: median ratio <= 2), plus start-up and compile costs.
 * Run: npx tsx bench/validation.ts [--quick]
 */
import { ProfileRegistry } from '../src/validation/profiles';
import { loadBaseValidator } from '../src/validation/validator';
import { listExampleFiles, type ExampleFile } from '../test/fixtures/examples/corpus';
import { median, percentile } from './support/stats';

const QUICK = process.argv.includes('--quick');
const RUNS = QUICK ? 3 : 5;
/** Each timed run repeats the operation until at least this long has passed, to get above timer resolution. */
const MIN_RUN_MS = QUICK ? 0.5 : 2;

const percentileOf = (values: number[], p: number): number => percentile([...values].sort((a, b) => a - b), p * 100);

/** Median over RUNS of the mean time per call (µs). */
function timePerCall(fn: () => unknown): number {
  let iterations = 1;
  for (;;) {
    const started = performance.now();
    for (let i = 0; i < iterations; i++) fn();
    if (performance.now() - started >= MIN_RUN_MS) break;
    iterations *= 2;
  }
  const runs: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    const started = performance.now();
    for (let i = 0; i < iterations; i++) fn();
    runs.push(((performance.now() - started) * 1000) / iterations);
  }
  return median(runs);
}

function main(): void {
  const loadStarted = performance.now();
  const validator = loadBaseValidator();
  const loadMs = performance.now() - loadStarted;

  const firstStarted = performance.now();
  validator.validate({ resourceType: 'Patient', id: 'warm-up' });
  const firstPatientMs = performance.now() - firstStarted;

  const examples = listExampleFiles((t) => validator.isResourceType(t));
  const compileStarted = performance.now();
  for (const type of validator.resourceTypes) validator.validate({ resourceType: type });
  const compileAllMs = performance.now() - compileStarted;

  // As the server runs it: with a profile registry (here holding no profile), which walks every resource's
  // extensions (unknown ones are reported per UNKNOWN_EXTENSIONS) and checks meta.profile claims.
  const server = loadBaseValidator({ profiles: new ProfileRegistry() });
  for (const type of server.resourceTypes) server.validate({ resourceType: type });
  const ratios: Array<{ example: ExampleFile; ratio: number; validateUs: number; parseUs: number }> = [];
  const serverRatios: number[] = [];
  for (const example of examples) {
    if (example.text.length > 1_000_000) continue;
    const parseUs = timePerCall(() => JSON.parse(example.text));
    const validateUs = timePerCall(() => validator.validate(example.resource));
    ratios.push({ example, ratio: validateUs / parseUs, validateUs, parseUs });
    serverRatios.push(timePerCall(() => server.validate(example.resource)) / parseUs);
  }
  const values = ratios.map((r) => r.ratio);
  const out = (line: string): boolean => process.stdout.write(`${line}\n`);
  out(`examples timed: ${ratios.length} of ${examples.length} (files over 1 MB skipped), ${RUNS} runs each`);
  out(`validate/JSON.parse ratio: median ${median(values).toFixed(2)}, p90 ${percentileOf(values, 0.9).toFixed(2)}, max ${Math.max(...values).toFixed(2)}`);
  out(`with the server's profile registry (extension walk, meta.profile claims; no profile loaded): median ${median(serverRatios).toFixed(2)}, p90 ${percentileOf(serverRatios, 0.9).toFixed(2)}`);
  out(`validate per resource: median ${median(ratios.map((r) => r.validateUs)).toFixed(1)} µs; JSON.parse median ${median(ratios.map((r) => r.parseUs)).toFixed(1)} µs`);
  out(`start-up: load definitions ${loadMs.toFixed(0)} ms; first Patient (compiles shared datatypes) ${firstPatientMs.toFixed(0)} ms`);
  out(
    `first use of each of the other ${validator.resourceTypes.length - 1} types (bare resource; compiles the fast validator, and the all-errors one where it is invalid): ${compileAllMs.toFixed(0)} ms in total, ${(compileAllMs / (validator.resourceTypes.length - 1)).toFixed(0)} ms per type`,
  );
  out('slowest ratios:');
  for (const r of [...ratios].sort((a, b) => b.ratio - a.ratio).slice(0, 5)) {
    out(`  ${r.example.file}: ${r.ratio.toFixed(2)} (validate ${r.validateUs.toFixed(1)} µs, parse ${r.parseUs.toFixed(1)} µs)`);
  }
}

main();
