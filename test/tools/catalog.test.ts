import { describe, expect, it } from 'vitest';
import { SYSTEMS } from '../../src/adapters/index.js';
import { testConfig } from '../helpers/config.js';
import { buildOpenApi } from '../../src/http/openapi.js';
import { toMcpTool } from '../../src/mcp/results.js';
import { ToolRegistry } from '../../src/tools/registry.js';

/** The guide's 42 tools plus search/fetch, with the levels of DESIGN.md §4. */
const EXPECTED: Record<string, string> = {
  google_cloud_run_deploy: 'CRITICAL', google_cloud_run_list: 'MEDIUM', google_cloud_run_describe: 'LOW', google_cloud_run_delete: 'CRITICAL',
  google_gmail_send: 'HIGH', google_gmail_search: 'LOW', google_drive_list: 'LOW', google_drive_upload: 'MEDIUM',
  google_sheets_read: 'LOW', google_sheets_write: 'MEDIUM', google_calendar_create_event: 'MEDIUM',
  google_gemini_generate: 'MEDIUM', google_gemini_embed: 'LOW', google_vision_labels: 'LOW', google_vision_ocr: 'LOW',
  google_language_sentiment: 'LOW', google_language_entities: 'LOW', google_language_classify: 'LOW',
  google_translate_text: 'LOW', google_translate_detect: 'LOW', google_speech_transcribe: 'MEDIUM', google_tts_synthesize: 'MEDIUM',
  google_vertex_predict: 'HIGH', google_maps_geocode: 'LOW', google_maps_directions: 'LOW', google_maps_places_search: 'LOW',
  docker_list_containers: 'LOW', docker_list_images: 'LOW', docker_inspect: 'LOW', docker_logs: 'LOW', docker_pull: 'MEDIUM',
  docker_build: 'HIGH', docker_push: 'HIGH', docker_run: 'HIGH', docker_stop: 'HIGH', docker_remove: 'CRITICAL',
  intelligence_ingest: 'MEDIUM', intelligence_query: 'LOW', github_create_repository: 'HIGH', github_commit_files: 'MEDIUM',
  github_get_contents: 'LOW', chatgpt_auto_builder_execute: 'MEDIUM', search: 'LOW', fetch: 'LOW',
};

const registry = new ToolRegistry(SYSTEMS, testConfig());

describe('tool catalog', () => {
  it('registers exactly the 44 public tools with their levels', () => {
    const got = Object.fromEntries(registry.list().map((t) => [t.def.name, t.def.level]));
    expect(got).toEqual(EXPECTED);
  });

  it('gives every tool a title, a ≤300-char description, described fields and honest annotations', () => {
    for (const t of registry.list()) {
      expect(t.def.title, t.def.name).toBeTruthy();
      expect(t.def.description.length, t.def.name).toBeLessThanOrEqual(300);
      expect(t.inputSchema.type, t.def.name).toBe('object');
      const props = (t.inputSchema.properties ?? {}) as Record<string, { description?: string }>;
      for (const [field, schema] of Object.entries(props)) {
        expect(schema.description, `${t.def.name}.${field}`).toBeTruthy();
        expect(schema.description!.length, `${t.def.name}.${field}`).toBeLessThanOrEqual(700);
      }
      if (t.def.annotations.destructiveHint) expect(t.def.annotations.readOnlyHint, t.def.name).not.toBe(true);
    }
  });

  it('gates the CRITICAL deploy/delete/remove tools: confirm, dry_run and approval_id', () => {
    const confirming = registry.list().filter((t) => t.needsConfirmation).map((t) => t.def.name).sort();
    expect(confirming).toEqual(['docker_remove', 'google_cloud_run_delete', 'google_cloud_run_deploy']);
    for (const name of confirming) {
      const props = registry.get(name)!.inputSchema.properties as Record<string, unknown>;
      expect(props).toHaveProperty('confirm');
      expect(props).toHaveProperty('dry_run');
      expect(props).toHaveProperty('approval_id');
    }
  });

  it('keeps the public tools/list schema stable (snapshot: review any change)', async () => {
    const list = registry.list().map(toMcpTool);
    await expect(JSON.stringify(list, null, 2)).toMatchFileSnapshot('__snapshots__/tools-list.json');
  });

  it('generates an OpenAPI 3.1 document GPT Actions can import', () => {
    const doc = buildOpenApi(registry, null) as { openapi: string; paths: Record<string, { post: Record<string, unknown> }> };
    expect(doc.openapi).toBe('3.1.0');
    const ops = Object.values(doc.paths).map((p) => p.post);
    expect(ops).toHaveLength(44);
    for (const op of ops) {
      expect(String(op.summary).length).toBeLessThanOrEqual(300);
      expect(String(op.description).length).toBeLessThanOrEqual(300);
    }
    expect(doc.paths['/v1/tools/google_cloud_run_deploy']!.post['x-openai-isConsequential']).toBe(true);
    expect(doc.paths['/v1/tools/google_maps_geocode']!.post['x-openai-isConsequential']).toBe(false);
    const narrowed = buildOpenApi(registry, new Set(['cloud_run', 'github'])) as { paths: Record<string, unknown> };
    expect(Object.keys(narrowed.paths)).toHaveLength(7);
  });
});
