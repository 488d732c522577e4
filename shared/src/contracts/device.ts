import { z } from 'zod';

export const PlatformSchema = z.enum(['apns', 'fcm', 'webhook']);
export type Platform = z.infer<typeof PlatformSchema>;

/** A push token as the platform issued it: printable, no spaces, at most 4 KiB. */
export const DeviceTokenSchema = z
  .string()
  .min(1)
  .max(4096)
  .regex(/^[\x21-\x7e]+$/, 'printable ASCII without spaces');

export const RegisterDeviceBodySchema = z.object({
  platform: PlatformSchema,
  /** APNs topic (the app's bundle id) when it differs from the server's APNS_TOPIC. */
  app_id: z
    .string()
    .regex(/^[A-Za-z0-9.-]{1,155}$/, 'a bundle id')
    .optional(),
});
export type RegisterDeviceBody = z.infer<typeof RegisterDeviceBodySchema>;

export const DeviceSchema = z.object({
  token: DeviceTokenSchema,
  platform: PlatformSchema,
  app_id: z.string().nullable(),
  user_id: z.string(),
  registered_at: z.string(),
});
export type Device = z.infer<typeof DeviceSchema>;
