import type { SuppressionReason } from '../domain/recipients.js';

/** The push funnel: considered → suppressed (by reason) → queued → sent → accepted / failed. */
export interface PushFunnel {
  considered(count: number): void;
  suppressed(reason: SuppressionReason, count?: number): void;
  queued(count: number): void;
  sent(platform: string): void;
  accepted(platform: string): void;
  failed(platform: string, kind: 'transient' | 'permanent' | 'rejected'): void;
}
