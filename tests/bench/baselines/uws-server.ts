/**
 * Baseline 1, the ceiling: a bare uWebSockets.js publish server (no auth, no storage). Clients
 * send {t:"sub", rooms} and {t:"send", id, room, body}; a send is acked and published to the room.
 */

import type * as Uws from 'uWebSockets.js';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const uws = require(`uWebSockets.js/binaries/uws_${process.platform}_${process.arch}_${process.versions.modules}.node`) as typeof Uws;
const port = Number(process.env.PORT ?? 0);
const decoder = new TextDecoder();
const app = uws.App();
app.ws('/*', {
  maxPayloadLength: 64 * 1024,
  idleTimeout: 120,
  maxBackpressure: 4 * 1024 * 1024,
  message: (ws, data) => {
    const frame = JSON.parse(decoder.decode(data)) as { t: string; id?: string; room?: string; rooms?: string[]; body?: string };
    if (frame.t === 'sub') {
      for (const room of frame.rooms ?? []) ws.subscribe(room);
      ws.send(JSON.stringify({ t: 'ack', id: frame.id }));
    } else if (frame.t === 'send' && frame.room) {
      const event = JSON.stringify({ t: 'msg', room: frame.room, body: frame.body });
      ws.cork(() => {
        ws.send(JSON.stringify({ t: 'ack', id: frame.id }));
        app.publish(frame.room as string, event);
      });
    }
  },
});
app.listen('127.0.0.1', port, (socket) => {
  if (!socket) process.exit(1);
  process.send?.({ ready: uws.us_socket_local_port(socket) });
});
