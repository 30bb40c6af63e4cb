/**
 * Sends every R4 example through the HTTP API: PUT /fhir/{type}/{id} with the file's exact bytes (POST when the
 * example has no id), then classifies the rejections with the validation classifier: a rejection listed in
 * known-invalid.ts is an example that breaks the spec; any other is a server mistake until shown otherwise.
 * The body limit is raised to 64 MB for this run so every example reaches validation (the definition Bundles are
 * up to ~30 MB; the default limit of 5 MB is a policy choice).
 * Usage: npx tsx bench/examples/put-through-api.ts
 */
import { groupByCause } from '../../test/fixtures/examples/classify';
import { putAllExamples } from '../../test/fixtures/examples/put-all';
import { startTestServer } from '../../test/fixtures/server';

async function main(): Promise<void> {
  const server = await startTestServer({ env: { MAX_BODY_SIZE: '64mb' } });
  const started = Date.now();
  const { classification: result, statuses } = await putAllExamples(server);
  const seconds = (Date.now() - started) / 1000;
  process.stdout.write(`PUT through the API: ${result.accepted} / ${result.total} accepted in ${seconds.toFixed(1)} s\n`);
  process.stdout.write(`HTTP statuses: ${[...statuses].sort().map(([s, n]) => `${s} x${n}`).join(', ')}\n`);
  process.stdout.write(`rejected, example breaks the spec (known-invalid.ts): ${result.expectedRejections.length}\n`);
  process.stdout.write(`rejected, unexplained (server mistakes): ${result.unexplainedRejections.length}\n`);
  for (const { cause, files } of groupByCause(result.unexplainedRejections)) process.stdout.write(`  ${cause}: ${files.slice(0, 5).join(', ')}${files.length > 5 ? ` (+${files.length - 5})` : ''}\n`);
  process.stdout.write(`listed as invalid but accepted: ${result.unexpectedlyAccepted.length}${result.unexpectedlyAccepted.length ? ` (${result.unexpectedlyAccepted.join(', ')})` : ''}\n`);
  await server.close();
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
