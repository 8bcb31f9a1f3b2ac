declare module 'dynalite' {
  import type { Server } from 'node:http';

  interface DynaliteOptions {
    createTableMs?: number;
    deleteTableMs?: number;
    updateTableMs?: number;
    maxItemSizeKb?: number;
    path?: string;
  }

  /** DynamoDB on LevelDB (in memory without `path`), as an HTTP server. */
  export default function dynalite(options?: DynaliteOptions): Server;
}
