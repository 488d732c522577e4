import { ChatError, type Device, type Platform, type RegisterDeviceBody } from '@chat/shared';
import type { Actor } from '@chat/shared/auth';

/** A stored push target. */
export interface DeviceRow {
  token: string;
  user_id: string;
  platform: Platform;
  app_id: string | null;
  registered_at: Date;
}

/** The device registry's storage; db/devices-repository.ts implements it with SQL. */
export interface DeviceStore {
  /** Registers (or refreshes) the user's token, keeping at most `maxPerUser`; 'taken' when another user holds it. */
  register(
    device: { token: string; user_id: string; platform: Platform; app_id: string | null },
    maxPerUser: number,
  ): Promise<{ row: DeviceRow; created: boolean } | 'taken'>;
  /** True when the user had it. */
  delete(token: string, userId: string): Promise<boolean>;
}

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
    private readonly store: DeviceStore,
    private readonly enabledPlatforms: ReadonlySet<Platform>,
    private readonly maxPerUser: number,
  ) {}

  async register(actor: Actor, token: string, body: RegisterDeviceBody): Promise<{ device: Device; created: boolean }> {
    if (!this.enabledPlatforms.has(body.platform)) {
      throw ChatError.invalid(`platform ${body.platform} is not configured on this server`, [
        { path: 'platform', message: 'not configured' },
      ]);
    }
    const registered = await this.store.register(
      { token, user_id: actor.user_id, platform: body.platform, app_id: body.app_id ?? null },
      this.maxPerUser,
    );
    // Whoever holds the token must unregister it first: naming a token never takes it over.
    if (registered === 'taken') throw new ChatError('conflict', 'this device token is registered to another user');
    return { device: toDevice(registered.row), created: registered.created };
  }

  async unregister(actor: Actor, token: string): Promise<void> {
    if (!(await this.store.delete(token, actor.user_id))) throw ChatError.notFound('device');
  }
}
