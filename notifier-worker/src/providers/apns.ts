import { createHash } from 'node:crypto';
import { type ClientHttp2Session, connect, constants } from 'node:http2';
import { inSpan, SpanKind } from '@chat/shared/telemetry';
import jwt from 'jsonwebtoken';
import { type DeliveryOutcome, type Notification, networkFailure, outcomeOfStatus, type PushProvider, type Target } from './provider.js';

export interface ApnsSettings {
  url: string;
  keyId: string;
  teamId: string;
  privateKey: string;
  topic: string;
  timeoutMs?: number;
}

/** APNs answers these reasons for a token that will never work again. */
const DEAD_TOKEN_REASONS = ['BadDeviceToken', 'Unregistered', 'DeviceTokenNotForTopic', 'ExpiredToken'];

/** A UUID derived from the delivery id: APNs' `apns-id`, the same on every retry. */
function apnsId(deliveryId: string): string {
  const h = createHash('sha256').update(deliveryId).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/**
 * APNs over HTTP/2 with token (ES256 JWT) authentication. Alerts go with priority 10 and
 * `apns-collapse-id` = room, so a repeat replaces rather than stacks; badge refreshes are silent
 * background pushes with priority 5.
 */
export class ApnsProvider implements PushProvider {
  readonly platform = 'apns' as const;
  private session: ClientHttp2Session | undefined;
  private token: { value: string; issuedAt: number } | undefined;

  constructor(private readonly settings: ApnsSettings) {}

  /** Apple wants a provider token refreshed between 20 and 60 minutes; we renew after 45. */
  private providerToken(): string {
    const now = Math.floor(Date.now() / 1000);
    if (!this.token || now - this.token.issuedAt > 45 * 60) {
      const value = jwt.sign({ iss: this.settings.teamId, iat: now }, this.settings.privateKey, {
        algorithm: 'ES256',
        keyid: this.settings.keyId,
      });
      this.token = { value, issuedAt: now };
    }
    return this.token.value;
  }

  private connection(): ClientHttp2Session {
    if (!this.session || this.session.closed || this.session.destroyed) {
      const session = connect(this.settings.url);
      session.on('error', () => session.destroy());
      session.on('goaway', () => session.close());
      this.session = session;
    }
    return this.session;
  }

  send(target: Target, notification: Notification, deliveryId: string): Promise<DeliveryOutcome> {
    // HTTP/2 has no automatic instrumentation: the provider request gets its own client span.
    return inSpan(
      'POST apns /3/device',
      {
        kind: SpanKind.CLIENT,
        attributes: {
          'http.request.method': 'POST',
          'server.address': new URL(this.settings.url).hostname,
          'chat.delivery_id': deliveryId,
        },
      },
      async (span) => {
        const outcome = await this.request(target, notification, deliveryId);
        span.setAttribute('chat.push.outcome', outcome.status);
        return outcome;
      },
    );
  }

  private request(target: Target, notification: Notification, deliveryId: string): Promise<DeliveryOutcome> {
    const alert = notification.kind === 'alert';
    const body = alert
      ? {
          aps: {
            alert: { title: notification.push.title, body: notification.push.body },
            badge: notification.push.badge,
            sound: 'default',
            'thread-id': notification.push.room_id,
            // Urgent (DESIGN 10.2): shown at once, through Focus and scheduled summaries.
            ...(notification.push.priority === 'urgent' ? { 'interruption-level': 'time-sensitive' } : {}),
          },
          ...(notification.push.priority === 'urgent' ? { priority: 'urgent' } : {}),
          room_id: notification.push.room_id,
          message_ids: notification.push.message_ids,
        }
      : { aps: { badge: notification.badge, 'content-available': 1 } };
    const headers: Record<string, string> = {
      [constants.HTTP2_HEADER_METHOD]: 'POST',
      [constants.HTTP2_HEADER_PATH]: `/3/device/${encodeURIComponent(target.token)}`,
      authorization: `bearer ${this.providerToken()}`,
      'apns-topic': target.app_id ?? this.settings.topic,
      'apns-push-type': alert ? 'alert' : 'background',
      'apns-priority': alert ? '10' : '5',
      'apns-id': apnsId(deliveryId),
      'content-type': 'application/json',
    };
    // An urgent push never replaces the room's earlier one: it collapses only with its own retries.
    if (alert)
      headers['apns-collapse-id'] = (notification.push.priority === 'urgent' ? apnsId(deliveryId) : notification.push.room_id).slice(0, 64);
    return new Promise((resolve) => {
      let request: ReturnType<ClientHttp2Session['request']>;
      try {
        request = this.connection().request(headers);
      } catch (error) {
        resolve(networkFailure(error));
        return;
      }
      request.setTimeout(this.settings.timeoutMs ?? 10_000, () => request.close(constants.NGHTTP2_CANCEL));
      let status = 0;
      let text = '';
      request.on('response', (h) => {
        status = Number(h[constants.HTTP2_HEADER_STATUS]);
      });
      request.setEncoding('utf8');
      request.on('data', (chunk: string) => {
        text += chunk;
      });
      request.on('end', () =>
        resolve(
          status === 0
            ? { status: 'transient', reason: 'no response from APNs' }
            : outcomeOfStatus(status, text, (code, raw) => code === 410 || DEAD_TOKEN_REASONS.some((r) => raw.includes(`"${r}"`))),
        ),
      );
      request.on('error', (error) => resolve(networkFailure(error)));
      request.end(JSON.stringify(body));
    });
  }

  close(): void {
    this.session?.close();
  }
}
