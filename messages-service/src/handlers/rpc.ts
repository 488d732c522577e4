import { handle } from '@chat/shared/nats';
import { messagesRpc } from '@chat/shared/rpc';
import type { AttachmentBlobs } from '../domain/attachment-blobs.js';
import type { MessageAttachments } from '../domain/attachments.js';
import type { MessagesDomain } from '../domain/messages.js';
import type { MessageReports } from '../domain/reports.js';
import type { RoomSync } from '../domain/room-sync.js';

/** The messages service's domain, by concern. */
export interface MessagesServiceDomain {
  messages: MessagesDomain;
  sync: RoomSync;
  attachments: MessageAttachments;
  reports: MessageReports;
  blobs: AttachmentBlobs;
}

/** NATS endpoints of the messages service: parse (done by serveEndpoints), call the domain, answer. */
export function messagesEndpoints({ messages: domain, sync, attachments, reports, blobs }: MessagesServiceDomain) {
  return [
    handle(messagesRpc.send, (req) => domain.send(req.actor, req.room_id, req.message)),
    handle(messagesRpc.sendSystem, (req) => domain.sendSystem(req.actor, req.context, req.message)),
    handle(messagesRpc.edit, (req) => domain.edit(req.actor, req.room_id, req.message_id, req.body)),
    handle(messagesRpc.react, (req) => domain.react(req.actor, req.room_id, req.message_id, req.emoji, req.action)),
    handle(messagesRpc.acknowledge, (req) => domain.acknowledge(req.actor, req.room_id, req.message_id)),
    handle(messagesRpc.acknowledgements, (req) => domain.acknowledgements(req.actor, req.room_id, req.message_id)),
    handle(messagesRpc.reportMessage, (req) => reports.report(req.actor, req.room_id, req.message_id, req.report)),
    handle(messagesRpc.listReports, (req) => reports.list(req.actor, req.status, req.limit, req.cursor)),
    handle(messagesRpc.updateReport, (req) => reports.setStatus(req.actor, req.report_id, req.update.status)),
    handle(messagesRpc.delete, (req) => domain.delete(req.actor, req.room_id, req.message_id)),
    handle(messagesRpc.registerAttachment, (req) => attachments.registerAttachment(req.actor, req.room_id, req.upload)),
    handle(messagesRpc.getAttachment, (req) => attachments.getAttachment(req.actor, req.attachment_id)),
    handle(messagesRpc.leaseUnreachableBlobs, async (req) => ({ blobs: await blobs.leaseUnreachable(req.limit, req.lease_ms) })),
    handle(messagesRpc.markBlobsDeleted, async (req) => ({ marked: await blobs.markDeleted(req.ids) })),
    handle(messagesRpc.search, (req) => domain.search(req.actor, req)),
    handle(messagesRpc.history, (req) => domain.history(req.actor, req.room_id, req.query)),
    handle(messagesRpc.messageStates, (req) => domain.messageStates(req.room_id, req.message_ids)),
    handle(messagesRpc.roomState, async (req) => ({ last_seq: await sync.lastSeq(req.room_id) })),
    handle(messagesRpc.lastSeqs, async (req) => ({ last_seqs: await sync.lastSeqs(req.room_ids) })),
    handle(messagesRpc.roomLog, async (req) => {
      const log = await sync.roomLog(req.room_id, req.after_seq, req.limit);
      return { events: log.map((e) => e.event), reply_to_seqs: log.map((e) => e.reply_to_seq) };
    }),
    handle(messagesRpc.getMessage, (req) => domain.getMessage(req.actor, req.room_id, req.message_id)),
    handle(messagesRpc.sync, (req) => sync.sync(req)),
    handle(messagesRpc.syncBatch, async (req) => ({ results: await sync.syncBatch(req.items) })),
  ];
}
