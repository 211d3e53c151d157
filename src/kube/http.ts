// The transport under the client-node calls that go through SharedConnection. client-node sends each
// request with undici's WHATWG fetch, which builds Request, Headers, Response and a web stream for
// every call; undici's own `request` on the same pool does the same work for about half the CPU
// (measured against a real API server: about 900 against 500 µs of client CPU per call). In an alert
// storm the controller's HTTP stack was its largest cost, so the calls the loop makes use this.
//
// What fetch did for us and this keeps: gzip (asked for and decoded, as client-go does, so large
// lists stay small off loopback) and the abort signal. Redirects are not followed: the API server
// does not send them for these calls, and a 3xx becomes an error that names its status.
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import { ResponseContext, wrapHttpLibrary } from '@kubernetes/client-node';
import type { HttpLibrary, RequestContext } from '@kubernetes/client-node';
import { request } from 'undici';
import type { Dispatcher } from 'undici';

const gunzipAsync = promisify(gunzip);

/** An HttpLibrary for client-node that sends with undici's `request` through the context's dispatcher. */
export const undiciRequestLibrary: HttpLibrary = wrapHttpLibrary({ send });

async function send(context: RequestContext): Promise<ResponseContext> {
  const headers = { ...context.getHeaders() };
  if (!Object.keys(headers).some((name) => name.toLowerCase() === 'accept-encoding'))
    headers['Accept-Encoding'] = 'gzip';
  const body = context.getBody();
  const dispatcher = context.getDispatcher();
  const signal = context.getSignal();
  const response = await request(context.getUrl(), {
    method: context.getHttpMethod() as Dispatcher.HttpMethod,
    headers,
    // client-node serialises JSON bodies to a string; the form bodies of a few non-Kubernetes calls as they are.
    ...(body === undefined ? {} : { body: body instanceof URLSearchParams ? body.toString() : body }),
    ...(dispatcher ? { dispatcher } : {}),
    ...(signal ? { signal } : {}),
  });
  const raw = Buffer.from(await response.body.arrayBuffer());
  const encoding = headerValue(response.headers['content-encoding']);
  const bytes = encoding?.toLowerCase() === 'gzip' ? await gunzipAsync(raw) : raw;
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(response.headers)) {
    const text = headerValue(value);
    if (text !== undefined) flat[name] = text;
  }
  if (bytes !== raw) {
    // Decoded here: what reads the headers must not decode it again.
    delete flat['content-encoding'];
    flat['content-length'] = String(bytes.length);
  }
  return new ResponseContext(response.statusCode, flat, {
    text: () => Promise.resolve(bytes.toString('utf8')),
    binary: () => Promise.resolve(bytes),
    stream: () =>
      new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(new Uint8Array(bytes));
          controller.close();
        },
      }),
  });
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(', ') : value;
}
