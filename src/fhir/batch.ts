/**
 * batch: https://hl7.org/fhir/R4/http.html#transaction — each entry is its own interaction with its own store
 * transaction; one that fails answers with its own status and OperationOutcome and the others go on. Entries
 * of a batch have no interdependencies (the spec forbids them), so several run at once, which lets their
 * commits share LMDB commits (group commit) on the embedded store.
 */
import type { Bundle, BundleEntry } from 'fhir/r4';
import { entryRequest, type Dispatch } from './bundle-entries';
import { entryResponse, failedEntry } from './bundle-response';
import type { FhirContext } from './context';
import type { FhirRequest, FhirResponse } from './types';

/** Entries in progress at once. */
const CONCURRENCY = 8;

export async function batch(ctx: FhirContext, outer: FhirRequest, entries: BundleEntry[], dispatch: Dispatch): Promise<FhirResponse> {
  const answered = new Array<BundleEntry>(entries.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < entries.length) {
      const index = next++;
      try {
        const e = entryRequest(ctx, entries[index] as BundleEntry, index, outer);
        answered[index] = entryResponse(await dispatch(ctx, e.req));
      } catch (err) {
        answered[index] = failedEntry(err);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, entries.length) }, worker));
  const response: Bundle = { resourceType: 'Bundle', type: 'batch-response', entry: answered };
  return { status: 200, resource: response };
}
