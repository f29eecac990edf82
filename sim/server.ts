/** The HTTP side: routing, auth, rate limiting, faults, recording. Only node:http. */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { SimClock } from './clock.js';
import { CoderApiError, type CoderResponseBody } from './errors.js';
import { FaultInjector } from './faults.js';
import { latestBuild, latestStatus, newId, type SimUser } from './model.js';
import { WebhookDispatcher, WorkspaceNotifier } from './notifications.js';
import { startPeople } from './people.js';
import { rateLimitKeyRule, simProfile } from './profiles/index.js';
import { EventScheduler } from './provisioning/scheduler.js';
import { BYPASS_RATELIMIT_HEADER, rateLimitKeyDecision, SlidingWindowLimiter } from './rate-limit.js';
import { buildRoutes, type RequestContext, RouteTable } from './routes.js';
import { isOwner, SimState } from './state.js';
import type {
  CoderSimulator,
  CoderSimulatorOptions,
  RecordedExchange,
  SimJobView,
  SimProvisioners,
  SimulatorSeeder,
  SimWorkspaceView,
} from './types.js';

const MAX_BODY_BYTES = 1024 * 1024;
const SIGNED_OUT = 'You are signed out or your session has expired. Please sign in again to continue.';

interface RawBody {
  bytes: Buffer;
  tooLarge: boolean;
}

/** Reads the body, keeping at most the limit; an oversized body is drained so the reply can be sent cleanly. */
function readBody(req: IncomingMessage): Promise<RawBody> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) tooLarge = true;
      else chunks.push(chunk);
    });
    req.on('end', () => resolve({ bytes: tooLarge ? Buffer.alloc(0) : Buffer.concat(chunks), tooLarge }));
    req.on('error', reject);
  });
}

/** Coder reads the token from cookie, query, header, bearer, then `access_token`, in that order. */
function sessionToken(req: IncomingMessage, url: URL): string | undefined {
  const cookie = req.headers.cookie
    ?.split(';')
    .map((c) => c.trim())
    .find((c) => c.startsWith('coder_session_token='));
  if (cookie !== undefined) return cookie.slice('coder_session_token='.length);
  const fromQuery = url.searchParams.get('coder_session_token');
  if (fromQuery !== null && fromQuery !== '') return fromQuery;
  const header = req.headers['coder-session-token'];
  if (typeof header === 'string' && header !== '') return header;
  const auth = req.headers.authorization;
  if (auth?.toLowerCase().startsWith('bearer ')) return auth.slice(7).trim();
  const accessToken = url.searchParams.get('access_token');
  if (accessToken !== null && accessToken !== '') return accessToken;
  return undefined;
}

function flatHeaders(headers: IncomingMessage['headers'] | Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) {
    if (v !== undefined) out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : String(v);
  }
  return out;
}

function parseRecordedBody(raw: RawBody): unknown {
  if (raw.tooLarge) return '[body over 1 MiB]';
  if (raw.bytes.length === 0) return undefined;
  const text = raw.bytes.toString('utf8');
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export async function startCoderSimulator(options: CoderSimulatorOptions = {}): Promise<CoderSimulator> {
  let baseUrl = '';
  const profile = simProfile(options.coderVersion);
  const accessUrl = () => options.accessUrl ?? baseUrl;
  const dispatcher =
    options.webhookUrl === undefined
      ? undefined
      : new WebhookDispatcher(options.webhookUrl, {
          attempts: options.webhookRetry?.attempts ?? 5,
          intervalMs: options.webhookRetry?.intervalMs ?? 50,
          timeoutMs: options.webhookRetry?.timeoutMs ?? 2000,
        });
  const notifier = new WorkspaceNotifier(accessUrl, dispatcher, profile);
  const clock = new SimClock(options.timeScale ?? 1, options.startTime);
  const scheduler = new EventScheduler(clock);
  const state = new SimState({
    events: notifier,
    scheduler,
    buildDurationMs: options.buildDurationMs ?? 100,
    createRaceWindowMs: options.createRaceWindowMs ?? 0,
    provisioners: options.provisioners,
  });
  notifier.attach(state);

  state.addOrganization({ name: 'coder', isDefault: true });
  const admin = state.addUser({ username: 'admin', email: 'admin@coder.example.com', roles: ['owner'] });
  for (const pool of options.provisioners?.pools ?? []) state.queue?.setPool(pool);
  // Without the queue model, builds run on timers: coderd's built-in daemons are what runs them.
  if (options.provisioners === undefined) state.startBuiltInProvisioners(options.builtInProvisioners ?? 3);

  const routes = buildRoutes({
    state,
    url: () => baseUrl,
    profile,
    allowWorkspaceRenames: options.allowWorkspaceRenames ?? false,
  });
  const table = new RouteTable(routes);
  const faults = new FaultInjector(options.faults);
  const rateLimit =
    options.rateLimit === false
      ? false
      : { perMinute: 512, windowMs: 60_000, keyBy: rateLimitKeyRule(profile), ...options.rateLimit };
  const keyBy = (rateLimit !== false && rateLimit.keyBy) || 'user';
  const limiter =
    rateLimit === false || rateLimit.perMinute <= 0
      ? undefined
      : new SlidingWindowLimiter(rateLimit.perMinute, rateLimit.windowMs ?? 60_000);
  const record = options.record ?? true;
  const recordLimit = options.recordLimit ?? 2000;
  const counts = new Map<string, number>();
  let total = 0;
  let recorded: RecordedExchange[] = [];
  const held = new Set<ServerResponse>();
  const closing = new AbortController();

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const method = (req.method ?? 'GET').toUpperCase();
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const match = table.match(method, url.pathname);
    const template =
      match === undefined ? undefined : 'route' in match ? match.route.template : match.methodNotAllowed;
    const routeKey = template === undefined ? `${method} (unmatched)` : `${method} ${template}`;
    counts.set(routeKey, (counts.get(routeKey) ?? 0) + 1);
    total += 1;
    const raw = await readBody(req);
    const responseHeaders: Record<string, string> = {};
    // Whatever the clock says has happened by now (jobs finished, people arrived) is applied first.
    state.catchUp();

    const send = (
      status: number,
      body: unknown,
      answeredBy: RecordedExchange['answeredBy'],
      text?: string,
    ): void => {
      if (res.destroyed || res.headersSent) return;
      const payload =
        text !== undefined ? text : status === 204 || body === undefined ? undefined : JSON.stringify(body);
      if (payload !== undefined) {
        responseHeaders['Content-Type'] =
          text !== undefined ? 'text/plain; charset=utf-8' : 'application/json; charset=utf-8';
      }
      res.writeHead(status, responseHeaders);
      res.end(payload);
      if (!record) return;
      recorded.push({
        method,
        path: `${url.pathname}${url.search}`,
        route: template,
        status,
        requestHeaders: flatHeaders(req.headers),
        requestBody: parseRecordedBody(raw),
        responseHeaders: flatHeaders(responseHeaders),
        responseBody: text !== undefined ? text : body,
        answeredBy,
      });
      if (recorded.length > recordLimit) recorded = recorded.slice(recorded.length - recordLimit);
    };
    const sendError = (err: CoderApiError, answeredBy: RecordedExchange['answeredBy']): void =>
      send(err.status, err.body, answeredBy);

    if (match === undefined) {
      sendError(new CoderApiError(404, 'Route not found.'), 'router');
      return;
    }
    if (!('route' in match)) {
      sendError(new CoderApiError(405, 'Method not allowed.'), 'router');
      return;
    }

    const latency = faults.latencyMs(routeKey);
    if (latency > 0) {
      try {
        await sleep(latency, undefined, { signal: closing.signal });
      } catch {
        return;
      }
    }
    const fault = faults.beforeHandler(routeKey);
    if (fault.kind === 'timeout') {
      // Never answer; the socket stays open until the client gives up or the simulator closes.
      held.add(res);
      res.on('close', () => held.delete(res));
      return;
    }
    if (fault.kind === 'rate-limit') {
      responseHeaders['Retry-After'] = String(fault.retryAfterSeconds);
      const message =
        limiter?.message() ?? "You've been rate limited for sending more than 512 requests in 1m0s.";
      send(429, { message } satisfies CoderResponseBody, 'fault');
      return;
    }
    if (fault.kind === 'error') {
      const messages = {
        500: 'An internal server error occurred.',
        502: 'Bad Gateway',
        503: 'Service Unavailable',
      };
      send(fault.status, { message: messages[fault.status], detail: 'injected fault' }, 'fault');
      return;
    }

    const token = sessionToken(req, url);
    const user: SimUser | undefined = token === undefined ? undefined : state.userByToken(token);

    if (limiter !== undefined && url.pathname.startsWith('/api/')) {
      const bypassHeader = req.headers[BYPASS_RATELIMIT_HEADER.toLowerCase()];
      const decision = rateLimitKeyDecision(keyBy, {
        userId: user?.id,
        isOwner: user !== undefined && isOwner(user),
        bypassHeader: Array.isArray(bypassHeader) ? bypassHeader[0] : bypassHeader,
        clientAddress: req.socket.remoteAddress,
        path: url.pathname,
      });
      if (decision.kind === 'precondition-required') {
        // httprate answers a key function's error with http.Error(w, err.Error(), 428): plain text,
        // a trailing newline, nosniff, and no X-RateLimit headers (go-chi/httprate limiter.go).
        responseHeaders['X-Content-Type-Options'] = 'nosniff';
        send(428, undefined, 'rate-limit', `${decision.message}\n`);
        return;
      }
      const taken =
        decision.kind === 'bypass' ? limiter.untracked(clock.now()) : limiter.take(decision.key, clock.now());
      Object.assign(responseHeaders, taken.headers);
      if (!taken.allowed) {
        send(429, { message: limiter.message() } satisfies CoderResponseBody, 'rate-limit');
        return;
      }
    }

    const route = match.route;
    if (route.auth === 'session' && user === undefined) {
      const detail =
        token === undefined
          ? 'Cookie "coder_session_token" or header "Coder-Session-Token" must be provided.'
          : 'API key is invalid.';
      sendError(new CoderApiError(401, SIGNED_OUT, { detail }), 'auth');
      return;
    }

    const ctx: RequestContext = {
      method,
      url,
      params: match.params,
      headers: req.headers,
      requestId: newId(),
      json: () => {
        if (raw.tooLarge)
          throw new CoderApiError(413, 'Request body is too large.', { detail: 'limit is 1 MiB' });
        try {
          return JSON.parse(raw.bytes.toString('utf8')) as unknown;
        } catch (err) {
          throw new CoderApiError(400, 'Request body must be valid JSON.', {
            detail: err instanceof Error ? err.message : String(err),
          });
        }
      },
    };
    let reply: { status: number; body?: unknown; text?: string };
    try {
      if (route.auth === 'session') {
        if (user === undefined) throw new Error('unreachable: unauthenticated requests were answered above');
        reply = await route.handle(ctx, user);
      } else {
        reply = await route.handle(ctx);
      }
    } catch (err) {
      if (err instanceof CoderApiError) {
        sendError(err, 'handler');
      } else {
        send(
          500,
          {
            message: 'An internal server error occurred.',
            detail: err instanceof Error ? err.message : String(err),
          },
          'handler',
        );
      }
      return;
    }
    if (reply.status < 400 && faults.failAfterEffect(routeKey, method)) {
      // The change is made; only the answer is lost. Clients must not assume a 500 means "nothing happened".
      send(
        500,
        {
          message: 'An internal server error occurred.',
          detail: 'injected fault after the change was applied',
        },
        'fault',
      );
      return;
    }
    send(reply.status, reply.body, 'handler', reply.text);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent && !res.destroyed) {
        res.writeHead(500, { 'Content-Type': 'application/json; charset=utf-8' });
        res.end(JSON.stringify({ message: 'An internal server error occurred.', detail: String(err) }));
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  baseUrl = `http://127.0.0.1:${address.port}`;

  const seeder: SimulatorSeeder = {
    user: (u) => {
      const created = state.addUser(u);
      return { id: created.id, username: created.username, token: created.token };
    },
    organization: (o) => {
      const org = state.addOrganization(o);
      return { id: org.id, name: org.name };
    },
    template: (t) => {
      const created = state.addTemplate(t, admin);
      return { id: created.id, name: created.name, activeVersionId: created.activeVersionId };
    },
    workspace: (w) => {
      const ws = state.seedWorkspace(w);
      return { id: ws.id, name: ws.name, latestBuildId: latestBuild(ws).id };
    },
    provisionerKey: (k) => {
      const key = state.addProvisionerKey(k.organization, k.name, k.tags ?? {});
      return { id: key.id, name: key.name, key: key.secret };
    },
    provisionerDaemon: (d) => ({ id: state.addProvisionerDaemon(d).id }),
    removeProvisionerDaemon: (name) => state.removeProvisionerDaemon(name),
  };

  const queue = state.queue;
  const provisioners: SimProvisioners | undefined =
    queue === undefined
      ? undefined
      : {
          setPool: (spec) => {
            state.catchUp();
            queue.setPool(spec);
          },
          pendingCount: () => {
            state.catchUp();
            return queue.pendingCount;
          },
          jobs: () => {
            state.catchUp();
            const out: SimJobView[] = [];
            for (const build of state.builds.values()) {
              const ws = state.workspaces.get(build.workspaceId);
              if (ws === undefined) continue;
              const j = build.job;
              out.push({
                id: j.id,
                workspaceId: ws.id,
                workspaceName: ws.name,
                ownerId: ws.ownerId,
                templateId: ws.templateId,
                transition: build.transition,
                initiatorId: j.initiatorId,
                status: j.status,
                createdAt: Date.parse(j.createdAt),
                startedAt: j.startedAt === undefined ? undefined : Date.parse(j.startedAt),
                completedAt: j.completedAt === undefined ? undefined : Date.parse(j.completedAt),
                workerName: j.workerId === undefined ? undefined : state.daemons.get(j.workerId)?.name,
              });
            }
            return out;
          },
          startPeople: (peopleOptions) => startPeople(state, scheduler, peopleOptions),
        };

  let closed: Promise<void> | undefined;
  return {
    url: baseUrl,
    profile,
    adminToken: admin.token,
    seed: seeder,
    setFaults: (f) => faults.set(f),
    requestCounts: () => Object.fromEntries(counts),
    routeKeys: () => routes.map((r) => `${r.method} ${r.template}`),
    totalRequests: () => total,
    resetRequestCounts: () => {
      counts.clear();
      total = 0;
    },
    exchanges: () => [...recorded],
    clearExchanges: () => {
      recorded = [];
    },
    workspacesSnapshot: (opts) => {
      state.catchUp();
      const out: SimWorkspaceView[] = [];
      for (const ws of state.workspaces.values()) {
        if (ws.deleted && opts?.includeDeleted !== true) continue;
        const build = latestBuild(ws);
        out.push({
          id: ws.id,
          name: ws.name,
          ownerName: state.userOf(ws.ownerId).username,
          organizationName: state.orgOf(ws.orgId).name,
          templateName: state.templateOf(ws.templateId).name,
          parameters: Object.fromEntries(build.parameters.map((p) => [p.name, p.value])),
          status: latestStatus(ws),
          deleted: ws.deleted,
          latestBuildId: build.id,
          latestBuildNumber: build.number,
          autostartSchedule: ws.autostartSchedule,
          nextStartAt: ws.nextStartAt,
        });
      }
      return out;
    },
    webhookDeliveries: () => dispatcher?.recorded() ?? [],
    notifications: () => notifier.all(),
    advanceBuilds: () => {
      state.catchUp();
      state.advanceBuilds();
    },
    clock,
    provisioners,
    close: () => {
      closed ??= (async () => {
        closing.abort();
        state.close();
        dispatcher?.close();
        for (const res of held) res.destroy();
        held.clear();
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
      })();
      return closed;
    },
  };
}
