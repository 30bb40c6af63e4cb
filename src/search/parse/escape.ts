/**
 * Search value escaping (https://hl7.org/fhir/R4/search.html#escaping): `\,` `\|` `\$` and `\\` stand for the
 * literal characters; unescaped `,` separates alternatives (OR), `|` separates system/code parts and `$`
 * separates composite components.
 */

/** Splits on every unescaped `separator`, keeping escapes in the parts (so later splits still see them). */
export function splitEscaped(value: string, separator: ',' | '|' | '$'): string[] {
  // Most values have no escape at all: then it is a plain split.
  if (!value.includes('\\')) return value.split(separator);
  const parts: string[] = [];
  let current = '';
  for (let i = 0; i < value.length; i++) {
    const ch = value[i]!;
    if (ch === '\\' && i + 1 < value.length) {
      current += ch + value[i + 1];
      i++;
    } else if (ch === separator) {
      parts.push(current);
      current = '';
    } else {
      current += ch;
    }
  }
  parts.push(current);
  return parts;
}

/** Removes the escapes: `\,` -> `,`, `\|` -> `|`, `\$` -> `$`, `\\` -> `\`. Other backslashes stay as written. */
export function unescapeValue(value: string): string {
  return value.includes('\\') ? value.replace(/\\([,|$\\])/g, '$1') : value;
}
