import type { GetPromptResult, Prompt } from '@modelcontextprotocol/server';
import { HubError } from '../tools/errors.js';

interface PipelinePrompt {
  prompt: Prompt;
  render(args: Record<string, string>): string;
}

/** Three multi-system pipelines as MCP prompts: each tells the model which governed tools to chain and in what order. */
const PIPELINES: PipelinePrompt[] = [
  {
    prompt: {
      name: 'code_to_cloud_run',
      title: 'Code generation → deployment',
      description: 'Generate code with Auto Builder, version it on GitHub, build and push an image, deploy it to Cloud Run.',
      arguments: [
        { name: 'app_description', description: 'What the service should do', required: true },
        { name: 'service_name', description: 'Cloud Run service name (lowercase, dashes)', required: true },
        { name: 'image_uri', description: 'Image to build and push, e.g. us-central1-docker.pkg.dev/p/repo/app:v1', required: false },
      ],
    },
    render: (a) =>
      [
        `Build and deploy: ${a.app_description}.`,
        `1. chatgpt_auto_builder_execute with command "Generate the source for: ${a.app_description}" to get the files.`,
        `2. github_create_repository (private) named ${a.service_name}, then github_commit_files with the generated files in one commit.`,
        `3. docker_build from the repository's Git URL tagged ${a.image_uri ?? '<image_uri>'}, then docker_push.`,
        `4. google_cloud_run_deploy with service_name "${a.service_name}" and that image: first dry_run: true and show the plan; then call it for real: a person approves it (in the client when it can ask, otherwise at the approval URL the answer gives; then call again with its approval_id).`,
        'Stop and report if any step returns isError; quota refusals carry retry_after_s.',
      ].join('\n'),
  },
  {
    prompt: {
      name: 'intelligent_analytics',
      title: 'Intelligent analytics',
      description: 'Query the Intelligence store, have Auto Builder analyse the findings, write a report to Sheets and mail a summary.',
      arguments: [
        { name: 'question', description: 'What to analyse', required: true },
        { name: 'spreadsheet_id', description: 'Google Sheets spreadsheet to write the report to', required: true },
        { name: 'recipient', description: 'Email address for the summary', required: true },
      ],
    },
    render: (a) =>
      [
        `Analyse: ${a.question}.`,
        `1. intelligence_query with query "${a.question}"; keep the top results with their ids.`,
        '2. chatgpt_auto_builder_execute with command "Analyse these findings" and the results as context.',
        `3. google_sheets_write to spreadsheet ${a.spreadsheet_id}: one row per finding plus the analysis.`,
        `4. google_gmail_send a short summary to ${a.recipient} (dry_run: true first if unsure).`,
      ].join('\n'),
  },
  {
    prompt: {
      name: 'multi_cloud_orchestration',
      title: 'Multi-cloud orchestration',
      description: 'Plan infrastructure with Auto Builder, deploy to Cloud Run and local Docker, and version the plan on GitHub.',
      arguments: [
        { name: 'goal', description: 'The infrastructure goal', required: true },
        { name: 'repository', description: 'owner/name of the GitHub repository for the plan', required: true },
      ],
    },
    render: (a) =>
      [
        `Goal: ${a.goal}.`,
        '1. chatgpt_auto_builder_execute with command "Generate an infrastructure plan" and the goal as context.',
        '2. google_cloud_run_deploy each cloud service of the plan (dry_run first; then the real call, which a person approves).',
        '3. docker_pull and docker_run each local service of the plan.',
        `4. github_commit_files the plan to ${a.repository} in one commit.`,
      ].join('\n'),
  },
];

export const PROMPTS: Prompt[] = PIPELINES.map((p) => p.prompt);

export function getPrompt(name: string, args: Record<string, string> = {}): GetPromptResult {
  const p = PIPELINES.find((x) => x.prompt.name === name);
  if (!p) throw new HubError('not_found', `unknown prompt: ${name}`);
  const missing = (p.prompt.arguments ?? []).filter((a) => a.required && !args[a.name]).map((a) => a.name);
  if (missing.length) throw new HubError('invalid_arguments', `prompt ${name} needs: ${missing.join(', ')}`);
  return {
    description: p.prompt.description,
    messages: [{ role: 'user', content: { type: 'text', text: p.render(args) } }],
  };
}
