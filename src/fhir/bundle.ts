/** POST [base] with a batch or transaction Bundle (https://hl7.org/fhir/R4/http.html#transaction). */
import { batch } from './batch';
import { expectBundle, type Dispatch } from './bundle-entries';
import type { FhirContext } from './context';
import { transaction } from './transaction';
import type { FhirRequest, FhirResponse } from './types';

export async function bundleInteraction(ctx: FhirContext, req: FhirRequest, dispatch: Dispatch): Promise<FhirResponse> {
  const { kind, entries } = expectBundle(ctx, req.body);
  return kind === 'transaction' ? transaction(ctx, req, entries, dispatch) : batch(ctx, req, entries, dispatch);
}
