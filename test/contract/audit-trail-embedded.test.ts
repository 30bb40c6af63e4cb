/** The audit trail contract on the embedded LMDB trail (DATA_DIR/audit). */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LmdbAuditTrail } from '../../src/audit/lmdb-trail';
import type { AuditTrail } from '../../src/audit/trail';
import { runAuditTrailContract } from './audit-trail-contract';

runAuditTrailContract('embedded (LMDB)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'audit-contract-'));
  let trail: AuditTrail = LmdbAuditTrail.open({ dir });
  return {
    trail,
    async reopen() {
      await trail.close();
      trail = LmdbAuditTrail.open({ dir });
      return trail;
    },
    async dispose() {
      await trail.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
