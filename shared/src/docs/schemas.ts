import { z } from 'zod';
import { pageSchema } from '../contracts/common.js';
import { DeviceSchema, RegisterDeviceBodySchema } from '../contracts/device.js';
import {
  AckFrameSchema,
  ClientFrameSchema,
  EphemeralEventSchema,
  ErrorFrameSchema,
  HelloFrameSchema,
  PongFrameSchema,
  ResyncFrameSchema,
  RoomEventSchema,
} from '../contracts/frames.js';
import {
  AttachmentSchema,
  EditMessageBodySchema,
  MessageSchema,
  ReactionSummarySchema,
  SendMessageBodySchema,
} from '../contracts/message.js';
import {
  AddMembersBodySchema,
  ChangeRoleBodySchema,
  ContextRefSchema,
  ContextRoomBodySchema,
  CreateRoomBodySchema,
  MemberSchema,
  MembershipSettingsBodySchema,
  ReadBodySchema,
  ReadStateSchema,
  ReceiptSchema,
  RenameRoomBodySchema,
  RoomMeSchema,
  RoomSchema,
  UnreadSummarySchema,
} from '../contracts/room.js';
import { ProblemSchema } from '../errors/index.js';

/** The named schemas of the public contract, by the name they have in the generated documents. */
export const publicSchemas = {
  Message: MessageSchema,
  Attachment: AttachmentSchema,
  ReactionSummary: ReactionSummarySchema,
  Room: RoomSchema,
  RoomMe: RoomMeSchema,
  ContextRef: ContextRefSchema,
  Member: MemberSchema,
  Receipt: ReceiptSchema,
  ReadState: ReadStateSchema,
  UnreadSummary: UnreadSummarySchema,
  Device: DeviceSchema,
  Problem: ProblemSchema,
  CreateRoomBody: CreateRoomBodySchema,
  RenameRoomBody: RenameRoomBodySchema,
  MembershipSettingsBody: MembershipSettingsBodySchema,
  AddMembersBody: AddMembersBodySchema,
  ChangeRoleBody: ChangeRoleBodySchema,
  ContextRoomBody: ContextRoomBodySchema,
  SendMessageBody: SendMessageBodySchema,
  EditMessageBody: EditMessageBodySchema,
  ReadBody: ReadBodySchema,
  RegisterDeviceBody: RegisterDeviceBodySchema,
  RoomPage: pageSchema(RoomSchema),
  MessagePage: pageSchema(MessageSchema),
  MemberPage: pageSchema(MemberSchema),
  ReceiptPage: pageSchema(ReceiptSchema),
} as const;

/** Socket frames, one schema per frame type. */
export const socketFrames = {
  client: ClientFrameSchema.options,
  server: [
    HelloFrameSchema,
    AckFrameSchema,
    ErrorFrameSchema,
    PongFrameSchema,
    ResyncFrameSchema,
    ...RoomEventSchema.options,
    ...EphemeralEventSchema.options,
  ],
};

export type SchemaTarget = 'draft-2020-12' | 'draft-7';

/** JSON Schemas of a set of named zod schemas, cross-referencing each other under `base`. */
export function namedJsonSchemas(
  named: Record<string, z.ZodType>,
  base: string,
  target: SchemaTarget,
): Record<string, Record<string, unknown>> {
  const registry = z.registry<{ id: string }>();
  for (const [id, schema] of Object.entries(named)) registry.add(schema, { id });
  const { schemas } = z.toJSONSchema(registry, { target, io: 'input', unrepresentable: 'any', uri: (id) => `${base}${id}` });
  const out: Record<string, Record<string, unknown>> = {};
  for (const [id, schema] of Object.entries(schemas)) {
    const { $schema: _s, $id: _i, ...rest } = schema as Record<string, unknown>;
    out[id] = rest;
  }
  return out;
}

/** A schema that is not named on its own (a query parameter), inlined. */
export function inlineJsonSchema(schema: z.ZodType, target: SchemaTarget = 'draft-2020-12'): Record<string, unknown> {
  const { $schema: _s, ...rest } = z.toJSONSchema(schema, { target, io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return rest;
}
