import { createHmac } from 'node:crypto';
import { standardWebhookHeaders } from '@chat/shared/webhooks';
import { type DeliveryOutcome, type Notification, networkFailure, outcomeOfStatus, type PushProvider, type Target } from './provider.js';

/** The body every webhook delivery carries (DESIGN.md section 7), plus a stable delivery id. */
export function webhookPayload(target: Target, notification: Notification, deliveryId: string): Record<string, unknown> {
  if (notification.kind === 'badge') {
    return { type: 'badge', user_id: notification.user_id, device_token: target.token, badge: notification.badge, delivery_id: deliveryId };
  }
  const { push } = notification;
  return {
    type: 'message',
    user_id: push.user_id,
    device_token: target.token,
    room_id: push.room_id,
    message_ids: push.message_ids,
    count: push.count,
    title: push.title,
    body: push.body,
    badge: push.badge,
    delivery_id: deliveryId,
    ...(push.priority ? { priority: push.priority } : {}),
    ...(push.reminder ? { reminder: push.reminder } : {}),
  };
}

/** `sha256=<hex HMAC-SHA256 of the raw body>`, as receivers verify it. */
export function signWebhookBody(raw: string, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(raw).digest('hex')}`;
}

/**
 * Generic signed webhook for host applications: POST of JSON to NOTIFY_WEBHOOK_URL, with the
 * Standard Webhooks headers and `X-Chat-Signature`. 410 Gone prunes the device.
 */
export class WebhookProvider implements PushProvider {
  readonly platform = 'webhook' as const;

  constructor(
    private readonly url: string,
    private readonly secret: string,
    private readonly timeoutMs = 10_000,
  ) {}

  async send(target: Target, notification: Notification, deliveryId: string): Promise<DeliveryOutcome> {
    const raw = JSON.stringify(webhookPayload(target, notification, deliveryId));
    try {
      const response = await fetch(this.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          // Standard Webhooks: webhook-id is the delivery id, the same on every retry.
          ...standardWebhookHeaders(this.secret, deliveryId, raw),
          'x-chat-signature': signWebhookBody(raw, this.secret),
          'x-chat-delivery-id': deliveryId,
        },
        body: raw,
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      return outcomeOfStatus(response.status, await response.text(), (status) => status === 410);
    } catch (error) {
      return networkFailure(error);
    }
  }
}
