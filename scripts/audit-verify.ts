/** `npm run audit:verify -- FILE`: checks an NDJSON archive of the audit trail offline; exits 1 on a broken link. */
import * as fs from 'node:fs';
import { verifyNdjson } from '../src/audit/offline-verify';

const file = process.argv[2];
if (!file) {
  process.stderr.write('usage: npm run audit:verify -- FILE (AuditEvents as NDJSON, e.g. from GET /fhir/AuditEvent/$archive)\n');
  process.exit(2);
}
const report = verifyNdjson(fs.readFileSync(file, 'utf8'));
if (report.ok) {
  process.stdout.write(`ok: ${report.checked} events, sequence ${report.firstSequence} to ${report.lastSequence}, last hash ${report.lastHash}\n`);
} else {
  process.stdout.write(`BROKEN at event ${report.broken?.sequence}: ${report.broken?.reason} (${report.checked} events verified before it)\n`);
  process.exit(1);
}
