import type { PushContent } from '../domain/push-content.js';

export interface Target {
  token: string;
  platform: 'apns' | 'fcm' | 'webhook';
  app_id: string | null;
}

/** A notification to show (`alert`) or a silent badge refresh (`badge`). */
export type Notification = { kind: 'alert'; push: PushContent } | { kind: 'badge'; user_id: string; badge: number };

/**
 * What a provider said. `permanent`: the token is dead (prune the device). `transient`: try again
 * later (back-off). `rejected`: the provider refused for another reason (configuration, payload):
 * no retry, the device stays, the job goes to the dead-letter set for an operator.
 */
export type DeliveryOutcome =
  | { status: 'accepted' }
  | { status: 'permanent'; reason: string }
  | { status: 'transient'; reason: string }
  | { status: 'rejected'; reason: string };

export interface PushProvider {
  readonly platform: Target['platform'];
  /** `deliveryId` is stable across retries, so receivers can drop a repeat. */
  send(target: Target, notification: Notification, deliveryId: string): Promise<DeliveryOutcome>;
}

/** 2xx accepted; 408, 429 and 5xx transient; `deadToken` says which answers mean the token is gone. */
export function outcomeOfStatus(status: number, body: string, deadToken: (status: number, body: string) => boolean): DeliveryOutcome {
  const reason = `HTTP ${status} ${body.slice(0, 200)}`.trim();
  if (status >= 200 && status < 300) return { status: 'accepted' };
  if (status === 408 || status === 429 || status >= 500) return { status: 'transient', reason };
  if (deadToken(status, body)) return { status: 'permanent', reason };
  return { status: 'rejected', reason };
}

export function networkFailure(error: unknown): DeliveryOutcome {
  return { status: 'transient', reason: error instanceof Error ? error.message : String(error) };
}
