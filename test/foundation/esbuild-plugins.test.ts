import { createRequire } from 'node:module';
import { decode, encode } from '@jridgewell/sourcemap-codec';
import { describe, expect, it } from 'vitest';

const { ownSourcesOnlyMap } = createRequire(import.meta.url)('../../serverless/esbuild-plugins.cjs') as {
  ownSourcesOnlyMap: (map: Record<string, unknown>) => {
    sources: string[];
    names: string[];
    mappings: string;
  };
};

describe('ownSourcesOnlyMap', () => {
  it('keeps the service’s own mappings and leaves dependency code unmapped, one segment per run', () => {
    const map = {
      version: 3,
      sources: [
        '../node_modules/@aws-sdk/a.js',
        '../src/wiring.ts',
        '../node_modules/b.js',
        '../handlers/x.ts',
      ],
      sourcesContent: ['sdk', 'ours', 'dep', 'handler'],
      names: ['sdkName', 'deps', 'handler'],
      mappings: encode([
        [
          [0, 0, 0, 0, 0],
          [10, 0, 1, 0],
          [20, 1, 5, 2, 1],
          [30, 2, 0, 0],
          [40, 2, 1, 0],
          [50, 3, 7, 1, 2],
        ],
      ]),
    };
    const out = ownSourcesOnlyMap(map);
    expect(out.sources).toEqual(['../src/wiring.ts', '../handlers/x.ts']);
    expect(out.names).toEqual(['deps', 'handler']);
    expect(out).not.toHaveProperty('sourcesContent');
    expect(decode(out.mappings)).toEqual([[[0], [20, 0, 5, 2, 0], [30], [50, 1, 7, 1, 1]]]);
  });
});
