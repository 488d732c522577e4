import type { Actor } from '@chat/shared/auth';
import { describe, expect, it } from 'vitest';
import { type DeviceRow, type DeviceStore, DevicesDomain } from './devices.js';

const alice: Actor = { user_id: 'alice', name: null, roles: [] };

/** The device store in memory: a token belongs to one user. */
function memoryDevices(): DeviceStore & { rows: Map<string, DeviceRow> } {
  const rows = new Map<string, DeviceRow>();
  return {
    rows,
    async register(device) {
      const existing = rows.get(device.token);
      if (existing && existing.user_id !== device.user_id) return 'taken';
      const row = { ...device, registered_at: existing?.registered_at ?? new Date(0) };
      rows.set(device.token, row);
      return { row, created: !existing };
    },
    async delete(token, userId) {
      if (rows.get(token)?.user_id !== userId) return false;
      return rows.delete(token);
    },
  };
}

describe('device registry rules, on an in-memory store', () => {
  it('registers on configured platforms only; 201 then 200; another user cannot take a token', async () => {
    const store = memoryDevices();
    const devices = new DevicesDomain(store, new Set(['webhook']), 10);
    await expect(devices.register(alice, 't1', { platform: 'apns' })).rejects.toMatchObject({ code: 'invalid' });
    expect((await devices.register(alice, 't1', { platform: 'webhook' })).created).toBe(true);
    const again = await devices.register(alice, 't1', { platform: 'webhook' });
    expect(again).toMatchObject({ created: false, device: { token: 't1', user_id: 'alice', registered_at: new Date(0).toISOString() } });
    await expect(devices.register({ ...alice, user_id: 'bob' }, 't1', { platform: 'webhook' })).rejects.toMatchObject({ code: 'conflict' });
  });

  it('unregisters only your own tokens (404 otherwise)', async () => {
    const store = memoryDevices();
    const devices = new DevicesDomain(store, new Set(['webhook']), 10);
    await devices.register(alice, 't1', { platform: 'webhook' });
    await expect(devices.unregister({ ...alice, user_id: 'bob' }, 't1')).rejects.toMatchObject({ code: 'not_found' });
    await devices.unregister(alice, 't1');
    expect(store.rows.size).toBe(0);
  });
});
