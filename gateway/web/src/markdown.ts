/**
 * A small, safe markdown for message bodies: **bold**, *italic* (or _italic_), `code`, fenced
 * code blocks and bare http(s) URLs as links. It parses to plain data (no DOM, no HTML strings):
 * rich-text.ts turns the tree into DOM nodes with text nodes only, so a user's text can never
 * become markup. Anything that is not one of these constructs stays literal text.
 */
export type Inline =
  | { type: 'text'; text: string }
  | { type: 'bold'; children: Inline[] }
  | { type: 'italic'; children: Inline[] }
  | { type: 'code'; text: string }
  | { type: 'link'; href: string; text: string };

export type Block = { type: 'paragraph'; children: Inline[] } | { type: 'code_block'; text: string };

const FENCE = /^\s*```/;
/** Nesting deeper than this is rendered as text (a body of 4000 `*` must stay cheap). */
const MAX_DEPTH = 4;

/** Splits a body into paragraphs (newlines kept: the view shows them) and fenced code blocks. */
export function parseMarkdown(body: string): Block[] {
  const blocks: Block[] = [];
  const lines = body.split('\n');
  let paragraph: string[] = [];
  const flush = () => {
    if (paragraph.length) blocks.push({ type: 'paragraph', children: parseInline(paragraph.join('\n')) });
    paragraph = [];
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    if (!FENCE.test(line)) {
      paragraph.push(line);
      continue;
    }
    const close = lines.findIndex((l, j) => j > i && FENCE.test(l));
    if (close < 0) {
      // An unclosed fence is just text, as in CommonMark chat clients.
      paragraph.push(line);
      continue;
    }
    flush();
    // Text after the opening fence on the same line is a language hint: not shown.
    blocks.push({ type: 'code_block', text: lines.slice(i + 1, close).join('\n') });
    i = close;
  }
  flush();
  return blocks;
}

const isSpace = (c: string | undefined) => c === undefined || /\s/u.test(c);
const isWordChar = (c: string | undefined) => c !== undefined && /[\p{L}\p{N}_]/u.test(c);

/** The inline constructs of one paragraph. */
export function parseInline(text: string, depth = 0): Inline[] {
  const out: Inline[] = [];
  let plain = '';
  const pushText = (t: string) => {
    plain += t;
  };
  const flush = () => {
    if (plain) out.push({ type: 'text', text: plain });
    plain = '';
  };
  let i = 0;
  while (i < text.length) {
    const c = text[i] as string;
    const before = text[i - 1];
    if (c === '`') {
      const end = text.indexOf('`', i + 1);
      if (end > i + 1) {
        flush();
        out.push({ type: 'code', text: text.slice(i + 1, end) });
        i = end + 1;
        continue;
      }
    }
    if (depth < MAX_DEPTH && text.startsWith('**', i) && !isSpace(text[i + 2])) {
      const end = findCloser(text, '**', i + 2);
      if (end > 0) {
        flush();
        out.push({ type: 'bold', children: parseInline(text.slice(i + 2, end), depth + 1) });
        i = end + 2;
        continue;
      }
    }
    if (depth < MAX_DEPTH && (c === '*' || c === '_') && text[i + 1] !== c && !isSpace(text[i + 1])) {
      // snake_case_words stay words: an underscore opens only after a non-word character.
      if (c === '*' || !isWordChar(before)) {
        const end = findCloser(text, c, i + 1, c === '_');
        if (end > 0) {
          flush();
          out.push({ type: 'italic', children: parseInline(text.slice(i + 1, end), depth + 1) });
          i = end + 1;
          continue;
        }
      }
    }
    if ((c === 'h' || c === 'w') && !isWordChar(before)) {
      const link = matchUrl(text, i);
      if (link) {
        flush();
        out.push({ type: 'link', href: link.href, text: link.text });
        i += link.text.length;
        continue;
      }
    }
    pushText(c);
    i++;
  }
  flush();
  return out;
}

/**
 * Where a `marker` closes (or -1): preceded by a non-space and, for a single `*` or `_`, not part
 * of a `**` run. An underscore also needs a non-word character after it.
 */
function findCloser(text: string, marker: string, from: number, wordBoundary = false): number {
  let j = text.indexOf(marker, from);
  while (j >= 0) {
    const ok =
      j > from &&
      !isSpace(text[j - 1]) &&
      (marker.length === 2 || (text[j + 1] !== marker && text[j - 1] !== marker)) &&
      (!wordBoundary || !isWordChar(text[j + 1]));
    if (ok) return j;
    j = text.indexOf(marker, j + 1);
  }
  return -1;
}

const URL_START = /^(?:https?:\/\/|www\.)[^\s<>"]+/i;
const TRAILING = /[.,;:!?'"*_]+$/;

/** A bare URL at `i` (http, https or www.), without trailing punctuation or an unbalanced `)`. */
export function matchUrl(text: string, i: number): { href: string; text: string } | null {
  const match = URL_START.exec(text.slice(i));
  if (!match) return null;
  let url = match[0];
  for (;;) {
    const trimmed = url.replace(TRAILING, '');
    const opens = (trimmed.match(/\(/g) ?? []).length;
    const closes = (trimmed.match(/\)/g) ?? []).length;
    const next = trimmed.endsWith(')') && closes > opens ? trimmed.slice(0, -1) : trimmed;
    if (next === url) break;
    url = next;
  }
  const href = /^www\./i.test(url) ? `https://${url}` : url;
  // Only http(s) ever becomes a link; the URL parser also refuses what a browser would not load.
  try {
    const parsed = new URL(href);
    if ((parsed.protocol !== 'http:' && parsed.protocol !== 'https:') || !parsed.hostname.includes('.')) {
      if (parsed.hostname !== 'localhost') return null;
    }
  } catch {
    return null;
  }
  return url.length > (/^www\./i.test(url) ? 4 : 8) ? { href, text: url } : null;
}

/** The words of a search query, for highlighting (quotes and websearch operators left out). */
export function queryTerms(query: string): string[] {
  return query
    .replace(/["()]/g, ' ')
    .split(/\s+/)
    .map((t) => t.replace(/^-/, ''))
    .filter((t) => t.length > 0 && t.toLowerCase() !== 'or');
}

/** Splits text into runs, marking those that match one of `terms` (case-insensitive). */
export function splitMatches(text: string, terms: readonly string[]): Array<{ text: string; match: boolean }> {
  const usable = terms.filter((t) => t.length > 0);
  if (!usable.length) return [{ text, match: false }];
  const pattern = new RegExp(usable.map((t) => t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'), 'giu');
  const runs: Array<{ text: string; match: boolean }> = [];
  let last = 0;
  for (const m of text.matchAll(pattern)) {
    const at = m.index ?? 0;
    if (m[0].length === 0) continue;
    if (at > last) runs.push({ text: text.slice(last, at), match: false });
    runs.push({ text: m[0], match: true });
    last = at + m[0].length;
  }
  if (last < text.length) runs.push({ text: text.slice(last), match: false });
  return runs;
}
