import { describe, expect, it } from 'vitest';
import { matchUrl, parseInline, parseMarkdown, queryTerms, splitMatches } from '../../gateway/web/src/markdown.js';

const text = (t: string) => ({ type: 'text', text: t });

describe('chatbox markdown parser', () => {
  it('parses bold, italic, inline code and leaves plain text alone', () => {
    expect(parseInline('a **b** *c* _d_ `e`')).toEqual([
      text('a '),
      { type: 'bold', children: [text('b')] },
      text(' '),
      { type: 'italic', children: [text('c')] },
      text(' '),
      { type: 'italic', children: [text('d')] },
      text(' '),
      { type: 'code', text: 'e' },
    ]);
    expect(parseInline('just words')).toEqual([text('just words')]);
  });

  it('nests emphasis inside bold, but not markup inside code', () => {
    expect(parseInline('**very *much* so**')).toEqual([
      { type: 'bold', children: [text('very '), { type: 'italic', children: [text('much')] }, text(' so')] },
    ]);
    expect(parseInline('`**not bold** <b>`')).toEqual([{ type: 'code', text: '**not bold** <b>' }]);
  });

  it('keeps arithmetic, snake_case, lone markers and unclosed markers literal', () => {
    for (const literal of ['3 * 4 * 5', 'snake_case_name', 'a ** b', '*unclosed', '`open', '__init__ x', '** spaced **', '_']) {
      expect(
        parseInline(literal)
          .map((n) => (n.type === 'text' ? n.text : n.type))
          .join(''),
      ).toBe(literal);
    }
  });

  it('never produces HTML: markup is text', () => {
    expect(parseInline('<script>alert(1)</script><b>x</b>')).toEqual([text('<script>alert(1)</script><b>x</b>')]);
  });

  it('makes fenced code blocks, keeping their text verbatim; an unclosed fence is text', () => {
    expect(parseMarkdown('before\n```js\nconst a = **1**;\n  <i>\n```\nafter')).toEqual([
      { type: 'paragraph', children: [text('before')] },
      { type: 'code_block', text: 'const a = **1**;\n  <i>' },
      { type: 'paragraph', children: [text('after')] },
    ]);
    expect(parseMarkdown('```\nno end')).toEqual([{ type: 'paragraph', children: [text('```\nno end')] }]);
    expect(parseMarkdown('line one\nline two')).toEqual([{ type: 'paragraph', children: [text('line one\nline two')] }]);
  });

  it('links bare http(s) and www URLs without trailing punctuation, and nothing else', () => {
    expect(parseInline('see https://example.com/a?b=1. ok')).toEqual([
      text('see '),
      { type: 'link', href: 'https://example.com/a?b=1', text: 'https://example.com/a?b=1' },
      text('. ok'),
    ]);
    expect(parseInline('(www.example.org/x)')).toEqual([
      text('('),
      { type: 'link', href: 'https://www.example.org/x', text: 'www.example.org/x' },
      text(')'),
    ]);
    expect(matchUrl('https://en.wikipedia.org/wiki/Foo_(bar),', 0)?.text).toBe('https://en.wikipedia.org/wiki/Foo_(bar)');
    for (const notLink of ['javascript:alert(1)', 'data:text/html,<b>', 'ftp://example.com', 'https://', 'mailhttp://x.com']) {
      expect(parseInline(notLink).some((n) => n.type === 'link')).toBe(false);
    }
    expect(parseInline('**https://example.com**')).toEqual([
      { type: 'bold', children: [{ type: 'link', href: 'https://example.com', text: 'https://example.com' }] },
    ]);
  });

  it('stays fast on pathological input', () => {
    const started = performance.now();
    parseMarkdown('*a'.repeat(2000));
    parseMarkdown('**'.repeat(2000));
    parseMarkdown('`'.repeat(4000));
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it('splits text on search terms for highlighting, case-insensitively', () => {
    expect(queryTerms('"late checkout" -spam or keys')).toEqual(['late', 'checkout', 'spam', 'keys']);
    expect(splitMatches('Late CHECKOUT for 12', ['late', 'checkout'])).toEqual([
      { text: 'Late', match: true },
      { text: ' ', match: false },
      { text: 'CHECKOUT', match: true },
      { text: ' for 12', match: false },
    ]);
    expect(splitMatches('a+b', ['+'])).toEqual([
      { text: 'a', match: false },
      { text: '+', match: true },
      { text: 'b', match: false },
    ]);
  });
});
