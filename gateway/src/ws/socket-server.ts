import { randomUUID } from 'node:crypto';
import { ChatError, CloseCodes, isChatError } from '@chat/shared';
import { type Actor, bearerToken, type TokenVerifier } from '@chat/shared/auth';
import type { Logger } from '@chat/shared/logging';
import { roomAttribute } from '@chat/shared/nats';
import { inSpan, SpanKind } from '@chat/shared/telemetry';
import type { LocalTokenBuckets } from '../limits/local-token-bucket.js';
import type { HttpRequest, HttpResponse, TemplatedApp, UwsModule, us_listen_socket } from '../uws.js';
import { parseCompatFrame, parseModernFrame } from './compat-frames.js';
import { type FrameContext, handleFrame, subscribe } from './frame-handlers.js';
import { newRefusalState, RefusalPolicy } from './refusal-policy.js';
import { type ChatSocket, type Session, sendJson } from './session.js';
import { socketFault } from './socket-faults.js';
import { bufferedAmount, endSocket, guarded, writeCorked } from './socket-writer.js';

export interface SocketServerOptions {
  port: number;
  host: string;
  allowedOrigins: string[];
  maxFrameBytes: number;
  heartbeatMs: number;
  maxBufferedBytes: number;
  /** Rate-limited frames a socket may send after its retry time, within 10 s, before it is closed with 4008. */
  rateLimitCloseAfter: number;
  /** Request frames a socket may have unanswered; more are refused with `rate_limited`. */
  maxFramesInFlight: number;
  /** Sockets one user may hold on this gateway; more are closed with 4008 on open. */
  maxSocketsPerUser: number;
  /** Upgrades per client address (in this process); over it, HTTP 429. */
  connectsPerAddress: LocalTokenBuckets;
  /** Upgrades per user (shared by gateways); over it, HTTP 429. */
  /**
   * Upgrades per user, in this gateway's memory: the upgrade stays synchronous, because this uWS
   * build can drop a socket upgraded from a later cork without a close frame (uWebSockets#1928).
   */
  connectsPerUser: LocalTokenBuckets;
  /** A header set by a trusted proxy naming the client's address (its last entry is used). */
  clientAddressHeader: string | undefined;
  verifier: TokenVerifier;
  logger: Logger;
  metrics: {
    connections(delta: number): void;
    framesIn(type: string): void;
    closed(code: number): void;
  };
  /** `firstSocket`: the user had no other socket on this gateway. */
  onConnected(actor: Actor, firstSocket: boolean): void;
  /** `lastSocket`: the user has no socket left on this gateway. */
  onDisconnected(userId: string, lastSocket: boolean): void;
}

const decoder = new TextDecoder();
const CLOSE_SLICE_MS = 20;
/** A hint for a socket over its in-flight cap: its answers are on their way. */
const IN_FLIGHT_RETRY_MS = 200;
/** Messages the compatibility path sends on open, as the earlier system did (DESIGN 10.5). */
const COMPAT_BACKLOG = 50;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export class SocketServer {
  readonly sockets = new Set<ChatSocket>();
  private listenSocket: us_listen_socket | undefined;
  private sweep: NodeJS.Timeout | undefined;
  /** Open sockets per user: the per-user cap, and (through `users`) the users this gateway holds presence for. */
  private readonly perUser = new Map<string, number>();
  private readonly refusals: RefusalPolicy;

  constructor(
    private readonly uws: UwsModule,
    readonly app: TemplatedApp,
    private readonly options: SocketServerOptions,
    private readonly frames: FrameContext,
  ) {
    this.refusals = new RefusalPolicy(options.rateLimitCloseAfter);
    const behavior = {
      compression: uws.DISABLED,
      // uWS drops an oversize frame without a close frame (1006). Taking up to 4x the limit lets
      // us close with the contract's 1009; only beyond that does uWS cut the connection itself.
      maxPayloadLength: options.maxFrameBytes * 4,
      idleTimeout: Math.max(8, Math.ceil((options.heartbeatMs * 2.5) / 1000)),
      sendPingsAutomatically: true,
      maxBackpressure: options.maxBufferedBytes * 2,
      // Never skip a socket silently: when uWS would drop a message, close it so it resumes by seq.
      closeOnBackpressureLimit: 1,
      // No exception from a socket callback may reach the process (DESIGN 10.1).
      upgrade: guarded((res: HttpResponse, req: HttpRequest, context: unknown) => this.upgrade(res, req, context)),
      open: guarded((ws: ChatSocket) => this.open(ws)),
      message: guarded((ws: ChatSocket, message: ArrayBuffer, isBinary: boolean) => this.message(ws, message, isBinary)),
      close: guarded((ws: ChatSocket, code: number) => this.close(ws, code)),
    };
    app.ws<Session>('/v1/ws', behavior);
    // The earlier system's URL: one room per socket, opened subscribed.
    app.ws<Session>('/ws/chat/*', behavior);
  }

  listen(): Promise<number> {
    return new Promise((resolve, reject) => {
      this.app.listen(this.options.host, this.options.port, (socket) => {
        if (!socket) return reject(new Error(`cannot listen on ${this.options.host}:${this.options.port}`));
        this.listenSocket = socket;
        this.sweep = setInterval(
          guarded(() => this.sweepSockets()),
          500,
        );
        resolve(this.uws.us_socket_local_port(socket));
      });
    });
  }

  /** Stops accepting sockets; the open ones stay until `closeAll`. */
  stopListening(): void {
    if (this.listenSocket) this.uws.us_listen_socket_close(this.listenSocket);
    this.listenSocket = undefined;
    if (this.sweep) clearInterval(this.sweep);
  }

  /**
   * Closes every socket with 1012, spread evenly over `windowMs` (in slices of CLOSE_SLICE_MS) so
   * clients do not reconnect in one wave; 0 closes them all at once. A socket's turn first stops
   * its room events (it resumes by seq), then waits until what is queued for it has been written,
   * so its close frame goes straight to the kernel instead of behind a backlog that an exiting
   * process would drop (clients would see 1006). Resolves when every socket was closed, or at
   * `deadline` (ms since the epoch), when whatever is left is closed as it stands.
   */
  async closeAll(windowMs: number, deadline: number): Promise<void> {
    const sockets = [...this.sockets];
    const slices = Math.max(1, Math.floor(windowMs / CLOSE_SLICE_MS));
    const perSlice = Math.ceil(sockets.length / slices);
    const turns: Promise<void>[] = [];
    for (let start = 0; start < sockets.length; start += perSlice) {
      if (start > 0) await new Promise((resolve) => setTimeout(resolve, CLOSE_SLICE_MS));
      for (const ws of sockets.slice(start, start + perSlice)) turns.push(this.closeWhenWritten(ws, deadline));
    }
    await Promise.all(turns);
  }

  private async closeWhenWritten(ws: ChatSocket, deadline: number): Promise<void> {
    const session = ws.getUserData();
    if (session.closed) return;
    for (const roomId of [...session.rooms]) this.frames.hub.detach(ws, roomId);
    session.joining = undefined;
    while (!session.closed && bufferedAmount(ws) > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    endSocket(ws, CloseCodes.serverRestarting, 'server restarting');
  }

  /** The users with at least one open socket here. */
  users(): IterableIterator<string> {
    return this.perUser.keys();
  }

  /** Whether the user has an open socket here. */
  hasUser(userId: string): boolean {
    return this.perUser.has(userId);
  }

  private upgrade(res: HttpResponse, req: HttpRequest, context: unknown): void {
    const origin = req.getHeader('origin');
    if (origin && this.options.allowedOrigins.length > 0 && !this.options.allowedOrigins.includes(origin)) {
      res.writeStatus('403 Forbidden').end('origin not allowed');
      return;
    }
    const byAddress = this.options.connectsPerAddress.take(this.clientAddress(res, req));
    if (!byAddress.allowed) {
      refuseUpgrade(res, byAddress.retryAfterMs, 'too many connections from this address');
      return;
    }
    const url = req.getUrl();
    const token = req.getQuery('token') || bearerToken(req.getHeader('authorization'));
    const session: Session = {
      actor: undefined,
      authError: undefined,
      initialRoomId: undefined,
      rooms: [],
      joining: undefined,
      refusals: undefined,
      inFlight: 0,
      expiresAt: Number.POSITIVE_INFINITY,
      closed: false,
    };
    if (url.startsWith('/ws/chat/')) session.initialRoomId = url.slice('/ws/chat/'.length).replace(/\/$/, '');
    try {
      if (!token) throw new ChatError('unauthenticated', 'a token is required (?token= or Authorization: Bearer)');
      session.actor = this.options.verifier.verify(token);
      session.expiresAt = tokenExpiry(token);
    } catch (error) {
      session.authError = isChatError(error) ? error : new ChatError('unauthenticated', 'invalid token');
    }
    // The request is only valid in this call: read what the upgrade needs now.
    const key = req.getHeader('sec-websocket-key');
    const protocol = req.getHeader('sec-websocket-protocol');
    const extensions = req.getHeader('sec-websocket-extensions');
    const upgrade = () => res.upgrade(session, key, protocol, extensions, context as never);
    if (!session.actor) {
      upgrade(); // opened and closed at once with 4001, as the contract says
      return;
    }
    const byUser = this.options.connectsPerUser.take(session.actor.user_id);
    if (byUser.allowed) upgrade();
    else refuseUpgrade(res, byUser.retryAfterMs, 'too many connections for this user');
  }

  private clientAddress(res: HttpResponse, req: HttpRequest): string {
    const header = this.options.clientAddressHeader;
    if (header) {
      // The proxy appends the address it saw: the last entry is the one it vouches for.
      const value = req.getHeader(header).split(',').pop()?.trim();
      if (value) return value;
    }
    return decoder.decode(res.getRemoteAddressAsText());
  }

  private open(ws: ChatSocket): void {
    const session = ws.getUserData();
    if (!session.actor) {
      ws.end(CloseCodes.unauthenticated, session.authError?.message.slice(0, 120) ?? 'unauthenticated');
      return;
    }
    const held = this.perUser.get(session.actor.user_id) ?? 0;
    if (held >= this.options.maxSocketsPerUser) {
      ws.end(CloseCodes.policyViolation, `too many sockets for this user (max ${this.options.maxSocketsPerUser})`);
      return;
    }
    this.perUser.set(session.actor.user_id, held + 1);
    this.sockets.add(ws);
    this.options.metrics.connections(1);
    this.options.onConnected(session.actor, held === 0);
    sendJson(ws, {
      type: 'hello',
      user_id: session.actor.user_id,
      heartbeat_ms: this.options.heartbeatMs,
      // Told to the client for its logs; the gateway keeps no copy (one string less per socket).
      session_id: randomUUID(),
      server_time: new Date().toISOString(),
    });
    if (session.initialRoomId !== undefined) void this.openLegacyRoom(ws, session.initialRoomId);
  }

  private async openLegacyRoom(ws: ChatSocket, roomId: string): Promise<void> {
    const session = ws.getUserData();
    if (!session.actor) return;
    try {
      if (!UUID.test(roomId)) throw ChatError.notFound('room');
      await subscribe(ws, session.actor, { type: 'subscribe', room_id: roomId }, this.frames, COMPAT_BACKLOG);
    } catch (error) {
      const code = isChatError(error) && error.code === 'unavailable' ? CloseCodes.serverRestarting : CloseCodes.forbidden;
      endSocket(ws, code, isChatError(error) ? error.message : 'forbidden');
    }
  }

  private message(ws: ChatSocket, message: ArrayBuffer, isBinary: boolean): void {
    const session = ws.getUserData();
    const actor = session.actor;
    if (!actor) return;
    if (message.byteLength > this.options.maxFrameBytes) {
      ws.end(CloseCodes.frameTooBig, 'frame too big');
      return;
    }
    const receivedAt = Date.now();
    let frameId: string | null = null;
    let parsed: unknown;
    try {
      if (isBinary) throw ChatError.invalid('frames must be JSON text');
      try {
        parsed = JSON.parse(decoder.decode(message));
      } catch {
        throw ChatError.invalid('frame is not valid JSON');
      }
      frameId = correlationId(parsed);
      const frame = session.initialRoomId === undefined ? parseModernFrame(parsed) : parseCompatFrame(parsed, session.initialRoomId);
      this.options.metrics.framesIn(frame.type);
      if (session.inFlight >= this.options.maxFramesInFlight) {
        throw new ChatError(
          'rate_limited',
          `too many requests in flight on this socket (max ${this.options.maxFramesInFlight}); wait for answers`,
          undefined,
          IN_FLIGHT_RETRY_MS,
        );
      }
      session.inFlight++;
      // Each request frame starts its own trace: the root of everything the request causes.
      inSpan(
        `chat.ws ${frame.type}`,
        {
          kind: SpanKind.SERVER,
          root: true,
          attributes: { 'chat.frame_type': frame.type, 'enduser.id': actor.user_id, ...roomAttribute(frame) },
        },
        () => handleFrame(ws, actor, frame, this.frames),
      )
        .then(
          (data) => {
            if (data !== undefined) writeCorked(ws, () => sendJson(ws, { type: 'ack', id: frameId, data }));
          },
          (error: unknown) => this.sendError(ws, frameId, error, frame.type, receivedAt),
        )
        .finally(() => {
          session.inFlight--;
        })
        .catch((error: unknown) => socketFault('handler_threw', error));
    } catch (error) {
      if (!isChatError(error) || error.code !== 'rate_limited') this.options.metrics.framesIn('invalid');
      this.sendError(ws, frameId, error);
    }
  }

  /** `kind` and `receivedAt` are given for frames a rate limit refused (the 4008 rule). */
  private sendError(ws: ChatSocket, id: string | null, error: unknown, kind?: string, receivedAt?: number): void {
    const chatError = isChatError(error) ? error : new ChatError('internal', 'internal error');
    if (!isChatError(error)) this.options.logger.error({ err: error }, 'frame handling failed');
    const session = ws.getUserData();
    if (session.closed) return;
    if (chatError.code === 'rate_limited' && kind !== undefined && receivedAt !== undefined) {
      session.refusals ??= newRefusalState();
      if (this.refusals.refused(session.refusals, kind, receivedAt, chatError.retryAfterMs ?? 0, Date.now())) {
        endSocket(ws, CloseCodes.policyViolation, 'rate limit exceeded: kept sending after retry_after_ms');
        return;
      }
    }
    writeCorked(ws, () => sendJson(ws, { type: 'error', id, ...chatError.toBody() }));
  }

  private close(ws: ChatSocket, code: number): void {
    const session = ws.getUserData();
    session.closed = true;
    if (!this.sockets.delete(ws)) return;
    this.options.metrics.closed(code);
    this.options.metrics.connections(-1);
    if (session.actor) {
      const userId = session.actor.user_id;
      const held = (this.perUser.get(userId) ?? 1) - 1;
      if (held > 0) this.perUser.set(userId, held);
      else this.perUser.delete(userId);
      this.options.onDisconnected(userId, held <= 0);
    }
    for (const roomId of [...session.rooms]) this.frames.hub.detach(ws, roomId);
    session.joining = undefined;
  }

  /** Closes sockets too slow to read (4009) and sockets whose token has expired (4001); forgets refilled connect buckets. */
  private sweepSockets(): void {
    const now = Date.now();
    this.options.connectsPerAddress.prune(now);
    this.options.connectsPerUser.prune(now);
    for (const ws of [...this.sockets]) {
      if (ws.getUserData().expiresAt <= now) endSocket(ws, CloseCodes.unauthenticated, 'token expired');
      else if (bufferedAmount(ws) > this.options.maxBufferedBytes) endSocket(ws, CloseCodes.tooSlow, 'too slow to read');
    }
  }
}

function correlationId(frame: unknown): string | null {
  if (typeof frame !== 'object' || frame === null || !('id' in frame)) return null;
  const id = (frame as { id: unknown }).id;
  return typeof id === 'string' && id.length > 0 && id.length <= 128 ? id : null;
}

/** Answers a refused upgrade with 429 and when to try again. */
function refuseUpgrade(res: HttpResponse, retryAfterMs: number, reason: string): void {
  res
    .writeStatus('429 Too Many Requests')
    .writeHeader('Retry-After', String(Math.max(1, Math.ceil(retryAfterMs / 1000))))
    .writeHeader('Content-Type', 'application/json')
    .end(JSON.stringify({ code: 'rate_limited', message: reason, retry_after_ms: retryAfterMs }));
}

/** The verified token's `exp` (its signature was checked by the verifier just before). */
function tokenExpiry(token: string): number {
  try {
    const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { exp?: unknown };
    return typeof payload.exp === 'number' ? payload.exp * 1000 : Number.POSITIVE_INFINITY;
  } catch {
    return Number.POSITIVE_INFINITY;
  }
}
