/**
 * The storage contract on MongoDB, when MONGODB_URI names a replica set (docker compose up -d, then
 * MONGODB_URI='mongodb://127.0.0.1:27017/?replicaSet=rs0'). Each store gets its own database, dropped on close.
 */
import { it } from 'node:test';
import { MONGODB_URI, openMongoTestStore } from '../fixtures/store';
import { runStoreContract } from './store-contract';

const uri = MONGODB_URI;

if (!uri) {
  it('storage contract: mongodb', { skip: 'MONGODB_URI is not set (see docs/storage.md)' }, () => undefined);
} else {
  runStoreContract('mongodb', () => openMongoTestStore(uri));
}
