/**
 * The storage contract on MongoDB, when MONGODB_URI names a replica set (docker compose up -d, then
 * MONGODB_URI='mongodb://127.0.0.1:27017/?replicaSet=rs0'). Each store gets its own database, dropped on close.
 */
import { randomUUID } from 'node:crypto';
import { it } from 'node:test';
import { MongoClient } from 'mongodb';
import { openMongoStore } from '../../src/storage/mongo/mongo-store';
import type { Store } from '../../src/storage/port';
import { runStoreContract } from './store-contract';

const uri = process.env.MONGODB_URI;

if (!uri) {
  it('storage contract: mongodb', { skip: 'MONGODB_URI is not set (see docs/storage.md)' }, () => undefined);
} else {
  runStoreContract('mongodb', async (): Promise<Store> => {
    const dbName = `fhir_contract_${randomUUID().replaceAll('-', '')}`;
    const store = await openMongoStore({ uri, dbName });
    const close = store.close.bind(store);
    return Object.assign(store, {
      async close(): Promise<void> {
        const admin = new MongoClient(uri);
        try {
          await admin.db(dbName).dropDatabase();
        } finally {
          await admin.close();
          await close();
        }
      },
    });
  });
}
