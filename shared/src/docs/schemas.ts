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
import {
  AcknowledgementListSchema,
  AcknowledgementSchema,
  AcknowledgementSummarySchema,
  AttachmentSchema,
  EditMessageBodySchema,
  MessagePageSchema,
  MessageSchema,
  ReactionSummarySchema,
  SendMessageBodySchema,
  SystemMessageBodySchema,
} from '../contracts/message.js';
import {
  CreateReportBodySchema,
  ModerationReportPageSchema,
  ModerationReportSchema,
  ReportSchema,
  UpdateReportBodySchema,
} from '../contracts/report.js';
import {
  AddMembersBodySchema,
  BanPageSchema,
  BanSchema,
  BlockPageSchema,
  BlockSchema,
  ChangeRoleBodySchema,
  ContextRefSchema,
  ContextRoomBodySchema,
  CreateRoomBodySchema,
  MemberPageSchema,
  MemberSchema,
  MembershipSettingsBodySchema,
  ReadBodySchema,
  ReadStateSchema,
  ReceiptPageSchema,
  ReceiptSchema,
  RoomMeSchema,
  RoomPageSchema,
  RoomSchema,
  UnreadSummarySchema,
  UpdateRoomBodySchema,
} from '../contracts/room.js';
import { ProblemSchema } from '../errors/index.js';

/** The named schemas of the public contract, by the name they have in the generated documents. */
export const publicSchemas = {
  Message: MessageSchema,
  Attachment: AttachmentSchema,
  ReactionSummary: ReactionSummarySchema,
  AcknowledgementSummary: AcknowledgementSummarySchema,
  Acknowledgement: AcknowledgementSchema,
  AcknowledgementList: AcknowledgementListSchema,
  Room: RoomSchema,
  RoomMe: RoomMeSchema,
  ContextRef: ContextRefSchema,
  Member: MemberSchema,
  Receipt: ReceiptSchema,
  ReadState: ReadStateSchema,
  UnreadSummary: UnreadSummarySchema,
  Block: BlockSchema,
  BlockPage: BlockPageSchema,
  Ban: BanSchema,
  BanPage: BanPageSchema,
  Report: ReportSchema,
  ModerationReport: ModerationReportSchema,
  ModerationReportPage: ModerationReportPageSchema,
  CreateReportBody: CreateReportBodySchema,
  UpdateReportBody: UpdateReportBodySchema,
  Device: DeviceSchema,
  Problem: ProblemSchema,
  HostEvent: HostEventSchema,
  CreateRoomBody: CreateRoomBodySchema,
  UpdateRoomBody: UpdateRoomBodySchema,
  MembershipSettingsBody: MembershipSettingsBodySchema,
  AddMembersBody: AddMembersBodySchema,
  ChangeRoleBody: ChangeRoleBodySchema,
  ContextRoomBody: ContextRoomBodySchema,
  SendMessageBody: SendMessageBodySchema,
  SystemMessageBody: SystemMessageBodySchema,
  EditMessageBody: EditMessageBodySchema,
  ReadBody: ReadBodySchema,
  RegisterDeviceBody: RegisterDeviceBodySchema,
  RoomPage: RoomPageSchema,
  MessagePage: MessagePageSchema,
  MemberPage: MemberPageSchema,
  ReceiptPage: ReceiptPageSchema,
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
