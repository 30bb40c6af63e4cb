/**
 * Checks a stopped embedded data directory: every stored value against its checksum, every index entry against
 * the documents. Exits 1 on any damage. Usage: npm run store:check [-- <dataDir>] (default DATA_DIR or ./data).
 */
import { checkDataDir } from '../src/storage/embedded/lmdb-maintenance';

async function main(): Promise<void> {
  const dataDir = process.argv[2] || process.env.DATA_DIR || './data';
  const report = await checkDataDir(dataDir);
  if (report.indexesSkipped) console.log(report.indexesSkipped);
  for (const line of report.problems) console.log(`damaged: ${line}`);
  if (report.problemCount > report.problems.length) console.log(`... and ${report.problemCount - report.problems.length} more`);
  console.log(`${dataDir}: ${report.documents} documents, ${report.indexEntries} index entries, ${report.problemCount} problems`);
  if (report.problemCount > 0) {
    console.log('The data directory is damaged: restore it from a backup (a damaged document is never served).');
    process.exitCode = 1;
  }
}

main().catch((error: unknown) => {
  console.error(`store:check failed: ${(error as Error).message}`);
  process.exitCode = 2;
});
