/**
 * The audit trail contract on MongoDB, when MONGODB_URI names a replica set (see test/contract/mongodb.test.ts).
 * Each trail gets its own database, dropped on dispose.
 */
import { randomUUID } from 'node:crypto';
import { it } from 'node:test';
import { MongoClient } from 'mongodb';
import { MongoAuditTrail } from '../../src/audit/mongo-trail';
import type { AuditTrail } from '../../src/audit/trail';
import { MONGODB_URI } from '../fixtures/store';
import { runAuditTrailContract } from './audit-trail-contract';

const uri = MONGODB_URI;

if (!uri) {
  it('audit trail contract: mongodb', { skip: 'MONGODB_URI is not set (see docs/storage.md)' }, () => undefined);
} else {
  runAuditTrailContract('mongodb', async () => {
    const db = `fhir_audit_test_${randomUUID().replaceAll('-', '')}`;
    let trail: AuditTrail = await MongoAuditTrail.open(uri, db);
    return {
      trail,
      async reopen() {
        await trail.close();
        trail = await MongoAuditTrail.open(uri, db);
        return trail;
      },
      async dispose() {
        await trail.close();
        const admin = new MongoClient(uri);
        try {
          await admin.db(db).dropDatabase();
        } finally {
          await admin.close();
        }
      },
    };
  });
}
