import { describe, expect, it } from 'vitest';
import { geminiEmbed, geminiGenerate } from '../../../src/adapters/ai_ml/gemini.js';
import { aiConfig, failure, run, sentWithKey, sentWithToken, useAiMlFake } from './helpers.js';

describe('Gemini tools against a fake Gemini API / Vertex AI', () => {
  const fake = useAiMlFake();

  describe('google_gemini_generate', () => {
    it('calls the Gemini API with GOOGLE_API_KEY and returns text, finish reason and usage', async () => {
      const result = await run(
        geminiGenerate,
        { prompt: 'Say hi', system_instruction: 'Be brief', temperature: 0.2, max_output_tokens: 64 },
        aiConfig(fake, 'key'),
      );
      const req = fake.last(':generateContent');
      expect(req.method).toBe('POST');
      expect(req.url).toBe('/v1beta/models/gemini-2.5-flash:generateContent');
      sentWithKey(req);
      expect(JSON.parse(req.body)).toEqual({
        contents: [{ role: 'user', parts: [{ text: 'Say hi' }] }],
        systemInstruction: { parts: [{ text: 'Be brief' }] },
        generationConfig: { temperature: 0.2, maxOutputTokens: 64, responseMimeType: 'text/plain' },
      });
      expect(result).toEqual({
        api: 'gemini',
        model: 'gemini-2.5-flash',
        model_version: 'gemini-2.5-flash-001',
        text: 'Echo: Say hi', // the thought part is left out
        finish_reason: 'STOP',
        block_reason: null,
        usage: { prompt_tokens: 4, output_tokens: 6, thinking_tokens: 2, total_tokens: 12 },
        truncated: false,
      });
      expect(geminiGenerate.output!.safeParse(result).success).toBe(true);
    });

    it('prefers the Gemini API when both a key and OAuth are configured', async () => {
      await run(geminiGenerate, { prompt: 'x' }, aiConfig(fake, 'both'));
      expect(fake.last(':generateContent').url).toBe('/v1beta/models/gemini-2.5-flash:generateContent');
      sentWithKey(fake.last(':generateContent'));
    });

    it('uses Vertex AI with the OAuth token, project and region when no key is set', async () => {
      const result = await run(geminiGenerate, { prompt: 'Give JSON', model: 'gemini-2.5-pro', response_mime_type: 'application/json' }, aiConfig(fake, 'oauth'));
      const req = fake.last(':generateContent');
      expect(req.url).toBe('/v1/projects/demo-project/locations/europe-west4/publishers/google/models/gemini-2.5-pro:generateContent');
      sentWithToken(req);
      expect((JSON.parse(req.body) as { generationConfig: unknown }).generationConfig).toEqual({ responseMimeType: 'application/json' });
      expect(result).toMatchObject({ api: 'vertex', model: 'gemini-2.5-pro', text: '{"echo":"Give JSON"}' });
    });

    it('reports a blocked prompt and a token-limited answer', async () => {
      const blocked = await run(geminiGenerate, { prompt: 'BLOCK this' }, aiConfig(fake, 'key'));
      expect(blocked).toMatchObject({ text: '', finish_reason: null, block_reason: 'SAFETY' });
      const limited = await run(geminiGenerate, { prompt: 'long', max_output_tokens: 1 }, aiConfig(fake, 'key'));
      expect(limited.finish_reason).toBe('MAX_TOKENS');
    });

    it('maps a Google 404 error body to upstream_error with the upstream status and message', async () => {
      const err = await failure(run(geminiGenerate, { prompt: 'x', model: 'gemini-0-nope' }, aiConfig(fake, 'key')));
      expect(err.code).toBe('upstream_error');
      expect(err.details.upstream_status).toBe(404);
      expect(err.details.upstream_code).toBe('NOT_FOUND');
      expect(err.message).toContain('models/gemini-0-nope is not found');
    });

    it('answers auth_error naming GOOGLE_API_KEY when the Gemini API rejects the key', async () => {
      const err = await failure(run(geminiGenerate, { prompt: 'x' }, aiConfig(fake, 'key', { GOOGLE_API_KEY: 'AIzaWrong' })));
      expect(err.code).toBe('auth_error');
      expect(err.details).toMatchObject({ upstream_status: 400, source: 'GOOGLE_API_KEY' });
      expect(err.message).toContain('API key not valid');
      expect(err.message).not.toContain('AIzaWrong');
    });

    it('answers auth_error naming GOOGLE_OAUTH_TOKEN when Vertex AI rejects the token', async () => {
      const err = await failure(run(geminiGenerate, { prompt: 'x' }, aiConfig(fake, 'oauth', { GOOGLE_OAUTH_TOKEN: 'ya29.expired' })));
      expect(err.code).toBe('auth_error');
      expect(err.details.upstream_status).toBe(401);
      expect(err.message).toContain('GOOGLE_OAUTH_TOKEN');
      expect(err.message).not.toContain('ya29.expired');
    });

    it('asks for GOOGLE_CLOUD_PROJECT when OAuth is set but no project is', async () => {
      const config = aiConfig(fake, 'oauth');
      config.google.project = undefined;
      const err = await failure(run(geminiGenerate, { prompt: 'x' }, config));
      expect(err.code).toBe('not_configured');
      expect(err.details.variable).toBe('GOOGLE_CLOUD_PROJECT');
      expect(fake.requests).toHaveLength(0);
    });

    it('rejects model ids that could escape the URL path', () => {
      expect(geminiGenerate.input.safeParse({ prompt: 'x', model: '../../v1/other' }).success).toBe(false);
    });
  });

  describe('google_gemini_embed', () => {
    it('embeds one text with :embedContent and returns the vector', async () => {
      const result = await run(geminiEmbed, { texts: ['hello'], task_type: 'RETRIEVAL_QUERY' }, aiConfig(fake, 'key'));
      const req = fake.last(':embedContent');
      expect(req.url).toBe('/v1beta/models/gemini-embedding-001:embedContent');
      sentWithKey(req);
      expect(JSON.parse(req.body)).toEqual({
        model: 'models/gemini-embedding-001',
        content: { parts: [{ text: 'hello' }] },
        taskType: 'RETRIEVAL_QUERY',
        outputDimensionality: 768,
      });
      expect(result).toMatchObject({ api: 'gemini', model: 'gemini-embedding-001', dimension: 768, count: 1, truncated: false });
      const embeddings = result.embeddings as Array<{ index: number; values: number[] }>;
      expect(embeddings[0]!.values).toHaveLength(768);
      expect(embeddings[0]!.values[0]).toBeCloseTo(Math.sin(5), 5);
      expect(geminiEmbed.output!.safeParse(result).success).toBe(true);
    });

    it('embeds several texts in one :batchEmbedContents call, in order', async () => {
      const result = await run(geminiEmbed, { texts: ['a', 'bbb'], output_dimensionality: 16 }, aiConfig(fake, 'key'));
      const body = fake.lastBody(':batchEmbedContents') as { requests: Array<{ content: { parts: Array<{ text: string }> }; outputDimensionality: number }> };
      expect(body.requests.map((r) => [r.content.parts[0]!.text, r.outputDimensionality])).toEqual([
        ['a', 16],
        ['bbb', 16],
      ]);
      const embeddings = result.embeddings as Array<{ index: number; values: number[] }>;
      expect(embeddings.map((e) => [e.index, e.values.length])).toEqual([
        [0, 16],
        [1, 16],
      ]);
      expect(embeddings[1]!.values[0]).toBeCloseTo(Math.sin(3), 5);
    });

    it('embeds only as many texts as fit in the value budget and says so', async () => {
      const texts = Array.from({ length: 8 }, (_, i) => `text ${i}`);
      const result = await run(geminiEmbed, { texts, output_dimensionality: 3072 }, aiConfig(fake, 'key'));
      expect((fake.lastBody(':batchEmbedContents').requests as unknown[]).length).toBe(2);
      expect(result).toMatchObject({ count: 2, dimension: 3072, truncated: true });
      expect(result.note).toContain('6 text(s) not embedded');
    });

    it('uses Vertex AI :predict, one instance per request, with OAuth', async () => {
      const result = await run(geminiEmbed, { texts: ['one', 'three'], task_type: 'CLUSTERING', output_dimensionality: 8 }, aiConfig(fake, 'oauth'));
      const calls = fake.requests.filter((r) => r.url.endsWith(':predict'));
      expect(calls.map((r) => r.url)).toEqual([
        '/v1/projects/demo-project/locations/europe-west4/publishers/google/models/gemini-embedding-001:predict',
        '/v1/projects/demo-project/locations/europe-west4/publishers/google/models/gemini-embedding-001:predict',
      ]);
      calls.forEach(sentWithToken);
      expect(JSON.parse(calls[1]!.body)).toEqual({ instances: [{ content: 'three', task_type: 'CLUSTERING' }], parameters: { outputDimensionality: 8 } });
      expect(result).toMatchObject({ api: 'vertex', count: 2, dimension: 8 });
    });
  });
});
