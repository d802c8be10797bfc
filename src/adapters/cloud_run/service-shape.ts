import type { protos } from '@google-cloud/run';

/** Shapes the library's decoded Service (every field present, enums as names) into the compact JSON tools return. */

export type RunService = protos.google.cloud.run.v2.IService;
type Condition = protos.google.cloud.run.v2.ICondition;
type Timestamp = protos.google.protobuf.ITimestamp | null | undefined;

export interface ServiceName {
  project: string;
  region: string;
  service: string;
}

export function serviceResourceName(n: ServiceName): string {
  return `projects/${n.project}/locations/${n.region}/services/${n.service}`;
}

export function parseServiceName(name: string): ServiceName | null {
  const m = /^projects\/([^/]+)\/locations\/([^/]+)\/services\/([^/]+)$/.exec(name);
  return m ? { project: m[1]!, region: m[2]!, service: m[3]! } : null;
}

/** Last path segment of a resource name (revisions are returned as full names by some calls). */
const shortName = (name: string | null | undefined): string | undefined => (name ? name.split('/').pop() : undefined);

const nonEmpty = (s: string | null | undefined): string | undefined => (s ? s : undefined);

export function isoTime(ts: Timestamp): string | undefined {
  if (!ts || ts.seconds === undefined || ts.seconds === null) return undefined;
  const seconds = Number(ts.seconds);
  if (!seconds) return undefined;
  return new Date(seconds * 1000 + Math.floor((ts.nanos ?? 0) / 1e6)).toISOString();
}

/**
 * Enum values arrive as names (e.g. "CONDITION_SUCCEEDED") from plain calls but as numbers in a finished operation's
 * decoded result; both are mapped to the short name ("SUCCEEDED").
 */
const ENUM_NAMES = {
  state: ['UNSPECIFIED', 'PENDING', 'RECONCILING', 'FAILED', 'SUCCEEDED'],
  severity: ['UNSPECIFIED', 'ERROR', 'WARNING', 'INFO'],
  ingress: ['UNSPECIFIED', 'ALL', 'INTERNAL_ONLY', 'INTERNAL_LOAD_BALANCER', 'NONE'],
  traffic: ['UNSPECIFIED', 'LATEST', 'REVISION'],
} as const;

function enumName(value: unknown, prefix: string, names?: readonly string[]): string | undefined {
  if (value === null || value === undefined || value === '') return undefined;
  let s = String(value);
  if (/^\d+$/.test(s)) s = names?.[Number(s)] ?? s;
  else if (s.startsWith(prefix)) s = s.slice(prefix.length);
  return s === 'UNSPECIFIED' || s.endsWith('_UNSPECIFIED') || s === '0' ? undefined : s;
}

export interface ConditionSummary {
  type: string;
  state?: string;
  message?: string;
  reason?: string;
  severity?: string;
  last_transition_time?: string;
}

export function summarizeCondition(c: Condition | null | undefined): ConditionSummary | undefined {
  if (!c || !c.type) return undefined;
  const reason = c.reason ?? c.revisionReason ?? c.executionReason;
  return {
    type: c.type,
    state: enumName(c.state, 'CONDITION_', ENUM_NAMES.state),
    message: nonEmpty(c.message),
    reason: enumName(reason, ''),
    severity: enumName(c.severity, '', ENUM_NAMES.severity),
    last_transition_time: isoTime(c.lastTransitionTime),
  };
}

/** Ready means the terminal condition succeeded; "failed" and "reconciling" let callers decide whether to wait. */
export function serviceState(s: RunService): 'ready' | 'failed' | 'reconciling' | 'unknown' {
  const state = enumName(s.terminalCondition?.state, 'CONDITION_', ENUM_NAMES.state);
  if (s.reconciling || state === 'RECONCILING' || state === 'PENDING') return 'reconciling';
  if (state === 'SUCCEEDED') return 'ready';
  if (state === 'FAILED') return 'failed';
  return 'unknown';
}

function mainContainer(s: RunService) {
  return s.template?.containers?.[0];
}

export interface ServiceListItem extends Record<string, unknown> {
  name: string;
  region?: string;
  url?: string;
  state: string;
  latest_ready_revision?: string;
  image?: string;
  update_time?: string;
  last_modifier?: string;
  labels?: Record<string, string>;
}

export function summarizeListItem(s: RunService): ServiceListItem {
  const parsed = parseServiceName(s.name ?? '');
  const labels = s.labels && Object.keys(s.labels).length ? { ...s.labels } : undefined;
  return {
    name: parsed?.service ?? s.name ?? '',
    region: parsed?.region,
    url: nonEmpty(s.uri),
    state: serviceState(s),
    latest_ready_revision: shortName(nonEmpty(s.latestReadyRevision)),
    image: nonEmpty(mainContainer(s)?.image),
    update_time: isoTime(s.updateTime),
    last_modifier: nonEmpty(s.lastModifier),
    labels,
  };
}

/**
 * Full detail for describe/deploy. Environment variables are listed by name only: their values are often
 * secrets and a tool result ends up in a chat transcript.
 */
export function summarizeService(s: RunService): Record<string, unknown> {
  const parsed = parseServiceName(s.name ?? '');
  const container = mainContainer(s);
  const limits = container?.resources?.limits ?? {};
  const scaling = s.template?.scaling;
  const traffic = (s.trafficStatuses?.length ? s.trafficStatuses : s.traffic) ?? [];
  return {
    name: parsed?.service ?? s.name,
    project: parsed?.project,
    region: parsed?.region,
    resource_name: s.name,
    url: nonEmpty(s.uri),
    urls: s.urls?.length ? s.urls : undefined,
    state: serviceState(s),
    reconciling: Boolean(s.reconciling),
    latest_ready_revision: shortName(nonEmpty(s.latestReadyRevision)),
    latest_created_revision: shortName(nonEmpty(s.latestCreatedRevision)),
    image: nonEmpty(container?.image),
    port: container?.ports?.[0]?.containerPort || undefined,
    cpu: nonEmpty(limits.cpu),
    memory: nonEmpty(limits.memory),
    env_var_names: (container?.env ?? []).map((e) => e.name).filter((n): n is string => Boolean(n)),
    min_instances: scaling?.minInstanceCount ?? undefined,
    max_instances: scaling?.maxInstanceCount || undefined,
    ingress: enumName(s.ingress, 'INGRESS_TRAFFIC_', ENUM_NAMES.ingress),
    traffic: traffic.map((t) => ({
      type: enumName(t.type, 'TRAFFIC_TARGET_ALLOCATION_TYPE_', ENUM_NAMES.traffic),
      revision: shortName(nonEmpty(t.revision)),
      percent: t.percent ?? 0,
      tag: nonEmpty(t.tag),
      url: nonEmpty((t as { uri?: string | null }).uri),
    })),
    terminal_condition: summarizeCondition(s.terminalCondition),
    conditions: (s.conditions ?? []).map(summarizeCondition).filter((c): c is ConditionSummary => Boolean(c)),
    generation: s.generation !== undefined && s.generation !== null ? String(s.generation) : undefined,
    creator: nonEmpty(s.creator),
    last_modifier: nonEmpty(s.lastModifier),
    create_time: isoTime(s.createTime),
    update_time: isoTime(s.updateTime),
    labels: s.labels && Object.keys(s.labels).length ? { ...s.labels } : undefined,
  };
}
