import type { Document, LineCounter, Node as YamlNode } from 'yaml';

/** A place in a file: 1-based line and column. */
export interface Position {
  line: number;
  col: number;
}

/** Where the field at a path is written: its value, or its key when the key itself is wrong. */
export type Locate = (path: readonly PropertyKey[], atKey?: boolean) => Position | undefined;

type Yaml = typeof import('yaml');

/**
 * Finds fields of a parsed document in its text. A path that leads nowhere (a missing field)
 * points at the deepest part of it that is written: the key of the object that lacks the field.
 */
export const locator =
  (yaml: Yaml, document: Document, lines: LineCounter): Locate =>
  (path, atKey = false) => {
    const at = (node: YamlNode | null | undefined): Position | undefined =>
      node?.range ? lines.linePos(node.range[0]) : undefined;
    let node: unknown = document.contents;
    let key: YamlNode | undefined;
    for (const segment of path) {
      if (yaml.isAlias(node)) node = node.resolve(document);
      if (yaml.isMap(node)) {
        const pair = node.items.find(
          (item) => String(yaml.isScalar(item.key) ? item.key.value : item.key) === String(segment),
        );
        if (!pair) return at(key) ?? at(node);
        key = yaml.isNode(pair.key) ? pair.key : undefined;
        node = pair.value;
      } else if (yaml.isSeq(node)) {
        const item = node.items[Number(segment)];
        if (item === undefined) return at(key) ?? at(node);
        key = undefined;
        node = item;
      } else {
        return at(key) ?? at(node as YamlNode);
      }
    }
    if (atKey && key) return at(key);
    return at(yaml.isNode(node) ? node : undefined) ?? at(key);
  };
