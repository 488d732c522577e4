import { createServer, type Server } from 'node:http';

/**
 * Where `--tracing` sends our processes' spans: an OTLP/HTTP endpoint that reads each export
 * whole, answers 200 and keeps only counts. The processes pay for what tracing costs them (spans,
 * batching, protobuf encoding, the HTTP request); a collector's own CPU would live elsewhere.
 */
export class OtlpSink {
  requests = 0;
  bytes = 0;
  private server: Server | undefined;
  url = '';

  async start(): Promise<this> {
    const server = createServer((req, res) => {
      req.on('data', (chunk: Buffer) => {
        this.bytes += chunk.length;
      });
      req.on('end', () => {
        this.requests++;
        res.writeHead(200, { 'content-type': req.headers['content-type'] ?? 'application/x-protobuf' }).end();
      });
    });
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    return this;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }
}
