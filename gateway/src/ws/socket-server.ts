import { randomUUID } from 'node:crypto';
import { ChatError, ClientFrameSchema, CloseCodes, fieldIssuesFromZod, isChatError } from '@chat/shared';
import { type Actor, bearerToken, type TokenVerifier } from '@chat/shared/auth';
import type { Logger } from '@chat/shared/logging';
import { roomAttribute } from '@chat/shared/nats';
import { inSpan, SpanKind } from '@chat/shared/telemetry';
import type { HttpRequest, HttpResponse, TemplatedApp, UwsModule, us_listen_socket } from '../uws.js';
import { type FrameContext, handleFrame } from './frame-handlers.js';
import { type ChatSocket, type Session, sendJson } from './session.js';

export interface SocketServerOptions {
  port: number;
  host: string;
  allowedOrigins: string[];
  maxFrameBytes: number;
  heartbeatMs: number;
  maxBufferedBytes: number;
  /** Rate-limited frames a socket may send within 10 s before it is closed with 4008. */
  rateLimitCloseAfter: number;
  verifier: TokenVerifier;
  logger: Logger;
  metrics: {
    connections(delta: number): void;
    framesIn(type: string): void;
  };
  onConnected(actor: Actor): void;
  onDisconnected(userId: string): void;
}

const decoder = new TextDecoder();
const CLOSE_SLICE_MS = 20;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export class SocketServer {
  readonly sockets = new Set<ChatSocket>();
  private listenSocket: us_listen_socket | undefined;
  private sweep: NodeJS.Timeout | undefined;

  constructor(
    private readonly uws: UwsModule,
    readonly app: TemplatedApp,
    private readonly options: SocketServerOptions,
    private readonly frames: FrameContext,
  ) {
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
      upgrade: (res: HttpResponse, req: HttpRequest, context: unknown) => this.upgrade(res, req, context),
      open: (ws: ChatSocket) => this.open(ws),
      message: (ws: ChatSocket, message: ArrayBuffer, isBinary: boolean) => this.message(ws, message, isBinary),
      close: (ws: ChatSocket) => this.close(ws),
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
        this.sweep = setInterval(() => this.closeSlowSockets(), 500);
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
   * clients do not reconnect in one wave; 0 closes them all at once.
   */
  async closeAll(windowMs: number): Promise<void> {
    const sockets = [...this.sockets];
    const slices = Math.max(1, Math.floor(windowMs / CLOSE_SLICE_MS));
    const perSlice = Math.ceil(sockets.length / slices);
    for (let start = 0; start < sockets.length; start += perSlice) {
      if (start > 0) await new Promise((resolve) => setTimeout(resolve, CLOSE_SLICE_MS));
      for (const ws of sockets.slice(start, start + perSlice)) {
        if (!ws.getUserData().closed) ws.end(CloseCodes.serverRestarting, 'server restarting');
      }
    }
  }

  private upgrade(res: HttpResponse, req: HttpRequest, context: unknown): void {
    const origin = req.getHeader('origin');
    if (origin && this.options.allowedOrigins.length > 0 && !this.options.allowedOrigins.includes(origin)) {
      res.writeStatus('403 Forbidden').end('origin not allowed');
      return;
    }
    const url = req.getUrl();
    const token = req.getQuery('token') || bearerToken(req.getHeader('authorization'));
    const session: Session = {
      id: randomUUID(),
      actor: undefined,
      authError: undefined,
      initialRoomId: undefined,
      rooms: [],
      joining: undefined,
      limitedAt: undefined,
      closed: false,
    };
    if (url.startsWith('/ws/chat/')) session.initialRoomId = url.slice('/ws/chat/'.length).replace(/\/$/, '');
    try {
      if (!token) throw new ChatError('unauthenticated', 'a token is required (?token= or Authorization: Bearer)');
      session.actor = this.options.verifier.verify(token);
    } catch (error) {
      session.authError = isChatError(error) ? error : new ChatError('unauthenticated', 'invalid token');
    }
    res.upgrade(
      session,
      req.getHeader('sec-websocket-key'),
      req.getHeader('sec-websocket-protocol'),
      req.getHeader('sec-websocket-extensions'),
      context as never,
    );
  }

  private open(ws: ChatSocket): void {
    const session = ws.getUserData();
    if (!session.actor) {
      ws.end(CloseCodes.unauthenticated, session.authError?.message.slice(0, 120) ?? 'unauthenticated');
      return;
    }
    this.sockets.add(ws);
    this.options.metrics.connections(1);
    this.options.onConnected(session.actor);
    sendJson(ws, {
      type: 'hello',
      user_id: session.actor.user_id,
      heartbeat_ms: this.options.heartbeatMs,
      session_id: session.id,
      server_time: new Date().toISOString(),
    });
    if (session.initialRoomId !== undefined) void this.openLegacyRoom(ws, session.initialRoomId);
  }

  private async openLegacyRoom(ws: ChatSocket, roomId: string): Promise<void> {
    const session = ws.getUserData();
    if (!session.actor) return;
    try {
      if (!UUID.test(roomId)) throw ChatError.notFound('room');
      await handleFrame(ws, session.actor, { type: 'subscribe', room_id: roomId }, this.frames);
    } catch (error) {
      if (session.closed) return;
      const code = isChatError(error) && error.code === 'unavailable' ? CloseCodes.serverRestarting : CloseCodes.forbidden;
      ws.end(code, isChatError(error) ? error.message.slice(0, 120) : 'forbidden');
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
      const result = ClientFrameSchema.safeParse(parsed);
      if (!result.success) {
        const details = fieldIssuesFromZod(result.error);
        throw ChatError.invalid(`invalid frame: ${details[0]?.path ? `${details[0].path}: ` : ''}${details[0]?.message ?? ''}`, details);
      }
      const frame = result.data;
      this.options.metrics.framesIn(frame.type);
      // Each request frame starts its own trace: the root of everything the request causes.
      inSpan(
        `chat.ws ${frame.type}`,
        {
          kind: SpanKind.SERVER,
          root: true,
          attributes: { 'chat.frame_type': frame.type, 'enduser.id': actor.user_id, ...roomAttribute(frame) },
        },
        () => handleFrame(ws, actor, frame, this.frames),
      ).then(
        (data) => {
          if (data !== undefined) ws.cork(() => sendJson(ws, { type: 'ack', id: frameId, data }));
        },
        (error: unknown) => this.sendError(ws, frameId, error),
      );
    } catch (error) {
      this.options.metrics.framesIn('invalid');
      this.sendError(ws, frameId, error);
    }
  }

  private sendError(ws: ChatSocket, id: string | null, error: unknown): void {
    const chatError = isChatError(error) ? error : new ChatError('internal', 'internal error');
    if (!isChatError(error)) this.options.logger.error({ err: error }, 'frame handling failed');
    const session = ws.getUserData();
    if (session.closed) return;
    if (chatError.code === 'rate_limited' && this.keepsHammering(session)) {
      ws.end(CloseCodes.policyViolation, 'rate limit exceeded');
      return;
    }
    ws.cork(() => sendJson(ws, { type: 'error', id, ...chatError.toBody() }));
  }

  /** Counts rate-limited frames in a sliding 10 s window; true once a client ignores too many. */
  private keepsHammering(session: Session): boolean {
    const now = Date.now();
    const recent = (session.limitedAt ?? []).filter((at) => now - at < 10_000);
    recent.push(now);
    session.limitedAt = recent;
    return recent.length > this.options.rateLimitCloseAfter;
  }

  private close(ws: ChatSocket): void {
    const session = ws.getUserData();
    session.closed = true;
    if (!this.sockets.delete(ws)) return;
    this.options.metrics.connections(-1);
    if (session.actor) this.options.onDisconnected(session.actor.user_id);
    for (const roomId of [...session.rooms]) this.frames.hub.detach(ws, roomId);
    session.joining = undefined;
  }

  private closeSlowSockets(): void {
    for (const ws of this.sockets) {
      if (ws.getBufferedAmount() > this.options.maxBufferedBytes) ws.end(CloseCodes.tooSlow, 'too slow to read');
    }
  }
}

function correlationId(frame: unknown): string | null {
  if (typeof frame !== 'object' || frame === null || !('id' in frame)) return null;
  const id = (frame as { id: unknown }).id;
  return typeof id === 'string' && id.length > 0 && id.length <= 128 ? id : null;
}
