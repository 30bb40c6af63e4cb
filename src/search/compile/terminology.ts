/**
 * Terminology that token `:in`, `:not-in`, `:above` and `:below` need (https://hl7.org/fhir/R4/search.html#token):
 * ValueSet expansion and code-system subsumption, from ValueSets stored on this server and from the R4 base
 * definitions (https://hl7.org/fhir/R4/terminology-module.html).
 */
import type { ValueSet } from 'fhir/r4';
import { RESOURCES } from '../../storage/records';
import type { StoreReader } from '../../storage/port';
import { BaseDefinitions } from './base-terminology';
import { expandValueSet, type Expansion } from './expand-valueset';

export type { Expansion };

export interface Terminology {
  /** The codes of the ValueSet with this canonical URL (`url` or `url|version`), by system; undefined when unknown. */
  expand(url: string): Promise<Expansion | undefined>;
  /** `code` with its descendants (below) or ancestors (above) in `system`; undefined when the hierarchy is not known here. */
  subsumption(system: string, code: string, direction: 'above' | 'below'): string[] | undefined;
}

/** ValueSets stored in the server (they take precedence) and the R4 base definitions. */
export class LocalTerminology implements Terminology {
  constructor(
    private readonly store: StoreReader,
    private readonly base: BaseDefinitions = BaseDefinitions.shared(),
  ) {}

  async expand(url: string): Promise<Expansion | undefined> {
    const canonical = url.split('|')[0]!;
    const stored = await this.store.findOne(RESOURCES, {
      type: 'ValueSet',
      deleted: false,
      'idx.uri': { $elemMatch: { p: 'url', v: canonical } },
    });
    const resource = stored?.['resource'] as ValueSet | undefined;
    if (resource) return expandValueSet(resource, this.base);
    return this.base.expand(canonical);
  }

  subsumption(system: string, code: string, direction: 'above' | 'below'): string[] | undefined {
    const codeSystem = this.base.codeSystem(system);
    if (!codeSystem?.codes.has(code)) return undefined;
    return direction === 'below' ? [code, ...codeSystem.descendants(code)] : [code, ...codeSystem.ancestors(code)];
  }
}
