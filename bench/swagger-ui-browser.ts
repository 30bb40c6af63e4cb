/**
 * Browser check of Swagger UI at /docs/ in headless Chromium (playwright-core, Debian's chromium package:
 * `apt-get install -y chromium`). Not part of `npm test`, since a fresh machine has no browser: run it with
 * `npx tsx bench/swagger-ui-browser.ts [chromium path=/usr/bin/chromium]`. It opens /docs/, expands the Patient
 * search, checks the `name` parameter is listed, runs "Try it out" with a name and expects the 200 Bundle the
 * server returns, then exits 0 (or 1 with the failure).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { chromium } from 'playwright-core';
import { loadConfig } from '../src/config/config';
import { createServer } from '../src/compose';
import { silentLogger } from '../src/http/logger';

async function main(): Promise<void> {
  const executablePath = process.argv[2] ?? '/usr/bin/chromium';
  const dataDir = mkdtempSync(join(tmpdir(), 'bench-docs-'));
  // The port is chosen first, so BASE_URL (the document's `servers`) points at this very server.
  const probe = (await import('node:net')).createServer();
  const port = await new Promise<number>((resolve) => probe.listen(0, '127.0.0.1', () => resolve((probe.address() as AddressInfo).port)));
  await new Promise((resolve) => probe.close(resolve));
  const server = await createServer(loadConfig({ PORT: String(port), DATA_DIR: dataDir }), { logger: silentLogger });
  await server.router.route({ method: 'PUT', path: ['Patient', 'docs-1'], query: [], body: { resourceType: 'Patient', id: 'docs-1', name: [{ family: 'Swaggerfamily' }] }, prefer: {} });
  const http = server.app.listen(port, '127.0.0.1');
  const browser = await chromium.launch({ executablePath, headless: true, args: ['--no-sandbox'] });
  const errors: string[] = [];
  try {
    const page = await browser.newPage();
    page.on('pageerror', (err) => errors.push(err.message));
    page.on('console', (msg) => msg.type() === 'error' && errors.push(msg.text()));
    const started = Date.now();
    // Swagger UI renders a long document lazily as it scrolls; a deep link scrolls to and opens the operation.
    await page.goto(`http://127.0.0.1:${port}/docs/#/Patient/searchPatient`);
    const search = page.locator('#operations-Patient-searchPatient');
    await search.waitFor({ timeout: 30000 });
    process.stdout.write(`Swagger UI rendered the document in ${Date.now() - started} ms\n`);
    const nameRow = search.locator('tr[data-param-name="name"]');
    if (!(await nameRow.isVisible())) await search.locator('.opblock-summary-control').first().click();
    await nameRow.waitFor({ timeout: 10000 });
    await search.locator('button.try-out__btn').click();
    await nameRow.locator('input').fill('Swaggerfamily');
    await search.locator('button.execute').click();
    const status = search.locator('.live-responses-table .response .response-col_status').first();
    await status.waitFor({ timeout: 10000 });
    const code = (await status.textContent())?.trim();
    const body = (await search.locator('.live-responses-table .microlight').first().textContent()) ?? '';
    if (code !== '200' || !body.includes('Swaggerfamily')) throw new Error(`Try it out answered ${code}: ${body.slice(0, 200)}`);
    if (errors.length) throw new Error(`browser errors: ${errors.join('; ')}`);
    process.stdout.write('Swagger UI at /docs/: Patient search lists name; Try it out returned 200 with the Patient: PASS\n');
  } finally {
    await browser.close();
    http.close();
    await server.close();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`FAIL: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
