// Caption text as it is stored and exported: Unicode NFC, no control characters, single spaces. Odd
// but legitimate characters (accents, CJK, emoji) stay; lone surrogates (which no UTF-8 file can
// hold) become U+FFFD, so a JSON writer never emits something a Python loader chokes on.

// C0 and C1 controls, DEL, and the invisible format characters that break tokenizers (zero-width
// space, joiners, BOM, bidi overrides); tabs and newlines become spaces first.
const CONTROLS =
  // eslint-disable-next-line no-control-regex
  /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\u200B-\u200D\u2028\u2029\u202A-\u202E\u2060\u2066-\u2069\uFEFF]/g;

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

export function cleanCaption(text: string): string {
  return text
    .replace(LONE_SURROGATE, '\uFFFD')
    .normalize('NFC')
    .replace(/[\t\n\r]+/g, ' ')
    .replace(CONTROLS, '')
    .replace(/\s+/g, ' ')
    .trim();
}

/** Whether cleaning changes the text (the export reports such captions). */
export const needsCleaning = (text: string): boolean => cleanCaption(text) !== text;
