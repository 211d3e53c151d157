// Loopback stand-ins for what notifications go to, since Slack and Teams cannot be reached from a
// test: a Slack Web API (chat.postMessage and chat.update with a bot token, keeping each thread as
// Slack would) and a recorder for webhooks, Teams Workflows and CloudEvents sinks that answers as
// told. Both keep every request as received, so tests check payloads field by field.
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { LOOPBACK } from './ports.ts';

export interface ReceivedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** The body's exact bytes as text (a signature is over these). */
  raw: string;
  /** The body parsed as JSON, or undefined. */
  json: unknown;
}

interface Listening {
  server: Server;
  url: string;
}

function listen(handler: (req: ReceivedRequest) => { status: number; body: unknown }): Promise<Listening> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      let json: unknown;
      try {
        json = raw === '' ? undefined : JSON.parse(raw);
      } catch {
        json = undefined;
      }
      const answer = handler({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, raw, json });
      const text = answer.body === undefined ? '' : JSON.stringify(answer.body);
      res.writeHead(answer.status, { 'content-type': 'application/json' });
      res.end(text);
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: LOOPBACK, port: 0 }, () => {
      const { port } = server.address() as AddressInfo;
      resolve({ server, url: `http://${LOOPBACK}:${port}` });
    });
  });
}

function close(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

/** A recorder: every request is kept; `answer` decides the status (200 unless told otherwise). */
export class Recorder {
  readonly received: ReceivedRequest[] = [];
  /** Requests answered 2xx, in order. */
  readonly accepted: ReceivedRequest[] = [];
  answer: (req: ReceivedRequest) => number = () => 200;
  url = '';
  #server: Server | undefined;

  async start(): Promise<this> {
    const { server, url } = await listen((req) => {
      this.received.push(req);
      const status = this.answer(req);
      if (status >= 200 && status < 300) this.accepted.push(req);
      return { status, body: status >= 400 ? { error: 'told to fail' } : undefined };
    });
    this.#server = server;
    this.url = url;
    return this;
  }

  async stop(): Promise<void> {
    if (this.#server) await close(this.#server);
  }
}

export interface SlackMessage {
  ts: string;
  /** The Block Kit payload as last posted or updated. */
  text: string;
  blocks: unknown[];
  /** Earlier versions, oldest first (each chat.update pushes the previous one). */
  history: { text: string; blocks: unknown[] }[];
  thread_ts?: string;
}

/** Slack's Web API as far as Rebound uses it: one channel, bot-token auth, threads. */
export class FakeSlack {
  readonly channel = 'C0REBOUND';
  readonly calls: ReceivedRequest[] = [];
  readonly messages: SlackMessage[] = [];
  url = '';
  readonly #token: string;
  #seq = 0;
  #server: Server | undefined;

  constructor(token: string) {
    this.#token = token;
  }

  async start(): Promise<this> {
    const { server, url } = await listen((req) => ({ status: 200, body: this.#handle(req) }));
    this.#server = server;
    this.url = `${url}/api`;
    return this;
  }

  async stop(): Promise<void> {
    if (this.#server) await close(this.#server);
  }

  /** Messages that start a thread. */
  roots(): SlackMessage[] {
    return this.messages.filter((m) => m.thread_ts === undefined);
  }

  /** The replies in a thread, in the order they were posted. */
  replies(ts: string): SlackMessage[] {
    return this.messages.filter((m) => m.thread_ts === ts);
  }

  #handle(req: ReceivedRequest): object {
    this.calls.push(req);
    if (req.method !== 'POST') return { ok: false, error: 'method_not_allowed' };
    if (req.headers.authorization !== `Bearer ${this.#token}`) return { ok: false, error: 'invalid_auth' };
    if (!String(req.headers['content-type']).startsWith('application/json'))
      return { ok: false, error: 'invalid_form_data' };
    const body = req.json as Record<string, unknown> | undefined;
    if (!body || (body.channel !== this.channel && body.channel !== `#general`))
      return { ok: false, error: 'channel_not_found' };
    if (typeof body.text !== 'string' || !Array.isArray(body.blocks)) return { ok: false, error: 'no_text' };
    if (req.path === '/api/chat.postMessage') {
      const threadTs = body.thread_ts;
      if (threadTs !== undefined && !this.messages.some((m) => m.ts === threadTs && m.thread_ts === undefined))
        return { ok: false, error: 'thread_not_found' };
      const ts = `1764662400.${String(++this.#seq).padStart(6, '0')}`;
      this.messages.push({
        ts,
        text: body.text,
        blocks: body.blocks,
        history: [],
        ...(typeof threadTs === 'string' ? { thread_ts: threadTs } : {}),
      });
      return { ok: true, channel: this.channel, ts, message: { text: body.text } };
    }
    if (req.path === '/api/chat.update') {
      const message = this.messages.find((m) => m.ts === body.ts);
      if (!message) return { ok: false, error: 'message_not_found' };
      message.history.push({ text: message.text, blocks: message.blocks });
      message.text = body.text;
      message.blocks = body.blocks;
      return { ok: true, channel: this.channel, ts: message.ts };
    }
    return { ok: false, error: 'unknown_method' };
  }
}
