/**
 * One-time import of a data directory in the journal/snapshot format of earlier versions (snapshot.db +
 * journal-NNNNNN.log, read by journal-format.ts with that engine's crash rules) into LMDB, on first open. Documents are written
 * in chunks of LMDB transactions; a marker in `meta` written last says the import is complete, so an import a
 * crash cut short starts over. Indexes are built afterwards by ensureIndexes, from the imported documents.
 * The old files are then moved, untouched, to `journal-format-imported/` and a warning says they can be deleted.
 */
import { mkdirSync, renameSync } from 'node:fs';
import type { Database, RootDatabase } from 'lmdb';
import type { StoreWarning } from '../port';
import { fsyncDirectorySync, pathIn } from './data-files';
import { journalFormatFiles, readJournalFormat } from './journal-format';
import { PrefixTable, collectionEntry, decodeDocument, encodeDocument } from './lmdb-layout';

export const IMPORTED_DIR = 'journal-format-imported';
const IMPORTED_KEY = 'imported-journal-format';
const CHUNK = 10_000;
/** Every key: all of them start with an encoded collection name (key-encoding.ts tags are above \u0001). */
const ALL_KEYS = { start: '\u0001', end: '\u00ff' };

export async function importJournalFormat(
  dir: string,
  env: RootDatabase,
  docs: Database<Buffer, string>,
  meta: Database<Buffer, string>,
  warn: (warning: StoreWarning) => void,
): Promise<void> {
  if (journalFormatFiles(dir).length === 0) return;
  let documents = 0;
  if (meta.getBinary(IMPORTED_KEY) === undefined) {
    // What an import a crash cut short left. Counted first: iterating an empty range of a freshly created
    // database failed in lmdb-js 3.5 when another environment had been opened and closed in the process.
    const stale = docs.getKeysCount(ALL_KEYS) > 0 ? [...docs.getKeys(ALL_KEYS)] : [];
    if (stale.length > 0) {
      env.transactionSync(() => {
        for (const key of stale) docs.removeSync(key);
      });
    }
    const prefixes = PrefixTable.load(meta);
    const prefix = (collection: string): string => prefixes.assign(collectionEntry(collection));
    let pending: Array<[key: string, json: string | null]> = [];
    const flush = (): void => {
      const chunk = pending;
      pending = [];
      env.transactionSync(() => {
        for (const [key, json] of chunk) {
          if (json === null) docs.removeSync(key);
          else docs.putSync(key, encodeDocument(json));
        }
      });
    };
    readJournalFormat(
      dir,
      {
        put: (collection, doc) => {
          pending.push([prefix(collection) + doc._id, JSON.stringify(doc)]);
          if (pending.length >= CHUNK) flush();
        },
        delete: (collection, id) => {
          pending.push([prefix(collection) + id, null]);
          if (pending.length >= CHUNK) flush();
        },
      },
      warn,
    );
    flush();
    documents = docs.getKeysCount(ALL_KEYS);
    env.transactionSync(() => {
      prefixes.save(meta);
      meta.putSync(IMPORTED_KEY, encodeDocument(JSON.stringify({ documents, at: new Date().toISOString() })));
    });
  } else {
    documents = (JSON.parse(decodeDocument(meta.getBinary(IMPORTED_KEY)!, 'meta', IMPORTED_KEY)) as { documents: number }).documents;
  }
  const target = pathIn(dir, IMPORTED_DIR);
  mkdirSync(target, { recursive: true });
  for (const name of journalFormatFiles(dir)) renameSync(pathIn(dir, name), pathIn(target, name));
  fsyncDirectorySync(target);
  fsyncDirectorySync(dir);
  warn({
    msg: `imported the data directory from the journal/snapshot format into LMDB; the old files are kept in ${target} and can be deleted`,
    documents,
    directory: target,
  });
}
