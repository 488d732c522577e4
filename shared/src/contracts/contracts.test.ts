import { describe, expect, it } from 'vitest';
import { ChatError, parseOrThrow } from '../errors/index.js';
import { countChars } from './common.js';
import { decodeTimeIdCursor, encodeTimeIdCursor } from './cursor.js';
import { ClientFrameSchema, EmojiSchema } from './frames.js';
import { CreateRoomBodySchema } from './room.js';

describe('contracts', () => {
  it('round-trips time-and-id cursors and rejects foreign ones', () => {
    const cursor = encodeTimeIdCursor({ micros: 1_760_000_000_123_456, id: '7f7a1c52-4b8e-4a55-9d3a-4a8f0b6e1c11' });
    expect(decodeTimeIdCursor(cursor)).toEqual({ micros: 1_760_000_000_123_456, id: '7f7a1c52-4b8e-4a55-9d3a-4a8f0b6e1c11' });
    expect(decodeTimeIdCursor('zzz')).toBeNull();
  });

  it('counts characters as code points', () => {
    expect(countChars('😀😀')).toBe(2);
    expect('😀😀'.length).toBe(4);
  });

  it('parses every client frame type and rejects unknown ones', () => {
    const room_id = '7f7a1c52-4b8e-4a55-9d3a-4a8f0b6e1c11';
    expect(ClientFrameSchema.parse({ type: 'subscribe', room_id, since_seq: 4 })).toMatchObject({ since_seq: 4 });
    expect(ClientFrameSchema.parse({ type: 'message.send', id: 'a', room_id, client_msg_id: 'c', body: 'hi' }).type).toBe('message.send');
    expect(ClientFrameSchema.safeParse({ type: 'message.send', room_id, client_msg_id: 'x'.repeat(65), body: 'hi' }).success).toBe(false);
    expect(ClientFrameSchema.safeParse({ type: 'nope' }).success).toBe(false);
    expect(ClientFrameSchema.safeParse({ type: 'read', room_id, seq: -1 }).success).toBe(false);
  });

  it('accepts emoji and short codes only', () => {
    expect(EmojiSchema.safeParse('👍').success).toBe(true);
    expect(EmojiSchema.safeParse('👍🏽').success).toBe(true);
    expect(EmojiSchema.safeParse(':thumbs_up:').success).toBe(true);
    expect(EmojiSchema.safeParse('<b>').success).toBe(false);
  });

  it('turns schema failures into invalid errors with per-field details', () => {
    try {
      parseOrThrow(CreateRoomBodySchema, { kind: 'group', title: '', member_ids: ['a', 'a'] }, 'room');
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ChatError);
      const chat = error as ChatError;
      expect(chat.code).toBe('invalid');
      expect(chat.details?.map((d) => d.path).sort()).toEqual(['member_ids', 'title']);
    }
  });
});
