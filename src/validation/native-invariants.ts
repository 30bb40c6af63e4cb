/**
 * Invariants whose FHIRPath is too costly to evaluate on every resource with fhirpath.js (dom-3 walks every
 * descendant: 10–25 ms for a resource with contained resources; htmlChecks() ~40 µs per narrative), restated
 * natively with the same meaning. Where a restatement is broader than the expression, docs/validation.md says so.
 */

/** A native invariant: true when it holds on the value (the element the constraint is on). */
export type NativeInvariant = (value: unknown) => boolean;

/** Keyed by the defining StructureDefinition and the constraint key. */
export const NATIVE_INVARIANTS: Record<string, NativeInvariant> = {
  'http://hl7.org/fhir/StructureDefinition/DomainResource#dom-3': containedAreReferenced,
  'http://hl7.org/fhir/StructureDefinition/CodeSystem#csd-1': conceptCodesAreUnique,
  'http://hl7.org/fhir/StructureDefinition/Narrative#txt-1': (value) => typeof value !== 'string' || checkXhtml(value).allowed,
  'http://hl7.org/fhir/StructureDefinition/Narrative#txt-2': (value) => typeof value !== 'string' || checkXhtml(value).hasContent,
};

/**
 * dom-3 (https://hl7.org/fhir/R4/domainresource.html#invs): every contained resource is referenced from elsewhere
 * in the resource ('#id'), or refers to its container ('#'). Every string value of the resource counts as a possible
 * reference (the expression takes `reference` values and canonical/uri/url values).
 */
function containedAreReferenced(value: unknown): boolean {
  const contained = (value as { contained?: unknown }).contained;
  if (!Array.isArray(contained) || contained.length === 0) return true;
  const references = new Set<string>();
  collectLocalReferences(value, references);
  for (const resource of contained) {
    if (typeof resource !== 'object' || resource === null) continue;
    const id = (resource as { id?: unknown }).id;
    if (typeof id === 'string' && references.has(`#${id}`)) continue;
    const inner = new Set<string>();
    collectLocalReferences(resource, inner);
    if (!inner.has('#')) return false;
  }
  return true;
}

/** csd-1 (https://hl7.org/fhir/R4/codesystem.html#invs): codes are unique across the whole concept hierarchy. */
function conceptCodesAreUnique(value: unknown): boolean {
  const seen = new Set<unknown>();
  const pending: unknown[] = [(value as { concept?: unknown }).concept];
  while (pending.length) {
    const concepts = pending.pop();
    if (!Array.isArray(concepts)) continue;
    for (const concept of concepts) {
      const code = (concept as { code?: unknown } | null)?.code;
      if (code !== undefined) {
        if (seen.has(code)) return false;
        seen.add(code);
      }
      pending.push((concept as { concept?: unknown } | null)?.concept);
    }
  }
  return true;
}

function collectLocalReferences(value: unknown, into: Set<string>): void {
  if (typeof value === 'string') {
    if (value.charCodeAt(0) === 35 /* # */) into.add(value);
  } else if (Array.isArray(value)) {
    for (const item of value) collectLocalReferences(item, into);
  } else if (typeof value === 'object' && value !== null) {
    for (const key in value) if (key !== 'div') collectLocalReferences((value as Record<string, unknown>)[key], into);
  }
}

/**
 * Narrative rules (https://hl7.org/fhir/R4/narrative.html#xhtml): txt-1, only the basic HTML elements and
 * attributes (no scripts, forms, event handlers or processing instructions), a well-formed fragment rooted in an
 * XHTML `div`; txt-2, some non-whitespace content (text, or an image).
 */
const ALLOWED_ELEMENTS = new Set(
  'p br div h1 h2 h3 h4 h5 h6 a span b em i strong small big tt dfn q var abbr acronym cite blockquote hr address bdo kbd sub sup ul ol li dl dt dd pre table caption colgroup col thead tr tfoot tbody th td code samp img'.split(
    ' ',
  ),
);
const ALLOWED_ATTRIBUTES = new Set(
  'title style class id lang xml:lang dir accesskey tabindex xmlns span align valign char charoff abbr axis headers scope rowspan colspan'.split(' '),
);
const ALLOWED_ELEMENT_ATTRIBUTES = new Set(
  'a.href a.name img.src img.border img.alt img.longdesc img.height img.width blockquote.cite q.cite table.summary table.width table.border table.frame table.rules table.cellspacing table.cellpadding col.width colgroup.width th.width td.width td.nowrap'.split(
    ' ',
  ),
);
const XHTML = 'http://www.w3.org/1999/xhtml';
const TAG = /<(\/?)([A-Za-z][A-Za-z0-9_.-]*)((?:\s+[A-Za-z_:][A-Za-z0-9_:.-]*\s*=\s*(?:"[^"<]*"|'[^'<]*'))*)\s*(\/?)>/y;
/** XHTML is XML: only the five XML entities and character references (no &nbsp;). */
const ENTITY_MISUSE = /&(?!(?:amp|lt|gt|quot|apos|#[0-9]+|#x[0-9A-Fa-f]+);)/;
const ATTRIBUTE = /([A-Za-z_:][A-Za-z0-9_:.-]*)\s*=\s*(?:"([^"<]*)"|'([^'<]*)')/g;

interface XhtmlCheck {
  allowed: boolean;
  hasContent: boolean;
}

/** The last result, for the pair txt-1/txt-2 evaluated one after the other on the same string. */
let last: { text: string; result: XhtmlCheck } | undefined;

export function checkXhtml(text: string): XhtmlCheck {
  if (last?.text === text) return last.result;
  const result = scanXhtml(text);
  last = { text, result };
  return result;
}

function scanXhtml(text: string): XhtmlCheck {
  let allowed = true;
  let hasContent = false;
  const open: string[] = [];
  let position = 0;
  let rootSeen = false;
  while (position < text.length) {
    const lt = text.indexOf('<', position);
    const chunk = text.slice(position, lt === -1 ? text.length : lt);
    if (!hasContent && /[^ \t\r\n]/.test(chunk.replace(/&nbsp;|&#160;|&#xa0;/gi, ' '))) hasContent = open.length > 0;
    if (chunk.length && /[^ \t\r\n]/.test(chunk) && open.length === 0) allowed = false;
    if (chunk.includes('&') && ENTITY_MISUSE.test(chunk)) allowed = false;
    if (lt === -1) break;
    if (text.startsWith('<!--', lt)) {
      const end = text.indexOf('-->', lt + 4);
      if (end === -1) return { allowed: false, hasContent };
      position = end + 3;
      continue;
    }
    TAG.lastIndex = lt;
    const match = TAG.exec(text);
    if (!match) return { allowed: false, hasContent };
    const [whole, closing, name, attributes, selfClosing] = match;
    position = lt + whole.length;
    if (closing) {
      if (attributes || selfClosing || open.pop() !== name) return { allowed: false, hasContent };
      continue;
    }
    if (!ALLOWED_ELEMENTS.has(name)) allowed = false;
    if (!rootSeen) {
      rootSeen = true;
      if (name !== 'div' || !attributes.includes(XHTML)) allowed = false;
    } else if (open.length === 0) allowed = false;
    for (const attribute of attributes.matchAll(ATTRIBUTE)) {
      const attr = attribute[1];
      if (!ALLOWED_ATTRIBUTES.has(attr) && !ALLOWED_ELEMENT_ATTRIBUTES.has(`${name}.${attr}`)) allowed = false;
      if (attr === 'xmlns' && (attribute[2] ?? attribute[3]) !== XHTML) allowed = false;
    }
    if (name === 'img') hasContent = true;
    if (!selfClosing) open.push(name);
  }
  if (open.length || !rootSeen) allowed = false;
  return { allowed, hasContent };
}
