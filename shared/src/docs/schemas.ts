import { z } from 'zod';
import { DeviceSchema, RegisterDeviceBodySchema } from '../contracts/device.js';
import {
  AckFrameSchema,
  ClientFrameSchema,
  EphemeralEventSchema,
  ErrorFrameSchema,
  HelloFrameSchema,
  HiddenEventFrameSchema,
  PongFrameSchema,
  ResyncFrameSchema,
  RoomEventSchema,
} from '../contracts/frames.js';
import { HostEventSchema } from '../contracts/host-events.js';
import * as message from '../contracts/message.js';
import * as report from '../contracts/report.js';
import * as room from '../contracts/room.js';
import { ProblemSchema } from '../errors/index.js';

/** The named schemas of the public contract, by the name they have in the generated documents. */
export const publicSchemas = {
  Message: message.MessageSchema,
  Attachment: message.AttachmentSchema,
  ReactionSummary: message.ReactionSummarySchema,
  AcknowledgementSummary: message.AcknowledgementSummarySchema,
  Acknowledgement: message.AcknowledgementSchema,
  AcknowledgementList: message.AcknowledgementListSchema,
  Room: room.RoomSchema,
  RoomMe: room.RoomMeSchema,
  ContextRef: room.ContextRefSchema,
  Member: room.MemberSchema,
  Receipt: room.ReceiptSchema,
  ReadState: room.ReadStateSchema,
  UnreadSummary: room.UnreadSummarySchema,
  Block: room.BlockSchema,
  BlockPage: room.BlockPageSchema,
  Ban: room.BanSchema,
  BanPage: room.BanPageSchema,
  Report: report.ReportSchema,
  ModerationReport: report.ModerationReportSchema,
  ModerationReportPage: report.ModerationReportPageSchema,
  CreateReportBody: report.CreateReportBodySchema,
  UpdateReportBody: report.UpdateReportBodySchema,
  Device: DeviceSchema,
  Problem: ProblemSchema,
  HostEvent: HostEventSchema,
  CreateRoomBody: room.CreateRoomBodySchema,
  UpdateRoomBody: room.UpdateRoomBodySchema,
  MembershipSettingsBody: room.MembershipSettingsBodySchema,
  AddMembersBody: room.AddMembersBodySchema,
  ChangeRoleBody: room.ChangeRoleBodySchema,
  ContextRoomBody: room.ContextRoomBodySchema,
  SendMessageBody: message.SendMessageBodySchema,
  SystemMessageBody: message.SystemMessageBodySchema,
  EditMessageBody: message.EditMessageBodySchema,
  ReadBody: room.ReadBodySchema,
  RegisterDeviceBody: RegisterDeviceBodySchema,
  RoomPage: room.RoomPageSchema,
  MessagePage: message.MessagePageSchema,
  MemberPage: room.MemberPageSchema,
  ReceiptPage: room.ReceiptPageSchema,
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
    HiddenEventFrameSchema,
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
