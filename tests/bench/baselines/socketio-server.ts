/**
 * Baseline 2, what most teams would build instead: Socket.IO that persists every message to
 * Postgres (pg) and broadcasts it to the room.
 */
import { createServer } from 'node:http';
import pg from 'pg';
import { Server } from 'socket.io';

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 10 });
await pool.query(
  'create table if not exists bench_socketio_messages (id bigserial primary key, room text not null, body text not null, created_at timestamptz default now())',
);
const http = createServer();
const io = new Server(http, { transports: ['websocket'], serveClient: false });
io.on('connection', (socket) => {
  socket.on('sub', (rooms: string[], ack: () => void) => {
    for (const room of rooms) void socket.join(room);
    ack();
  });
  socket.on('send', async (frame: { room: string; body: string }, ack: () => void) => {
    await pool.query('insert into bench_socketio_messages (room, body) values ($1, $2)', [frame.room, frame.body]);
    io.to(frame.room).emit('msg', { room: frame.room, body: frame.body });
    ack();
  });
});
http.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  process.send?.({ ready: (http.address() as { port: number }).port });
});
