import jwt from 'jsonwebtoken';
import { type DeliveryOutcome, type Notification, networkFailure, outcomeOfStatus, type PushProvider, type Target } from './provider.js';

export interface FcmSettings {
  url: string;
  tokenUrl: string;
  projectId: string;
  clientEmail: string;
  privateKey: string;
  timeoutMs?: number;
}

/**
 * FCM HTTP v1 with a service-account OAuth token (JWT bearer grant, cached until shortly before it
 * expires). Chat alerts go with high Android priority and a `tag` per room, so a newer push for the
 * room replaces the older one; badge refreshes are data-only messages.
 */
export class FcmProvider implements PushProvider {
  readonly platform = 'fcm' as const;
  private accessToken: { value: string; expiresAt: number } | undefined;

  constructor(private readonly settings: FcmSettings) {}

  private async oauthToken(): Promise<string> {
    if (this.accessToken && this.accessToken.expiresAt > Date.now() + 60_000) return this.accessToken.value;
    const now = Math.floor(Date.now() / 1000);
    const assertion = jwt.sign(
      {
        iss: this.settings.clientEmail,
        scope: 'https://www.googleapis.com/auth/firebase.messaging',
        aud: this.settings.tokenUrl,
        iat: now,
        exp: now + 3600,
      },
      this.settings.privateKey,
      { algorithm: 'RS256' },
    );
    const response = await fetch(this.settings.tokenUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion }),
      signal: AbortSignal.timeout(this.settings.timeoutMs ?? 10_000),
    });
    if (!response.ok) throw new Error(`FCM token endpoint answered ${response.status}`);
    const body = (await response.json()) as { access_token?: string; expires_in?: number };
    if (!body.access_token) throw new Error('FCM token endpoint returned no access_token');
    this.accessToken = { value: body.access_token, expiresAt: Date.now() + (body.expires_in ?? 3600) * 1000 };
    return this.accessToken.value;
  }

  async send(target: Target, notification: Notification, deliveryId: string): Promise<DeliveryOutcome> {
    const message =
      notification.kind === 'alert'
        ? {
            token: target.token,
            notification: { title: notification.push.title, body: notification.push.body },
            android: {
              priority: 'HIGH',
              // An urgent push is its own notification (its tag is the delivery), shown with the highest priority.
              notification:
                notification.push.priority === 'urgent'
                  ? { tag: deliveryId, notification_count: notification.push.badge, notification_priority: 'PRIORITY_MAX' }
                  : { tag: notification.push.room_id, notification_count: notification.push.badge },
            },
            data: {
              type: 'message',
              room_id: notification.push.room_id,
              message_ids: notification.push.message_ids.join(','),
              count: String(notification.push.count),
              badge: String(notification.push.badge),
              delivery_id: deliveryId,
              ...(notification.push.priority === 'urgent' ? { priority: 'urgent' } : {}),
              ...(notification.push.reminder ? { reminder: String(notification.push.reminder) } : {}),
            },
          }
        : {
            token: target.token,
            android: { priority: 'NORMAL' },
            data: { type: 'badge', badge: String(notification.badge), delivery_id: deliveryId },
          };
    try {
      const response = await fetch(`${this.settings.url}/v1/projects/${encodeURIComponent(this.settings.projectId)}/messages:send`, {
        method: 'POST',
        headers: { authorization: `Bearer ${await this.oauthToken()}`, 'content-type': 'application/json' },
        body: JSON.stringify({ message }),
        signal: AbortSignal.timeout(this.settings.timeoutMs ?? 10_000),
      });
      if (response.status === 401) this.accessToken = undefined;
      const text = await response.text();
      if (response.status === 401) return { status: 'transient', reason: 'FCM refused the access token; renewing it' };
      return outcomeOfStatus(response.status, text, (status, raw) => status === 404 || raw.includes('UNREGISTERED'));
    } catch (error) {
      return networkFailure(error);
    }
  }
}
