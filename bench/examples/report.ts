/**
 * Validates every official R4 example against the base definitions and prints accepted/total and the rejections
 * grouped by cause. Run: npx tsx bench/examples/report.ts [--files]  (--files lists every rejected file and issue)
 */
import { loadBaseValidator } from '../../src/validation/validator';
import { classifyExamples, groupByCause } from '../../test/fixtures/examples/classify';
import { listExampleFiles } from '../../test/fixtures/examples/corpus';
import { knownInvalidExamples } from '../../test/fixtures/examples/known-invalid';

function main(): void {
  const validator = loadBaseValidator();
  const examples = listExampleFiles((t) => validator.isResourceType(t));
  const started = performance.now();
  const result = classifyExamples(examples, (r) => validator.validate(r));
  const elapsed = performance.now() - started;
  const out = (line = ''): boolean => process.stdout.write(`${line}\n`);

  out(`accepted ${result.accepted}/${result.total} examples (${elapsed.toFixed(0)} ms)`);
  out(`rejected and known invalid: ${result.expectedRejections.length}`);
  out(`rejected and unexplained: ${result.unexplainedRejections.length}`);
  out(`known invalid but accepted: ${result.unexpectedlyAccepted.length}${result.unexpectedlyAccepted.length ? ` (${result.unexpectedlyAccepted.join(', ')})` : ''}`);
  for (const [title, rejections] of [
    ['Unexplained rejections by cause', result.unexplainedRejections],
    ['Known-invalid rejections by cause', result.expectedRejections],
  ] as const) {
    if (!rejections.length) continue;
    out();
    out(`${title}:`);
    for (const group of groupByCause(rejections)) {
      out(`  ${group.files.length} × ${group.cause}`);
      out(`      e.g. ${group.files.slice(0, 4).join(', ')}`);
    }
  }
  if (process.argv.includes('--files')) {
    out();
    for (const rejection of [...result.unexplainedRejections, ...result.expectedRejections]) {
      out(`${rejection.file}${knownInvalidExamples[rejection.file] ? ` (known: ${knownInvalidExamples[rejection.file]})` : ''}`);
      for (const issue of rejection.issues) out(`    ${issue.code} ${issue.expression?.join(',') ?? ''}: ${issue.diagnostics}`);
    }
  }
}

main();
