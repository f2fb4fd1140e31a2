/** A real HTTP target on 127.0.0.1 that records every request it gets. */

export interface Hit {
  at: number;
  path: string;
  method: string;
  userAgent: string | null;
}

export interface TargetServer {
  url: string;
  hits: Hit[];
  close: () => Promise<void>;
}

export function startTarget(
  respond: (request: Request) => Response | Promise<Response> = () => new Response("ok"),
): TargetServer {
  const hits: Hit[] = [];
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, (request) => {
    const url = new URL(request.url);
    hits.push({
      at: Date.now(),
      path: url.pathname + url.search,
      method: request.method,
      userAgent: request.headers.get("user-agent"),
    });
    return respond(request);
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    hits,
    close: () => server.shutdown(),
  };
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
