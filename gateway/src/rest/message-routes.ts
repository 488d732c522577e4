import type { ServicesClient } from '../clients/services-client.js';
import type { RestHandlers } from './mount.js';

/** History, sending, edits, reactions, reports, receipts and search: the messages service behind REST. */
export function messageHandlers(services: ServicesClient) {
  return {
    searchMessages: async ({ actor, query }) => ({ status: 200, body: await services.search(actor, query) }),
    history: async ({ actor, params, query }) => ({ status: 200, body: await services.history(actor, params.room_id, query) }),
    sendMessage: async ({ actor, params, body }) => {
      const { message, created } = await services.sendMessage(actor, params.room_id, body);
      return { status: created ? 201 : 200, body: message };
    },
    editMessage: async ({ actor, params, body }) => ({
      status: 200,
      body: await services.editMessage(actor, params.room_id, params.message_id, body.body),
    }),
    addReaction: async ({ actor, params }) => ({
      status: 200,
      body: await services.react(actor, params.room_id, params.message_id, params.emoji, 'added'),
    }),
    removeReaction: async ({ actor, params }) => ({
      status: 200,
      body: await services.react(actor, params.room_id, params.message_id, params.emoji, 'removed'),
    }),
    deleteMessage: async ({ actor, params }) => ({
      status: 200,
      body: await services.deleteMessage(actor, params.room_id, params.message_id),
    }),
    acknowledge: async ({ actor, params }) => ({
      status: 200,
      body: await services.acknowledge(actor, params.room_id, params.message_id),
    }),
    acknowledgements: async ({ actor, params }) => ({
      status: 200,
      body: await services.acknowledgements(actor, params.room_id, params.message_id),
    }),
    reportMessage: async ({ actor, params, body }) => {
      const { report, created } = await services.reportMessage(actor, params.room_id, params.message_id, body);
      return { status: created ? 201 : 200, body: report };
    },
    listReports: async ({ actor, query }) => ({ status: 200, body: await services.listReports(actor, query) }),
    updateReport: async ({ actor, params, body }) => ({
      status: 200,
      body: await services.updateReport(actor, params.report_id, body.status),
    }),
    receipts: async ({ actor, params }) => ({ status: 200, body: await services.receipts(actor, params.room_id, params.message_id) }),
  } satisfies Partial<RestHandlers>;
}
