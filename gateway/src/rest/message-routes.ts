import {
  EditMessageBodySchema,
  EmojiSchema,
  HistoryHttpQuerySchema,
  MessageIdSchema,
  parseOrThrow,
  SearchQuerySchema,
  SendMessageBodySchema,
} from '@chat/shared';
import express from 'express';
import type { Upstream } from '../upstream/services.js';
import { actorOf, roomIdOf } from './request.js';

/** History, sending, edits, reactions, receipts and search: the messages service behind REST. */
export function messageRoutes(upstream: Upstream): express.Router {
  const router = express.Router();
  router.get('/search/messages', async (req, res) => {
    res.json(await upstream.search(actorOf(res), parseOrThrow(SearchQuerySchema, req.query, 'query')));
  });
  router.get('/rooms/:room_id/messages', async (req, res) => {
    const roomId = roomIdOf(req);
    res.json(await upstream.history(actorOf(res), roomId, parseOrThrow(HistoryHttpQuerySchema, req.query, 'query')));
  });
  router.post('/rooms/:room_id/messages', async (req, res) => {
    const roomId = roomIdOf(req);
    const body = parseOrThrow(SendMessageBodySchema, req.body, 'message');
    const { message, created } = await upstream.sendMessage(actorOf(res), roomId, body);
    res.status(created ? 201 : 200).json(message);
  });
  router.patch('/rooms/:room_id/messages/:message_id', async (req, res) => {
    const roomId = roomIdOf(req);
    const messageId = parseOrThrow(MessageIdSchema, req.params.message_id, 'message_id');
    const { body } = parseOrThrow(EditMessageBodySchema, req.body, 'message');
    res.json(await upstream.editMessage(actorOf(res), roomId, messageId, body));
  });
  for (const [method, action] of [
    ['put', 'added'],
    ['delete', 'removed'],
  ] as const) {
    router[method]('/rooms/:room_id/messages/:message_id/reactions/:emoji', async (req, res) => {
      const roomId = roomIdOf(req);
      const messageId = parseOrThrow(MessageIdSchema, req.params.message_id, 'message_id');
      const emoji = parseOrThrow(EmojiSchema, req.params.emoji, 'emoji');
      res.json(await upstream.react(actorOf(res), roomId, messageId, emoji, action));
    });
  }
  router.delete('/rooms/:room_id/messages/:message_id', async (req, res) => {
    const roomId = roomIdOf(req);
    const messageId = parseOrThrow(MessageIdSchema, req.params.message_id, 'message_id');
    res.json(await upstream.deleteMessage(actorOf(res), roomId, messageId));
  });
  router.get('/rooms/:room_id/messages/:message_id/receipts', async (req, res) => {
    const roomId = roomIdOf(req);
    const messageId = parseOrThrow(MessageIdSchema, req.params.message_id, 'message_id');
    res.json(await upstream.receipts(actorOf(res), roomId, messageId));
  });
  return router;
}
