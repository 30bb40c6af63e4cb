/**
 * Inclusion / exclusion projections with MongoDB semantics
 * (https://www.mongodb.com/docs/manual/tutorial/project-fields-from-query-results/): dotted paths descend into
 * embedded documents and arrays of documents; `_id` is kept unless excluded.
 * A projection builds only new containers around values of the stored document, which stay deep-frozen, so a
 * caller that changes a projected result changes its own copy and never the store; the new containers are not
 * frozen (freezing them cost more than the rest of the projection).
 */
import type { Doc } from '../port';
import { isPlainObject } from './values';

type FieldTree = Map<string, FieldTree | true>;
/** A FieldTree as nested lists: iterated per projected document without allocating iterators. */
type FieldList = ReadonlyArray<readonly [field: string, sub: FieldList | true]>;

export type CompiledProjection = (doc: Doc) => Doc;

export function compileProjection(projection: Record<string, 0 | 1> | undefined): CompiledProjection | null {
  if (!projection) return null;
  const fields = Object.entries(projection).filter(([path]) => path !== '_id');
  const keepId = projection._id !== 0;
  if (fields.length === 0) return keepId ? null : (doc) => withoutId(doc) as Doc;
  const inclusion = fields[0][1] === 1;
  if (fields.some(([, v]) => (v === 1) !== inclusion)) {
    throw new Error('a projection cannot mix inclusion and exclusion (except for _id)');
  }
  const tree = toList(buildTree(fields.map(([path]) => path)));
  if (inclusion) {
    return (doc) => {
      const out = include(doc, tree);
      if (keepId) out._id = doc._id;
      return out as Doc;
    };
  }
  return (doc) => {
    const out = exclude(doc, tree);
    if (!keepId) delete out._id;
    return out as Doc;
  };
}

function buildTree(paths: string[]): FieldTree {
  const root: FieldTree = new Map();
  for (const path of paths) {
    const segments = path.split('.');
    let node = root;
    segments.forEach((segment, i) => {
      const last = i === segments.length - 1;
      const existing = node.get(segment);
      if (last || existing === true) {
        node.set(segment, true);
        return;
      }
      const child: FieldTree = existing ?? new Map();
      node.set(segment, child);
      node = child;
    });
  }
  return root;
}

function toList(tree: FieldTree): FieldList {
  return [...tree].map(([field, sub]) => [field, sub === true ? true : toList(sub)] as const);
}

function include(source: Record<string, unknown>, tree: FieldList): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (let i = 0; i < tree.length; i++) {
    const [key, sub] = tree[i];
    if (!(key in source)) continue;
    const value = source[key];
    if (sub === true) out[key] = value;
    else if (Array.isArray(value)) out[key] = value.filter(isPlainObject).map((e) => include(e, sub));
    else if (isPlainObject(value)) out[key] = include(value, sub);
  }
  return out;
}

function exclude(source: Record<string, unknown>, tree: FieldList): Record<string, unknown> {
  const out: Record<string, unknown> = { ...source };
  for (let i = 0; i < tree.length; i++) {
    const [key, sub] = tree[i];
    if (!(key in out)) continue;
    const value = out[key];
    if (sub === true) delete out[key];
    else if (Array.isArray(value)) out[key] = value.map((e) => (isPlainObject(e) ? exclude(e, sub) : e));
    else if (isPlainObject(value)) out[key] = exclude(value, sub);
  }
  return out;
}

function withoutId(doc: Doc): Record<string, unknown> {
  const { _id, ...rest } = doc;
  return rest;
}

/**
 * Deep-freezes a value; already frozen subtrees (stored documents) are left as they are. Recovery freezes
 * every loaded document, so this visits only objects and iterates without allocating key lists.
 */
export function freeze<T>(value: T): T {
  if (value !== null && typeof value === 'object') freezeObject(value as object);
  return value;
}

function freezeObject(value: object): void {
  if (Object.isFrozen(value)) return;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      if (item !== null && typeof item === 'object') freezeObject(item);
    }
  } else {
    for (const key in value) {
      const item: unknown = (value as Record<string, unknown>)[key];
      if (item !== null && typeof item === 'object') freezeObject(item);
    }
  }
  Object.freeze(value);
}
