import { describe, expect, it } from 'vitest';
import {
  acknowledgementProblem,
  attachmentProblem,
  deriveKind,
  normaliseBody,
  planHistory,
  toAttachment,
  toMessage,
} from './message-rules.js';
import type { MessageRow } from './rows.js';

/** A message as the repository returns it, alive and plain; each test overrides what it is about. */
function storedMessage(overrides: Partial<MessageRow>): MessageRow {
  return {
    id: 'm',
    room_id: 'r',
    seq: 4,
    sender_id: 'u',
    sender_name: null,
    client_msg_id: 'c',
    kind: 'text',
    body: 'hello',
    mentions: [],
    reply_to: null,
    thread_root_id: null,
    attachments: [],
    priority: 'normal',
    ack_requested: false,
    ack_count: 0,
    created_at: new Date('2026-01-01T00:00:00Z'),
    edited_at: null,
    deleted_at: null,
    ...overrides,
  };
}

describe('message rules', () => {
  it('trims bodies and enforces 1..max characters after trimming', () => {
    expect(normaliseBody('  hi \n', 10)).toBe('hi');
    expect(() => normaliseBody(' \n\t ', 10)).toThrow(/empty/);
    expect(normaliseBody('é'.repeat(10), 10)).toHaveLength(10);
    expect(() => normaliseBody('x'.repeat(11), 10)).toThrow(/longer than 10/);
    expect(normaliseBody('😀'.repeat(10), 10)).toBe('😀'.repeat(10));
  });

  it('derives the kind from attachments', () => {
    const file = { id: 'a', name: 'a.pdf', content_type: 'application/pdf', size: 1, url: '/a' };
    expect(deriveKind([])).toBe('text');
    expect(deriveKind([file])).toBe('file');
    expect(deriveKind([file, { ...file, content_type: 'image/png' }])).toBe('image');
  });

  it('plans history pages', () => {
    expect(planHistory({})).toMatchObject({ direction: 'older', limit: 50 });
    expect(planHistory({ after_seq: 3, limit: 5 })).toMatchObject({ direction: 'newer', afterSeq: 3, limit: 5 });
    expect(() => planHistory({ after_seq: 5, before_seq: 6 })).toThrow(/after_seq/);
  });

  it('shows a deleted message with its place but no body or attachments', () => {
    const message = toMessage(
      storedMessage({
        kind: 'image',
        body: 'secret',
        attachments: [{ id: 'a', name: 'x.png', content_type: 'image/png', size: 1, url: '/a' }],
        deleted_at: new Date('2026-01-02T00:00:00Z'),
      }),
    );
    expect(message).toMatchObject({ seq: 4, body: '', attachments: [], deleted_at: '2026-01-02T00:00:00.000Z' });
  });

  it('shows acknowledgements with `me` for one viewer and without it for events', () => {
    const row = storedMessage({ body: 'Fire drill at 10', priority: 'urgent', ack_requested: true, ack_count: 2 });
    expect(toMessage(row).acknowledgements).toEqual({ count: 2 });
    expect(toMessage(row, [], true)).toMatchObject({ priority: 'urgent', ack_requested: true, acknowledgements: { count: 2, me: true } });
    expect(acknowledgementProblem(row, 'v')).toBeNull();
    expect(acknowledgementProblem(row, 'u')).toMatch(/sender/);
    expect(acknowledgementProblem({ ...row, ack_requested: false }, 'v')).toMatch(/does not ask/);
    expect(acknowledgementProblem({ ...row, deleted_at: new Date() }, 'v')).toMatch(/deleted/);
  });
});

describe('attachment rules', () => {
  const row = {
    id: 'a',
    room_id: 'r1',
    uploader_id: 'u1',
    message_id: null,
    name: 'x.png',
    content_type: 'image/png',
    size: 10,
    width: 2,
    height: 3,
    storage_key: 'r1/a',
    thumbnail_content_type: null,
    thumbnail_size: null,
    thumbnail_width: null,
    thumbnail_height: null,
    created_at: new Date(),
    deleted_at: null,
    sweep_until: null,
    blob_deleted_at: null,
  };
  it('lets an upload go into one message of its uploader in its room', () => {
    expect(attachmentProblem(row, 'r1', 'u1')).toBeNull();
    expect(attachmentProblem(undefined, 'r1', 'u1')).toBe('no such attachment');
    expect(attachmentProblem({ ...row, deleted_at: new Date() }, 'r1', 'u1')).toBe('no such attachment');
    expect(attachmentProblem(row, 'r2', 'u1')).toBe('uploaded to another room');
    expect(attachmentProblem(row, 'r1', 'u2')).toBe('uploaded by someone else');
    expect(attachmentProblem({ ...row, message_id: 'm' }, 'r1', 'u1')).toBe('already part of a message');
    expect(toAttachment(row)).toEqual({
      id: 'a',
      name: 'x.png',
      content_type: 'image/png',
      size: 10,
      url: '/v1/attachments/a',
      width: 2,
      height: 3,
    });
    expect(toAttachment({ ...row, thumbnail_content_type: 'image/jpeg', thumbnail_size: 9 }).thumbnail_url).toBe(
      '/v1/attachments/a?size=thumb',
    );
  });

  it('allows an empty body only beside attachments', () => {
    expect(normaliseBody('  ', 10, true)).toBe('');
    expect(() => normaliseBody('  ', 10)).toThrow(/empty/);
  });
});
