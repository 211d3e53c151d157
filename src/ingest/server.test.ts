// The ingest server's socket-level limits (its routes are tested through the handler elsewhere).
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { startIngestServer } from './server.ts';

describe('startIngestServer', () => {
  it("cuts a client that sends its headers too slowly at the headers timeout, not at Node's 30 s check", async () => {
    const server = await startIngestServer({
      address: '127.0.0.1:0',
      sink: { store: () => Promise.resolve([]) },
      tokens: () => ['t'],
      headersTimeoutMs: 200,
      requestTimeoutMs: 400,
    });
    try {
      const { port } = new URL(server.url);
      const socket = connect(Number(port), '127.0.0.1');
      let answer = '';
      socket.on('data', (chunk: Buffer) => (answer += chunk.toString()));
      const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
      socket.write('POST /v1/problems HTTP/1.1\r\nHost: x\r\n');
      // Never finishes its headers; the server must answer 408 and close (the test's timeout, 5 s, is far below 30 s).
      await closed;
      expect(answer).toMatch(/^HTTP\/1\.1 408/);
    } finally {
      await server.close();
    }
  });
});
