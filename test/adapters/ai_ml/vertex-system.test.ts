import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { system } from '../../../src/adapters/ai_ml/index.js';
import { vertexPredict } from '../../../src/adapters/ai_ml/vertex.js';
import { testConfig } from '../../helpers/config.js';
import type { HubDeps } from '../../../src/deps.js';
import { FAKE_API_KEY, startAiMlFake } from '../../fakes/ai-ml.js';
import { toolContext } from '../../helpers/context.js';
import { aiConfig, failure, run, sentWithKey, sentWithToken, useAiMlFake } from './helpers.js';

const CATALOG: Array<[string, string]> = [
  ['google_gemini_generate', 'MEDIUM'],
  ['google_gemini_embed', 'LOW'],
  ['google_vision_labels', 'LOW'],
  ['google_vision_ocr', 'LOW'],
  ['google_language_sentiment', 'LOW'],
  ['google_language_entities', 'LOW'],
  ['google_language_classify', 'LOW'],
  ['google_translate_text', 'LOW'],
  ['google_translate_detect', 'LOW'],
  ['google_speech_transcribe', 'MEDIUM'],
  ['google_tts_synthesize', 'MEDIUM'],
  ['google_vertex_predict', 'HIGH'],
];

describe('google_vertex_predict against a fake Vertex AI endpoints API', () => {
  const fake = useAiMlFake();

  it('posts instances and parameters to the regional :predict path with the OAuth token', async () => {
    const result = await run(
      vertexPredict,
      { endpoint_id: '1234567890', instances: [{ tenure: 3 }, { tenure: 40 }], parameters: { confidenceThreshold: 0.5 } },
      aiConfig(fake, 'oauth'),
    );
    const req = fake.last(':predict');
    expect(req.method).toBe('POST');
    expect(req.url).toBe('/v1/projects/demo-project/locations/europe-west4/endpoints/1234567890:predict');
    sentWithToken(req);
    expect(JSON.parse(req.body)).toEqual({ instances: [{ tenure: 3 }, { tenure: 40 }], parameters: { confidenceThreshold: 0.5 } });
    expect(result).toEqual({
      predictions: [
        { input: { tenure: 3 }, score: 0.5 },
        { input: { tenure: 40 }, score: 0.51 },
      ],
      count: 2,
      returned: 2,
      endpoint: 'projects/demo-project/locations/europe-west4/endpoints/1234567890',
      deployed_model_id: '777',
      model: 'projects/demo-project/locations/europe-west4/models/555',
      model_display_name: 'churn-model',
      model_version_id: '1',
      truncated: false,
    });
    expect(vertexPredict.output!.safeParse(result).success).toBe(true);
  });

  it('takes project and region from a full endpoint resource name, or from the arguments', async () => {
    await run(vertexPredict, { endpoint_id: 'projects/other-proj/locations/us-east1/endpoints/42', instances: [[1, 2]] }, aiConfig(fake, 'oauth'));
    expect(fake.last(':predict').url).toBe('/v1/projects/other-proj/locations/us-east1/endpoints/42:predict');
    await run(vertexPredict, { endpoint_id: '43', instances: [1], project_id: 'arg-project', region: 'asia-east1' }, aiConfig(fake, 'oauth'));
    expect(fake.last(':predict').url).toBe('/v1/projects/arg-project/locations/asia-east1/endpoints/43:predict');
    const err = await failure(
      run(vertexPredict, { endpoint_id: 'projects/other-proj/locations/us-east1/endpoints/42', instances: [1], region: 'us-west1' }, aiConfig(fake, 'oauth')),
    );
    expect(err.code).toBe('invalid_arguments');
  });

  it('trims predictions that would exceed the result size and says so', async () => {
    const result = await run(vertexPredict, { endpoint_id: '1', instances: [1, 2, 3, 4, 5], parameters: { big: true } }, aiConfig(fake, 'oauth'));
    expect(result).toMatchObject({ count: 5, returned: 2, truncated: true });
    expect(JSON.stringify(result).length).toBeLessThan(100_000);
  });

  it('maps a missing endpoint to upstream_error 404 with the upstream message', async () => {
    const err = await failure(run(vertexPredict, { endpoint_id: '404', instances: [1] }, aiConfig(fake, 'oauth')));
    expect(err.code).toBe('upstream_error');
    expect(err.details).toMatchObject({ upstream_status: 404, upstream_code: 'NOT_FOUND' });
    expect(err.message).toContain('endpoints/404` not found');
  });

  it('answers not_configured naming the OAuth variables when only GOOGLE_API_KEY is set, without calling Vertex', async () => {
    const err = await failure(run(vertexPredict, { endpoint_id: '1', instances: [1] }, aiConfig(fake, 'key')));
    expect(err.code).toBe('not_configured');
    expect(err.details.variable).toBe('GOOGLE_OAUTH_TOKEN or GOOGLE_SERVICE_ACCOUNT_JSON');
    expect(fake.requests).toHaveLength(0);
  });

  it('answers auth_error when the token is rejected', async () => {
    const err = await failure(run(vertexPredict, { endpoint_id: '1', instances: [1] }, aiConfig(fake, 'oauth', { GOOGLE_OAUTH_TOKEN: 'ya29.revoked' })));
    expect(err.code).toBe('auth_error');
    expect(err.details.upstream_status).toBe(401);
  });

  it('validates endpoint ids so nothing else can be spliced into the path', () => {
    expect(vertexPredict.input.safeParse({ endpoint_id: '../../x', instances: [1] }).success).toBe(false);
    expect(vertexPredict.input.safeParse({ endpoint_id: 'projects/p/locations/r/endpoints/1/../../x', instances: [1] }).success).toBe(false);
    expect(vertexPredict.input.safeParse({ endpoint_id: '1', instances: [] }).success).toBe(false);
  });
});

describe('ai_ml system definition', () => {
  const fake = useAiMlFake();
  const deps = {} as HubDeps;

  it('declares the 12 contract tools with their levels', () => {
    expect(system.id).toBe('ai_ml');
    expect(system.title).toBe('Google AI/ML');
    expect(system.tools.map((t) => [t.name, t.level])).toEqual(CATALOG);
    for (const tool of system.tools) expect(tool.system).toBe('ai_ml');
  });

  it('keeps descriptions short and describes every input field', () => {
    for (const tool of system.tools) {
      expect(tool.description.length, tool.name).toBeLessThanOrEqual(300);
      const schema = z.toJSONSchema(tool.input, { io: 'input' }) as { properties: Record<string, { description?: string }> };
      for (const [field, prop] of Object.entries(schema.properties)) expect(prop.description, `${tool.name}.${field}`).toBeTruthy();
      expect(tool.output, tool.name).toBeDefined();
      expect(tool.annotations.openWorldHint).toBe(true);
      expect(tool.annotations.destructiveHint).toBe(false);
    }
  });

  it('is configured by an API key alone or by OAuth, and names all three variables otherwise', () => {
    expect(system.missingConfig(testConfig())).toBe('GOOGLE_OAUTH_TOKEN or GOOGLE_SERVICE_ACCOUNT_JSON or GOOGLE_API_KEY');
    expect(system.missingConfig(testConfig({ GOOGLE_API_KEY: 'k' }))).toBeNull();
    expect(system.missingConfig(testConfig({ GOOGLE_OAUTH_TOKEN: 't' }))).toBeNull();
  });

  it('check() lists one Gemini model with the key', async () => {
    const status = await system.check(aiConfig(fake, 'key'), deps, AbortSignal.timeout(10_000));
    expect(status.state).toBe('connected');
    const req = fake.last('/v1beta/models');
    expect(req.method).toBe('GET');
    expect(req.url).toBe('/v1beta/models?pageSize=1');
    sentWithKey(req);
    expect(status).toMatchObject({ detail: expect.stringContaining('google_vertex_predict is unavailable') });
  });

  it('check() lists Translation languages with OAuth when no key is set', async () => {
    const status = await system.check(aiConfig(fake, 'oauth'), deps, AbortSignal.timeout(10_000));
    expect(status).toEqual({ state: 'connected', detail: 'OAuth (oauth_token) accepted by Cloud Translation (3 languages)' });
    const req = fake.last('/language/translate/v2/languages');
    expect(req.method).toBe('GET');
    sentWithToken(req);
  });

  it('check() fails on rejected credentials', async () => {
    const badKey = await system.check(aiConfig(fake, 'key', { GOOGLE_API_KEY: 'AIzaWrong' }), deps, AbortSignal.timeout(10_000));
    expect(badKey.state).toBe('failed');
    expect(JSON.stringify(badKey)).toContain('API key not valid');
    expect(JSON.stringify(badKey)).not.toContain('AIzaWrong');
    const badToken = await system.check(aiConfig(fake, 'oauth', { GOOGLE_OAUTH_TOKEN: 'ya29.bad' }), deps, AbortSignal.timeout(10_000));
    expect(badToken).toMatchObject({ state: 'failed', reason: expect.stringContaining('auth_error') });
  });

  it('check() fails cleanly when the API cannot be reached', async () => {
    const closed = await startAiMlFake();
    const url = closed.url;
    await closed.close();
    const status = await system.check(testConfig({ GOOGLE_API_BASE_URL: url, GOOGLE_API_KEY: FAKE_API_KEY }), deps, AbortSignal.timeout(10_000));
    expect(status.state).toBe('failed');
  });

  it('honours an aborted signal', async () => {
    const ctx = toolContext(aiConfig(fake, 'key'), { signal: AbortSignal.abort() });
    const err = await failure(system.tools[0]!.run(system.tools[0]!.input.parse({ prompt: 'x' }), ctx));
    expect(err.code).toBe('timeout');
  });
});
