import { h } from './dom.js';
import { type Inline, parseMarkdown, splitMatches } from './markdown.js';

/** Turns a run of plain text into nodes (mentions, search matches); strings become text nodes. */
export type Decorate = (text: string) => Array<string | HTMLElement>;

const plain: Decorate = (text) => [text];

/**
 * A message body as DOM: the markdown tree rendered with elements we choose and text nodes
 * for every character the user wrote (never innerHTML), so no user text can become markup.
 */
export function renderBody(body: string, decorate: Decorate = plain): HTMLElement {
  const blocks = parseMarkdown(body).map((block) =>
    block.type === 'code_block'
      ? h('pre', { class: 'code-block' }, h('code', {}, block.text))
      : h('span', { class: 'paragraph' }, ...inlines(block.children, decorate)),
  );
  return h('div', { class: 'body' }, ...blocks);
}

function inlines(nodes: Inline[], decorate: Decorate): Array<string | HTMLElement> {
  return nodes.flatMap((node): Array<string | HTMLElement> => {
    if (node.type === 'text') return decorate(node.text);
    if (node.type === 'bold') return [h('strong', {}, ...inlines(node.children, decorate))];
    if (node.type === 'italic') return [h('em', {}, ...inlines(node.children, decorate))];
    if (node.type === 'code') return [h('code', {}, node.text)];
    return [h('a', { href: node.href, target: '_blank', rel: 'noopener noreferrer nofollow' }, node.text)];
  });
}

/** Marks the parts of `text` that match the search terms with <mark>. */
export function highlight(text: string, terms: readonly string[]): Array<string | HTMLElement> {
  return splitMatches(text, terms).map((run) => (run.match ? h('mark', { class: 'hit' }, run.text) : run.text));
}
