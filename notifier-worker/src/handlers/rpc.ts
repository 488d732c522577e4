import { handle } from '@chat/shared/nats';
import { notifierRpc } from '@chat/shared/rpc';
import type { DevicesDomain } from '../domain/devices.js';

export function notifierEndpoints(devices: DevicesDomain) {
  return [
    handle(notifierRpc.registerDevice, (req) => devices.register(req.actor, req.token, req.body)),
    handle(notifierRpc.unregisterDevice, async (req) => {
      await devices.unregister(req.actor, req.token);
      return {};
    }),
  ];
}
