/**
 * Index entries one parameter can borrow from others instead of storing its own copy. Observation's `combo-code`
 * is `Observation.code | Observation.component.code`: `code` already indexes the first union branch and
 * `component-code` the second, so extracting `combo-code` too would store every code twice (Observation's
 * combo-* parameters were 40% of the index entries of a vital-signs Observation).
 *
 * A parameter whose union branches include every branch of other parameters of the same type (for composites,
 * with the same components) extracts only the branches none of them covers; a query on it matches its own
 * entries and theirs (SearchCriteria), and its `has` and sort key are made from all of them (IndexExtractor).
 * Entries depend only on the branch, the parameter type and the components, never on the code, so the union
 * is exactly what the parameter would have stored (a parameter type whose extraction came to depend on the code,
 * such as a real phonetic match, would have to be left out here). Records written before a parameter borrowed its entries keep
 * their own copy, which queries still match. A definition that changes needs `$reindex`, as for any other change.
 *
 * Parameters with no entries of their own (`_id`, `_lastUpdated`) lend nothing. References are left out: chains,
 * `_include`, compartments and access policies read reference entries by their own code.
 */
import { splitTopLevelUnion } from './specialise';
import { NOT_INDEXED, type SearchParamDef } from './types';

export interface EntrySharing {
  /** Union branches of the parameter's expression that no other parameter indexes: the only ones it extracts. */
  ownBranches: string[];
  /** Parameters whose entries count as this one's too (each covers some of its branches). */
  borrowsFrom: string[];
}

/** For the parameters of one resource type, those that borrow entries, by code. */
export function sharedEntries(defs: readonly SearchParamDef[]): Map<string, EntrySharing> {
  const candidates = defs
    .filter((d) => d.expression !== undefined && d.type !== 'reference' && d.type !== 'special' && !NOT_INDEXED.has(d.code))
    .map((def) => ({ def, branches: new Set(splitTopLevelUnion(def.expression as string).map((b) => b.trim())), shape: shapeOf(def) }))
    .sort((a, b) => a.branches.size - b.branches.size);
  const sharing = new Map<string, EntrySharing>();
  for (const wide of candidates) {
    const borrowsFrom = new Set<string>();
    const covered = new Set<string>();
    for (const narrow of candidates) {
      if (narrow.branches.size >= wide.branches.size || narrow.shape !== wide.shape) continue;
      if (![...narrow.branches].every((b) => wide.branches.has(b))) continue;
      borrowsFrom.add(narrow.def.code);
      // A narrower parameter that borrows itself brings its lenders along (they hold the rest of its entries).
      for (const lender of sharing.get(narrow.def.code)?.borrowsFrom ?? []) borrowsFrom.add(lender);
      for (const b of narrow.branches) covered.add(b);
    }
    if (borrowsFrom.size === 0) continue;
    sharing.set(wide.def.code, { ownBranches: [...wide.branches].filter((b) => !covered.has(b)), borrowsFrom: [...borrowsFrom] });
  }
  return sharing;
}

/** What, besides the branch, decides a parameter's entries: its type and (composites) its components. */
function shapeOf(def: SearchParamDef): string {
  return JSON.stringify([def.type, (def.component ?? []).map((c) => [c.type ?? null, c.expression])]);
}
