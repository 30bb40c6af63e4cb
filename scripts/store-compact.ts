/**
 * Compacts a stopped embedded data directory: a compacting copy of its LMDB file replaces it (free pages
 * dropped), e.g. after a bulk import or many deletes. Usage: npm run store:compact [-- <dataDir>].
 */
import { compactDataDir } from '../src/storage/embedded/lmdb-maintenance';

const mb = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

async function main(): Promise<void> {
  const dataDir = process.argv[2] || process.env.DATA_DIR || './data';
  const { before, after } = await compactDataDir(dataDir);
  console.log(`${dataDir}: compacted ${mb(before)} -> ${mb(after)}`);
}

main().catch((error: unknown) => {
  console.error(`store:compact failed: ${(error as Error).message}`);
  process.exitCode = 1;
});
