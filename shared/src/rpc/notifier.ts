import { z } from 'zod';
import { ActorSchema } from '../auth/verifier.js';
import { DeviceSchema, DeviceTokenSchema, RegisterDeviceBodySchema } from '../contracts/device.js';
import { defineEndpoints } from '../nats/endpoint.js';

export const notifierRpc = defineEndpoints('notifier', {
  registerDevice: {
    description: 'Register a push target for the actor; a token registered by someone else moves to the actor',
    request: z.object({ actor: ActorSchema, token: DeviceTokenSchema, body: RegisterDeviceBodySchema }),
    response: z.object({ device: DeviceSchema, created: z.boolean() }),
  },
  unregisterDevice: {
    description: "Remove one of the actor's push targets",
    request: z.object({ actor: ActorSchema, token: DeviceTokenSchema }),
    response: z.object({}),
  },
});
