import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as z from 'zod';
import { loadWeights, PredictionError, predict, type Weights } from './model';

/**
 * The SageMaker hosting contract: GET /ping answers 200 with an empty body once the model is
 * loaded; POST /invocations scores the request body. SageMaker's request timeout on /ping is 2 s
 * and on /invocations 60 s (SageMaker developer guide, "Use Your Own Inference Code with Hosting
 * Services").
 */
export interface ModelServerOptions {
  weightsPath: string;
  port?: number;
  host?: string;
  /** Largest request body accepted; SageMaker's own InvokeEndpoint payload limit is 6 MB. */
  maxBodyBytes?: number;
}

export interface RunningModelServer {
  server: Server;
  url: string;
  port: number;
  /** The load error when the weights could not be loaded (the server then answers /ping with 503). */
  loadError: Error | undefined;
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 6 * 1024 * 1024;

const jsonBody = z.strictObject({
  instances: z.array(z.array(z.number())).min(1),
});

class BadRequest extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export async function startModelServer(options: ModelServerOptions): Promise<RunningModelServer> {
  let weights: Weights | undefined;
  let loadError: Error | undefined;
  try {
    weights = await loadWeights(options.weightsPath);
  } catch (err) {
    loadError = err as Error;
  }
  const maxBodyBytes = options.maxBodyBytes ?? MAX_BODY_BYTES;
  const server = createServer((req, res) => {
    route(req, res, weights, loadError, maxBodyBytes).catch((err: unknown) =>
      send(res, 500, { error: err instanceof Error ? err.message : String(err) }),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 8080, options.host ?? '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    server,
    port,
    url: `http://${options.host ?? '127.0.0.1'}:${port}`,
    loadError,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}

async function route(
  req: IncomingMessage,
  res: ServerResponse,
  weights: Weights | undefined,
  loadError: Error | undefined,
  maxBodyBytes: number,
): Promise<void> {
  const path = (req.url ?? '/').split('?')[0];
  if (path === '/ping' && req.method === 'GET') {
    if (!weights) return send(res, 503, { error: `model not loaded: ${loadError?.message}` });
    res.writeHead(200);
    res.end();
    return;
  }
  if (path === '/invocations' && req.method === 'POST') {
    if (!weights) return send(res, 503, { error: `model not loaded: ${loadError?.message}` });
    try {
      const instances = parseInstances(req, await readBody(req, maxBodyBytes), weights);
      const accept = req.headers.accept;
      if (accept && !/(^|,)\s*(\*\/\*|application\/json)/.test(accept)) {
        throw new BadRequest(406, `cannot answer in ${accept}; this model answers application/json`);
      }
      return send(res, 200, { predictions: instances.map((x) => predict(weights, x)) });
    } catch (err) {
      if (err instanceof BadRequest) return send(res, err.status, { error: err.message });
      if (err instanceof PredictionError) return send(res, 500, { error: err.message });
      throw err;
    }
  }
  send(res, 404, { error: `no route for ${req.method} ${path}` });
}

async function readBody(req: IncomingMessage, maxBodyBytes: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > maxBodyBytes) throw new BadRequest(413, `request body larger than ${maxBodyBytes} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** JSON `{"instances": [[...], ...]}` or CSV, one instance per line. */
function parseInstances(req: IncomingMessage, body: string, weights: Weights): number[][] {
  const contentType = (req.headers['content-type'] ?? 'application/json').split(';')[0]!.trim();
  let instances: number[][];
  if (contentType === 'application/json') {
    let json: unknown;
    try {
      json = JSON.parse(body);
    } catch {
      throw new BadRequest(400, 'request body is not JSON');
    }
    const parsed = jsonBody.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new BadRequest(400, `request body: ${issue?.path.join('.') || '(root)'} ${issue?.message}`);
    }
    instances = parsed.data.instances;
  } else if (contentType === 'text/csv') {
    instances = body
      .split(/\r?\n/)
      .filter((line) => line.trim() !== '')
      .map((line, row) =>
        line.split(',').map((cell, col) => {
          const value = Number(cell);
          if (cell.trim() === '' || !Number.isFinite(value)) {
            throw new BadRequest(400, `CSV line ${row + 1}, column ${col + 1}: "${cell}" is not a number`);
          }
          return value;
        }),
      );
    if (instances.length === 0) throw new BadRequest(400, 'request body has no CSV lines');
  } else {
    throw new BadRequest(
      415,
      `content type ${contentType} is not supported; use application/json or text/csv`,
    );
  }
  const n = weights.features.length;
  instances.forEach((instance, i) => {
    if (instance.length !== n) {
      throw new BadRequest(
        400,
        `instance ${i} has ${instance.length} values; the model takes ${n} (${weights.features.join(', ')})`,
      );
    }
  });
  return instances;
}

function send(res: ServerResponse, status: number, payload: unknown): void {
  if (res.headersSent) return;
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(payload));
}
