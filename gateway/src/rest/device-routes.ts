import type { ServicesClient } from '../clients/services-client.js';
import type { RestHandlers } from './mount.js';

/** Push targets: the notifier service behind REST. */
export function deviceHandlers(services: ServicesClient) {
  return {
    registerDevice: async ({ actor, params, body }) => {
      const { device, created } = await services.registerDevice(actor, params.token, body);
      return { status: created ? 201 : 200, body: device };
    },
    unregisterDevice: async ({ actor, params }) => {
      await services.unregisterDevice(actor, params.token);
      return { status: 204 };
    },
  } satisfies Partial<RestHandlers>;
}
