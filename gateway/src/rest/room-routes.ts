import {
  AddMembersBodySchema,
  ChangeRoleBodySchema,
  ContextRefSchema,
  ContextRoomBodySchema,
  CreateRoomBodySchema,
  ListMembersQuerySchema,
  ListRoomsQuerySchema,
  MembershipSettingsBodySchema,
  parseOrThrow,
  ReadBodySchema,
  RenameRoomBodySchema,
  UserIdSchema,
} from '@chat/shared';
import express from 'express';
import type { Upstream } from '../upstream/services.js';
import { actorOf, roomIdOf } from './request.js';

/** Rooms, membership, read state: the rooms service behind REST. */
export function roomRoutes(upstream: Upstream): express.Router {
  const router = express.Router();

  router.post('/rooms', async (req, res) => {
    const body = parseOrThrow(CreateRoomBodySchema, req.body, 'room');
    const { room, created } = await upstream.createRoom(actorOf(res), body);
    res.status(created ? 201 : 200).json(room);
  });
  router.get('/rooms', async (req, res) => {
    res.json(await upstream.listRooms(actorOf(res), parseOrThrow(ListRoomsQuerySchema, req.query, 'query')));
  });
  router.get('/rooms/:room_id', async (req, res) => {
    res.json(await upstream.getRoom(actorOf(res), roomIdOf(req)));
  });
  router.patch('/rooms/:room_id', async (req, res) => {
    const roomId = roomIdOf(req);
    const { title } = parseOrThrow(RenameRoomBodySchema, req.body, 'room');
    res.json(await upstream.renameRoom(actorOf(res), roomId, title));
  });
  router.patch('/rooms/:room_id/membership', async (req, res) => {
    const roomId = roomIdOf(req);
    res.json(await upstream.updateMembership(actorOf(res), roomId, parseOrThrow(MembershipSettingsBodySchema, req.body, 'membership')));
  });
  router.get('/rooms/:room_id/members', async (req, res) => {
    const roomId = roomIdOf(req);
    res.json(await upstream.listMembers(actorOf(res), roomId, parseOrThrow(ListMembersQuerySchema, req.query, 'query')));
  });
  router.post('/rooms/:room_id/members', async (req, res) => {
    const roomId = roomIdOf(req);
    res.json(await upstream.addMembers(actorOf(res), roomId, parseOrThrow(AddMembersBodySchema, req.body, 'members')));
  });
  router.patch('/rooms/:room_id/members/:user_id', async (req, res) => {
    const roomId = roomIdOf(req);
    const userId = parseOrThrow(UserIdSchema, req.params.user_id, 'user_id');
    const { role } = parseOrThrow(ChangeRoleBodySchema, req.body, 'role');
    res.json(await upstream.changeRole(actorOf(res), roomId, userId, role));
  });
  router.delete('/rooms/:room_id/members/:user_id', async (req, res) => {
    const roomId = roomIdOf(req);
    const userId = parseOrThrow(UserIdSchema, req.params.user_id, 'user_id');
    await upstream.removeMember(actorOf(res), roomId, userId);
    res.status(204).end();
  });
  router.put('/contexts/:type/:id/room', async (req, res) => {
    const context = parseOrThrow(ContextRefSchema, { type: req.params.type, id: req.params.id }, 'context');
    const body = parseOrThrow(ContextRoomBodySchema, req.body, 'context room');
    const { room, created } = await upstream.ensureContextRoom(actorOf(res), context, body);
    res.status(created ? 201 : 200).json(room);
  });
  router.post('/rooms/:room_id/read', async (req, res) => {
    const roomId = roomIdOf(req);
    const { seq } = parseOrThrow(ReadBodySchema, req.body, 'read');
    res.json(await upstream.markRead(actorOf(res), roomId, seq));
  });
  router.get('/me/unread', async (_req, res) => {
    res.json(await upstream.unreadSummary(actorOf(res)));
  });
  return router;
}
