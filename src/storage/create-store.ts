/**
 * Builds the configured storage adapter: MongoDB when a URI is given, else the embedded engine, on LMDB in the
 * data directory (or purely in memory without one, for tests).
 */
import { openEmbeddedStore } from './embedded/embedded-store';
import { openLmdbStore } from './embedded/lmdb-store';
import { openMongoStore } from './mongo/mongo-store';
import type { Store, StoreWarning } from './port';

export interface StoreOptions {
  /** MongoDB connection string; the deployment must support transactions (replica set or sharded cluster). */
  mongodbUri?: string;
  mongodbDb?: string;
  /** Data directory of the embedded store; undefined = in memory only (tests). */
  dataDir?: string;
  /** Bound of the embedded store's parsed-document cache, in MiB (default 64). */
  cacheMb?: number;
  /** Told what the embedded store repaired at open, and about failed background compactions. */
  onWarning?: (warning: StoreWarning) => void;
}

export async function createStore(options: StoreOptions): Promise<Store> {
  if (options.mongodbUri) return openMongoStore({ uri: options.mongodbUri, dbName: options.mongodbDb });
  if (options.dataDir === undefined) return openEmbeddedStore({ onWarning: options.onWarning });
  return openLmdbStore({ dataDir: options.dataDir, cacheMb: options.cacheMb, onWarning: options.onWarning });
}
