import { parseArgs } from 'node:util';
import { startModelServer } from './server';

/**
 * `tsx examples/model-server/serve.ts [serve] [--weights FILE] [--port N] [--host H]`
 * SageMaker starts a container as `docker run <image> serve`, hence the optional `serve` word.
 * The port defaults to SAGEMAKER_BIND_TO_PORT, then 8080; the weights to /opt/ml/model/weights.json,
 * where SageMaker unpacks the model artifacts.
 */
function options(argv: string[]) {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      weights: { type: 'string', default: '/opt/ml/model/weights.json' },
      port: { type: 'string', default: process.env.SAGEMAKER_BIND_TO_PORT ?? '8080' },
      host: { type: 'string', default: '127.0.0.1' },
    },
  });
  const extra = positionals.filter((p) => p !== 'serve');
  if (extra.length > 0) throw new Error(`unexpected argument ${extra[0]}; the only command is "serve"`);
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`--port must be an integer between 0 and 65535, got "${values.port}"`);
  }
  return { weightsPath: values.weights, port, host: values.host };
}

async function main(): Promise<void> {
  let opts: ReturnType<typeof options>;
  try {
    opts = options(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`model-server: ${(err as Error).message}\n`);
    process.exit(2);
  }
  const running = await startModelServer(opts);
  if (running.loadError)
    process.stderr.write(`model-server: ${running.loadError.message}; /ping answers 503\n`);
  process.stdout.write(`model-server listening on ${running.url}\n`);
  const stop = () => void running.close().then(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

void main();
