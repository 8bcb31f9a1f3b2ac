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

const mapFiles = (dir) =>
  fs.existsSync(dir)
    ? fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
        const full = path.join(dir, entry.name);
        if (entry.isDirectory()) return mapFiles(full);
        return entry.name.endsWith('.js.map') ? [full] : [];
      })
    : [];

const ownSourcesOnly = {
  name: 'own-sources-only',
  setup(build) {
    build.onEnd((result) => {
      if (result.errors.length > 0) return;
      const { outdir, outfile } = build.initialOptions;
      const files = outfile ? [`${outfile}.map`].filter((f) => fs.existsSync(f)) : mapFiles(outdir);
      for (const file of files) {
        const map = JSON.parse(fs.readFileSync(file, 'utf8'));
        fs.writeFileSync(file, JSON.stringify(ownSourcesOnlyMap(map)));
      }
    });
  },
};

module.exports = [ownSourcesOnly];
module.exports.ownSourcesOnlyMap = ownSourcesOnlyMap;
