import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Faults } from './faults';
import type { FunctionUrlResponse, IncomingUrlRequest } from './function-urls';
import { ApiError, parseCredentialScope, type RequestContext } from './protocol';
import type { RuntimeResponse } from './runtime';
import { S3, type S3Request, type S3Response, s3ErrorXml } from './s3';
import type { SignedRequest } from './sigv4';
import { stsErrorXml } from './sts';

export type Operation = (input: Record<string, unknown>, ctx: RequestContext) => unknown;

export interface CallRecord {
  service: string;
  operation: string;
  /** Virtual time of the call (ms). */
  at: number;
  error?: string;
  callerAccessKeyId?: string;
  region: string;
  /** The request's top-level `...Name` fields (EndpointName, EndpointConfigName...), for tests that count per resource. */
  names?: Record<string, string>;
  /** A callback answer's CallbackToken and ClientRequestToken, so answers can be counted as sent. */
  tokens?: { callbackToken?: string; clientRequestToken?: string };
}

const namesOf = (input: Record<string, unknown>): Record<string, string> | undefined => {
  const names = Object.entries(input).filter(
    (entry): entry is [string, string] => entry[0].endsWith('Name') && typeof entry[1] === 'string',
  );
  return names.length > 0 ? Object.fromEntries(names) : undefined;
};

/** The callback tokens a JSON request body carries (none if it carries none or is not JSON). */
const tokensInBody = (body: Buffer): CallRecord['tokens'] => {
  try {
    const input = JSON.parse(body.toString('utf8')) as Record<string, unknown> | null;
    if (!input || typeof input !== 'object' || typeof input.CallbackToken !== 'string') return undefined;
    return {
      callbackToken: input.CallbackToken,
      ...(typeof input.ClientRequestToken === 'string'
        ? { clientRequestToken: input.ClientRequestToken }
        : {}),
    };
  } catch {
    return undefined;
  }
};

/** The names a JSON request body carries, for faults aimed at one resource (none if it is not JSON). */
const namesInBody = (body: Buffer): Record<string, string> | undefined => {
  try {
    const input: unknown = body.length > 0 ? JSON.parse(body.toString('utf8')) : {};
    return input && typeof input === 'object' ? namesOf(input as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
};

export interface Routes {
  json: Record<string, (operation: string) => Operation | undefined>;
  invoke: (
    endpointName: string,
    headers: Record<string, string | undefined>,
    ctx: RequestContext,
    body: Buffer,
  ) => RuntimeResponse | Promise<RuntimeResponse>;
  query: (
    action: string,
    params: URLSearchParams,
    ctx: RequestContext,
    requestId: string,
    request: SignedRequest,
  ) => string | Promise<string>;
  functionUrl: (functionName: string, request: IncomingUrlRequest) => Promise<FunctionUrlResponse>;
  s3: (request: S3Request, ctx: RequestContext) => S3Response;
  /** The local cloud's own control API (`/_local/...`); undefined: no such route. */
  control: (method: string, path: string, body: string) => { status: number; body: unknown } | undefined;
}

interface JsonProtocol {
  service: string;
  contentType: string;
  queryCompatible: boolean;
}

const TARGETS: Record<string, JsonProtocol> = {
  SageMaker: { service: 'sagemaker', contentType: 'application/x-amz-json-1.1', queryCompatible: false },
  AmazonSQS: { service: 'sqs', contentType: 'application/x-amz-json-1.0', queryCompatible: true },
  AWSEvents: { service: 'events', contentType: 'application/x-amz-json-1.1', queryCompatible: false },
  AnyScaleFrontendService: {
    service: 'application-autoscaling',
    contentType: 'application/x-amz-json-1.1',
    queryCompatible: false,
  },
  AmazonEC2ContainerRegistry_V20150921: {
    service: 'ecr',
    contentType: 'application/x-amz-json-1.1',
    queryCompatible: false,
  },
  GraniteServiceVersion20100801: {
    service: 'cloudwatch',
    contentType: 'application/x-amz-json-1.0',
    queryCompatible: true,
  },
};

export interface ServerHooks {
  now: () => number;
  defaultRegion: string;
  /** The account whose resources a request signed with this key reaches. */
  accountOf: (accessKeyId: string | undefined) => string;
  faults: Faults;
  latencyMs: () => number;
  record: (call: CallRecord) => void;
  /** Runs before every call (processes timed transitions that fell due). */
  beforeCall: () => void;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

const shortCode = (code: string): string => code.slice(code.indexOf('#') + 1);

export async function startServer(
  routes: Routes,
  hooks: ServerHooks,
): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    handle(req, res, routes, hooks).catch((err: unknown) => {
      if (!res.headersSent) {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ __type: 'InternalFailure', message: String(err) }));
      }
    });
  });
  // Node's own default: at 1 s the server announces `keep-alive: timeout=1`, and Node's Agent (the
  // SDK's) then closes every socket after its response instead of reusing it (it keeps a socket
  // only for the announced timeout less 1 s), one new connection per call
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return { server, port: (server.address() as AddressInfo).port };
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function handle(
  req: IncomingMessage,
  res: ServerResponse,
  routes: Routes,
  hooks: ServerHooks,
): Promise<void> {
  const body = await readBody(req);
  const headers = Object.fromEntries(
    Object.entries(req.headers).map(([k, v]) => [k.toLowerCase(), Array.isArray(v) ? v.join(',') : v]),
  ) as Record<string, string | undefined>;
  const scope = parseCredentialScope(headers.authorization);
  const ctx: RequestContext = {
    region: scope.region ?? hooks.defaultRegion,
    account: hooks.accountOf(scope.accessKeyId),
    accessKeyId: scope.accessKeyId,
  };
  const requestId = randomUUID();
  const target = headers['x-amz-target'];
  const path = (req.url ?? '/').split('?')[0] ?? '/';
  const invoke = /^\/endpoints\/([^/]+)\/invocations$/.exec(path);
  const functionUrl = /^\/lambda-url\/([^/]+)(\/.*)$/.exec(path);

  if (functionUrl) {
    const call: CallRecord = {
      service: 'lambda',
      operation: 'InvokeFunctionUrl',
      at: hooks.now(),
      region: ctx.region,
    };
    if (ctx.accessKeyId) call.callerAccessKeyId = ctx.accessKeyId;
    const out = await routes.functionUrl(functionUrl[1] ?? '', {
      method: req.method ?? 'GET',
      path: functionUrl[2] ?? '/',
      rawQuery: (req.url ?? '').split('?')[1] ?? '',
      headers,
      body,
    });
    if (out.status >= 400) call.error = String(out.status);
    hooks.record(call);
    res.writeHead(out.status, { ...out.headers, 'x-amzn-requestid': requestId });
    res.end(out.body);
    return;
  }

  if (scope.service === 's3') {
    const request: S3Request = {
      method: req.method ?? 'GET',
      path: path.split('/').map(decodeURIComponent).join('/'),
      headers,
      body,
    };
    const operation = S3.operationOf(request.method, request.path) ?? `${request.method} ${request.path}`;
    const bucket = request.path.split('/')[1];
    await run(
      hooks,
      's3',
      operation,
      ctx,
      async () => routes.s3(request, ctx),
      bucket ? { Bucket: bucket } : undefined,
    )
      .then((out) => {
        res.writeHead(out.status, { ...out.headers, 'x-amz-request-id': requestId });
        res.end(request.method === 'HEAD' ? undefined : out.body);
      })
      .catch((err: unknown) => {
        const e = toApiError(err);
        const headers: Record<string, string> = { 'x-amz-request-id': requestId };
        for (const [name, value] of Object.entries(e.extra))
          if (/^x-amz-/.test(name)) headers[name] = String(value);
        if (request.method === 'HEAD') {
          res.writeHead(e.status, headers);
          res.end();
          return;
        }
        res.writeHead(e.status, { ...headers, 'content-type': 'application/xml' });
        res.end(s3ErrorXml(e, requestId));
      });
    return;
  }

  if (target) {
    const dot = target.indexOf('.');
    const protocol = TARGETS[target.slice(0, dot)];
    const operation = target.slice(dot + 1);
    if (!protocol) return sendError(res, unknownOperation(target), 'application/json', false, requestId);
    await run(
      hooks,
      protocol.service,
      operation,
      ctx,
      async (call) => {
        const op = routes.json[protocol.service]?.(operation);
        if (!op) throw unknownOperation(operation);
        const input = body.length > 0 ? (JSON.parse(body.toString('utf8')) as Record<string, unknown>) : {};
        const names = namesOf(input);
        if (names) call.names = names;
        return op(input, ctx);
      },
      namesInBody(body),
      tokensInBody(body),
    )
      .then((output) => sendJson(res, protocol.contentType, output, requestId))
      .catch((err: unknown) =>
        sendError(res, err, protocol.contentType, protocol.queryCompatible, requestId),
      );
    return;
  }

  if (invoke && req.method === 'POST') {
    const name = decodeURIComponent(invoke[1] ?? '');
    await run(hooks, 'sagemaker-runtime', 'InvokeEndpoint', ctx, async () =>
      routes.invoke(name, headers, ctx, body),
    )
      .then((out) => {
        res.writeHead(out.status, { ...out.headers, 'x-amzn-requestid': requestId });
        res.end(out.body);
      })
      .catch((err: unknown) => sendError(res, err, 'application/json', false, requestId, true));
    return;
  }

  if (path.startsWith('/_local/')) {
    const reply = routes.control(req.method ?? 'GET', path, body.toString('utf8'));
    if (reply) {
      res.writeHead(reply.status, { 'content-type': 'application/json', 'x-amzn-requestid': requestId });
      res.end(JSON.stringify(reply.body));
      return;
    }
  }

  const params = new URLSearchParams(body.toString('utf8'));
  const action = params.get('Action');
  if (req.method === 'POST' && action) {
    const signed: SignedRequest = {
      method: req.method ?? 'POST',
      path,
      rawQuery: (req.url ?? '').split('?')[1] ?? '',
      headers,
      body,
    };
    await run(hooks, 'sts', action, ctx, async () => routes.query(action, params, ctx, requestId, signed))
      .then((xml) => {
        res.writeHead(200, { 'content-type': 'text/xml', 'x-amzn-requestid': requestId });
        res.end(xml);
      })
      .catch((err: unknown) => {
        const e = toApiError(err);
        res.writeHead(e.status, { 'content-type': 'text/xml', 'x-amzn-requestid': requestId });
        res.end(stsErrorXml(shortCode(e.code), e.message, requestId, e.status < 500));
      });
    return;
  }

  sendError(
    res,
    new ApiError('UnknownOperationException', `No local service handles ${req.method} ${path}`, {
      status: 404,
    }),
    'application/json',
    false,
    requestId,
  );
}

async function run<T>(
  hooks: ServerHooks,
  service: string,
  operation: string,
  ctx: RequestContext,
  fn: (call: CallRecord) => Promise<T>,
  names?: Record<string, string>,
  tokens?: CallRecord['tokens'],
): Promise<T> {
  const call: CallRecord = { service, operation, at: hooks.now(), region: ctx.region };
  if (ctx.accessKeyId) call.callerAccessKeyId = ctx.accessKeyId;
  // recorded for a call a fault refuses too
  if (names) call.names = names;
  if (tokens) call.tokens = tokens;
  try {
    const latency = hooks.latencyMs();
    if (latency > 0) await sleep(latency);
    hooks.beforeCall();
    call.at = hooks.now();
    const fault = hooks.faults.take(service, operation, names, ctx.region);
    if (fault?.latencyMs) await sleep(fault.latencyMs);
    if (fault?.error) throw fault.error;
    return await fn(call);
  } catch (err) {
    call.error = shortCode(toApiError(err).code);
    throw err;
  } finally {
    hooks.record(call);
  }
}

function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof SyntaxError)
    return new ApiError('SerializationException', `Malformed request body: ${err.message}`);
  return new ApiError('InternalFailure', err instanceof Error ? err.message : String(err));
}

function unknownOperation(operation: string): ApiError {
  return new ApiError(
    'UnknownOperationException',
    `Operation ${operation} is not supported by the local cloud.`,
  );
}

function sendJson(res: ServerResponse, contentType: string, payload: unknown, requestId: string): void {
  res.writeHead(200, { 'content-type': contentType, 'x-amzn-requestid': requestId });
  res.end(JSON.stringify(payload ?? {}));
}

function sendError(
  res: ServerResponse,
  err: unknown,
  contentType: string,
  queryCompatible: boolean,
  requestId: string,
  restJson = false,
): void {
  const e = toApiError(err);
  const code = shortCode(e.code);
  const headers: Record<string, string> = {
    'content-type': contentType,
    'x-amzn-errortype': code,
    'x-amzn-requestid': requestId,
  };
  if (queryCompatible)
    headers['x-amzn-query-error'] = e.queryCode ?? `${code};${e.status >= 500 ? 'Receiver' : 'Sender'}`;
  const body: Record<string, unknown> = { __type: e.code, message: e.message, ...e.extra };
  if (restJson) body.Message = e.message;
  res.writeHead(e.status, headers);
  res.end(JSON.stringify(body));
}
