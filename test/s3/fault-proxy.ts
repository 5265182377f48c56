import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { DeleteObjectsCommand, type ObjectIdentifier, S3Client } from "@aws-sdk/client-s3";

/**
 * A loopback HTTP front for s3rver that records every request and can make
 * DeleteObjects answer with per-key errors or fail as a whole. s3rver itself
 * never returns per-key errors, real S3 does (AccessDenied, InternalError,
 * PreconditionFailed…); this is how the driver's handling of them is tested
 * against a real server. Keys given an error are not deleted: the real
 * deletion of the others is done by a properly signed request to s3rver.
 */
export interface KeyFault {
  match: (key: string, id: ObjectIdentifier) => boolean;
  code: string;
  message?: string;
}

export interface RecordedRequest {
  method: string;
  url: string;
  /** DeleteObjects only: the identifiers sent. */
  objects?: ObjectIdentifier[];
}

export interface FaultProxy {
  endpoint: string;
  requests: RecordedRequest[];
  keyFaults: KeyFault[];
  /** "before": answer DeleteObjects with 500 without deleting; "after": delete, then answer 500. */
  requestFault: "before" | "after" | undefined;
  close(): Promise<void>;
}

const XML_ESC: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;" };
const esc = (s: string) => s.replace(/[&<>"']/g, (c) => XML_ESC[c] as string);
const unesc = (s: string) =>
  s.replace(/&(amp|lt|gt|quot|apos|#x[0-9a-f]+|#\d+);/gi, (m, e: string) => {
    const named: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };
    if (named[e] !== undefined) return named[e];
    if (e[0] === "#")
      return String.fromCodePoint(e[1] === "x" || e[1] === "X" ? Number.parseInt(e.slice(2), 16) : Number(e.slice(1)));
    return m;
  });

function parseObjects(xml: string): ObjectIdentifier[] {
  const out: ObjectIdentifier[] = [];
  for (const m of xml.matchAll(/<Object>([\s\S]*?)<\/Object>/g)) {
    const body = m[1] ?? "";
    const field = (name: string) => {
      const f = new RegExp(`<${name}>([\\s\\S]*?)</${name}>`).exec(body);
      return f ? unesc(f[1] ?? "") : undefined;
    };
    const id: ObjectIdentifier = { Key: field("Key") };
    const v = field("VersionId");
    const e = field("ETag");
    if (v !== undefined) id.VersionId = v;
    if (e !== undefined) id.ETag = e;
    out.push(id);
  }
  return out;
}

async function body(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

export async function startFaultProxy(upstream: string): Promise<FaultProxy> {
  const target = new URL(upstream);
  const direct = new S3Client({
    endpoint: upstream,
    region: "us-east-1",
    forcePathStyle: true,
    credentials: {
      accessKeyId: process.env.AWS_ACCESS_KEY_ID ?? "S3RVER",
      secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY ?? "S3RVER",
    },
  });
  const proxy: FaultProxy = {
    endpoint: "",
    requests: [],
    keyFaults: [],
    requestFault: undefined,
    close: async () => undefined,
  };

  async function handleDelete(req: IncomingMessage, res: ServerResponse, bucket: string, rec: RecordedRequest) {
    const objects = parseObjects((await body(req)).toString("utf8"));
    rec.objects = objects;
    const failing = new Map<ObjectIdentifier, KeyFault>();
    for (const o of objects) {
      const f = proxy.keyFaults.find((k) => k.match(o.Key ?? "", o));
      if (f) failing.set(o, f);
    }
    const pass = objects.filter((o) => !failing.has(o));
    const fail500 = () => {
      res.writeHead(500, { "content-type": "application/xml" });
      res.end(
        '<?xml version="1.0" encoding="UTF-8"?><Error><Code>InternalError</Code><Message>injected failure</Message></Error>',
      );
    };
    if (proxy.requestFault === "before") return fail500();
    // s3rver has no versions: delete each key once, unless one of its identifiers is to fail.
    const keys = [...new Set(pass.map((o) => o.Key as string))].filter(
      (k) => !objects.some((o) => o.Key === k && failing.has(o)),
    );
    if (keys.length > 0) {
      const r = await direct.send(
        new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys.map((Key) => ({ Key })), Quiet: true } }),
      );
      if (r.Errors?.length) throw new Error(`upstream delete errors: ${JSON.stringify(r.Errors)}`);
    }
    if (proxy.requestFault === "after") return fail500();
    const parts = [
      '<?xml version="1.0" encoding="UTF-8"?><DeleteResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">',
    ];
    for (const o of pass)
      parts.push(
        `<Deleted><Key>${esc(o.Key ?? "")}</Key>${o.VersionId ? `<VersionId>${esc(o.VersionId)}</VersionId>` : ""}</Deleted>`,
      );
    for (const [o, f] of failing) {
      const version = o.VersionId ? `<VersionId>${esc(o.VersionId)}</VersionId>` : "";
      const message = esc(f.message ?? "injected");
      parts.push(
        `<Error><Key>${esc(o.Key ?? "")}</Key>${version}<Code>${esc(f.code)}</Code><Message>${message}</Message></Error>`,
      );
    }
    parts.push("</DeleteResult>");
    res.writeHead(200, { "content-type": "application/xml" });
    res.end(parts.join(""));
  }

  function forward(req: IncomingMessage, res: ServerResponse) {
    const up = httpRequest(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
      (upRes) => {
        res.writeHead(upRes.statusCode ?? 502, upRes.headers);
        upRes.pipe(res);
      },
    );
    up.on("error", () => {
      res.writeHead(502);
      res.end();
    });
    req.pipe(up);
  }

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://proxy");
    const rec: RecordedRequest = { method: req.method ?? "", url: req.url ?? "" };
    proxy.requests.push(rec);
    if (req.method === "POST" && url.searchParams.has("delete")) {
      const bucket = decodeURIComponent(url.pathname.split("/")[1] ?? "");
      handleDelete(req, res, bucket, rec).catch((err: Error) => {
        res.writeHead(500);
        res.end(err.message);
      });
    } else forward(req, res);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  proxy.endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  proxy.close = async () => {
    direct.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  };
  return proxy;
}

/** Requests of one kind: ListObjectsV2 pages, DeleteObjects calls, HEADs. */
export function listRequests(p: FaultProxy): RecordedRequest[] {
  return p.requests.filter((r) => r.method === "GET" && r.url.includes("list-type=2"));
}
export function deleteRequests(p: FaultProxy): RecordedRequest[] {
  return p.requests.filter((r) => r.objects !== undefined);
}
