/**
 * CPU per resource of the two write-time stages of bundle ingest that run on the server's main thread outside the
 * store and the audit trail: base validation (src/validation, the check of every create) and search index extraction
 * (src/search/extract), over the resources of the patient transactions that bench/bundle-ingest.ts sends (references
 * already rewritten, as the server sees them). This tree and a baseline commit (a checkout in the temporary
 * directory, bench/support/baseline.ts) take turns in the same process, so a shared, loaded machine slows both
 * alike; medians of several rounds, and the ratio. Both trees must give the same index entries and the same issues
 * for every resource, or the script fails.
 * Usage: npx tsx bench/ingest-stages.ts [baseline commit=main] [rounds=7] [patients=4]
 */
import { join } from 'node:path';
import type { Resource } from 'fhir/r4';
import { patientTransaction } from './bundles/generate';
import { checkoutBaseline } from './support/baseline';
import { ROOT } from './support/processes';
import { median } from './support/stats';

interface Stages {
  validate(resource: Resource): unknown;
  extract(resource: Resource): unknown;
}

async function stagesOf(root: string): Promise<Stages> {
  const { loadBaseValidator } = (await import(join(root, 'src/validation/validator'))) as typeof import('../src/validation/validator');
  const { SearchRegistry } = (await import(join(root, 'src/search/registry'))) as typeof import('../src/search/registry');
  const { IndexExtractor } = (await import(join(root, 'src/search/extract'))) as typeof import('../src/search/extract');
  const { CompartmentDefinitions } = (await import(join(root, 'src/search/compartments'))) as typeof import('../src/search/compartments');
  const definitionsDir = join(root, 'generated');
  const validator = loadBaseValidator({ definitionsDir: join(definitionsDir, 'validation') });
  const extractor = new IndexExtractor(SearchRegistry.loadBase({ definitionsDir }), {
    baseUrl: 'http://127.0.0.1:8080/fhir',
    compartments: CompartmentDefinitions.load({ definitionsDir }),
  });
  return { validate: (r) => validator.validate(r), extract: (r) => extractor.extract(r) };
}

/** The bench's patient resources as stored: ids and meta set, urn:uuid and conditional references resolved. */
function resources(patients: number): Resource[] {
  const out: Resource[] = [];
  for (let p = 0; p < patients; p++) {
    const bundle = patientTransaction(p, 300) as { entry: Array<{ resource: Record<string, unknown> }> };
    const text = JSON.stringify(bundle.entry.map((e) => e.resource))
      .replace(/"urn:uuid:([0-9a-f-]+)"/g, '"Patient/$1"')
      .replace(/"(Practitioner|Organization|Location)\?identifier=[^"|]+\|([^"]+)"/g, '"$1/$2"');
    (JSON.parse(text) as Array<Record<string, unknown>>).forEach((r, i) => {
      out.push({ ...r, id: `p${p}-${i}`, meta: { versionId: '1', lastUpdated: '2026-12-01T00:00:00.000Z' } } as unknown as Resource);
    });
  }
  return out;
}

function cpuMicros(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

/** CPU µs per resource of one pass of `stage` over `list` (after the caller's warm-up). */
function pass(list: Resource[], stage: (r: Resource) => unknown): number {
  const started = cpuMicros();
  for (const r of list) stage(r);
  return (cpuMicros() - started) / list.length;
}

async function main(): Promise<void> {
  const [baseRef = 'main', roundsArg = '7', patientsArg = '4'] = process.argv.slice(2);
  const rounds = Number(roundsArg);
  const list = resources(Number(patientsArg));
  const trees = { base: await stagesOf(checkoutBaseline(baseRef)), this: await stagesOf(ROOT) };
  for (const r of list) {
    const [a, b] = [JSON.stringify(trees.base.extract(r)), JSON.stringify(trees.this.extract(r))];
    if (a !== b) throw new Error(`${r.resourceType}/${r.id}: the two trees extract different index entries`);
    const [c, d] = [JSON.stringify(trees.base.validate(r)), JSON.stringify(trees.this.validate(r))];
    if (c !== d) throw new Error(`${r.resourceType}/${r.id}: the two trees give different validation issues`);
  }
  const results: Record<string, number[]> = { 'base validate': [], 'this validate': [], 'base extract': [], 'this extract': [] };
  for (let round = 0; round < rounds + 2; round++) {
    for (const stage of ['validate', 'extract'] as const) {
      for (const tree of round % 2 ? (['this', 'base'] as const) : (['base', 'this'] as const)) {
        const micros = pass(list, trees[tree][stage]);
        if (round >= 2) results[`${tree} ${stage}`]?.push(micros);
      }
    }
  }
  const of = (key: string): number => median(results[key] ?? []);
  for (const stage of ['validate', 'extract']) {
    process.stdout.write(
      `${stage}: ${of(`this ${stage}`).toFixed(1)} µs per resource (baseline ${baseRef}: ${of(`base ${stage}`).toFixed(1)} µs; ratio ${(of(`this ${stage}`) / of(`base ${stage}`)).toFixed(2)}), ` +
        `median of ${rounds} passes over ${list.length} resources\n`,
    );
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
