import type { NotifierConfig } from '../config.js';
import { ApnsProvider } from './apns.js';
import { FcmProvider } from './fcm.js';
import type { PushProvider, Target } from './provider.js';
import { WebhookProvider } from './webhook.js';

/** The providers this deployment is configured for; devices of other platforms are refused at registration. */
export function configuredProviders(config: NotifierConfig): Partial<Record<Target['platform'], PushProvider>> {
  const providers: Partial<Record<Target['platform'], PushProvider>> = {};
  if (config.NOTIFY_WEBHOOK_URL && config.NOTIFY_WEBHOOK_SECRET) {
    providers.webhook = new WebhookProvider(config.NOTIFY_WEBHOOK_URL, config.NOTIFY_WEBHOOK_SECRET, config.NOTIFY_PROVIDER_TIMEOUT_MS);
  }
  if (config.APNS_KEY_ID && config.APNS_TEAM_ID && config.APNS_PRIVATE_KEY && config.APNS_TOPIC) {
    providers.apns = new ApnsProvider({
      url: config.APNS_URL,
      keyId: config.APNS_KEY_ID,
      teamId: config.APNS_TEAM_ID,
      privateKey: config.APNS_PRIVATE_KEY,
      topic: config.APNS_TOPIC,
      timeoutMs: config.NOTIFY_PROVIDER_TIMEOUT_MS,
    });
  }
  if (config.FCM_PROJECT_ID && config.FCM_CLIENT_EMAIL && config.FCM_PRIVATE_KEY) {
    providers.fcm = new FcmProvider({
      url: config.FCM_URL,
      tokenUrl: config.FCM_TOKEN_URL,
      projectId: config.FCM_PROJECT_ID,
      clientEmail: config.FCM_CLIENT_EMAIL,
      privateKey: config.FCM_PRIVATE_KEY,
      timeoutMs: config.NOTIFY_PROVIDER_TIMEOUT_MS,
    });
  }
  return providers;
}
