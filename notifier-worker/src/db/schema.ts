import type { ColumnType, Generated, Selectable } from 'kysely';
import type { QueuedHostEvent } from '../domain/host-events.js';

export interface DevicesTable {
  /** The platform's push token; one owner at a time. */
  token: string;
  user_id: string;
  platform: 'apns' | 'fcm' | 'webhook';
  app_id: string | null;
  registered_at: Generated<Date>;
}
export type DeviceRow = Selectable<DevicesTable>;

export interface PushDueTable {
  device_token: string;
  message_id: string;
  user_id: string;
  room_id: string;
  seq: number;
  due_at: Date;
  lease_until: Date;
  /** The batch that took it, or `dropped:<reason>` when the re-check suppressed it. */
  batch_id: string | null;
  traceparent: string | null;
  created_at: Generated<Date>;
}

export type BatchState = 'pending' | 'delivered' | 'dropped' | 'dead';

export interface PushBatchesTable {
  id: string;
  device_token: string;
  user_id: string;
  room_id: string;
  platform: DevicesTable['platform'];
  app_id: string | null;
  message_ids: string[];
  notification: ColumnType<unknown, string, string>;
  state: Generated<BatchState>;
  attempts: Generated<number>;
  lease_until: Date;
  traceparent: string | null;
  last_error: string | null;
  created_at: Generated<Date>;
  finished_at: Date | null;
}
export type PushBatchRow = Selectable<PushBatchesTable>;

export interface PushDeliveriesTable {
  device_token: string;
  message_id: string;
  batch_id: string;
  delivered_at: Generated<Date>;
}

/** The event webhook's queue and dead letters (DESIGN 10.4). */
export interface HostEventsTable extends QueuedHostEvent {
  state: Generated<'pending' | 'delivered' | 'dead'>;
  attempts: Generated<number>;
  next_attempt_at: Generated<Date>;
  lease_until: Date | null;
  last_error: string | null;
  created_at: Generated<Date>;
  finished_at: Date | null;
}

/** A message that asked for acknowledgement: its re-notification rounds (DESIGN 10.2). */
export interface RenotifyTable {
  message_id: string;
  room_id: string;
  seq: number;
  rounds_done: Generated<number>;
  next_at: Date;
  finished_at: Date | null;
  traceparent: string | null;
  created_at: Generated<Date>;
}
export type RenotifyRow = Selectable<RenotifyTable>;

export interface NotifyDatabase {
  'notify.renotify': RenotifyTable;
  'notify.devices': DevicesTable;
  'notify.push_due': PushDueTable;
  'notify.push_batches': PushBatchesTable;
  'notify.push_deliveries': PushDeliveriesTable;
  'notify.host_events': HostEventsTable;
}
