import { randomBytes, randomUUID } from 'node:crypto';
import type http from 'node:http';
import { sendJson, startFakeServer, type RecordedRequest } from '../helpers/fake-server.js';

/**
 * A local Cloud Run Admin API v2 (REST) built from the public reference
 * (cloud.google.com/run/docs/reference/rest/v2/projects.locations.services):
 *   POST   /v2/projects/{p}/locations/{l}/services?serviceId=      → Operation
 *   GET    /v2/projects/{p}/locations/{l}/services[?pageSize&pageToken] → {services, nextPageToken}
 *   GET    /v2/projects/{p}/locations/{l}/services/{s}             → Service
 *   PATCH  /v2/projects/{p}/locations/{l}/services/{s}             → Operation
 *   DELETE /v2/projects/{p}/locations/{l}/services/{s}             → Operation
 *   GET    /v2/.../services/{s}:getIamPolicy, POST .../services/{s}:setIamPolicy → Policy
 *   GET    /v2/projects/{p}/locations/{l}/operations/{id}          → Operation (done, response with @type, error)
 * camelCase JSON, RFC 3339 timestamps, enums as numbers when the client asks `$alt=json;enum-encoding=int` (as the
 * Node client does), errors as google.rpc.Status `{"error": {code, message, status, details}}`. `locations/-` lists
 * every region. Bearer tokens are checked with `acceptToken`.
 */

export type Json = Record<string, unknown>;

export interface InjectedFailure {
  /** HTTP method to match (any when omitted). */
  method?: string;
  /** Matched against the path (without query). */
  path: RegExp;
  status: number;
  /** google.rpc code name, e.g. "PERMISSION_DENIED". */
  rpcStatus: string;
  message: string;
  /** How many requests fail (default 1). */
  times?: number;
}

interface FakeOperation {
  name: string;
  /** Remaining GET polls before the operation reports done. */
  pollsLeft: number;
  metadata: Json;
  finish(): { response?: Json; error?: Json };
  result?: { response?: Json; error?: Json };
}

export interface FakeCloudRunState {
  /** Services by full resource name. */
  services: Map<string, Json>;
  policies: Map<string, { version: number; etag: string; bindings: { role: string; members: string[] }[] }>;
  operations: Map<string, FakeOperation>;
  requests: RecordedRequest[];
  /** GET polls an operation needs before it is done (0: done in the create/update/delete answer). */
  operationPolls: number;
  /** When set, the next finished deploy operation fails with this google.rpc.Status. */
  failNextOperation?: { code: number; message: string };
  failures: InjectedFailure[];
  acceptToken(token: string): boolean;
}

export interface FakeCloudRun {
  url: string;
  port: number;
  state: FakeCloudRunState;
  close(): Promise<void>;
}

const SERVICE_TYPE = 'type.googleapis.com/google.cloud.run.v2.Service';
/** Enum names of the fields this fake sets, for clients that do not ask for numeric enums. */
const ENUMS: Record<string, string[]> = {
  state: ['STATE_UNSPECIFIED', 'CONDITION_PENDING', 'CONDITION_RECONCILING', 'CONDITION_FAILED', 'CONDITION_SUCCEEDED'],
  severity: ['SEVERITY_UNSPECIFIED', 'ERROR', 'WARNING', 'INFO'],
  ingress: ['INGRESS_TRAFFIC_UNSPECIFIED', 'INGRESS_TRAFFIC_ALL', 'INGRESS_TRAFFIC_INTERNAL_ONLY', 'INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER', 'INGRESS_TRAFFIC_NONE'],
  type: ['TRAFFIC_TARGET_ALLOCATION_TYPE_UNSPECIFIED', 'TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST', 'TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION'],
};

export function googleError(res: http.ServerResponse, httpStatus: number, status: string, message: string, details: Json[] = []): void {
  sendJson(res, httpStatus, { error: { code: httpStatus, message, status, details } });
}

/** Converts numeric enums to names recursively (for the `enum-encoding` the client did not ask for). */
function namedEnums(value: unknown, key = ''): unknown {
  if (Array.isArray(value)) return value.map((v) => namedEnums(v, key));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, namedEnums(v, k)]));
  if (typeof value === 'number' && ENUMS[key]) return ENUMS[key]![value] ?? value;
  return value;
}

const now = () => new Date().toISOString();
const deepCopy = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

export async function startFakeCloudRun(opts: { acceptToken?: (token: string) => boolean; operationPolls?: number } = {}): Promise<FakeCloudRun> {
  const state: FakeCloudRunState = {
    services: new Map(),
    policies: new Map(),
    operations: new Map(),
    requests: [],
    operationPolls: opts.operationPolls ?? 1,
    failures: [],
    acceptToken: opts.acceptToken ?? ((t) => t.length > 0),
  };

  const newOperation = (location: string, metadata: Json, finish: FakeOperation['finish']): Json => {
    const op: FakeOperation = { name: `${location}/operations/${randomUUID()}`, pollsLeft: state.operationPolls, metadata, finish };
    state.operations.set(op.name, op);
    if (op.pollsLeft <= 0) op.result = op.finish();
    return operationJson(op);
  };

  const operationJson = (op: FakeOperation): Json => {
    const base: Json = { name: op.name, metadata: { '@type': SERVICE_TYPE, ...op.metadata } };
    if (!op.result) return { ...base, done: false };
    return { ...base, done: true, ...(op.result.error ? { error: op.result.error } : { response: { '@type': SERVICE_TYPE, ...op.result.response } }) };
  };

  /** Marks a service ready with a new revision, as a finished rollout does. */
  const rollOut = (name: string): { response?: Json; error?: Json } => {
    const svc = state.services.get(name);
    if (!svc) return { error: { code: 5, message: `Resource '${name}' was not found` } };
    if (state.failNextOperation) {
      const failure = state.failNextOperation;
      state.failNextOperation = undefined;
      svc.reconciling = false;
      svc.terminalCondition = { type: 'Ready', state: 3, message: failure.message, severity: 1, lastTransitionTime: now() };
      return { error: { code: failure.code, message: failure.message } };
    }
    const generation = Number(svc.generation);
    const shortName = name.split('/').pop()!;
    const revision = `${name}/revisions/${shortName}-${String(generation).padStart(5, '0')}-${randomBytes(2).toString('hex').slice(0, 3)}`;
    Object.assign(svc, {
      reconciling: false,
      observedGeneration: String(generation),
      latestCreatedRevision: revision,
      latestReadyRevision: revision,
      terminalCondition: { type: 'Ready', state: 4, lastTransitionTime: now() },
      conditions: [
        { type: 'RoutesReady', state: 4, lastTransitionTime: now() },
        { type: 'ConfigurationsReady', state: 4, lastTransitionTime: now() },
      ],
      trafficStatuses: [{ type: 1, percent: 100 }],
    });
    return { response: deepCopy(svc) };
  };

  const server = await startFakeServer((req, res) => {
    state.requests.push(req);
    const url = new URL(req.url, 'http://fake');
    const numericEnums = (url.searchParams.get('$alt') ?? '').includes('enum-encoding=int');
    const reply = (status: number, body: unknown) => sendJson(res, status, numericEnums ? body : namedEnums(body));
    const path = decodeURIComponent(url.pathname);

    const auth = String(req.headers.authorization ?? '');
    if (!auth.startsWith('Bearer ') || !state.acceptToken(auth.slice(7))) {
      return googleError(res, 401, 'UNAUTHENTICATED', 'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.');
    }
    const failure = state.failures.find((f) => (!f.method || f.method === req.method) && f.path.test(path));
    if (failure) {
      failure.times = (failure.times ?? 1) - 1;
      if (failure.times <= 0) state.failures.splice(state.failures.indexOf(failure), 1);
      return googleError(res, failure.status, failure.rpcStatus, failure.message);
    }
    const body = (req.body ? JSON.parse(req.body) : {}) as Json;

    let m = /^\/v2\/(projects\/[^/]+\/locations\/[^/]+)\/operations\/([^/:]+)$/.exec(path);
    if (m && req.method === 'GET') {
      const op = state.operations.get(`${m[1]}/operations/${m[2]}`);
      if (!op) return googleError(res, 404, 'NOT_FOUND', `Operation ${path.slice(4)} not found`);
      if (!op.result) {
        op.pollsLeft -= 1;
        if (op.pollsLeft <= 0) op.result = op.finish();
      }
      return reply(200, operationJson(op));
    }

    m = /^\/v2\/(projects\/([^/]+)\/locations\/([^/]+))\/services$/.exec(path);
    if (m && req.method === 'GET') {
      const [, parent, project, region] = m as unknown as [string, string, string, string];
      const prefix = region === '-' ? `projects/${project}/locations/` : `${parent}/services/`;
      const all = [...state.services.values()].filter((s) => String(s.name).startsWith(prefix)).sort((a, b) => String(a.name).localeCompare(String(b.name)));
      const pageSize = Math.min(Number(url.searchParams.get('pageSize') || 100), 1000);
      const offset = url.searchParams.get('pageToken') ? Number(Buffer.from(url.searchParams.get('pageToken')!, 'base64url').toString()) : 0;
      if (!Number.isInteger(offset) || offset < 0) return googleError(res, 400, 'INVALID_ARGUMENT', 'Invalid page token');
      const page = all.slice(offset, offset + pageSize);
      const next = offset + pageSize < all.length ? Buffer.from(String(offset + pageSize)).toString('base64url') : undefined;
      return reply(200, { services: page, ...(next ? { nextPageToken: next } : {}) });
    }
    if (m && req.method === 'POST') {
      const [, parent] = m;
      const serviceId = url.searchParams.get('serviceId') ?? '';
      if (!/^[a-z]([-a-z0-9]*[a-z0-9])?$/.test(serviceId)) return googleError(res, 400, 'INVALID_ARGUMENT', 'service_id must match [a-z]([-a-z0-9]*[a-z0-9])?');
      const name = `${parent}/services/${serviceId}`;
      if (state.services.has(name)) return googleError(res, 409, 'ALREADY_EXISTS', `Resource '${serviceId}' already exists.`);
      const containers = ((body.template as Json | undefined)?.containers ?? []) as Json[];
      if (!containers[0]?.image) return googleError(res, 400, 'INVALID_ARGUMENT', 'spec.template.spec.containers[0].image: Required');
      const svc: Json = {
        ingress: 1,
        ...body,
        name,
        uid: randomUUID(),
        generation: '1',
        createTime: now(),
        updateTime: now(),
        creator: 'hub@test-project.iam.gserviceaccount.com',
        lastModifier: 'hub@test-project.iam.gserviceaccount.com',
        traffic: body.traffic ?? [{ type: 1, percent: 100 }],
        uri: `https://${serviceId}-${randomBytes(5).toString('hex')}-uc.a.run.app`,
        urls: [],
        reconciling: true,
        terminalCondition: { type: 'Ready', state: 2, lastTransitionTime: now() },
        etag: `"${randomBytes(6).toString('hex')}"`,
      };
      (svc.urls as string[]).push(String(svc.uri));
      state.services.set(name, svc);
      state.policies.set(name, { version: 1, etag: randomBytes(6).toString('base64'), bindings: [] });
      return reply(200, newOperation(parent!, deepCopy(svc), () => rollOut(name)));
    }

    m = /^\/v2\/((projects\/[^/]+\/locations\/[^/]+)\/services\/([^/:]+))(?::(getIamPolicy|setIamPolicy))?$/.exec(path);
    if (m) {
      const [, name, parent, , verb] = m as unknown as [string, string, string, string, string | undefined];
      const svc = state.services.get(name);
      if (!svc) return googleError(res, 404, 'NOT_FOUND', `Resource '${name.split('/').pop()}' of kind 'SERVICE' in region '${parent.split('/')[3]}' in project '${parent.split('/')[1]}' does not exist.`);
      if (verb === 'getIamPolicy' && req.method === 'GET') return reply(200, state.policies.get(name));
      if (verb === 'setIamPolicy' && req.method === 'POST') {
        const current = state.policies.get(name)!;
        const policy = (body.policy ?? {}) as { etag?: string; bindings?: { role: string; members: string[] }[] };
        if (policy.etag && policy.etag !== current.etag) return googleError(res, 409, 'ABORTED', 'There were concurrent policy changes. Please retry the whole read-modify-write with exponential backoff.');
        const next = { version: 1, etag: randomBytes(6).toString('base64'), bindings: policy.bindings ?? [] };
        state.policies.set(name, next);
        return reply(200, next);
      }
      if (verb) return googleError(res, 404, 'NOT_FOUND', `no route ${req.method} ${path}`);
      if (req.method === 'GET') return reply(200, svc);
      if (req.method === 'PATCH') {
        const incoming = body as Json;
        if (incoming.etag && incoming.etag !== svc.etag) return googleError(res, 409, 'ABORTED', 'The etag does not match the current resource.');
        const generation = String(Number(svc.generation) + 1);
        // Output-only fields from the request are ignored, as the real API does.
        for (const k of ['labels', 'annotations', 'template', 'traffic', 'scaling', 'ingress', 'description']) if (k in incoming) svc[k] = incoming[k];
        Object.assign(svc, { generation, updateTime: now(), reconciling: true, etag: `"${randomBytes(6).toString('hex')}"`, terminalCondition: { type: 'Ready', state: 2, lastTransitionTime: now() } });
        return reply(200, newOperation(parent, deepCopy(svc), () => rollOut(name)));
      }
      if (req.method === 'DELETE') {
        svc.reconciling = true;
        return reply(
          200,
          newOperation(parent, deepCopy(svc), () => {
            state.services.delete(name);
            state.policies.delete(name);
            return { response: { ...deepCopy(svc), reconciling: false, deleteTime: now() } };
          }),
        );
      }
    }
    return googleError(res, 404, 'NOT_FOUND', `no route ${req.method} ${path}`);
  });

  return {
    url: server.url,
    port: server.port,
    state,
    close: () => server.close(),
  };
}
