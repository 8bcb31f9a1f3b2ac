'use strict';
/**
 * esbuild plugins for the function bundles (serverless.yml `custom.esbuild.plugins`, and the bench).
 *
 * ownSourcesOnly: the linked source map keeps the mappings of the service's own files only.
 * NODE_OPTIONS=--enable-source-maps parses the whole map at cold start, and 95 % of a bundle is
 * the AWS SDK and Powertools, whose frames are not what a stack trace needs to show. Code from
 * node_modules keeps one "unmapped" segment per run, so its frames stay as they are (minified)
 * instead of borrowing the nearest mapped position of the service's code.
 */
const fs = require('node:fs');
const path = require('node:path');
const { decode, encode } = require('@jridgewell/sourcemap-codec');

const isDependency = (source) => source.includes('node_modules/');

const ownSourcesOnlyMap = (map) => {
  const keep = map.sources.map((source) => !isDependency(source));
  const index = [];
  const sources = [];
  map.sources.forEach((source, i) => {
    if (keep[i]) {
      index[i] = sources.length;
      sources.push(source);
    }
  });
  const names = [];
  const nameIndex = new Map();
  const nameOf = (i) => {
    if (!nameIndex.has(i)) {
      nameIndex.set(i, names.length);
      names.push(map.names[i]);
    }
    return nameIndex.get(i);
  };
  const lines = decode(map.mappings).map((segments) => {
    const out = [];
    let inDependency = false;
    for (const segment of segments) {
      if (segment.length === 1 || !keep[segment[1]]) {
        if (!inDependency) out.push([segment[0]]);
        inDependency = true;
        continue;
      }
      inDependency = false;
      const [column, source, line, sourceColumn] = segment;
      out.push(
        segment.length === 5
          ? [column, index[source], line, sourceColumn, nameOf(segment[4])]
          : [column, index[source], line, sourceColumn],
      );
    }
    return out;
  });
  const { sourcesContent: _sourcesContent, ...rest } = map;
  return { ...rest, sources, names, mappings: encode(lines) };
};

const ownSourcesOnly = {
  name: 'own-sources-only',
  setup(build) {
    // only the maps this build wrote: the functions are built in parallel into a shared folder,
    // and another build's map may be half written
    build.initialOptions.metafile = true;
    build.onEnd((result) => {
      if (result.errors.length > 0) return;
      const root = build.initialOptions.absWorkingDir ?? process.cwd();
      const files = Object.keys(result.metafile?.outputs ?? {})
        .filter((f) => f.endsWith('.js.map'))
        .map((f) => path.resolve(root, f));
      for (const file of files) {
        const map = JSON.parse(fs.readFileSync(file, 'utf8'));
        fs.writeFileSync(file, JSON.stringify(ownSourcesOnlyMap(map)));
      }
    });
  },
};

/**
 * lambdaCredentials: the SDK clients' default credentials are the ones Lambda sets in the
 * environment for the execution role (or, where a container credentials endpoint is configured,
 * that endpoint), in place of the whole Node.js default chain. The chain's other links (SSO,
 * shared profiles, credential processes, web identity, IMDS) and the SSO/STS clients they carry
 * never run in a function, and are a third of a bundle (README Performance). A client given
 * explicit credentials (the cross-account stages' assumed roles) is not concerned.
 */
const LAMBDA_CREDENTIALS = `
import { fromEnv } from '@aws-sdk/credential-provider-env';
import { fromHttp } from '@aws-sdk/credential-provider-http';
export const defaultProvider = (init = {}) => {
  const environment = fromEnv(init);
  let container;
  return async (properties) => {
    try {
      return await environment(properties);
    } catch (error) {
      const env = process.env;
      if (env.AWS_CONTAINER_CREDENTIALS_FULL_URI || env.AWS_CONTAINER_CREDENTIALS_RELATIVE_URI) {
        // built on use: fromHttp refuses to be built without one of these variables
        container ??= fromHttp(init);
        return container(properties);
      }
      throw error;
    }
  };
};
`;

const lambdaCredentials = {
  name: 'lambda-credentials',
  setup(build) {
    build.onResolve({ filter: /^@aws-sdk\/credential-provider-node$/ }, () => ({
      path: 'lambda-credentials',
      namespace: 'lambda-credentials',
    }));
    build.onLoad({ filter: /.*/, namespace: 'lambda-credentials' }, () => ({
      contents: LAMBDA_CREDENTIALS,
      loader: 'js',
      resolveDir: __dirname,
    }));
  },
};

/**
 * sdkPackageVersion: an SDK client reads only `version` from its package.json (for the user
 * agent), yet a default JSON import bundles the whole manifest, about 2 KB per client.
 */
const sdkPackageVersion = {
  name: 'sdk-package-version',
  setup(build) {
    build.onLoad({ filter: /[\\/]@aws-sdk[\\/][^\\/]+[\\/]package\.json$/ }, (args) => {
      const { name, version } = JSON.parse(fs.readFileSync(args.path, 'utf8'));
      return { contents: JSON.stringify({ name, version }), loader: 'json' };
    });
  },
};

/**
 * noEventStreams: the SageMaker Runtime client wires event-stream support (for
 * InvokeEndpointWithResponseStream) into every client it builds, 15 KB of codec in every bundle;
 * no function calls a streaming operation. Building a client works as before; a streaming call
 * would fail with this message (and need an IAM action no role has: package.test.ts).
 */
const NO_EVENT_STREAMS = `
const unsupported = () => {
  throw new Error('event streams are not bundled (serverless/esbuild-plugins.cjs): no function calls a streaming operation');
};
export const resolveEventStreamSerdeConfig = (input) => input;
export const eventStreamSerdeProvider = unsupported;
export class EventStreamSerde {
  constructor() {
    unsupported();
  }
}
`;

const noEventStreams = {
  name: 'no-event-streams',
  setup(build) {
    build.onResolve({ filter: /^@smithy\/core\/event-streams$/ }, () => ({
      path: 'no-event-streams',
      namespace: 'no-event-streams',
    }));
    build.onLoad({ filter: /.*/, namespace: 'no-event-streams' }, () => ({
      contents: NO_EVENT_STREAMS,
      loader: 'js',
    }));
  },
};

module.exports = [ownSourcesOnly, lambdaCredentials, sdkPackageVersion, noEventStreams];
module.exports.ownSourcesOnlyMap = ownSourcesOnlyMap;
module.exports.LAMBDA_CREDENTIALS = LAMBDA_CREDENTIALS;
