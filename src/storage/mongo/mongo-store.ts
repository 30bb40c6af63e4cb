/**
 * The storage port on MongoDB through the official driver: one MongoDB collection per port collection,
 * string `_id`s, multi-document transactions through sessions (which need a replica set or a sharded
 * cluster; https://www.mongodb.com/docs/manual/core/transactions/).
 *
 * Guards (StoreTransaction.guard): snapshot isolation lets two concurrent transactions both read "no match"
 * and both insert. A guard is an upsert of the document `{ _id: key }` in the `guards` collection inside the
 * transaction, so two transactions guarding one key write the same document and the second hits a write
 * conflict (https://www.mongodb.com/docs/manual/core/transactions-production-consideration/#in-progress-transactions-and-write-conflicts).
 * The driver's withTransaction re-runs `work` on such TransientTransactionErrors with jittered backoff; a
 * duplicate key on the guard's first upsert is retried here the same way. Guard documents stay (one small
 * document per key, a handful of bytes), so the next conflict is a plain update conflict.
 */
import { MongoClient, MongoServerError, type ClientSession, type Db, type Filter as MongoFilter, type TransactionOptions } from 'mongodb';
import { StorageConflict, StorageUnavailable, type Doc, type Filter, type FindOptions, type IndexSpec, type Store, type StoreTransaction } from '../port';

export interface MongoStoreOptions {
  uri: string;
  /** Database name; defaults to the one in the URI (or the driver's default). */
  dbName?: string;
}

const DUPLICATE_KEY = 11000;
export const GUARDS = 'guards';
/** Re-runs of a transaction whose guard upsert raced another one's first insert of the same guard. */
const GUARD_RETRIES = 20;

/** Majority-acknowledged, snapshot-isolated transactions: a commit is durable once withTransaction resolves. */
const TRANSACTION_OPTIONS: TransactionOptions = {
  readConcern: { level: 'snapshot' },
  writeConcern: { w: 'majority', journal: true },
  readPreference: 'primary',
};

export async function openMongoStore(options: MongoStoreOptions): Promise<Store> {
  const client = new MongoClient(options.uri);
  try {
    await client.connect();
  } catch (error) {
    await client.close().catch(() => undefined);
    throw new StorageUnavailable(`cannot connect to MongoDB: ${(error as Error).message}`);
  }
  try {
    await assertTransactionsSupported(client);
  } catch (error) {
    await client.close().catch(() => undefined);
    throw error;
  }
  return new MongoStore(client, client.db(options.dbName));
}

/** Transactions need a replica set member or a mongos router; a standalone server would silently lose atomicity. */
async function assertTransactionsSupported(client: MongoClient): Promise<void> {
  const hello = await client.db('admin').command({ hello: 1 });
  const replicaSet = typeof hello.setName === 'string';
  const router = hello.msg === 'isdbgrid';
  if (!replicaSet && !router) {
    throw new StorageUnavailable(
      'MongoDB is a standalone server, which cannot run multi-document transactions; start it as a replica set ' +
        '(a single-node one is enough: mongod --replSet rs0, then rs.initiate()) and add ?replicaSet=rs0 to MONGODB_URI',
    );
  }
}

class MongoStore implements Store {
  readonly kind = 'mongodb' as const;

  constructor(
    private readonly client: MongoClient,
    private readonly db: Db,
  ) {}

  find(collection: string, filter: Filter, options?: FindOptions): Promise<Doc[]> {
    return findDocs(this.db, collection, filter, options, undefined);
  }

  async findOne(collection: string, filter: Filter, options?: FindOptions): Promise<Doc | null> {
    const [first] = await findDocs(this.db, collection, filter, { ...options, limit: 1 }, undefined);
    return first ?? null;
  }

  count(collection: string, filter: Filter, limit?: number): Promise<number> {
    return countDocs(this.db, collection, filter, limit, undefined);
  }

  async ensureIndexes(collection: string, indexes: IndexSpec[]): Promise<void> {
    const buildable = indexes.filter((spec) => !spec.crossesArrays);
    if (buildable.length === 0) return;
    await this.db.collection<Doc>(collection).createIndexes(
      buildable.map((spec) => ({
        name: spec.name,
        key: new Map(spec.keys),
        ...(spec.unique ? { unique: true } : {}),
      })),
    );
  }

  async dropIndexes(collection: string, names: string[]): Promise<void> {
    for (const name of names) {
      try {
        await this.db.collection(collection).dropIndex(name);
      } catch (err) {
        // 27 IndexNotFound, 26 NamespaceNotFound (no such collection yet): nothing to drop.
        if (!(err instanceof MongoServerError && (err.code === 27 || err.code === 26))) throw err;
      }
    }
  }

  async transaction<T>(work: (tx: StoreTransaction) => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const session = this.client.startSession();
      try {
        return await session.withTransaction(() => work(new MongoTransaction(this.db, session)), TRANSACTION_OPTIONS);
      } catch (error) {
        if (!(error instanceof GuardRace) || attempt >= GUARD_RETRIES) throw error;
      } finally {
        await session.endSession();
      }
      await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(5 * 1.5 ** attempt, 500)));
    }
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}

/**
 * Operations of one MongoDB transaction. The driver does not support concurrent operations in a transaction,
 * so calls made in parallel by `work` are queued and run one at a time.
 */
class MongoTransaction implements StoreTransaction {
  private tail: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly db: Db,
    private readonly session: ClientSession,
  ) {}

  find(collection: string, filter: Filter, options?: FindOptions): Promise<Doc[]> {
    return this.serial(() => findDocs(this.db, collection, filter, options, this.session));
  }

  async findOne(collection: string, filter: Filter, options?: FindOptions): Promise<Doc | null> {
    const [first] = await this.find(collection, filter, { ...options, limit: 1 });
    return first ?? null;
  }

  count(collection: string, filter: Filter, limit?: number): Promise<number> {
    return this.serial(() => countDocs(this.db, collection, filter, limit, this.session));
  }

  insert(collection: string, doc: Doc): Promise<void> {
    return this.serial(async () => {
      try {
        await this.db.collection<Doc>(collection).insertOne(doc, { session: this.session });
      } catch (error) {
        throw asConflict(error, `${collection} already holds a document with _id ${doc._id}`);
      }
    });
  }

  replace(collection: string, doc: Doc, expect?: Filter): Promise<void> {
    return this.serial(async () => {
      const filter = { ...(expect ?? {}), _id: doc._id } as MongoFilter<Doc>;
      let matched: number;
      try {
        ({ matchedCount: matched } = await this.db.collection<Doc>(collection).replaceOne(filter, doc, { session: this.session }));
      } catch (error) {
        throw asConflict(error, `replacing ${collection} document ${doc._id} would duplicate a unique key`);
      }
      if (matched === 0) {
        throw new StorageConflict(
          expect
            ? `${collection} document ${doc._id} is absent or no longer matches the expected state`
            : `${collection} holds no document with _id ${doc._id} to replace`,
        );
      }
    });
  }

  delete(collection: string, id: string): Promise<boolean> {
    return this.serial(async () => {
      const { deletedCount } = await this.db.collection<Doc>(collection).deleteOne({ _id: id }, { session: this.session });
      return deletedCount === 1;
    });
  }

  guard(key: string): Promise<void> {
    return this.serial(async () => {
      try {
        await this.db.collection<{ _id: string; n: number }>(GUARDS).updateOne({ _id: key }, { $inc: { n: 1 } }, { upsert: true, session: this.session });
      } catch (error) {
        if (error instanceof MongoServerError && error.code === DUPLICATE_KEY) throw new GuardRace(key);
        throw error;
      }
    });
  }

  private serial<R>(operation: () => Promise<R>): Promise<R> {
    const next = this.tail.then(operation, operation);
    this.tail = next.catch(() => undefined);
    return next;
  }
}

function findDocs(db: Db, collection: string, filter: Filter, options: FindOptions | undefined, session: ClientSession | undefined): Promise<Doc[]> {
  return db
    .collection<Doc>(collection)
    .find(filter as MongoFilter<Doc>, {
      ...(session ? { session } : {}),
      ...(options?.sort && options.sort.length > 0 ? { sort: options.sort } : {}),
      ...(options?.skip ? { skip: options.skip } : {}),
      ...(options?.limit ? { limit: options.limit } : {}),
      ...(options?.projection ? { projection: options.projection } : {}),
    })
    .toArray() as Promise<Doc[]>;
}

function countDocs(db: Db, collection: string, filter: Filter, limit: number | undefined, session: ClientSession | undefined): Promise<number> {
  return db.collection<Doc>(collection).countDocuments(filter as MongoFilter<Doc>, {
    ...(session ? { session } : {}),
    ...(limit && limit > 0 ? { limit } : {}),
  });
}

/** Two transactions inserted the same new guard at once; the loser is re-run by MongoStore.transaction. */
class GuardRace extends Error {
  constructor(key: string) {
    super(`another transaction took guard ${key} at the same time`);
    this.name = 'GuardRace';
  }
}

/** Duplicate key errors (code 11000) lose a race on `_id` or a unique index: StorageConflict. Others pass through. */
function asConflict(error: unknown, message: string): unknown {
  return error instanceof MongoServerError && error.code === DUPLICATE_KEY ? new StorageConflict(message) : error;
}
