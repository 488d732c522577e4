import type { Generated, Selectable } from 'kysely';

export interface DevicesTable {
  /** The platform's push token; one owner at a time. */
  token: string;
  user_id: string;
  platform: 'apns' | 'fcm' | 'webhook';
  app_id: string | null;
  registered_at: Generated<Date>;
}

export interface NotifyDatabase {
  'notify.devices': DevicesTable;
}

export type DeviceRow = Selectable<DevicesTable>;
