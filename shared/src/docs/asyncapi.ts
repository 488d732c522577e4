import type { z } from 'zod';
import { EphemeralEventSchema, RoomEventSchema } from '../contracts/frames.js';
import type { Endpoint } from '../nats/endpoint.js';
import { RpcEnvelopeSchema } from '../nats/envelope.js';
import { messagesRpc } from '../rpc/messages.js';
import { notifierRpc } from '../rpc/notifier.js';
import { roomsRpc } from '../rpc/rooms.js';
import { namedJsonSchemas, publicSchemas, socketFrames } from './schemas.js';

const frameType = (schema: z.ZodObject): string => (schema.shape.type as z.ZodLiteral<string>).value;
const schemaRef = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const messageRef = (channel: string, name: string) => ({ $ref: `#/channels/${channel}/messages/${name}` });

/** AsyncAPI 3 document of the WebSocket protocol (DESIGN.md section 6), from the zod contracts. */
export function buildSocketAsyncApi(version: string): Record<string, unknown> {
  const named: Record<string, z.ZodType> = { ...publicSchemas };
  const messages: Record<string, unknown> = {};
  const channelMessages: Record<string, unknown> = {};
  const operations: Record<string, unknown> = {};
  for (const [direction, frames] of [
    ['client', socketFrames.client],
    ['server', socketFrames.server],
  ] as const) {
    for (const frame of frames as z.ZodObject[]) {
      const type = frameType(frame);
      const key = `${direction}.${type}`;
      const schemaName = `${direction === 'client' ? 'Client' : 'Server'}_${type.replace(/\W/g, '_')}`;
      named[schemaName] = frame;
      messages[key] = {
        name: type,
        title: `${direction === 'client' ? 'Client → server' : 'Server → client'}: ${type}`,
        contentType: 'application/json',
        payload: schemaRef(schemaName),
      };
      channelMessages[key] = { $ref: `#/components/messages/${key}` };
      operations[`${direction === 'client' ? 'receive' : 'send'}_${type.replace(/\W/g, '_')}`] = {
        action: direction === 'client' ? 'receive' : 'send',
        channel: { $ref: '#/channels/socket' },
        messages: [messageRef('socket', key)],
      };
    }
  }
  const serverMessages = Object.fromEntries(Object.entries(channelMessages).filter(([key]) => key.startsWith('server.')));
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
      socket: { address: '/v1/ws', title: 'The chat socket', messages: channelMessages },
      legacy: {
        address: '/ws/chat/{room_id}/',
        title: 'Compatibility path of the earlier system: opens already subscribed to one room (4003 when the user may not see it)',
        parameters: { room_id: { description: 'The room to open subscribed to' } },
        messages: serverMessages,
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
      address: `{namespace}.rpc.${endpoint.service}.${endpoint.name}`,
      title: `${endpoint.service}.${endpoint.name} (queue group {namespace}-${endpoint.service})`,
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
      messages[key] = { name: type, payload: schemaRef(name(schema, `${kind}_${type.replace(/\W/g, '_')}`)) };
      events[key] = { $ref: `#/components/messages/${key}` };
    }
  }
  channels.roomEvents = {
    address: '{namespace}.room.{room_id}.event',
    title:
      'Persisted room events: JetStream stream {namespace}_room_events, published by the outbox relay with Nats-Msg-Id <room_id>:<seq>',
    parameters: { namespace: { description: 'CHAT_NAMESPACE' }, room_id: { description: 'Room id' } },
    messages: Object.fromEntries(Object.entries(events).filter(([key]) => key.startsWith('event.'))),
  };
  channels.roomSignals = {
    address: '{namespace}.room.{room_id}.signal.{type}',
    title: 'Ephemeral room signals (core NATS): membership, read, typing, presence; the subject ends with the signal type',
    parameters: {
      namespace: { description: 'CHAT_NAMESPACE' },
      room_id: { description: 'Room id' },
      type: { description: 'The signal type (typing, read, presence, room.updated, member.added, member.removed)' },
    },
    messages: Object.fromEntries(Object.entries(events).filter(([key]) => key.startsWith('signal.'))),
  };
  operations.publishRoomEvents = { action: 'send', summary: 'messages-service outbox relay', channel: { $ref: '#/channels/roomEvents' } };
  operations.consumeRoomEvents = {
    action: 'receive',
    summary: 'gateways (core subscription per room), rooms projection and notifier (durable consumers)',
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
