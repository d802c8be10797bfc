import { z } from 'zod';
import { confirmFields } from '../../tools/confirm.js';
import { HubError } from '../../tools/errors.js';
import { defineTool, type ToolContext } from '../../tools/types.js';
import { servicesClient, type ServicesClient } from './client.js';
import { serviceResourceName, summarizeService, type RunService, type ServiceName } from './service-shape.js';
import {
  callOptions,
  getServiceOrNull,
  operationFailed,
  projectField,
  regionField,
  resolveTarget,
  runCall,
  serviceNameField,
  targetText,
  waitForOperation,
} from './shared.js';

const INVOKER_ROLE = 'roles/run.invoker';
const PUBLIC_MEMBER = 'allUsers';
const MAX_ENV_VARS = 100;

const deployInput = z.object({
  service_name: serviceNameField,
  image_uri: z
    .string()
    .min(1)
    .max(1024)
    .regex(/^[^\s]+$/, 'an image reference without spaces')
    .describe('Container image, e.g. us-docker.pkg.dev/my-project/repo/app:1.2 or gcr.io/my-project/app@sha256:...'),
  region: regionField,
  project_id: projectField,
  env_vars: z
    .record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name').max(256), z.string().max(32_768))
    .refine((r) => Object.keys(r).length <= MAX_ENV_VARS, `at most ${MAX_ENV_VARS} variables`)
    .optional()
    .describe('Environment variables to set, {"NAME": "value"}; on update they are merged into the existing ones'),
  cpu: z
    .string()
    .regex(/^(\d+(\.\d+)?|\d+m)$/, 'a CPU limit such as 1, 2, 4 or 500m')
    .optional()
    .describe('CPU limit per instance: 1, 2, 4, 6, 8 or a fraction such as 500m (default: Cloud Run default, 1)'),
  memory: z
    .string()
    .regex(/^\d+(Mi|Gi)$/, 'a memory limit such as 512Mi or 2Gi')
    .optional()
    .describe('Memory limit per instance such as 512Mi or 2Gi (default: Cloud Run default, 512Mi)'),
  min_instances: z.number().int().min(0).max(1000).optional().describe('Minimum instances kept warm (0 scales to zero)'),
  max_instances: z.number().int().min(1).max(1000).optional().describe('Maximum instances'),
  port: z.number().int().min(1).max(65535).optional().describe('Container port that receives requests (Cloud Run default 8080)'),
  allow_unauthenticated: z
    .boolean()
    .optional()
    .describe('true: anyone may invoke (roles/run.invoker for allUsers); false: remove public access; omitted: unchanged (new services are private)'),
  labels: z
    .record(z.string().regex(/^[a-z][a-z0-9_-]{0,62}$/, 'a label key'), z.string().regex(/^[a-z0-9_-]{0,63}$/, 'a label value'))
    .optional()
    .describe('Labels on the service, {"team": "web"}; lowercase letters, digits, _ and -'),
  ...confirmFields,
});

type DeployArgs = z.infer<typeof deployInput>;
type Container = NonNullable<NonNullable<RunService['template']>['containers']>[number];

/** The container spec from the arguments, layered over the existing container on update. */
function containerSpec(args: DeployArgs, existing?: Container): Container {
  const container: Container = { ...(existing ?? {}), image: args.image_uri };
  if (args.env_vars) {
    const env = (existing?.env ?? []).filter((e) => !(e.name && e.name in args.env_vars!));
    for (const [name, value] of Object.entries(args.env_vars)) env.push({ name, value });
    container.env = env;
  }
  if (args.cpu || args.memory) {
    const limits = { ...(existing?.resources?.limits ?? {}) };
    if (args.cpu) limits.cpu = args.cpu;
    if (args.memory) limits.memory = args.memory;
    container.resources = { ...(existing?.resources ?? {}), limits };
  }
  if (args.port) container.ports = [{ ...(existing?.ports?.[0] ?? {}), containerPort: args.port }];
  return container;
}

function scalingSpec(args: DeployArgs, existing?: NonNullable<RunService['template']>['scaling']) {
  if (args.min_instances === undefined && args.max_instances === undefined) return existing ?? undefined;
  if (args.min_instances !== undefined && args.max_instances !== undefined && args.min_instances > args.max_instances) {
    throw new HubError('invalid_arguments', 'min_instances must not exceed max_instances', { field: 'min_instances' });
  }
  return {
    ...(existing ?? {}),
    ...(args.min_instances !== undefined ? { minInstanceCount: args.min_instances } : {}),
    ...(args.max_instances !== undefined ? { maxInstanceCount: args.max_instances } : {}),
  };
}

function newService(args: DeployArgs): RunService {
  return {
    labels: args.labels,
    template: { containers: [containerSpec(args)], scaling: scalingSpec(args) },
  };
}

/** The fields a client may write on update; output-only fields (conditions, uri, ...) are not sent back. */
const WRITABLE_FIELDS = [
  'name', 'description', 'labels', 'annotations', 'client', 'clientVersion', 'ingress', 'launchStage', 'binaryAuthorization',
  'template', 'traffic', 'scaling', 'invokerIamDisabled', 'defaultUriDisabled', 'customAudiences', 'iapEnabled',
  'multiRegionSettings', 'threatDetectionEnabled', 'buildConfig', 'etag',
] as const satisfies readonly (keyof RunService)[];

/** The existing service with the requested changes; everything else (traffic, secrets, service account) is kept. */
function updatedService(existing: RunService, args: DeployArgs): RunService {
  const kept: RunService = {};
  for (const field of WRITABLE_FIELDS) if (existing[field] !== undefined && existing[field] !== null) Object.assign(kept, { [field]: existing[field] });
  const template = existing.template ?? {};
  const [first, ...rest] = template.containers ?? [];
  return {
    ...kept,
    labels: args.labels ? { ...(existing.labels ?? {}), ...args.labels } : existing.labels,
    template: {
      ...template,
      // The revision name must be new for every revision; let Cloud Run generate it.
      revision: '',
      containers: [containerSpec(args, first), ...rest],
      scaling: scalingSpec(args, template.scaling),
    },
  };
}

/** What a create/update call resolves with first: an LROperation (name, done, result). */
type StartedOperation = { name?: string | null; done?: boolean | null; result?: unknown; error?: unknown };

async function startDeploy(client: ServicesClient, target: ServiceName, args: DeployArgs, ctx: ToolContext): Promise<{ op: StartedOperation; action: 'created' | 'updated' }> {
  const name = serviceResourceName(target);
  const parent = `projects/${target.project}/locations/${target.region}`;
  const update = async (existing: RunService) => {
    const [op] = await runCall(ctx, `updating ${name}`, () => client.updateService({ service: updatedService(existing, args) }, callOptions(ctx)));
    return { op, action: 'updated' as const };
  };
  const existing = await getServiceOrNull(client, name, ctx);
  if (existing) return update(existing);
  try {
    const [op] = await runCall(ctx, `creating ${name}`, () =>
      client.createService({ parent, serviceId: target.service, service: newService(args) }, callOptions(ctx)),
    );
    return { op, action: 'created' };
  } catch (err) {
    // Created by someone else between our read and our create: update it instead.
    if (err instanceof HubError && err.details.upstream_code === 'ALREADY_EXISTS') {
      const raced = await getServiceOrNull(client, name, ctx);
      if (raced) return update(raced);
    }
    throw err;
  }
}

/** Grants or revokes roles/run.invoker for allUsers; returns the resulting public flag. */
async function applyPublicAccess(client: ServicesClient, name: string, allow: boolean, ctx: ToolContext): Promise<boolean> {
  const [policy] = await runCall(ctx, `reading the IAM policy of ${name}`, () => client.getIamPolicy({ resource: name }, callOptions(ctx)), { idempotent: true });
  const bindings = (policy.bindings ?? []).map((b) => ({ ...b, members: [...(b.members ?? [])] }));
  let invoker = bindings.find((b) => b.role === INVOKER_ROLE && !b.condition);
  const isPublic = Boolean(invoker?.members.includes(PUBLIC_MEMBER));
  if (isPublic === allow) return allow;
  if (allow) {
    if (!invoker) bindings.push((invoker = { role: INVOKER_ROLE, members: [] }));
    invoker.members.push(PUBLIC_MEMBER);
  } else {
    invoker!.members = invoker!.members.filter((m) => m !== PUBLIC_MEMBER);
  }
  const next = { ...policy, bindings: bindings.filter((b) => b.members.length > 0) };
  await runCall(ctx, `setting the IAM policy of ${name}`, () => client.setIamPolicy({ resource: name, policy: next }, callOptions(ctx)));
  return allow;
}

export const cloudRunDeploy = defineTool({
  name: 'google_cloud_run_deploy',
  system: 'cloud_run',
  title: 'Deploy to Cloud Run',
  description:
    'Create or update a Cloud Run service from a container image (env vars, cpu/memory, min/max instances, port, public or private). Waits for the rollout; if it takes longer, answers status "running" with the operation name.',
  level: 'CRITICAL',
  input: deployInput,
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: true },
  describeAction(args, config) {
    const details = [
      args.env_vars ? `${Object.keys(args.env_vars).length} env var(s)` : undefined,
      args.cpu ? `cpu ${args.cpu}` : undefined,
      args.memory ? `memory ${args.memory}` : undefined,
      args.min_instances !== undefined ? `min ${args.min_instances}` : undefined,
      args.max_instances !== undefined ? `max ${args.max_instances}` : undefined,
      args.port ? `port ${args.port}` : undefined,
      args.allow_unauthenticated === true ? 'public (allUsers may invoke)' : args.allow_unauthenticated === false ? 'private (public access removed)' : undefined,
    ].filter(Boolean);
    return `Deploy image ${args.image_uri} to ${targetText(args, config)} (created if missing, otherwise a new revision)${details.length ? `: ${details.join(', ')}` : ''}`;
  },
  async run(args, ctx) {
    const target = resolveTarget(args, ctx.config);
    const name = serviceResourceName(target);
    const client = await servicesClient(ctx.config);
    const { op, action } = await startDeploy(client, target, args, ctx);
    const operation = op.name ?? '';

    const warnings: string[] = [];
    let isPublic: boolean | undefined;
    if (args.allow_unauthenticated !== undefined) {
      try {
        isPublic = await applyPublicAccess(client, name, args.allow_unauthenticated, ctx);
      } catch (err) {
        // The rollout is already under way; report the IAM failure instead of hiding the deployment.
        warnings.push(`public access not changed: ${err instanceof Error ? err.message : String(err)}`);
      }
    }

    const check = action === 'created' ? client.checkCreateServiceProgress.bind(client) : client.checkUpdateServiceProgress.bind(client);
    const outcome = await waitForOperation(ctx, op, () => check(operation));
    const base = { action, service_name: target.service, project: target.project, region: target.region, operation, ...(isPublic !== undefined ? { public: isPublic } : {}), ...(warnings.length ? { warnings } : {}) };
    if (!outcome.done) {
      return { status: 'running', ...base, message: `deployment still in progress; call google_cloud_run_describe with operation "${operation}" to follow it` };
    }
    if (outcome.error) throw operationFailed(`deploying ${target.service}`, operation, outcome.error);
    const service = outcome.result?.name ? outcome.result : await getServiceOrNull(client, name, ctx);
    if (!service) throw new HubError('upstream_error', `deployment of ${target.service} finished but the service cannot be read`, { operation });
    const summary = summarizeService(service);
    return {
      status: summary.state === 'failed' ? 'failed' : 'ready',
      ...base,
      url: summary.url,
      latest_revision: summary.latest_ready_revision ?? summary.latest_created_revision,
      service: summary,
    };
  },
});
