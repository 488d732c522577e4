import { createServer, type Server } from 'node:http';

/** Path-style S3 enough for the blob store: PUT, GET and DELETE of objects, kept in memory. */
export class FakeS3 {
  readonly objects = new Map<string, { body: Buffer; contentType: string }>();
  private server: Server | undefined;
  url = '';

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const key = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (req.method === 'PUT') {
          this.objects.set(key, { body: Buffer.concat(chunks), contentType: String(req.headers['content-type'] ?? '') });
          res.writeHead(200, { ETag: '"etag"' }).end();
        } else if (req.method === 'GET') {
          const object = this.objects.get(key);
          if (!object) {
            res
              .writeHead(404, { 'Content-Type': 'application/xml' })
              .end('<Error><Code>NoSuchKey</Code><Message>missing</Message></Error>');
            return;
          }
          res.writeHead(200, { 'Content-Type': object.contentType, 'Content-Length': object.body.length }).end(object.body);
        } else if (req.method === 'DELETE') {
          this.objects.delete(key);
          res.writeHead(204).end();
        } else {
          res.writeHead(405).end();
        }
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    const address = this.server.address() as { port: number };
    this.url = `http://127.0.0.1:${address.port}`;
    return this;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }
}
