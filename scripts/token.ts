/**
 * Prints an access token signed with the server's local key (DATA_DIR/auth), for deployments without an
 * authorization server of their own and for trying the API:
 *   npm run token -- --scope "user/*.rs" --fhir-user Practitioner/1 [--patient ID] [--purpose TREAT] [--client-id app] [--expires 3600]
 * Issuer and audience are the server's (AUTH_ISSUER and AUTH_AUDIENCE, default BASE_URL), read from the same
 * environment as the server; add --purpose ETREAT --btg "why" for break-the-glass.
 */
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config/config';
import { loadOrCreateLocalKey, signLocalToken } from '../src/access/local-key';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      scope: { type: 'string' },
      patient: { type: 'string' },
      'fhir-user': { type: 'string' },
      purpose: { type: 'string', multiple: true },
      'client-id': { type: 'string', default: 'cli' },
      sub: { type: 'string' },
      expires: { type: 'string', default: '3600' },
      btg: { type: 'string' },
    },
  });
  if (!values.scope) throw new Error('--scope is required, e.g. --scope "system/*.cruds" or --scope "patient/*.rs" --patient 123');
  const expiresInSeconds = Number(values.expires);
  if (!Number.isInteger(expiresInSeconds) || expiresInSeconds < 1) throw new Error('--expires takes a whole number of seconds');
  const config = loadConfig();
  const key = await loadOrCreateLocalKey(config.dataDir);
  const token = await signLocalToken(
    key,
    {
      scope: values.scope,
      client_id: values['client-id'] as string,
      sub: values.sub ?? values['fhir-user'] ?? values['client-id'],
      ...(values.patient ? { patient: values.patient } : {}),
      ...(values['fhir-user'] ? { fhirUser: values['fhir-user'] } : {}),
      ...(values.purpose?.length ? { purpose_of_use: values.purpose } : {}),
      ...(values.btg ? { btg_justification: values.btg } : {}),
    },
    { issuer: config.auth.issuer, audience: config.auth.audience, expiresInSeconds },
  );
  process.stdout.write(`${token}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
