/**
 * Files under `static/` (stylesheets, the built island bundles), read once into memory and
 * served with a content hash in the URL, so browsers may keep them for a year.
 */
import { gzipSync } from "node:zlib";

const TYPES: Record<string, string> = {
  css: "text/css; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  svg: "image/svg+xml",
  png: "image/png",
  ico: "image/x-icon",
  txt: "text/plain; charset=utf-8",
};

export interface Asset {
  body: Uint8Array;
  /** The body gzipped once at the highest level, for clients that accept gzip. */
  gzipped: Uint8Array;
  type: string;
  hash: string;
}

export class Assets {
  private files: Map<string, Asset> | null = null;

  constructor(private readonly root: URL) {}

  get(path: string): Asset | null {
    return this.load().get(path) ?? null;
  }

  /** `/static/<path>?v=<hash>`; the bare path when the file is missing (a 404 then shows it). */
  url(path: string): string {
    const asset = this.get(path);
    return asset ? `/static/${path}?v=${asset.hash}` : `/static/${path}`;
  }

  private load(): Map<string, Asset> {
    if (this.files) return this.files;
    const files = new Map<string, Asset>();
    const walk = (dir: URL, prefix: string) => {
      let entries: Deno.DirEntry[];
      try {
        entries = [...Deno.readDirSync(dir)];
      } catch (error) {
        if (error instanceof Deno.errors.NotFound) return;
        throw error;
      }
      for (const entry of entries) {
        if (entry.isDirectory) walk(new URL(`${entry.name}/`, dir), `${prefix}${entry.name}/`);
        const type = TYPES[entry.name.split(".").pop() ?? ""];
        if (!entry.isFile || !type) continue;
        const body = Deno.readFileSync(new URL(entry.name, dir));
        files.set(`${prefix}${entry.name}`, {
          body,
          gzipped: gzipSync(body, { level: 9 }),
          type,
          hash: fnv1a(body).toHex(),
        });
      }
    };
    walk(this.root, "");
    this.files = files;
    return files;
  }
}

/** A fast 64-bit content hash (cache busting only, not security). */
function fnv1a(bytes: Uint8Array): Uint8Array {
  let hash = 0xcbf29ce484222325n;
  for (const byte of bytes) {
    hash ^= BigInt(byte);
    hash = (hash * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, hash);
  return out;
}
