/**
 * The server's own changes to a Subscription (https://hl7.org/fhir/R4/subscription.html#status): `requested`
 * becomes `active` once accepted, `error` with Subscription.error while notifications fail, `active` again once
 * one gets through. Written as an ordinary update through the in-process router (a new version, validated and
 * seen by the history feed like any other write), with If-Match so that a client's concurrent change wins;
 * a Subscription the client turned off, deleted or changed since is left alone.
 */
import type { Subscription } from 'fhir/r4';
import { FhirError } from '../core/errors';
import type { FhirRequest, FhirResponse } from '../fhir/types';
import type { SubscriptionStatus } from './definition';

export type Route = (req: FhirRequest) => Promise<FhirResponse>;

const ATTEMPTS = 3;

export class StatusWriter {
  constructor(private readonly route: Route) {}

  /**
   * Sets status (and error, removed when undefined) unless the Subscription already has them, is off or gone,
   * or (with `onlyVersion`) has moved past that version. Resolves to whether a new version was written.
   */
  async set(id: string, status: SubscriptionStatus, error?: string, onlyVersion?: number): Promise<boolean> {
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      const current = await this.read(id);
      if (!current) return false;
      const { resource, versionId } = current;
      if (onlyVersion !== undefined && versionId !== String(onlyVersion)) return false;
      if (resource.status === 'off' || (resource.status === status && resource.error === error)) return false;
      const { error: _previous, ...rest } = resource;
      const body: Subscription = { ...rest, status, ...(error !== undefined ? { error } : {}) };
      try {
        await this.route(request('PUT', id, { body, contentType: 'application/fhir+json', ifMatch: `W/"${versionId}"`, prefer: { return: 'minimal' } }));
        return true;
      } catch (err) {
        if (err instanceof FhirError && (err.category === 'precondition-failed' || err.category === 'conflict')) continue;
        throw err;
      }
    }
    return false;
  }

  private async read(id: string): Promise<{ resource: Subscription; versionId: string } | undefined> {
    try {
      const response = await this.route(request('GET', id));
      return response.resource && response.versionId ? { resource: response.resource as Subscription, versionId: response.versionId } : undefined;
    } catch (err) {
      if (err instanceof FhirError && (err.category === 'not-found' || err.category === 'deleted')) return undefined;
      throw err;
    }
  }
}

function request(method: 'GET' | 'PUT', id: string, extra: Partial<FhirRequest> = {}): FhirRequest {
  return { method, path: ['Subscription', id], query: [], prefer: {}, ...extra };
}
