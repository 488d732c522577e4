import type { z } from 'zod';
import { CompatClientFrameSchema, EphemeralEventSchema, RoomEventSchema } from '../contracts/frames.js';
import { HOST_EVENT_TYPES, HostEventSchema, hostEventTypes } from '../contracts/host-events.js';
import type { Endpoint } from '../nats/endpoint.js';
import { RpcEnvelopeSchema } from '../nats/envelope.js';
import { durables, rpcQueueGroup, streams, subjects } from '../nats/subjects.js';
import { messagesRpc } from '../rpc/messages.js';
import { notifierRpc } from '../rpc/notifier.js';
import { roomsRpc } from '../rpc/rooms.js';
import { namedJsonSchemas, publicSchemas, socketFrames } from './schemas.js';

const frameType = (schema: z.ZodObject): string => (schema.shape.type as z.ZodLiteral<string>).value;
const schemaRef = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const messageRef = (channel: string, name: string) => ({ $ref: `#/channels/${channel}/messages/${name}` });
/** A frame or event type as a part of a schema or operation id (`message.created` → `message_created`). */
const idPart = (type: string): string => type.replace(/\W/g, '_');
/** Subjects are rendered from nats/subjects.ts with their variable parts as AsyncAPI parameters. */
const NS = '{namespace}';

/**
 * The socket's frame families: the modern channel takes client and server frames, the compatibility
 * path takes every one of those (room_id optional) and, besides, the earlier systems' own.
 */
const frameFamilies = [
  {
    key: 'client',
    schema: 'Client',
    title: 'Client → server',
    action: 'receive',
    operation: 'receive_',
    channel: 'socket',
    frames: socketFrames.client,
  },
  {
    key: 'server',
    schema: 'Server',
    title: 'Server → client',
    action: 'send',
    operation: 'send_',
    channel: 'socket',
    frames: socketFrames.server,
  },
  {
    key: 'compat',
    schema: 'Compat',
    title: 'Client → server on the compatibility path only',
    action: 'receive',
    operation: 'receive_compat_',
    channel: 'legacy',
    frames: CompatClientFrameSchema.options,
  },
] as const;

/** AsyncAPI 3 document of the WebSocket protocol (DESIGN.md section 6), from the zod contracts. */
export function buildSocketAsyncApi(version: string): Record<string, unknown> {
  const named: Record<string, z.ZodType> = { ...publicSchemas };
  const messages: Record<string, unknown> = {};
  const channelMessages: Record<'socket' | 'legacy', Record<string, unknown>> = { socket: {}, legacy: {} };
  const operations: Record<string, unknown> = {};
  for (const family of frameFamilies) {
    for (const frame of family.frames as readonly z.ZodObject[]) {
      const type = frameType(frame);
      const key = `${family.key}.${type}`;
      const schemaName = `${family.schema}_${idPart(type)}`;
      named[schemaName] = frame;
      messages[key] = { name: type, title: `${family.title}: ${type}`, contentType: 'application/json', payload: schemaRef(schemaName) };
      channelMessages[family.channel][key] = { $ref: `#/components/messages/${key}` };
      operations[`${family.operation}${idPart(type)}`] = {
        action: family.action,
        channel: { $ref: `#/channels/${family.channel}` },
        messages: [messageRef(family.channel, key)],
      };
    }
  }
  const legacyMessages = { ...channelMessages.socket, ...channelMessages.legacy };
  return {
    asyncapi: '3.0.0',
    info: {
      title: 'Chat WebSocket protocol',
      version,
      description:
        'One socket carries any number of rooms; frames are JSON text. Authenticate with `?token=` or `Authorization: Bearer`; ' +
        'a missing or invalid token closes the socket with 4001 (no hello). Every request frame is answered by `ack` or `error` with the ' +
        'same `id`. Close codes: 4001 unauthenticated, 4003 forbidden, 4008 rate or policy violation, 4009 too slow, 1009 frame too big, ' +
        '1012 server restarting (reconnect with jittered back-off and resume with since_seq). See docs/clients.md.',
    },
    defaultContentType: 'application/json',
    servers: {
      local: { host: 'localhost:8081', protocol: 'ws', pathname: '/v1/ws', description: 'GATEWAY_WS_PORT of a local stack' },
    },
    channels: {
      socket: { address: '/v1/ws', title: 'The chat socket', messages: channelMessages.socket },
      legacy: {
        address: '/ws/chat/{room_id}/',
        title:
          'Compatibility path of the earlier system: opens already subscribed to one room (4003 when the user may not see it); ' +
          "right after hello come the room's last 50 messages, oldest first, as message.created events, then the subscribe ack " +
          "(id null) and live events. Frames may leave room_id out (the path's room is meant); the earlier systems' frames " +
          '(compat.*) are answered like their modern equivalents',
        parameters: { room_id: { description: 'The room to open subscribed to' } },
        messages: legacyMessages,
      },
    },
    operations,
    components: { messages, schemas: namedJsonSchemas(named, '#/components/schemas/', 'draft-7') },
  };
}

/** AsyncAPI 3 document of the internal NATS subjects: RPC endpoints, the event stream, signals. */
export function buildNatsAsyncApi(version: string): Record<string, unknown> {
  const endpoints: Endpoint[] = [...Object.values(roomsRpc), ...Object.values(messagesRpc), ...Object.values(notifierRpc)];
  const named = new Map<z.ZodType, string>();
  const name = (schema: z.ZodType, wanted: string) => {
    if (!named.has(schema)) named.set(schema, wanted);
    return named.get(schema) as string;
  };
  name(RpcEnvelopeSchema, 'RpcEnvelope');
  const channels: Record<string, unknown> = {};
  const operations: Record<string, unknown> = {};
  const messages: Record<string, unknown> = {};
  const replyMessages: Record<string, unknown> = {};
  for (const endpoint of endpoints) {
    const id = `${endpoint.service}_${endpoint.name}`;
    const request = name(endpoint.request, `${id}_request`);
    const reply = name(endpoint.response, `${id}_reply_data`);
    messages[`${id}.request`] = { name: `${id}.request`, summary: endpoint.description, payload: schemaRef(request) };
    messages[`${id}.reply`] = {
      name: `${id}.reply`,
      summary: `Envelope {ok:true, data: ${reply}} or {ok:false, error}`,
      payload: { allOf: [schemaRef('RpcEnvelope')], properties: { data: schemaRef(reply) } },
    };
    replyMessages[`${id}.reply`] = { $ref: `#/components/messages/${id}.reply` };
    channels[id] = {
      address: subjects.rpc(NS, endpoint.service, endpoint.name),
      title: `${endpoint.service}.${endpoint.name} (queue group ${rpcQueueGroup(NS, endpoint.service)})`,
      parameters: { namespace: { description: 'CHAT_NAMESPACE' } },
      messages: { [`${id}.request`]: { $ref: `#/components/messages/${id}.request` } },
    };
    operations[id] = {
      action: 'receive',
      summary: endpoint.description,
      channel: { $ref: `#/channels/${id}` },
      messages: [messageRef(id, `${id}.request`)],
      reply: { channel: { $ref: '#/channels/rpcReply' }, messages: [messageRef('rpcReply', `${id}.reply`)] },
    };
  }
  channels.rpcReply = { address: null, title: "The requester's inbox (NATS reply subject)", messages: replyMessages };
  const events: Record<string, unknown> = {};
  for (const [kind, schemas] of [
    ['event', RoomEventSchema.options],
    ['signal', EphemeralEventSchema.options],
  ] as const) {
    for (const schema of schemas as z.ZodObject[]) {
      const type = frameType(schema);
      const key = `${kind}.${type}`;
      messages[key] = { name: type, payload: schemaRef(name(schema, `${kind}_${idPart(type)}`)) };
      events[key] = { $ref: `#/components/messages/${key}` };
    }
  }
  channels.roomEvents = {
    address: subjects.roomEvents(NS, '{room_id}'),
    title: `Persisted room events: JetStream stream ${streams.roomEvents(NS)}, published by the outbox relay with Nats-Msg-Id <room_id>:<seq>`,
    parameters: { namespace: { description: 'CHAT_NAMESPACE' }, room_id: { description: 'Room id' } },
    messages: Object.fromEntries(Object.entries(events).filter(([key]) => key.startsWith('event.'))),
  };
  channels.roomSignals = {
    address: subjects.roomSignal(NS, '{room_id}', '{type}'),
    title: 'Ephemeral room signals (core NATS): membership, read, typing, presence; the subject ends with the signal type',
    parameters: {
      namespace: { description: 'CHAT_NAMESPACE' },
      room_id: { description: 'Room id' },
      type: { description: 'The signal type (typing, read, presence, room.updated, member.added, member.removed)' },
    },
    messages: Object.fromEntries(Object.entries(events).filter(([key]) => key.startsWith('signal.'))),
  };
  for (const type of HOST_EVENT_TYPES.filter((t) => !hostEventTypes[t].persisted)) {
    const schema = (HostEventSchema.options as z.ZodObject[]).find((o) => frameType(o) === type) as z.ZodObject;
    messages[`activity.${type}`] = {
      name: type,
      payload: schemaRef(name(schema.omit({ seq: true }), `activity_${idPart(type)}`)),
    };
    events[`activity.${type}`] = { $ref: `#/components/messages/activity.${type}` };
  }
  channels.roomActivity = {
    address: subjects.roomActivity(NS, '{room_id}', '{type}'),
    title:
      `Room activity for the host application (JetStream stream ${streams.roomActivity(NS)}, Nats-Msg-Id = the event id): membership, ` +
      'room changes and reports, already in the event webhook shape (DESIGN 10.4); outside room.{room_id}.> so gateways never get it',
    parameters: {
      namespace: { description: 'CHAT_NAMESPACE' },
      room_id: { description: 'Room id' },
      type: { description: 'The event type (member.added, member.removed, room.updated, room.closed, message.reported)' },
    },
    messages: Object.fromEntries(Object.entries(events).filter(([key]) => key.startsWith('activity.'))),
  };
  operations.publishRoomActivity = {
    action: 'send',
    summary: 'rooms-service and messages-service (reports) (RoomActivityPublisher, after the commit, in order)',
    channel: { $ref: '#/channels/roomActivity' },
  };
  operations.consumeRoomActivity = {
    action: 'receive',
    summary: `notifier-worker: durable consumer ${durables.hostActivity(NS)} (event webhook), beside ${durables.hostEvents(NS)} on the room events`,
    channel: { $ref: '#/channels/roomActivity' },
  };
  channels.accessChanged = {
    address: subjects.accessChanged(NS, '{room_id}'),
    title:
      'Core NATS, empty body: what a member may do in the room changed with nothing to show (a block in a direct room); access caches forget the room',
    parameters: { namespace: { description: 'CHAT_NAMESPACE' }, room_id: { description: 'Room id' } },
  };
  operations.publishAccessChanged = { action: 'send', summary: 'rooms-service (blocks)', channel: { $ref: '#/channels/accessChanged' } };
  operations.consumeAccessChanged = {
    action: 'receive',
    summary: 'messages-service (access cache)',
    channel: { $ref: '#/channels/accessChanged' },
  };
  operations.publishRoomEvents = { action: 'send', summary: 'messages-service outbox relay', channel: { $ref: '#/channels/roomEvents' } };
  operations.consumeRoomEvents = {
    action: 'receive',
    summary: 'gateways (core subscription per room), rooms projection, notifier and search indexer (durable consumers)',
    channel: { $ref: '#/channels/roomEvents' },
  };
  operations.publishRoomSignals = { action: 'send', summary: 'rooms-service and gateways', channel: { $ref: '#/channels/roomSignals' } };
  operations.consumeRoomSignals = {
    action: 'receive',
    summary: 'gateways, the messages service (access cache) and the notifier (badges)',
    channel: { $ref: '#/channels/roomSignals' },
  };
  return {
    asyncapi: '3.0.0',
    info: {
      title: 'Chat internal NATS subjects',
      version,
      description:
        'Request/reply between the gateway and the services (typed endpoints; W3C traceparent in message headers), and the room event ' +
        'stream. Internal: versioned with the services, not a public contract.',
    },
    defaultContentType: 'application/json',
    servers: { local: { host: 'localhost:4222', protocol: 'nats' } },
    channels,
    operations,
    components: {
      messages,
      schemas: namedJsonSchemas(Object.fromEntries([...named].map(([schema, id]) => [id, schema])), '#/components/schemas/', 'draft-7'),
    },
  };
}
