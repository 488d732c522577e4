import { ChatError, type Device, type Platform, type RegisterDeviceBody } from '@chat/shared';
import type { Actor } from '@chat/shared/auth';
import type { Kysely } from 'kysely';
import { deleteDevice, upsertDevice } from '../db/devices-repository.js';
import type { DeviceRow, NotifyDatabase } from '../db/schema.js';

const toDevice = (row: DeviceRow): Device => ({
  token: row.token,
  platform: row.platform,
  app_id: row.app_id,
  user_id: row.user_id,
  registered_at: row.registered_at.toISOString(),
});

/** The device registry: which push targets each user has, on platforms this server can deliver to. */
export class DevicesDomain {
  constructor(
    private readonly db: Kysely<NotifyDatabase>,
    private readonly enabledPlatforms: ReadonlySet<Platform>,
  ) {}

  async register(actor: Actor, token: string, body: RegisterDeviceBody): Promise<{ device: Device; created: boolean }> {
    if (!this.enabledPlatforms.has(body.platform)) {
      throw ChatError.invalid(`platform ${body.platform} is not configured on this server`, [
        { path: 'platform', message: 'not configured' },
      ]);
    }
    const { row, created } = await upsertDevice(this.db, {
      token,
      user_id: actor.user_id,
      platform: body.platform,
      app_id: body.app_id ?? null,
    });
    return { device: toDevice(row), created };
  }

  async unregister(actor: Actor, token: string): Promise<void> {
    if (!(await deleteDevice(this.db, token, actor.user_id))) throw ChatError.notFound('device');
  }
}
