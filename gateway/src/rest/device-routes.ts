import { DeviceTokenSchema, parseOrThrow, RegisterDeviceBodySchema } from '@chat/shared';
import express from 'express';
import type { Upstream } from '../upstream/services.js';
import { actorOf } from './request.js';

/** Push targets: the notifier service behind REST. */
export function deviceRoutes(upstream: Upstream): express.Router {
  const router = express.Router();
  router.put('/devices/:token', async (req, res) => {
    const token = parseOrThrow(DeviceTokenSchema, req.params.token, 'token');
    const { device, created } = await upstream.registerDevice(
      actorOf(res),
      token,
      parseOrThrow(RegisterDeviceBodySchema, req.body, 'device'),
    );
    res.status(created ? 201 : 200).json(device);
  });
  router.delete('/devices/:token', async (req, res) => {
    const token = parseOrThrow(DeviceTokenSchema, req.params.token, 'token');
    await upstream.unregisterDevice(actorOf(res), token);
    res.status(204).end();
  });
  return router;
}
