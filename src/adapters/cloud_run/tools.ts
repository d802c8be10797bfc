import { z } from 'zod';
import type { Config } from '../../config.js';
import { confirmFields } from '../../tools/confirm.js';
import { HubError } from '../../tools/errors.js';
import { defineTool } from '../../tools/types.js';
import { servicesClient } from './client.js';
import { serviceResourceName, summarizeListItem, summarizeService, type RunService, type ServiceListItem } from './service-shape.js';
import {
  callOptions,
  getServiceOrNull,
  operationFailed,
  projectField,
  regionField,
  runCall,
  resolveTarget,
  serviceNameField,
  targetText,
  waitForOperation,
} from './shared.js';

/** With filters, at most this many upstream pages are read to fill one answer page. */
const MAX_SCANNED_PAGES = 10;

const listInput = z.object({
  region: z
    .string()
    .regex(/^([a-z]+-[a-z]+\d+|-)$/, 'a region such as us-central1, or - for all regions')
    .optional()
    .describe('Region such as us-central1, or "-" for all regions (default: GOOGLE_CLOUD_REGION)'),
  project_id: projectField,
  page_size: z.number().int().min(1).max(100).default(50).describe('Services per page (1-100)'),
  page_token: z.string().max(2048).optional().describe('next_page_token from a previous answer, to read the next page'),
  name_contains: z.string().min(1).max(49).optional().describe('Only services whose name contains this text'),
  label: z
    .string()
    .regex(/^[a-z][a-z0-9_-]{0,62}(=[a-z0-9_-]{0,63})?$/, 'key or key=value')
    .optional()
    .describe('Only services with this label: "key" (any value) or "key=value"'),
});

const listOutput = z.object({
  project: z.string(),
  region: z.string(),
  services: z.array(
    z.object({
      name: z.string(),
      region: z.string().optional(),
      url: z.string().optional(),
      state: z.string(),
      latest_ready_revision: z.string().optional(),
      image: z.string().optional(),
      update_time: z.string().optional(),
      last_modifier: z.string().optional(),
      labels: z.record(z.string(), z.string()).optional(),
    }),
  ),
  count: z.number(),
  next_page_token: z.string().optional(),
});

function matches(s: ServiceListItem, args: { name_contains?: string; label?: string }): boolean {
  if (args.name_contains && !s.name.includes(args.name_contains)) return false;
  if (args.label) {
    const [key, value] = args.label.split('=') as [string, string | undefined];
    const actual = s.labels?.[key];
    if (actual === undefined || (value !== undefined && actual !== value)) return false;
  }
  return true;
}

function projectOf(projectId: string | undefined, config: Config): string {
  return resolveTarget({ service_name: '-', project_id: projectId }, config).project;
}

export const cloudRunList = defineTool({
  name: 'google_cloud_run_list',
  system: 'cloud_run',
  title: 'List Cloud Run services',
  description:
    'List Cloud Run services in a project and region ("-" for all regions) with URL, state, latest revision and image. Supports paging (page_size, page_token) and filters by name or label.',
  level: 'MEDIUM',
  input: listInput,
  output: listOutput,
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  async run(args, ctx) {
    const project = projectOf(args.project_id, ctx.config);
    const region = args.region ?? ctx.config.google.region;
    const parent = `projects/${project}/locations/${region}`;
    const client = await servicesClient(ctx.config);
    const filtered = Boolean(args.name_contains || args.label);

    const services: ServiceListItem[] = [];
    let pageToken = args.page_token ?? '';
    let nextToken: string | undefined;
    for (let page = 0; page < (filtered ? MAX_SCANNED_PAGES : 1); page += 1) {
      // Never ask for more than the answer still needs: a page token cannot resume in the middle of a page.
      const pageSize = args.page_size - services.length;
      const [items, , raw] = await runCall(
        ctx,
        `listing services in ${parent}`,
        () => client.listServices({ parent, pageSize, pageToken }, { ...callOptions(ctx), autoPaginate: false }),
        { idempotent: true },
      );
      for (const s of (items ?? []) as RunService[]) {
        const item = summarizeListItem(s);
        if (!filtered || matches(item, args)) services.push(item);
      }
      nextToken = raw?.nextPageToken || undefined;
      if (!nextToken || services.length >= args.page_size) break;
      pageToken = nextToken;
    }
    return { project, region, services, count: services.length, next_page_token: nextToken };
  },
});

export const cloudRunDescribe = defineTool({
  name: 'google_cloud_run_describe',
  system: 'cloud_run',
  title: 'Describe a Cloud Run service',
  description:
    'Details of one Cloud Run service: URL, state, latest ready revision, image, resources, scaling, traffic split, conditions and last modifier. Pass the operation from a deploy/delete that answered "running" to see whether it finished.',
  level: 'LOW',
  input: z.object({
    service_name: serviceNameField,
    region: regionField,
    project_id: projectField,
    operation: z
      .string()
      .regex(/^projects\/[^/]+\/locations\/[^/]+\/operations\/[^/]+$/, 'an operation name projects/.../locations/.../operations/...')
      .optional()
      .describe('Operation name returned by a deploy or delete that answered status "running"'),
  }),
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  async run(args, ctx) {
    const target = resolveTarget(args, ctx.config);
    const name = serviceResourceName(target);
    const client = await servicesClient(ctx.config);

    let operation: Record<string, unknown> | undefined;
    if (args.operation) {
      const opName = args.operation;
      const op = await runCall(ctx, `reading operation ${opName}`, () => client.checkCreateServiceProgress(opName), { idempotent: true, notFound: `operation ${opName}` });
      const error = op.error as { code?: number; message?: string } | undefined;
      operation = { name: opName, done: Boolean(op.done), ...(error ? { error: operationFailed('the operation', opName, error).toJSON() } : {}) };
    }

    const service = await getServiceOrNull(client, name, ctx);
    if (!service) {
      // A finished delete leaves nothing to describe; say so instead of failing.
      if (operation?.done) return { service_name: target.service, project: target.project, region: target.region, exists: false, operation };
      throw new HubError('not_found', `Cloud Run service ${target.service} not found in project ${target.project}, region ${target.region}`, {
        upstream_status: 404,
        upstream_code: 'NOT_FOUND',
      });
    }
    return { exists: true, ...summarizeService(service), ...(operation ? { operation } : {}) };
  },
});

export const cloudRunDelete = defineTool({
  name: 'google_cloud_run_delete',
  system: 'cloud_run',
  title: 'Delete a Cloud Run service',
  description:
    'Delete a Cloud Run service and all its revisions. Waits for the deletion; if it takes longer, answers status "running" with the operation name.',
  level: 'CRITICAL',
  input: z.object({
    service_name: serviceNameField,
    region: regionField,
    project_id: projectField,
    ...confirmFields,
  }),
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: true },
  describeAction: (args, config) => `Delete ${targetText(args, config)} with all its revisions (its URL stops serving)`,
  async run(args, ctx) {
    const target = resolveTarget(args, ctx.config);
    const name = serviceResourceName(target);
    const client = await servicesClient(ctx.config);
    const notFound = `Cloud Run service ${target.service} in project ${target.project}, region ${target.region}`;
    const [op] = await runCall(ctx, `deleting ${name}`, () => client.deleteService({ name }, callOptions(ctx)), { notFound });
    const operation = op.name ?? '';
    const base = { service_name: target.service, project: target.project, region: target.region, operation };
    const outcome = await waitForOperation(ctx, op, () => client.checkDeleteServiceProgress(operation));
    if (!outcome.done) {
      return { status: 'running', ...base, message: `deletion still in progress; call google_cloud_run_describe with operation "${operation}" to follow it` };
    }
    if (outcome.error) throw operationFailed(`deleting ${target.service}`, operation, outcome.error);
    return { status: 'deleted', ...base };
  },
});
